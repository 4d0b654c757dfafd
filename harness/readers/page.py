"""The ``transcript_page`` reader: a podcast site's transcript page saved as Markdown.

Layout (as on many podcast sites' transcript pages):

- a page header: ``# `` title lines, an introduction, links, and often a "Table of Contents"
  section listing the chapters as ``* 0:00 – Introduction`` lines;
- the conversation: paragraphs that open with an optional speaker name and a timestamp link,
  ``Speaker Name [(00:02:47)](https://…&t=167) text…``; a paragraph with a timestamp and no name
  continues the previous speaker; a paragraph with neither continues the open turn;
- ``## `` chapter headings, placed at the page's anchors, so a heading can fall inside a turn
  (the turn is cut there and goes on after it);
- a page footer ("This entry was posted in…", an author box).

Every timestamped paragraph is a segment and a timestamp block (the link's ``t=`` parameter
wins over the label). The header and footer are kept as non-content segments. A heading is a
chapter when the conversation continues under it (so "Table of Contents" and an "About the
author" box are not). Without chapter headings, the table of contents gives the chapters,
placed by time. The transcript text is the file itself.
"""

from __future__ import annotations

import re
from dataclasses import replace

from harness.errors import InputFileError
from harness.readers._build import RawBlock, RawChapter, RawTurn, TextLine, assemble, block_seconds, text_lines, video_base
from harness.readers.base import TRANSCRIPT_READERS, register_sniffer
from harness.readers.chapters import ChapterEntry, parse_chapter_line, place_chapters, with_chapters
from harness.types import Transcript

FORMAT = "transcript_page"

# "Speaker Name [(00:02:47)](link) text" or "[(00:02:47)](link) text"; the name may be bold and
# end in a colon.
_STAMPED = re.compile(
    r"^(?:(?P<speaker>[^\[\]\n]{1,60}?)[ \t]+)?"
    r"\[\(?(?P<label>\d{1,2}(?::\d{1,2}){1,2})\)?\]\((?P<url>[^)\s]*)\)[ \t]*(?P<rest>.*)$"
)
_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<title>.*?)[ \t]*#*[ \t]*$")
_TOC_TITLE = re.compile(r"^(?:table of contents|contents|chapters|timestamps|outline|episode (?:chapters|outline))$", re.I)
# A stamped paragraph layout: most conversation paragraphs carry a timestamp. Untimed paragraphs
# after the last timestamp are then the page footer, not the end of the last turn.
_FOOTER_STAMP_SHARE = 0.9


def _clean_title(title: str) -> str:
    title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)
    return re.sub(r"[*_`]", "", title).strip()


def _speaker(raw: str | None) -> str | None:
    if raw is None:
        return None
    name = raw.strip().strip("*_").strip().rstrip(":").strip().strip("*_").strip()
    if not name or len(name.split()) > 6 or not name[0].isalpha():
        return None
    return name


def _stamped(line: str) -> re.Match[str] | None:
    m = _STAMPED.match(line.strip())
    if m is None or not m.group("rest").strip():
        return None
    if m.group("speaker") is not None and _speaker(m.group("speaker")) is None:
        return None
    return m


@register_sniffer(FORMAT)
def sniff_transcript_page(text: str) -> float:
    """2 when at least two paragraphs open with ``[(hh:mm:ss)](link)`` (after an optional
    speaker name) and go on with text on the same line; else 0."""
    count = 0
    for line in text.splitlines():
        if "](" in line and _stamped(line):
            count += 1
            if count >= 2:
                return 2.0
    return 0.0


