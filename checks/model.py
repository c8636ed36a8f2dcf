"""Data that flows from the crawler into the checks and from the checks into the store.

Everything here is plain data: no Scrapy, no database, no Jinja2.  The crawler builds one
``PageSnapshot`` per crawled page and one ``LinkResult`` per distinct URL it checked; a
``SiteCrawl`` holds all of them for one site, and every check turns these into ``Finding``s.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from itertools import starmap
from typing import Any


class Severity(StrEnum):
    VETO = "veto"          # fails the site on its own (单项否决)
    ERROR = "error"        # must be rectified
    WARNING = "warning"    # early warning, or a suspected problem (疑似)
    INFO = "info"


class LinkKind(StrEnum):
    """Why a link is broken: a closed set, so reports and scripts can rely on it."""

    OK = "ok"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    TIMEOUT = "timeout"
    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    SOFT_404 = "soft_404"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    INVALID_URL = "invalid_url"
    # A failure of the connection that fits none of the above (reset, aborted transfer).
    CONNECTION = "connection"
    # Links no visitor can follow, found without a request.
    LOCAL_FILE = "local_file"                   # file: (the editor's own disk)
    UNSUPPORTED_SCHEME = "unsupported_scheme"   # ftp: and other schemes browsers do not open
    INVALID_MAILTO = "invalid_mailto"           # mailto: whose address is not an address
    # Still answered 429 (or 503 with Retry-After) after the retries: not known to be broken,
    # so never counted or listed as broken; reported as not verified (未核实).
    RATE_LIMITED = "rate_limited"


class CheckId(StrEnum):
    """What a finding is about: the closed set of check ids shared by the checks, the store,
    the scores, the report and the rectification lists (``patroldata/rectification.yaml``
    labels each, ``patroldata/scoring.yaml`` prices them).  A ``StrEnum``: it compares, hashes
    and formats as its value, so ``findings.json`` and the store hold plain strings."""

    BROKEN_LINK = "broken_link"
    LINK_UNVERIFIED = "link_unverified"
    PAGE_ERROR = "page_error"
    MISSING_ANCHOR = "missing_anchor"
    LONG_URL = "long_url"
    HOMEPAGE_STALE = "homepage_stale"
    COLUMN_STALE = "column_stale"
    COLUMN_EMPTY = "column_empty"
    SITE_UNREACHABLE = "site_unreachable"
    IPV6 = "ipv6"
    SERIOUS_ERROR = "serious_error"
    WRONG_EXPRESSION = "wrong_expression"
    TYPO = "typo"
    PRIVACY_LEAK = "privacy_leak"
    INTERACTION_POOR = "interaction_poor"
    CONTACT_PHONE = "contact_phone"
    SITE_IDENTITY = "site_identity"
    PAGE_LABELS = "page_labels"
    ANNUAL_REPORT = "annual_report"
    POLICY_INTERPRETATION = "policy_interpretation"
    NEWMEDIA_STALE = "newmedia_stale"
    NEWMEDIA_INTERACTION = "newmedia_interaction"
    NEWMEDIA_REPOSTS = "newmedia_reposts"
    NEWMEDIA_EMPTY = "newmedia_empty"
    NEWMEDIA_UNREACHABLE = "newmedia_unreachable"


class CrawlFailure(StrEnum):
    """Why patrol could not do a site's crawl (as opposed to what the crawl found): a run
    whose site has one is not a completed inspection of that site."""

    PROCESS_EXITED = "process_exited"     # a crawl process died: crash, kill, out of memory
    NO_OUTPUT = "no_output"               # a crawl process wrote nothing (it did not start)
    UNFINISHED = "unfinished"             # the crawl output ends before the crawl's end


# Kinds that say nothing about the link being broken.
UNVERIFIED_KINDS = frozenset({LinkKind.RATE_LIMITED.value})


@dataclass(slots=True)
class LinkRef:
    """One occurrence of a link on a page."""

    url: str            # absolute, normalised target
    tag: str            # a, img, script, link, iframe, area, embed, source, object, form
    anchor: str = ""    # anchor text or alt/title, trimmed to 120 characters
    attr: str = ""      # the attribute when it is not the tag's usual one (srcset, style, background...)
    # The URL as the page wrote it (resolved, as requested: query order, session parameters,
    # escapes, host case and port kept; no fragment) when it differs from ``url``: what
    # findings show; ``url`` is only the identity (fetch once, fingerprints).
    written: str = ""


@dataclass(slots=True)
class ListItem:
    """An entry of a list (column) page: title, link and the date shown beside it."""

    title: str
    url: str
    date: str | None = None     # ISO date when one was found on the list
    date_source: str = ""       # where the date came from: list | url | url_month ("" when none)


@dataclass(slots=True)
class PageSnapshot:
    """What the checks need to know about one crawled HTML page."""

    url: str                    # the URL as crawled (normalised)
    final_url: str              # after redirects
    status: int
    depth: int                  # clicks from the start page (homepage = 0)
    title: str = ""
    text: str = ""              # main text, whitespace folded
    links: list[LinkRef] = field(default_factory=list)
    rendered: bool = False      # rendered with a browser
    encoding: str = ""
    content_type: str = ""
    referer: str | None = None
    published: str | None = None        # ISO date from meta PubDate / 发布时间
    breadcrumb: list[str] = field(default_factory=list)
    nav_links: list[LinkRef] = field(default_factory=list)   # links in menus / nav bars
    list_items: list[ListItem] = field(default_factory=list)
    placeholder: bool = False    # shows 暂无信息 / 暂无数据
    blocks: list[str] = field(default_factory=list)        # text of nav/header/footer blocks
    fetched_at: str = ""
    more_links: list[LinkRef] = field(default_factory=list)  # 更多 links; anchor: the block's heading
    pagination: list[str] = field(default_factory=list)      # URLs of list pages 2..n
    needs_render: bool = False   # as served, an empty list container that a script fills
    dir_links: list[LinkRef] = field(default_factory=list)   # directories of columns (link lists)
    headline: str = ""           # the headline readers see (h1, .title, ArticleTitle meta)
    published_from: str = ""     # where ``published`` was read: label | date_element | meta
    errors: list[str] = field(default_factory=list)          # what went wrong handling this page
    fragments: list[list[str]] = field(default_factory=list)  # [target URL, fragment] of #name links
    # The names a #fragment may point to (id, a name), kept when a link names one of this page's;
    # None: not read, so no #fragment link to this page is judged.
    anchors: list[str] | None = None
    # The 发展指引 <meta> labels the page carries (SiteIDCode, ColumnName, ArticleTitle ...).
    meta: dict[str, str] = field(default_factory=dict)
    # Absolute URLs inline scripts write with document.write (the 开办者标识 script), not fetched.
    written_links: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value and costs more than parsing.
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["links"] = [[r.url, r.tag, r.anchor, r.attr, r.written] if r.written
                         else [r.url, r.tag, r.anchor, r.attr] if r.attr else [r.url, r.tag, r.anchor]
                         for r in self.links]
        data["nav_links"] = [[r.url, r.tag, r.anchor] for r in self.nav_links]
        data["more_links"] = [[r.url, r.tag, r.anchor] for r in self.more_links]
        data["dir_links"] = [[r.url, r.tag, r.anchor] for r in self.dir_links]
        data["list_items"] = [[i.title, i.url, i.date, i.date_source] for i in self.list_items]
        # Left out when empty (most pages): from_dict gives them their defaults.
        for name in ("errors", "fragments", "meta", "written_links"):
            if not data[name]:
                del data[name]
        if data["anchors"] is None:
            del data["anchors"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PageSnapshot":
        data = dict(data)
        for name in ("links", "nav_links", "more_links", "dir_links"):
            items = data.get(name)
            if items and isinstance(items[0], list):      # the compact form crawls write
                data[name] = list(starmap(LinkRef, items))
            elif items:
                data[name] = [_make(LinkRef, x) for x in items]
        if "list_items" in data:
            data["list_items"] = [_make(ListItem, x) for x in data["list_items"]]
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _make(cls: type, value: Any) -> Any:
    """A LinkRef/ListItem from its compact list form or a mapping."""
    return cls(*value) if isinstance(value, (list, tuple)) else cls(**value)


@dataclass(slots=True)
class LinkResult:
    """The outcome of checking one distinct URL once in a run."""

    url: str
    kind: str = LinkKind.OK.value
    status: int | None = None
    method: str = ""                    # HEAD or GET (the last one used)
    redirects: list[str] = field(default_factory=list)   # chain of URLs after the first
    final_url: str | None = None
    content_type: str = ""
    elapsed_ms: int | None = None
    error: str = ""                     # human-readable reason
    attempts: int = 1
    internal: bool = True               # inside the crawl scope

    @property
    def ok(self) -> bool:
        return self.kind == LinkKind.OK.value

    @property
    def broken(self) -> bool:
        """Known not to work for a visitor (a rate-limited link is not known either way)."""
        return self.kind != LinkKind.OK.value and self.kind not in UNVERIFIED_KINDS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LinkResult":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class SiteCrawl:
    """All that one crawl of one site produced."""

    name: str
    url: str                            # configured start URL
    department: str = ""
    pages: list[PageSnapshot] = field(default_factory=list)
    links: dict[str, LinkResult] = field(default_factory=dict)   # by URL
    homepage_url: str = ""              # final URL of the start page
    errors: list[str] = field(default_factory=list)               # crawl-level problems
    stats: dict[str, Any] = field(default_factory=dict)
    # Stylesheets read for their url()s and @imports: url, final_url, links and, as referer,
    # the page that first used the stylesheet.
    sheets: list[PageSnapshot] = field(default_factory=list)
    # What kept patrol from doing the crawl, each with its message in ``errors``.
    failures: list[CrawlFailure] = field(default_factory=list)

    def pages_by_url(self) -> dict[str, PageSnapshot]:
        return {p.url: p for p in self.pages}

    def fail(self, failure: CrawlFailure, message: str) -> None:
        """Record that the crawl could not be done as asked (and say why in ``errors``)."""
        self.failures.append(CrawlFailure(failure))
        self.errors.append(message)

    @property
    def failed(self) -> bool:
        return bool(self.failures)


@dataclass
class Finding:
    """One problem, in the shape of ``findings.json``."""

    check: str
    severity: str
    site: str
    url: str
    message: str
    page: str | None = None
    department: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    # Detail keys that identify *which* problem this is (not how it looked this time).
    _IDENTITY_KEYS = ("kind", "wrong", "rule", "column", "account", "host")

    def __post_init__(self) -> None:
        try:
            self.check = CheckId(self.check).value
        except ValueError:
            raise ValueError(f"unknown check id {self.check!r} (known: {', '.join(CheckId)})") from None

    @property
    def fingerprint(self) -> str:
        """Stable across runs: the same problem at the same place gets the same value."""
        ident = {k: self.detail.get(k) for k in self._IDENTITY_KEYS if k in self.detail}
        # A broken link is the same problem whatever HTTP code it answers this month.
        if self.check == "broken_link" and "kind" in ident:
            ident["kind"] = kind_family(str(ident["kind"]))
        raw = json.dumps([self.check, self.site, self.key, self.page or "", ident],
                         ensure_ascii=False, sort_keys=True)
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]

    @property
    def key(self) -> str:
        """The target's identity: ``url`` as the page wrote it is shown, and a link written
        another way (host case, default port, parameter order, session id) names the same
        target by its normalised URL, kept in ``detail["identity"]``."""
        return link_key(self.url, self.detail)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check, "severity": self.severity, "site": self.site,
            "department": self.department, "url": self.url, "page": self.page,
            "message": self.message, "detail": self.detail, "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        return cls(check=data["check"], severity=data["severity"], site=data["site"],
                   url=data["url"], message=data.get("message", ""), page=data.get("page"),
                   department=data.get("department", ""), detail=dict(data.get("detail") or {}))


def link_key(url: str, detail: dict[str, Any] | None) -> str:
    """The identity of a finding's target (``Finding.key``) from its url and detail."""
    return (detail or {}).get("identity") or url


def kind_family(kind: str) -> str:
    """http_404 -> http_4xx, http_503 -> http_5xx; other kinds are their own family."""
    if kind.startswith("http_4"):
        return "http_4xx"
    if kind.startswith("http_5"):
        return "http_5xx"
    return kind


@dataclass
class CheckContext:
    """What a site-level check may know besides the crawl: plain data, no config objects."""

    site: str
    department: str = ""
    today: str = ""                                  # ISO date of the check
    thresholds: dict[str, dict[str, Any]] = field(default_factory=dict)
    leaders: list[dict[str, str]] = field(default_factory=list)      # [{name, title}]
    columns: list[dict[str, Any]] = field(default_factory=list)      # per-site column rules
    facts: dict[str, Any] = field(default_factory=dict)              # measured by patrol/ (ipv6, probes)


@dataclass
class CheckOutput:
    """A check's findings and the facts the report shows beside them (columns table, rates...)."""

    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    veto: list[str] = field(default_factory=list)    # single-veto ids this check triggers
