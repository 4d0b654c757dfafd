"""One table model, rendered as Markdown, CSV or HTML (lm-eval ``make_table`` style).

A ``Table`` is columns (key, header, alignment) and rows of cell values. Callers decide what a
cell says (its value, whether it is emphasised); this module alone decides how a table is
written in each format, so the leaderboard, the corpus leaderboard and the run report share it:

- Markdown: ``| a | b |`` lines, ``---`` / ``---:`` for left / right columns, emphasised cells in
  ``**bold**``; plain text is escaped for a table cell (``\\``, ``|``, ``<``, ``>``, line breaks),
  a ``MarkdownText`` cell is already Markdown and goes in as it is;
- CSV: column keys as the header, values at full precision, empty for missing;
- HTML: an autoescaped ``<table>`` (Jinja2, ``templates/table.html.j2``), right-aligned columns
  with ``class="num"``, emphasised cells in ``<strong>``; a ``markupsafe.Markup`` cell is already
  HTML and goes in as it is.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Sequence

from markupsafe import Markup


class Align(str, Enum):
    """How a column's cells line up."""

    LEFT = "left"
    RIGHT = "right"


class MarkdownText(str):
    """Cell text that is already Markdown (escaped by its maker, markup kept): written as it is."""


@dataclass(frozen=True)
class Column:
    """One column.

    Attributes:
        key: the CSV header.
        header: the label in the Markdown and HTML header (``key`` when empty).
        align: left or right; a right column's HTML cells get ``class="num"`` unless
            ``html_class`` says otherwise.
        title: the HTML header's tooltip (none when empty).
        html_class: the CSS class of the column's HTML cells (``None``: from ``align``).
    """

    key: str
    header: str = ""
    align: Align = Align.LEFT
    title: str = ""
    html_class: str | None = None

    @property
    def label(self) -> str:
        """The header text."""
        return self.header or self.key

    @property
    def cell_class(self) -> str:
        """The CSS class of the column's HTML cells ('' for none)."""
        if self.html_class is not None:
            return self.html_class
        return "num" if self.align is Align.RIGHT else ""


@dataclass(frozen=True)
class Cell:
    """A cell with more than a value.

    Attributes:
        value: what the cell holds.
        strong: emphasised (``**bold**`` in Markdown, ``<strong>`` in HTML).
        html_class: the CSS class of this HTML cell, instead of the column's.
    """

    value: Any
    strong: bool = False
    html_class: str | None = None


@dataclass(frozen=True)
class Table:
    """Columns and rows; a row holds one value (or ``Cell``) per column.

    Attributes:
        columns: the columns, in order.
        rows: the rows, in order.
        html_class: the CSS class of the HTML ``<table>`` ('' for none).
        wrapper_class: the CSS class of the ``<div>`` the HTML table sits in (a scroll box).
    """

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    html_class: str = ""
    wrapper_class: str = "tscroll"

    def __post_init__(self) -> None:
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"table row {i} has {len(row)} cells for {len(self.columns)} columns")

    @classmethod
    def of(cls, columns: Sequence[Column], rows: Sequence[Sequence[Any]], **kwargs: Any) -> "Table":
        """A table from lists (rows copied into tuples)."""
        return cls(tuple(columns), tuple(tuple(r) for r in rows), **kwargs)


def format_value(v: Any) -> str:
    """A value as cell text: ints plain, other floats to 4 significant digits (2 below 0.001),
    booleans as yes/no, ``None`` as ''."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}" if abs(v) >= 1e-3 else f"{v:.2g}"
    return str(v)


def format_number(value: Any, digits: int = 4) -> str:
    """A value as report text: ints plain, floats to ``digits`` significant digits (integral ones
    as ints), booleans yes/no, ``None`` and NaN as ``n/a``, anything else as its text."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def csv_value(v: Any) -> Any:
    """A value for a CSV cell: full precision, integral floats as ints, ``None`` as ''."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def markdown_cell(text: str) -> str:
    """Plain text for a Markdown table cell: backslash, pipe and line breaks cannot break the
    table, angle brackets cannot open HTML."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _unpack(value: Any) -> tuple[Any, bool, str | None]:
    if isinstance(value, Cell):
        return value.value, value.strong, value.html_class
    return value, False, None


def to_markdown(table: Table, fmt: Callable[[Any], str] = format_value) -> str:
    """The table as Markdown lines (ending in a newline)."""
    lines = [
        "| " + " | ".join(markdown_cell(c.label) for c in table.columns) + " |",
        "|" + "".join("---:|" if c.align is Align.RIGHT else "---|" for c in table.columns),
    ]
    for row in table.rows:
        cells = []
        for value in row:
            value, strong, _ = _unpack(value)
            text = value if isinstance(value, MarkdownText) else markdown_cell(fmt(value))
            cells.append(f"**{text}**" if strong else text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(table: Table, value: Callable[[Any], Any] = csv_value) -> str:
    """The table as CSV: column keys as the header, cells through ``value`` (default: full
    precision, integral floats as ints, ``None`` as '')."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([value(v.value if isinstance(v, Cell) else v) for v in row])
    return buf.getvalue()


def html_rows(table: Table, fmt: Callable[[Any], str] = format_value) -> list[list[tuple[Any, bool, str]]]:
    """The body cells for the HTML template: (text or ``Markup``, strong, CSS class) per cell."""
    out = []
    for row in table.rows:
        cells = []
        for column, value in zip(table.columns, row):
            value, strong, cls = _unpack(value)
            text = value if hasattr(value, "__html__") else fmt(value)
            cells.append((text, strong, column.cell_class if cls is None else cls))
        out.append(cells)
    return out


def to_html(table: Table, fmt: Callable[[Any], str] = format_value) -> Markup:
    """The table as escaped HTML: a ``<table>`` in a scroll box."""
    from harness.templates import environment

    return Markup(environment().get_template("table.html.j2").render(table=table, rows=html_rows(table, fmt)))


def render(table: Table, fmt: str) -> str:
    """The table as ``md``, ``csv`` or ``html``.

    Raises:
        ValueError: another format.
    """
    if fmt == "md":
        return to_markdown(table)
    if fmt == "csv":
        return to_csv(table)
    if fmt == "html":
        return str(to_html(table)) + "\n"
    raise ValueError(f"unknown table format {fmt!r} (md, csv, html)")
