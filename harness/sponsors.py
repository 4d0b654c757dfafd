"""Sponsor detection: find ad reads, and the show's self-promotion next to them, in a transcript.

Nothing here knows a brand. Everything comes from the ``sponsors`` config group
(``configs/sponsors/default.yaml``); the signals are:

* **Cue phrases** (``rules``): named regular expressions of one of six kinds — ``sponsor``
  ("brought to you by", "this episode is sponsored by", "thank you to our sponsors", "first
  sponsor is"), ``offer`` ("use code", "go to X dot com slash Y", "free trial", "20 percent off",
  "download the app"), ``announcement`` ("quick summary of the ads", "quick mention of our
  sponsors", "a few minutes of ads", "after this short break"), ``pointer`` ("check them out in
  the description", "click the sponsor links"), ``product`` ("glad to promote the product": it
  extends an open span, never opens one) and ``self_promo`` ("subscribe on…", "support it on
  Patreon", "review it with five stars"). Each has a weight.
* **Sponsor names** (``brands``): the names that follow a sponsor cue ("presented by Acme Bank",
  "two sponsors: Zorblex and Quill", "thank you to Zorblex and Quill") and vanity domains
  ("zorblex dot com") are collected for the transcript; a later sentence that names one is a weak
  hit, and a cue sentence that names a sponsor already in an open span may close a longer gap
  (``bridge``): the "once again, go to zorblex.com" that ends a long read. Promo codes ("use code
  KELP20") are names for the bridge only: "that's promo code KELP20" after a minute of product
  talk closes the gap, but a sentence naming a code is no weak hit (codes are often the show's
  name).
* **Similarity to the ad read**: a sentence next to a span that shares ``cohesion.min_shared_words``
  content words with the span's cue sentences (the ad's product talk), or that has
  ``style.min_features`` features of ad copy (second person, an imperative opening, money, a
  web address, superlatives), is a weak hit.
* **Position**: the conversation is split into ``intro``, ``mid_roll`` and ``outro`` by the share
  of its text before a span, and a span after the first ``conversation_starts`` formula ("here's
  my conversation with") is no intro; each position has its own score threshold, may set its own sentence
  gap (else ``max_gap_sentences``) and its own required cue kinds: a mid-roll needs an offer, so a
  joke in the sponsor formula or a company named in a story is not an ad. An intro read may take
  in a few sentences with no cue after its last hit when the conversation starts right after them
  (``tail_to_conversation``: the product talk that closes it, "I highly recommend it.").
* **Announcements** open an ad block: for ``announcement.max_sentences`` sentences after one, the
  allowed gap between hits widens to ``announcement.max_gap_sentences``; an ``end_rules`` phrase
  ("here's my conversation with", "back to the show", "as a side note", "let me leave you with")
  closes any open span.

Sentences are cut further at ``clause_breaks`` (the formulas that start a new part of an intro
or outro: "thanks for listening", "if you enjoy", "and now let me leave you"), since captions
without punctuation run a whole outro into one "sentence". They are chained inside runs of
consecutive turns by one speaker: a span opens on a ``sponsor``, ``offer`` or ``announcement``
cue (never on a weak hit, a pointer or self-promotion), takes in every hit while the gap between
hits stays within the limit (sentences of fewer than ``short_sentence_words`` words, the
backchannel of captions without speakers, do not count in it), and is trimmed to its first and
last hit. A sentence of
self-promotion alone ends the open span: the show's "subscribe, review, support it on Patreon"
is not an ad read. A span becomes a sponsor segment when its score (the sum of the weights of the
distinct rules that fired) reaches its position's ``min_score`` and it holds a cue of a kind in
its position's ``require_kinds``, or every kind of one set in ``accept.require_together`` (a
"quick mention of our sponsors… check them out in the description" list). So a guest who
mentions a company, a "sponsored by" in a research story, or a lone "check out our sponsors in
the description" is not an ad read.

With ``self_promo.attach_adjacent``, the self-promotion sentences right before or right after a
segment (no other sentence between) become part of it, and segments that then touch are merged:
a segment is the promotional block a summary should not draw on. Self-promotion a sentence or
more away from a read stays out. Each segment records its ``parts`` (``SponsorPart``): the
stretches of read sentences and of attached self-promotion, so a consumer can tell them apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Sequence

from harness.errors import ConfigError
from harness.text import content_words, split_sentences
from harness.types import Segment, SponsorPart, SponsorSegment, Transcript

KINDS = ("sponsor", "offer", "self_promo", "announcement", "pointer")
#: Cue kinds that can open a span.
OPENING_KINDS = frozenset({"sponsor", "offer", "announcement"})
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
        """Cue kinds that can open a span (``OPENING_KINDS``)."""
        return self.kind in OPENING_KINDS


@dataclass(frozen=True)
class PositionRule:
    """Thresholds of one position: the score a span needs, the sentences allowed between hits,
    the cue kinds of which a span needs one (``None``: ``accept.require_kinds``), whether an
    accepted span takes in the weak hits right before its first cue (``extend_back``: the
    product talk that leads up to a code in an in-conversation plug), and how many sentences
    with no cue an accepted span may take in after its last hit when the conversation starts
    right after them (``tail_to_conversation``: the product talk that closes an intro read
    before "here's my conversation with"; 0: none)."""

    min_score: float
    max_gap_sentences: int
    require_kinds: frozenset[str] | None = None
    extend_back: bool = False
    tail_to_conversation: int = 0


@dataclass(frozen=True)
class SponsorConfig:
    """Validated sponsor-detection settings (see the module docstring and the config file)."""

    rules: tuple[SponsorRule, ...]
    end_rules: tuple[re.Pattern[str], ...] = ()
    clause_breaks: tuple[re.Pattern[str], ...] = ()
    brand_cues: tuple[re.Pattern[str], ...] = ()
    brand_domain: re.Pattern[str] | None = None
    brand_weight: float = 1.0
    brand_max_words: int = 4
    brand_stop_words: frozenset[str] = frozenset()
    code_cue: re.Pattern[str] | None = None
    code_min_chars: int = 6
    short_sentence_words: int = 0
    bridge_max_gap: int = 0
    cohesion_min_shared: int = 2
    cohesion_weight: float = 0.5
    style_features: tuple[tuple[str, re.Pattern[str]], ...] = ()
    style_min_features: int = 3
    style_weight: float = 0.5
    intro_fraction: float = 0.1
    outro_fraction: float = 0.1
    conversation_starts: tuple[re.Pattern[str], ...] = ()
    positions: Mapping[str, PositionRule] = field(
        default_factory=lambda: {p: PositionRule(1.0, 3) for p in POSITIONS}
    )
    announcement_max_sentences: int = 40
    announcement_max_gap: int = 8
    require_kinds: frozenset[str] = frozenset({"sponsor", "offer"})
    require_together: tuple[frozenset[str], ...] = ()
    attach_self_promo: bool = True
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


def _kinds(values: Any, where: str) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigError(f"{where}: a list of cue kinds is required, got {values!r}")
    kinds = frozenset(str(k) for k in values)
    unknown = kinds - set(KINDS) - {"product"}
    if unknown:
        raise ConfigError(f"{where}: unknown kind(s) {sorted(unknown)}")
    return kinds


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
    bridge = cfg.get("bridge") or {}
    cohesion = cfg.get("cohesion") or {}
    style = cfg.get("style") or {}
    position = cfg.get("position") or {}
    announcement = cfg.get("announcement") or {}
    accept = cfg.get("accept") or {}
    self_promo = cfg.get("self_promo") or {}
    positions = {}
    for p in POSITIONS:
        section = position.get(p) or {}
        positions[p] = PositionRule(
            min_score=_number(section, "min_score", 2.0, f"sponsors.position.{p}"),
            max_gap_sentences=int(_number(section, "max_gap_sentences", cfg.get("max_gap_sentences", 3), f"sponsors.position.{p}")),
            require_kinds=_kinds(section["require_kinds"], f"sponsors.position.{p}.require_kinds") if section.get("require_kinds") is not None else None,
            extend_back=bool(section.get("extend_back", False)),
            tail_to_conversation=int(_number(section, "tail_to_conversation", 0, f"sponsors.position.{p}")),
        )
    require = _kinds(accept.get("require_kinds", ["sponsor", "offer"]) or (), "sponsors.accept.require_kinds")
    together = tuple(_kinds(group, "sponsors.accept.require_together") for group in accept.get("require_together") or ())
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
        clause_breaks=tuple(_compile(p, "sponsors.clause_breaks") for p in cfg.get("clause_breaks") or []),
        brand_cues=tuple(_compile(p, "sponsors.brands.cues") for p in brands.get("cues") or []),
        brand_domain=_compile(brands["domain_pattern"], "sponsors.brands.domain_pattern") if brands.get("domain_pattern") else None,
        brand_weight=_number(brands, "weight", 1.0, "sponsors.brands"),
        brand_max_words=int(_number(brands, "max_words", 4, "sponsors.brands", low=1)),
        brand_stop_words=frozenset(str(w).lower() for w in brands.get("stop_words") or []),
        code_cue=_compile(brands["code_cue"], "sponsors.brands.code_cue") if brands.get("code_cue") else None,
        code_min_chars=int(_number(brands, "code_min_chars", 6, "sponsors.brands", low=1)),
        short_sentence_words=int(_number(cfg, "short_sentence_words", 0, "sponsors")),
        bridge_max_gap=int(_number(bridge, "max_gap_sentences", 0, "sponsors.bridge")),
        cohesion_min_shared=int(_number(cohesion, "min_shared_words", 2, "sponsors.cohesion", low=1)),
        cohesion_weight=_number(cohesion, "weight", 0.5, "sponsors.cohesion"),
        style_features=tuple(features),
        style_min_features=int(_number(style, "min_features", 3, "sponsors.style", low=1)),
        style_weight=_number(style, "weight", 0.5, "sponsors.style"),
        intro_fraction=intro,
        outro_fraction=outro,
        conversation_starts=tuple(_compile(p, "sponsors.position.conversation_starts") for p in position.get("conversation_starts") or []),
        positions=positions,
        announcement_max_sentences=int(_number(announcement, "max_sentences", 40, "sponsors.announcement")),
        announcement_max_gap=int(_number(announcement, "max_gap_sentences", 8, "sponsors.announcement")),
        require_kinds=require,
        require_together=together,
        attach_self_promo=bool(self_promo.get("attach_adjacent", True)),
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
    brands: frozenset[str] = frozenset()
    brand_hit: bool = False
    short: bool = False

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(r.kind for r in self.rules)

    @property
    def opens(self) -> bool:
        """Holds a cue that can open a span."""
        return any(r.strong for r in self.rules)

    @property
    def promo_only(self) -> bool:
        """Self-promotion with no cue that could open a span (a pointer may come with it)."""
        kinds = self.kinds
        return "self_promo" in kinds and not (kinds & OPENING_KINDS)


# Product words of an ad read: letters only, and a hyphenated compound stays one word
# ("self-driving"), so the words shared with a cue sentence name the product rather than its
# parts. Normalised and filtered with the toolkit's one word form and stop-word list.
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


def _brands(sentences: Sequence[_Sentence], cfg: SponsorConfig) -> dict[str, tuple[re.Pattern[str], set[int], bool]]:
    """The sponsor names the transcript announces (see module docstring), lower-cased, each with
    the pattern that finds it, the indices (in ``sentences``) of the sentences it came from, and
    whether it is only a promo code (``brands.code_cue``: it lets a repeated code bridge a gap,
    but a sentence naming it is no weak hit, since codes are often the show's or host's name)."""
    found: dict[str, set[int]] = {}
    codes: set[str] = set()
    real: set[str] = set()
    for i, s in enumerate(sentences):
        if not s.kinds & {"sponsor", "offer"}:
            continue
        names: set[str] = set()
        for cue in cfg.brand_cues:
            for m in cue.finditer(s.text):
                names.update(n.lower() for n in _names_after(s.text[m.end() :], cfg) if len(n) > 1)
        if cfg.brand_domain is not None:
            for m in cfg.brand_domain.finditer(s.text):
                name = m.group(1) if m.groups() else m.group(0)
                if name and name.lower() not in cfg.brand_stop_words and len(name) > 2:
                    names.add(name.lower())
        if cfg.code_cue is not None:
            for m in cfg.code_cue.finditer(s.text):
                code = re.match(r"[A-Za-z0-9][\w-]*", s.text[m.end() :])
                if code and len(code.group(0)) >= cfg.code_min_chars and code.group(0).lower() not in cfg.brand_stop_words:
                    codes.add(code.group(0).lower())
                    found.setdefault(code.group(0).lower(), set()).add(i)
        for name in names:
            found.setdefault(name, set()).add(i)
        real |= names
    return {
        b: (re.compile(r"(?<!\w)" + re.escape(b) + r"(?!\w)", re.IGNORECASE), sources, b in codes - real)
        for b, sources in sorted(found.items())
    }


def _clauses(text: str, cfg: SponsorConfig) -> list[tuple[int, int]]:
    """``(start, end)`` of the sentences of ``text``, each cut again before a clause break."""
    out = []
    for s, e in split_sentences(text):
        cuts = sorted({m.start() for p in cfg.clause_breaks for m in p.finditer(text, s, e) if m.start() > s})
        for a, b in zip([s, *cuts], [*cuts, e]):
            piece = text[a:b]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece.rstrip(" \t\n,;:-–—"))
            if trail > lead:
                out.append((a + lead, a + trail))
    return out


def _sentences(segments: Sequence[Segment], cfg: SponsorConfig) -> list[_Sentence]:
    out = []
    for seg in segments:
        for s, e in _clauses(seg.text, cfg):
            text = seg.text[s:e]
            out.append(
                _Sentence(
                    start=seg.char_start + s,
                    end=seg.char_start + e,
                    text=text,
                    segment=seg.index,
                    rules=tuple(r for r in cfg.rules if r.pattern.search(text)),
                    is_end=any(p.search(text) for p in cfg.end_rules),
                    words=frozenset(content_words(text, letters_only=True, min_chars=3)),
                    style=sum(1 for _, p in cfg.style_features if p.search(text)),
                    short=len(text.split()) < cfg.short_sentence_words,
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
    """Hits chained into one candidate read: ``(index in the run, sentence, signal names)``."""

    members: list[tuple[int, _Sentence, tuple[str, ...]]] = field(default_factory=list)
    words: set[str] = field(default_factory=set)
    brands: set[str] = field(default_factory=set)

    @property
    def first(self) -> _Sentence:
        return self.members[0][1]

    @property
    def last(self) -> _Sentence:
        return self.members[-1][1]


def _position(start: int, end: int, bounds: tuple[int, int, int], cfg: SponsorConfig) -> str:
    """``intro``, ``mid_roll`` or ``outro``; ``bounds`` is the conversation's first and last
    offset and the offset where it starts (``conversation_starts``; no intro span after it)."""
    lo, hi, starts = bounds
    size = max(1, hi - lo)
    if (start - lo) / size < cfg.intro_fraction and start < starts:
        return "intro"
    if (end - lo) / size > 1 - cfg.outro_fraction:
        return "outro"
    return "mid_roll"


def _weak(s: _Sentence, span: _Span, cfg: SponsorConfig) -> list[str]:
    """The weak signals of a sentence with no cue of its own, next to ``span``."""
    weak = [BRAND_RULE] if s.brand_hit else []
    if len(s.words & span.words) >= cfg.cohesion_min_shared:
        weak.append(COHESION_RULE)
    if cfg.style_features and s.style >= cfg.style_min_features:
        weak.append(STYLE_RULE)
    return weak


def _gap(run: list[_Sentence], last_hit: int, i: int) -> int:
    """Sentences between two hits, short ones (backchannel: "Yeah.", "What is it?") not counted."""
    return sum(1 for s in run[last_hit + 1 : i] if not s.short)


def _extend_back(run: list[_Sentence], span: _Span, limit: int, cfg: SponsorConfig) -> None:
    """Prepend the weak hits before the span's first member, while gaps stay within ``limit``."""
    i = span.members[0][0] - 1
    gap = 0
    while i >= 0 and gap <= limit:
        s = run[i]
        if s.is_end or s.promo_only or s.rules:
            break
        weak = _weak(s, span, cfg)
        if weak:
            span.members.insert(0, (i, s, tuple(weak)))
            gap = 0
        elif not s.short:
            gap += 1
        i -= 1


