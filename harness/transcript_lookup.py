"""Looking things up in a parsed transcript, shared by the quote stage and the flag detectors
(so neither imports the other): who speaks (near-identical labels merged into one speaker),
which speaker a person's name means, and the ``Evidence`` record of a span.
"""

from __future__ import annotations

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
