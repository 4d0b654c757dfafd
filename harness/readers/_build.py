"""Building a ``Transcript`` from what a reader found: turns, timestamp blocks, chapter headings.

Every reader produces the same model. A reader collects raw records with offsets into the text it
returns as ``Transcript.text`` (the file itself for page and text layouts, the merged sentence
text for caption formats) and calls ``assemble``, which derives block ends, chapter times,
segment times, timestamps and chapter indices the same way for every format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Sequence
from urllib.parse import parse_qs, urlparse

from harness.errors import InputFileError
from harness.text import parse_clock
from harness.types import Chapter, Segment, TimestampBlock, Transcript


@dataclass
class TextLine:
    """One line of a text file: its 1-based number, its character offset, its text without the newline."""

    no: int
    start: int
    text: str


def text_lines(text: str) -> list[TextLine]:
    """The lines of ``text`` with their numbers and offsets (shared by the transcript readers)."""
    out, pos = [], 0
    for no, raw in enumerate(text.splitlines(keepends=True), start=1):
        out.append(TextLine(no=no, start=pos, text=raw.rstrip("\r\n")))
        pos += len(raw)
    return out


def timestamp_seconds(label: str, url: str | None) -> int | None:
    """Seconds of a timestamp link ``[label](url)``: the link's ``t=`` parameter (``t=145``,
    ``t=145s``) when it has one, else the clock ``label``; ``None`` when neither is a time."""
    seconds = parse_clock(label)
    if url:
        query = parse_qs(urlparse(url).query)
        t = query.get("t", [None])[0]
        if t is not None:
            t = t.rstrip("s")
            if t.isdecimal():  # not isdigit: "²" is a digit that int() rejects
                return int(t)
    return seconds



def block_seconds(path: str, line_no: int, label: str, url: str | None, previous: Any, warnings: list[str]) -> int:
    """Seconds of the timestamp line ``[label](url)`` at ``line_no`` of ``path``
    (``timestamp_seconds``), with a warning appended when it goes back in time from the
    ``previous`` block (anything with ``start_s``, ``label`` and ``line_no``; ``None`` for the first).

    Raises:
        InputFileError: the line holds no readable time.
    """
    seconds = timestamp_seconds(label, url)
    if seconds is None:
        raise InputFileError(path, f"line {line_no}: cannot read timestamp {label!r}")
    if previous is not None and seconds < previous.start_s:
        warnings.append(
            f"line {line_no}: timestamp {label} goes back in time "
            f"(previous {previous.label} at line {previous.line_no}); times near it are approximate"
        )
    return seconds

@dataclass
class RawTurn:
    """A speaker turn (or a paragraph of one) as offsets into the transcript text."""

    speaker: str | None
    start: int
    end: int
    line_no: int
    is_content: bool = True


@dataclass
class RawBlock:
    """A run of text that starts at one known time.

    ``end_s`` and ``char_end`` may be left ``None``: the block then ends where the next one
    starts (``char_end`` also stops at a chapter heading that comes first).
    """

    start_s: float
    label: str
    url: str | None
    line_no: int
    char_start: int
    end_s: float | None = None
    char_end: int | None = None


@dataclass
class RawChapter:
    """A chapter heading (or listed chapter) at an offset; ``start_s`` ``None`` means the time of
    the first timestamp under it."""

    title: str
    line_no: int
    char_start: int
    start_s: float | None = None


def assemble(
    *,
    text: str,
    path: str,
    sha256: str,
    fmt: str,
    title: str | None,
    video_url: str | None,
    turns: Sequence[RawTurn],
    blocks: Sequence[RawBlock],
    chapters: Sequence[RawChapter] = (),
    warnings: Sequence[str] = (),
    duration_s: float | None = None,
    chapter_source: str | None = None,
) -> Transcript:
    """The ``Transcript`` for the raw records (turns, blocks and chapters in text order)."""
    text_len = len(text)
    heading_starts = [c.char_start for c in chapters]
    built_blocks = []
    for i, rb in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if rb.char_end is not None:
            char_end = rb.char_end
        else:
            char_end = min([nxt.char_start if nxt else text_len] + [h for h in heading_starts if h > rb.char_start])
        if rb.end_s is not None:
            end_s: float | None = max(rb.start_s, rb.end_s)
        else:
            end_s = max(rb.start_s, nxt.start_s) if nxt else None
        chapter_index = sum(1 for h in heading_starts if h <= rb.char_start) - 1
        start = min(rb.char_start, text_len)
        built_blocks.append(
            TimestampBlock(
                index=i,
                start_s=float(rb.start_s),
                end_s=None if end_s is None else float(end_s),
                label=rb.label,
                url=rb.url,
                chapter_index=chapter_index if chapter_index >= 0 else None,
                line_no=rb.line_no,
                char_start=start,
                char_end=max(start, min(char_end, text_len)),
            )
        )
    block_tuple = tuple(built_blocks)
    if duration_s is None and block_tuple:
        duration_s = max(b.start_s for b in block_tuple)
    draft = Transcript(
        path=path,
        sha256=sha256,
        text=text,
        format=fmt,
        title=title,
        video_url=video_url,
        chapters=(),
        blocks=block_tuple,
        segments=(),
        duration_s=duration_s,
        warnings=tuple(warnings),
    )
    chapter_tuple = build_chapters(chapters, turns, draft)
    segments = tuple(
        Segment(
            index=i,
            speaker=t.speaker,
            text=text[t.start : t.end],
            start_s=draft.time_at(t.start) if t.is_content else None,
            end_s=draft.time_at(t.end) if t.is_content else None,
            timestamp=(b.label if (b := draft.block_at(t.start)) and t.is_content else None),
            chapter_index=chapter_index_at(chapter_tuple, t.start),
            line_no=t.line_no,
            char_start=t.start,
            char_end=t.end,
            is_content=t.is_content,
        )
        for i, t in enumerate(turns)
    )
    source = chapter_source or ("headings" if chapter_tuple else "none")
    return replace(draft, chapters=chapter_tuple, segments=segments, chapter_source=source)


def build_chapters(raw: Sequence[RawChapter], turns: Sequence[RawTurn], draft: Transcript) -> tuple[Chapter, ...]:
    """Chapters with start times (their own, else the first timestamp or turn under them) and
    end times (the next chapter's start, the episode's end for the last one)."""
    rows = []
    text_len = len(draft.text)
    for i, ch in enumerate(raw):
        char_end = raw[i + 1].char_start if i + 1 < len(raw) else text_len
        start_s = ch.start_s
        if start_s is None:
            first_turn = next((t for t in turns if ch.char_start <= t.start < char_end and t.is_content), None)
            first_block = next((b for b in draft.blocks if ch.char_start <= b.char_start <= char_end), None)
            if first_block and (first_turn is None or first_block.char_start <= first_turn.start):
                start_s = first_block.start_s
            elif first_turn is not None:
                start_s = draft.time_at(first_turn.start)
        rows.append((ch.title, start_s, ch.line_no, ch.char_start, char_end))
    out = []
    for i, (title, start_s, line_no, char_start, char_end) in enumerate(rows):
        end_s = rows[i + 1][1] if i + 1 < len(rows) else draft.duration_s
        out.append(
            Chapter(
                index=i,
                title=title,
                start_s=start_s,
                end_s=end_s,
                line_no=line_no,
                char_start=char_start,
                char_end=char_end,
            )
        )
    return tuple(out)


def chapter_index_at(chapters: Sequence[Chapter], offset: int) -> int | None:
    """The chapter holding a character offset (``None`` before the first one)."""
    for ch in reversed(chapters):
        if ch.char_start <= offset:
            return ch.index
    return None


# ----------------------------------------------------------------------------------------------
# Speaker labels in plain text: "Name: text"
# ----------------------------------------------------------------------------------------------

# A label is one to four name-like words (or SPEAKER_00 / Speaker 1 / ALL CAPS), then a colon.
LABEL = re.compile(
    r"^(?:\*\*|__)?(?P<name>(?:[A-Z][\w.'’\-]*|[A-Z]{2,}|SPEAKER_\d+)(?:[ \t]+(?:[A-Z][\w.'’\-]*|\d+|de|van|von|da|le|la)){0,3})"
    r"(?:\*\*|__)?[ \t]*:(?:\*\*|__)?(?:[ \t]+(?=\S)|[ \t]*$)"
)
# Words that often open a prose line with a colon and are not speakers.
_NOT_SPEAKERS = frozenset(
    "note notes example examples source sources update edit warning tip important summary "
    "question answer transcript chapter chapters title date time url link links ps nb "
    "update edit disclaimer caveat".split()
)


def accepted_labels(candidates: Sequence[str]) -> frozenset[str]:
    """Which ``Name:`` candidates are speaker labels: a label used at least twice, or used once
    next to a label used at least twice; never a word such as ``Note`` or ``Example``."""
    counts: dict[str, int] = {}
    for name in candidates:
        if name.lower() in _NOT_SPEAKERS:
            continue
        counts[name] = counts.get(name, 0) + 1
    if not any(n >= 2 for n in counts.values()):
        return frozenset()
    return frozenset(counts)


def video_base(url: str | None) -> str | None:
    """A video link without its time parameter (``…watch?v=ID&t=42`` → ``…watch?v=ID``)."""
    if not url:
        return None
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("t=")]
    return base + ("?" + "&".join(kept) if kept else "")