def _tail_to_conversation(run: list[_Sentence], last: int, limit: int, cfg: SponsorConfig) -> int:
    """The index of the last sentence of a read that ends at ``last``, taking in up to ``limit``
    sentences with no cue (short ones not counted) when the next sentence after them starts the
    conversation (``conversation_starts``): the product talk that closes an intro read ("I highly
    recommend it. And now, here's my conversation with…"). Anything else first (a cue,
    self-promotion, another end formula such as "as a side note") keeps ``last``."""
    counted = 0
    for j in range(last + 1, len(run)):
        s = run[j]
        if s.is_end:
            return j - 1 if any(p.search(s.text) for p in cfg.conversation_starts) else last
        if s.rules:
            return last
        if not s.short:
            counted += 1
            if counted > limit:
                return last
    return last


def _chain(run: list[_Sentence], bounds: tuple[int, int, int], cfg: SponsorConfig) -> Iterable[_Span]:
    span: _Span | None = None
    last_hit = -1
    announced_until = -1
    for i, s in enumerate(run):
        if s.is_end or s.promo_only:
            # a return to the conversation, or the show promoting itself, ends the read
            if span is not None:
                yield span
            span = None
            if s.is_end:
                announced_until = -1
            continue
        cues = tuple(r.name for r in s.rules)
        weak: list[str] = []
        if span is not None and not cues:
            weak = _weak(s, span, cfg)
        elif s.brand_hit:
            weak.append(BRAND_RULE)
        if "announcement" in s.kinds:
            announced_until = i + cfg.announcement_max_sentences
        if not cues and not weak:
            continue
        if span is not None:
            pos = _position(span.first.start, s.end, bounds, cfg)
            limit = cfg.positions[pos].max_gap_sentences
            if i <= announced_until:
                limit = max(limit, cfg.announcement_max_gap)
            if s.opens and s.brands & span.brands:
                limit = max(limit, cfg.bridge_max_gap)
            if _gap(run, last_hit, i) > limit:
                yield span
                span = None
        if span is None:
            if not s.opens:
                continue
            span = _Span()
        span.members.append((i, s, cues + tuple(weak)))
        if cues or s.brand_hit:
            span.words |= s.words
        span.brands |= s.brands
        last_hit = i
    if span is not None:
        yield span


