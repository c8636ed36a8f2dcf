"""Government new-media accounts (政务新媒体): judging an account from its posts.

Pure functions: the posts arrive as ``Post`` objects (loaded by ``patrol.newmedia`` from a
feed, a rendered page or an export), and this module turns them into findings and the facts
the report shows (posts per month, latest post, reposts of authoritative sources this year).
The rules' data (authoritative sources, placeholder phrases) lives in patroldata/newmedia.yaml.
"""
from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import yaml

from checks.dates import parse_when
from checks.model import CheckContext, CheckOutput, Finding, LinkResult, Severity
from patroldata import data_path

RULES_PATH = data_path("newmedia.yaml")

try:
    from zoneinfo import ZoneInfo

    CHINA_TZ: tzinfo = ZoneInfo("Asia/Shanghai")
except Exception:  # noqa: BLE001  # pragma: no cover - no tz database: China has kept UTC+8 without DST since 1991
    CHINA_TZ = timezone(timedelta(hours=8), "CST")

ORIGINS = ("feed", "page", "export")
STATUSES = ("ok", "empty", "unreachable", "invalid")


@dataclass
class Post:
    """One post of an account, whatever it was loaded from."""

    title: str
    date: datetime | date | None = None     # aware datetime (or a date); None when unparseable
    url: str = ""
    text: str = ""
    source: str = ""                        # 转载来源 as the platform states it, e.g. 新华社
    origin: str = "feed"                    # feed | page | export
    links: list[str] = field(default_factory=list)   # links inside the post body
    raw_date: str = ""                      # the date as written, for error messages

    def day(self, tz: tzinfo = CHINA_TZ) -> date | None:
        """The calendar day of the post in China (a post at 23:30 in New York is the next day)."""
        return post_day(self.date, tz)

    def key(self) -> str:
        """Identity across loads: the URL, or title and day when the post has no URL."""
        day = self.day()
        return self.url or f"{self.title.strip()}|{day.isoformat() if day else ''}"


class TextChecker(Protocol):
    def check(self, text: str, published: Any) -> list[Any]: ...


# --- rules ---------------------------------------------------------------------------------

@dataclass
class Source:
    name: str
    aliases: list[str] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)


@dataclass
class NewMediaRules:
    authoritative: list[Source] = field(default_factory=list)
    source_patterns: list[re.Pattern[str]] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    export_columns: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NewMediaRules:
        sources = [Source(name=str(s["name"]),
                          aliases=[str(a) for a in (s.get("aliases") or [])] or [str(s["name"])],
                          domains=[str(d).lower() for d in (s.get("domains") or [])])
                   for s in (data.get("authoritative") or [])]
        patterns = [re.compile(p, re.MULTILINE) for p in (data.get("source_patterns") or [])]
        # Longest first, so "测试内容" is removed before "测试" leaves "内容" behind.
        placeholders = sorted((str(p).lower() for p in (data.get("placeholders") or [])),
                              key=len, reverse=True)
        columns = {str(k): [str(v).lower() for v in vals]
                   for k, vals in (data.get("export_columns") or {}).items()}
        return cls(sources, patterns, placeholders, columns)


@lru_cache(maxsize=8)
def load_rules(path: str | None = None) -> NewMediaRules:
    """The rules of patroldata/newmedia.yaml (or of the file at ``path``)."""
    data = yaml.safe_load(Path(path or RULES_PATH).read_text(encoding="utf-8")) or {}
    return NewMediaRules.from_dict(data)


# --- dates ---------------------------------------------------------------------------------

def post_day(value: datetime | date | None, tz: tzinfo = CHINA_TZ) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if value.tzinfo else value.date()
    return value


