"""Unit kinds of a generic page, read as a reader does: from its sections and wording, no site list.

The ``markdown`` format walks a page with :class:`KindState`, which decides the kind of each
paragraph from where it sits and how it is written:

* ``background`` — the bio box before the first content section: a blockquote, a tagline and an
  infobox list (``**Born**: 1977, …``) when that zone has an infobox or a ``Source:`` line; an
  infobox item anywhere before the first content section; everything in a section named
  "Background", "Biography", "About the guest". Background is what the page adds about a
  person, not a claim about the conversation.
* ``quote`` — a list item or paragraph that opens with a quotation mark (or every top-level item
  of a "Notable Quotes" section), and a blockquote inside a content section. The quotation is
  one unit however many sentences or ellipses it has; what follows it on the item (``" - This
  quote…"``, an italic line, a nested bullet) is its ``quote_gloss``.
* ``argument`` — the sentences of a bold-titled bullet (``**Title**: claim…``) or of a bullet in
  an "Arguments" / "Insights" / "Takeaways" section.
* ``commentary`` — an interpretive sentence about the conversation rather than a report of it:
  "This highlights…", "This point underscores…", "Overall, the episode…"
  (``COMMENTARY``).
* ``heading`` — a bullet or line that is only a bold title ("**Key points**:").
* ``sentence`` — everything else.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Sequence

from harness.formats._blocks import HEADING, BlockState
from harness.formats.base import PageBuilder, SourceLine, strip_markup

PAGE_KINDS = ("background", "quote", "quote_gloss", "argument", "commentary", "heading", "sentence")
"""Kinds the ``markdown`` format gives its content units (``boilerplate`` and ``code`` aside)."""

# A section's role from its heading, innermost heading first.
_QUOTE_SECTION = re.compile(r"\bquot(?:e|es|ations?)\b|\bin (?:their|his|her) (?:own )?words\b", re.I)
_BACKGROUND_SECTION = re.compile(r"\b(?:background|biography|bio|about the (?:guest|speaker|author)|who is)\b", re.I)
_ARGUMENT_SECTION = re.compile(r"\b(?:arguments?|insights?|takeaways?|key (?:points|ideas)|main (?:points|ideas)|claims)\b", re.I)

# An infobox line: a bullet whose text is a short bold key and a value ("**Born**: 1977").
INFOBOX_ITEM = re.compile(r"^\s*[-*+]\s+(?:\*\*|__)([^*_\n]{1,40}?)(?::(?:\*\*|__)|(?:\*\*|__)\s*:)\s*\S")
_SOURCE_LINE = re.compile(r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?sources?(?:\*\*|__)?\s*:", re.I)
# A bold title opening a bullet ("**Title**: body", "**Title:** body").
_BOLD_LABEL = re.compile(r"^\s*(?:\*\*|__)([^*_\n]{1,120}?)(?::(?:\*\*|__)|(?:\*\*|__)\s*[:\-–—])\s*")
# A title, not a claim: a short bold line without a full stop ("**Key points**:").
_BOLD_ONLY = re.compile(r"^\s*(?:\*\*|__)(?=[^*_\n]{1,80}(?:\*\*|__))(?:\S+\s*){1,8}?(?<![.!?])(?:\*\*|__)\s*:?\s*$")

# Interpretive sentences: "This/These/Such (noun){0,3} <verb>", "Overall, …", "…, which is crucial".
_INTERPRETIVE_VERBS = (
    r"highlights?|underscores?|emphasi[sz]es?|illustrates?|reflects?|raises?|suggests?|shows?|"
    r"demonstrates?|indicates?|signals?|reveals?|reinforces?|connects?|aligns?|resonates?|"
    r"encapsulates?|captures?|points? to|speaks? to|serves? as|adds?|invites?|challenges?|"
    r"prompts?|offers?|provides?|sets? the stage|ties? into|contributes?|implies|encourages?|humani[sz]es?|"
    r"creates? (?:a|an) \w+ (?:environment|atmosphere)|enrich(?:es)?|sheds? light|reframes?|"
    r"adds? (?:depth|a layer|weight|nuance|richness)|is (?:significant|crucial|"
    r"important|relevant|notable|key|essential|vital|particularly|a (?:crucial|key|significant|critical))|"
    r"are (?:significant|crucial|important|relevant|essential)|matters?|has (?:significant|profound|important)"
)
COMMENTARY = re.compile(
    r"^(?:(?:This|These|That|Such|Both)(?:\s+[\w'’-]+){0,3}?\s+(?:" + _INTERPRETIVE_VERBS + r")\b"
    r"|(?:Overall|In summary|In conclusion|Ultimately|In essence|All in all)\b"
    r"|(?:The|Its|Their|His|Her) significance (?:lies|here|of this|is)\b|Recognizing (?:this|that)\b"
    # "Abbeel's insights into … raise questions", "His views on … highlight …"
    r"|(?:[A-Z][\w.'’-]*(?:\s[A-Z][\w.'’-]*)?(?:'s|’s|'|’)|His|Her|Their)\s+(?:[\w-]+\s+){0,2}"
    r"(?:insights?|perspectives?|views?|reflections?|emphasis|thoughts|analysis|ability|uncertainty|focus|vision)\b"
    r"[^.;]*?\b(?:highlight|underscore|reflect|raise|contribute|provide|offer|add|connect|resonate|challenge|"
    r"illustrate|spark|serve|enrich|emphasi[sz]e|suggest)s?\b"
    r"|(?:The|This) (?:episode|conversation|discussion|podcast|interview) (?:is|serves|offers|provides|"
    r"presents|highlights|underscores|emphasizes|reflects|illustrates)\b)",
)

_OPEN_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»"}
_LEAD_MARKUP = re.compile(r"^(?:\*\*|__|\*|_)*")
_ATTRIBUTION = re.compile(
    r"\s*[-–—―]+\s*([A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|der|la|le)){0,3})\s*(?=$|\n|[-–—(,])"
)


def is_commentary(sentence: str) -> bool:
    """Whether a sentence interprets the conversation rather than reports it ("This highlights…")."""
    return bool(COMMENTARY.match(strip_markup(sentence)))


@dataclasses.dataclass(frozen=True)
class QuoteSpan:
    """Where the quotation of a paragraph is.

    Attributes:
        start: offset of the opening mark (after leading emphasis markers).
        end: offset just past the quotation and its trailing emphasis, punctuation and attribution.
        inner_start: offset just past the opening mark.
        inner_end: offset of the closing mark.
        attribution: a name written after the quotation ("— Abbeel"), ``None`` if none.
        gloss_start: where the text after the quotation starts (``None`` if nothing follows).
    """

    start: int
    end: int
    inner_start: int
    inner_end: int
    attribution: str | None
    gloss_start: int | None


def find_quote(content: str) -> QuoteSpan | None:
    """The quotation a paragraph opens with (after emphasis markers), ``None`` if it opens with none.

    >>> q = find_quote('"It can be learned." - This quote shows the idea.')
    >>> q.inner_start, q.inner_end, q.attribution, q.gloss_start
    (1, 19, None, 23)
    """
    lead = _LEAD_MARKUP.match(content)
    pos = lead.end() if lead else 0
    if pos >= len(content) or content[pos] not in _OPEN_QUOTES:
        return None
    closer = _OPEN_QUOTES[content[pos]]
    close = content.find(closer, pos + 1)
    if close < 0:
        return None
    end = close + 1
    while end < len(content) and content[end] in "*_.,!?;":
        end += 1
    attribution = None
    m = _ATTRIBUTION.match(content, end)
    if m and len(m.group(1).split()) <= 4 and not re.search(r"\s[-–—]\s", content[end : m.end()].strip()[1:]):
        rest = content[m.end() :]
        # "— Abbeel" is a credit; "- This quote …" is a gloss (a sentence, not a name)
        if not re.match(r"\s*\w", rest) or rest.lstrip().startswith(("-", "–", "—", "(")) or "\n" in rest[:2]:
            attribution = m.group(1)
            end = m.end()
    gloss = re.match(r"[\s\-–—:]*", content[end:])
    gloss_start = end + gloss.end() if gloss else end
    if gloss_start >= len(content) or not strip_markup(content[gloss_start:]):
        gloss_start = None
    return QuoteSpan(pos, end, pos + 1, close, attribution, gloss_start)


def _bio_zone_signal(lines: Sequence[str]) -> bool:
    """Whether the lines before the first content section hold a bio box: an infobox list of two
    or more items, or a ``Source:`` line. A page with no content section (no heading below the
    title) has no such zone: its opening is the summary itself."""
    infobox = 0
    source = False
    for line in lines:
        h = HEADING.match(line)
        if h and len(h.group(1)) >= 2:
            return source or infobox >= 2
        if _SOURCE_LINE.match(line):
            source = True
        if INFOBOX_ITEM.match(line):
            infobox += 1
    return False


def _is_tagline(content: str) -> bool:
    """A short descriptor under a title ("Canadian musician", "Internet personality"): a few
    words, no sentence punctuation, no quotation."""
    plain = strip_markup(content)
    return 0 < len(plain.split()) <= 6 and not re.search(r"[.!?:;\"“]", plain)


class KindState(BlockState):
    """``BlockState`` that gives each paragraph its page kind (module docstring) when it flushes.

    Args:
        page: the page being built.
    """

    def __init__(self, page: PageBuilder) -> None:
        super().__init__(page, "sentence")
        self.bio_zone = _bio_zone_signal(page.lines)
        self.has_sections = any((h := HEADING.match(line)) and len(h.group(1)) >= 2 for line in page.lines)
        self._last_kind: str | None = None  # kind of the last paragraph, for glosses
        self._last_section: str | None = None
        self._left_lead = False  # once a content section opens, the lead zone is over for good

    # -- where a paragraph sits ---------------------------------------------------------------

    def _in_lead(self) -> bool:
        """Before the first content section: only the page's first title, if any, has been seen."""
        if self.headings and (len(self.headings) > 1 or self.headings[0][0] > 1 or self.headings[0][1] != self.title):
            self._left_lead = True
        return not self._left_lead and not self.boxes

    def _role(self) -> str | None:
        for _, text in reversed(self.headings):
            if _QUOTE_SECTION.search(text):
                return "quotes"
            if _BACKGROUND_SECTION.search(text):
                return "background"
            if _ARGUMENT_SECTION.search(text):
                return "arguments"
        return None

    # -- emission -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Emit the gathered paragraph with its page kind(s) and start a new one."""
        lines = list(self.para.lines)
        quoted = self.para.quoted
        self.para.lines = []
        self.para.quoted = False
        if not lines:
            return
        section = self.section()
        if section != self._last_section:
            self._last_kind = None
            self._last_section = section
        self._last_kind = self._emit(lines, quoted, section)

    def _emit(self, lines: list[SourceLine], quoted: bool, section: str | None) -> str:
        page, mode = self.page, self.page.options.split
        content = "\n".join(ln.raw[ln.start :] for ln in lines)
        item = lines[0].lead is not None
        nested = item and lines[0].lead > 0 and not quoted
        role = self._role()
        lead = self._in_lead()
        tagline = lead and self.has_sections and not item and _is_tagline(content)
        if role == "background" or (lead and (self.bio_zone or INFOBOX_ITEM.match(lines[0].raw) or tagline)):
            # an infobox item is one unit ("Spouse: Tammy Roberts (m. 1989)" is no two sentences)
            page.emit_paragraph(lines, kind="background", section=section, mode="whole" if item else mode)
            return "background"
        if _BOLD_ONLY.match(content):
            page.emit_paragraph(lines, kind="heading", section=section, mode="whole")
            return "heading"
        if self.callout is None:
            quote = find_quote(content)
            if quote is not None and quote.inner_end > quote.inner_start:
                self._emit_quote(lines, content, quote, section, mode)
                return "quote"
            if role == "quotes":
                if (nested or not item) and self._last_kind in ("quote", "quote_gloss"):
                    self._emit_sentences(lines, "quote_gloss", section, mode, commentary=False)
                    return "quote_gloss"
                if item and not nested:
                    page.emit_paragraph(lines, kind="quote", section=section, mode="whole")
                    return "quote"
            elif quoted and not self._in_lead():
                page.emit_paragraph(lines, kind="quote", section=section, mode="whole")
                return "quote"
        if item and (_BOLD_LABEL.match(content) or role == "arguments"):
            self._emit_sentences(lines, "argument", section, mode, commentary=True)
            return "argument"
        self._emit_sentences(lines, "sentence", section, mode, commentary=True)
        return "sentence"

    def _emit_sentences(self, lines: list[SourceLine], kind: str, section: str | None, mode: str, *, commentary: bool) -> None:
        units = self.page.emit_paragraph(lines, kind=kind, section=section, mode=mode)
        if not commentary:
            return
        collected = self.page.collector.units
        for unit in units:
            if not unit.boilerplate and is_commentary(unit.text_plain):
                collected[unit.index] = dataclasses.replace(unit, kind="commentary")

    def _emit_quote(self, lines: list[SourceLine], content: str, quote: QuoteSpan, section: str | None, mode: str) -> None:
        """The quotation (with any attribution) as one unit; the text after it as its gloss."""
        self.page.emit_paragraph(_slice(lines, 0, quote.end), kind="quote", section=section, mode="whole")
        if quote.gloss_start is not None:
            self._emit_sentences(_slice(lines, quote.gloss_start, len(content)), "quote_gloss", section, mode, commentary=False)
        for ln in lines:  # a line left with only a separator or markup
            self.page.context(ln.no, "markup")


def _slice(lines: Sequence[SourceLine], start: int, end: int) -> list[SourceLine]:
    """The ``SourceLine``s covering ``[start, end)`` of the paragraph's joined content."""
    out: list[SourceLine] = []
    pos = 0
    for i, ln in enumerate(lines):
        piece_len = len(ln.raw) - ln.start
        lo, hi = max(start, pos), min(end, pos + piece_len)
        if lo < hi or (lo == hi and start == pos and piece_len == 0):
            raw = ln.raw[: ln.start + (hi - pos)]
            col = ln.start + (lo - pos)
            lead = ln.lead if (i == 0 and start == 0) else None
            if strip_markup(raw[col:]):
                out.append(SourceLine(ln.no, raw, col, lead))
        pos += piece_len + 1
    return out
