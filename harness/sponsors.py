"""Sponsor detection: find ad reads and podcast self-promotion in a transcript.

Nothing here knows a brand. Everything comes from the ``sponsors`` config group
(``configs/sponsors/default.yaml``); the signals are:

* **Cue phrases** (``rules``): named regular expressions of one of four kinds — ``sponsor``
  ("brought to you by", "this episode is sponsored by"), ``offer`` ("use code", "go to X dot com
  slash Y", "free trial", "20 percent off", "download the app"), ``self_promo`` ("support this
  podcast", "subscribe on…", "check out our sponsors") and ``announcement`` ("quick summary of the
  ads", "a few minutes of ads", "after this short break"). Each has a weight.
* **Sponsor names** (``brands``): the names that follow a sponsor cue ("presented by Acme Bank",
  "two sponsors: Zorblex and Quill") and vanity domains ("zorblex dot com") are collected for the
  transcript; a later sentence that names one is a weak hit.
* **Similarity to the ad read**: a sentence next to a span that shares ``cohesion.min_shared_words``
  content words with the span's cue sentences (the ad's product talk), or that has
  ``style.min_features`` features of ad copy (second person, an imperative opening, money, a
  web address, superlatives), is a weak hit.
* **Position**: the conversation is split into ``intro``, ``mid_roll`` and ``outro`` by the share
  of its text before a span; each position has its own score threshold and may set its own
  sentence gap (else ``max_gap_sentences``): a mid-roll needs more evidence than a pre-roll.
* **Announcements** open an ad block: for ``announcement.max_sentences`` sentences after one, the
  allowed gap between hits widens to ``announcement.max_gap_sentences``; an ``end_rules`` phrase
  ("here's my conversation with", "back to the show") closes any open span.

Sentences are chained inside runs of consecutive turns by one speaker: a span opens on a cue
(never on a weak hit), takes in every hit while the gap between hits stays within the limit, and
is trimmed to its first and last hit. It becomes a sponsor segment when its score (the sum of the
weights of the distinct rules that fired) reaches its position's ``min_score`` and it holds a
cue of a kind in ``accept.require_kinds`` — or at least ``accept.self_promo_min_rules`` distinct
self-promotion rules. So a guest who mentions a company, a "sponsored by" in a research story, or
a lone "check out our sponsors in the description" is not an ad read.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from harness.errors import ConfigError
from harness.formats.base import split_sentences
from harness.types import Segment, SponsorSegment, Transcript

KINDS = ("sponsor", "offer", "self_promo", "announcement")
POSITIONS = ("intro", "mid_roll", "outro")
BRAND_RULE = "sponsor_brand"
COHESION_RULE = "ad_cohesion"
STYLE_RULE = "ad_style"


@dataclass(frozen=True)
class SponsorRule:
    """A named cue pattern of one kind (``KINDS``) with a weight."""

    name: str
    pattern: re.Pattern[str]
    kind: str
    weight: float

    @property
    def strong(self) -> bool:
        """Cue kinds that can open a span (all four; weak hits never open one)."""
        return self.kind in KINDS


@dataclass(frozen=True)
class PositionRule:
    """Thresholds of one position: the score a span needs and the sentences allowed between hits."""

    min_score: float
    max_gap_sentences: int


@dataclass(frozen=True)
class SponsorConfig:
    """Validated sponsor-detection settings (see the module docstring and the config file)."""

    rules: tuple[SponsorRule, ...]
    end_rules: tuple[re.Pattern[str], ...] = ()
    brand_cues: tuple[re.Pattern[str], ...] = ()
    brand_domain: re.Pattern[str] | None = None
    brand_weight: float = 1.0
    brand_max_words: int = 4
    brand_stop_words: frozenset[str] = frozenset()
    cohesion_min_shared: int = 2
    cohesion_weight: float = 0.5
    style_features: tuple[tuple[str, re.Pattern[str]], ...] = ()
    style_min_features: int = 3
    style_weight: float = 0.5
    intro_fraction: float = 0.1
    outro_fraction: float = 0.1
    positions: Mapping[str, PositionRule] = field(
        default_factory=lambda: {p: PositionRule(1.0, 3) for p in POSITIONS}
    )
    announcement_max_sentences: int = 40
    announcement_max_gap: int = 8
    require_kinds: frozenset[str] = frozenset({"sponsor", "offer"})
    self_promo_min_rules: int = 3
    across_turns: bool = True

    @property
    def max_gap_sentences(self) -> int:
        """The largest gap of any position (kept for callers of the first version)."""
        return max(p.max_gap_sentences for p in self.positions.values())


def _compile(pattern: Any, where: str) -> re.Pattern[str]:
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"{where}: a non-empty regular expression is required")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"{where}: bad regular expression: {exc}") from None


def _number(cfg: Mapping, key: str, default: float, where: str, *, low: float = 0.0) -> float:
    value = cfg.get(key, default)
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key} must be a number, got {value!r}") from None
    if out < low:
        raise ConfigError(f"{where}.{key} must be >= {low}, got {value!r}")
    return out


def sponsor_config_from_mapping(cfg: Mapping) -> SponsorConfig:
    """Build a ``SponsorConfig`` from the ``sponsors`` config group.

    The first version's ``strong_rules`` / ``weak_rules`` lists are still read (as ``sponsor``
    cues of weight 2 and product words of weight 1).

    Raises:
        ConfigError: a rule without a name, pattern or known kind, a pattern that does not
            compile, or a threshold out of range.
    """
    cfg = cfg or {}
    rules: list[SponsorRule] = []
    legacy = [(r, "sponsor", 2.0) for r in cfg.get("strong_rules") or []]
    legacy += [(r, "product", 1.0) for r in cfg.get("weak_rules") or []]
    entries = [(r, r.get("kind") if isinstance(r, Mapping) else None, None) for r in cfg.get("rules") or []]
    for rule, kind, weight in entries + legacy:
        if not isinstance(rule, Mapping) or not rule.get("name") or not rule.get("pattern"):
            raise ConfigError(f"sponsors.rules: every rule needs a name and a pattern ({rule})")
        name = str(rule["name"])
        if kind not in KINDS and kind != "product":
            raise ConfigError(f"sponsors rule {name!r}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        w = weight if weight is not None else _number(rule, "weight", 1.0, f"sponsors rule {name!r}")
        rules.append(SponsorRule(name, _compile(rule["pattern"], f"sponsors rule {name!r}"), kind, w))
    names = [r.name for r in rules]
    if len(set(names)) != len(names):
        raise ConfigError("sponsors.rules: rule names must be unique")

    brands = cfg.get("brands") or {}
    cohesion = cfg.get("cohesion") or {}
    style = cfg.get("style") or {}
    position = cfg.get("position") or {}
    announcement = cfg.get("announcement") or {}
    accept = cfg.get("accept") or {}
    positions = {}
    for p in POSITIONS:
        section = position.get(p) or {}
        positions[p] = PositionRule(
            min_score=_number(section, "min_score", 2.0, f"sponsors.position.{p}"),
            max_gap_sentences=int(_number(section, "max_gap_sentences", cfg.get("max_gap_sentences", 3), f"sponsors.position.{p}")),
        )
    require = frozenset(str(k) for k in accept.get("require_kinds", ["sponsor", "offer"]) or ())
    unknown = require - set(KINDS) - {"product"}
    if unknown:
        raise ConfigError(f"sponsors.accept.require_kinds: unknown kind(s) {sorted(unknown)}")
    intro = _number(position, "intro_fraction", 0.1, "sponsors.position")
    outro = _number(position, "outro_fraction", 0.1, "sponsors.position")
    if intro + outro > 1:
        raise ConfigError("sponsors.position: intro_fraction + outro_fraction must be <= 1")
    features = []
    for feat in style.get("features") or []:
        if not isinstance(feat, Mapping) or not feat.get("name"):
            raise ConfigError(f"sponsors.style.features: every feature needs a name and a pattern ({feat})")
        features.append((str(feat["name"]), _compile(feat.get("pattern"), f"sponsors style feature {feat['name']!r}")))
    return SponsorConfig(
        rules=tuple(rules),
        end_rules=tuple(_compile(p, "sponsors.end_rules") for p in cfg.get("end_rules") or []),
        brand_cues=tuple(_compile(p, "sponsors.brands.cues") for p in brands.get("cues") or []),
        brand_domain=_compile(brands["domain_pattern"], "sponsors.brands.domain_pattern") if brands.get("domain_pattern") else None,
        brand_weight=_number(brands, "weight", 1.0, "sponsors.brands"),
        brand_max_words=int(_number(brands, "max_words", 4, "sponsors.brands", low=1)),
        brand_stop_words=frozenset(str(w).lower() for w in brands.get("stop_words") or []),
        cohesion_min_shared=int(_number(cohesion, "min_shared_words", 2, "sponsors.cohesion", low=1)),
        cohesion_weight=_number(cohesion, "weight", 0.5, "sponsors.cohesion"),
        style_features=tuple(features),
        style_min_features=int(_number(style, "min_features", 3, "sponsors.style", low=1)),
        style_weight=_number(style, "weight", 0.5, "sponsors.style"),
        intro_fraction=intro,
        outro_fraction=outro,
        positions=positions,
        announcement_max_sentences=int(_number(announcement, "max_sentences", 40, "sponsors.announcement")),
        announcement_max_gap=int(_number(announcement, "max_gap_sentences", 8, "sponsors.announcement")),
        require_kinds=require,
        self_promo_min_rules=int(_number(accept, "self_promo_min_rules", 3, "sponsors.accept", low=1)),
        across_turns=bool(cfg.get("across_turns", True)),
    )


# ----------------------------------------------------------------------------------------------
# Sentences and their signals
# ----------------------------------------------------------------------------------------------


@dataclass
class _Sentence:
    start: int
    end: int
    text: str
    segment: int
    rules: tuple[SponsorRule, ...] = ()
    is_end: bool = False
    words: frozenset[str] = frozenset()
    style: int = 0
    brand: bool = False


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")


def _content_words(text: str) -> frozenset[str]:
    stop = _stop_words()
    out = set()
    for m in _WORD.finditer(text):
        w = m.group(0).lower().replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        if len(w) > 2 and w not in stop:
            out.add(w)
    return frozenset(out)


_NAME_TOKEN = re.compile(r"[A-Z0-9][\w&'’.+\-]*")


def _names_after(text: str, cfg: SponsorConfig) -> list[str]:
    """Sponsor names listed at the start of ``text``: capitalised words, up to
    ``brand_max_words`` per name, separated by commas, "and" or "&"."""
    names: list[str] = []
    pos = 0
    while True:
        m = re.match(r"[\s\"“]*((?:[A-Z0-9][\w&'’.+\-]*)(?:[ \t]+[A-Z0-9][\w&'’.+\-]*)*)", text[pos:])
        if not m:
            break
        words = m.group(1).rstrip(".").split()[: cfg.brand_max_words]
        while words and words[0].lower() in cfg.brand_stop_words:
            words = words[1:]
        if words:
            names.append(" ".join(words))
        pos += m.end()
        sep = re.match(r"\s*(?:,\s*(?:and\s+|&\s+)?|\s+and\s+|\s*&\s*)", text[pos:])
        if not sep or not sep.group(0).strip(" \t"):
            break
        pos += sep.end()
    return names


def _brands(sentences: Sequence[_Sentence], cfg: SponsorConfig) -> list[re.Pattern[str]]:
    """Patterns of the sponsor names the transcript announces (see module docstring)."""
    found: set[str] = set()
    for s in sentences:
        if not any(r.kind == "sponsor" for r in s.rules) and not any(r.kind == "offer" for r in s.rules):
            continue
        for cue in cfg.brand_cues:
            for m in cue.finditer(s.text):
                found.update(n for n in _names_after(s.text[m.end() :], cfg) if len(n) > 1)
        if cfg.brand_domain is not None:
            for m in cfg.brand_domain.finditer(s.text):
                name = m.group(1) if m.groups() else m.group(0)
                if name and name.lower() not in cfg.brand_stop_words and len(name) > 2:
                    found.add(name)
    return [re.compile(r"(?<!\w)" + re.escape(b) + r"(?!\w)", re.IGNORECASE) for b in sorted(found)]


def _sentences(transcript: Transcript, segments: Sequence[Segment], cfg: SponsorConfig) -> list[_Sentence]:
    out = []
    for seg in segments:
        for s, e in split_sentences(seg.text):
            text = seg.text[s:e]
            fired = tuple(r for r in cfg.rules if r.pattern.search(text))
            style = sum(1 for _, p in cfg.style_features if p.search(text))
            out.append(
                _Sentence(
                    start=seg.char_start + s,
                    end=seg.char_start + e,
                    text=text,
                    segment=seg.index,
                    rules=fired,
                    is_end=any(p.search(text) for p in cfg.end_rules),
                    words=_content_words(text),
                    style=style,
                )
            )
    return out


def _runs(transcript: Transcript, cfg: SponsorConfig) -> list[list[Segment]]:
    """Consecutive content turns of one speaker (each turn alone when ``across_turns`` is off)."""
    runs: list[list[Segment]] = []
    for seg in transcript.content_segments:
        if cfg.across_turns and runs and runs[-1][-1].speaker == seg.speaker and runs[-1][-1].index == seg.index - 1:
            runs[-1].append(seg)
        else:
            runs.append([seg])
    return runs


# ----------------------------------------------------------------------------------------------
# Chaining and acceptance
# ----------------------------------------------------------------------------------------------


@dataclass
class _Span:
    members: list[tuple[_Sentence, tuple[str, ...]]] = field(default_factory=list)
    words: set[str] = field(default_factory=set)

    @property
    def first(self) -> _Sentence:
        return self.members[0][0]

    @property
    def last(self) -> _Sentence:
        return self.members[-1][0]


def _position(start: int, end: int, bounds: tuple[int, int], cfg: SponsorConfig) -> str:
    lo, hi = bounds
    size = max(1, hi - lo)
    if (start - lo) / size < cfg.intro_fraction:
        return "intro"
    if (end - lo) / size > 1 - cfg.outro_fraction:
        return "outro"
    return "mid_roll"


def _chain(run: list[_Sentence], bounds: tuple[int, int], cfg: SponsorConfig) -> Iterable[_Span]:
    span: _Span | None = None
    last_hit = -1
    announced_until = -1
    for i, s in enumerate(run):
        if s.is_end:
            if span is not None:
                yield span
            span, announced_until = None, -1
            continue
        cues = tuple(r.name for r in s.rules)
        weak: list[str] = []
        if s.brand:
            weak.append(BRAND_RULE)
        if span is not None and not cues:
            if len(s.words & span.words) >= cfg.cohesion_min_shared:
                weak.append(COHESION_RULE)
            if cfg.style_features and s.style >= cfg.style_min_features:
                weak.append(STYLE_RULE)
        if any(r.kind == "announcement" for r in s.rules):
            announced_until = i + cfg.announcement_max_sentences
        if not cues and not weak:
            continue
        if span is not None:
            pos = _position(span.first.start, s.end, bounds, cfg)
            limit = cfg.positions[pos].max_gap_sentences
            if i <= announced_until:
                limit = max(limit, cfg.announcement_max_gap)
            if i - last_hit - 1 > limit:
                yield span
                span = None
        if span is None:
            if not any(r.strong for r in s.rules):
                continue
            span = _Span()
        span.members.append((s, cues + tuple(weak)))
        if cues or s.brand:
            span.words |= s.words
        last_hit = i
    if span is not None:
        yield span


def _accept(span: _Span, position: str, cfg: SponsorConfig) -> bool:
    rules: dict[str, float] = {}
    kinds: set[str] = set()
    self_promo: set[str] = set()
    for s, names in span.members:
        for r in s.rules:
            rules[r.name] = r.weight
            kinds.add(r.kind)
            if r.kind == "self_promo":
                self_promo.add(r.name)
        weights = {BRAND_RULE: cfg.brand_weight, COHESION_RULE: cfg.cohesion_weight, STYLE_RULE: cfg.style_weight}
        for name in names:
            if name in weights:
                rules[name] = weights[name]
    score = sum(rules.values())
    if score < cfg.positions[position].min_score:
        return False
    return bool(kinds & cfg.require_kinds) or len(self_promo) >= cfg.self_promo_min_rules


def detect_sponsors(transcript: Transcript, cfg: SponsorConfig) -> tuple[SponsorSegment, ...]:
    """Sponsor segments of a transcript, in order (see the module docstring)."""
    content = transcript.content_segments
    if not content:
        return ()
    bounds = (content[0].char_start, content[-1].char_end)
    runs = [_sentences(transcript, run, cfg) for run in _runs(transcript, cfg)]
    brands = _brands([s for run in runs for s in run], cfg)
    if brands:
        for run in runs:
            for s in run:
                s.brand = any(b.search(s.text) for b in brands)
    found: list[SponsorSegment] = []
    for run in runs:
        for span in _chain(run, bounds, cfg):
            start, end = span.first.start, span.last.end
            position = _position(start, end, bounds, cfg)
            if not _accept(span, position, cfg):
                continue
            block_start = transcript.block_at(start)
            names = {n for _, ns in span.members for n in ns}
            segs = tuple(sorted({s.segment for s, _ in span.members} | {
                seg.index for seg in content if seg.char_start < end and seg.char_end > start
            }))
            found.append(
                SponsorSegment(
                    index=len(found),
                    char_start=start,
                    char_end=end,
                    start_s=transcript.time_at(start),
                    end_s=transcript.time_at(end),
                    time_estimated=block_start is None or block_start.char_start != start,
                    segment_indices=segs,
                    rules=tuple(sorted(names | {f"position:{position}"})),
                    text=transcript.text[start:end],
                )
            )
    return tuple(found)


def mark_sponsors(transcript: Transcript, cfg: SponsorConfig) -> Transcript:
    """A copy of ``transcript`` with ``sponsor_segments`` filled in."""
    return replace(transcript, sponsor_segments=detect_sponsors(transcript, cfg))
