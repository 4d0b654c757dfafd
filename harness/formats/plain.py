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
from dataclasses import dataclass
from typing import Sequence

from harness.errors import InputFileError
from harness.formats._blocks import HEADING, LIST_ITEM, QUOTE, RULE, TABLE_ROW, TABLE_SEPARATOR, BlockState, is_pure_markup
from harness.formats.base import FORMATS, FormatOptions, PageBuilder, ParsedSummary, strip_markup

_FENCE = re.compile(r"^\s*(```|~~~)")
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
    st = BlockState(page, kind)
    start = st.front_matter(front_matter_end, _FRONT_MATTER_TITLE)

    in_fence = False
    for i in range(start, len(lines)):
        no, raw = i + 1, lines[i]
        stripped = raw.strip()

        if in_fence:
            if _FENCE.match(raw):
                in_fence = False
                page.context(no, "markup")
            elif stripped:
                page.line_unit(no, kind="code", section=st.section(), boilerplate_reason="code block")
            continue
        if not stripped:
            st.flush()
            st.callout = None  # a blank line ends a callout block
            continue

        rule = next((r for r in line_rules if r.pattern.search(raw)), None)
        if rule is not None:
            st.flush()
            page.line_unit(no, kind="boilerplate", section=st.section(), boilerplate_reason=rule.reason)
            continue

        quote = QUOTE.match(raw)
        if quote is None and st.para.quoted:
            st.flush()
        if quote is None:
            st.callout = None
        if _FENCE.match(raw):
            st.flush()
            in_fence = True
            page.context(no, "markup")
            continue

        heading = HEADING.match(raw)
        if heading and quote is None:
            st.heading(no, len(heading.group(1)), strip_markup(heading.group(2)))
            continue
        if quote is not None:
            st.quote_line(no, raw, 0, quote)
            continue

        if RULE.match(raw) or TABLE_SEPARATOR.match(raw) or is_pure_markup(raw):
            st.flush()
            page.context(no, "markup")
            continue
        if TABLE_ROW.match(raw):
            st.flush()
            page.line_unit(no, kind=kind, section=st.section())
            continue
        item = LIST_ITEM.match(raw)
        if item:
            st.list_item(no, raw, 0, item)
            continue
        st.text_line(no, raw, 0)
    st.flush()
    return st.title


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
