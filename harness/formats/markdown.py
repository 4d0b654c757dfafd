"""The ``markdown`` format: any Markdown page — a blog post, a Jekyll/Hugo article, an MkDocs or
Docusaurus docs page, MDX — with its site chrome classified as boilerplate.

What it reads, beyond what ``plain`` reads (headings, paragraphs, lists, quotes, fences):

- front matter: YAML (``---``) or TOML (``+++``); its ``title`` becomes the page title;
- MDX: ``import``/``export`` lines (also spread over several lines), ``{/* comments */}``, JSX
  component tags (``<Callout emoji="💡">``, ``<Steps>``, a tag whose attributes span lines) are
  markup; the text inside components is content;
- admonitions: MkDocs ``!!! note "Title"`` / ``??? tip`` with an indented body, Docusaurus
  ``:::info Title`` … ``:::``, and quote callouts ``> [!info] Title``; their title joins the
  section path of the units inside;
- tables: the header row is a heading line, each body row one unit whose plain text pairs each
  cell with its column (``Born: 1960; Place: Paris``);
- HTML comments (also over several lines), ``$$`` math blocks and setext headings;
- nested bullets: every list item, at any depth, is its own paragraph.

Site chrome is classified as boilerplate by line rules (``MARKDOWN_LINE_RULES``): lines made only
of links (navigation, a table of contents), attribution lines (``Source: [Wikipedia](…)``,
``Website: https://…``), share/subscribe/follow prompts, docs navigation ("Edit this page",
"Last updated", "Previous"/"Next"), copyright notices, bylines and tag lines, and generator
credits. Only short lines are taken (``CHROME_MAX_WORDS``), so prose that mentions a newsletter
stays content. ``summary.boilerplate_patterns`` adds site-specific patterns.

Every non-empty line gets a role; paragraphs are split into sentences (``summary.split:
sentence``) or lines (``line``). Each unit's kind (``background``, ``quote``, ``quote_gloss``,
``argument``, ``commentary``, ``heading`` or ``sentence``) comes from the page's sections and
wording (``harness.formats.page_kinds``); a quotation is one unit, ellipses and all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import InputFileError
from harness.formats._blocks import HEADING, LIST_ITEM, QUOTE, RULE, TABLE_ROW, TABLE_SEPARATOR, is_pure_markup
from harness.formats.base import FORMATS, FormatOptions, PageBuilder, ParsedSummary, find_citations, strip_markup
from harness.formats.page_kinds import KindState

KIND = "sentence"
CHROME_MAX_WORDS = 20


@dataclass(frozen=True)
class ChromeRule:
    """A kind of site chrome: lines matching ``pattern`` (and no longer than
    ``CHROME_MAX_WORDS`` words of plain text) are boilerplate with ``reason``."""

    pattern: re.Pattern[str]
    reason: str


_URL = r"(?:https?://|www\.)\S+"
MARKDOWN_LINE_RULES = (
    ChromeRule(
        re.compile(
            r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?:source|sources|via|credit|credits|image|photo|website|homepage|"
            r"web|url|link|links|read more|original|full transcript|watch|listen)(?:\*\*|__)?\s*:(?:\*\*|__)?\s*"
            rf"(?:\[|<?{_URL})",
            re.I,
        ),
        "attribution or link line",
    ),
    ChromeRule(
        re.compile(
            r"\b(?:share (?:this|on)|subscribe to (?:our|the|my) (?:newsletter|channel|podcast|blog)|"
            r"sign up for (?:our|the|my) newsletter|follow (?:us|me) on|join (?:our|the) (?:discord|newsletter|community|mailing list)|"
            r"buy me a coffee|leave a comment|comments? below)\b",
            re.I,
        ),
        "share or subscribe prompt",
    ),
    ChromeRule(
        re.compile(
            r"^\s*(?:[«‹←<]\s*)?(?:previous|prev|next|older|newer)(?:\s+(?:page|post|article|episode|chapter|entry))?"
            r"\s*(?:[:»›→>|].*)?$",
            re.I,
        ),
        "site navigation",
    ),
    ChromeRule(
        re.compile(
            r"^\s*(?:\*\*)?(?:edit (?:this page|on github)|last updated|was this (?:page|article) helpful|"
            r"back to top|on this page|skip to (?:main )?content|powered by)\b",
            re.I,
        ),
        "site navigation",
    ),
    ChromeRule(
        re.compile(r"^\s*(?:©|\(c\)\s*\d{4}|copyright\s+(?:©\s*)?\d{4})|\ball rights reserved\b", re.I),
        "copyright notice",
    ),
    ChromeRule(
        re.compile(
            r"^\s*(?:(?:posted|published|updated|written|filed)\s+(?:on|in|by)\b|"
            r"(?:\*\*|__)?(?:tags|categories|category|reading time|author|date)(?:\*\*|__)?\s*:)",
            re.I,
        ),
        "byline or metadata",
    ),
    ChromeRule(
        re.compile(
            r"\bthis (?:page|summary|article|site|post|document) (?:was |is )?(?:generated|written|created|built|made)"
            r" (?:by|with|using)\b",
            re.I,
        ),
        "generator credit",
    ),
)

_SETEXT = re.compile(r"^\s{0,3}(=+|-{2,})\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ADMONITION = re.compile(r"^(\s*)(?:!!!|\?\?\?\+?)\s*([\w-]+)(?:\s+\"([^\"]*)\")?\s*$")
_DOCUSAURUS_OPEN = re.compile(r"^\s*:::\s*([\w-]+)(?:\[([^\]]*)\]|\s+(.*?))?\s*$")
_DOCUSAURUS_CLOSE = re.compile(r"^\s*:::\s*$")
_MDX_STATEMENT = re.compile(r"^(?:import|export)\b")
_MDX_COMMENT = re.compile(r"^\s*\{/\*.*\*/\}\s*$")
_TAG_OPEN = re.compile(r"^\s*</?[A-Za-z][\w.:-]*")
_MATH_FENCE = re.compile(r"^\s*\$\$\s*$")
_FRONT_MATTER_TITLE = re.compile(r"^title\s*[:=]\s*(.*?)\s*$")
_LINK_OR_URL = re.compile(rf"!?\[[^\]]*\]\((?:[^()]|\([^()]*\))*\)|<?{_URL}>?|\[\[[^\]]*\]\]")
_NAV_SEPARATORS = re.compile(r"[\s|•·/>»«<\-–—*+,;:()\[\]]+")


def _front_matter_end(lines: list[str]) -> int | None:
    if not lines or lines[0].strip() not in ("---", "+++"):
        return None
    closer = ("---", "...") if lines[0].strip() == "---" else ("+++",)
    for i in range(1, min(len(lines), 200)):
        if lines[i].strip() in closer:
            return i
    return None


def _chrome_reason(line: str) -> str | None:
    """The boilerplate reason of a site-chrome line, ``None`` for content."""
    plain = strip_markup(line)
    if len(plain.split()) > CHROME_MAX_WORDS:
        return None
    # A line made only of links and separators: navigation, a list of links, a table of contents.
    if _LINK_OR_URL.search(line) and not _NAV_SEPARATORS.sub("", _LINK_OR_URL.sub("", line)):
        return "navigation or link-only line"
    for rule in MARKDOWN_LINE_RULES:
        if rule.pattern.search(line):
            return rule.reason
    return None


def _cells(row: str) -> list[str]:
    body = row.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return [strip_markup(c) for c in re.split(r"(?<!\\)\|", body)]


def walk_page(page: PageBuilder) -> str | None:
    """Walk a Markdown page, adding its units and context lines to ``page``; returns the title."""
    lines = page.lines
    st = KindState(page)
    adm_indent: int | None = None  # body indent of an open MkDocs admonition
    docusaurus_open = False
    table_header: list[str] | None = None
    start = st.front_matter(_front_matter_end, _FRONT_MATTER_TITLE)

    fence: str | None = None
    in_comment = in_tag = in_math = in_import = False
    skip_next = False
    for i in range(start, len(lines)):
        no, raw = i + 1, lines[i]
        stripped = raw.strip()
        if skip_next:
            skip_next = False
            if stripped:
                page.context(no, "markup")
            continue
        if fence is not None:
            if stripped.startswith(fence[0] * 3) and stripped.strip(fence[0]) == "":
                fence = None
                page.context(no, "markup")
            elif stripped:
                page.line_unit(no, kind="code", section=st.section(), boilerplate_reason="code block")
            continue
        if in_comment or in_tag or in_math or in_import:
            if stripped:
                page.context(no, "markup")
            if in_comment and "-->" in raw:
                in_comment = False
            elif in_tag and stripped.endswith(">"):
                in_tag = False
            elif in_math and _MATH_FENCE.match(raw):
                in_math = False
            elif in_import and (re.search(r"\bfrom\s+['\"]", raw) or stripped.endswith(";")):
                in_import = False
            continue
        if not stripped:
            st.flush()
            st.callout = None
            table_header = None
            continue

        # Inside an MkDocs admonition: the body is indented; a line that is not ends it.
        off = 0
        if adm_indent is not None:
            indent = len(raw) - len(raw.lstrip())
            if indent >= adm_indent:
                off = adm_indent
            else:
                st.flush()
                st.boxes.pop()
                adm_indent = None
        view = raw[off:]

        if _DOCUSAURUS_CLOSE.match(view) and docusaurus_open:
            st.flush()
            st.boxes.pop()
            docusaurus_open = False
            page.context(no, "markup")
            continue
        reason = _chrome_reason(view) or page.pattern_reason(no, no)
        if reason is not None and not HEADING.match(view):
            st.flush()
            page.line_unit(no, kind="boilerplate", section=st.section(), boilerplate_reason=reason)
            continue
        if off == 0 and _MDX_STATEMENT.match(raw) and not st.para.lines:
            page.context(no, "markup")
            if raw.lstrip().startswith("import") and "{" in raw and "}" not in raw:
                in_import = True
            continue
        if _MDX_COMMENT.match(view):
            st.flush()
            page.context(no, "markup")
            continue
        if stripped.startswith("<!--"):
            st.flush()
            page.context(no, "markup")
            in_comment = "-->" not in raw
            continue
        if m := _FENCE.match(view):
            st.flush()
            fence = m.group(1)
            page.context(no, "markup")
            continue
        if _MATH_FENCE.match(view):
            st.flush()
            in_math = True
            page.context(no, "markup")
            continue
        if m := _ADMONITION.match(view):
            st.flush()
            st.boxes.append(m.group(3) or m.group(2).capitalize())
            adm_indent = off + len(m.group(1)) + 4
            page.context(no, "heading")
            continue
        if (m := _DOCUSAURUS_OPEN.match(view)) and not docusaurus_open:
            st.flush()
            st.boxes.append(strip_markup(m.group(2) or m.group(3) or "") or m.group(1).capitalize())
            docusaurus_open = True
            page.context(no, "heading")
            continue

        quote = QUOTE.match(view)
        if quote is None and st.para.quoted:
            st.flush()
        if quote is None:
            st.callout = None

        heading = HEADING.match(view)
        setext = (
            quote is None
            and not st.para.lines
            and i + 1 < len(lines)
            and _SETEXT.match(lines[i + 1])
            and not LIST_ITEM.match(view)
            and not TABLE_ROW.match(view)
            and not _TAG_OPEN.match(view)
        )
        if (heading or setext) and quote is None:
            if heading:
                level, text = len(heading.group(1)), strip_markup(heading.group(2))
            else:
                level, text = (1 if lines[i + 1].strip().startswith("=") else 2), strip_markup(view)
                skip_next = True
            st.heading(no, level, text)
            continue

        if quote is not None:
            st.quote_line(no, raw, off, quote)
            continue

        if _TAG_OPEN.match(view) and ">" not in view[_TAG_OPEN.match(view).end() :]:
            st.flush()  # a JSX/HTML tag whose attributes go on over the next lines
            in_tag = True
            page.context(no, "markup")
            continue
        if RULE.match(view) or TABLE_SEPARATOR.match(view) or is_pure_markup(view):
            st.flush()
            page.context(no, "markup")
            continue
        if TABLE_ROW.match(view):
            st.flush()
            if i + 1 < len(lines) and TABLE_SEPARATOR.match(lines[i + 1]):
                table_header = _cells(view)
                page.context(no, "heading")
                continue
            _table_row(page, no, raw, view, table_header, st.section())
            continue
        item = LIST_ITEM.match(view)
        if item:
            st.list_item(no, raw, off, item)
            continue
        st.text_line(no, raw, off)
    st.flush()
    return st.title


def _table_row(page: PageBuilder, no: int, raw: str, view: str, header: list[str] | None, section: str | None) -> None:
    """One unit for a table body row: each cell paired with its column's header."""
    cells = _cells(view)
    if not any(cells):
        page.context(no, "markup")
        return
    if header and len(header) == len(cells):
        parts = [f"{h}: {c}" if h else c for h, c in zip(header, cells) if c]
    else:
        parts = [c for c in cells if c]
    text = raw.strip()
    cited = next((c.seconds for c in find_citations(text) if c.seconds is not None), None)
    page.collector.add_unit(
        kind=KIND,
        text=text,
        text_plain="; ".join(parts),
        line_no=no,
        section=section,
        cited_timestamp_s=cited,
        boilerplate_reason=page.pattern_reason(no, no),
    )


@FORMATS.register("markdown")
class MarkdownFormat:
    """Any Markdown/MDX page: front matter, admonitions, components, tables, site chrome."""

    name = "markdown"

    def parse(self, text: str, path: str, options: FormatOptions) -> ParsedSummary:
        """Parse ``text``.

        Raises:
            InputFileError: the page holds no summary content (all of it is chrome or markup).
        """
        if not text.strip():
            raise InputFileError(path, "no summary content found (the file is empty)")
        page = PageBuilder(text, path, options)
        title = walk_page(page)
        return page.finish(title, self.name)
