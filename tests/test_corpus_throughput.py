"""``bench --throughput``: episodes per hour, stage split and projections from corpus records
(never timed here: the figures are computed from recorded wall times)."""

from __future__ import annotations

import json

import pytest

from harness.bench import main as bench_main
from harness.throughput import render, stage_split, summarize


def _rec(ep, wall, timings, system="lexnotes", control=None, status="ok"):
    return {"episode_id": ep, "system": system, "control": control, "status": status, "wall_s": wall,
            "peak_rss_mb": 900.0 + wall, "timings_json": json.dumps(timings) if status == "ok" else None}


RECORDS = [
    _rec("e1", 30.0, {"parse_transcript": 1.0, "align": 20.0, "align.verify": 18.0, "coverage": 9.0}),
    _rec("e2", 60.0, {"parse_transcript": 2.0, "align": 40.0, "align.verify": 35.0, "coverage": 18.0}),
    _rec("e1", 25.0, {"align": 25.0}, system="lead", control="lead"),
    _rec("e3", 0.0, {}, status="error"),
]


def test_stage_split_sums_rows():
    assert stage_split(RECORDS[:2]) == {"parse_transcript": 3.0, "align": 60.0, "align.verify": 53.0, "coverage": 27.0}


def test_summarize_counts_real_episodes_and_projects():
    out = summarize(RECORDS, 120.0, corpus_episodes=297, source="test", workers=(1, 10))
    assert out["episodes"] == 2 and out["rows_failed"] == 1
    assert out["episodes_per_hour"] == 60.0  # 2 episodes in 120 s
    assert out["row_wall_s"] == {"mean": 45.0, "max": 60.0} and out["peak_rss_mb"] == 960.0
    p = out["projection"]
    assert p["corpus_hours_one_worker"] == pytest.approx(297 / 60, abs=0.01)
    assert p["hours_on_workers"] == {"1": pytest.approx(10_000 / 60, abs=0.01), "10": pytest.approx(10_000 / 600, abs=0.01)}


def test_render_says_whether_the_target_was_met():
    out = summarize(RECORDS, 120.0, corpus_episodes=297, source="test")
    out.update(machine={"cpu": "cpu", "cores": 2, "memory_gib": 8, "python": "3.11"}, load_average_start=[1, 1, 1],
               load_average_end=[2, 2, 2])
    page = render(out)
    assert "| 2 | 1 | 120 | 60.0 | 45.0 | 60.0 | 960.0 |" in page
    assert "| align | 60.0 | 67% |" in page and "| &nbsp;&nbsp;align.verify | 53.0 | 59% |" in page
    assert "Target ≥ 120 episodes/hour on 2 cores: MISSED (60.0)." in page


def test_bench_throughput_from_an_existing_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(json.dumps({"episode_id": f"e{i}", "transcript": "t", "system": "s", "summary": "x",
                                            "format": "plain"}) + "\n" for i in range(5)))
    assert bench_main(["--from-run", str(run), "--manifest", str(manifest), "--out", str(tmp_path / "out")]) == 0
    result = json.loads((tmp_path / "out" / "throughput.json").read_text())
    assert result["episodes_per_hour"] == 80.0  # 2 episodes in 30 + 60 s of rows
    assert result["projection"]["corpus_episodes"] == 5


def test_bench_throughput_without_a_manifest_is_one_error_line(tmp_path, capsys):
    assert bench_main(["--throughput", "--manifest", str(tmp_path / "none.jsonl"), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"harness: error: {tmp_path / 'none.jsonl'}: corpus manifest not found (--manifest FILE)"
