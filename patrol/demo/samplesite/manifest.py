"""The manifest: what the sample site contains, so tests can compare exact sets.

URLs carry placeholders until ``resolve`` fills them in for running servers:
``{base}`` the main server's root URL (ends in "/"), ``{ext}`` the external server's root URL,
``{port}`` the main server's port.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class Manifest:
    profile: str
    today: str
    site_name: str
    # Every (page, url) pair a crawler must report: {"url", "page", "kind"}; kind is a
    # checks.model.LinkKind value, HTTP errors as "http_<code>".
    broken: list[dict[str, str]] = field(default_factory=list)
    # The same on the sub-sites' pages (/nav/, /stale/), which a crawl of the main site does not
    # reach: {"url", "page", "kind"}.
    subsite_broken: list[dict[str, str]] = field(default_factory=list)
    # Tricky links that must NOT be reported: {"url", "page", "why"}.
    not_broken: list[dict[str, str]] = field(default_factory=list)
    # {"site", "url", "name", "category", "newest", "verdict", "date_source", ...}
    columns: list[dict[str, Any]] = field(default_factory=list)
    # Parent pages of the main site (新闻中心, 政务公开 ...): {"url", "name", "columns": [urls]}.
    # They show the newest items of their sub-columns; they are not columns themselves.
    sections: list[dict[str, Any]] = field(default_factory=list)
    # {"id", "name", "url", "homepage", "homepage_newest", "homepage_verdict", ...}
    sites: list[dict[str, Any]] = field(default_factory=list)
    # Planted wording problems: {"kind", "wrong", "suggestion", "page", "expect_finding", ...}
    text: list[dict[str, Any]] = field(default_factory=list)
    # Links only a browser sees (filled in by a script): {"url", "page"}
    js_only_links: list[dict[str, str]] = field(default_factory=list)
    # Static HTML pages of the main site reachable by following links
    pages: list[str] = field(default_factory=list)
    # Pages whose URLs vary or never end (session ids, the calendar); "*" is any value
    trap_pages: list[str] = field(default_factory=list)
    # HTML pages answered by routes rather than files (200 after a detour)
    route_pages: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    # Pages whose <title> text contains markup ("<script>alert(1)</script>"): {"page", "title"}
    markup_titles: list[dict[str, str]] = field(default_factory=list)
    leaders: list[dict[str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # interaction_poor per site: {"site", "board", "submit", "channel", "veto", "messages":
    # [{"key", "url", "title", "asked", "replied", "verdict"}]} (patrol/demo/samplesite/board.py)
    interaction: list[dict[str, Any]] = field(default_factory=list)
    # contact_phone on the planted pages: {"number", "kind", "pages"}; and text near them that
    # must never be read as a telephone number
    phones: list[dict[str, Any]] = field(default_factory=list)
    not_phones: list[str] = field(default_factory=list)
    # 政务公开 plants (patrol/demo/samplesite/opengov.py): identity per site, labels per page,
    # annual reports, policy documents and their interpretation.
    opengov: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read ``manifest.json`` (or the manifest of a build root)."""
        path = Path(path)
        if path.is_dir():
            path = path / "manifest.json"
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def resolve(self, base: str, ext: str = "", port: int | None = None) -> Manifest:
        """A copy with the placeholders replaced by real URLs."""
        if not base.endswith("/"):
            base += "/"
        if ext and not ext.endswith("/"):
            ext += "/"
        if port is None:
            from urllib.parse import urlsplit
            port = urlsplit(base).port
        subs = {"{base}": base, "{ext}": ext, "{port}": str(port)}

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                for key, real in subs.items():
                    if key in value:
                        value = value.replace(key, real)
                return value
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            return value

        return Manifest.from_dict(walk(self.to_dict()))

    # ------------------------------------------------------------------ conveniences for tests
    def broken_pairs(self) -> set[tuple[str, str, str]]:
        """{(page, url, kind)} — what a crawler's broken-link findings must equal."""
        return {(b["page"], b["url"], b["kind"]) for b in self.broken}

    def broken_urls(self) -> dict[str, str]:
        """{url: kind} of every distinct broken target."""
        return {b["url"]: b["kind"] for b in self.broken}

    def column(self, name: str, site: str = "main") -> dict[str, Any]:
        return next(c for c in self.columns if c["name"] == name and c["site"] == site)

    def site(self, site_id: str) -> dict[str, Any]:
        return next(s for s in self.sites if s["id"] == site_id)
