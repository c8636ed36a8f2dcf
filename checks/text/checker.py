"""``TextChecker``: every text rule in one object, loaded once per process."""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from checks.text.context import KINDS, ContextRules
from checks.text.flags import TextFlag, context_of, make_flag, to_suspected
from checks.text.laws import LawTitles
from checks.text.leaders import LeaderChecker
from checks.text.lexicon import OfficialLexicon
from checks.text.names import NameMatcher, cached_matcher
from checks.text.officeholders import OfficeholderChecker
from checks.text.privacy import find_personal_data, mask_spans
from checks.text.rules import DataFileError, RuleMatcher, load_rules, load_yaml
from checks.text.spans import keep_disjoint, outside
from checks.text.statistical import Candidate, Prepared, StatModel, load_model, need_for
from checks.text.trigrams import Scan, Scanned, Trigrams, trigrams_for
from patroldata import data_path

DEFAULT_DATA_DIR = data_path("text")
SCAN_CHARS = 1_000_000          # characters check_many scans at once (its arrays: ~20 bytes each)


@lru_cache(maxsize=8)
def _rules(data_dir: Path, stamp: tuple) -> RuleMatcher:
    return RuleMatcher(load_rules(data_dir))


@lru_cache(maxsize=8)
def _context(data_dir: Path, stamp: tuple) -> ContextRules:
    return ContextRules.load(data_dir / "context.yaml")