def _accept(span: _Span, position: str, cfg: SponsorConfig) -> bool:
    rules: dict[str, float] = {}
    kinds: set[str] = set()
    weights = {BRAND_RULE: cfg.brand_weight, COHESION_RULE: cfg.cohesion_weight, STYLE_RULE: cfg.style_weight}
    for _, s, names in span.members:
        for r in s.rules:
            rules[r.name] = r.weight
            kinds.add(r.kind)
        for name in names:
            if name in weights:
                rules[name] = weights[name]
    rule = cfg.positions[position]
    if sum(rules.values()) < rule.min_score:
        return False
    require = cfg.require_kinds if rule.require_kinds is None else rule.require_kinds
    return bool(kinds & require) or any(group <= kinds for group in cfg.require_together)


@dataclass
class _Found:
    """An accepted span as a range of sentence indices in its run, with its signal names and the
    ranges ``(first, last)`` of its read sentences (the rest is attached self-promotion)."""

    first: int
    last: int
    names: set[str]
    reads: list[tuple[int, int]] = field(default_factory=list)


def _attach_self_promo(run: list[_Sentence], found: list[_Found]) -> None:
    """Take in the self-promotion sentences right before and after each span."""
    for f in found:
        while f.first > 0 and run[f.first - 1].promo_only and not run[f.first - 1].is_end:
            f.first -= 1
            f.names.update(r.name for r in run[f.first].rules)
        while f.last + 1 < len(run) and run[f.last + 1].promo_only and not run[f.last + 1].is_end:
            f.last += 1
            f.names.update(r.name for r in run[f.last].rules)


