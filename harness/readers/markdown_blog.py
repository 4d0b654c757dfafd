"""The ``markdown_blog`` reader: the reference transcripts' Markdown blog layout.

- optional Jekyll front matter (``---`` … ``---``; its ``title:`` becomes the title),
- a preface before the conversation (e.g. the post author's note in Russian), kept as
  non-content segments,
- ``## `` chapter headings,
- ``[m:ss](https://youtu.be/ID?t=N)`` timestamp lines (``t=`` wins over the label),
- ``**Speaker:** text`` turns; a paragraph without a label continues the previous speaker.

Speaker labels are kept exactly as written, even when they are misspelled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import InputFileError
from harness.readers._build import RawBlock, RawChapter, RawTurn, assemble, block_seconds, text_lines
from harness.readers.base import TRANSCRIPT_READERS, register_sniffer
from harness.types import Transcript

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
_HEADING = re.compile(r"^#{1,3}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_TIMESTAMP_LINE = re.compile(r"^\[(\d{1,2}(?::\d{1,2}){1,2})\]\(([^)\s]*)\)[ \t]*$")
_SPEAKER = re.compile(r"^\*\*([^*\n]{1,80}?):\*\*[ \t]*")


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
            seconds = block_seconds(path, line.no, label, url, blocks_raw[-1] if blocks_raw else None, warnings)
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