def parse_post_date(raw: Any, *, now: datetime | None = None, tz: tzinfo = CHINA_TZ) -> datetime | date | None:
    """Turn a post's date as platforms write it into an aware datetime (or a date).

    Accepts ISO 8601 and RFC 822 with or without a zone (a missing zone means ``tz``, the
    account's own, China by default), Chinese dates ("2026年11月8日 23:30"), dates without a
    year ("11-08", taken as the latest such day not after ``now``), the relative dates that
    Weibo and Douyin pages show ("3天前", "昨天 12:00", "刚刚"), Unix timestamps and the
    datetime/date objects a spreadsheet gives.  Returns None when nothing fits.
    """
    if now is None:
        now = datetime.now(tz)
    elif now.tzinfo is None:
        now = now.replace(tzinfo=tz)
    else:
        now = now.astimezone(tz)
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=tz)
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _from_timestamp(float(raw), tz)
    text = str(raw).strip()
    if not text:
        return None
    if re.fullmatch(r"\d{10}(\d{3})?(\.\d+)?", text):
        return _from_timestamp(float(text), tz)
    iso = _parse_iso(text, tz)                 # machine formats first: ISO 8601, RFC 822
    if iso is not None:
        return iso
    try:
        from email.utils import parsedate_to_datetime
        value = parsedate_to_datetime(text)
        if value is not None:
            return value if value.tzinfo else value.replace(tzinfo=tz)
    except (TypeError, ValueError, IndexError):
        pass
    # Dates as people write them (2026年11月8日 09:15, [11-08], 3天前, 昨天 12:00): the one
    # parser of checks.dates, in the account's zone.
    return parse_when(text, now=now)


def _parse_iso(text: str, tz: tzinfo) -> datetime | date | None:
    candidate = text.replace("Z", "+00:00") if text.endswith("Z") else text
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", candidate):
        try:
            return date.fromisoformat(candidate)
        except ValueError:
            return None
    if not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", candidate):
        return None
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _from_timestamp(value: float, tz: tzinfo) -> datetime | None:
    if value > 1e12:            # milliseconds, as JavaScript and many exports write them
        value /= 1000
    try:
        return datetime.fromtimestamp(value, tz)
    except (OverflowError, OSError, ValueError):
        return None


# --- reposts and placeholders --------------------------------------------------------------

def repost_source(post: Post, rules: NewMediaRules) -> str | None:
    """The authoritative source a post reposts, or None: by its source field, by a byline in
    its text, or by a link to the source's own website."""
    candidates: list[str] = []
    if post.source:
        candidates.append(post.source)
    for text in (post.text, post.title):
        for pattern in rules.source_patterns:
            candidates.extend(m.group("source") for m in pattern.finditer(text or ""))
    for candidate in candidates:
        folded = candidate.lower()
        for src in rules.authoritative:
            if any(alias.lower() in folded for alias in src.aliases):
                return src.name
    for link in [post.url, *post.links]:
        host = (urlsplit(link).hostname or "").lower() if link else ""
        for src in rules.authoritative:
            if any(host == d or host.endswith("." + d) for d in src.domains):
                return src.name
    return None


_NOISE = re.compile(r"[\s\d\W_]+", re.UNICODE)


def is_placeholder(post: Post, rules: NewMediaRules) -> bool:
    """A post with nothing but placeholder phrases, punctuation and digits (空壳 content)."""
    rest = f"{post.title} {post.text}".lower()
    for phrase in rules.placeholders:
        rest = rest.replace(phrase, " ")
    return len(_NOISE.sub("", rest)) < 2


# --- the check -----------------------------------------------------------------------------

