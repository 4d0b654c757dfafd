"""Parse stage, transcript side: a transcript file → ``Transcript`` (chapters, blocks, turns).

Readers are registered by name in ``TRANSCRIPT_READERS`` and picked by ``transcript.format``;
``transcript.format=auto`` picks one by content (``detect_format``): every reader has a sniffer
in ``TRANSCRIPT_SNIFFERS`` that rates how surely a text is in its format, the best rating wins,
and a tie is an error that names the candidates. The other readers live in ``harness.readers``
(transcript page, WebVTT, SRT, Whisper JSON, plain text) and register themselves when
``load_transcript`` first imports that package.

Chapters come from the transcript's own headings, or from a chapter list the user gives
(``transcript.chapters=FILE``, YouTube-description lines such as ``1:02:30 Meaning of life``;
``apply_chapter_list``), which replaces them; ``Transcript.chapter_source`` records which.

This module ships the ``markdown_blog`` reader for the reference layout:

- optional Jekyll front matter (``---`` … ``---``; its ``title:`` becomes the title),
- a preface before the conversation (e.g. the post author's note in Russian), kept as
  non-content segments,
- ``## `` chapter headings,
- ``[m:ss](https://youtu.be/ID?t=N)`` timestamp lines (``t=`` wins over the label),
- ``**Speaker:** text`` turns; a paragraph without a label continues the previous speaker.

Speaker labels are kept exactly as written, even when they are misspelled.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import parse_qs, urlparse

from harness.errors import InputFileError
from harness.registry import Registry
from harness.textio import read_text_file
from harness.types import Chapter, Transcript

log = logging.getLogger(__name__)

TranscriptReader = Callable[[str, str, str], Transcript]
"""A reader takes (text, path, sha256) and returns a ``Transcript`` without sponsor segments."""

TRANSCRIPT_READERS: Registry[TranscriptReader] = Registry("transcript format")

TranscriptSniffer = Callable[[str], float]
"""A sniffer rates how surely a text is in its reader's format: 0 = not this format, 0.5 = any
text (the plain-text fallback), 1 = generic markers (``[mm:ss]``, ``Name:``), 2 = the layout's
own markers, 3 = a signature only this format has (``WEBVTT`` header, SRT cue numbering,
Whisper's JSON structure)."""

TRANSCRIPT_SNIFFERS: dict[str, TranscriptSniffer] = {}

AUTO_FORMAT = "auto"
CHAPTER_SOURCES = ("headings", "file", "auto", "none")


def register_sniffer(name: str) -> Callable[[TranscriptSniffer], TranscriptSniffer]:
    """Decorator that registers the content sniffer of the reader ``name``."""

    def decorator(fn: TranscriptSniffer) -> TranscriptSniffer:
        if name in TRANSCRIPT_SNIFFERS:
            raise ValueError(f"transcript sniffer {name!r} is registered twice")
        TRANSCRIPT_SNIFFERS[name] = fn
        return fn

    return decorator

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
_HEADING = re.compile(r"^#{1,3}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_TIMESTAMP_LINE = re.compile(r"^\[(\d{1,2}(?::\d{1,2}){1,2})\]\(([^)\s]*)\)[ \t]*$")
_SPEAKER = re.compile(r"^\*\*([^*\n]{1,80}?):\*\*[ \t]*")


def parse_clock(label: str) -> int | None:
    """Seconds of a clock label ``m:ss``, ``mm:ss`` or ``h:mm:ss``; ``None`` if it is not one.

    Minutes and seconds after the first field must be below 60 (``99:99:99`` is not a time).
    """
    parts = label.strip().split(":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        return None
    nums = [int(p) for p in parts]
    if any(n >= 60 for n in nums[1:]):
        return None
    total = 0
    for n in nums:
        total = total * 60 + n
    return total


def format_clock(seconds: float | None) -> str | None:
    """``m:ss`` or ``h:mm:ss`` for a number of seconds, like the reference transcript writes."""
    if seconds is None:
        return None
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


@dataclass
class TextLine:
    """One line of a text file: its 1-based number, its character offset, its text without the newline."""

    no: int
    start: int
    text: str


@dataclass
class _RawBlock:
    start_s: float
    label: str
    url: str | None
    line_no: int
    line_start: int
    text_start: int


@dataclass
class _OpenTurn:
    speaker: str | None
    start: int
    end: int
    line_no: int
    is_content: bool


def text_lines(text: str) -> list[TextLine]:
    """The lines of ``text`` with their numbers and offsets (shared by the transcript readers)."""
    out, pos = [], 0
    for no, raw in enumerate(text.splitlines(keepends=True), start=1):
        out.append(TextLine(no=no, start=pos, text=raw.rstrip("\r\n")))
        pos += len(raw)
    return out


@TRANSCRIPT_READERS.register("markdown_blog")
def read_markdown_blog(text: str, path: str, sha256: str) -> Transcript:
    """Parse the Markdown blog layout (see module docstring).

    Raises:
        InputFileError: no timestamps and no speaker labels (not this layout), or a timestamp
            that cannot be read. Timestamps that go back in time are kept and reported in
            ``Transcript.warnings`` (the reference transcript has one).
    """
    title = None
    body_start = 0
    fm = _FRONT_MATTER.match(text)
    if fm:
        body_start = fm.end()
        for line in fm.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "title" and value.strip():
                title = value.strip().strip("\"'")

    chapters_raw: list[tuple[str, int, int]] = []  # title, line_no, char_start
    blocks_raw: list[_RawBlock] = []
    turns: list[_OpenTurn] = []
    current: _OpenTurn | None = None
    seen_conversation = False
    video_url = None
    warnings: list[str] = []

    def close() -> None:
        nonlocal current
        if current is not None:
            turns.append(current)
            current = None

    for line in text_lines(text):
        if line.start < body_start:
            continue
        stripped = line.text.strip()
        if not stripped:
            continue
        if heading := _HEADING.match(stripped):
            close()
            chapters_raw.append((heading.group(1).strip(), line.no, line.start))
            seen_conversation = True
            continue
        if ts := _TIMESTAMP_LINE.match(stripped):
            close()
            label, url = ts.group(1), ts.group(2) or None
            seconds = _timestamp_seconds(label, url)
            if seconds is None:
                raise InputFileError(path, f"line {line.no}: cannot read timestamp {label!r}")
            if blocks_raw and seconds < blocks_raw[-1].start_s:
                prev = blocks_raw[-1]
                warnings.append(
                    f"line {line.no}: timestamp {label} goes back in time "
                    f"(previous {prev.label} at line {prev.line_no}); times near it are approximate"
                )
            if url and video_url is None:
                video_url = url.split("?")[0]
            blocks_raw.append(
                _RawBlock(float(seconds), label, url, line.no, line.start, line.start + len(line.text) + 1)
            )
            seen_conversation = True
            continue
        lead = len(line.text) - len(line.text.lstrip())
        speaker_match = _SPEAKER.match(stripped)
        if speaker_match:
            close()
            seen_conversation = True
            start = line.start + lead + speaker_match.end()
            current = _OpenTurn(
                speaker=speaker_match.group(1).strip(),
                start=start,
                end=line.start + len(line.text.rstrip()),
                line_no=line.no,
                is_content=True,
            )
            continue
        # A paragraph without a label: continues the open turn, or starts an unlabelled one
        # (carrying on the previous speaker after a timestamp line, as the layout does).
        end = line.start + len(line.text.rstrip())
        if current is not None:
            current.end = end
            continue
        speaker = turns[-1].speaker if turns and seen_conversation else None
        current = _OpenTurn(
            speaker=speaker,
            start=line.start + lead,
            end=end,
            line_no=line.no,
            is_content=seen_conversation,
        )
    close()

    if not blocks_raw and not any(t.speaker for t in turns):
        raise InputFileError(
            path,
            "does not look like a markdown_blog transcript: no [m:ss](link) timestamp lines "
            "and no **Speaker:** labels found",
        )
    if not any(t.is_content for t in turns):
        raise InputFileError(path, "transcript has no conversation text")

    # Imported here: the readers package imports this module to register its readers.
    from harness.readers._build import RawBlock, RawChapter, RawTurn, assemble

    heading_starts = [start for _, _, start in chapters_raw]
    blocks = []
    for i, rb in enumerate(blocks_raw):
        nxt = blocks_raw[i + 1] if i + 1 < len(blocks_raw) else None
        # A block's text runs to the next timestamp line, or to the next heading if that comes first.
        char_end = min([nxt.line_start if nxt else len(text)] + [h for h in heading_starts if h > rb.text_start])
        blocks.append(RawBlock(rb.start_s, rb.label, rb.url, rb.line_no, rb.text_start, char_end=char_end))
    return assemble(
        text=text,
        path=path,
        sha256=sha256,
        fmt="markdown_blog",
        title=title,
        video_url=video_url,
        turns=[RawTurn(t.speaker, t.start, t.end, t.line_no, t.is_content) for t in turns],
        blocks=blocks,
        chapters=[RawChapter(name, line_no, start) for name, line_no, start in chapters_raw],
        warnings=warnings,
    )


@register_sniffer("markdown_blog")
def sniff_markdown_blog(text: str) -> float:
    """2 when the text has ``[m:ss](link)`` timestamp lines, or ``**Speaker:**`` labels and no
    other kind of time marker; else 0."""
    stamps = speakers = 0
    for line in text.splitlines():
        stripped = line.strip()
        if _TIMESTAMP_LINE.match(stripped):
            stamps += 1
        elif _SPEAKER.match(stripped):
            speakers += 1
    if stamps:
        return 2.0
    if speakers >= 2 and not _OTHER_TIME_MARKER.search(text):
        return 2.0
    return 0.0


# Time markers the markdown_blog reader does not read: "[00:01:02]", "(01:02)", "[(01:02)](…)".
_OTHER_TIME_MARKER = re.compile(r"[\[(]\(?\d{1,2}(?::\d{2}){1,2}(?:[.,]\d+)?\)?[\])]", re.M)


def _timestamp_seconds(label: str, url: str | None) -> int | None:
    seconds = parse_clock(label)
    if url:
        query = parse_qs(urlparse(url).query)
        t = query.get("t", [None])[0]
        if t is not None:
            t = t.rstrip("s")
            if t.isdigit():
                return int(t)
    return seconds


def _chapter_lookup(chapters: tuple[Chapter, ...]) -> Callable[[int], int | None]:
    def chapter_of(offset: int) -> int | None:
        for ch in reversed(chapters):
            if ch.char_start <= offset:
                return ch.index
        return None

    return chapter_of


def load_readers() -> None:
    """Import ``harness.readers`` so every bundled reader and sniffer is registered."""
    import harness.readers  # noqa: F401


def detect_format(text: str, path: str = "<text>") -> str:
    """The reader whose sniffer rates ``text`` highest (see ``TranscriptSniffer``).

    Raises:
        InputFileError: no reader recognises the text, or several share the best rating
            (the message names them, so the user can set ``transcript.format``).
    """
    load_readers()
    scores = {name: float(sniff(text)) for name, sniff in sorted(TRANSCRIPT_SNIFFERS.items())}
    best = max(scores.values(), default=0.0)
    if best <= 0:
        from harness.readers.text import untimed_text_problem

        why = untimed_text_problem(text) if text.strip() else "the file holds no text"
        raise InputFileError(
            path,
            f"no transcript format fits ({', '.join(sorted(scores))}): {why}; "
            "set transcript.format=text to read it as plain text anyway",
        )
    top = [name for name, score in scores.items() if score == best]
    if len(top) > 1:
        raise InputFileError(
            path,
            f"ambiguous transcript format: it could be {' or '.join(top)}; "
            f"set transcript.format to one of them",
        )
    return top[0]


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
    chapter_of = _chapter_lookup(chapters)
    blocks = tuple(replace(b, chapter_index=chapter_of(b.char_start)) for b in transcript.blocks)
    segments = tuple(replace(s, chapter_index=chapter_of(s.char_start)) for s in transcript.segments)
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
    from harness.formats.base import split_sentences

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


def apply_chapter_list(transcript: Transcript, chapters_path: str | Path, *, max_bytes: int = 5_000_000) -> Transcript:
    """``transcript`` with the chapters of the list file ``chapters_path`` (source ``file``);
    they replace the transcript's own chapters (a warning says so).

    Raises:
        InputFileError: the list is unreadable, has no chapter line, is out of order, or the
            transcript has no timestamps to place it by.
    """
    source = read_text_file(chapters_path, max_bytes=max_bytes)
    entries = parse_chapter_list(source.text, str(chapters_path))
    chapters, warnings = place_chapters(transcript, entries, origin=str(chapters_path))
    if transcript.chapters:
        warnings.insert(
            0,
            f"the chapter list {chapters_path} replaces the {len(transcript.chapters)} chapters "
            f"found in the transcript",
        )
    updated = with_chapters(transcript, chapters, "file")
    return replace(updated, warnings=transcript.warnings + tuple(warnings))


def load_transcript(
    path: str | Path,
    fmt: str = "markdown_blog",
    *,
    max_bytes: int = 5_000_000,
    chapters: str | Path | None = None,
) -> Transcript:
    """Read and parse a transcript file with the reader registered as ``fmt`` (``auto``: the
    reader ``detect_format`` picks), then apply the chapter list ``chapters`` if one is given.

    Sponsor segments are not detected here; ``harness.sponsors.mark_sponsors`` adds them.

    Raises:
        InputFileError: the file (or the chapter list) is unreadable or does not parse, or
            ``auto`` cannot tell the format.
        ConfigError: ``fmt`` is not a registered reader.
    """
    load_readers()
    if fmt != AUTO_FORMAT:
        reader = TRANSCRIPT_READERS.get(fmt)
    source = read_text_file(path, max_bytes=max_bytes)
    if fmt == AUTO_FORMAT:
        fmt = detect_format(source.text, str(path))
        log.info("transcript %s: format detected as %s", path, fmt)
        reader = TRANSCRIPT_READERS.get(fmt)
    transcript = reader(source.text, str(path), source.sha256)
    if chapters:
        transcript = apply_chapter_list(transcript, chapters, max_bytes=max_bytes)
    log.info(
        "transcript %s: %d chapters (%s), %d blocks, %d turns",
        path,
        len(transcript.chapters),
        transcript.chapter_source,
        len(transcript.blocks),
        len(transcript.segments),
    )
    return transcript