def _merge(found: list[_Found], *, touching: bool) -> list[_Found]:
    """Merge spans that overlap (a span extended back over another's tail), and with
    ``touching`` also spans with no sentence between them (reads joined by self-promotion)."""
    merged: list[_Found] = []
    for f in sorted(found, key=lambda x: x.first):
        if merged and f.first <= merged[-1].last + (1 if touching else 0):
            merged[-1].last = max(merged[-1].last, f.last)
            merged[-1].names |= f.names
            merged[-1].reads += f.reads
        else:
            merged.append(f)
    return merged


def _parts(run: list[_Sentence], found: _Found, transcript: Transcript) -> tuple[SponsorPart, ...]:
    """The read and self-promotion stretches of an accepted span: a sentence is ``read`` when it
    lies in one of the span's read ranges, else it is attached self-promotion."""
    kinds = [
        "read" if any(a <= i <= b for a, b in found.reads) else "self_promo"
        for i in range(found.first, found.last + 1)
    ]
    parts: list[SponsorPart] = []
    i = 0
    while i < len(kinds):
        j = i
        while j + 1 < len(kinds) and kinds[j + 1] == kinds[i]:
            j += 1
        start, end = run[found.first + i].start, run[found.first + j].end
        parts.append(SponsorPart(kinds[i], start, end, transcript.time_at(start), transcript.time_at(end)))
        i = j + 1
    return tuple(parts)


