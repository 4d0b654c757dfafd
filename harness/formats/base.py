"""The summary-format plug point: a format turns a summary file's text into ``SummaryUnit``s.

Formats are registered by name in ``FORMATS`` and picked by ``summary.format`` in the config.
A format must account for every non-empty line of the file (as a unit, a boilerplate unit, a
heading, a question, front matter or pure markup) and must raise ``InputFileError`` when the
file does not look like the format, rather than return a shorter result.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Protocol, Sequence

from harness.errors import ConfigError, InputFileError
from harness.registry import Registry
from harness.text import parse_clock as _parse_clock
from harness.text import split_sentences
from harness.types import LineRole, SummaryUnit

FORMATS: Registry[type["SummaryFormat"]] = Registry("summary format")


@dataclass(frozen=True)
class FormatOptions:
    """Options every format accepts (from the ``summary`` config group).

    Attributes:
        split: ``sentence`` (one unit per sentence) or ``line`` (one unit per line); formats
            whose units are lines or bullets by nature may ignore it.
        boilerplate_patterns: extra regular expressions; a line matching one is boilerplate.
    """

    split: str = "sentence"
    boilerplate_patterns: tuple[str, ...] = ()


class SummaryFormat(Protocol):
    """A parser for one kind of summary page."""

    name: str

    def parse(self, text: str, path: str, options: FormatOptions) -> "ParsedSummary":
        """Parse ``text`` (the decoded file ``path``) into units and line roles.

        Raises:
            InputFileError: the text does not look like this format.
        """
        ...


@dataclass(frozen=True)
class ParsedSummary:
    """What a format returns: the page title, units and a role for every non-empty line."""

    title: str | None
    units: tuple[SummaryUnit, ...]
    line_roles: tuple[LineRole, ...]


@dataclass
class UnitCollector:
    """Accumulates units and line roles in document order and numbers the units.

    Formats call ``add_unit`` / ``add_context`` while walking the file; ``finish`` returns the
    ``ParsedSummary``. Unit ids are ``u001``, ``u002``… in the order units are added.
    """

    units: list[SummaryUnit] = field(default_factory=list)
    roles: dict[int, LineRole] = field(default_factory=dict)

    def add_unit(
        self,
        *,
        kind: str,
        text: str,
        text_plain: str,
        line_no: int,
        section: str | None = None,
        cited_timestamp_s: int | None = None,
        boilerplate_reason: str | None = None,
        line_end: int | None = None,
    ) -> SummaryUnit:
        """Append a unit; ``boilerplate_reason`` set means the unit is boilerplate."""
        unit = SummaryUnit(
            unit_id=f"u{len(self.units) + 1:03d}",
            index=len(self.units),
            section=section,
            kind=kind,
            text=text,
            text_plain=text_plain,
            line_no=line_no,
            cited_timestamp_s=cited_timestamp_s,
            boilerplate=boilerplate_reason is not None,
            boilerplate_reason=boilerplate_reason,
        )
        self.units.append(unit)
        for ln in range(line_no, (line_end or line_no) + 1):
            prev = self.roles.get(ln)
            ids = (prev.unit_ids if prev and prev.role == "unit" else ()) + (unit.unit_id,)
            self.roles[ln] = LineRole(line_no=ln, role="unit", unit_ids=ids)
        return unit

    def add_context(self, line_no: int, role: str) -> None:
        """Record a non-unit line: ``heading``, ``question``, ``front_matter`` or ``markup``."""
        if line_no not in self.roles:
            self.roles[line_no] = LineRole(line_no=line_no, role=role)

    def finish(self, title: str | None) -> ParsedSummary:
        """The collected units and line roles, roles sorted by line."""
        roles = tuple(self.roles[k] for k in sorted(self.roles))
        return ParsedSummary(title=title, units=tuple(self.units), line_roles=roles)


_IMAGE = re.compile(r"!\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_WIKI_LINK = re.compile(r"\[\[([^\]|]*)(?:\|([^\]]*))?\]\]")
# Script and style elements carry code, not prose: their content goes with the tags.
_SCRIPT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_HTML_TAG = re.compile(r"<[^>]*>")
_EMPHASIS = re.compile(r"(\*\*|\*|`|~~)(?=\S)(.+?)(?<=\S)\1")
# Underscores mark emphasis only at word edges, so snake_case names survive.
_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)(__|_)(?=\S)(.+?)(?<=\S)\1(?!\w)")
_BULLET = re.compile(r"^\s*(?:[-*+•●]|\d+[.)])\s+")
_EMOJI = re.compile(
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D\u2300-\u23FF]+"
)


def strip_markup(text: str) -> str:
    """Plain text of a Markdown/HTML fragment: links keep their label, wiki links their alias,
    images, tags (and the content of ``<script>``/``<style>``), emphasis markers, bullets and emoji
    are removed, HTML entities are decoded, whitespace is collapsed."""
    out = _WIKI_LINK.sub(lambda m: (m.group(2) or m.group(1)).strip(), text)
    out = _IMAGE.sub(" ", out)
    out = _MD_LINK.sub(lambda m: m.group(1), out)
    out = _SCRIPT.sub(" ", out)
    out = _HTML_TAG.sub(" ", out)
    out = _EMPHASIS.sub(lambda m: m.group(2), out)
    out = _UNDERSCORE_EMPHASIS.sub(lambda m: m.group(2), out)
    out = _BULLET.sub("", out)
    out = _EMOJI.sub(" ", out)
    out = html.unescape(out).replace("\xa0", " ")
    return re.sub(r"\s+", " ", out).strip()


# ----------------------------------------------------------------------------------------------
# Timestamps a summary cites
# ----------------------------------------------------------------------------------------------

# The citation styles summaries use: a wiki's ``<a class="yt-timestamp" data-t="00:02:25">…</a>``
# anchor, a bracketed clock with or without a link (``[2:25]``, ``[2:25](url)``,
# ``[(00:02:25)](url)``) and a parenthesised clock (``(00:02:25)``).
_CITATION = re.compile(
    r"<a\b[^>]*?\bdata-t\s*=\s*(?:\"([^\"]*)\"|'([^']*)')[^>]*>.*?</a\s*>"
    r"|\[\(?(\d{1,3}(?::\d{1,2}){1,2})\)?\](?:\((?:[^()\s]|\([^()\s]*\))*\))?"
    r"|\((\d{1,3}(?::\d{1,2}){1,2})\)",
    re.S | re.I,
)


@dataclass(frozen=True)
class Citation:
    """A timestamp citation found in summary text.

    Attributes:
        start: offset of the citation in the searched text.
        end: offset just past it.
        label: the time as written (``"00:02:25"``).
        seconds: ``parse_clock(label, bare_seconds=True)``; ``None`` when the label is not a
            valid time.
    """

    start: int
    end: int
    label: str
    seconds: int | None


def find_citations(text: str) -> list[Citation]:
    """Every timestamp citation in ``text``, in order (invalid times included, seconds ``None``)."""
    out = []
    for m in _CITATION.finditer(text):
        label = next((g for g in m.groups() if g is not None), "")
        out.append(Citation(m.start(), m.end(), label, _parse_clock(label, bare_seconds=True)))
    return out


def remove_citations(text: str) -> str:
    """``text`` without its timestamp citations (and the spaces before them)."""
    return re.sub(r"\s*(?:" + _CITATION.pattern + ")", "", text, flags=_CITATION.flags)


# ----------------------------------------------------------------------------------------------
# Building a page: the helpers every format walks a file with
# ----------------------------------------------------------------------------------------------

SPLIT_MODES = ("sentence", "line")


@dataclass(frozen=True)
class SourceLine:
    """A line of the file that holds unit text.

    Attributes:
        no: 1-based line number.
        raw: the line as in the file, without its newline.
        start: offset in ``raw`` where the unit text starts (after a ``> `` quote marker or a
            list marker).
        lead: offset where the first unit of a list item starts in the file (its marker), so
            the unit's ``text`` keeps ``1. `` as written; ``None`` means ``start``.
    """

    no: int
    raw: str
    start: int = 0
    lead: int | None = None


class PageBuilder:
    """Walks a summary file for a format: records units and context lines, applies the
    configured boilerplate patterns and checks at the end that every non-empty line got a role
    and that some content was found.

    Args:
        text: the decoded file.
        path: the file name, for error messages.
        options: the format options; ``options.split`` must be one of ``SPLIT_MODES``.

    Raises:
        ConfigError: an unknown split mode or an invalid boilerplate pattern.
    """

    def __init__(self, text: str, path: str, options: FormatOptions) -> None:
        if options.split not in SPLIT_MODES:
            raise ConfigError(
                f"summary.split must be one of {', '.join(SPLIT_MODES)}, got {options.split!r}"
            )
        patterns = []
        for pattern in options.boilerplate_patterns:
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                raise ConfigError(
                    f"summary.boilerplate_patterns: {pattern!r} is not a valid regular expression ({exc})"
                ) from None
        self.path = path
        self.options = options
        # newlines only: str.splitlines() also breaks at form feeds and U+2028, which would
        # shift line numbers away from what an editor shows
        self.lines: list[str] = re.split(r"\r\n|\r|\n", text)
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.collector = UnitCollector()
        self._patterns = patterns

    # -- context lines -------------------------------------------------------------------------

    def context(self, line_no: int, role: str) -> None:
        """Record a line that is not a unit: ``heading``, ``question``, ``front_matter``, ``markup``."""
        self.collector.add_context(line_no, role)

    def has_role(self, line_no: int) -> bool:
        """Whether the line has been given a role already."""
        return line_no in self.collector.roles

    # -- units ---------------------------------------------------------------------------------

    def pattern_reason(self, first: int, last: int) -> str | None:
        """The boilerplate reason when a line in ``first..last`` matches a configured pattern."""
        for ln in range(first, last + 1):
            line = self.lines[ln - 1]
            for pattern in self._patterns:
                if pattern.search(line):
                    return f"matches boilerplate pattern {pattern.pattern!r}"
        return None

    def line_unit(
        self,
        line_no: int,
        *,
        kind: str,
        section: str | None,
        boilerplate_reason: str | None = None,
    ) -> SummaryUnit | None:
        """One unit for a whole line (its text stripped of surrounding blanks)."""
        raw = self.lines[line_no - 1]
        lead = len(raw) - len(raw.lstrip())
        units = self.emit_paragraph(
            [SourceLine(line_no, raw, lead)],
            kind=kind,
            section=section,
            mode="whole",
            boilerplate_reason=boilerplate_reason,
        )
        return units[0] if units else None

    def emit_paragraph(
        self,
        lines: Sequence[SourceLine],
        *,
        kind: str,
        section: str | None,
        mode: str,
        boilerplate_reason: str | None = None,
    ) -> list[SummaryUnit]:
        """Turn a paragraph (consecutive lines) into units.

        Args:
            lines: the paragraph's lines, in order.
            kind: the units' kind.
            section: the units' section.
            mode: ``sentence`` (split into sentences), ``line`` (one unit per line) or
                ``whole`` (the paragraph is one unit).
            boilerplate_reason: marks every unit as boilerplate with this reason.

        Each unit's ``text`` is the file's text of its span (continuation lines keep their quote
        markers), ``text_plain`` its content without markup and citations, and
        ``cited_timestamp_s`` the first valid citation in it. A citation that opens a sentence
        belongs to the sentence before it. A span with no plain text left (pure markup) makes no
        unit; its lines are recorded as ``markup``.
        """
        if not lines:
            return []
        content, offsets = _join_content(lines)
        if mode == "sentence":
            spans = _attach_citations(content, split_sentences(content))
        elif mode == "line":
            spans = []
            for i, off in enumerate(offsets):
                end = offsets[i + 1] - 1 if i + 1 < len(offsets) else len(content)
                seg = content[off:end]
                if seg.strip():
                    lead = len(seg) - len(seg.lstrip())
                    spans.append((off + lead, off + len(seg.rstrip())))
        elif mode == "whole":
            stripped = content.strip()
            lead = len(content) - len(content.lstrip())
            spans = [(lead, lead + len(stripped))] if stripped else []
        else:  # pragma: no cover - a format bug, not a user error
            raise ValueError(f"unknown paragraph mode {mode!r}")

        spans = _merge_markup_only(content, spans)
        units = []
        for s, e in spans:
            piece = content[s:e]
            plain = strip_markup(remove_citations(piece))
            first_i, first_col = _locate(s, offsets, lines)
            last_i, last_col = _locate(e, offsets, lines)
            if first_i == 0 and s == 0 and lines[0].lead is not None:
                first_col = lines[0].lead
            first_no, last_no = lines[first_i].no, lines[last_i].no
            if not plain:
                for ln in range(first_no, last_no + 1):
                    self.context(ln, "markup")
                continue
            if first_i == last_i:
                text = lines[first_i].raw[first_col:last_col]
            else:
                parts = [lines[first_i].raw[first_col:]]
                parts += [ln.raw for ln in lines[first_i + 1 : last_i]]
                parts.append(lines[last_i].raw[:last_col])
                text = "\n".join(parts)
            cited = next((c.seconds for c in find_citations(piece) if c.seconds is not None), None)
            reason = boilerplate_reason or self.pattern_reason(first_no, last_no)
            units.append(
                self.collector.add_unit(
                    kind=kind,
                    text=text,
                    text_plain=plain,
                    line_no=first_no,
                    section=section,
                    cited_timestamp_s=cited,
                    boilerplate_reason=reason,
                    line_end=last_no,
                )
            )
        return units

    # -- result --------------------------------------------------------------------------------

    def finish(self, title: str | None, format_name: str) -> ParsedSummary:
        """The parsed page.

        Raises:
            InputFileError: no content unit was found.
            RuntimeError: a non-empty line got no role (a bug in the format, never ignored).
        """
        missing = [
            i + 1 for i, line in enumerate(self.lines) if line.strip() and not self.has_role(i + 1)
        ]
        if missing:
            raise RuntimeError(
                f"{self.path}: the {format_name} parser gave no role to line(s) {missing[:10]}"
            )
        if not any(not u.boilerplate for u in self.collector.units):
            raise InputFileError(self.path, f"no summary content found (parsed as {format_name})")
        return self.collector.finish(title)


def _merge_markup_only(content: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Fold a span with no plain text (e.g. a ``<script>…</script>`` after a sentence) into the
    span before it (or after it, at the start), so its raw text stays in some unit's ``text``."""
    has_text = [bool(strip_markup(remove_citations(content[s:e]))) for s, e in spans]
    if not any(has_text):
        return spans
    out: list[tuple[int, int]] = []
    pending_start: int | None = None
    for (s, e), ok in zip(spans, has_text):
        if ok:
            out.append((pending_start if pending_start is not None else s, e))
            pending_start = None
        elif out:
            out[-1] = (out[-1][0], e)
        elif pending_start is None:
            pending_start = s
    return out