def check_account(account: dict[str, Any], posts: list[Post], ctx: CheckContext, *,
                  year_posts: list[Post] | None = None, text_checker: TextChecker | None = None,
                  link_results: dict[str, LinkResult] | None = None,
                  rules: NewMediaRules | None = None) -> CheckOutput:
    """Judge one account from its posts.

    ``account``: name, platform, department, url (where the posts came from), status
    (ok | empty | unreachable | invalid, as loaded) and errors.  ``year_posts``: every post of
    the year known so far (from earlier runs too), for the running repost total; the current
    ``posts`` are always counted.  ``text_checker.check(text, published)`` proofreads each
    post; ``link_results`` (by URL) says which post links are broken.
    """
    rules = rules or load_rules()
    name = str(account.get("name") or ctx.site)
    department = str(account.get("department") or ctx.department)
    source_url = str(account.get("url") or account.get("source") or "")
    status = str(account.get("status") or ("ok" if posts else "empty"))
    errors = [str(e) for e in (account.get("errors") or [])]
    today = date.fromisoformat(ctx.today) if ctx.today else datetime.now(CHINA_TZ).date()
    out = CheckOutput()

    def finding(check: str, severity: str, message: str, url: str | None = None,
                page: str | None = None, **detail: Any) -> Finding:
        f = Finding(check=check, severity=severity, site=name, url=url or source_url, message=message,
                    page=page if page is not None else source_url, department=department,
                    detail={"account": name, **detail})
        out.findings.append(f)
        return f

    days = [(p, p.day()) for p in posts]
    dated = [(p, d) for p, d in days if d is not None]
    current = [(p, d) for p, d in dated if d <= today]
    future = [p for p, d in dated if d > today]
    undated = [p for p, d in days if d is None]
    latest = max((d for _, d in current), default=None)
    days_since = (today - latest).days if latest else None

    reachable = status in ("ok", "empty")
    if not reachable:
        reason = "; ".join(errors[:3]) or status
        finding("newmedia_unreachable", Severity.ERROR.value,
                f"账号内容无法获取（{_status_text(status)}）：{reason}", kind=status, errors=errors[:10])

    content = [p for p in posts if not is_placeholder(p, rules)]
    if reachable and not content:
        if posts:
            message = f"账号仅有占位内容（{len(posts)} 条，如“{_clip(posts[0].title or posts[0].text, 20)}”），属空壳账号"
        else:
            message = "账号没有任何发布内容，属空壳账号"
        finding("newmedia_empty", Severity.ERROR.value, message, kind="placeholder" if posts else "no_posts",
                posts=len(posts))

    # Staleness: only posts with a real date count (as on websites, an undated item is not an
    # update), and placeholder posts do not keep an account alive.
    stale = ctx.thresholds.get("newmedia_stale", {})
    veto_days = int(stale.get("veto_days", 14))
    warn_days = int(stale.get("warn_days", 10))
    content_days = [d for p, d in current if not is_placeholder(p, rules)]
    latest_content = max(content_days, default=None)
    content_since = (today - latest_content).days if latest_content else None
    if reachable:
        if content_since is None or content_since > veto_days:
            what = (f"最近一条发布于 {latest_content.isoformat()}，已 {content_since} 天未更新"
                    if latest_content else "没有带发布日期的有效内容")
            finding("newmedia_stale", Severity.VETO.value,
                    f"账号超过 {veto_days} 天未更新（{what}），单项否决",
                    kind="veto", latest=latest_content.isoformat() if latest_content else None,
                    days_since=content_since, veto_days=veto_days)
            out.veto.append("newmedia_stale")
        elif content_since > warn_days:
            finding("newmedia_stale", Severity.WARNING.value,
                    f"账号已 {content_since} 天未更新（最近一条发布于 {latest_content.isoformat()}），"
                    f"超过 {veto_days} 天将单项否决",
                    kind="warning", latest=latest_content.isoformat(), days_since=content_since,
                    veto_days=veto_days, warn_days=warn_days)

    # Reposts of authoritative information against the yearly target, at the current pace.
    target = int(ctx.thresholds.get("newmedia_reposts", {}).get("yearly_target", 50))
    known = {p.key(): p for p in (year_posts or [])}
    known.update({p.key(): p for p in posts})
    year_reposts: dict[str, int] = {}
    year_total = 0
    for p in known.values():
        d = p.day()
        src = repost_source(p, rules)
        if src and d is not None and d.year == today.year and d <= today:
            year_total += 1
            year_reposts[src] = year_reposts.get(src, 0) + 1
    total_reposts = sum(1 for p in posts if repost_source(p, rules))
    days_in_year = 366 if calendar.isleap(today.year) else 365
    elapsed = today.timetuple().tm_yday
    expected = target * elapsed / days_in_year
    projected = year_total * days_in_year / elapsed
    on_track = year_total >= target or projected >= target
    if reachable and not on_track:
        finding("newmedia_reposts", Severity.WARNING.value,
                f"今年转发权威信息 {year_total} 条，按时间进度应达 {expected:.0f} 条；"
                f"按当前速度全年约 {projected:.0f} 条，达不到全年 {target} 条的要求",
                kind="behind", year=today.year, reposts=year_total, target=target,
                expected_by_now=round(expected, 1), projected=round(projected, 1))

    # Wording: each post's title and text through the shared text checks (checks.text).
    serious = 0
    if text_checker is not None:
        parts = [(p, part, text, p.day() or today) for p in posts
                 for part, text in (("title", p.title), ("text", p.text)) if text]
        # The account's posts together (one scan of them all: TextChecker.check_many); should
        # that fail, each alone, so that the failure is told of the post that caused it.
        together = None
        many = getattr(text_checker, "check_many", None)
        if many is not None and parts:
            try:
                together = many([text for _, _, text, _ in parts], [day for _, _, _, day in parts])
            except Exception:  # noqa: BLE001 - checked one by one below, each failure named
                together = None
        for n, (p, part, text, published) in enumerate(parts):
            if together is not None:
                flags = together[n]
            else:
                try:
                    flags = text_checker.check(text, published)
                except Exception as exc:  # noqa: BLE001 - a checker bug must not lose the account's other findings
                    errors.append(f"text check failed on {p.url or p.title!r}: {exc}")
                    continue
            for flag in flags or []:
                data = _flag_dict(flag)
                check = str(data.get("check") or "typo")
                severity = str(data.get("severity") or
                               (Severity.VETO.value if check == "serious_error" else Severity.ERROR.value))
                if check == "serious_error" and not data.get("suspected"):
                    serious += 1
                wrong = str(data.get("wrong") or "")
                suggestion = str(data.get("suggestion") or "")
                message = str(getattr(flag, "message", None) or data.get("message") or "") or (
                    f"“{wrong}”疑似有误" + (f"，应为“{suggestion}”" if suggestion else ""))
                detail = {k: v for k, v in data.items()
                          if k not in ("check", "severity", "message", "url", "page", "account", "field")}
                where = p.url or source_url
                finding(check, severity, f"{_clip(p.title, 30)}：{message}", url=where, page=where,
                        field=part, post=p.title, **detail)
    veto_serious = int(ctx.thresholds.get("serious_error", {}).get("veto_count", 1))
    if serious and serious >= veto_serious:
        out.veto.append("serious_error")

    # Broken links: the post itself (seen from the account's listing) and links in its body.
    broken = 0
    if link_results:
        for p in posts:
            for link in dict.fromkeys([p.url, *p.links]):
                result = link_results.get(link) if link else None
                if result is None or not result.broken:
                    continue
                broken += 1
                where = source_url if link == p.url else p.url
                finding("broken_link", Severity.ERROR.value,
                        f"{'文章' if link == p.url else '文章内链接'}无法访问（{_link_reason(result)}）",
                        url=link, page=where or source_url, kind=result.kind, status=result.status,
                        post=p.title)

    out.facts = {
        "platform": account.get("platform", ""),
        "status": status,
        "errors": errors,
        "posts": len(posts),
        "content_posts": len(content),
        "undated_posts": len(undated),
        "future_posts": len(future),
        "posts_per_month": posts_per_month(posts, today),
        "latest_post": latest.isoformat() if latest else None,
        "days_since": days_since,
        "reposts_year": year_total,
        "reposts_by_source": dict(sorted(year_reposts.items(), key=lambda kv: -kv[1])),
        "reposts_total": total_reposts,
        "reposts_target": target,
        "reposts_expected_by_now": round(expected, 1),
        "reposts_projected": round(projected, 1),
        "reposts_on_track": on_track,
        "broken_links": broken,
    }
    return out


