"""``check_site``: proofread every page of a crawl, and compare the site with itself.

Each page's title and main text are checked with the page's publication date; navigation,
header, footer and sidebar blocks repeat on every page, so each distinct block is checked
once per site (on the first page that shows it).  Site consistency then looks for a rare
variant of a three-character sequence that the site otherwise writes the same way many
times (青溪区 once, 清溪区 two hundred times) — names of the site's own places and bodies
that no dictionary knows.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date

from checks.dates import parse_iso as parse_date
from checks.model import CheckContext, CheckOutput, Finding, SiteCrawl
from checks.text.checker import TextChecker
from checks.text.flags import CHECKS, TextFlag, make_flag
from checks.text.lexicon import own_vocabulary

CJK_RUN = re.compile(r"[\u4e00-\u9fff]{3,}")


def check_site(crawl: SiteCrawl, ctx: CheckContext, checker: TextChecker | None = None) -> CheckOutput:
    checker = checker or TextChecker(ctx.leaders)
    today = parse_date(ctx.today) or date.today()
    # (text, page url, field, publication date): each distinct block once.
    units: list[tuple[str, str, str, date]] = []
    seen_blocks: set[str] = set()
    for page in crawl.pages:
        published = parse_date(page.published) or today
        if page.title:
            units.append((page.title, page.url, "title", published))
        if page.text:
            units.append((page.text, page.url, "text", published))
        for block in page.blocks:
            key = " ".join(block.split())
            if key and key not in seen_blocks:
                seen_blocks.add(key)
                units.append((block, page.url, "block", today))

    found: list[tuple[TextFlag, str, str]] = []
    # All at once: the trigram scan then looks at the site's texts together (check_many).
    flags_of = checker.check_many([u[0] for u in units], [u[3] for u in units])
    for (_, url, field, _), flags in zip(units, flags_of):
        found += [(flag, url, field) for flag in flags]
    found = _drop_site_vocabulary(found, units, checker)
    taken: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for flag, url, field in found:
        taken.setdefault((url, field), []).append((flag.start, flag.end))
    found += _consistency(units, checker, taken)

    out = CheckOutput()
    counts = Counter()
    suspected = 0
    for flag, url, field in found:
        out.findings.append(to_finding(flag, url, field, ctx))
        if flag.suspected:
            suspected += 1
        else:
            counts[flag.check] += 1
    veto_count = (ctx.thresholds.get("serious_error") or {}).get("veto_count", 1)
    if counts["serious_error"] >= veto_count:
        out.veto.append("serious_error")
    out.facts = {
        "text_counts": {check: counts[check] for check in CHECKS},
        "text_suspected": suspected,
        "text_pages": len(crawl.pages),
        "text_blocks": len(seen_blocks),
        "text_chars": sum(len(u[0]) for u in units),
    }
    return out


def to_finding(flag: TextFlag, url: str, field: str, ctx: CheckContext) -> Finding:
    return Finding(
        check=flag.check, severity=flag.severity, site=ctx.site, url=url, page=url,
        department=ctx.department, message=flag.message,
        detail={"wrong": flag.wrong, "suggestion": flag.suggestion, "context": flag.context,
                "rule": flag.rule, "confidence": flag.confidence, "suspected": flag.suspected,
                "start": flag.start, "end": flag.end, "field": field, "category": flag.category},
    )


def _drop_site_vocabulary(found: list[tuple[TextFlag, str, str]], units: list[tuple[str, str, str, date]],
                          checker: TextChecker) -> list[tuple[TextFlag, str, str]]:
    """Statistical flags on words that the site writes the same way in many different places.

    A word no dictionary knows but that the site uses again and again — its own places,
    bodies and people (柳溪镇 in a dozen articles) — is the site's vocabulary, not a slip.
    Occurrences count only when their surroundings differ: an article title repeated on
    list pages and the homepage is one use, not five.
    """
    min_contexts = checker.settings.get("site_vocabulary", {}).get("min_contexts", 3)
    words = {flag.wrong for flag, _, _ in found if flag.rule.startswith("statistical:")}
    if not words:
        return found
    common = own_vocabulary(words, (unit[0] for unit in units), min_contexts)
    return [(flag, url, field) for flag, url, field in found
            if not (flag.rule.startswith("statistical:") and flag.wrong in common)]


def _consistency(units: list[tuple[str, str, str, date]], checker: TextChecker,
                 taken: dict[tuple[str, str], list[tuple[int, int]]]) -> list[tuple[TextFlag, str, str]]:
    settings = checker.settings["consistency"]
    min_count, min_ratio, max_rare = settings["min_count"], settings["min_ratio"], settings["max_rare"]
    max_word_logp = settings["max_word_logp"]
    counts: Counter[str] = Counter()
    for text, *_ in units:
        for run in CJK_RUN.findall(text):
            counts.update(run[i:i + 3] for i in range(len(run) - 2))
    # Masked index of the site's usual forms: 清?区 -> {溪: 200}.
    usual: dict[str, dict[str, int]] = {}
    for gram, count in counts.items():
        if count >= min_count:
            for k in range(3):
                usual.setdefault(gram[:k] + "?" + gram[k + 1:], {})[gram[k]] = count
    if not usual:
        return []
    model = checker.model
    variants: dict[str, tuple[int, str, int]] = {}      # rare gram -> (index, char, usual count)
    for gram, count in counts.items():
        if count > max_rare:
            continue
        for k in range(3):
            options = usual.get(gram[:k] + "?" + gram[k + 1:])
            if not options:
                continue
            confusion = model.confusion(gram[k])
            for char, usual_count in options.items():
                if (char in confusion and usual_count >= min_ratio * count
                        and (gram not in variants or usual_count > variants[gram][2])):
                    variants[gram] = (k, char, usual_count)
    if not variants:
        return []
    found: list[tuple[TextFlag, str, str]] = []
    for text, url, field, _ in units:
        protected: list[tuple[int, int]] | None = None
        for run_match in CJK_RUN.finditer(text):
            run = run_match.group()
            for i in range(len(run) - 2):
                hit = variants.get(run[i:i + 3])
                if hit is None:
                    continue
                k, char, usual_count = hit
                if _word_logp(model, run, i + k) > max_word_logp:
                    continue        # the variant is a common word here (公式 beside 公示)
                start = run_match.start() + i
                if checker.official.covers(text, start + k, start + k + 1):
                    continue        # official text writes it so
                if protected is None:
                    protected = (checker.protected_spans(text, ("measure",)) + checker.official.name_spans(text)
                                 + checker.officeholders.name_spans(text))
                if any(s <= start + k < e for s, e in protected):
                    continue        # a name or a measure word (4个街道 is not 各街道)
                spans = taken.setdefault((url, field), [])
                if any(s < start + 3 and start < e for s, e in spans):
                    continue
                spans.append((start, start + 3))
                gram = run[i:i + 3]
                ratio = usual_count / max(1, counts[gram])
                confidence = min(0.95, 0.5 + 0.07 * math.log2(ratio))
                flag = make_flag("typo", text, start, start + 3, gram[:k] + char + gram[k + 1:],
                                 f"consistency:本站写作“{gram[:k] + char + gram[k + 1:]}”{usual_count}次",
                                 confidence)
                found.append((flag, url, field))
    return found


def _word_logp(model, run: str, i: int) -> float:
    """Log-probability of the commonest dictionary word (two characters or more) covering ``i``."""
    best = -1e18
    for length in (2, 3, 4):
        for start in range(max(0, i - length + 1), min(i, len(run) - length) + 1):
            lp = model.logp.get(run[start:start + length])
            if lp is not None and lp > best:
                best = lp
    return best