@TRANSCRIPT_READERS.register(FORMAT)
def read_transcript_page(text: str, path: str, sha256: str) -> Transcript:
    """Parse a transcript page (see module docstring).

    Raises:
        InputFileError: no timestamped paragraph (not this layout), or a timestamp that cannot
            be read.
    """
    lines = text_lines(text)
    stamped = {ln.no: m for ln in lines if (m := _stamped(ln.text))}
    if not stamped:
        raise InputFileError(
            path,
            "does not look like a transcript_page transcript: no paragraph opens with a "
            "[(hh:mm:ss)](link) timestamp",
        )
    first_no, last_no = min(stamped), max(stamped)

    # Headings: a chapter when a timestamped paragraph follows it before the next heading.
    headings = [(ln, m) for ln in lines if (m := _HEADING.match(ln.text.strip()))]
    title = next((_clean_title(m.group("title")) for _, m in headings if len(m.group("hashes")) == 1), None)
    chapter_lines: set[int] = set()
    toc_entries: list[ChapterEntry] = []
    for i, (ln, m) in enumerate(headings):
        next_no = headings[i + 1][0].no if i + 1 < len(headings) else len(lines) + 1
        heading_title = _clean_title(m.group("title"))
        if _TOC_TITLE.match(heading_title):
            for row in lines[ln.no : min(next_no, first_no) - 1]:  # the list ends where the talk starts
                parsed = parse_chapter_line(row.text)
                if parsed:
                    toc_entries.append(ChapterEntry(parsed[0], parsed[1], row.no))
            continue
        if len(m.group("hashes")) >= 2 and any(ln.no < no < next_no for no in stamped):
            chapter_lines.add(ln.no)

    # Untimed paragraphs after the last timestamp: the footer, when the page stamps its paragraphs.
    paragraphs_after_first = _paragraph_starts(lines, first_no, last_no)
    share = sum(no in stamped for no in paragraphs_after_first) / max(1, len(paragraphs_after_first))
    footer_from = last_no + 1 if share >= _FOOTER_STAMP_SHARE else None

    turns: list[RawTurn] = []
    blocks: list[RawBlock] = []
    chapters: list[RawChapter] = []
    warnings: list[str] = []
    video_url = None
    current: RawTurn | None = None
    last_speaker: str | None = None
    prev_blank = True

    def close() -> None:
        nonlocal current
        if current is not None:
            turns.append(current)
            current = None

    for ln in lines:
        stripped = ln.text.strip()
        if not stripped:
            prev_blank = True
            continue
        lead = len(ln.text) - len(ln.text.lstrip())
        end = ln.start + len(ln.text.rstrip())
        in_conversation = first_no <= ln.no and (footer_from is None or ln.no < footer_from)
        heading = _HEADING.match(stripped)
        if ln.no in chapter_lines:
            close()
            chapters.append(RawChapter(_clean_title(heading.group("title")), ln.no, ln.start))
            prev_blank = True
            continue
        if ln.no in stamped:
            close()
            m = stamped[ln.no]
            label, url = m.group("label"), m.group("url") or None
            seconds = block_seconds(path, ln.no, label, url, blocks[-1] if blocks else None, warnings)
            video_url = video_url or video_base(url)
            speaker = _speaker(m.group("speaker")) or last_speaker
            last_speaker = speaker
            text_start = ln.start + lead + m.start("rest")
            blocks.append(RawBlock(float(seconds), label, url, ln.no, text_start))
            current = RawTurn(speaker, text_start, end, ln.no, is_content=True)
            prev_blank = False
            continue
        if heading and not in_conversation:
            close()
            prev_blank = True
            continue
        if in_conversation and not heading:
            # A paragraph without a timestamp continues the open turn (or the last speaker's).
            if current is not None:
                current.end = end
            else:
                current = RawTurn(last_speaker, ln.start + lead, end, ln.no, is_content=True)
            prev_blank = False
            continue
        # Page header or footer (or a heading inside the conversation that is not a chapter).
        if current is not None and (current.is_content or prev_blank):
            close()
        if current is None:
            current = RawTurn(None, ln.start + lead, end, ln.no, is_content=False)
        else:
            current.end = end
        prev_blank = False
    close()

    chapter_source = None
    if not chapters and toc_entries:
        chapter_source = "headings"
    transcript = assemble(
        text=text,
        path=path,
        sha256=sha256,
        fmt=FORMAT,
        title=title,
        video_url=video_url,
        turns=turns,
        blocks=blocks,
        chapters=chapters,
        warnings=warnings,
        chapter_source=chapter_source,
    )
    if not chapters and toc_entries:
        placed, more = place_chapters(transcript, toc_entries, origin=path)
        transcript = with_chapters(transcript, placed, "headings")
        transcript = _add_warnings(transcript, more)
    elif toc_entries and len(toc_entries) != len(chapters):
        transcript = _add_warnings(
            transcript,
            [f"the table of contents lists {len(toc_entries)} chapters, the page has {len(chapters)} chapter headings"],
        )
    return transcript


def _paragraph_starts(lines: list[TextLine], first_no: int, last_no: int) -> list[int]:
    """Line numbers of paragraphs that start between two lines (headings left out)."""
    out, prev_blank = [], True
    for ln in lines:
        if ln.no < first_no or ln.no > last_no:
            continue
        stripped = ln.text.strip()
        if not stripped:
            prev_blank = True
            continue
        if prev_blank and not _HEADING.match(stripped):
            out.append(ln.no)
        prev_blank = False
    return out


def _add_warnings(transcript: Transcript, warnings: list[str]) -> Transcript:
    return replace(transcript, warnings=transcript.warnings + tuple(warnings)) if warnings else transcript
