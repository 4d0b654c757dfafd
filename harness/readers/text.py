"""The ``text`` reader: a plain-text transcript, with or without times and speaker names.

What it reads, all optional:

- time markers ``[hh:mm:ss]``, ``[mm:ss]``, ``(hh:mm:ss)``, ``(mm:ss)`` (a fraction of a second
  such as ``.500`` is allowed, and whisper.cpp's ``[00:00:01.000 --> 00:00:04.000]`` ranges) at
  the start of a line or inside it, and a bare ``hh:mm:ss`` alone on a line (a copied YouTube
  transcript) or opening lines throughout the file;
- speaker labels ``Name: text`` (also ``**Name:**``, ``SPEAKER_00:``, ``Speaker 1:``), after a
  marker or before it (``[00:01:02] Host: …``, ``Host (00:01:02): …``), or a ``Name  0:03``
  line above the paragraph (Otter exports). A ``Name:`` is taken as a label only when some
  label occurs at least twice (one right after a time marker counts twice), so a prose line
  opening with ``Note:`` is not a speaker;
- ``#`` headings, which become chapters (a single ``# `` title line at the top is the title).

Segments are cut at every marker, label and blank line (a file without blank lines has one
paragraph per line); a paragraph without a label continues the previous speaker. Each marker
opens a timestamp block. Without any marker the transcript has no blocks: every time is
``None`` and evidence is located by character offsets only. The transcript text is the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import InputFileError
from harness.readers._build import LABEL, RawBlock, RawChapter, RawTurn, TextLine, accepted_labels, assemble, text_lines
from harness.readers.base import TRANSCRIPT_READERS, register_sniffer
from harness.text import format_clock, parse_clock
from harness.types import Transcript

FORMAT = "text"

_CLOCK = r"\d{1,2}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?"
# "[00:01:02]", "(01:02)", "[00:00:01.000 --> 00:00:04.000]"
_MARKER = re.compile(rf"[\[(](?P<clock>{_CLOCK})(?:[ \t]*-->[ \t]*(?P<clock2>{_CLOCK}))?[\])]")
_BARE_ALONE = re.compile(rf"^[ \t]*(?P<clock>{_CLOCK})[ \t]*$")
_BARE_START = re.compile(rf"^[ \t]*(?P<clock>{_CLOCK})(?:[ \t]*[-–—|][ \t]*|[ \t]+)(?=\S)")
# "Host (00:01:02): text", "Host [01:02] text", and the Otter header line "Host  0:03".
_NAME = r"(?P<name>(?:[A-Z][\w.'’\-]*|SPEAKER_\d+)(?:[ \t]+(?:[A-Z][\w.'’\-]*|\d+)){0,3})"
_NAME_MARKER = re.compile(rf"^[ \t]*(?:\*\*)?{_NAME}(?:\*\*)?[ \t]*[\[(](?P<clock>{_CLOCK})[\])][ \t]*:?[ \t]*")
_NAME_BARE_LINE = re.compile(rf"^[ \t]*{_NAME}[ \t]{{2,}}(?P<clock>{_CLOCK})[ \t]*$")
_HEADING = re.compile(r"^[ \t]*(?P<hashes>#{1,6})[ \t]+(?P<title>.+?)[ \t]*#*[ \t]*$")
# Bare clocks opening lines count as markers only when this many lines open with one.
_BARE_START_MIN_LINES = 3
# ``auto`` takes a text with no time marker and no speaker label as a transcript only when it
# reads like a stretch of conversation: at least this many words, in at least this many
# sentences, and mostly prose lines (not Markdown headings, list items, table rows or front
# matter, which is what a summary page is made of). The smallest real untimed transcript we have
# seen is several thousand words; 150 words in 8 sentences is about a minute of talk, and still
# rejects a one-screen summary page given as the transcript by mistake (issue #15).
# ``transcript.format=text`` reads any text, without this check.
UNTIMED_MIN_WORDS = 150
UNTIMED_MIN_SENTENCES = 8
UNTIMED_MAX_MARKUP_SHARE = 0.3
_MARKUP_LINE = re.compile(r"^[ \t]*(?:#{1,6}[ \t]|[-*+•][ \t]|\d+[.)][ \t]|\||>|---|```|!\[|\[[^\]]*\]\([^)]*\)[ \t]*$)")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")


@dataclass
class _Event:
    kind: str  # marker | speaker | text | blank | heading
    line_no: int
    start: int = 0
    end: int = 0
    seconds: float | None = None
    end_s: float | None = None
    label: str = ""
    name: str | None = None


def _label_candidates(lines: list[TextLine]) -> list[str]:
    """``Name:`` candidates at line starts; one right after a time marker counts twice (a
    marker, then a name and a colon, is a speaker label, not prose)."""
    names = []
    for ln in lines:
        body = ln.text
        m = _MARKER.match(body.lstrip())
        if m:
            body = body.lstrip()[m.end() :]
        lab = LABEL.match(body.strip())
        if lab:
            names += [lab.group("name").strip()] * (2 if m else 1)
    return names


def _scan(lines: list[TextLine]) -> tuple[list[_Event], str | None]:
    """Events in file order, and the title (a lone ``# `` line before any text)."""
    labels = accepted_labels(_label_candidates(lines))
    bare_start = sum(1 for ln in lines if _BARE_START.match(ln.text)) >= _BARE_START_MIN_LINES
    events: list[_Event] = []
    title = None
    seen_text = False
    for ln in lines:
        body = ln.text
        if not body.strip():
            events.append(_Event("blank", ln.no))
            continue
        heading = _HEADING.match(body)
        if heading:
            if len(heading.group("hashes")) == 1 and not seen_text and title is None:
                title = heading.group("title").strip()
            else:
                events.append(_Event("heading", ln.no, ln.start, label=heading.group("title").strip()))
            continue
        pos = len(body) - len(body.lstrip())

        def marker(m: re.Match[str], at: int) -> None:
            seconds = parse_clock(m.group("clock"), fraction=True)
            end_s = parse_clock(m.group("clock2"), fraction=True) if m.groupdict().get("clock2") else None
            if seconds is not None:
                events.append(_Event("marker", ln.no, ln.start + at, seconds=seconds, end_s=end_s, label=m.group("clock")))

        if m := _BARE_ALONE.match(body):
            marker(m, pos)
            continue
        if (m := _NAME_BARE_LINE.match(body)) and parse_clock(m.group("clock"), fraction=True) is not None:
            marker(m, pos)
            events.append(_Event("speaker", ln.no, name=m.group("name").strip()))
            continue
        if (m := _MARKER.match(body, pos)) and parse_clock(m.group("clock"), fraction=True) is not None:
            marker(m, pos)
            pos = m.end()
        elif bare_start and (m := _BARE_START.match(body)) and parse_clock(m.group("clock"), fraction=True) is not None:
            marker(m, pos)
            pos = m.end()
        elif (m := _NAME_MARKER.match(body)) and parse_clock(m.group("clock"), fraction=True) is not None:
            marker(m, pos)
            events.append(_Event("speaker", ln.no, name=m.group("name").strip()))
            pos = m.end()
        while pos < len(body) and body[pos] in " \t":
            pos += 1
        lab = LABEL.match(body[pos:])
        if lab and lab.group("name").strip() in labels:
            events.append(_Event("speaker", ln.no, name=lab.group("name").strip()))
            pos += lab.end()
            if (m := _MARKER.match(body, pos)) and parse_clock(m.group("clock"), fraction=True) is not None:
                marker(m, pos)
                pos = m.end()
        # The rest of the line, cut at markers inside it.
        for m in _MARKER.finditer(body, pos):
            if parse_clock(m.group("clock"), fraction=True) is None:
                continue
            _text_event(events, ln, body, pos, m.start())
            marker(m, m.start())
            pos = m.end()
        _text_event(events, ln, body, pos, len(body))
        seen_text = True
    return events, title


def _text_event(events: list[_Event], ln: TextLine, body: str, a: int, b: int) -> None:
    piece = body[a:b]
    if piece.strip():
        lead = len(piece) - len(piece.lstrip())
        events.append(_Event("text", ln.no, ln.start + a + lead, ln.start + a + len(piece.rstrip())))


@register_sniffer(FORMAT)
def sniff_text(text: str) -> float:
    """1 when lines open with time markers or speaker labels (two or more), else 0.5 for any
    text: the reader takes any text, so it is the fallback of ``auto``."""
    lines = text_lines(text)
    marked = sum(
        1
        for ln in lines
        if _MARKER.match(ln.text.lstrip())
        or _BARE_ALONE.match(ln.text)
        or _NAME_MARKER.match(ln.text)
        or _NAME_BARE_LINE.match(ln.text)
    )
    if marked >= 2 or accepted_labels(_label_candidates(lines)):
        return 1.0
    return 0.5 if untimed_text_problem(text) is None else 0.0


def untimed_text_problem(text: str) -> str | None:
    """Why a text with no time markers or speaker labels does not read like a transcript
    (too short, too few sentences, mostly Markdown structure), or ``None`` when it does."""
    nonblank = [ln.text for ln in text_lines(text) if ln.text.strip()]
    words = len(text.split())
    sentences = len(_SENTENCE_END.findall(text))
    markup = sum(1 for line in nonblank if _MARKUP_LINE.match(line))
    if words < UNTIMED_MIN_WORDS or sentences < UNTIMED_MIN_SENTENCES:
        return (
            f"no time markers or speaker labels, and {words} words in {sentences} sentences is too little "
            f"for an untimed transcript (at least {UNTIMED_MIN_WORDS} words in {UNTIMED_MIN_SENTENCES} sentences)"
        )
    if nonblank and markup / len(nonblank) > UNTIMED_MAX_MARKUP_SHARE:
        return (
            f"no time markers or speaker labels, and {markup} of its {len(nonblank)} lines are Markdown "
            "headings, list items or table rows: it reads like a page, not a transcript"
        )
    return None


@TRANSCRIPT_READERS.register(FORMAT)
def read_text(text: str, path: str, sha256: str) -> Transcript:
    """Parse a plain-text transcript (see module docstring).

    Raises:
        InputFileError: the file holds no conversation text.
    """
    lines = text_lines(text)
    events, title = _scan(lines)
    one_per_line = not any(e.kind == "blank" for e in events[1:-1])
    turns: list[RawTurn] = []
    blocks: list[RawBlock] = []
    chapters: list[RawChapter] = []
    warnings: list[str] = []
    current: RawTurn | None = None
    speaker: str | None = None
    last_line = 0

    def close() -> None:
        nonlocal current
        if current is not None:
            turns.append(current)
            current = None

    for ev in events:
        if ev.kind == "blank":
            close()
        elif ev.kind == "heading":
            close()
            chapters.append(RawChapter(ev.label, ev.line_no, ev.start))
        elif ev.kind == "marker":
            close()
            if blocks and ev.seconds < blocks[-1].start_s:
                prev = blocks[-1]
                warnings.append(
                    f"line {ev.line_no}: timestamp {ev.label} goes back in time "
                    f"(previous {prev.label} at line {prev.line_no}); times near it are approximate"
                )
            blocks.append(RawBlock(ev.seconds, ev.label, None, ev.line_no, ev.start, end_s=ev.end_s))
        elif ev.kind == "speaker":
            close()
            speaker = ev.name
        else:  # text
            if current is not None and one_per_line and ev.line_no != last_line:
                close()
            if current is None:
                current = RawTurn(speaker, ev.start, ev.end, ev.line_no)
            else:
                current.end = ev.end
            last_line = ev.line_no
    close()
    if not turns:
        raise InputFileError(path, "transcript has no conversation text")
    # A block's text starts after its marker: move each block start to the next turn start.
    starts = sorted(t.start for t in turns)
    markers = [b.char_start for b in blocks]
    for i, b in enumerate(blocks):
        b.char_start = next((s for s in starts if s >= b.char_start), len(text))
        if i + 1 < len(blocks) and markers[i + 1] > b.char_start:
            b.char_end = markers[i + 1]  # the block's text stops where the next marker is written
        b.label = format_clock(b.start_s) if "." in b.label or "," in b.label else b.label
    duration = max((b.end_s if b.end_s is not None else b.start_s) for b in blocks) if blocks else None
    return assemble(
        text=text,
        path=path,
        sha256=sha256,
        fmt=FORMAT,
        title=title,
        video_url=None,
        turns=turns,
        blocks=blocks,
        chapters=chapters,
        warnings=warnings,
        duration_s=duration,
    )
