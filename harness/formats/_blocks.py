"""The block state both Markdown walkers share (``plain.walk_markdown``, ``markdown.walk_page``).

A walker reads a page line by line and decides what each line is; :class:`BlockState` keeps
what those decisions build on: the open headings (the section path), open boxes (admonitions,
Docusaurus blocks) and callout, the page title, and the paragraph being gathered, and it turns
headings, block-quote lines, list items and text lines into ``PageBuilder`` units and context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from harness.formats.base import PageBuilder, SourceLine, find_citations, strip_markup

HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?\s*$")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+•●]|\d+[.)])\s+(?=\S)")
QUOTE = re.compile(r"^\s*(?:>\s?)+")
CALLOUT = re.compile(r"^\[!(\w+)\][-+]?\s*(.*)$")


def is_pure_markup(line: str) -> bool:
    """A line with no text once markup is removed: a lone tag, an image, a comment."""
    return not strip_markup(line) and not find_citations(line)


@dataclass
class Paragraph:
    """Lines gathered for the next units, and whether they came from a block quote."""

    lines: list[SourceLine] = field(default_factory=list)
    quoted: bool = False


class BlockState:
    """Headings, boxes, callout, title and the open paragraph of a page being walked.

    Args:
        page: the page being built (its options decide sentence or line split).
        kind: kind of the content units.
    """

    def __init__(self, page: PageBuilder, kind: str) -> None:
        self.page = page
        self.kind = kind
        self.title: str | None = None
        self.headings: list[tuple[int, str]] = []  # (level, text) of the open headings
        self.boxes: list[str] = []  # titles of open admonition / Docusaurus blocks
        self.callout: str | None = None  # title of the callout block being read
        self.para = Paragraph()

    def section(self) -> str | None:
        """The section path: headings, then open boxes, then the callout, joined by `` > ``."""
        path = [text for _, text in self.headings] + self.boxes
        if self.callout:
            path.append(self.callout)
        return " > ".join(path) or None

    def flush(self) -> None:
        """Emit the gathered paragraph as units and start a new one."""
        if self.para.lines:
            self.page.emit_paragraph(self.para.lines, kind=self.kind, section=self.section(), mode=self.page.options.split)
        self.para.lines = []
        self.para.quoted = False

    def front_matter(self, end: Callable[[Sequence[str]], int | None], title_rule: re.Pattern[str]) -> int:
        """Record front matter as context (its ``title`` as the page title); the first body line index."""
        lines = self.page.lines
        fm_end = end(lines)
        if fm_end is None:
            return 0
        for i in range(fm_end + 1):
            if lines[i].strip():
                self.page.context(i + 1, "front_matter")
            m = title_rule.match(lines[i])
            if m and self.title is None and m.group(1) and 0 < i < fm_end:
                self.title = m.group(1).strip("\"'") or None
        return fm_end + 1

    def heading(self, no: int, level: int, text: str) -> None:
        """Open a heading of ``level`` (closing those at or below it); the first H1 is the title."""
        self.flush()
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, text))
        if self.title is None and level == 1:
            self.title = text or None
        self.page.context(no, "heading")

    def quote_line(self, no: int, raw: str, off: int, quote: re.Match[str]) -> None:
        """A block-quote line (``quote`` matched at column ``off``): callout title, spacer or text."""
        body = raw[off + quote.end() :]
        box = CALLOUT.match(body.strip())
        if box:
            self.flush()
            self.callout = strip_markup(box.group(2)) or box.group(1).capitalize()
            self.page.context(no, "heading")
            return
        if not body.strip():
            self.flush()
            self.page.context(no, "markup")
            return
        if self.para.lines and not self.para.quoted:
            self.flush()
        start = off + quote.end()
        item = LIST_ITEM.match(body)
        if item:
            self.flush()
            self.para.lines.append(SourceLine(no, raw, start + item.end(), start + len(item.group(1))))
        else:
            self.para.lines.append(SourceLine(no, raw, start))
        self.para.quoted = True

    def list_item(self, no: int, raw: str, off: int, item: re.Match[str]) -> None:
        """A list item (matched at column ``off``): it starts a paragraph of its own."""
        self.flush()
        self.para.lines.append(SourceLine(no, raw, off + item.end(), off + len(item.group(1))))

    def text_line(self, no: int, raw: str, off: int) -> None:
        """A line of running text (its content starts after column ``off``)."""
        view = raw[off:]
        self.para.lines.append(SourceLine(no, raw, off + len(view) - len(view.lstrip())))
