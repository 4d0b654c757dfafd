"""The ``summify`` format: a Summify "Key Moments" page, as copied from the site (one block per
line, no Markdown).

Layout, top to bottom: ``Key Moments`` (the site's page label), the video title, ``Key Moments``
again (the section heading), a one-line overview, ``Key Insights`` + one insight per line,
ALL-CAPS section titles each followed by a paragraph, ``Mentioned in This Episode`` + category
labels (``●Products``…; the page shows only the labels, the lists are collapsed),
``Common Questions`` + answer paragraph(s) (the questions themselves are not in the text),
``Topics`` / ``Mentioned in this video`` + one gloss per line, then site chrome (related
videos, calls to action).

Units: the overview line → ``overview``; each insight line → ``key_insight``; a section
paragraph is split into sentences (``summary.split``) → ``section_sentence`` with the title as
section; each answer paragraph → ``qa_answer`` (section ``Common Questions``); each topic line →
``gloss``. The page label, the title, the headings and the category labels are ``heading``
lines: they carry no claim. The chrome lines are boilerplate units with a reason; everything
after the related-video list starts ("More from …") is footer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import InputFileError
from harness.formats.base import FORMATS, FormatOptions, PageBuilder, ParsedSummary, SourceLine

PAGE_LABEL = "key moments"


@dataclass(frozen=True)
class _Heading:
    """A fixed heading of the page: the kind of the lines under it, and whether it nests under
    the heading before it (``Topics > Mentioned in this video``)."""

    kind: str
    nested: bool = False


# The page's fixed headings (matched case-insensitively, whole line).
HEADINGS = {
    "key moments": _Heading("overview"),
    "key insights": _Heading("key_insight"),
    "mentioned in this episode": _Heading("gloss"),
    "common questions": _Heading("qa_answer"),
    "topics": _Heading("gloss"),
    "mentioned in this video": _Heading("gloss", nested=True),
}

# Category labels under "Mentioned in This Episode" ("●Products", "●People Referenced"): the
# page collapses their lists, so a label is a heading with nothing under it.
CATEGORY_LABEL = re.compile(r"^[●•]\s*\S")

# Site chrome, with the reason it is not summary content. "More from …" opens the page footer.
CHROME = (
    (re.compile(r"^More from\b", re.I), "related-video list"),
    (re.compile(r"^View all [\d,]+ summaries$", re.I), "related-video list"),
    # a related video: its running time glued to its title ("154 minRick Beato: …")
    (re.compile(r"^\d+\s*min(?![a-z])"), "related-video list"),
    (re.compile(r"^Found this useful\?", re.I), "site call to action"),
    (re.compile(r"^Get AI-powered summaries\b", re.I), "site call to action"),
    (re.compile(r"^Try Summify\b", re.I), "site call to action"),
)
FOOTER_STARTS = re.compile(r"^More from\b", re.I)


def is_caps_title(line: str) -> bool:
    """An ALL-CAPS section title ("THE DAWN OF DEEP LEARNING…"): no lower-case letter and at
    least four capitals."""
    return not re.search(r"[a-z]", line) and len(re.findall(r"[A-Z]", line)) >= 4


@FORMATS.register("summify")
class SummifyFormat:
    """A Summify "Key Moments" page."""

    name = "summify"

    def parse(self, text: str, path: str, options: FormatOptions) -> ParsedSummary:
        """Parse a "Key Moments" page.

        Raises:
            InputFileError: no ``Key Moments`` or no ``Key Insights`` line, or no content.
        """
        page = PageBuilder(text, path, options)
        stripped = [line.strip() for line in page.lines]
        lowered = [line.lower() for line in stripped]
        missing = [name for name in ("Key Moments", "Key Insights") if name.lower() not in lowered]
        if missing:
            raise InputFileError(
                path,
                "does not look like a summify summary: no "
                + " and no ".join(f"'{name}' line" for name in missing),
            )

        # The video title is the one line between the page label and the repeated heading.
        label_lines = [i for i, line in enumerate(lowered) if line == PAGE_LABEL]
        title_index = None
        if len(label_lines) >= 2:
            between = [i for i in range(label_lines[0] + 1, label_lines[1]) if stripped[i]]
            if len(between) == 1:
                title_index = between[0]

        title = stripped[title_index] if title_index is not None else None
        path_: list[str] = []  # the open headings
        kind = "overview"
        mode = "whole"
        in_footer = False
        for i, raw in enumerate(page.lines):
            no, line = i + 1, stripped[i]
            if not line:
                continue
            if i == title_index:
                page.context(no, "heading")
                continue

            chrome = next((reason for rx, reason in CHROME if rx.search(line)), None)
            if chrome is not None or in_footer:
                in_footer = in_footer or bool(FOOTER_STARTS.search(line))
                page.line_unit(no, kind="boilerplate", section=None,
                               boilerplate_reason=chrome or "site footer")
                continue

            heading = HEADINGS.get(line.lower())
            if heading is not None:
                path_ = path_[:1] + [line] if heading.nested and path_ else [line]
                kind, mode = heading.kind, "whole"
                page.context(no, "heading")
                continue
            if is_caps_title(line):
                path_ = [line]
                kind, mode = "section_sentence", page.options.split
                page.context(no, "heading")
                continue
            if CATEGORY_LABEL.match(line):
                page.context(no, "heading")
                continue

            # every other line is one paragraph of the current section
            page.emit_paragraph(
                [SourceLine(no, raw, len(raw) - len(raw.lstrip()))],
                kind=kind,
                section=" > ".join(path_) or None,
                mode=mode,
            )
        return page.finish(title, self.name)