def detect_sponsors(transcript: Transcript, cfg: SponsorConfig) -> tuple[SponsorSegment, ...]:
    """Sponsor segments of a transcript, in order (see the module docstring)."""
    content = transcript.content_segments
    if not content:
        return ()
    runs = [_sentences(run, cfg) for run in _runs(transcript, cfg)]
    flat = [s for run in runs for s in run]
    lo, hi = content[0].char_start, content[-1].char_end
    intro_end = lo + cfg.intro_fraction * max(1, hi - lo)
    starts = next(
        (s.end for s in flat if s.start < intro_end and any(p.search(s.text) for p in cfg.conversation_starts)), hi
    )
    bounds = (lo, hi, starts)
    brands = _brands(flat, cfg)
    for i, s in enumerate(flat):
        named = [(b, sources, code) for b, (p, sources, code) in brands.items() if p.search(s.text)]
        s.brands = frozenset(b for b, _, _ in named)
        # the sentence that announces a name does not count as naming a sponsor announced elsewhere
        s.brand_hit = any(sources - {i} for _, sources, code in named if not code)
    found: list[SponsorSegment] = []
    for run in runs:
        accepted = []
        for span in _chain(run, bounds, cfg):
            position = _position(span.first.start, span.last.end, bounds, cfg)
            if _accept(span, position, cfg):
                rule = cfg.positions[position]
                if rule.extend_back:
                    _extend_back(run, span, rule.max_gap_sentences, cfg)
                names = {n for _, _, ns in span.members for n in ns} | {f"position:{position}"}
                first, last = span.members[0][0], span.members[-1][0]
                if rule.tail_to_conversation:
                    last = _tail_to_conversation(run, last, rule.tail_to_conversation, cfg)
                accepted.append(_Found(first, last, names, [(first, last)]))
        if cfg.attach_self_promo:
            _attach_self_promo(run, accepted)
        accepted = _merge(accepted, touching=cfg.attach_self_promo)
        for f in accepted:
            start, end = run[f.first].start, run[f.last].end
            block_start = transcript.block_at(start)
            segs = tuple(sorted({seg.index for seg in content if seg.char_start < end and seg.char_end > start}))
            found.append(
                SponsorSegment(
                    index=len(found),
                    char_start=start,
                    char_end=end,
                    start_s=transcript.time_at(start),
                    end_s=transcript.time_at(end),
                    time_estimated=block_start is None or block_start.char_start != start,
                    segment_indices=segs,
                    rules=tuple(sorted(f.names)),
                    text=transcript.text[start:end],
                    parts=_parts(run, f, transcript),
                )
            )
    return tuple(found)


def mark_sponsors(transcript: Transcript, cfg: SponsorConfig) -> Transcript:
    """A copy of ``transcript`` with ``sponsor_segments`` filled in."""
    return replace(transcript, sponsor_segments=detect_sponsors(transcript, cfg))
