"""Chapter lists: read ``0:00 Introduction`` / ``Intro (0:00)`` lines and place the chapters
they list in a transcript.

A chapter list is what a video description gives (``transcript.chapters=FILE``), or the table
of contents of a transcript page (``harness.readers.page``). Each listed time is placed at the
first turn, timestamp block or sentence of the conversation at or after it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from harness.errors import InputFileError
from harness.readers._build import chapter_index_at
from harness.text import format_clock, parse_clock, split_sentences
from harness.types import Chapter, Transcript

CHAPTER_SOURCES = ("headings", "file", "auto", "none")

# ----------------------------------------------------------------------------------------------
# Chapter lists: "0:00 Introduction", "1:02:30 – Meaning of life", "Intro (0:00)"
# ----------------------------------------------------------------------------------------------

_CLOCK_RE = r"\d{1,2}(?::\d{1,2}){1,2}"
_LIST_MARK = r"(?:[-*+•]\s+|\d+[.)]\s+)?"
_CHAPTER_TIME_FIRST = re.compile(
    rf"^\s*{_LIST_MARK}[\[(]?(?P<clock>{_CLOCK_RE})[\])]?(?:\s*[-–—:|.)]\s*|\s+)(?P<title>\S.*?)\s*$"
)
_CHAPTER_TITLE_FIRST = re.compile(
    rf"^\s*{_LIST_MARK}(?P<title>\S.*?)(?:\s*[-–—:|]\s*|\s+)[\[(]?(?P<clock>{_CLOCK_RE})[\])]?\s*$"
)
_LINK_LABEL = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class ChapterEntry:
    """A chapter from a list: its start time, title and 1-based line in the list's file."""

    start_s: float
    title: str
    line_no: int


def parse_chapter_line(line: str, *, title_first: bool = False) -> tuple[float, str] | None:
    """``(seconds, title)`` of a chapter-list line such as ``1:02:30 Meaning of life`` or
    ``* 2:18 – Limits of LLMs`` (with ``title_first``: ``Meaning of life (1:02:30)``);
    ``None`` for other lines."""
    plain = _LINK_LABEL.sub(lambda m: m.group(1), line).replace("**", "")
    m = (_CHAPTER_TITLE_FIRST if title_first else _CHAPTER_TIME_FIRST).match(plain)
    if m:
        seconds = parse_clock(m.group("clock"))
        title = m.group("title").strip().strip("-–—:|").strip()
        if seconds is not None and title and any(ch.isalpha() for ch in title):
            return float(seconds), title
    return None


def parse_chapter_list(text: str, path: str) -> tuple[ChapterEntry, ...]:
    """The chapters of a chapter list (e.g. pasted from a video description). Lines that are not
    chapter lines (links, sponsor lines, blank lines) are skipped.

    Raises:
        InputFileError: no chapter line, or a chapter that starts before the one above it.
    """
    lines = text.splitlines()
    # Time-first lines ("0:00 Intro") are the usual form; title-first lines ("Intro 0:00") are
    # read only from a list that has none, so a description line ending in a time is not taken.
    title_first = not any(parse_chapter_line(line) for line in lines)
    entries: list[ChapterEntry] = []
    for no, line in enumerate(lines, start=1):
        parsed = parse_chapter_line(line, title_first=title_first)
        if parsed is None:
            continue
        seconds, title = parsed
        if entries and seconds <= entries[-1].start_s:
            prev = entries[-1]
            raise InputFileError(
                path,
                f"line {no}: chapter {title!r} at {format_clock(seconds)} does not start after "
                f"{prev.title!r} at {format_clock(prev.start_s)} (line {prev.line_no})",
            )
        entries.append(ChapterEntry(seconds, title, no))
    if not entries:
        raise InputFileError(path, "no chapter lines found (expected lines like '0:00 Introduction')")
    return tuple(entries)


def with_chapters(transcript: Transcript, chapters: Sequence[Chapter], source: str) -> Transcript:
    """A copy of ``transcript`` with ``chapters`` (from ``source``, one of ``CHAPTER_SOURCES``)
    and every block's and segment's ``chapter_index`` recomputed from the chapters' offsets."""
    if source not in CHAPTER_SOURCES:  # pragma: no cover - a caller bug
        raise ValueError(f"unknown chapter source {source!r}")
    chapters = tuple(chapters)
    blocks = tuple(replace(b, chapter_index=chapter_index_at(chapters, b.char_start)) for b in transcript.blocks)
    segments = tuple(replace(s, chapter_index=chapter_index_at(chapters, s.char_start)) for s in transcript.segments)
    return replace(transcript, chapters=chapters, blocks=blocks, segments=segments, chapter_source=source)


def place_chapters(
    transcript: Transcript, entries: Sequence[ChapterEntry], *, origin: str
) -> tuple[tuple[Chapter, ...], list[str]]:
    """Chapters for listed start times: each starts at the first turn, timestamp block or
    sentence of the conversation whose (estimated) time is at or after the listed time.

    Returns the chapters and warnings (a listed chapter past the transcript's end is dropped).

    Raises:
        InputFileError: the transcript has no timestamps, so times cannot be placed (``origin``
            names the list in the message).
    """
    if not transcript.blocks:
        raise InputFileError(
            origin, "the transcript has no timestamps, so a chapter list by time cannot be placed in it"
        )
    candidates: set[int] = set()
    for seg in transcript.content_segments:
        candidates.add(seg.char_start)
        for s, _ in split_sentences(seg.text):
            candidates.add(seg.char_start + s)
    content_start = min(candidates) if candidates else 0
    candidates.update(b.char_start for b in transcript.blocks if b.char_start >= content_start)
    timed = [(off, transcript.time_at(off)) for off in sorted(candidates)]
    warnings: list[str] = []
    placed: list[tuple[ChapterEntry, int]] = []
    for entry in entries:
        # half a second of slack: labels are rounded to whole seconds
        offset = next((off for off, t in timed if t is not None and t >= entry.start_s - 0.5), None)
        if offset is None:
            warnings.append(
                f"chapter {entry.title!r} at {format_clock(entry.start_s)} starts after the "
                f"transcript's last timestamp; it was left out"
            )
            continue
        if placed and offset < placed[-1][1]:
            offset = placed[-1][1]
        placed.append((entry, offset))
    text_len = len(transcript.text)
    chapters = []
    for i, (entry, offset) in enumerate(placed):
        nxt = placed[i + 1] if i + 1 < len(placed) else None
        chapters.append(
            Chapter(
                index=i,
                title=entry.title,
                start_s=entry.start_s,
                end_s=nxt[0].start_s if nxt else transcript.duration_s,
                line_no=entry.line_no,
                char_start=offset,
                char_end=nxt[1] if nxt else text_len,
            )
        )
    return tuple(chapters), warnings
