"""report.md is report.json as a page to read (issue #15 item 4): per-unit verdicts, each unit's
claims with verdict, score and evidence (time, speaker, quote), flags, coverage per chapter,
checks not available, metrics with their descriptions, the signature; no HTML entities."""

from __future__ import annotations

import re

from test_report_html import HOSTILE_TEXT, _evidence, _report, _unit

from harness.report.markdown import md_escape, render_markdown

COVERAGE = {
    "chapter_weighted": 0.5,
    "key_point_recall": 0.25,
    "notes": ["chapters from the transcript's headings"],
    "chapters": [
        {"index": 0, "title": "Intro", "start_s": 0.0, "end_s": 143.0, "label": "none", "score": 0.0,
         "key_points": 2, "matched_key_points": 0, "key_point_recall": 0.0, "evidence_score": None, "sponsor_share": 0.0, "excluded": None},
        {"index": 1, "title": "Deep learning", "start_s": 143.0, "end_s": 600.0, "label": "full", "score": 0.9,
         "key_points": 4, "matched_key_points": 3, "key_point_recall": 0.75, "evidence_score": 1.0, "sponsor_share": 0.0, "excluded": None},
    ],
    "missed_chapters": [{"index": 0, "title": "Intro", "start": "0:00"}],
    "missed_key_points": [{"text": "Welcome to the show.", "time": "0:05", "speaker": "Lex", "chapter": "Intro"}],
    "redundant_pairs": [],
}


def _run():
    units = [
        _unit("u001", "Deep learning works.", verdict="supported", score=0.9,
              verdict_reason="best evidence 0.90 at 2:23 (Ilya Sutskever) ≥ supported threshold 0.35",
              claims=[{"claim_id": "u001.c0", "text": "Deep learning works.", "verdict": "supported", "score": 0.9,
                       "evidence": [_evidence()]}]),
        _unit("u002", HOSTILE_TEXT, verdict="unsupported", score=0.12,
              verdict_reason="no claim reaches the partial threshold 0.2; best 0.12 at 2:23 (Ilya Sutskever)",
              claims=[{"claim_id": "u002.c0", "text": "It | rained <b>", "verdict": "unsupported", "score": 0.12,
                       "evidence": [_evidence(score=0.12, quote="it did not rain")]}]),
        _unit("u003", "Sign up now!", boilerplate=True, boilerplate_reason="site call to action", verdict="not_checkable"),
    ]
    flags = [{"tag": "unsupported_claim", "severity": "minor", "unit_id": "u002", "claim_index": 0,
              "message": "Nothing in the transcript supports it.", "evidence": [_evidence()]}]
    report = _report(
        flags=flags,
        coverage=COVERAGE,
        not_available=[{"check": "misattribution", "reason": "the transcript has no speaker labels"}],
    )
    report["summary"].update(sha256="a" * 64)
    report["transcript"].update(format="markdown_blog", chapter_source="headings", timestamps=True, sha256="b" * 64)
    report["metrics"]["coverage.redundancy"] = {"value": 0.0, "higher_is_better": False,
                                                "description": "Share of pairs with cosine >= 0.8.", "note": None}
    return report, units


def test_markdown_report_holds_units_claims_evidence_flags_coverage_and_signature():
    report, units = _run()
    md = render_markdown(report, units)
    # per-unit verdicts
    assert "| [u001](#u001) | sentence | supported | 0.90 |  | Deep learning works. |" in md
    assert "| [u003](#u003) | sentence | boilerplate |" in md
    # each unit's claims with verdict, score and evidence: time (linked), speaker, quote
    assert "<details><summary>u001 · supported 0.90</summary>" in md
    assert "Why supported: best evidence 0.90 at 2:23 (Ilya Sutskever) ≥ supported threshold 0.35" in md
    assert "1. **supported 0.90**: Deep learning works." in md
    assert ("   - [2:23](https://youtu.be/VID?t=143) (≈2:30) · **Ilya Sutskever** · _Deep learning_ · support 0.90: "
            "“deep learning works”") in md
    assert "Evidence times:" in md  # what "2:23 (≈2:30)" means
    # flags: in the unit and in a table
    assert "- ⚑ minor `unsupported_claim` (claim 1): Nothing in the transcript supports it." in md
    assert "| minor | `unsupported_claim` | [u002](#u002) | 1 | [2:23](https://youtu.be/VID?t=143) | Nothing in the transcript supports it. |" in md
    # coverage per chapter
    assert "| 2 | Deep learning | 2:23 | 7:37 | full | 0.9 | 3/4 | 0.75 | 1 | 0 |" in md
    assert "### Chapters missed" in md and "- Intro (0:00)" in md
    # not available, metrics with descriptions, the signature in full
    assert "- **misattribution**: the transcript has no speaker labels" in md
    assert "| coverage.redundancy | 0 | lower | Share of pairs with cosine \\>= 0.8. |" in md
    assert "| consistency.score | 0.75 | higher | Mean \\<support\\>. |" in md
    assert "`harness:0.1.0|summary:abc`" in md and "- transcript: sha256 `def` (format `markdown_blog`)" in md


def test_markdown_report_has_no_html_entities_and_escapes_untrusted_text():
    report, units = _run()
    md = render_markdown(report, units)
    assert not re.search(r"&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);", md)
    # the only HTML is our own fixed markup
    tags = set(re.findall(r"(?<!\\)<(/?[a-zA-Z]+)", md))
    assert tags <= {"details", "/details", "summary", "/summary", "a", "/a"}
    assert "\\<script\\>document.title='pwned'\\</script\\>" in md
    assert "It \\| rained \\<b\\>" in md  # a pipe cannot break a table or a list


def test_md_escape():
    assert md_escape("a | b <i>*x*_y_ [l](u) #1\n next") == "a \\| b \\<i\\>\\*x\\*\\_y\\_ \\[l\\](u) \\#1 next"
    assert md_escape(None) == ""


SPONSOR = {
    "index": 0, "start_s": 50.0, "end_s": 122.0, "start": "0:00:50", "end": "0:02:02", "time_estimated": False,
    "char_start": 0, "char_end": 10, "rules": ["presented_by", "promo_code"], "words": 180,
    "parts": [
        {"kind": "self_promo", "start_s": 50.0, "end_s": 64.0, "start": "0:00:50", "end": "0:01:04", "char_start": 0, "char_end": 4},
        {"kind": "read", "start_s": 64.0, "end_s": 122.0, "start": "0:01:04", "end": "0:02:02", "char_start": 4, "char_end": 10},
    ],
}


def test_sponsor_segments_say_which_stretch_is_the_read_and_which_the_self_promotion():
    from harness.report.html import render_html

    report, units = _run()
    report["transcript"]["sponsor_segments"] = [SPONSOR]
    line = "| 0 | 0:00:50 | 0:02:02 | 180 | self-promotion 0:00:50–0:01:04; read 0:01:04–0:02:02 | presented_by, promo_code |"
    assert line in render_markdown(report, units)
    assert "self-promotion 0:00:50–0:01:04; read 0:01:04–0:02:02" in render_html(report, units, None)
    estimated = dict(SPONSOR, time_estimated=True, parts=SPONSOR["parts"][1:])
    report["transcript"]["sponsor_segments"] = [estimated]
    assert "| read ≈0:01:04–≈0:02:02 |" in render_markdown(report, units)
