"""Leaderboard: row model, exact tables (md/csv/html), ranking rule, run discovery, CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from harness.leaderboard import (
    LeaderboardError,
    build_leaderboard,
    competition_ranks,
    expand_run_dirs,
    latest_runs,
    load_run,
    main,
    render_table,
)

TRANSCRIPT_SHA = "f" * 64


def write_run(
    run_dir: Path,
    name: str,
    metrics: dict[str, tuple[float | None, bool]],
    *,
    flags: list[dict] | None = None,
    units: list[dict] | None = None,
    transcript_sha: str = TRANSCRIPT_SHA,
    config_extra: dict | None = None,
    with_flags_key: bool = True,
) -> Path:
    """A synthetic run directory (report.json + units.jsonl) as the harness writes it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "schema_version": 1,
        "signature": {
            "string": f"harness:0.1.0|summary:{name}",
            "harness_version": "0.1.0",
            "inputs": {"summary": {"sha256": name * 4}, "transcript": {"sha256": transcript_sha}},
            "config_sha256": "c" * 64,
            "models": {},
        },
        "config": {"summary": {"name": name, "path": f"{name}.md"}, "align": {"top_k": 3}, **(config_extra or {})},
        "summary": {"path": f"{name}.md", "format": name},
        "transcript": {
            "sha256": transcript_sha,
            "duration_s": 600.0,
            "chapters": [{"index": 0, "title": "A", "start_s": 0.0, "end_s": 300.0}, {"index": 1, "title": "B", "start_s": 300.0, "end_s": 600.0}],
            "sponsor_segments": [{"start_s": 10.0, "end_s": 40.0}],
        },
        "metrics": {
            k: {"value": v, "higher_is_better": hib, "description": f"desc of {k}", "note": None} for k, (v, hib) in metrics.items()
        },
    }
    if with_flags_key:
        report["flags"] = flags or []
    (run_dir / "report.json").write_text(json.dumps(report))
    (run_dir / "units.jsonl").write_text("".join(json.dumps(u) + "\n" for u in units or []))
    return run_dir


def claim_unit(uid: str, verdicts_times: list[tuple[str, float]]) -> dict:
    return {
        "unit_id": uid,
        "text": uid,
        "text_plain": uid,
        "verdict": verdicts_times[0][0],
        "claims": [
            {"claim_id": f"{uid}.c{i}", "text": "c", "verdict": v, "score": 0.5, "evidence": [{"start_s": t, "quote": "q"}]}
            for i, (v, t) in enumerate(verdicts_times)
        ],
    }


def three_runs(tmp_path: Path) -> list[Path]:
    major = lambda tag, uid: {"tag": tag, "severity": "major", "unit_id": uid, "claim_index": 0, "message": "m", "evidence": []}  # noqa: E731
    minor = {"tag": "misspelled_entity", "severity": "minor", "unit_id": "u001", "claim_index": None, "message": "m", "evidence": []}
    a = write_run(
        tmp_path / "a",
        "alpha",
        {
            "consistency.score": (0.80, True),
            "coverage.chapter_weighted": (0.50, True),
            "units.boilerplate_share": (0.10, False),
            "units.content_words": (300.0, True),
            "consistency.claims.contradicted": (0.05, False),
        },
        flags=[major("ad_content", "u002"), minor],
        units=[claim_unit("u001", [("supported", 30.0), ("contradicted", 320.0)])],
    )
    b = write_run(
        tmp_path / "b",
        "beta",
        {
            "consistency.score": (0.70, True),
            "coverage.chapter_weighted": (0.90, True),
            "units.boilerplate_share": (0.0, False),
            "units.content_words": (800.0, True),
            "consistency.claims.contradicted": (0.10, False),
        },
        flags=[],
        units=[claim_unit("u001", [("partially_supported", 100.0)])],
    )
    c = write_run(
        tmp_path / "c",
        "gamma",
        {
            "consistency.score": (0.60, True),
            "coverage.chapter_weighted": (0.40, True),
            "units.boilerplate_share": (0.20, False),
            "units.content_words": (200.0, True),
            "consistency.claims.contradicted": (0.20, False),
            "units.content": (12.0, True),  # in no column group: not shown
        },
        flags=[major("ad_content", "u001"), major("wrong_speaker", "u003")],
        units=[],
    )
    return [a, b, c]


