"""The sample site's message board (咨询投诉), its 联系我们 page, and the mailbox of the stale
sub-site whose 我要写信 page is gone: the planted cases of the ``interaction_poor`` and
``contact_phone`` checks, with what the manifest expects of each.

Messages (dates relative to the build day):

====================  =================  ==========================  ================
message               留言时间           答复                         expected verdict
====================  =================  ==========================  ================
answered in time      40 days ago        6 days later                ok
answered late         70 days ago        35 days later (25 w. days)  late
unanswered, recent    3 days ago         —                            pending
unanswered 4 months   120 days ago       —                            unanswered (veto)
unanswered 13 months  400 days ago       —                            outside_window
not accepted          50 days ago        不予受理                      invalid
====================  =================  ==========================  ================
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from patrol.demo.samplesite import html as H

if TYPE_CHECKING:
    from patrol.demo.samplesite.build import _Builder

BOARD = "/hdjl/zxts/"
MESSAGE_ID = 4190001
WRITE = "/hdjl/zxts/write.html"
CONTACT = "/lxwm/"
GUIDE = "/lxwm/fwdh.html"
STALE_BOX = "/stale/ldxx/"
STALE_WRITE = "/stale/ldxx/write.html"

# (key, title, days before today asked, days after asking replied or None, state shown, verdict,
#  layout: "table" (th/td rows) or "para" (留言时间：… paragraphs))
MESSAGES = (
    ("answered", "关于府前路小区增设停车位的咨询", 40, 6, "已办结", "ok", "table"),
    ("late", "关于清溪河沿岸路灯损坏的反映", 70, 35, "已办结", "late", "para"),
    ("pending", "关于幼儿园入园报名时间的咨询", 3, None, "办理中", "pending", "table"),
    ("unanswered", "关于老旧小区加装电梯补贴的咨询", 120, None, "办理中", "unanswered", "para"),
    ("old", "关于农村公路养护的建议", 400, None, "待答复", "outside_window", "table"),
    ("invalid", "关于府前路小区增设停车位的再次咨询", 50, None, "不予受理（重复件）", "invalid", "table"),
)

REPLY = ("您好！您反映的问题已收悉。经区住房城乡建设委员会现场核实，已安排相关单位处理。"
         "如有疑问，请拨打联系电话：023-61234567。感谢您对我区工作的关心和支持！")


def _letter(title: str, asked: date, replied: date | None, state: str, layout: str) -> str:
    content = f"{title.removeprefix('关于').removesuffix('的咨询').removesuffix('的反映')}，请有关部门予以答复。"
    reply_date = f"{replied.year}年{replied.month}月{replied.day}日" if replied else ""
    reply = REPLY if replied else ""
    unit = "区住房城乡建设委员会" if replied else ""
    if layout == "table":
        rows = [("信件标题", title), ("留言时间", f"{asked.isoformat()} 09:12"), ("办理状态", state),
                ("留言内容", content), ("答复单位", unit), ("答复时间", reply_date), ("答复内容", reply)]
        cells = "".join(f"<tr><th>{H.e(k)}</th><td>{H.e(v)}</td></tr>" for k, v in rows)
        return (f'<div class="letter"><h1 class="title">{H.e(title)}</h1>'
                f'<table class="xjxq">{cells}</table></div>\n')
    parts = [f"<p>留言时间：{asked:%Y年%m月%d日}</p>", f"<p>办理状态：{H.e(state)}</p>",
             f"<p>留言内容：{H.e(content)}</p>"]
    if replied:
        parts += [f"<p>答复单位：{H.e(unit)}</p>", f"<p>答复时间：{H.e(reply_date)}</p>",
                  f"<p>答复内容：{H.e(reply)}</p>"]
    else:
        parts += ["<p>答复内容：暂无答复</p>"]
    return f'<div class="letter"><h1 class="title">{H.e(title)}</h1>{"".join(parts)}</div>\n'


def message_board(b: _Builder) -> dict[str, Any]:
    """The 咨询投诉 board of the main site: list page, message pages, 我要写信 page."""
    sn = b.site_name
    trail = [("首页", "/"), ("互动交流", "/hdjl/"), ("咨询投诉", BOARD)]
    rows, expected = [], []
    # Ids of their own, so the site's other article ids do not move.
    for n, (key, title, ago, after, state, verdict, layout) in enumerate(MESSAGES):
        asked = b.today - timedelta(days=ago)
        replied = asked + timedelta(days=after) if after is not None else None
        url = f"{BOARD}content_{MESSAGE_ID + n}.html"
        body = _letter(title, asked, replied, state, layout)
        b.page(url, H.document(title=f"{title}_{sn}", body=b.chrome(body, trail + [("正文", None)])))
        rows.append(f'<tr><td><a href="{url}">{H.e(title)}</a></td><td>{asked.isoformat()}</td>'
                    f'<td>{"已答复" if replied else H.e(state)}</td></tr>')
        expected.append({"key": key, "url": "{base}" + url[1:], "title": title, "asked": asked.isoformat(),
                         "replied": replied.isoformat() if replied else None, "verdict": verdict})
    rows.reverse()          # newest first, as boards list them
    body = ('<div class="column-title"><h2>咨询投诉</h2></div>\n'
            f'<p class="write"><a href="{WRITE}">我要写信</a></p>\n'
            '<table class="list"><tr><th>标题</th><th>留言时间</th><th>状态</th></tr>' + "".join(rows) + "</table>\n")
    b.page(BOARD, H.document(title=f"咨询投诉_{sn}", body=b.chrome(body, trail[:2] + [("咨询投诉", None)])))
    form = ('<div class="column-title"><h2>我要写信</h2></div>\n'
            '<form class="letter-form" method="post" action="">'
            '<p>标题：<input name="title"></p><p>内容：<textarea name="content"></textarea></p>'
            '<p>我们将在15个工作日内答复。</p></form>\n')
    b.page(WRITE, H.document(title=f"我要写信_{sn}", body=b.chrome(form, trail + [("我要写信", None)])))
    return {"site": "main", "board": "{base}" + BOARD[1:], "submit": "{base}" + WRITE[1:],
            "channel": "ok", "veto": True, "messages": expected}


# Numbers on the 联系我们 and 服务电话 pages: (number as patrol normalises it, kind, pages).
def contact_pages(b: _Builder) -> tuple[list[dict[str, Any]], list[str]]:
    """联系我们 and a notice of service numbers, with dates, document numbers, a postcode,
    a price, a credit code and a citizen's masked mobile number nearby that are not contact numbers."""
    sn = b.site_name
    today = b.today
    contact = ('<div class="column-title"><h2>联系我们</h2></div>\n<div class="contact">'
               "<p>区政府办公室　电话：023-12345678　传真：023-12345679</p>"
               "<p>政务服务便民热线：12345</p>"
               "<p>区信访局来访接待：（023）8765 4321转8001</p>"
               "<p>区政务公开办　联系电话：13812345678</p>"
               "<p>地址：清溪区府前路1号　邮编：400123</p>"
               "<p>办公时间：工作日 9:00-12:00，14:00-17:30</p>"
               f'<p><a href="{GUIDE}">区级部门服务电话一览</a></p></div>\n')
    trail = [("首页", "/"), ("联系我们", None)]
    b.page(CONTACT, H.document(title=f"联系我们_{sn}", body=b.chrome(contact, trail)))
    start = today - timedelta(days=20)
    paragraphs = [
        f"根据《清溪区人民政府办公室关于进一步规范政务服务热线的通知》（清府办发〔{today.year}〕12号）要求，"
        f"现将区级部门服务电话公布如下，自{start.year}年{start.month}月{start.day}日起执行。",
        "区人力社保局咨询电话：023-61234567；区市场监管局投诉举报请拨打12315热线。",
        f"受理时间：{start:%Y%m%d}起每个工作日；邮政编码：400123；证照工本费每件20元，"
        "统一社会信用代码11500101MB1234567X。",
        "另：市民张某在区政务服务中心遗失钱包一个，失主手机139****5678，请拾获者与其联系。",
    ]
    body = H.article(title="关于公布区级部门服务电话的通知",
                     info=f"发布时间：{start.isoformat()}　来源：区政府办公室", paragraphs=paragraphs)
    b.page(GUIDE, H.document(title=f"关于公布区级部门服务电话的通知_{sn}",
                             body=b.chrome(body, [("首页", "/"), ("联系我们", CONTACT), ("正文", None)])))
    c, g = "{base}" + CONTACT[1:], "{base}" + GUIDE[1:]
    phones = [
        {"number": "023-12345678", "kind": "landline", "pages": [c]},
        {"number": "023-12345679", "kind": "landline", "pages": [c]},
        {"number": "12345", "kind": "hotline", "pages": [c]},
        {"number": "023-87654321转8001", "kind": "landline", "pages": [c]},
        {"number": "13812345678", "kind": "mobile", "pages": [c]},
        {"number": "023-61234567", "kind": "landline", "pages": [g]},
        {"number": "12315", "kind": "hotline", "pages": [g]},
    ]
    not_phones = ["400123", f"{start:%Y%m%d}", "12", str(today.year), "20", "139****5678", "5678",
                  "9:00-12:00", "11500101", "1234567"]
    return phones, not_phones


def stale_mailbox(b: _Builder, wrap: Any) -> dict[str, Any]:
    """A 领导信箱 on the stale sub-site whose 我要写信 page is gone (404): no working channel."""
    body = ('<h2>馆长信箱</h2><p>欢迎您对档案工作提出意见和建议。</p>'
            f'<p><a href="{STALE_WRITE}">我要写信</a></p>')
    b.page(STALE_BOX, H.document(title="馆长信箱_清溪区档案馆",
                                 body=wrap(body, [("首页", "/stale/"), ("馆长信箱", None)])), site="stale")
    b.broken("{base}" + STALE_WRITE[1:], "http_404")
    return {"site": "stale", "board": "{base}" + STALE_BOX[1:], "submit": "{base}" + STALE_WRITE[1:],
            "channel": "unreachable", "veto": True, "messages": []}