def posts_per_month(posts: Iterable[Post], today: date, months: int = 12) -> dict[str, int]:
    """Posts per calendar month (China time), from the earliest post's month (at most
    ``months`` back) to ``today``'s month, with empty months as 0."""
    counts: dict[str, int] = {}
    days = [d for d in (p.day() for p in posts) if d is not None and d <= today]
    if not days:
        return counts
    first = max(min(days).replace(day=1), _add_months(today.replace(day=1), -(months - 1)))
    month = first
    while month <= today:
        counts[month.strftime("%Y-%m")] = 0
        month = _add_months(month, 1)
    for d in days:
        key = d.strftime("%Y-%m")
        if key in counts:
            counts[key] += 1
    return counts


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _flag_dict(flag: Any) -> dict[str, Any]:
    if isinstance(flag, dict):
        return dict(flag)
    if hasattr(flag, "to_dict"):
        return dict(flag.to_dict())
    if hasattr(flag, "__dataclass_fields__"):
        return {k: getattr(flag, k) for k in flag.__dataclass_fields__}
    if hasattr(flag, "__dict__"):
        return dict(vars(flag))
    return {"wrong": str(flag)}


def _link_reason(result: LinkResult) -> str:
    if result.status:
        return f"HTTP {result.status}"
    return result.error or result.kind


def _status_text(status: str) -> str:
    return {"unreachable": "来源无法访问", "invalid": "内容无法解析"}.get(status, status)


def _clip(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"
