"""The ``tldr_qa`` format: a "Summary and Q&A" page of a YouTube summary site.

Layout, top to bottom: the title line (``<video title> | Summary and Q&A``), video metadata
(views, date, ``by`` + channel, the player, the video title again), ``TL;DR`` + a paragraph,
``Key Insights`` + emoji bullets, ``Transcript`` + a cut-off auto-caption excerpt,
``Questions & Answers`` (``Q:`` lines, each followed by an answer paragraph; the block can
appear more than once), ``Summary`` + a paragraph, ``Summary & Key Takeaways`` + bullets, and
site chrome (share, install, browse more).

Units by heading: ``TL;DR`` → ``tldr`` (one per paragraph); ``Key Insights`` → ``key_insight``
(one per bullet; ``text_plain`` drops the bullet and emoji, keeps the ``Label:``);
``Transcript`` → ``transcript_excerpt``, boilerplate (a copy of the source, not a summary
claim); a ``Q:`` line is a ``question`` line and the paragraph after it a ``qa_answer`` whose
section is the question; ``Summary`` → ``summary_sentence`` (split by ``summary.split``);
``Summary & Key Takeaways`` → ``takeaway`` (one per bullet). The title line is a heading; the
metadata and chrome lines are boilerplate units with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import InputFileError
from harness.formats.base import (
    FORMATS,
    FormatOptions,
    PageBuilder,
    ParsedSummary,
    SourceLine,
)

TITLE_SUFFIX = re.compile(r"\s*\|\s*Summary and Q&A\s*$", re.I)


@dataclass(frozen=True)
class _Section:
    """What the paragraphs under a heading are: their kind, how they split, and whether they
    are boilerplate (with the reason)."""

    kind: str
    mode: str  # "whole" (one unit per paragraph or bullet) or "split" (summary.split)
    boilerplate_reason: str | None = None


# The page's headings, as the site writes them (matched case-insensitively, whole line).
SECTIONS = {
    "tl;dr": _Section("tldr", "whole"),
    "key insights": _Section("key_insight", "whole"),
    "transcript": _Section(
        "transcript_excerpt", "whole", "auto-caption transcript excerpt, not summary content"
    ),
    "questions & answers": _Section("qa_answer", "whole"),
    "summary": _Section("summary_sentence", "split"),
    "summary & key takeaways": _Section("takeaway", "whole"),
}

# Site chrome of the page, with the reason each is not summary content. Checked on every line
# before the headings; the two "footer" entries also start the page footer, whose unrecognised
# lines are boilerplate too.
CHROME = (
    (re.compile(r"^[\d.,]+\s*[KMB]?\s+views$", re.I), "view count"),
    (
        re.compile(
            r"^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}$"
        ),
        "publication date",
    ),
    (re.compile(r"^by$", re.I), "byline"),
    (re.compile(r"^YouTube video player$", re.I), "video player"),
    (re.compile(r"^Install to Summarize\b", re.I), "site call to action"),
    (re.compile(r"^Summarize YouTube Videos\b", re.I), "site call to action"),
    (re.compile(r"^Download browser extensions\b", re.I), "site call to action"),
    (re.compile(r"^Share This Summary\b", re.I), "site call to action"),
    (re.compile(r"^Explore More Summaries\b", re.I), "site navigation"),
)
FOOTER_STARTS = re.compile(r"^(?:Share This Summary|Explore More Summaries)\b", re.I)

_BULLET = re.compile(r"^(\s*)[•\-*●]\s+(?=\S)")
_QUESTION = re.compile(r"^\s*Q:\s*(.*?)\s*$")


@FORMATS.register("tldr_qa")
class TldrQaFormat:
    """A "Summary and Q&A" page: TL;DR, emoji key insights, Q&A, summary, takeaways."""

    name = "tldr_qa"

    def parse(self, text: str, path: str, options: FormatOptions) -> ParsedSummary:
        """Parse a "Summary and Q&A" page.

        Raises:
            InputFileError: no ``TL;DR`` heading and no "Summary and Q&A" title, or no content.
        """
        page = PageBuilder(text, path, options)
        has_tldr = any(line.strip().lower() == "tl;dr" for line in page.lines)
        if not has_tldr and "summary and q&a" not in text.lower():
            raise InputFileError(
                path,
                "does not look like a tldr_qa summary: no 'TL;DR' heading and no "
                "'Summary and Q&A' title",
            )

        title: str | None = None
        section: _Section | None = None  # None: the page header, before the first heading
        section_name: str | None = None
        in_footer = False
        after_byline = False
        para: list[SourceLine] = []

        def flush() -> None:
            if not para:
                return
            if section is None or in_footer:
                # unrecognised text in the header or footer: page chrome, kept as boilerplate
                reason = "site footer" if in_footer else "page header (video metadata)"
                page.emit_paragraph(para, kind="boilerplate", section=None, mode="whole",
                                    boilerplate_reason=reason)
            else:
                mode = page.options.split if section.mode == "split" else "whole"
                page.emit_paragraph(para, kind=section.kind, section=section_name, mode=mode,
                                    boilerplate_reason=section.boilerplate_reason)
            para.clear()

        for i, raw in enumerate(page.lines):
            no, line = i + 1, raw.strip()
            if not line:
                flush()
                continue
            if title is None and not page.collector.units and not page.collector.roles:
                title = TITLE_SUFFIX.sub("", line) or None
                page.context(no, "heading")
                continue

            chrome = next((reason for rx, reason in CHROME if rx.search(line)), None)
            if chrome is None and after_byline:
                chrome = "byline"  # the channel name after "by"
            if chrome is None and section is None and title and line == title:
                chrome = "repeated video title"
            after_byline = chrome == "byline" and line.lower() == "by"
            if chrome is not None:
                flush()
                page.line_unit(no, kind="boilerplate", section=None, boilerplate_reason=chrome)
                if FOOTER_STARTS.search(line):
                    in_footer = True
                continue

            heading = SECTIONS.get(line.lower())
            if heading is not None:
                flush()
                section, section_name, in_footer = heading, line, False
                page.context(no, "heading")
                continue

            question = _QUESTION.match(line)
            if question and section is not None and not in_footer:
                flush()
                section, section_name = SECTIONS["questions & answers"], question.group(1)
                page.context(no, "question")
                continue

            bullet = _BULLET.match(raw)
            if bullet:
                flush()  # each bullet is its own unit; following unbulleted lines continue it
                para.append(SourceLine(no, raw, len(bullet.group(1))))
                continue
            para.append(SourceLine(no, raw, len(raw) - len(raw.lstrip())))
        flush()
        return page.finish(title, self.name)
