"""The Jinja2 templates: autoescape on, entities as the pages always spelled them, the
leaderboard page escapes what runs say about themselves, and every template ships in the wheel."""

from __future__ import annotations

import fnmatch
import re
import sys

import jinja2
import pytest
from markupsafe import Markup

from conftest import ROOT
from harness.leaderboard import build_leaderboard, load_run, render_html_page
from harness.templates import environment, escape
from test_leaderboard import write_run

HOSTILE = "<script>alert('x')</script>\" onmouseover=\"alert(1)"


def test_escape_spells_entities_as_html_escape():
    assert escape(HOSTILE) == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot; onmouseover=&quot;alert(1)"
    assert escape(None) == "" and escape(0) == "0" and escape(1.5) == "1.5"
    assert escape(Markup("<b>ours</b>")) == "<b>ours</b>"


def test_environment_autoescapes_and_refuses_undefined_names():
    env = environment()
    page = env.from_string('<p title="{{ t }}">{{ t }}{{ ours }}{{ nothing }}</p>')
    out = page.render(t=HOSTILE, ours=Markup("<br>"), nothing=None)
    assert "<script>" not in out and 'title="&lt;script&gt;' in out and "<br></p>" in out
    assert "onmouseover=&quot;alert(1)" in out and '" onmouseover' not in out
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_leaderboard_page_escapes_names_notes_and_signatures(tmp_path):
    run = write_run(tmp_path / "x", "x", {"consistency.score": (0.5, True)}, config_extra={"system": HOSTILE})
    board = build_leaderboard([load_run(run)])
    board.notes.append("a `<code>` span and <b>bold</b>")
    board.runs[0].report["signature"]["string"] = "</span><script>alert(2)</script>"
    page = render_html_page(board, None)
    assert page.startswith("<!DOCTYPE html>\n") and page.endswith("</main></body></html>\n")
    assert "<script" not in page and "<b>" not in page
    assert page.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") == 2  # its table row and its line under Runs
    assert "<li>a <code>&lt;code&gt;</code> span and &lt;b&gt;bold&lt;/b&gt;</li>" in page
    assert "&lt;/span&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    # only our own CSP, unescaped apostrophes included, so the browser reads the policy
    assert "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">" in page


def test_leaderboard_page_embeds_the_figure(tmp_path):
    run = write_run(tmp_path / "x", "x", {"consistency.score": (0.5, True)})
    page = render_html_page(build_leaderboard([load_run(run)]), b"\x89PNG fake")
    assert '<h2>Timeline</h2><img alt="claims of each summary along the episode, coloured by verdict" src="data:image/png;base64,iVBORyBmYWtl">' in page
    assert "<h2>Timeline</h2>" not in render_html_page(build_leaderboard([load_run(run)]), None)


def test_every_template_file_ships_as_package_data():
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11+")
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["harness.templates"]
    folder = ROOT / "harness" / "templates"
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".py")
    assert {"report.html.j2", "report_macros.html.j2", "leaderboard.html.j2", "table.html.j2", "report.css", "report.js"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []


def test_templates_parse():
    env = environment()
    for name in env.list_templates(extensions=["j2"]):
        env.get_template(name)  # a syntax error raises here


def test_corpus_leaderboard_html_page(tmp_path):
    from test_corpus_leaderboard import RECORDS, _rec

    from harness.corpus_leaderboard import write_corpus_leaderboard

    hostile = [
        _rec("<i>e5</i>", HOSTILE, {"consistency.score": 0.2}),
        {**_rec("e6", "sys", {"consistency.score": 0.1}), "run_dir": "javascript:alert(3)//"},
        {**_rec("e7", "sys", {}, status="error"), "error": "<script>alert(4)</script>"},
    ]
    write_corpus_leaderboard(RECORDS + hostile, tmp_path, seed=0, resamples=50, worst=3)
    page = (tmp_path / "leaderboard.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>\n") and "<script" not in page and "<i>" not in page
    # the same tables as leaderboard.md
    assert "<tr><td>lead</td><td>2</td><td>0.93 [0.91, 0.95]</td>" in page
    assert re.search(r"<td>consistency.score AUROC, sys vs sys on another episode</td><td>0\.\d{3}</td><td>≥ 0.99</td>"
                     r"<td>\d+</td><td><strong>no</strong></td>", page)
    assert "<p>Controls sit beside each system with its length budget: <code>lead</code>" in page
    # worst episodes link to their report.html inside the corpus folder; other paths are not links
    assert '<a href="rows/e2__sys/report.html">e2</a> 0.410' in page
    assert "javascript:" not in page and "e6 0.100" in page
    assert "<li>e7 / sys: &lt;script&gt;alert(4)&lt;/script&gt;</li>" in page
    assert "<strong>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&quot; onmouseover=&quot;alert(1)</strong>" in page
    assert "&lt;i&gt;e5&lt;/i&gt;" in page
    # every distribution plot embedded
    plots = sorted((tmp_path / "plots").iterdir())
    assert plots and page.count('src="data:image/png;base64,') == len(plots)
