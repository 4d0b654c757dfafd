"""Sponsor detection: find ad reads and podcast self-promotion in a transcript.

Rules come from the ``sponsors`` config group. Each rule is a named regular expression and is
either *strong* (an unmistakable ad cue: "presented by", "use code", "support the podcast") or
*weak* (a sponsor's product or talking point: "Cash App", "Bitcoin"). Inside each speaker turn,
sentences that match a rule are chained into one span while the gaps between them are at most
``max_gap_sentences`` unmatched sentences (an ad read drifts through a few sentences with no
brand in them, such as the "history of money" aside); a span needs at least
``min_strong_hits`` strong matches, so a guest who merely mentions Bitcoin is not an ad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Mapping, Sequence

from harness.errors import ConfigError
from harness.formats.base import split_sentences
from harness.types import SponsorSegment, Transcript


@dataclass(frozen=True)
class SponsorRule:
    """A named pattern; ``strong`` rules alone can open a sponsor span."""

    name: str
    pattern: re.Pattern[str]
    strong: bool


@dataclass(frozen=True)
class SponsorConfig:
    """Validated sponsor-detection settings.

    Attributes:
        rules: the rules, strong and weak.
        max_gap_sentences: unmatched sentences allowed between two matched ones in one span.
        min_strong_hits: strong matches a span needs to count as a sponsor segment.
    """

    rules: tuple[SponsorRule, ...]
    max_gap_sentences: int
    min_strong_hits: int


def sponsor_config_from_mapping(cfg: Mapping) -> SponsorConfig:
    """Build a ``SponsorConfig`` from the ``sponsors`` config group.

    Raises:
        ConfigError: a rule without a name or pattern, or a pattern that does not compile.
    """
    rules = []
    for strength in ("strong", "weak"):
        for rule in cfg.get(f"{strength}_rules", None) or []:
            name, pattern = rule.get("name"), rule.get("pattern")
            if not name or not pattern:
                raise ConfigError(f"sponsors.{strength}_rules: every rule needs a name and a pattern ({rule})")
            try:
                compiled = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ConfigError(f"sponsors rule {name!r}: bad regular expression: {exc}") from None
            rules.append(SponsorRule(name=name, pattern=compiled, strong=strength == "strong"))
    return SponsorConfig(
        rules=tuple(rules),
        max_gap_sentences=int(cfg.get("max_gap_sentences", 3)),
        min_strong_hits=int(cfg.get("min_strong_hits", 1)),
    )


@dataclass(frozen=True)
class _SentenceHit:
    start: int
    end: int
    rules: tuple[str, ...]
    strong: int


def _hits(text: str, offset: int, rules: Sequence[SponsorRule]) -> list[_SentenceHit]:
    out = []
    for s, e in split_sentences(text):
        sentence = text[s:e]
        fired = [r for r in rules if r.pattern.search(sentence)]
        out.append(
            _SentenceHit(
                start=offset + s,
                end=offset + e,
                rules=tuple(r.name for r in fired),
                strong=sum(r.strong for r in fired),
            )
        )
    return out


def _spans(hits: list[_SentenceHit], cfg: SponsorConfig) -> Iterable[list[_SentenceHit]]:
    span: list[_SentenceHit] = []
    gap = 0
    for hit in hits:
        if hit.rules:
            if span and gap > cfg.max_gap_sentences:
                yield span
                span = []
            span.append(hit)
            gap = 0
        elif span:
            gap += 1
    if span:
        yield span


def detect_sponsors(transcript: Transcript, cfg: SponsorConfig) -> tuple[SponsorSegment, ...]:
    """Sponsor segments of a transcript, in order, each within one speaker turn."""
    found: list[SponsorSegment] = []
    for seg in transcript.content_segments:
        for span in _spans(_hits(seg.text, seg.char_start, cfg.rules), cfg):
            if sum(h.strong for h in span) < cfg.min_strong_hits:
                continue
            start, end = span[0].start, span[-1].end
            block_start = transcript.block_at(start)
            found.append(
                SponsorSegment(
                    index=len(found),
                    char_start=start,
                    char_end=end,
                    start_s=transcript.time_at(start),
                    end_s=transcript.time_at(end),
                    time_estimated=block_start is None or block_start.char_start != start,
                    segment_indices=(seg.index,),
                    rules=tuple(sorted({r for h in span for r in h.rules})),
                    text=transcript.text[start:end],
                )
            )
    return tuple(found)


def mark_sponsors(transcript: Transcript, cfg: SponsorConfig) -> Transcript:
    """A copy of ``transcript`` with ``sponsor_segments`` filled in."""
    return replace(transcript, sponsor_segments=detect_sponsors(transcript, cfg))
