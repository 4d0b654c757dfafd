"""Looking things up in a parsed transcript, shared by the quote stage and the flag detectors
(so neither imports the other): who speaks (near-identical labels merged into one speaker),
which speaker a person's name means, and the ``Evidence`` record of a span.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from harness.text import edit_similarity
from harness.types import Evidence, Transcript


@dataclass(frozen=True)
class Speaker:
    """A person who speaks in the transcript; near-identical labels ("LIlya Sutskever" and
    "Ilya Sutskever") are one speaker named by the most frequent label."""

    name: str
    labels: frozenset[str]
    turns: int

    def tokens(self) -> set[str]:
        return {t.lower() for label in self.labels for t in label.split() if len(t) > 1}


def same_person(a: str, b: str, min_similarity: float = 0.75) -> bool:
    """Whether two person names denote the same person: every token of the shorter name matches
    a token of the longer one (case-insensitive, edit similarity ≥ ``min_similarity``, so a
    misspelled label such as "LIlya" matches "Ilya"); a single token matches a surname."""
    ta = [t.lower() for t in re.findall(r"[A-Za-z][A-Za-z'’-]*", a) if len(t) > 1]
    tb = [t.lower() for t in re.findall(r"[A-Za-z][A-Za-z'’-]*", b) if len(t) > 1]
    if not ta or not tb:
        return False
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    return all(any(edit_similarity(s, t) >= min_similarity for t in long_) for s in short)


def match_speaker(name: str, speakers: Iterable[Speaker]) -> Speaker | None:
    """The speaker a person name refers to, ``None`` if it names none of them."""
    for sp in speakers:
        if any(same_person(name, label) for label in sp.labels):
            return sp
    return None


def speaker_of(label: str | None, speakers: Sequence[Speaker]) -> Speaker | None:
    """The speaker a label belongs to (``None`` for no label)."""
    if not label:
        return None
    for sp in speakers:
        if label in sp.labels:
            return sp
    return match_speaker(label, speakers)


def guest_of(speakers: Sequence[Speaker], host: Speaker | None) -> Speaker | None:
    """The speaker with the most turns other than the host."""
    return next((s for s in speakers if s is not host), None)


def transcript_speakers(transcript: Transcript) -> tuple[list[Speaker], Speaker | None]:
    """The distinct speakers of the conversation, most turns first, and the host (the speaker of
    the first labelled turn: podcasts open with the host)."""
    counts = Counter(s.speaker for s in transcript.content_segments if s.speaker)
    groups: list[list[str]] = []
    for label, _ in counts.most_common():
        for g in groups:
            if same_person(label, g[0], 0.75) and len(label.split()) == len(g[0].split()):
                g.append(label)
                break
        else:
            groups.append([label])
    speakers = [Speaker(g[0], frozenset(g), sum(counts[x] for x in g)) for g in groups]
    speakers.sort(key=lambda s: (-s.turns, s.name))
    first = next((s.speaker for s in transcript.content_segments if s.speaker), None)
    host = next((sp for sp in speakers if first in sp.labels), None)
    return speakers, host


def evidence_from_span(
    transcript: Transcript,
    char_start: int,
    char_end: int,
    *,
    score: float,
    is_sponsor: bool | None = None,
    max_words: int = 40,
) -> Evidence:
    """An ``Evidence`` for ``transcript.text[char_start:char_end]`` (cut to ``max_words`` words),
    with time, block label, speaker and chapter looked up in the transcript."""
    text = transcript.text[char_start:char_end]
    words = list(re.finditer(r"\S+", text))
    if len(words) > max_words:
        char_end = char_start + words[max_words - 1].end()
        text = transcript.text[char_start:char_end]
    block = transcript.block_at(char_start)
    speaker = None
    chapter = None
    for seg in transcript.segments:
        if seg.char_start <= char_start < max(seg.char_end, seg.char_start + 1):
            speaker = seg.speaker
            if seg.chapter_index is not None and seg.chapter_index < len(transcript.chapters):
                chapter = transcript.chapters[seg.chapter_index].title
            break
    url = None
    if block is not None and block.url:
        url = block.url
    if is_sponsor is None:
        is_sponsor = transcript.sponsor_overlap(char_start, char_end) > 0
    return Evidence(
        start_s=transcript.time_at(char_start),
        end_s=transcript.time_at(char_end),
        timestamp=block.label if block else None,
        url=url,
        speaker=speaker,
        chapter=chapter,
        quote=" ".join(text.split()),
        score=round(float(score), 4),
        is_sponsor=bool(is_sponsor),
        char_start=char_start,
        char_end=char_end,
    )


# ----------------------------------------------------------------------------------------------
# The host's framing of a transcript without speaker labels
# ----------------------------------------------------------------------------------------------

_PERSON = re.compile(r"(?:[A-Z]\.|[A-Z][\w'’\-]+)(?:\s+(?:[A-Z]\.|[A-Z][\w'’\-]+|de|van|von|der|da|di|le|la)){0,3}")


@dataclass(frozen=True)
class FramedSpan:
    """A stretch of the transcript that the host speaks by the show's formulas.

    Attributes:
        part: ``"intro"`` (from "the following is a conversation with" to "here's my
            conversation with …") or ``"outro"`` (from "thanks for listening to this
            conversation" or "let me leave you with" to the end).
        char_start: offset of the span's first character in ``Transcript.text``.
        char_end: offset just past its last character.
    """

    part: str
    char_start: int
    char_end: int

    @property
    def label(self) -> str:
        """The part as a reader names it: "introduction" or "closing words"."""
        return {"intro": "introduction", "outro": "closing words"}.get(self.part, self.part)


@dataclass(frozen=True)
class HostFraming:
    """What the show's formulas tell about who speaks where, in a transcript without labels.

    Attributes:
        spans: the host's intro and outro, in transcript order (empty when no formula matched).
        guests: the names that follow "a conversation with" in them, as written.
    """

    spans: tuple[FramedSpan, ...] = ()
    guests: tuple[str, ...] = ()

    def span_at(self, char_start: int, char_end: int) -> FramedSpan | None:
        """The span that holds most of ``[char_start, char_end)``, ``None`` if none does."""
        length = max(1, char_end - char_start)
        for span in self.spans:
            inside = min(char_end, span.char_end) - max(char_start, span.char_start)
            if inside * 2 > length:
                return span
        return None

    def credits_guest(self, text: str, char_start: int, char_end: int) -> bool:
        """Whether the host credits ``text[char_start:char_end]`` to the guest, so that it is the
        guest's words or view, read or reported by the host: in the passage's own sentence, the
        guest's name or a pronoun with a reporting cue ("as Scott says", "where he argues that",
        "his main thesis is that", "quote,", or a quotation of a source the guest may have
        written: "a quote from Machines Who Think"), or, anywhere in its span before it, the
        formula of a reading of the guest ("let me leave you with some words from Scott Aaronson
        in his book": the reading can run on for a minute)."""
        span = self.span_at(char_start, char_end)
        if span is None:
            return False
        sentence, reading = _credit_patterns(self.guests)
        own = text[_sentence_start(text, char_start, span.char_start, none_found_at=False) : char_end]
        before = text[span.char_start : char_end]
        return any(p.search(own) for p in sentence) or any(p.search(before) for p in reading)

    def part_at(self, char_start: int, char_end: int) -> str | None:
        """The part (``intro``/``outro``) that holds most of ``[char_start, char_end)``."""
        span = self.span_at(char_start, char_end)
        return span.part if span else None


_REPORTING = r"(?:says|said|say|puts it|put it|wrote|writes|argues|argued|believes|told me|tells|calls)"
_VIEW = r"(?:thesis|argument|arguments|view|views|idea|ideas|words|line|claim|book|paper|point)"


@functools.lru_cache(maxsize=64)
def _credit_patterns(guests: tuple[str, ...]) -> tuple[list[re.Pattern[str]], list[re.Pattern[str]]]:
    """Reporting cues that credit a passage to one of ``guests``: those that must share its
    sentence, and the formulas of a reading that may come a sentence before it (compiled once
    per guest list, not once per claim)."""
    tokens = sorted({t for g in guests for t in re.findall(r"[A-Za-z][\w'’\-]{2,}", g)})
    name = r"(?:" + "|".join(re.escape(t) for t in tokens) + r")" if tokens else r"(?!x)x"
    who = rf"(?:{name}(?:['’]s)?|he|she)"
    sentence = [
        re.compile(rf"\b{who},?\s+(?:\w+[\s,]+){{0,2}}?{_REPORTING}\b", re.IGNORECASE),
        re.compile(rf"\bas\s+(?:\w+\s+)?{name}\b", re.IGNORECASE),
        re.compile(rf"\b(?:his|her|{name}['’]s)\s+(?:\w+\s+){{0,2}}?{_VIEW}\b", re.IGNORECASE),
        re.compile(r"\bquote,", re.IGNORECASE),
        re.compile(r"\b(?:a|the|this)\s+(?:\w+\s+)?(?:quote|quotation|line|passage)\s+(?:from|by|of|in)\b", re.IGNORECASE),
    ]
    reading = [
        re.compile(rf"\b(?:words|quote|quotes|line|lines)\s+(?:of\s+wisdom\s+)?(?:from|of|by)\s+(?:\w+\s+){{0,2}}?{name}\b", re.IGNORECASE),
    ]
    return sentence, reading


def _compile(patterns: Iterable[str], what: str) -> list[re.Pattern[str]]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(f"host framing: bad {what} pattern {p!r}: {exc}") from exc
    return out


_SENTENCE_REACH = 300
"""Characters a span may reach back or on to its sentence's edge; past that (captions without
punctuation) the span starts or ends at the formula itself."""


def _sentence_start(text: str, at: int, floor: int, *, none_found_at: bool = True) -> int:
    """Offset where the sentence holding ``at`` starts (after the last . ! ? before it); with
    no sentence end within reach, ``at`` itself (``none_found_at``) or the reach's start."""
    floor = max(floor, at - _SENTENCE_REACH)
    cut = max(text.rfind(ch, floor, at) for ch in ".!?")
    if cut < 0:
        return at if none_found_at else floor
    return cut + 1 + (len(text[cut + 1 : at]) - len(text[cut + 1 : at].lstrip()))


def _sentence_end(text: str, at: int, limit: int) -> int:
    """Offset just past the sentence end (. ! ?) at or after ``at``, at most ``limit``."""
    limit = min(limit, at + _SENTENCE_REACH)
    m = re.compile(r"[.!?](?=\s|$)").search(text, at, limit)
    return m.end() if m else limit


def host_framing(
    transcript: Transcript,
    *,
    openings: Sequence[str],
    conversation_starts: Sequence[str],
    outros: Sequence[str],
    intro_max_share: float,
    outro_min_share: float,
) -> HostFraming:
    """The host's intro and outro of a transcript, found by the show's formulas.

    Only for transcripts whose turns carry no speaker label (captions): with labels, the labels
    say who speaks. The intro runs from the sentence of the first ``openings`` match ("The
    following is a conversation with …") in the first ``intro_max_share`` of the text to the end
    of the sentence of the next ``conversation_starts`` match ("here's my conversation with …");
    a cold open before it (the guest's clip) stays out. The outro runs from the sentence of the
    first ``outros`` match ("thanks for listening to this conversation", "let me leave you with")
    after ``outro_min_share`` of the text to the end. A part whose formulas do not both match is
    left out, so the result is never a guess.

    Args:
        transcript: the parsed transcript.
        openings, conversation_starts, outros: regular expressions (case-insensitive).
        intro_max_share, outro_min_share: where the intro may end and the outro may start, as a
            share of the conversation's text.

    Returns:
        The framing; empty when the transcript has speaker labels or no formula matched.
    """
    if any(s.speaker for s in transcript.content_segments):
        return HostFraming()
    content = transcript.content_segments
    if not content:
        return HostFraming()
    lo, hi = content[0].char_start, content[-1].char_end
    text = transcript.text
    size = max(1, hi - lo)
    intro_limit = lo + int(size * intro_max_share)
    outro_floor = lo + int(size * outro_min_share)
    spans: list[FramedSpan] = []
    opening = min(
        (m for p in _compile(openings, "opening") for m in [p.search(text, lo, intro_limit)] if m),
        key=lambda m: m.start(),
        default=None,
    )
    if opening is not None:
        start = min(
            (m for p in _compile(conversation_starts, "conversation start") for m in [p.search(text, opening.end(), intro_limit)] if m),
            key=lambda m: m.start(),
            default=None,
        )
        if start is not None:
            spans.append(
                FramedSpan("intro", _sentence_start(text, opening.start(), lo), _sentence_end(text, start.end(), hi))
            )
    outro = min(
        (m for p in _compile(outros, "outro") for m in [p.search(text, outro_floor, hi)] if m),
        key=lambda m: m.start(),
        default=None,
    )
    if outro is not None:
        spans.append(FramedSpan("outro", _sentence_start(text, outro.start(), outro_floor), hi))
    guests: list[str] = []
    for span in spans:
        for m in re.finditer(r"\bconversation with\s+", text[span.char_start : span.char_end], re.IGNORECASE):
            name = _PERSON.match(text, span.char_start + m.end(), span.char_end)
            if name:
                person = name.group(0).rstrip(".'’-")
                if person and not any(same_person(person, g) for g in guests):
                    guests.append(person)
    return HostFraming(tuple(spans), tuple(guests))