EXPECTED_MD = """\
| summary | rank | mean rank ↓ | chapter cov. ↑ | contradicted ↓ | consistency ↑ | major flags ↓ | minor flags ↓ | major: ad_content ↓ | major: wrong_speaker ↓ | minor: misspelled_entity ↓ | boilerplate ↓ | content words ↑ |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| beta | 1 | **1.25** | **0.9** | 0.1 | 0.7 | **0** | **0** | **0** | **0** | **0** | **0** | **800** |
| alpha | 2 | 1.75 | 0.5 | **0.05** | **0.8** | 1 | 1 | 1 | **0** | 1 | 0.1 | 300 |
| gamma | 3 | 3 | 0.4 | 0.2 | 0.6 | 2 | **0** | 1 | 1 | **0** | 0.2 | 200 |
"""


def test_exact_markdown_table_and_rank(tmp_path):
    board = build_leaderboard([load_run(d) for d in three_runs(tmp_path)])
    assert render_table(board.columns, board.rows, "md") == EXPECTED_MD
    # ranks per metric: consistency a1 b2 c3; coverage b1 a2 c3; major flags b1 a2 c3; boilerplate b1 a2 c3
    assert [(r["summary"], r["rank"], r["mean_rank"]) for r in board.rows] == [("beta", 1, 1.25), ("alpha", 2, 1.75), ("gamma", 3, 3.0)]
    assert board.notes[0].startswith("Rank: for each of `consistency.score` (higher is better), `coverage.chapter_weighted`")
    assert "units.content" not in [c.key for c in board.columns]


def test_csv_parses_with_full_precision(tmp_path):
    board = build_leaderboard([load_run(d) for d in three_runs(tmp_path)])
    rows = list(csv.DictReader(io.StringIO(render_table(board.columns, board.rows, "csv"))))
    assert [r["summary"] for r in rows] == ["beta", "alpha", "gamma"]
    assert rows[0]["coverage.chapter_weighted"] == "0.9" and rows[1]["flags.major.ad_content"] == "1"
    assert rows[2]["flags.major"] == "2" and rows[0]["rank"] == "1" and rows[2]["mean_rank"] == "3"
    assert list(rows[0]) == [c.key for c in board.columns]


def test_html_table_escapes_names(tmp_path):
    write_run(tmp_path / "x", "x", {"consistency.score": (0.5, True)}, config_extra={"system": "<b>x</b>"})
    board = build_leaderboard([load_run(tmp_path / "x")])
    out = render_table(board.columns, board.rows, "html")
    assert "&lt;b&gt;x&lt;/b&gt;" in out and "<b>" not in out


def test_ties_share_a_rank_and_break_by_headline_values(tmp_path):
    # r and s (identical, middling) rank 2 on both metrics (ties share the best rank): mean 2.0,
    # same rank, ordered by name. p (best consistency, worst coverage) and q (the reverse) tie
    # at 2.5; the tie goes to the better consistency (first headline metric).
    runs = [
        write_run(tmp_path / "p", "p", {"consistency.score": (0.9, True), "coverage.chapter_weighted": (0.1, True)}),
        write_run(tmp_path / "q", "q", {"consistency.score": (0.1, True), "coverage.chapter_weighted": (0.9, True)}),
        write_run(tmp_path / "s", "s", {"consistency.score": (0.5, True), "coverage.chapter_weighted": (0.5, True)}),
        write_run(tmp_path / "r", "r", {"consistency.score": (0.5, True), "coverage.chapter_weighted": (0.5, True)}),
    ]
    board = build_leaderboard([load_run(d) for d in runs], ["consistency.score", "coverage.chapter_weighted"])
    assert [(r["summary"], r["rank"], r["mean_rank"]) for r in board.rows] == [
        ("r", 1, 2.0), ("s", 1, 2.0), ("p", 3, 2.5), ("q", 4, 2.5)
    ]
    assert competition_ranks([3.0, 1.0, 3.0, 2.0], True) == [1, 4, 1, 3]
    assert competition_ranks([3.0, 1.0, 3.0, 2.0], False) == [3, 1, 3, 2]


