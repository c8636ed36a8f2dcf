"""Writing the sample site to disk, and the manifest of everything planted in it.

Layout under the build root::

    www/            the main site (清溪区人民政府) with two small sites under /nav/ and /stale/
    ext/            a second site, served on another port (the "external" links)
    routes.json     behaviours the static files cannot express, read by the server
    manifest.json   the planted faults and the expected check results

Every internal link is written as a root-relative path; the manifest writes URLs with the
placeholders ``{base}`` (main server root, ending in "/"), ``{ext}`` (external server root)
and ``{port}`` (the main server's port), which ``Manifest.resolve`` substitutes.
"""
from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from patrol.demo.samplesite import board as B
from patrol.demo.samplesite import html as H
from patrol.demo.samplesite.board import BOARD, CONTACT
from patrol.demo.samplesite import opengov as G
from patrol.demo.samplesite.content import LEADER, PLANTS, Plant, Writer, corpus
from patrol.demo.samplesite.manifest import Manifest

PROFILES = ("test", "demo", "bench")
# What a build root may hold (README.md: tests/site keeps one beside its saved build).
BUILD_ENTRIES = {"www", "ext", "routes.json", "manifest.json", "README.md"}

# Tiny but valid files, so content sniffers and type checks see the real thing.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e5270de40000000049454e44ae426082")
GIF_1X1 = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")
PDF_TINY = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
# Compound File Binary header: what .doc and .xls files start with.
OLE_TINY = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)

CSS = """body{font-family:"Microsoft YaHei",sans-serif;margin:0;color:#333}
.header{background:#b51d1d;color:#fff;padding:12px 24px}.nav ul{display:flex;gap:18px;list-style:none}
.list li{display:flex;justify-content:space-between;border-bottom:1px dashed #ddd;padding:4px 0}
.footer{background:#eee;padding:12px 24px;font-size:12px}
"""
JS = "/* 清溪区人民政府网站公共脚本 */\nfunction addFavorite(){return false;}\n"

ATTACHMENT_EXTS = ("pdf", "doc", "xls", "zip")


@dataclass
class Column:
    path: str                   # "/xwzx/zwyw/"
    name: str
    parent: str                 # parent section path
    category: str               # dynamic | notice | yearly | none
    style: str                  # how dates show: see _list_date and _article_url
    newest_days: int = 0        # newest item is this many days before today
    count: int = 0              # articles
    page_size: int = 10
    title_kind: str = "news"
    paging: str = "static"      # static (index_1.html) | query (?page=2)
    fixed_dates: tuple[date, ...] = ()
    site: str = "main"
    articles: list[Article] = field(default_factory=list)
    dead_row: bool = False      # one list row points at a deleted article (404)


@dataclass
class Article:
    id: int
    column: Column
    title: str
    published: date
    url: str
    index: int                  # 0 = newest in its column


@dataclass
class Section:
    path: str
    name: str
    columns: list[Column]


# The main site's columns for the "test" profile.  Article counts grow with the profile.
# Freshness: dynamic 14 days, notice 183 days, yearly 365 days (patroldata/thresholds.yaml).
def _main_columns() -> list[Column]:
    return [
        Column("/xwzx/zwyw/", "政务要闻", "/xwzx/", "dynamic", "iso", 1, 12, 5, "news"),
        Column("/xwzx/bmdt/", "部门动态", "/xwzx/", "dynamic", "slash", 40, 3, 10, "news"),
        Column("/xwzx/xzdt/", "乡镇动态", "/xwzx/", "dynamic", "md", 5, 3, 10, "news"),
        Column("/xwzx/gzdt/", "工作动态", "/xwzx/", "dynamic", "js", 2, 3, 10, "news"),
        Column("/zwgk/tzgg/", "通知公告", "/zwgk/", "notice", "cn", 10, 7, 5, "notice",
               paging="query", dead_row=True),
        Column("/zwgk/zcwj/", "政策文件", "/zwgk/", "notice", "url_t", 250, 3, 10, "policy"),
        Column("/zwgk/gsgg/", "公示公告", "/zwgk/", "notice", "url_ymd", 30, 3, 10, "notice"),
        Column("/zwgk/rsxx/", "人事信息", "/zwgk/", "yearly", "meta", 100, 3, 10, "personnel"),
        Column("/zwgk/ghjh/", "规划计划", "/zwgk/", "yearly", "fabu", 500, 3, 10, "plan"),
        Column("/zwgk/tjxx/", "统计信息", "/zwgk/", "none", "url_month", 20, 2, 10, "stats"),
        Column("/zwgk/zdxm/", "重大项目", "/zwgk/", "none", "placeholder"),
        Column("/zwgk/ywgz/", "业务工作", "/zwgk/", "none", "empty"),
        Column("/jggk/jgzn/", "机构职能", "/jggk/", "none", "iso", count=2, title_kind="general",
               fixed_dates=(date(2017, 6, 15), date(2016, 3, 1))),
        Column("/jggk/ldzc/", "领导之窗", "/jggk/", "none", "iso", 8, 2, 10, "general"),
    ]


MARKUP = "<script>alert(1)</script>"
MARKUP_TITLE_COLUMN = "/xwzx/bmdt/"

SECTION_NAMES = {"/xwzx/": "新闻中心", "/zwgk/": "政务公开", "/jggk/": "机构概况", "/bmxx/": "部门信息"}
BENCH_STYLES = ("iso", "slash", "cn", "url_t", "url_ymd", "meta", "fabu", "url_month")


@dataclass(frozen=True)
class Profile:
    name: str
    scale: int                  # multiplies the article counts of the main columns
    dept_columns: int           # extra 部门动态 columns under /bmxx/
    dept_articles: int
    dept_page_size: int
    faults: bool                # dynamic faults, traps, encodings, external links, sub-sites
    footer_broken: bool         # the same broken link in every page's footer
    # Paged department list pages (/bmxx/) whose rows a script writes from inline data, the
    # pager staying in the HTML (the benchmark's script-filled site); 0: all in the HTML.
    script_lists: int = 0


