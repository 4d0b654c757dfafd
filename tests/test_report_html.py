"""report.html: escaping of untrusted text, claims/evidence with timestamp links, embedding, and
(where chromium is installed) that a script injected in a summary does not run in a browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import compose
from harness.report.html import render_html, safe_url, write_html_for_run_dir

HOSTILE_TEXT = "<script>document.title='pwned'</script> Ilya says \" onmouseover=\"alert(1)"


def _report(**extra):
    report = {
        "schema_version": 1,
        "signature": {
            "string": "harness:0.1.0|summary:abc",
            "harness_version": "0.1.0",
            "inputs": {"summary": {"sha256": "abc", "format": "plain"}, "transcript": {"sha256": "def", "format": "markdown_blog"}},
            "config_sha256": "0123",
            "models": {},
            "packages": {"numpy": "2"},
        },
        "summary": {"path": "s.md", "format": "plain", "title": "Safe title", "sha256": "abc", "units": 2, "boilerplate_units": 0},
        "transcript": {
            "path": "t.md",
            "title": "Episode",
            "video_url": "https://youtu.be/VID",
            "duration_s": 600.0,
            "turns": 10,
            "chapters": [
                {"index": 0, "title": "Intro <b>bold</b>", "start_s": 0.0, "end_s": 143.0, "line_no": 3},
                {"index": 1, "title": "Deep learning", "start_s": 143.0, "end_s": 600.0, "line_no": 9},
            ],
            "sponsor_segments": [],
            "warnings": [],
        },
        "metrics": {
            "consistency.score": {"value": 0.75, "higher_is_better": True, "description": "Mean <support>.", "note": None},
        },
        "flags": [],
        "timings_s": {"parse": 0.01},
    }
    report.update(extra)
    return report


def _evidence(**kw):
    ev = {
        "start_s": 150.0,
        "end_s": 160.0,
        "timestamp": "2:23",
        "url": "https://youtu.be/VID?t=143",
        "speaker": "Ilya Sutskever",
        "chapter": "Deep learning",
        "quote": "deep learning works",
        "score": 0.9,
        "is_sponsor": False,
        "char_start": 10,
        "char_end": 30,
    }
    ev.update(kw)
    return ev


def _unit(uid="u001", text="Deep learning works.", **kw):
    u = {
        "unit_id": uid,
        "index": int(uid[1:]) - 1,
        "section": "Key Insights",
        "kind": "sentence",
        "text": text,
        "text_plain": text,
        "line_no": 3,
        "cited_timestamp_s": None,
        "boilerplate": False,
        "boilerplate_reason": None,
    }
    u.update(kw)
    return u


def _hostile_units():
    return [
        _unit(
            "u001",
            HOSTILE_TEXT,
            section='"><img src=x onerror=alert(2)>',
            verdict="contradicted",
            score=0.1,
            claims=[
                {
                    "claim_id": "u001.c0",
                    "text": "<script>alert(3)</script>",
                    "verdict": "contradicted",
                    "score": 0.1,
                    "evidence": [
                        _evidence(
                            url="javascript:alert(4)",
                            speaker='" onmouseover="alert(5)',
                            quote="<img src=x onerror=alert(6)>",
                            chapter="</td><script>alert(7)</script>",
                        ),
                        _evidence(url=" JaVaScRiPt:alert(8)", timestamp="3:00"),
                        _evidence(url="data:text/html,<script>alert(9)</script>", timestamp="4:00"),
                    ],
                }
            ],
        )
    ]


def test_hostile_unit_is_escaped_everywhere():
    flags = [
        {
            "tag": "<script>x</script>",
            "severity": "major",
            "unit_id": "u001",
            "claim_index": 0,
            "message": "\" onmouseover='alert(10)'",
            "evidence": [_evidence(url="javascript:alert(11)")],
        }
    ]
    out = render_html(_report(flags=flags), _hostile_units(), None)
    # the only script element is the page's own (allowed by its CSP hash)
    assert out.count("<script") == 1 and out.count("</script>") == 1
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in out
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(6)&gt;" in out
    assert "<img src=x" not in out
    assert "javascript:" not in out.lower()
    assert "data:text/html" not in out
    assert '" onmouseover' not in out and "' onmouseover" not in out
    assert "&quot; onmouseover=&quot;alert(5)" in out
    assert "Intro &lt;b&gt;bold&lt;/b&gt;" in out and "Mean &lt;support&gt;." in out
    # a rejected URL leaves the timestamp as plain text
    assert '<span class="mono">2:23 <abbr class="meta approx" title="' in out and "(≈2:30)</abbr></span>" in out
    # every href on the page is http(s) or an in-page anchor
    for href in re.findall(r'href="([^"]*)"', out):
        assert href.startswith(("https://", "http://", "#")), href


def test_title_and_attribute_values_are_escaped():
    report = _report()
    report["summary"]["title"] = "</title><script>alert(1)</script>"
    units = [_unit("u001", "x", unit_id='u001" onclick="alert(1)')]
    out = render_html(report, units, None)
    assert "<title>Summary evaluation: &lt;/title&gt;&lt;script&gt;" in out
    assert 'id="u001&quot; onclick=&quot;alert(1)"' in out


def test_safe_url():
    assert safe_url("https://youtu.be/x?t=1") == "https://youtu.be/x?t=1"
    assert safe_url("HTTP://example.org") == "HTTP://example.org"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil", "https://a b", "https://a\nb", None, 3, "vbscript:x"):
        assert safe_url(bad) is None


def test_claims_and_evidence_render_with_timestamp_links():
    units = [
        _unit(
            "u001",
            "Sutskever co-wrote AlexNet.",
            verdict="supported",
            score=0.91,
            cited_timestamp_s=143,
            claims=[
                {
                    "claim_id": "u001.c0",
                    "text": "Sutskever co-wrote AlexNet.",
                    "verdict": "supported",
                    "score": 0.91,
                    "evidence": [_evidence(is_sponsor=True)],
                }
            ],
        ),
        _unit("u002", "Buy our mattress.", verdict="unsupported", score=0.2, claims=[]),
        _unit("u003", "More from this site", boilerplate=True, boilerplate_reason="site chrome", kind="boilerplate"),
    ]
    flags = [{"tag": "ad_content", "severity": "major", "unit_id": "u002", "claim_index": None, "message": "An ad.", "evidence": []}]
    out = render_html(_report(flags=flags), units, None)
    assert '<a href="https://youtu.be/VID?t=143" target="_blank" rel="noopener noreferrer">2:23</a>' in out
    assert "(≈2:30)" in out  # estimated time of the quote inside its block
    assert "<strong>Ilya Sutskever</strong>" in out and "<blockquote>deep learning works</blockquote>" in out
    assert "sponsor read" in out
    assert '<details class="unit v-supported" id="u001">' in out
    assert '<details class="unit v-unsupported" id="u002">' in out
    assert '<details class="unit v-boilerplate" id="u003">' in out
    assert "⚑ 1 major" in out and "<code>ad_content</code>" in out
    assert 'cites <a href="https://youtu.be/VID?t=143"' in out  # the unit's own cited time
    # chapter table with start links and the per-chapter claim column
    assert '<a href="https://youtu.be/VID?t=143" target="_blank" rel="noopener noreferrer">2:23</a></td>' in out
    assert "claims with best evidence here" in out


def test_no_verdicts_and_missing_sections_degrade():
    report = _report()
    for key in ("flags", "metrics", "signature"):
        report.pop(key)
    out = render_html(report, [_unit()], None)
    assert "alignment did not run" in out
    assert "<h2>Metrics</h2>" not in out and "<h2>Flags</h2>" not in out
    assert '<details class="unit v-none" id="u001">' in out


def test_coverage_per_chapter_and_figure_are_embedded(tmp_path):
    (tmp_path / "timeline.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    report = _report(
        coverage={
            "chapter_weighted": 0.5,
            "chapters": [{"index": 0, "coverage": 0.25, "covered": True}, {"index": 1, "coverage": 0.0, "covered": False}],
        }
    )
    out = render_html(report, [_unit()], tmp_path)
    assert "data:image/svg+xml;base64," in out
    assert "<th>coverage</th><th>covered</th>" in out
    assert 'style="width:25.0%"' in out and "<td>yes</td>" in out and "<td>no</td>" in out
    assert "<dt>chapter_weighted</dt><dd>0.5</dd>" in out


def test_write_run_writes_report_html(tmp_path):
    from harness.cli import execute_run

    execute_run(compose(["summary=wiki", "stages.align=false"]), tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    units = [json.loads(line) for line in (tmp_path / "units.jsonl").read_text().splitlines()]
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<details class=\"unit") == len(units)
    assert "Transcript chapters" in page and "Sponsor reads in the transcript" in page
    # regenerating from the run directory gives the same page
    before = page
    write_html_for_run_dir(tmp_path)
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == before


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Chromium's path; outside CI a machine without it skips, in CI (``CI=true``, set by
    ``.ci/run``, which installs it) a missing browser fails, so CI cannot pass by skipping."""
    if CHROMIUM is None:
        reason = "chromium not installed (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}: the browser tests must run in CI")
        pytest.skip(reason)
    return CHROMIUM


