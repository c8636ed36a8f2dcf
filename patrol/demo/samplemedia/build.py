"""Sample new-media accounts for the demo and the tests, with dates relative to ``today``.

``build(root, today, base_url)`` writes, under ``root``::

    feeds/active.rss        RSS 2.0, an active account (latest post 23:30 in New York = next day in China)
    feeds/stale.atom        Atom, no post for 20 days (fails), one entry with a nonsense date
    feeds/reposts.json      JSON Feed, a repost of authoritative information every day
    feeds/empty.rss         a valid feed without a single item (空壳)
    feeds/placeholder.rss   only "测试" / "暂无内容" posts (空壳)
    feeds/invalid.xml       not well-formed XML
    exports/douyin.csv      UTF-8 with BOM, Chinese headers, 12 days without a post (warning)
    exports/nongye.csv      GBK, Chinese headers, active
    exports/toutiao.xlsx    XLSX, English headers, active, one row with an unreadable date
    account.html            an account page whose posts a script fills in after loading
    posts/*.html            the posts themselves (one is missing on purpose: a broken link)

and returns the manifest: the ``newmedia:`` config entries (``accounts``) and, per account,
the verdicts and counts the checks must produce (``expected``).  The server serving ``root``
at ``base_url`` must answer 404 for ``feeds/gone.xml`` (an account that vanished).
"""
from __future__ import annotations

import calendar
import csv
import io
import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

CHINA = timezone(timedelta(hours=8))
NEW_YORK_WINTER = timezone(timedelta(hours=-5))
YEARLY_TARGET = 50

TOPICS = ["召开冬季安全生产工作会议", "开展政务公开日活动", "解读惠企政策措施", "推进老旧小区改造", "举办就业招聘会",
          "部署森林防火工作", "开展消费品质量抽检", "公布义务教育招生方案", "启动医保集中参保", "通报河长制工作进展",
          "组织防汛应急演练", "推进农村人居环境整治", "开展食品安全专项检查", "召开人大代表建议办理会", "发布空气质量月报"]