def test_not_ranked_without_a_shared_headline_metric(tmp_path):
    runs = [
        write_run(tmp_path / "a", "a", {"consistency.score": (0.9, True)}, with_flags_key=False),
        write_run(tmp_path / "b", "b", {"coverage.chapter_weighted": (0.9, True)}, with_flags_key=False),
    ]
    board = build_leaderboard([load_run(d) for d in runs])
    assert "rank" not in [c.key for c in board.columns]
    assert board.notes[0].startswith("Not ranked: none of the headline metrics")
    assert [r["summary"] for r in board.rows] == ["a", "b"]
    # no flags anywhere: no flag columns
    assert not any(c.key.startswith("flags") for c in board.columns)


def test_runs_on_different_transcripts_are_refused(tmp_path, capsys):
    """Issue #15 item 5: never one table for summaries of different episodes."""
    runs = [
        write_run(tmp_path / "a", "a", {"consistency.score": (0.9, True)}),
        write_run(tmp_path / "b", "b", {"consistency.score": (0.8, True)}, transcript_sha="e" * 64),
    ]
    with pytest.raises(LeaderboardError, match=r"the runs score 2 different transcripts \(ffffffffffff: a; eeeeeeeeeeee: b\)"):
        build_leaderboard([load_run(d) for d in runs])
    assert main([str(d) for d in runs] + ["--out", str(tmp_path / "lb")]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not (tmp_path / "lb").exists()
    # --transcript picks one of them
    assert main([str(d) for d in runs] + ["--out", str(tmp_path / "lb"), "--transcript", "eeee", "--no-figure"]) == 0
    rows = list(csv.DictReader((tmp_path / "lb" / "leaderboard.csv").open()))
    assert [r["summary"] for r in rows] == ["b"]


def test_different_settings_are_noted(tmp_path):
    runs = [
        write_run(tmp_path / "a", "a", {"consistency.score": (0.9, True)}, config_extra={"system": "first"}),
        write_run(tmp_path / "b", "b", {"consistency.score": (0.8, True)}, config_extra={"align": {"top_k": 5}}),
    ]
    notes = build_leaderboard([load_run(d) for d in runs]).notes
    assert any("config keys that differ: `align`)" in n for n in notes)  # not `system`: it names the row


def test_rows_are_named_by_system_else_by_summary_file(tmp_path):
    """Issue #15 item 5: two own-summary runs with summary=markdown are two rows."""
    res = tmp_path / "results"
    for when, stem in (("2026-01-01_00-00-00", "pipeline_v1"), ("2026-01-02_00-00-00", "pipeline_v2")):
        run = write_run(res / "runs" / "markdown" / when, "markdown", {"consistency.score": (0.5, True)})
        report = json.loads((run / "report.json").read_text())
        report["config"]["summary"]["path"] = report["summary"]["path"] = f"/home/me/{stem}.md"
        (run / "report.json").write_text(json.dumps(report))
    write_run(res / "runs" / "markdown" / "2026-01-03_00-00-00", "markdown", {"consistency.score": (0.6, True)},
              config_extra={"system": "gpt-summarizer"})
    assert [load_run(d).name for d in latest_runs(res)] == ["gpt-summarizer", "pipeline_v1", "pipeline_v2"]


def test_without_arguments_the_board_goes_to_a_new_folder(tmp_path, capsys):
    """Issue #15 item 5: the committed results/leaderboard is written only with --out."""
    res = tmp_path / "results"
    write_run(res / "runs" / "wiki" / "2026-01-01_00-00-00", "wiki", {"consistency.score": (0.7, True)})
    committed = res / "leaderboard"
    committed.mkdir()
    (committed / "leaderboard.md").write_text("committed\n")
    assert main(["--results", str(res), "--no-figure"]) == 0
    assert (committed / "leaderboard.md").read_text() == "committed\n"
    (board,) = (res / "leaderboards").iterdir()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", board.name)
    assert sorted(p.name for p in board.iterdir()) == ["leaderboard.csv", "leaderboard.html", "leaderboard.md"]
    assert f"wrote {board / 'leaderboard.md'}" in capsys.readouterr().out


def test_same_summary_twice_gets_distinct_names(tmp_path):
    runs = [
        write_run(tmp_path / "2026-01-01_00-00-00", "wiki", {"consistency.score": (0.9, True)}),
        write_run(tmp_path / "2026-01-02_00-00-00", "wiki", {"consistency.score": (0.8, True)}),
    ]
    board = build_leaderboard([load_run(d) for d in runs])
    assert [r["summary"] for r in board.rows] == ["wiki@2026-01-01_00-00-00", "wiki@2026-01-02_00-00-00"]


def test_latest_run_discovery_and_multirun_expansion(tmp_path):
    res = tmp_path / "results"
    write_run(res / "runs" / "wiki" / "2026-01-01_10-00-00", "wiki", {})
    write_run(res / "runs" / "wiki" / "2026-01-02_09-00-00", "wiki", {})
    (res / "runs" / "wiki" / "2026-01-03_00-00-00").mkdir()  # interrupted: no report.json
    write_run(res / "runs" / "summify" / "2026-01-01_00-00-00", "summify", {})
    write_run(res / "multirun" / "2026-01-05_00-00-00" / "summify", "summify", {})
    write_run(res / "multirun" / "2026-01-05_00-00-00" / "tldr_qa", "tldr_qa", {})
    assert latest_runs(res) == [
        res / "multirun" / "2026-01-05_00-00-00" / "summify",
        res / "multirun" / "2026-01-05_00-00-00" / "tldr_qa",
        res / "runs" / "wiki" / "2026-01-02_09-00-00",
    ]
    sweep = res / "multirun" / "2026-01-05_00-00-00"
    assert expand_run_dirs([sweep, res / "runs" / "wiki" / "2026-01-01_10-00-00"]) == [
        sweep / "summify",
        sweep / "tldr_qa",
        res / "runs" / "wiki" / "2026-01-01_10-00-00",
    ]
    assert latest_runs(tmp_path / "nothing") == []


def test_main_writes_files_and_figure(tmp_path, capsys):
    dirs = three_runs(tmp_path / "runs")
    out = tmp_path / "lb"
    assert main([str(d) for d in dirs] + ["--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["leaderboard.csv", "leaderboard.html", "leaderboard.md", "leaderboard_timeline.png"]
    md = (out / "leaderboard.md").read_text()
    assert EXPECTED_MD in md and "![claims of each summary" in md
    assert (out / "leaderboard_timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (out / "leaderboard.html").read_text()
    assert "data:image/png;base64," in page and "<script" not in page
    assert "| beta | 1 |" in capsys.readouterr().out
    # no claims with evidence: no figure (and a stale one is removed)
    plain = [write_run(tmp_path / "p" / n, n, {"consistency.score": (0.5, True)}) for n in ("x", "y")]
    assert main([str(d) for d in plain] + ["--out", str(out)]) == 0
    assert not (out / "leaderboard_timeline.png").exists()


def test_main_errors_are_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "gone"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"harness: error: {tmp_path / 'gone'}: no such directory\n"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "report.json").write_text("{not json")
    assert main([str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"harness: error: {bad / 'report.json'}: not valid JSON") and err.count("\n") == 1
    assert main(["--results", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    assert "no runs found" in capsys.readouterr().err


def test_cli_subprocess(tmp_path):
    res = tmp_path / "results"
    write_run(res / "runs" / "wiki" / "2026-01-01_00-00-00", "wiki", {"consistency.score": (0.7, True)})
    write_run(res / "runs" / "summify" / "2026-01-01_00-00-00", "summify", {"consistency.score": (0.8, True)})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "leaderboard", "--results", str(res), "--out", str(tmp_path / "lb"), "--no-figure"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader((tmp_path / "lb" / "leaderboard.csv").open()))
    assert [(r["summary"], r["rank"]) for r in rows] == [("summify", "1"), ("wiki", "2")]
    assert "wrote " in proc.stdout


def test_flag_tags_that_never_fire_get_no_column(tmp_path):
    runs = [
        write_run(tmp_path / "a", "a", {"flags.major": (1.0, False), "flags.major.ad_content": (1.0, False),
                                        "flags.major.misattribution": (0.0, False)}),
        write_run(tmp_path / "b", "b", {"flags.major": (0.0, False), "flags.major.ad_content": (0.0, False),
                                        "flags.major.misattribution": (0.0, False)}),
    ]
    keys = [c.key for c in build_leaderboard([load_run(d) for d in runs]).columns]
    assert "flags.major.ad_content" in keys and "flags.major.misattribution" not in keys
