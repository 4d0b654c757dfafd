"""harness.tables: one table model written as Markdown, CSV and HTML, with exact outputs."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from harness import tables
from harness.tables import Align, Cell, Column, MarkdownText, Table, format_value

HOSTILE = '<script>alert(1)</script> a|b \\ "q"'


def _table(**kwargs) -> Table:
    columns = [Column("name", "system"), Column("score", "score ↑", Align.RIGHT, title="consistency.score")]
    rows = [["beta", Cell(0.9, strong=True)], ["alpha", 0.123456], ["gamma", None]]
    return Table.of(columns, rows, **kwargs)


def test_markdown_exact():
    assert tables.render(_table(), "md") == (
        "| system | score ↑ |\n"
        "|---|---:|\n"
        "| beta | **0.9** |\n"
        "| alpha | 0.1235 |\n"
        "| gamma |  |\n"
    )


def test_csv_exact_full_precision():
    assert tables.render(_table(), "csv") == "name,score\nbeta,0.9\nalpha,0.123456\ngamma,\n"
    # integral floats as ints by default; a caller may keep Python's own writing
    table = Table.of([Column("n")], [[3.0], [Cell(2.5)]])
    assert tables.to_csv(table) == "n\n3\n2.5\n"
    assert tables.to_csv(table, value=lambda v: v) == "n\n3.0\n2.5\n"


def test_html_exact():
    assert tables.render(_table(wrapper_class="scroll"), "html") == (
        "<div class='scroll'><table><thead><tr><th>system</th>"
        '<th title="consistency.score">score ↑</th></tr></thead><tbody>'
        '<tr><td>beta</td><td class="num"><strong>0.9</strong></td></tr>'
        '<tr><td>alpha</td><td class="num">0.1235</td></tr>'
        '<tr><td>gamma</td><td class="num"></td></tr>'
        "</tbody></table></div>\n"
    )


def test_html_table_class_and_cell_class():
    table = Table.of([Column("a", html_class="mono")], [[Cell("x", html_class="meta")], ["y"]], html_class="metrics")
    assert str(tables.to_html(table)) == (
        "<div class='tscroll'><table class='metrics'><thead><tr><th>a</th></tr></thead><tbody>"
        '<tr><td class="meta">x</td></tr><tr><td class="mono">y</td></tr></tbody></table></div>'
    )


def test_hostile_text_is_escaped_in_every_format():
    table = Table.of([Column(HOSTILE)], [[HOSTILE]])
    html = str(tables.to_html(table))
    assert "<script>" not in html and html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert "&#34;q&#34;" in html or "&quot;q&quot;" in html
    md = tables.to_markdown(table)
    assert md.splitlines()[2] == "| &lt;script&gt;alert(1)&lt;/script&gt; a\\|b \\\\ \"q\" |"
    assert "<" not in md
    # CSV is data, not markup: the text as it is, quoted by the csv module
    assert tables.to_csv(table).splitlines()[1] == '"<script>alert(1)</script> a|b \\ ""q"""'


def test_markup_and_markdown_cells_pass_through_only_in_their_format():
    table = Table.of([Column("a")], [[Markup('<a href="#u1">u1</a>')], [MarkdownText("[u1](#u1) `tag`")]])
    html = str(tables.to_html(table))
    assert '<td><a href="#u1">u1</a></td>' in html
    assert "<td>[u1](#u1) `tag`</td>" in html
    md = tables.to_markdown(table)
    assert "| [u1](#u1) `tag` |" in md  # Markdown text kept
    assert '| &lt;a href="#u1"&gt;u1&lt;/a&gt; |' in md  # HTML is plain text in Markdown


def test_multiline_cell_stays_on_one_markdown_row():
    assert tables.to_markdown(Table.of([Column("a")], [["x\ny"]])).splitlines()[2] == "| x y |"


def test_empty_table_has_its_header():
    table = Table.of([Column("a"), Column("b", align=Align.RIGHT)], [])
    assert tables.to_markdown(table) == "| a | b |\n|---|---:|\n"
    assert tables.to_csv(table) == "a,b\n"
    assert "<tbody></tbody>" in str(tables.to_html(table))


def test_row_of_the_wrong_width_is_an_error():
    with pytest.raises(ValueError, match="row 1 has 1 cells for 2 columns"):
        Table.of([Column("a"), Column("b")], [[1, 2], [3]])


def test_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="unknown table format 'tex'"):
        tables.render(_table(), "tex")


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (True, "yes"), (False, "no"), (3, "3"), (3.0, "3"), (0.123456, "0.1235"), (0.000123, "0.00012"), ("x", "x")],
)
def test_format_value(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [(None, 4, "n/a"), (float("nan"), 4, "n/a"), (True, 4, "yes"), (7, 4, "7"), (2.0, 4, "2"),
     (0.123456, 4, "0.1235"), (0.123456, 2, "0.12"), (0.000123, 4, "0.000123"), ("ok", 4, "ok")],
)
def test_format_number(value, digits, text):
    assert tables.format_number(value, digits) == text