@lru_cache(maxsize=8)
def _settings(data_dir: Path, stamp: tuple) -> dict[str, Any]:
    return load_yaml((data_dir / "statistical.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def _official(data_dir: Path, stamp: tuple) -> OfficialLexicon:
    return OfficialLexicon.load(data_dir)


@lru_cache(maxsize=4)
def _names(data_dir: Path, stamp: tuple, model: StatModel) -> NameMatcher:
    return cached_matcher(data_dir, model)


@lru_cache(maxsize=4)
def _expressions(data_dir: Path, stamp: tuple, model: StatModel) -> NameMatcher:
    return cached_matcher(data_dir, model, "expressions.txt", inside_words=False)


@lru_cache(maxsize=8)
def _laws(data_dir: Path, stamp: tuple) -> LawTitles:
    return LawTitles.load(data_dir)


class ScanSettings(NamedTuple):
    """statistical.yaml ``trigram_scan``: the gain (in natural log, by the word model) that a
    correction of the trigram scan needs, by how much the trigrams across it say."""

    min_gain: float                       # three trigrams, none written as it stands
    min_gain_one_window: float | None     # the only trigram across it (a line's edge, a comma)
    min_gain_one_written: float | None    # three, official text writes one as it stands
    min_gain_two_windows: float | None    # two (the second character of a line, a comma two away)

    def need(self, found: Scanned) -> float | None:
        """The gain ``found`` needs to be listed, or None: never."""
        if found.written:
            return self.min_gain_one_written if found.windows == 3 else None
        if found.windows == 1:
            return self.min_gain_one_window
        return self.min_gain_two_windows if found.windows == 2 else self.min_gain


def _scan_settings(settings: dict[str, Any], data_dir: Path, have_file: bool) -> ScanSettings | None:
    """statistical.yaml ``trigram_scan``, or None when it is off (no such section, ``null``,
    or no trigrams.bin beside it)."""
    if "trigram_evidence" in settings:
        raise DataFileError(f"{data_dir / 'statistical.yaml'}: trigram_evidence is no longer read: "
                            "trigram_scan (min_gain and the like) "
                            "looks at every character instead")
    section = settings.get("trigram_scan")
    if section is None:
        return None
    where = f"{data_dir / 'statistical.yaml'}: trigram_scan"
    if not isinstance(section, dict):
        raise DataFileError(f"{where}: expected {', '.join(f'{k}:' for k in ScanSettings._fields)}, "
                            f"not {section!r}")
    unknown = sorted(set(section) - set(ScanSettings._fields))
    if unknown:
        raise DataFileError(f"{where}: unknown setting {unknown[0]!r} "
                            f"(known: {', '.join(ScanSettings._fields)})")
    gains = []
    for key in ScanSettings._fields:
        gain = section.get(key)
        if gain is not None and (isinstance(gain, bool) or not isinstance(gain, (int, float))
                                 or not -math.inf < gain < math.inf):
            raise DataFileError(f"{where}.{key}: {gain!r} is not a number")
        gains.append(None if gain is None else float(gain))
    if gains[0] is None:
        raise DataFileError(f"{where}.min_gain: a number is needed (trigram_scan: null turns the scan off)")
    return ScanSettings(*gains) if have_file else None


@lru_cache(maxsize=8)
def _officeholders(data_dir: Path, stamp: tuple) -> OfficeholderChecker:
    return OfficeholderChecker(data_dir)


def _changed(cand: Candidate) -> tuple[int, int]:
    """The span of the characters a candidate changes."""
    changed = [k for k, (a, b) in enumerate(zip(cand.wrong, cand.suggestion)) if a != b] or [0]
    return cand.start + changed[0], cand.start + changed[-1] + 1


def _day(published: date | None) -> date:
    """A publication date (a datetime's day; today when None)."""
    if published is None:
        return date.today()
    if not isinstance(published, date):
        raise TypeError(f"TextChecker.check: published must be a date, not {type(published).__name__}")
    return published.date() if isinstance(published, datetime) else published


def _stamp(data_dir: Path) -> tuple:
    """Changes when a data file changes, so an edited file is picked up by a new checker."""
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(data_dir.iterdir())
                 if p.is_file())


class TextChecker:
    """Proofreads plain text: data-file rules, leaders, personal data and statistical typos.

    The rule automaton is built on construction (milliseconds); the statistical model is
    loaded on the first ``check`` and shared by every checker of the process.
    """

    def __init__(self, leaders: list[dict] = (), data_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir) if data_dir else DEFAULT_DATA_DIR
        stamp = _stamp(self.data_dir)
        self.rules = _rules(self.data_dir, stamp)
        self.settings = _settings(self.data_dir, stamp)
        self.context = _context(self.data_dir, stamp)
        self.leaders = LeaderChecker(list(leaders or ()), self.data_dir)
        self.official = _official(self.data_dir, stamp)
        self.officeholders = _officeholders(self.data_dir, stamp)
        self.laws = _laws(self.data_dir, stamp)
        self.trigrams: Trigrams = trigrams_for(self.data_dir)
        self._scan = _scan_settings(self.settings, self.data_dir, bool(self.trigrams))
        if self._scan is not None:
            _ = self.trigrams.keys      # read now (mapped from patrol's cache: ms): a damaged
            #                             file is a clear error here, not inside a crawl's checks
        self._scanner: Scan | None = None
        self._stamp = stamp
        self._model: StatModel | None = None
        self._names: NameMatcher | None = None
        self._expressions: NameMatcher | None = None
        self._guarded = self._guarded_spans         # bound once: passed on every check
        self._needs: dict[float, float] = {}        # need_for(cost, floor) by floor

    @property
    def model(self) -> StatModel:
        if self._model is None:
            self._model = load_model(self.data_dir)
        return self._model

    @property
    def names(self) -> NameMatcher:
        """Near misses of the standard names (built with the model's confusion sets)."""
        if self._names is None:
            self._names = _names(self.data_dir, self._stamp, self.model)
        return self._names

    @property
    def expressions(self) -> NameMatcher:
        """Near misses of the fixed political expressions (expressions.txt)."""
        if self._expressions is None:
            self._expressions = _expressions(self.data_dir, self._stamp, self.model)
        return self._expressions

    def check(self, text: str, published: date | None = None) -> list[TextFlag]:
        """All flags for ``text`` (published on ``published``, default today), by position."""
        return self.check_many([text], published)[0]

    def check_many(self, texts: Sequence[str], published: date | Sequence[date] | None = None
                   ) -> list[list[TextFlag]]:
        """``check`` of each text (the lines of a document, the titles and blocks of a site),
        published on ``published`` (one date for all, or one per text): the trigram scan looks
        at them together, up to SCAN_CHARS characters at a time, which costs far less than
        text by text (its numpy work has a fixed cost of about 0.1 ms a call)."""
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"TextChecker.check: text must be str, not {type(text).__name__}")
        if published is None or isinstance(published, date):
            dates = [_day(published)] * len(texts)
        else:
            dates = [_day(d) for d in published]
            if len(dates) != len(texts):
                raise ValueError(f"TextChecker.check_many: {len(texts)} texts, {len(dates)} dates")
        results: list[list[TextFlag]] = []
        start = 0
        while start < len(texts):
            end, size = start + 1, len(texts[start])
            while end < len(texts) and size + len(texts[end]) <= SCAN_CHARS:
                size += len(texts[end])
                end += 1
            group = texts[start:end]
            if self._scan is not None and any(len(t) >= 3 for t in group):
                # The statistical layer leaves alone a character two of whose trigrams official
                # text writes as they stand: on ECSpell's dev half it found no slip there, and
                # it is a sixth of the layer's time on real text.
                scanned, attested = self.scanner.run(group)
            else:
                scanned, attested = [()] * len(group), [b""] * len(group)
            # With the bounds of the characters ``candidates`` examines, found at once.
            floor = self.settings["suspect_score"]
            prepared = self.model.prepare_many(group, self._need(floor), attested)
            prepared = self.model.segmented(group, prepared, self.settings["cost"], floor, scanned,
                                            self.settings["flag_score"])
            ruled = self.rules.match_many(group, dates[start:end])
            # The texts in which office holders, names and expressions can be found: their
            # automata scan all the texts at once (most texts hold none).
            joined = "\n".join(group)
            matched = [self.officeholders.matched(joined, prepared.starts), self.names.matched(joined, prepared.starts),
                       self.expressions.matched(joined, prepared.starts)]
            results += [self._check(text, dates[start + k], scanned[k], attested[k], prepared, k, ruled[k],
                                    tuple(k in found for found in matched))
                        if text else [] for k, text in enumerate(group)]
            start = end
        return results

    @property
    def scanner(self) -> Scan:
        """The trigram scan with the model's confusion sets (statistical.yaml ``trigram_scan``)."""
        if self._scanner is None:
            scan = self._scan
            self._scanner = Scan(self.trigrams, self.model.confusion_pairs,
                                 scan is not None and scan.min_gain_one_window is not None,
                                 scan is not None and scan.min_gain_one_written is not None)
        return self._scanner

    def _check(self, text: str, published: date, scanned: list[Scanned], attested: bytes,
               prepared: Prepared, index: int, flags: list[TextFlag], matched: tuple[bool, bool, bool]
               ) -> list[TextFlag]:
        """``check`` of one of the texts ``check_many`` looks at together: what the trigram
        scan, ``StatModel.prepare_many`` (``text`` is its ``index``-th) and the data-file
        rules (``flags``, RuleMatcher.match_many) found in it, and whether office holders,
        names and expressions can be found in it (``matched``: their ``matched``)."""
        holders, names, expressions = matched
        if flags:
            flags = [f for f in flags if not self._split_by_words(text, f)]
            for f in flags:
                if f.rule.startswith("typos.tsv") and not f.suspected and f.wrong in self.official \
                        and self.rules.is_variant(f.rule):
                    to_suspected(f)         # a variant form official text still writes (成份)
        if holders:
            flags += self.officeholders.check(text, published, self.model.confusion)
        # (Most lines have no flag: no list is built for them.)
        if names:
            flags += self.names.match(text, [(f.start, f.end) for f in flags] if flags else [], self._guarded)
        near = self.expressions.match(text, [(f.start, f.end) for f in flags] if flags else [],
                                      self._named) if expressions else []
        if near:
            flags += [f for f in near if not self.official.covers(text, f.start, f.end)]
        if "《" in text:
            # A title already flagged for a wrong name inside it (《中华人民共合国…条例》) once.
            taken = [(f.start, f.end) for f in flags]
            flags += [f for f in self.laws.check(text, self.model.confusion)
                      if not any(s < f.end and f.start < e for s, e in taken)]
        flags += self.leaders.check(text)
        # An ID number is valid if its holder was born by today, whatever the page's date:
        # a date read wrongly (1900) must not hide one.
        personal = find_personal_data(text)
        flags += personal
        candidates = self._kept(text, self.candidates(text, self.settings["suspect_score"], attested, prepared, index),
                                bool(self.settings.get("suspect_score_by_channel")))
        if scanned:
            candidates += self._kept(text, self._scanned(text, scanned, candidates, prepared.segments), False, True)
        if candidates:
            taken = [(f.start, f.end) for f in flags] + self._guarded(text)
            for cand in outside(candidates, taken):
                flags.append(self.flag_for(text, cand))
        if flags:
            denied = self.official.is_denied
            flags = [f for f in flags if not denied(f.suggestion)]
        if personal:
            # No flag may quote personal data in its context, whatever it is about.
            masked = mask_spans(text, [(f.start, f.end) for f in personal])
            for flag in flags:
                flag.context = context_of(masked, flag.start, flag.end)
        if len(flags) > 1:
            flags.sort(key=lambda f: (f.start, f.end))
        return flags

    def _guarded_spans(self, text: str, kinds: tuple[str, ...] = KINDS) -> list[tuple[int, int]]:
        """Leaders' names, other names, places and measure words: no near miss of a standard
        name there (asked only when there is one)."""
        return (self.leaders.name_spans(text) + self.protected_spans(text, kinds)
                + self.officeholders.name_spans(text) + self.official.name_spans(text))

    def _kept(self, text: str, candidates: list[Candidate], by_surname: bool,
              by_character: bool = False) -> list[Candidate]:
        """The statistical ``candidates`` that the lexicon (an abbreviation's character, a string
        official text writes across the span, or with ``by_character`` across the character
        corrected) and, with ``by_surname``, a surname next to a low one leave."""
        if candidates:
            covers = self.official.covers
            abbreviations = self.official.abbreviations
            candidates = [c for c in candidates
                          if c.char not in abbreviations and not covers(text, c.start, c.end)
                          and not (by_character and covers(text, *_changed(c)))]
        if candidates and by_surname:
            candidates = [c for c in candidates if not self._low_by_surname(text, c)]
        return candidates

    def _scanned(self, text: str, scanned: list[Scanned], found: list[Candidate],
                 segments: dict[str, float] | None = None) -> list[Candidate]:
        """The trigram scan's corrections of ``text`` that the word model does not rule out
        (``ScanSettings.need``), where ``found`` has none (``segments``: ``Prepared``'s)."""
        cost = self.settings["cost"]
        settings = self._scan
        if settings is None:
            return []
        made = []
        for hit in scanned:
            need = settings.need(hit)
            if need is None or any(c.start <= hit.index < c.end for c in found):
                continue                    # (the word model's correction there wins)
            cand = self.model.correction(text, hit.index, hit.replacement, cost, need, segments)
            if cand is not None:
                made.append(cand)
        made.sort(key=lambda c: -c.score)
        return keep_disjoint(made, found)

    def _low_by_surname(self, text: str, cand: Candidate) -> bool:
        """A correction below the suspect score (a channel of its own lowers it) that begins at
        a surname or right after one: on real text such spans were people (王艺迪, 杨家玉)."""
        if cand.score >= self.settings["suspect_score"]:
            return False
        surnames = self.context.surnames
        return text[cand.start] in surnames or (cand.start > 0 and text[cand.start - 1] in surnames)

    def _split_by_words(self, text: str, flag: TextFlag) -> bool:
        """A form matched across two words (定单 in 指定单位, 记念 in 总书记念兹在兹): its first
        character ends a word with those before, its last begins one with those after."""
        if not flag.rule.startswith("typos.tsv") or flag.start == 0 or flag.end >= len(text):
            return False
        logp = self.model.logp
        s, e = flag.start, flag.end
        left = any(text[s - k:s + 1] in logp for k in (1, 2, 3) if s - k >= 0)
        return left and any(text[e - 1:e - 1 + k] in logp for k in (2, 3, 4) if e - 1 + k <= len(text))

    def _named(self, text: str) -> list[tuple[int, int]]:
        """Names of people and places (not measure words: 四个全面 holds one)."""
        return self._guarded_spans(text, ("person", "place"))

    def protected_spans(self, text: str, kinds: tuple[str, ...] = KINDS) -> list[tuple[int, int]]:
        """Names and measure words (patroldata/text/context.yaml): never statistical typos."""
        return self.context.protected_spans(text, self.model.logp, kinds)

    def candidates(self, text: str, floor: float = 0.0, attested: bytes = b"",
                   prepared: Prepared | None = None, index: int = 0) -> list[Candidate]:
        """The statistical layer's corrections whose gain is positive and at least ``floor``
        (``attested``: what the trigram scan found for ``text``; ``prepared``: what
        ``StatModel.prepare_many`` found for texts of which ``text`` is the ``index``-th, when
        the caller has them)."""
        # A whole word taken for its homophone is reported only with confidence (flag_score):
        # below it such flags are mostly right words in an unusual place (按时保质完成).
        return self.model.candidates(text, self.settings["cost"], floor, self.settings["flag_score"],
                                     self._floors(floor), attested, prepared, index, self._need(floor))

    def _need(self, floor: float) -> float:
        """``need_for(cost, floor)``, computed once per floor."""
        need = self._needs.get(floor)
        if need is None:
            need = self._needs[floor] = need_for(self.settings["cost"], floor)
        return need

    def _floors(self, floor: float) -> dict[str, float] | None:
        """The floor of the channels that statistical.yaml ``suspect_score_by_channel`` lowers
        (only when ``floor`` is the suspect score: never below it otherwise)."""
        by_channel = self.settings.get("suspect_score_by_channel")
        if not by_channel or floor != self.settings["suspect_score"]:
            return None
        return by_channel

    def confidence(self, score: float) -> float:
        """0.6 at ``flag_score``; the odds grow e-fold every ``confidence_scale`` of gain."""
        s = self.settings
        odds = 1.5 * math.exp((score - s["flag_score"]) / s["confidence_scale"])
        return odds / (1.0 + odds)

    def flag_for(self, text: str, cand: Candidate) -> TextFlag:
        # Never asserted: on real official text (benchmarks/realtext/judged.tsv) 155 of 160
        # statistical flags at confidence 0.6 or more were right words, and no confidence
        # separated the slips from them.  Such a flag is 疑似, for a person to look at; only
        # the data-file rules, names, expressions and office holders assert.
        return make_flag("typo", text, cand.start, cand.end, cand.suggestion,
                         f"statistical:{cand.channel} {cand.char}→{cand.replacement}",
                         self.confidence(cand.score),
                         suspected=None if self.settings.get("assert_statistical") else True)
