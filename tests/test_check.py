"""The regression gate: tolerances, directions, new major flags, exit codes, baseline files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from harness.check import Tolerances, Tolerance, baseline_from_run, load_tolerances, main

METRICS = {
    "consistency.score": (0.80, True),
    "consistency.claims.contradicted": (0.10, False),
    "coverage.chapter_weighted": (0.60, True),
    "units.boilerplate_share": (0.05, False),
    "units.content_words": (1000.0, True),
}


def write_run(run_dir: Path, metrics=None, *, flags=None, units=None, summary_sha="a" * 64, overrides=None) -> Path:
    values = dict(METRICS if metrics is None else metrics)
    values.update(overrides or {})
    run_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "schema_version": 1,
        "signature": {
            "string": "sig",
            "inputs": {"summary": {"sha256": summary_sha}, "transcript": {"sha256": "t" * 64}},
            "config_sha256": "c" * 64,
            "models": {},
        },
        "metrics": {k: {"value": v, "higher_is_better": h, "description": k, "note": None} for k, (v, h) in values.items()},
        "flags": flags or [],
    }
    (run_dir / "report.json").write_text(json.dumps(report))
    units = units if units is not None else [{"unit_id": f"u00{i}", "text": f"Unit {i}.", "text_plain": f"Unit {i}."} for i in range(1, 4)]
    (run_dir / "units.jsonl").write_text("".join(json.dumps(u) + "\n" for u in units))
    return run_dir


def flag(tag="ad_content", unit_id="u002", claim_index=0, severity="major"):
    return {"tag": tag, "severity": severity, "unit_id": unit_id, "claim_index": claim_index, "message": "An ad passed off as content.", "evidence": []}


@pytest.fixture
def baseline(tmp_path):
    run = write_run(tmp_path / "base_run", flags=[flag()])
    path = tmp_path / "baseline" / "wiki.json"
    assert main(["--write-baseline", str(path), "--run", str(run)]) == 0
    return path


def _check(capsys, baseline, run, *extra):
    code = main(["--baseline", str(baseline), "--run", str(run), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _line(out: str, metric: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(metric + " "))


def _row(out: str, metric: str) -> list[str]:
    return _line(out, metric).split()


def test_write_baseline_format(baseline):
    data = json.loads(baseline.read_text())
    assert set(data) == {"schema_version", "signature", "metrics", "major_flags"}
    assert data["schema_version"] == 1
    assert data["metrics"]["consistency.score"] == {"value": 0.8, "higher_is_better": True}
    assert data["major_flags"] == [
        {"tag": "ad_content", "unit_id": "u002", "unit_text": "Unit 2.", "claim_index": 0, "message": "An ad passed off as content."}
    ]


def test_same_run_passes(tmp_path, baseline, capsys):
    code, out, err = _check(capsys, baseline, write_run(tmp_path / "r", flags=[flag()]))
    assert code == 0 and err == ""
    assert out.splitlines()[0].split() == ["metric", "baseline", "run", "change", "tolerance", "status"]
    assert _row(out, "consistency.score") == ["consistency.score", "0.8", "0.8", "0", "0.02", "↑", "ok"]
    assert out.rstrip().endswith("check: passed: 4 gated metrics within tolerance, 0 improved, no new major flag")


def test_regression_beyond_tolerance_fails_with_diff_line(tmp_path, baseline, capsys):
    run = write_run(tmp_path / "r", flags=[flag()], overrides={"consistency.score": (0.75, True)})
    code, out, _ = _check(capsys, baseline, run)
    assert code == 1
    assert _row(out, "consistency.score") == ["consistency.score", "0.8", "0.75", "-0.05", "0.02", "↑", "REGRESSED"]
    assert "check: FAILED: 1 metric worse than tolerance (consistency.score)" in out


def test_lower_is_better_direction(tmp_path, baseline, capsys):
    worse = write_run(tmp_path / "w", flags=[flag()], overrides={"consistency.claims.contradicted": (0.2, False)})
    code, out, _ = _check(capsys, baseline, worse)
    assert code == 1 and _row(out, "consistency.claims.contradicted")[-1] == "REGRESSED"
    better = write_run(tmp_path / "b", flags=[flag()], overrides={"consistency.claims.contradicted": (0.0, False)})
    code, out, _ = _check(capsys, baseline, better)
    assert code == 0 and _row(out, "consistency.claims.contradicted")[-1] == "improved"


def test_improvement_and_within_tolerance_pass(tmp_path, baseline, capsys):
    run = write_run(
        tmp_path / "r",
        flags=[flag()],
        overrides={"consistency.score": (0.95, True), "coverage.chapter_weighted": (0.58, True), "units.content_words": (10.0, True)},
    )
    code, out, _ = _check(capsys, baseline, run)
    assert code == 0
    assert _row(out, "consistency.score")[-1] == "improved"
    assert _line(out, "coverage.chapter_weighted").endswith("-0.02     0.03 ↑  worse, within tolerance")
    assert _row(out, "units.content_words")[-2:] == ["not", "gated"]  # length is shown, never gated
    assert "1 improved" in out


def test_missing_metric_fails(tmp_path, baseline, capsys):
    metrics = {k: v for k, v in METRICS.items() if k != "coverage.chapter_weighted"}
    code, out, _ = _check(capsys, baseline, write_run(tmp_path / "r", metrics, flags=[flag()]))
    assert code == 1 and _row(out, "coverage.chapter_weighted")[-1] == "MISSING"
    none_value = write_run(tmp_path / "n", flags=[flag()], overrides={"coverage.chapter_weighted": (None, True)})
    code, out, _ = _check(capsys, baseline, none_value)
    assert code == 1 and _row(out, "coverage.chapter_weighted")[1:3] == ["0.6", "n/a"]


def test_new_metric_is_reported_not_gated(tmp_path, baseline, capsys):
    run = write_run(tmp_path / "r", flags=[flag()], overrides={"lexical.rouge1_recall": (0.1, True)})
    code, out, _ = _check(capsys, baseline, run)
    assert code == 0 and _row(out, "lexical.rouge1_recall")[-1] == "new"


def test_new_major_flag_fails(tmp_path, baseline, capsys):
    run = write_run(tmp_path / "r", flags=[flag(), flag("wrong_speaker", "u003", None), flag("typo", "u001", severity="minor")])
    code, out, _ = _check(capsys, baseline, run)
    assert code == 1
    assert '  NEW wrong_speaker on u003 "Unit 3.": An ad passed off as content.' in out
    assert "typo" not in out  # minor flags are not gated
    assert out.rstrip().endswith("check: FAILED: 1 new major flag")


def test_flags_compare_by_unit_text_not_id(tmp_path, baseline, capsys):
    # a unit inserted before it renumbers the flagged unit: same flag, not new
    units = [{"unit_id": "u001", "text_plain": "New first unit."}, {"unit_id": "u002", "text_plain": "Unit 1."}, {"unit_id": "u003", "text_plain": "Unit 2."}]
    code, out, _ = _check(capsys, baseline, write_run(tmp_path / "r", flags=[flag(unit_id="u003")], units=units))
    assert code == 0 and "NEW" not in out
    # a fixed flag passes and is listed
    code, out, _ = _check(capsys, baseline, write_run(tmp_path / "f"))
    assert code == 0 and '  fixed ad_content on u002 claim 0 "Unit 2."' in out


def test_summary_mismatch_warns_and_still_compares(tmp_path, baseline, capsys):
    code, out, _ = _check(capsys, baseline, write_run(tmp_path / "r", flags=[flag()], summary_sha="b" * 64))
    assert code == 0
    assert out.splitlines()[0] == (
        "warning: summary sha256 differs from the baseline's (aaaaaaaaaaaa → bbbbbbbbbbbb): a different summary file; comparing anyway"
    )
    assert "check: passed" in out


@pytest.mark.parametrize(
    "case",
    ["missing_baseline", "corrupt_baseline", "not_a_baseline", "missing_run", "corrupt_report", "bad_tolerances"],
)
def test_bad_files_exit_2_with_one_line(tmp_path, baseline, capsys, case):
    run = write_run(tmp_path / "r", flags=[flag()])
    args = ["--baseline", str(baseline), "--run", str(run)]
    if case == "missing_baseline":
        args[1] = str(tmp_path / "none.json")
        expected = f"{tmp_path / 'none.json'}: file not found"
    elif case == "corrupt_baseline":
        (tmp_path / "bad.json").write_text('{"metrics": ')
        args[1] = str(tmp_path / "bad.json")
        expected = f"{tmp_path / 'bad.json'}: not valid JSON"
    elif case == "not_a_baseline":
        (tmp_path / "list.json").write_text("[1, 2]")
        args[1] = str(tmp_path / "list.json")
        expected = "not a harness baseline"
    elif case == "missing_run":
        args[3] = str(tmp_path / "gone")
        expected = f"{tmp_path / 'gone'}: no such run directory"
    elif case == "corrupt_report":
        (run / "report.json").write_text("\x00\x01garbage")
        expected = f"{run / 'report.json'}: not valid JSON"
    else:
        (tmp_path / "tol.yaml").write_text("default: [1, 2\n")
        args += ["--config", str(tmp_path / "tol.yaml")]
        expected = f"{tmp_path / 'tol.yaml'}: not valid YAML"
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("harness: error: ") and expected in captured.err


def test_tolerance_rules(tmp_path):
    (tmp_path / "t.yaml").write_text(
        "default: {abs: 0.01}\n"
        "metrics:\n"
        "  consistency.score: {abs: 0.05}\n"
        '  "consistency.*": {abs: 0.03}\n'
        '  "consistency.claims.*": {abs: 0.5}\n'
        "  units.content_words: {rel: 0.1, abs: 0}\n"
        "  units.content: {gate: false}\n"
    )
    tol = load_tolerances(tmp_path / "t.yaml")
    assert tol.for_metric("consistency.score").abs == 0.05  # exact name wins
    assert tol.for_metric("consistency.claims.supported").abs == 0.03  # first matching glob in file order
    assert tol.for_metric("coverage.x") == Tolerance(abs=0.01, rel=0.0, gate=True, rule="default")
    assert tol.for_metric("units.content_words").allowed(1000.0) == pytest.approx(100.0)
    assert tol.for_metric("units.content").gate is False
    # the shipped file loads and gates the headline metric
    shipped = load_tolerances()
    assert isinstance(shipped, Tolerances) and shipped.for_metric("consistency.score").gate
    assert not shipped.for_metric("consistency.claims.partially_supported").gate
    assert shipped.for_metric("consistency.claims.unsupported").abs == 0.03


def test_baseline_is_deterministic(tmp_path):
    run = write_run(tmp_path / "r", flags=[flag(), flag("zz", "u001")])
    report = json.loads((run / "report.json").read_text())
    units = [json.loads(line) for line in (run / "units.jsonl").read_text().splitlines()]
    a, b = baseline_from_run(report, units), baseline_from_run(report, list(reversed(units)))
    assert a == b and [f["tag"] for f in a["major_flags"]] == ["ad_content", "zz"]


def _cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "harness", "check", *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def test_cli_subprocess(tmp_path):
    base_run = write_run(tmp_path / "base", flags=[flag()])
    bl = tmp_path / "results" / "baseline" / "wiki.json"
    proc = _cli("--write-baseline", str(bl), "--run", str(base_run), cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith(f"wrote baseline {bl} (5 metrics, 1 major flags)")
    proc = _cli("--baseline", str(bl), "--run", str(base_run), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bad = write_run(tmp_path / "bad", flags=[flag()], overrides={"coverage.chapter_weighted": (0.3, True)})
    proc = _cli("--baseline", str(bl), "--run", str(bad), "--format", "md", cwd=tmp_path)
    assert proc.returncode == 1
    assert "| coverage.chapter_weighted | 0.6 | 0.3 | -0.3 | 0.03 ↑ | **REGRESSED** |" in proc.stdout
    proc = _cli("--baseline", str(tmp_path / "nope.json"), "--run", str(bad), cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr == f"harness: error: {tmp_path / 'nope.json'}: file not found\n"


def test_fixing_a_major_flag_passes_the_gate(tmp_path, capsys):
    """Issue #15 item 2: a baseline with one major extrinsic_entity, the summary fixed, re-run:
    the per-tag count reads 0 (not missing) and the improvement passes."""
    from conftest import compose
    from harness.cli import execute_run

    transcript = ROOT / "tests" / "data" / "transcripts" / "markers.txt"
    bad = tmp_path / "bad.md"
    bad.write_text("Fog horns were first powered by steam, says Napoleon Bonaparte.\n", encoding="utf-8")
    good = tmp_path / "good.md"
    good.write_text("Fog horns were first powered by steam.\n", encoding="utf-8")
    common = [
        "transcript=auto", f"transcript.path={transcript}", "transcript.auto_chapters=false",
        "summary=plain", "stages.align=false", "stages.timeline=false", "metrics=[units,flags]",
        # Without verdicts an extrinsic name is minor; the gate is about major flags.
        "flags.extrinsic_entity.severity=major",
    ]
    execute_run(compose(common + [f"summary.path={bad}"]), tmp_path / "before")
    before = json.loads((tmp_path / "before" / "report.json").read_text())
    assert [f["tag"] for f in before["flags"] if f["severity"] == "major"] == ["extrinsic_entity"]
    base = tmp_path / "baseline.json"
    assert main(["--write-baseline", str(base), "--run", str(tmp_path / "before")]) == 0
    capsys.readouterr()

    execute_run(compose(common + [f"summary.path={good}"]), tmp_path / "after")
    after = json.loads((tmp_path / "after" / "report.json").read_text())["metrics"]
    assert after["flags.major.extrinsic_entity"]["value"] == 0.0
    assert after["flags.minor.ad_content"]["value"] == 0.0  # every tag of every enabled detector
    code, out, _ = _check(capsys, base, tmp_path / "after")
    assert code == 0, out
    assert _row(out, "flags.major.extrinsic_entity")[1:4] == ["1", "0", "-1"]
    assert _row(out, "flags.major.extrinsic_entity")[-1] == "improved"
    assert "fixed extrinsic_entity" in out


def test_flag_count_missing_from_an_older_run_reads_zero(tmp_path, capsys):
    base_run = write_run(tmp_path / "base", overrides={"flags.major": (1.0, False), "flags.major.extrinsic_entity": (1.0, False)})
    base = tmp_path / "baseline.json"
    assert main(["--write-baseline", str(base), "--run", str(base_run)]) == 0
    capsys.readouterr()
    run = write_run(tmp_path / "r", overrides={"flags.major": (0.0, False)})  # older run: no per-tag 0
    code, out, _ = _check(capsys, base, run)
    assert code == 0, out
    assert _row(out, "flags.major.extrinsic_entity")[1:3] == ["1", "0"]
    assert _row(out, "flags.major.extrinsic_entity")[-1] == "improved"
