"""The ``wiki`` format: a wiki page about an episode (Obsidian-style Markdown).

The page has YAML front matter (``title:``), a byline (``From: [[channel]] <br/>``), ``#``
headings, paragraphs and numbered lists with ``[[page | alias]]`` links, an ``> [!info] Title``
callout block, and inline citations ``<a class="yt-timestamp" data-t="HH:MM:SS">[HH:MM:SS]</a>``.

Every paragraph, list item and callout line is split into sentences (kind ``wiki_sentence``,
section = heading path, with the callout title appended inside the callout). A citation belongs
to the sentence it is in or ends, and sets that sentence's ``cited_timestamp_s``; a citation
whose time is not valid (``99:99:99``) leaves it ``None``. The callout's title line is a
heading, its bare ``>`` spacer line is markup; the front matter is ``front_matter``.
"""

from __future__ import annotations

import re

from harness.errors import InputFileError
from harness.formats.base import FORMATS, FormatOptions, PageBuilder, ParsedSummary
from harness.formats.plain import LineRule, front_matter_end, walk_markdown

# Site chrome of wiki pages generated from a channel's videos: the byline linking the channel page.
WIKI_LINE_RULES = (
    LineRule(re.compile(r"^\s*From:\s*\[\[[^\]]*\]\]\s*(?:<br\s*/?>)?\s*$", re.I), "byline"),
)

_DATA_T = re.compile(r"\bdata-t\s*=", re.I)
_WIKI_LINK = re.compile(r"\[\[[^\]]+\]\]")


@FORMATS.register("wiki")
class WikiFormat:
    """A wiki page: front matter, headings, sentences with ``data-t`` timestamp citations."""

    name = "wiki"

    def parse(self, text: str, path: str, options: FormatOptions) -> ParsedSummary:
        """Parse a wiki page.

        Raises:
            InputFileError: the text has no front matter, no ``data-t`` citation and no
                ``[[wiki link]]``, or no content.
        """
        page = PageBuilder(text, path, options)
        if (
            front_matter_end(page.lines) is None
            and not _DATA_T.search(text)
            and not _WIKI_LINK.search(text)
        ):
            raise InputFileError(
                path,
                "does not look like a wiki summary: no front matter, "
                "no data-t timestamp citations and no [[wiki links]]",
            )
        title = walk_markdown(page, kind="wiki_sentence", line_rules=WIKI_LINE_RULES)
        return page.finish(title, self.name)
