"""The ``plain`` format: any text or Markdown summary.

``#`` headings give the section path; paragraphs are split into sentences (``summary.split:
sentence``, kind ``sentence``) or taken one unit per line (``summary.split: line``, kind
``line``). List items, block quotes and table rows start their own paragraph; lines of pure
markup (rules, lone tags, images, ``>`` spacer lines) are recorded as ``markup``; YAML front
matter is recorded as ``front_matter`` and its ``title:`` becomes the page title. A timestamp
cited in a unit (``[m:ss]``, ``(hh:mm:ss)``, a ``data-t`` anchor) sets ``cited_timestamp_s``.

``walk_markdown`` is shared with the ``wiki`` format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from harness.errors import InputFileError
from harness.formats.base import (
    FORMATS,
    FormatOptions,
    PageBuilder,
    ParsedSummary,
    SourceLine,
    find_citations,
    strip_markup,
)

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_LIST_ITEM = re.compile(r"^(\s*)([-*+•●]|\d+[.)])\s+(?=\S)")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_CALLOUT = re.compile(r"^\[!(\w+)\][-+]?\s*(.*)$")
_FRONT_MATTER_TITLE = re.compile(r"^title\s*:\s*(.*?)\s*$")
_FRONT_MATTER_MAX_LINES = 200


@dataclass(frozen=True)
class LineRule:
    """A site-specific line the walker takes as a boilerplate unit (e.g. a wiki byline)."""

    pattern: re.Pattern[str]
    reason: str


def front_matter_end(lines: Sequence[str]) -> int | None:
    """Index of the closing ``---`` (or ``...``) of YAML front matter opening the file, if any."""
    if not lines or lines[0].strip() != "---":
        return None
    for i in range(1, min(len(lines), _FRONT_MATTER_MAX_LINES)):
        if lines[i].strip() in ("---", "..."):
            return i
    return None


@dataclass
class _Paragraph:
    """Lines gathered for the next units, and what kind of block they came from."""

    lines: list[SourceLine] = field(default_factory=list)
    quoted: bool = False


def walk_markdown(
    page: PageBuilder,
    *,
    kind: str,
    line_rules: Sequence[LineRule] = (),
) -> str | None:
    """Walk a Markdown file, adding its units and context lines to ``page``; returns the title.

    Args:
        page: the page being built (its options decide sentence or line split).
        kind: kind of the content units.
        line_rules: lines that are boilerplate units on this site (checked first).
    """
    lines = page.lines
    mode = page.options.split
    title: str | None = None
    headings: list[tuple[int, str]] = []  # (level, text) of the open headings
    callout: str | None = None  # title of the callout block being read
    para = _Paragraph()

    def section() -> str | None:
        path = [text for _, text in headings]
        if callout:
            path.append(callout)
        return " > ".join(path) or None

    def flush() -> None:
        if para.lines:
            page.emit_paragraph(para.lines, kind=kind, section=section(), mode=mode)
        para.lines = []
        para.quoted = False

    start = 0
    fm_end = front_matter_end(lines)
    if fm_end is not None:
        for i in range(fm_end + 1):
            if lines[i].strip():
                page.context(i + 1, "front_matter")
            m = _FRONT_MATTER_TITLE.match(lines[i])
            if m and title is None and m.group(1):
                title = m.group(1).strip("\"'") or None
        start = fm_end + 1

    in_fence = False
    for i in range(start, len(lines)):
        no, raw = i + 1, lines[i]
        stripped = raw.strip()

        if in_fence:
            if _FENCE.match(raw):
                in_fence = False
                page.context(no, "markup")
            elif stripped:
                page.line_unit(no, kind="code", section=section(), boilerplate_reason="code block")
            continue
        if not stripped:
            flush()
            callout = None  # a blank line ends a callout block
            continue

        rule = next((r for r in line_rules if r.pattern.search(raw)), None)
        if rule is not None:
            flush()
            page.line_unit(no, kind="boilerplate", section=section(), boilerplate_reason=rule.reason)
            continue

        quote = _QUOTE.match(raw)
        if quote is None and para.quoted:
            flush()
        if quote is None:
            callout = None
        if _FENCE.match(raw):
            flush()
            in_fence = True
            page.context(no, "markup")
            continue

        heading = _HEADING.match(raw)
        if heading and quote is None:
            flush()
            level, text = len(heading.group(1)), strip_markup(heading.group(2))
            while headings and headings[-1][0] >= level:
                headings.pop()
            headings.append((level, text))
            if title is None and level == 1:
                title = text or None
            page.context(no, "heading")
            continue

        if quote is not None:
            body = raw[quote.end() :]
            box = _CALLOUT.match(body.strip())
            if box:
                flush()
                callout = strip_markup(box.group(2)) or box.group(1).capitalize()
                page.context(no, "heading")
                continue
            if not body.strip():
                flush()
                page.context(no, "markup")
                continue
            if para.lines and not para.quoted:
                flush()
            item = _LIST_ITEM.match(body)
            if item:
                flush()
                marker = quote.end() + len(item.group(1))
                para.lines.append(SourceLine(no, raw, quote.end() + item.end(), marker))
            else:
                para.lines.append(SourceLine(no, raw, quote.end()))
            para.quoted = True
            continue

        if _RULE.match(raw) or _TABLE_SEPARATOR.match(raw) or _is_pure_markup(raw):
            flush()
            page.context(no, "markup")
            continue
        if _TABLE_ROW.match(raw):
            flush()
            page.line_unit(no, kind=kind, section=section())
            continue
        item = _LIST_ITEM.match(raw)
        if item:
            flush()
            para.lines.append(SourceLine(no, raw, item.end(), len(item.group(1))))
            continue
        lead = len(raw) - len(raw.lstrip())
        para.lines.append(SourceLine(no, raw, lead))
    flush()
    return title


def _is_pure_markup(line: str) -> bool:
    """A line with no text once markup is removed: a lone tag, an image, a comment."""
    return not strip_markup(line) and not find_citations(line)


@FORMATS.register("plain")
class PlainFormat:
    """Any text or Markdown: headings, paragraphs split into sentences or lines."""

    name = "plain"

    def parse(self, text: str, path: str, options: FormatOptions) -> ParsedSummary:
        """Parse ``text``; any non-empty text is accepted.

        Raises:
            InputFileError: the text holds no summary content.
        """
        if not text.strip():
            raise InputFileError(path, "no summary content found (the file is empty)")
        page = PageBuilder(text, path, options)
        kind = "line" if options.split == "line" else "sentence"
        title = walk_markdown(page, kind=kind)
        return page.finish(title, self.name)