def _join_content(lines: Sequence[SourceLine]) -> tuple[str, list[int]]:
    """The paragraph's content (each line from its ``start``) joined by newlines, and where each
    line starts in it."""
    offsets, parts, pos = [], [], 0
    for line in lines:
        piece = line.raw[line.start :]
        offsets.append(pos)
        parts.append(piece)
        pos += len(piece) + 1
    return "\n".join(parts), offsets


def _locate(pos: int, offsets: list[int], lines: Sequence[SourceLine]) -> tuple[int, int]:
    """Which line a content offset falls on, and its column in that line's ``raw``."""
    i = 0
    while i + 1 < len(offsets) and offsets[i + 1] <= pos:
        i += 1
    return i, lines[i].start + (pos - offsets[i])


def _attach_citations(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move citations that open a sentence to the end of the sentence before it."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out:
            cut = s
            while True:
                m = _CITATION.match(text, cut)
                if not m or m.end() > e:
                    break
                cut = m.end()
                while cut < e and text[cut].isspace():
                    cut += 1
            if cut > s:
                ps, _ = out[-1]
                if not any(ch.isalnum() for ch in text[cut:e]):
                    cut = e  # only punctuation left ("…</a>."): it ends the sentence before
                end_of_cite = cut
                while end_of_cite > s and text[end_of_cite - 1].isspace():
                    end_of_cite -= 1
                out[-1] = (ps, end_of_cite)
                s = cut
                if s >= e:
                    continue
        out.append((s, e))
    return out