def build(root: str | Path, today: date, base_url: str = "http://127.0.0.1:8765/", *,
          department: str = "") -> dict[str, Any]:
    """Write the sample accounts under ``root`` and return the manifest."""
    root = Path(root)
    base = base_url if base_url.endswith("/") else base_url + "/"
    for sub in ("feeds", "exports", "posts"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    accounts: list[dict[str, Any]] = []
    expected: dict[str, dict[str, Any]] = {}
    writer = _Posts(root, base)

    def add(config: dict[str, Any], **expect: Any) -> None:
        config = {"platform": "wechat", "department": department, **config}
        accounts.append(config)
        expected[config["name"]] = expect

    # 1. Active account, RSS: every 5 days, three reposts, one post whose body links to a
    #    missing attachment.  The newest is dated in New York time: 23:30 at UTC-5 on the
    #    day before yesterday is 12:30 yesterday in China.
    items = []
    latest_ny = datetime.combine(today - timedelta(days=2), time(23, 30), NEW_YORK_WINTER)
    items.append({"title": "清溪区" + TOPICS[0], "when": latest_ny,
                      "body": f'<p>会议对冬季安全生产工作进行部署。<a href="{base}posts/missing-attachment.pdf">会议材料</a>'
                           f'<a href="{writer.page("active-ref")}">相关链接</a></p>'})
    for k in range(1, 12):
        when = datetime.combine(today - timedelta(days=5 * k), time(9, 0), CHINA)
        body, source = f"<p>{TOPICS[k]}，各相关单位参加。</p>", ""
        if k == 1:       # an institution name outdated since the 2018 reform (the text checks flag it)
            body = "<p>区国土资源局开展土地执法检查，各相关单位参加。</p>"
        elif k == 2:
            source = "新华社"
        elif k == 4:
            body = "<p>（来源：人民日报）国务院常务会议研究部署有关工作。</p>"
        elif k == 6:
            body = f"<p>新华社北京{when.month}月{when.day}日电 国务院新闻办公室举行新闻发布会。</p>"
        items.append({"title": "清溪区" + TOPICS[k], "when": when, "body": body, "source": source})
    for i, item in enumerate(items):
        item["url"] = writer.page(f"active-{i}")
    _write(root / "feeds/active.rss", _rss("清溪发布", base, items))
    repost_days = [items[k]["when"].astimezone(CHINA).date() for k in (2, 4, 6)]
    add({"name": "清溪发布", "platform": "wechat", "feed": base + "feeds/active.rss"},
        status="ok", posts=12, latest=(today - timedelta(days=1)).isoformat(), days_since=1, stale=None,
        empty=False, unreachable=False, reposts_year=_in_year(repost_days, today), reposts_total=3,
        broken_links=1, broken_url=base + "posts/missing-attachment.pdf",
        wording={"wrong": "国土资源局", "check": "wrong_expression", "post": items[1]["url"]},
        reposts_behind=_behind(_in_year(repost_days, today), today))

    # 2. Stale account, Atom: nothing for 20 days; one entry's date is nonsense.
    entries = []
    for n, days in enumerate((20, 25, 40)):
        when = datetime.combine(today - timedelta(days=days), time(16, 0), CHINA)
        entries.append({"title": TOPICS[n + 3], "when": when, "body": f"<p>{TOPICS[n + 3]}。</p>",
                            "url": writer.page(f"stale-{n}")})
    entries.append({"title": "关于征集意见的通知", "when": None, "raw_date": "明天上午", "body": "<p>征集意见。</p>",
                        "url": writer.page("stale-x")})
    _write(root / "feeds/stale.atom", _atom("清溪卫健", base, entries))
    add({"name": "清溪卫健", "platform": "weibo", "feed": base + "feeds/stale.atom"},
        status="ok", posts=4, latest=(today - timedelta(days=20)).isoformat(), days_since=20, stale="veto",
        empty=False, unreachable=False, reposts_year=0, reposts_total=0, broken_links=0, undated=1,
        reposts_behind=_behind(0, today))

    # 3. Repost-heavy account, JSON Feed: a repost every day for 60 days, five originals.
    sources = ["人民日报", "新华社", "央视新闻", "中国政府网", "学习强国"]
    feed_items = []
    repost_days = []
    for k in range(60):
        when = datetime.combine(today - timedelta(days=k), time(9, 0), CHINA)
        item: dict[str, Any] = {"id": f"r{k}", "url": writer.page(f"reposts-{k}"), "title": f"转发：{TOPICS[k % 15]}",
                                "content_text": f"{TOPICS[k % 15]}。", "date_published": when.isoformat()}
        if k % 5 == 3:
            item["content_text"] += "（来源：中国政府网）"     # named in a byline, no source field
        else:
            item["_source"] = {"name": sources[k % 5]}
        feed_items.append(item)
        repost_days.append(when.date())
    for k in range(5):
        when = datetime.combine(today - timedelta(days=3 * k + 1), time(18, 0), CHINA)
        feed_items.append({"id": f"o{k}", "url": writer.page(f"reposts-o{k}"), "title": "清溪区" + TOPICS[k],
                           "content_html": f"<p>{TOPICS[k]}。</p>", "date_published": when.isoformat()})
    _write(root / "feeds/reposts.json", json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "清溪融媒", "home_page_url": base,
         "feed_url": base + "feeds/reposts.json", "items": feed_items}, ensure_ascii=False, indent=1))
    add({"name": "清溪融媒", "platform": "toutiao", "feed": base + "feeds/reposts.json"},
        status="ok", posts=65, latest=today.isoformat(), days_since=0, stale=None, empty=False,
        unreachable=False, reposts_year=_in_year(repost_days, today), reposts_total=60, broken_links=0,
        reposts_behind=_behind(_in_year(repost_days, today), today))

    # 4. Empty account: a valid feed with no items.
    _write(root / "feeds/empty.rss", _rss("清溪空壳号", base, []))
    add({"name": "清溪空壳号", "platform": "douyin", "feed": base + "feeds/empty.rss"},
        status="empty", posts=0, latest=None, days_since=None, stale="veto", empty=True, unreachable=False,
        reposts_year=0, reposts_total=0, broken_links=0, reposts_behind=_behind(0, today))

    # 5. Placeholder-only account: recent, but nothing but test posts.
    placeholder = [{"title": "测试", "when": datetime.combine(today - timedelta(days=3), time(10), CHINA),
                        "body": "<p>test</p>", "url": ""},
                   {"title": "暂无内容", "when": datetime.combine(today - timedelta(days=4), time(10), CHINA),
                        "body": "<p>敬请期待！</p>", "url": ""}]
    _write(root / "feeds/placeholder.rss", _rss("清溪测试号", base, placeholder))
    add({"name": "清溪测试号", "platform": "kuaishou", "feed": base + "feeds/placeholder.rss"},
        status="ok", posts=2, latest=(today - timedelta(days=3)).isoformat(), days_since=3, stale="veto",
        empty=True, unreachable=False, reposts_year=0, reposts_total=0, broken_links=0,
        reposts_behind=_behind(0, today))

    # 6. Invalid feed: not well-formed XML.
    _write(root / "feeds/invalid.xml", '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>清溪坏源'
                                       '<item><title>未闭合的条目</item></chanel>')
    add({"name": "清溪坏源", "platform": "wechat", "feed": base + "feeds/invalid.xml"},
        status="invalid", posts=0, stale=None, empty=False, unreachable=True, broken_links=0)

    # 7. Vanished account: its feed is gone (404).
    add({"name": "清溪旧号", "platform": "weibo", "feed": base + "feeds/gone.xml"},
        status="unreachable", posts=0, stale=None, empty=False, unreachable=True, broken_links=0)

    # 8. CSV export, UTF-8 with BOM, Chinese headers: 12 days since the last post (warning).
    rows = [["标题", "发布时间", "链接", "正文", "来源"]]
    for n, days in enumerate((12, 18, 30)):
        when = datetime.combine(today - timedelta(days=days), time(8, 0))
        rows.append([TOPICS[n + 6], when.strftime("%Y/%m/%d %H:%M"), writer.page(f"douyin-{n}"),
                     f"{TOPICS[n + 6]}短视频。", "新华社" if n == 1 else ""])
    (root / "exports/douyin.csv").write_bytes(_csv(rows).encode("utf-8-sig"))
    douyin_reposts = [today - timedelta(days=18)]
    add({"name": "清溪文旅", "platform": "douyin", "export": str(root / "exports/douyin.csv")},
        status="ok", posts=3, latest=(today - timedelta(days=12)).isoformat(), days_since=12, stale="warning",
        empty=False, unreachable=False, reposts_year=_in_year(douyin_reposts, today), reposts_total=1,
        broken_links=0, reposts_behind=_behind(_in_year(douyin_reposts, today), today))

    # 9. CSV export in GBK, Chinese headers with dates written the Chinese way.
    rows = [["标题", "日期", "链接", "正文"]]
    for n, days in enumerate((4, 9, 14)):
        day = today - timedelta(days=days)
        rows.append([TOPICS[n + 9], f"{day.year}年{day.month}月{day.day}日", writer.page(f"nongye-{n}"),
                     f"{TOPICS[n + 9]}，农业农村局供稿。"])
    (root / "exports/nongye.csv").write_bytes(_csv(rows).encode("gbk"))
    add({"name": "清溪农业", "platform": "wechat", "export": str(root / "exports/nongye.csv")},
        status="ok", posts=3, latest=(today - timedelta(days=4)).isoformat(), days_since=4, stale=None,
        empty=False, unreachable=False, reposts_year=0, reposts_total=0, broken_links=0,
        reposts_behind=_behind(0, today))

    # 10. XLSX export, English headers; spreadsheet dates, and one row whose date is "待定".
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "posts"
    sheet.append(["title", "date", "url", "text", "source"])
    xlsx_reposts = []
    for n, days in enumerate((3, 8, 13, 21)):
        when = datetime.combine(today - timedelta(days=days), time(20, 15))
        source = "央视新闻" if n % 2 else ""
        if source:
            xlsx_reposts.append(when.date())
        sheet.append([TOPICS[n], when, writer.page(f"toutiao-{n}"), f"{TOPICS[n]}。", source])
    sheet.append(["年终总结预告", "待定", writer.page("toutiao-x"), "年终总结即将发布。", ""])
    book.save(root / "exports/toutiao.xlsx")
    add({"name": "清溪教育", "platform": "toutiao", "export": str(root / "exports/toutiao.xlsx")},
        status="ok", posts=5, latest=(today - timedelta(days=3)).isoformat(), days_since=3, stale=None,
        empty=False, unreachable=False, reposts_year=_in_year(xlsx_reposts, today), reposts_total=2,
        broken_links=0, undated=1, reposts_behind=_behind(_in_year(xlsx_reposts, today), today))

    # 11. A JavaScript account page: the list is empty in the HTML and filled by a script.
    page_posts = [{"title": "清溪街道" + TOPICS[12], "url": writer.page("page-0"), "date": "昨天 10:00"},
                  {"title": "清溪街道" + TOPICS[13], "url": writer.page("page-1"),
                   "date": (today - timedelta(days=6)).isoformat() + " 15:20"},
                  {"title": "清溪街道" + TOPICS[14], "url": writer.page("page-2"),
                   "date": (today - timedelta(days=15)).isoformat()}]
    _write(root / "account.html", _account_page("清溪街道", page_posts))
    add({"name": "清溪街道", "platform": "bilibili", "page": base + "account.html",
         "item_selector": "#posts li.post", "date_selector": ".time"},
        status="ok", posts=3, latest=(today - timedelta(days=1)).isoformat(), days_since=1, stale=None,
        empty=False, unreachable=False, reposts_year=0, reposts_total=0, broken_links=0,
        reposts_behind=_behind(0, today))

    manifest = {"today": today.isoformat(), "base_url": base, "yearly_target": YEARLY_TARGET,
                "accounts": accounts, "expected": expected}
    _write(root / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def _in_year(days: list[date], today: date) -> int:
    return sum(1 for d in days if d.year == today.year and d <= today)


def _behind(count: int, today: date) -> bool:
    """Behind the yearly target: short of it, and the current pace would not reach it."""
    days_in_year = 366 if calendar.isleap(today.year) else 365
    return count < YEARLY_TARGET and count * days_in_year / today.timetuple().tm_yday < YEARLY_TARGET


class _Posts:
    """Writes one small HTML page per post, so post links resolve on the sample server."""

    def __init__(self, root: Path, base: str) -> None:
        self.root, self.base = root, base

    def page(self, slug: str) -> str:
        _write(self.root / "posts" / f"{slug}.html",
               f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{slug}</title>'
               f"<body><p>文章 {slug}</p></body></html>")
        return f"{self.base}posts/{slug}.html"


def _rss(title: str, base: str, items: list[dict[str, Any]]) -> str:
    parts = [(f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
              f"<title>{escape(title)}</title><link>{escape(base)}</link><description>{escape(title)}的文章</description>")]
    for item in items:
        when = item.get("when")
        parts.append("<item>")
        parts.append(f"<title>{escape(item['title'])}</title>")
        if item.get("url"):
            parts.append(f"<link>{escape(item['url'])}</link><guid>{escape(item['url'])}</guid>")
        if when is not None:
            parts.append(f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S %z')}</pubDate>")
        if item.get("source"):
            parts.append(f'<source url="http://www.news.cn/">{escape(item["source"])}</source>')
        parts.append(f"<description>{escape(item['body'])}</description></item>")
    parts.append("</channel></rss>\n")
    return "".join(parts)


def _atom(title: str, base: str, entries: list[dict[str, Any]]) -> str:
    latest = max((e["when"] for e in entries if e.get("when")), default=datetime(2000, 1, 1, tzinfo=CHINA))
    parts = [(f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
              f"<title>{escape(title)}</title><id>{escape(base)}feeds/stale.atom</id>"
              f"<updated>{latest.isoformat()}</updated><link href=\"{escape(base)}\"/>")]
    for e in entries:
        when = e["when"].isoformat() if e.get("when") else e.get("raw_date", "")
        parts.append(f"<entry><title>{escape(e['title'])}</title><id>{escape(e['url'])}</id>"
                     f"<link href=\"{escape(e['url'])}\"/><published>{escape(when)}</published>"
                     f"<updated>{escape(when)}</updated>"
                     f"<content type=\"html\">{escape(e['body'])}</content></entry>")
    parts.append("</feed>\n")
    return "".join(parts)


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _account_page(name: str, posts: list[dict[str, str]]) -> str:
    data = json.dumps(posts, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(name)} 的主页</title></head>
<body>
<h1>{escape(name)}</h1>
<ul id="posts"></ul>
<script>
// Like the platforms' own pages: the list arrives after the page, from script.
const posts = {data};
setTimeout(() => {{
  const list = document.getElementById('posts');
  for (const p of posts) {{
    const li = document.createElement('li');
    li.className = 'post';
    li.innerHTML = '<a class="title"></a> <span class="time"></span>';
    li.querySelector('a').href = p.url;
    li.querySelector('a').textContent = p.title;
    li.querySelector('.time').textContent = p.date;
    list.appendChild(li);
  }}
}}, 300);
</script>
</body></html>
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
