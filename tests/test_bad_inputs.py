"""The bad-input corpus (tests/data/bad/): every case ends in a valid report or one clear error.

Never a traceback and never a silent zero: an unusable file is an ``InputFileError`` whose
message names the file and the problem; a usable but odd file gives a complete report.
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, compose
from harness.cli import execute_run
from harness.errors import InputFileError

BAD = ROOT / "tests" / "data" / "bad"


FAST = ["stages.align=false"]  # parse-level cases; the pipeline's later stages are tested elsewhere


def _summary(name: str, fmt: str = "plain") -> list[str]:
    return ["summary=plain", f"summary.path={BAD / name}", f"summary.format={fmt}", *FAST]


ERRORS = {
    "empty.md": "file is empty",
    "whitespace.md": "file contains only whitespace",
    "image.png": "file looks binary",
    "utf16.md": "file is UTF-16 encoded; convert it to UTF-8",
    "latin1.md": "not valid UTF-8",
    "invalid_utf8.md": "not valid UTF-8 (byte 0xc3 at offset 27)",
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_unusable_summary_is_a_named_error(tmp_path, name):
    with pytest.raises(InputFileError) as info:
        execute_run(compose(_summary(name)), tmp_path)
    assert str(info.value).startswith(f"{BAD / name}: ")
    assert ERRORS[name] in str(info.value)
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_unusable_transcript_is_a_named_error(tmp_path, name):
    with pytest.raises(InputFileError, match=ERRORS[name].replace("(", r"\(").replace(")", r"\)")):
        execute_run(compose(["summary=wiki", f"transcript.path={BAD / name}", *FAST]), tmp_path)


def _units(run_dir):
    return [json.loads(line) for line in (run_dir / "units.jsonl").read_text(encoding="utf-8").splitlines()]


def test_malformed_html_gives_units_without_tags(tmp_path):
    execute_run(compose(_summary("malformed_html.md")), tmp_path)
    plain = [u["text_plain"] for u in _units(tmp_path)]
    assert plain and all("<" not in p and ">" not in p for p in plain)
    assert any("backpropagation and cost functions" in p for p in plain)


def test_hostile_markup_is_kept_as_text_but_stripped_from_plain_text(tmp_path):
    execute_run(compose(_summary("hostile.md")), tmp_path)
    units = _units(tmp_path)
    assert any("<script>" in u["text"] for u in units)
    assert all("<script" not in u["text_plain"] and "document.title" not in u["text_plain"] for u in units)
    assert all("javascript:" not in u["text_plain"] for u in units)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "<script" not in md


def test_international_text_is_kept(tmp_path):
    execute_run(compose(_summary("international.md")), tmp_path)
    plain = " ".join(u["text_plain"] for u in _units(tmp_path))
    assert "Илья Суцкевер" in plain and "伊利亚" in plain and "Deep learning works!" in plain


def test_duplicated_units_are_all_kept(tmp_path):
    execute_run(compose(_summary("duplicated_units.md")), tmp_path)
    assert [u["text"] for u in _units(tmp_path)] == ["Ilya Sutskever co-founded OpenAI."] * 3


def test_invalid_wiki_citation_is_null_not_a_crash(tmp_path):
    execute_run(compose(_summary("wiki_bad_citation.md", "wiki")), tmp_path)
    cited = [u["cited_timestamp_s"] for u in _units(tmp_path)]
    assert cited == [None, 18000]


def test_summary_of_only_boilerplate_is_an_error(tmp_path):
    with pytest.raises(InputFileError, match="no summary content found"):
        execute_run(compose(_summary("only_boilerplate_tldr_qa.md", "tldr_qa")), tmp_path)


def test_huge_summary_is_rejected_not_truncated(tmp_path):
    big = tmp_path / "huge.md"
    big.write_bytes(b"Ilya Sutskever talks about deep learning. " * 250_000)  # 10.5 MB
    with pytest.raises(InputFileError, match=r"file is too large \(10,500,000 bytes"):
        execute_run(compose(["summary=plain", f"summary.path={big}", *FAST]), tmp_path / "run")


def test_summary_longer_than_transcript_still_reports(tmp_path):
    long_summary = tmp_path / "long.md"
    long_summary.write_text(" ".join(f"Point {i} is that deep learning works." for i in range(400)))
    report = execute_run(
        compose(["summary=plain", f"summary.path={long_summary}", f"transcript.path={BAD / 'transcript_no_chapters.md'}", *FAST]),
        tmp_path,
    )
    assert report["summary"]["units"] == 400


@pytest.mark.parametrize(
    "name, chapters, speakers, timed",
    [
        ("transcript_no_timestamps.md", 1, {"Host": 1, "Guest": 1}, False),
        ("transcript_no_chapters.md", 0, {"Host": 1, "Guest": 1}, True),
        ("transcript_no_speakers.md", 1, {"(none)": 2}, True),
    ],
)
def test_transcripts_missing_a_structure_still_report(tmp_path, name, chapters, speakers, timed):
    report = execute_run(compose(["summary=wiki", f"transcript.path={BAD / name}", *FAST]), tmp_path)
    t = report["transcript"]
    assert len(t["chapters"]) == chapters
    assert t["turns_by_speaker"] == speakers
    assert (t["duration_s"] is not None) == timed


def test_out_of_order_and_far_timestamps_are_warnings(tmp_path):
    report = execute_run(compose(["summary=wiki", f"transcript.path={BAD / 'transcript_out_of_order.md'}", *FAST]), tmp_path)
    assert report["transcript"]["warnings"] == [
        "line 6: timestamp 0:10 goes back in time (previous 1:00 at line 3); times near it are approximate"
    ]


def test_transcript_that_is_plain_prose_is_rejected(tmp_path):
    with pytest.raises(InputFileError, match="does not look like a markdown_blog transcript"):
        execute_run(compose(["summary=wiki", f"transcript.path={BAD / 'transcript_prose.md'}", *FAST]), tmp_path)
