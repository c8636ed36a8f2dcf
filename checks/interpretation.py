"""Policy interpretation (``policy_interpretation``): every document of a policy-document column
(政策文件, 规范性文件 …) should come with its interpretation (相关解读, 政策解读, 图解 …), the
解读率 target being 100 %.

A document has an interpretation when its page links to one (a link whose words say 解读 /
图解 …, or a link to a page that is an interpretation), or when an interpretation links to
it (an interpretation is a page listed in a column named 解读 …, or a page whose title says
so).  Links every page shows (menus, the footer, links to columns such as 政策解读 itself) do
not count.  Only documents whose pages were crawled are judged; the column names and the
words are settings (``policy_interpretation`` in patroldata/thresholds.yaml).
"""
from __future__ import annotations

from typing import Any

from checks.columns import Column, column_key
from checks.govsite import is_html_page, page_types, setting, shown_title
from checks.model import CheckContext, CheckOutput, Finding, PageSnapshot, SiteCrawl


def _words(ctx: CheckContext, key: str) -> list[str]:
    value = setting(ctx, "policy_interpretation", key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"thresholds: policy_interpretation.{key} must be a list of words, not {value!r}")
    return value


def furniture(crawl: SiteCrawl, columns: list[Column], home: PageSnapshot | None) -> set[str]:
    """Link targets that are the site's furniture, not a page's content: every column, the
    homepage, and what more than half of the crawled pages link to (menus, footer)."""
    keys = {column_key(c.url) for c in columns}
    if home is not None:
        keys.add(column_key(home.url))
    pages = [p for p in crawl.pages if is_html_page(p)]
    if len(pages) >= 4:
        counts: dict[str, int] = {}
        for p in pages:
            for key in {column_key(r.url) for r in p.links if r.tag == "a"}:
                counts[key] = counts.get(key, 0) + 1
        keys |= {k for k, n in counts.items() if n * 2 > len(pages)}
    return keys


def check_site(crawl: SiteCrawl, ctx: CheckContext) -> CheckOutput:
    out = CheckOutput()
    doc_words = _words(ctx, "document_columns")
    interp_words = _words(ctx, "interpretation_words")
    target = float(setting(ctx, "policy_interpretation", "target_rate") or 1.0)

    def says_interpretation(text: str) -> bool:
        return any(w in text for w in interp_words)

    types = page_types(crawl, ctx)
    index = types.index
    doc_columns = [c for c in types.columns if any(w in c.name for w in doc_words)
                   and not says_interpretation(c.name)]
    interp_columns = [c for c in types.columns if says_interpretation(c.name)]
    chrome = furniture(crawl, types.columns, types.home)

    columns_keys = {column_key(c.url) for c in types.columns}

    def listed(columns: list[Column]) -> list[tuple[PageSnapshot, Column]]:
        found: dict[str, tuple[PageSnapshot, Column]] = {}
        for col in columns:
            for list_url in col.pages:
                listing = index.get(column_key(list_url))
                for item in listing.list_items if listing is not None else []:
                    page = index.get(column_key(item.url))
                    key = column_key(item.url)
                    if page is not None and is_html_page(page) and key not in columns_keys:
                        found.setdefault(key, (page, col))
        return list(found.values())

    interpretations: dict[str, PageSnapshot] = {column_key(p.url): p for p, _ in listed(interp_columns)}
    for p in crawl.pages:
        if is_html_page(p) and column_key(p.url) not in chrome and says_interpretation(shown_title(p)):
            interpretations.setdefault(column_key(p.url), p)
    linked_from: dict[str, str] = {}
    for key, p in interpretations.items():
        for ref in p.links:
            target_key = column_key(ref.url)
            if ref.tag == "a" and target_key != key and target_key not in chrome:
                linked_from.setdefault(target_key, p.url)

    documents = [(p, col) for p, col in listed(doc_columns) if not says_interpretation(shown_title(p))]
    rows: list[dict[str, Any]] = []
    for page, col in documents:
        key = column_key(page.url)
        via, other = "", ""
        for ref in page.links:
            target_key = column_key(ref.url)
            if ref.tag != "a" or target_key == key or target_key in chrome:
                continue
            if says_interpretation(ref.anchor) or target_key in interpretations:
                via, other = "link", ref.url
                break
        if not via and key in linked_from:
            via, other = "linked_from", linked_from[key]
        title = shown_title(page)
        rows.append({"url": page.url, "title": title[:200], "column": col.name, "interpreted": bool(via),
                     "via": via, "interpretation": other})
        if not via:
            out.findings.append(Finding(
                check="policy_interpretation", severity="warning", site=crawl.name,
                department=ctx.department or crawl.department, url=page.url, page=page.url,
                message=f"政策文件未关联解读材料：{title[:80]}",
                detail={"kind": "no_interpretation", "column": col.name, "title": title[:200]}))
    done = sum(1 for r in rows if r["interpreted"])
    rate = round(done / len(rows), 4) if rows else None
    out.facts = {"columns": [c.name for c in doc_columns], "interpretation_columns": [c.name for c in interp_columns],
                 "documents": len(rows), "interpreted": done, "rate": rate, "target": target,
                 "meets_target": None if rate is None else rate >= target, "rows": rows}
    return out