def _dump_dom(path: Path, tmp_path: Path) -> str:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_injected_script_does_not_run_in_chromium(tmp_path):
    require_chromium()
    page = render_html(_report(flags=[]), _hostile_units(), None)
    # Escaping alone must stop it: test the page with its CSP removed.
    no_csp = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    assert no_csp != page
    (tmp_path / "no_csp.html").write_text(no_csp, encoding="utf-8")
    dom = _dump_dom(tmp_path / "no_csp.html", tmp_path)
    assert "<title>Summary evaluation: Safe title</title>" in dom
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom).group(1)
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    # With the CSP, the page's own script still runs (its hash is allowed): the toolbar shows.
    (tmp_path / "page.html").write_text(page, encoding="utf-8")
    dom = _dump_dom(tmp_path / "page.html", tmp_path)
    assert 'class="toolbar" id="toolbar"' in dom
    assert "<title>Summary evaluation: Safe title</title>" in dom


def test_counts_are_labelled_and_not_available_and_reasons_are_shown():
    """Issue #15 item 9: the badges say they count units; ``not_available`` is on the page; the
    two times of an evidence passage are explained; each unit says why it got its verdict."""
    units = [
        _unit("u001", "Deep learning works.", verdict="supported", score=0.9,
              verdict_reason="best evidence 0.90 at 2:23 (Ilya Sutskever) ≥ supported threshold 0.35",
              claims=[{"claim_id": "u001.c0", "text": "Deep learning works.", "verdict": "supported", "score": 0.9,
                       "evidence": [_evidence()]}]),
        _unit("u002", "It rained.", verdict="unsupported", score=0.1, claims=[]),
    ]
    report = _report(not_available=[{"check": "misattribution", "reason": "the transcript has no speaker labels"}])
    out = render_html(report, units, None)
    assert "<strong>2 units:</strong>" in out
    assert 'id="not-available"' in out and "<code>misattribution</code>: the transcript has no speaker labels" in out
    # "2:23 (≈2:30)": the tooltip and the note say which time is which
    assert re.search(r'<abbr class="meta approx" title="2:23 is the transcript&#x27;s own timestamp of the paragraph[^"]*estimated time', out)
    assert "(≈2:30)</abbr>" in out and "Evidence times:" in out
    assert "Why supported: best evidence 0.90 at 2:23 (Ilya Sutskever) ≥ supported threshold 0.35" in out
    # no table can push the page wider than a phone: every table scrolls inside its own box
    assert out.count("<table>") == out.count("<div class='tscroll'><table>") > 0