PROFILE_SETTINGS = {
    "test": Profile("test", 1, 0, 0, 10, True, True),
    "demo": Profile("demo", 3, 6, 24, 10, True, True),
    "bench": Profile("bench", 8, 16, 300, 20, False, False),
}

SEEDS = {"test": 20261, "demo": 20262, "bench": 20263}


def build(root: Path, *, profile: str = "demo", today: date, slow_delay: float = 5.0,
          min_pages: int = 0) -> Manifest:
    """Write the sample site under ``root`` (replacing what was there) and return its manifest.

    Deterministic for a given profile, ``today`` and ``min_pages``; every date is relative to
    ``today`` so freshness results never drift.  ``slow_delay`` is how long the slow page
    sleeps.  ``min_pages`` grows the department columns (/bmxx/) until the main site has at
    least that many pages (benchmarks at other sizes)."""
    if profile not in PROFILE_SETTINGS:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    settings = PROFILE_SETTINGS[profile]
    manifest = _Builder(Path(root), settings, today, slow_delay).run()
    if manifest.counts["pages"] >= min_pages:
        return manifest
    columns = settings.dept_columns or 8

    def dept_pages(articles: int) -> int:     # article pages plus list pages of all of them
        return columns * (articles + max(1, -(-articles // settings.dept_page_size)))

    fixed = manifest.counts["pages"] - (dept_pages(settings.dept_articles) if settings.dept_columns else 0)
    articles = settings.dept_articles
    while fixed + dept_pages(articles) < min_pages:
        articles += max(1, (min_pages - fixed - dept_pages(articles)) // (columns + 1))
    grown = dataclasses.replace(settings, dept_columns=columns, dept_articles=articles)
    return _Builder(Path(root), grown, today, slow_delay).run()


class _Builder:
    def __init__(self, root: Path, profile: Profile, today: date, slow_delay: float) -> None:
        self.root = root
        self.www = root / "www"
        self.profile = profile
        self.today = today
        self.slow_delay = slow_delay
        self.writer = Writer(SEEDS[profile.name])
        self.rng = self.writer.rng
        data = corpus()["site"]
        self.site_name: str = data["name"]
        self.office: str = data["host_office"]
        self.icp: str = data["icp"]
        self.next_id = 4120001
        self.files: set[str] = set()                       # written paths, "/a/b.html"
        self.pages: dict[str, list[str]] = {"main": [], "nav": [], "stale": []}
        self.links_on: dict[str, list[str]] = {}           # page path -> manifest-form links
        self.broken_targets: dict[str, str] = {}           # manifest-form URL -> kind
        self.extra_pairs: list[dict[str, str]] = []        # pairs not visible in static HTML
        self.not_broken: list[dict[str, str]] = []
        self.external_ok: set[str] = set()
        self.js_only: list[dict[str, str]] = []
        self.script_lists_left = profile.script_lists
        self.text: list[dict[str, Any]] = []
        self.columns: list[Column] = []
        self.sections: list[Section] = []
        self.routes: dict[str, Any] = {}
        self.plants = {p.key: p for p in PLANTS} if profile.faults else {}
        self.markup: list[dict[str, str]] = []
        # The interaction_poor and contact_phone cases (patrol/demo/samplesite/board.py).
        self.interaction: list[dict[str, Any]] = []
        self.phones: list[dict[str, Any]] = []
        self.not_phones: list[str] = []
        # 政务公开 plants (patrol/demo/samplesite/opengov.py): their own writer, so the other pages'
        # text stays as it was.
        self.og_writer = Writer(SEEDS[profile.name] + 19)
        self.og_links: dict[str, str] = {}                 # article path -> related-links HTML
        self.label_pages: dict[str, dict[str, Any]] = {}   # page path -> {type, present}
        self.og_reports: list[dict[str, Any]] = []
        self.og_documents: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ writing
    def write(self, path: str, content: bytes | str, encoding: str = "utf-8") -> None:
        """Write one file at URL path ``path`` ("/x/" means "/x/index.html")."""
        if path.endswith("/"):
            path += "index.html"
        target = self.www / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
        self.files.add(path)

    def page(self, url: str, doc: str, *, site: str = "main", file: str | None = None,
             encoding: str = "utf-8", listed: bool = True) -> None:
        """Write an HTML page known by ``url`` and remember the links it carries."""
        self.write(file or url, doc, encoding)
        if listed:
            self.pages[site].append(url)
        self.links_on[url] = [self.mform(unescape(h), url) for h in _HREF.findall(doc)]

    @staticmethod
    def mform(href: str, page_path: str) -> str:
        """A link as the manifest writes it: "{base}..." for this site, "{ext}..." outside."""
        if href.startswith(H.EXT_BASE):
            return "{ext}" + href[len(H.EXT_BASE):]
        self_tls = f"https://127.0.0.1:{H.PORT_TOKEN}/"
        if href.startswith(self_tls):
            return "https://127.0.0.1:{port}/" + href[len(self_tls):]
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", href):
            return href
        joined = urljoin("http://site" + page_path, href)
        return "{base}" + joined[len("http://site/"):]

    def broken(self, url: str, kind: str) -> str:
        self.broken_targets[url] = kind
        return url

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    # ------------------------------------------------------------------ run
    def run(self) -> Manifest:
        self.clear_root()
        self.www.mkdir(parents=True)
        self.assets()
        self.plan_columns()
        for column in self.columns:
            self.article_pages(column)
            self.list_pages(column)
        for section in self.sections:
            self.section_page(section)
        if self.profile.faults:
            self.special_pages()
            self.subsites()
            self.external_site()
        else:
            self.soft_404_pages()
        self.homepage()
        self.write_routes()
        self.self_check()
        manifest = self.manifest()
        (self.root / "manifest.json").write_text(
            json.dumps(manifest.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        return manifest

    def clear_root(self) -> None:
        """Remove a previous build, but never a folder holding anything else."""
        if not self.root.exists():
            return
        foreign = sorted(p.name for p in self.root.iterdir() if p.name not in BUILD_ENTRIES)
        if foreign:
            raise ValueError(f"{self.root} holds files that are not a sample-site build "
                             f"({', '.join(foreign[:5])}); choose an empty or new folder")
        for name in ("www", "ext"):
            if (self.root / name).is_dir():
                shutil.rmtree(self.root / name)

    # ------------------------------------------------------------------ chrome
    def main_menu(self) -> list[tuple[str, str]]:
        items = [("首页", "/")] + [(s.name, s.path) for s in self.sections]
        if self.profile.faults:
            items += [("互动交流", "/hdjl/"), ("专题专栏", "/ztzl/")]
        else:
            items += [("专题专栏", "/ztzl/")]
        return items

    def chrome(self, body: str, trail: list[tuple[str, str | None]] | None = None,
               side: str = "", identity: str = "") -> str:
        """Header, menu, breadcrumb, side bar and footer around a page body."""
        crumbs = H.breadcrumb(trail) if trail else ""
        foot_links = [("联系我们", "/jggk/"), ("网站地图", "/wzdt/" if self.profile.footer_broken else "/")]
        return (H.header(self.site_name) + H.menu(self.main_menu()) + crumbs
                + f'<div class="main">{side}<div class="content-box">{body}</div></div>\n'
                + H.footer(self.site_name, self.office, self.icp, foot_links, identity))

    def assets(self) -> None:
        self.write("/css/main.css", CSS)
        self.write("/js/main.js", JS)
        self.write("/images/logo.png", PNG_1X1)
        self.write("/images/banner.png", PNG_1X1)
        self.write("/favicon.ico", PNG_1X1)
        if self.profile.faults:
            self.write(G.BADGE_IMAGE, PNG_1X1)
        self.write("/404.html", H.not_found_page(self.site_name))
        if self.profile.footer_broken:
            self.broken("{base}wzdt/", "http_404")

    # ------------------------------------------------------------------ columns
    def plan_columns(self) -> None:
        p = self.profile
        columns = _main_columns()
        if p.faults:
            columns += [Column(G.INTERPRETATION_COLUMN, "政策解读", "/zwgk/", "notice", "iso", title_kind="policy"),
                        Column(G.REPORT_COLUMN, "政府信息公开年报", "/zwgk/", "yearly", "iso", title_kind="notice")]
        for c in columns:
            if c.count and not c.fixed_dates and c.newest_days < 200:
                c.count *= p.scale
        if not p.faults:
            for c in columns:
                c.paging = "static"
                c.dead_row = False
        for i in range(p.dept_columns):
            dept = corpus()["departments"][i % len(corpus()["departments"])]
            style = BENCH_STYLES[i % len(BENCH_STYLES)]
            stale = i % 4 == 3
            columns.append(Column(f"/bmxx/bm{i + 1:02d}/", f"{dept.removeprefix('区')}动态", "/bmxx/",
                                  "dynamic", style, 30 + i if stale else i % 7, p.dept_articles,
                                  p.dept_page_size, "news"))
        self.columns = columns
        for path, name in SECTION_NAMES.items():
            members = [c for c in columns if c.parent == path]
            if members:
                self.sections.append(Section(path, name, members))
        for c in columns:
            if c.path in G.PATHS and c.site == "main":
                self.opengov_articles(c, columns)
            else:
                self.make_articles(c)
        if p.faults:
            # Markup pasted into a title: every report must show it as text.
            art = next(c for c in columns if c.path == MARKUP_TITLE_COLUMN).articles[1]
            art.title = MARKUP + art.title
            self.markup.append({"page": "{base}" + art.url[1:], "title": art.title})

    def make_articles(self, c: Column) -> None:
        if c.fixed_dates:
            dates = list(c.fixed_dates)
        else:
            dates, when = [], self.today - timedelta(days=c.newest_days)
            # A list that shows [MM-DD] without a year must stay within one year of today.
            max_gap = 7 if c.style != "md" else max(1, (330 - c.newest_days) // max(c.count, 1))
            for _ in range(c.count):
                dates.append(when)
                when -= timedelta(days=self.rng.randint(1, max(1, max_gap)))
        for index, published in enumerate(dates):
            art_id = self.new_id()
            title = self.writer.title(c.title_kind, published)
            c.articles.append(Article(art_id, c, title, published, _article_url(c, published, art_id), index))

    def opengov_articles(self, c: Column, columns: list[Column]) -> None:
        """The 政策解读 and 政府信息公开年报 columns: titles and dates that the checks judge."""
        def add(title: str, when: date) -> Article:
            art_id = self.new_id()
            art = Article(art_id, c, title, when, _article_url(c, when, art_id), len(c.articles))
            c.articles.append(art)
            return art
        if c.path == G.REPORT_COLUMN:
            for title, when, status in G.report_articles(self.today, self.office):
                art = add(title, when)
                self.og_reports.append({"title": title, "url": "{base}" + art.url[1:],
                                        "published": when.isoformat(), "status": status})
            return
        docs = next(x for x in columns if x.path == G.POLICY_COLUMN).articles
        arts = [add(title, when) for title, when in
                G.interpretation_articles(self.today, [d.title for d in docs])]
        # The first document links to its interpretation; the second is linked from its one;
        # the others have none.
        self.og_links[docs[0].url] = (f'<p class="related">相关解读：<a href="{arts[1].url}">'
                                      f'{H.e(arts[1].title)}</a></p>')
        self.og_links[arts[2].url] = (f'<p class="related">相关文件：<a href="{docs[1].url}">'
                                      f'{H.e(docs[1].title)}</a></p>')
        for i, d in enumerate(docs):
            self.og_documents.append({"url": "{base}" + d.url[1:], "title": d.title, "interpreted": i < 2,
                                      "via": "link" if i == 0 else "linked_from" if i == 1 else ""})

    def column_head(self, c: Column | Section, path: str) -> str:
        """The column labels of a main-site list page (and the record of them)."""
        if not self.profile.faults or getattr(c, "site", "main") != "main":
            return ""
        labels = G.column_labels(self.site_name, c.path, c.name)
        if path == c.path:
            self.label_pages[path] = {"type": "column", "present": sorted(labels)}
        return G.meta(labels)

    def article_pages(self, c: Column) -> None:
        section = SECTION_NAMES.get(c.parent, "")
        writer = self.og_writer if c.path in G.PATHS else self.writer
        for art in c.articles:
            plant = self.plants.get(f"{c.path}#{art.index}")
            extra_sentences = [plant.sentence] if plant else []
            paragraphs = writer.paragraphs(art.published, extra_sentences)
            source = writer.department()
            shown = art.published.isoformat()
            head = ""
            if c.style in ("iso", "slash", "cn", "md", "js", "meta"):
                head = f'<meta name="PubDate" content="{shown} 09:30">\n'
            if self.profile.faults and c.site == "main":
                labels, present = G.article_labels(self.site_name, c.path, c.name, art.title, source,
                                                   pubdate=bool(head))
                head += G.meta(labels)
                self.label_pages[art.url] = {"type": "article", "present": sorted(present)}
            info = f"来源：{H.e(source)}"
            if c.style in ("iso", "slash", "cn", "md", "js", "fabu"):
                info = f"发布时间：{shown}　" + info
            extra = self.article_extras(art)
            body = H.article(title=art.title, info=info, paragraphs=paragraphs, extra_html=extra)
            trail = [("首页", "/"), (section, c.parent), (c.name, c.path), ("正文", None)]
            self.page(art.url, H.document(title=f"{art.title}_{self.site_name}", head=head,
                                          body=self.chrome(body, trail), raw_title=MARKUP in art.title))
            if plant:
                self.record_plant(plant, art)

    def article_extras(self, art: Article) -> str:
        """Attachments and images, some of them missing (deterministic by article id)."""
        parts = []
        folder = f"/uploads/{art.published:%Y%m}/"
        if art.id % 4 == 0:
            ext = ATTACHMENT_EXTS[(art.id // 4) % len(ATTACHMENT_EXTS)]
            url = f"{folder}{art.id}.{ext}"
            self.write(url, _attachment_bytes(ext))
            parts.append(f'<p class="attach">附件：<a href="{url}">{H.e(art.title)}.{ext}</a></p>')
        if art.id % 15 == 7:
            url = f"{folder}{art.id}_fj.pdf"
            self.broken("{base}" + url[1:], "http_404")
            parts.append(f'<p class="attach">附件：<a href="{url}">相关材料.pdf</a></p>')
        if art.id % 5 == 0:
            url = f"/images/news/{art.id}.png"
            self.write(url, PNG_1X1)
            parts.append(f'<p class="pic"><img src="{url}" alt="{H.e(art.title)}"></p>')
        if art.id % 40 == 11:
            url = f"/images/news/{art.id}_1.jpg"
            self.broken("{base}" + url[1:], "http_404")
            parts.append(f'<p class="pic"><img src="{url}" alt="现场图片"></p>')
        if art.url in self.og_links:
            parts.append(self.og_links[art.url])
        return "".join(parts)

    def record_plant(self, plant: Plant, art: Article) -> None:
        entry = plant.to_dict()
        entry.update(page="{base}" + art.url[1:], published=art.published.isoformat(),
                     column=art.column.name)
        if plant.kind == "leader_title":
            entry["leader"] = dict(LEADER)
        self.text.append(entry)

    def list_pages(self, c: Column) -> None:
        section = SECTION_NAMES.get(c.parent, "")
        trail = [("首页", "/"), (section, c.parent), (c.name, None)]
        siblings = [(x.name, x.path) for x in self.columns if x.parent == c.parent]
        side = H.sidebar(section, siblings, c.path)
        head = f'<div class="column-title"><h2>{H.e(c.name)}</h2></div>\n'
        if c.style == "empty":
            body = head + '<ul class="list"></ul>\n'
            self.page(c.path, H.document(title=f"{c.name}_{self.site_name}", body=self.chrome(body, trail, side),
                                          head=self.column_head(c, c.path)))
            return
        if c.style == "placeholder":
            body = head + '<div class="list-empty"><p>暂无信息</p></div>\n'
            self.page(c.path, H.document(title=f"{c.name}_{self.site_name}", body=self.chrome(body, trail, side),
                                          head=self.column_head(c, c.path)))
            return
        if c.style == "js":
            rows = [{"title": a.title, "url": a.url, "date": a.published.isoformat()} for a in c.articles]
            missing = self.js_missing_row(c)
            rows.insert(1, missing)
            for row in rows:
                self.js_only.append({"url": "{base}" + row["url"][1:], "page": "{base}" + c.path[1:]})
            body = head + H.js_list(rows)
            self.page(c.path, H.document(title=f"{c.name}_{self.site_name}", body=self.chrome(body, trail, side),
                                          head=self.column_head(c, c.path)))
            return
        chunks = [c.articles[i:i + c.page_size] for i in range(0, len(c.articles), c.page_size)] or [[]]
        urls = [_page_url(c, n) for n in range(len(chunks))]
        for n, chunk in enumerate(chunks):
            rows = [(a.title, a.url, _list_date(c.style, a.published)) for a in chunk]
            if n == 0 and c.dead_row and len(chunk) > 1:
                when = chunk[1].published
                dead = f"{c.path}{when:%Y%m}/t{when:%Y%m%d}_{self.new_id()}.html"
                self.broken("{base}" + dead[1:], "http_404")
                rows.insert(2, (self.writer.title(c.title_kind, when), dead, _list_date(c.style, when)))
            nav = []
            if len(chunks) > 1:
                nav.append(("首页", urls[0]))
                if n > 0:
                    nav.append(("上一页", urls[n - 1]))
                if n < len(chunks) - 1:
                    nav.append(("下一页", urls[n + 1]))
                nav.append(("尾页", urls[-1]))
            if c.parent == "/bmxx/" and self.script_lists_left > 0:
                self.script_lists_left -= 1
                data = [{"title": t, "url": u, "date": d} for t, u, d in rows]
                for row in data:
                    self.js_only.append({"url": "{base}" + row["url"][1:], "page": "{base}" + urls[n][1:]})
                body = head + H.js_list(data) + (H.pager(nav, len(chunks)) if nav else "")
            else:
                body = head + H.list_items(rows) + (H.pager(nav, len(chunks)) if nav else "")
            file = None
            if c.paging == "query" and n > 0:
                file = f"{c.path}index_p{n + 1}.html"
            self.page(urls[n], H.document(title=f"{c.name}_{self.site_name}", body=self.chrome(body, trail, side),
                                          head=self.column_head(c, c.path)),
                      file=file)
        if c.paging == "query":
            self.routes.setdefault("query_pages", {})[c.path] = c.path.lstrip("/") + "index_p{page}.html"

    def js_missing_row(self, c: Column) -> dict[str, str]:
        when = c.articles[0].published if c.articles else self.today
        url = f"{c.path}{when:%Y%m}/t{when:%Y%m%d}_{self.new_id()}.html"
        kind = "http_404"
        self.broken_targets["{base}" + url[1:]] = kind
        self.extra_pairs.append({"url": "{base}" + url[1:], "page": "{base}" + c.path[1:], "kind": kind})
        return {"title": self.writer.title(c.title_kind, when), "url": url, "date": when.isoformat()}

    def section_page(self, s: Section) -> None:
        blocks = []
        for c in s.columns:
            rows = [(a.title, a.url, a.published.isoformat()) for a in c.articles[:3]] if c.style != "js" else []
            more = f'<a class="more" href="{c.path}">更多</a>'
            blocks.append(f'<div class="block"><div class="block-title"><h3>{H.e(c.name)}</h3>{more}</div>'
                          + (H.list_items(rows) if rows else "") + "</div>\n")
        side = H.sidebar(s.name, [(c.name, c.path) for c in s.columns])
        body = "".join(blocks)
        self.page(s.path, H.document(title=f"{s.name}_{self.site_name}", head=self.column_head(s, s.path),
                                     body=self.chrome(body, [("首页", "/"), (s.name, None)], side)))

    # ------------------------------------------------------------------ homepage
    def homepage(self) -> None:
        by_path = {c.path: c for c in self.columns}
        news, notices, dept = by_path["/xwzx/zwyw/"], by_path["/zwgk/tzgg/"], by_path["/xwzx/bmdt/"]

        def block(title: str, col: Column, n: int) -> str:
            rows = [(a.title, a.url, a.published.isoformat()) for a in col.articles[:n]]
            return (f'<div class="block"><div class="block-title"><h3>{H.e(title)}</h3>'
                    f'<a class="more" href="{col.path}">更多</a></div>' + H.list_items(rows) + "</div>\n")

        parts = ['<div class="banner"><img src="/images/banner.png" alt="清溪风光">']
        if self.profile.faults:
            self.broken("{base}images/banner_2.jpg", "http_404")
            parts.append('<img src="/images/banner_2.jpg" alt="美丽清溪">')
        parts.append("</div>\n")
        parts += [block("政务要闻", news, 6), block("通知公告", notices, 5), block("部门动态", dept, 3)]
        if self.profile.faults:
            ext_missing = self.broken("{ext}missing.html", "http_404")
            refused = self.broken("http://127.0.0.1:9/", "refused")
            dns = self.broken("http://nohost.invalid/", "dns")
            self.external_ok.add("{ext}")
            self.not_broken.append({"url": "{ext}", "page": "{base}", "why": "external page that exists"})
            month = f"{self.today:%Y-%m}"
            parts.append(
                '<div class="block zt"><h3>专题专栏</h3><ul>'
                '<li><a href="/ztzl/">专题专栏</a></li>'
                f'<li><a href="/calendar/?month={month}">政务日历</a></li>'
                '<li><a href="/gbk/notice.html">旧版公告（GBK）</a></li>'
                '<li><a href="/gb18030/page.html">历史文献</a></li>'
                '</ul></div>\n'
                '<div class="block map"><iframe src="/iframe/map.html" title="清溪区地图" width="300" height="200"></iframe></div>\n'
                '<div class="block links"><h3>友情链接</h3><ul>'
                f'<li><a href="{H.EXT_BASE}">清溪融媒</a></li>'
                f'<li><a href="{H.EXT_BASE}{ext_missing[len("{ext}"):]}">清溪融媒专题</a></li>'
                f'<li><a href="{refused}">市政务服务网</a></li>'
                f'<li><a href="{dns}">省政府门户网站</a></li>'
                '</ul></div>\n'
                '<div class="block tools"><a href="javascript:void(0)" onclick="addFavorite()">加入收藏</a> '
                '<a href="mailto:zwgk@example.gov.cn">联系我们</a> <a href="tel:023-12345678">023-12345678</a></div>\n')
            self.not_broken.append({"url": f"{{base}}calendar/?month={month}", "page": "{base}",
                                    "why": "endless calendar: a crawler trap, every month answers 200"})
            for u in ("javascript:void(0)", "mailto:zwgk@example.gov.cn", "tel:023-12345678"):
                self.not_broken.append({"url": u, "page": "{base}", "why": "not an http link: never fetched"})
        body = "".join(parts)
        head, identity = "", ""
        if self.profile.faults:
            head = G.meta(G.site_labels(self.site_name))
            identity = G.identity_footer("full", H.EXT_BASE)
            self.external_ok.add("{ext}" + G.BADGE_LINK)
            self.label_pages["/"] = {"type": "homepage", "present": sorted(G.SITE_LABELS)}
        self.page("/", H.document(title=self.site_name, body=self.chrome(body, identity=identity), head=head))

    # ------------------------------------------------------------------ faults
    def soft_404_pages(self) -> None:
        """Soft-404s for a profile without dynamic faults: both can be served by any static
        server that answers the ``soft_404_prefixes`` of routes.json with the not-found page."""
        sn = self.site_name
        self.write("/special/removed.html", H.document(title="404", body="<h1>404 页面不存在</h1>"))
        links = [("历史文件库", "/old/zwgk/2015/notice.html"), ("政策文件汇编（已撤销）", "/special/removed.html")]
        for _, href in links:
            self.broken("{base}" + href[1:], "soft_404")
        rows = [(name, href, None) for name, href in links]
        body = '<div class="column-title"><h2>专题专栏</h2></div>\n' + H.list_items(rows)
        self.page("/ztzl/", H.document(title=f"专题专栏_{sn}", body=self.chrome(body, [("首页", "/"), ("专题专栏", None)])))
        self.routes["soft_404_prefixes"] = ["/old/"]

    def special_pages(self) -> None:
        sn = self.site_name
        self.page("/iframe/map.html", H.plain_page(sn, "清溪区行政区划图", "清溪区辖4个街道、2个镇、1个乡。"))
        self.write("/special/removed.html", H.document(title="404", body="<h1>404 页面不存在</h1>"))
        # Links of the 专题专栏 page: each answers in its own (wrong or tricky) way.
        b = self.broken
        ztzl = [
            ("历史文件库", "/old/zwgk/2015/notice.html", b("{base}old/zwgk/2015/notice.html", "soft_404")),
            ("政策文件汇编（已撤销）", "/special/removed.html", b("{base}special/removed.html", "soft_404")),
            ("信访事项办理系统", "/api/error500", b("{base}api/error500", "http_500")),
            ("公共资源交易平台", "/api/maintenance", b("{base}api/maintenance", "http_503")),
            ("统计年鉴", "/slow/report.html", b("{base}slow/report.html", "timeout")),
            ("乡村振兴专题", "/loop/a", b("{base}loop/a", "redirect_loop")),
            ("营商环境专题", "/chain/0", b("{base}chain/0", "too_many_redirects")),
            ("安全门户", f"https://127.0.0.1:{H.PORT_TOKEN}/", b("https://127.0.0.1:{port}/", "tls")),
            ("地图服务", "http://exa mple .com/", b("http://exa mple .com/", "invalid_url")),
            ("视频会议系统", "http://[::1", b("http://[::1", "invalid_url")),
            ("网上办事大厅", "/api/nohead", None),
            ("数据开放平台", "/api/busy/report", None),
            ("旧版网站", "/redirect/old-home", None),
        ]
        why = {"/api/nohead": "answers HEAD with 405 and GET with 200",
               "/api/busy/report": "429 with Retry-After: 1 on the first request, then 200",
               "/redirect/old-home": "301 to the homepage, which exists"}
        for _, href, target in ztzl:
            if target is None:
                self.not_broken.append({"url": "{base}" + href[1:], "page": "{base}ztzl/", "why": why[href]})
        rows = [(name, href, None) for name, href, _ in ztzl]
        body = '<div class="column-title"><h2>专题专栏</h2></div>\n' + H.list_items(rows)
        self.page("/ztzl/", H.document(title=f"专题专栏_{sn}", body=self.chrome(body, [("首页", "/"), ("专题专栏", None)])))

        # 互动交流: session ids in links (a new one on every page view), mail, phone, script links.
        hd = ('<div class="column-title"><h2>互动交流</h2></div>\n<ul class="list">'
              f'<li><a href="/hdjl/zxzx.html?sid={H.SID_TOKEN}">在线咨询</a></li>'
              f'<li><a href="/hdjl/szxx.html;jsessionid={H.SID_TOKEN}">区长信箱</a></li>'
              '<li><a href="mailto:zwgk@example.gov.cn">电子邮件</a></li>'
              '<li><a href="tel:023-12345678">咨询电话</a></li>'
              '<li><a href="javascript:void(0)" onclick="window.print()">打印本页</a></li>'
              f'<li><a href="{BOARD}">咨询投诉</a></li><li><a href="{CONTACT}">联系我们</a></li></ul>\n')
        self.page("/hdjl/", H.document(title=f"互动交流_{sn}", body=self.chrome(hd, [("首页", "/"), ("互动交流", None)])))
        self.page("/hdjl/zxzx.html", H.plain_page(sn, "在线咨询", "请填写您的咨询内容，我们将在5个工作日内答复。"),
                  listed=False)
        self.page("/hdjl/szxx.html", H.plain_page(sn, "区长信箱", "欢迎您对我区工作提出意见和建议。"), listed=False)
        self.interaction.append(B.message_board(self))
        self.phones, self.not_phones = B.contact_pages(self)
        self.not_broken += [
            {"url": "{base}hdjl/zxzx.html?sid=0123abcd", "page": "{base}hdjl/",
             "why": "session id in the query: a new value on every page view; any value answers 200"},
            {"url": "{base}hdjl/szxx.html;jsessionid=0123abcd", "page": "{base}hdjl/",
             "why": "session id as a path parameter; any value answers 200"},
        ]

        # Old encodings: one page declares GBK, the other declares nothing (must be sniffed).
        gbk_missing = b("{base}gbk/missing.html", "http_404")
        gbk_body = ('<div class="main"><h1>关于做好春节期间值班工作的通知</h1>'
                    '<p>各街道、镇（乡），区级各部门：为确保春节期间各项工作平稳有序，现将有关事项通知如下。</p>'
                    f'<p><a href="/{gbk_missing[len("{base}"):]}">值班安排表</a> <a href="/">返回首页</a></p></div>')
        self.page("/gbk/notice.html", H.document(title=f"值班通知_{sn}", body=gbk_body, charset="gbk"),
                  encoding="gbk")
        gb_missing = b("{base}gb18030/missing.html", "http_404")
        gb_body = ('<div class="main"><h1>清溪区地方志·人物篇</h1>'
                   '<p>清溪历代人物传记，收录㐀、䶮等生僻字姓名的地方先贤。费用以€计价者另列。</p>'
                   f'<p><a href="/{gb_missing[len("{base}"):]}">人物篇（下）</a> <a href="/">返回首页</a></p></div>')
        self.page("/gb18030/page.html", H.document(title=f"地方志_{sn}", body=gb_body, charset=None),
                  encoding="gb18030")

    def subsites(self) -> None:
        """Two small sites under path prefixes: one whose homepage is navigation only, one
        whose homepage is stale."""
        specs = {
            "nav": ("清溪区教育局", [
                Column("/nav/xwdt/", "新闻动态", "/nav/", "dynamic", "iso", 3, 2, 10, "news", site="nav"),
                Column("/nav/tzgg/", "通知公告", "/nav/", "notice", "iso", 40, 2, 10, "notice", site="nav")]),
            "stale": ("清溪区档案馆", [
                Column("/stale/gzdt/", "工作动态", "/stale/", "dynamic", "iso", 30, 2, 10, "news", site="stale"),
                Column("/stale/tzgg/", "通知公告", "/stale/", "notice", "iso", 60, 2, 10, "notice", site="stale")]),
        }
        self.subsite_info: list[dict[str, Any]] = []
        for key, (name, cols) in specs.items():
            home = f"/{key}/"
            menu = [("首页", home)] + [(c.name, c.path) for c in cols]

            def wrap(body: str, trail: list[tuple[str, str | None]] | None = None,
                     name: str = name, home: str = home, menu: list[tuple[str, str]] = menu,
                     identity: str = "") -> str:
                crumbs = H.breadcrumb(trail) if trail else ""
                return (H.header(name, home) + H.menu(menu) + crumbs + f'<div class="main">{body}</div>\n'
                        + H.footer(name, name, self.icp, identity=identity))

            for c in cols:
                self.make_articles(c)
                for art in c.articles:
                    info = f"发布时间：{art.published.isoformat()}　来源：{H.e(name)}"
                    body = H.article(title=art.title, info=info,
                                     paragraphs=self.writer.paragraphs(art.published))
                    self.page(art.url, H.document(title=f"{art.title}_{name}", body=wrap(
                        body, [("首页", home), (c.name, c.path), ("正文", None)])), site=key)
                    self.label_pages[art.url] = {"type": "article", "present": []}
                rows = [(a.title, a.url, a.published.isoformat()) for a in c.articles]
                self.page(c.path, H.document(title=f"{c.name}_{name}", body=wrap(
                    f"<h2>{H.e(c.name)}</h2>" + H.list_items(rows), [("首页", home), (c.name, None)])), site=key)
                self.label_pages[c.path] = {"type": "column", "present": []}
                self.columns.append(c)
            newest = max(a.published for c in cols for a in c.articles)
            if key == "nav":
                # Navigation only: big entry buttons, no dated items at all.
                body = ('<div class="portal">' + "".join(
                    f'<a class="entry" href="{c.path}">{H.e(c.name)}</a>' for c in cols) + "</div>")
                info = {"homepage": "navigation", "homepage_newest": None,
                        "second_level_newest": newest.isoformat(), "homepage_verdict": "fresh"}
            else:
                rows = sorted(((a.title, a.url, a.published) for c in cols for a in c.articles),
                              key=lambda r: r[2], reverse=True)
                body = H.list_items([(t, u, d.isoformat()) for t, u, d in rows])
                # A 馆长信箱 whose 我要写信 page is gone: interaction_poor (no working channel).
                body += f'<p class="mailbox"><a href="{B.STALE_BOX}">馆长信箱</a></p>'
                self.interaction.append(B.stale_mailbox(self, wrap))
                info = {"homepage": "dated", "homepage_newest": newest.isoformat(),
                        "homepage_verdict": "stale" if (self.today - newest).days > 14 else "fresh"}
            # The 教育局's footer shows 主办 and ICP only; the 档案馆's shows a 网站标识码 that
            # disagrees with its SiteIDCode label, and the badge image without its link.
            head = G.meta(G.site_labels(name, G.STALE_META_CODE)) if key == "stale" else ""
            identity = G.identity_footer("mismatch" if key == "stale" else "bare", H.EXT_BASE)
            self.label_pages[home] = {"type": "homepage", "present": sorted(G.SITE_LABELS) if head else []}
            self.page(home, H.document(title=name, body=wrap(body, identity=identity), head=head), site=key)
            self.subsite_info.append({"id": key, "name": name, "url": "{base}" + home[1:], **info})

    def external_site(self) -> None:
        ext = self.root / "ext"
        ext.mkdir(parents=True, exist_ok=True)
        (ext / "index.html").write_text(
            H.plain_page("清溪融媒", "清溪区融媒体中心", "清溪区融媒体中心官方网站。"), encoding="utf-8")
        (ext / "about.html").write_text(
            H.plain_page("清溪融媒", "关于我们", "清溪区融媒体中心成立于2019年。"), encoding="utf-8")
        # Stands in for the 开办者标识 verification page on bszs.conac.cn (no internet here).
        (ext / G.BADGE_LINK).parent.mkdir(parents=True, exist_ok=True)
        (ext / G.BADGE_LINK).write_text(
            H.plain_page("党政机关网站标识", "清溪区人民政府", "网站标识码 " + G.SITE_CODE + "，开办者核验信息。"),
            encoding="utf-8")

    def write_routes(self) -> None:
        routes: dict[str, Any] = {
            "today": self.today.isoformat(),
            "not_found": "404.html",
            "no_charset": ["/gbk/notice.html", "/gb18030/page.html"],
        }
        if self.profile.faults:
            routes.update({
                "redirects": {"/loop/a": ["/loop/b", 302], "/loop/b": ["/loop/a", 302],
                              "/redirect/old-home": ["/", 301]},
                "chain": {"prefix": "/chain/", "length": 15, "target": "/"},
                "status": {"/api/error500": 500, "/api/maintenance": 503},
                "slow": {"/slow/report.html": self.slow_delay},
                "retry_after": {"prefix": "/api/busy/", "seconds": 1},
                "no_head": ["/api/nohead"],
                "soft_404_prefixes": ["/old/"],
                "calendar": "/calendar/",
            })
        routes.update(self.routes)
        (self.root / "routes.json").write_text(json.dumps(routes, ensure_ascii=False, indent=1), encoding="utf-8")
        self.routes = routes

    # ------------------------------------------------------------------ checks and manifest
    def self_check(self) -> None:
        """Every link written must exist, be answered by a route, or be a declared fault:
        otherwise the manifest would not tell the whole truth."""
        route_paths = {"/api/nohead", "/api/busy/report", "/redirect/old-home", "/"}
        problems = []
        for page, links in self.links_on.items():
            for link in links:
                if link in self.broken_targets or link in self.external_ok:
                    continue
                if link.startswith(("mailto:", "tel:", "javascript:")):
                    continue
                if not link.startswith("{base}"):
                    problems.append((page, link))
                    continue
                path = "/" + link[len("{base}"):]
                parts = urlsplit(path)
                clean = parts.path.split(";")[0]
                if clean.endswith("/"):
                    clean += "index.html"
                if clean in self.files or parts.path in route_paths or parts.path == "/calendar/":
                    continue
                problems.append((page, link))
        if problems:
            raise AssertionError(f"sample site links neither existing nor declared: {problems[:10]}")

    def manifest(self) -> Manifest:
        pairs = []
        for page, links in self.links_on.items():
            for link in dict.fromkeys(links):
                if link in self.broken_targets:
                    pairs.append({"url": link, "page": "{base}" + page[1:], "kind": self.broken_targets[link]})
        pairs += self.extra_pairs
        pairs.sort(key=lambda p: (p["page"], p["url"]))
        # The sub-sites' own (the stale site's mailbox): a crawl of the main site never sees them.
        subsite_pairs = [p for p in pairs if p["page"].startswith(("{base}nav/", "{base}stale/"))]
        pairs = [p for p in pairs if p not in subsite_pairs]
        columns = [_column_entry(c, self.today) for c in self.columns]
        main_newest = max(a.published for a in self.columns[0].articles)
        sites = [{"id": "main", "name": self.site_name, "url": "{base}", "homepage": "dated",
                  "homepage_newest": main_newest.isoformat(),
                  "homepage_verdict": "fresh" if (self.today - main_newest).days <= 14 else "stale"}]
        sites += getattr(self, "subsite_info", [])
        html_files = sum(1 for f in self.files if f.endswith(".html"))
        counts = {"pages": len(self.pages["main"]), "html_files": html_files, "files": len(self.files),
                  "broken_pairs": len(pairs), "broken_urls": len({p["url"] for p in pairs}),
                  "articles": sum(len(c.articles) for c in self.columns if c.site == "main"),
                  "columns": sum(1 for c in self.columns if c.site == "main")}
        for key in ("nav", "stale"):
            if self.pages[key]:
                counts[f"pages_{key}"] = len(self.pages[key])
        return Manifest(
            profile=self.profile.name, today=self.today.isoformat(), site_name=self.site_name,
            broken=pairs, not_broken=self.not_broken, columns=columns, sites=sites, text=self.text,
            js_only_links=self.js_only, pages=["{base}" + p[1:] for p in self.pages["main"]],
            trap_pages=(["{base}hdjl/zxzx.html?sid=*", "{base}hdjl/szxx.html;jsessionid=*",
                         "{base}calendar/?month=*"] if self.profile.faults else []),
            route_pages=(["{base}api/nohead", "{base}api/busy/report"] if self.profile.faults else []),
            counts=counts, leaders=[dict(LEADER)], markup_titles=self.markup,
            sections=[{"url": "{base}" + sec.path[1:], "name": sec.name,
                       "columns": ["{base}" + c.path[1:] for c in sec.columns]} for sec in self.sections],
            timings={"slow_delay_s": self.slow_delay, "retry_after_s": 1} if self.profile.faults else {},
            interaction=self.interaction + ([{"site": "nav", "board": None, "submit": None, "channel": "none",
                                              "veto": True, "messages": []}] if self.profile.faults else []),
            phones=self.phones, not_phones=self.not_phones,
            subsite_broken=subsite_pairs,
            opengov=G.expected(self.today, self.og_reports, self.og_documents,
                               [{"page": "{base}" + p[1:], **v} for p, v in sorted(self.label_pages.items())])
            if self.profile.faults else {},
        )


_HREF = re.compile(r'''\b(?:href|src)="([^"]*)"''')


def _article_url(c: Column, d: date, art_id: int) -> str:
    if c.style == "url_t":
        return f"{c.path}t{d:%Y%m%d}_{art_id}.html"
    if c.style == "url_month":
        return f"{c.path}{d:%Y%m}/art_{art_id}.html"
    if c.style == "url_ymd":
        return f"{c.path}{d:%Y-%m}/{d:%d}/content_{art_id}.html"
    if c.style in ("meta", "fabu"):
        return f"{c.path}content_{art_id}.html"
    return f"{c.path}{d:%Y%m}/t{d:%Y%m%d}_{art_id}.html"


def _list_date(style: str, d: date) -> str | None:
    return {
        "iso": d.isoformat(),
        "slash": f"{d:%Y/%m/%d}",
        "cn": f"{d.year}年{d.month}月{d.day}日",
        "md": f"[{d:%m-%d}]",
    }.get(style)


def _page_url(c: Column, n: int) -> str:
    if n == 0:
        return c.path
    if c.paging == "query":
        return f"{c.path}?page={n + 1}"
    return f"{c.path}index_{n}.html"


def _column_entry(c: Column, today: date) -> dict[str, Any]:
    newest = max((a.published for a in c.articles), default=None)
    if c.style in ("empty", "placeholder"):
        verdict = "empty"
    elif c.category == "none":
        verdict = "no_rule"
    else:
        limit = {"dynamic": 14, "notice": 183, "yearly": 365}[c.category]
        verdict = "fresh" if newest and (today - newest).days <= limit else "stale"
    source = {"iso": "list", "slash": "list", "cn": "list", "md": "list_no_year", "js": "rendered_list",
              "url_t": "url", "url_month": "url_month", "url_ymd": "url", "meta": "meta_pubdate",
              "fabu": "article_text", "empty": None, "placeholder": None}[c.style]
    return {"site": c.site, "url": "{base}" + c.path[1:], "name": c.name, "category": c.category,
            "newest": newest.isoformat() if newest else None, "verdict": verdict,
            "date_source": source, "list_style": c.style, "items": len(c.articles),
            "pages": max(1, -(-len(c.articles) // c.page_size)) if c.articles else 1,
            "paging": c.paging, "js": c.style == "js", "placeholder": c.style == "placeholder"}


def _attachment_bytes(ext: str) -> bytes:
    if ext == "pdf":
        return PDF_TINY
    if ext in ("doc", "xls"):
        return OLE_TINY
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        # A fixed timestamp keeps builds byte-for-byte deterministic.
        zf.writestr(zipfile.ZipInfo("说明.txt", date_time=(2020, 1, 1, 0, 0, 0)), "清溪区人民政府 附件")
    return buf.getvalue()
