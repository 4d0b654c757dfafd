"""The one run loader (``harness.runs``): what it reads, and one line naming the file for each bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.check import CheckError
from harness.check import load_run as check_load_run
from harness.errors import InputFileError
from harness.leaderboard import LeaderboardError
from harness.leaderboard import load_run as leaderboard_load_run
from harness.runs import read_report, read_run

REPORT = {"metrics": {"consistency.score": {"value": 0.5, "higher_is_better": True}}, "flags": []}
UNITS = [{"unit_id": "u001", "text": "A claim."}, {"unit_id": "u002", "text": "Another."}]


def write_run(run: Path, report: object = REPORT, units: list | None = UNITS) -> Path:
    run.mkdir(parents=True, exist_ok=True)
    (run / "report.json").write_text(json.dumps(report), encoding="utf-8")
    if units is not None:
        (run / "units.jsonl").write_text("".join(json.dumps(u) + "\n" for u in units) + "\n", encoding="utf-8")
    return run


def test_reads_report_and_units(tmp_path):
    run = write_run(tmp_path / "run")
    record = read_run(run)
    assert record.run_dir == run and record.report_path == run / "report.json"
    assert record.report == REPORT
    assert record.units == tuple(UNITS)  # the blank last line is skipped
    assert record.units_path == run / "units.jsonl"


def test_report_path_given_directly(tmp_path):
    run = write_run(tmp_path / "run")
    assert read_run(run / "report.json").run_dir == run


def test_units_are_optional_unless_required(tmp_path):
    run = write_run(tmp_path / "run", units=None)
    assert read_run(run).units is None
    with pytest.raises(InputFileError) as err:
        read_run(run, require_units=True)
    assert str(err.value) == f"{run / 'units.jsonl'}: file not found (not a harness run directory?)"


def test_metrics_are_required_unless_told(tmp_path):
    run = write_run(tmp_path / "run", report={"flags": []})
    with pytest.raises(InputFileError, match="no metrics object"):
        read_run(run)
    assert read_run(run, require_metrics=False).report == {"flags": []}
    write_run(run, report={"metrics": [1, 2]})  # present but not an object: always an error
    with pytest.raises(InputFileError, match="no metrics object"):
        read_run(run, require_metrics=False)


@pytest.mark.parametrize(
    "case, bad_file, problem",
    [
        ("no_dir", "gone", "no such run directory"),
        ("no_report", "report.json", "file not found"),
        ("report_is_dir", "report.json", "is a directory, expected report.json"),
        ("corrupt_report", "report.json", "not valid JSON (Expecting value: line 1 column 1 (char 0))"),
        ("not_utf8", "report.json", "not valid UTF-8 (offset 1)"),
        ("report_is_list", "report.json", "not a harness report (no metrics object)"),
        ("corrupt_units", "units.jsonl", "line 2: not valid JSON (Expecting property name enclosed in double quotes)"),
        ("units_not_objects", "units.jsonl", "line 1: expected a JSON object, got list"),
    ],
)
def test_bad_file_is_one_line_naming_the_file(tmp_path, case, bad_file, problem):
    run = write_run(tmp_path / "run")
    target = run if case != "no_dir" else tmp_path / "gone"
    if case == "no_report":
        (run / "report.json").unlink()
    elif case == "report_is_dir":
        (run / "report.json").unlink()
        (run / "report.json").mkdir()
    elif case == "corrupt_report":
        (run / "report.json").write_text("\x00\x01garbage")
    elif case == "not_utf8":
        (run / "report.json").write_bytes(b"{\xff}")
    elif case == "report_is_list":
        (run / "report.json").write_text("[1, 2]")
    elif case == "corrupt_units":
        (run / "units.jsonl").write_text('{"unit_id": "u001"}\n{not json\n')
    elif case == "units_not_objects":
        (run / "units.jsonl").write_text("[1]\n")
    expected = f"{tmp_path / 'gone' if case == 'no_dir' else run / bad_file}: {problem}"
    with pytest.raises(InputFileError) as err:
        read_run(target)
    assert str(err.value) == expected and "\n" not in str(err.value)
    # the commands built on it say the same, in their own error type
    with pytest.raises(CheckError) as check_err:
        check_load_run(target)
    assert str(check_err.value) == expected
    if case not in ("no_dir", "report_is_list"):
        with pytest.raises(LeaderboardError) as board_err:
            leaderboard_load_run(target)
        assert str(board_err.value) == expected


def test_check_and_leaderboard_views(tmp_path):
    run = write_run(tmp_path / "run")
    report, units = check_load_run(run)
    assert report == REPORT and units == UNITS  # check keeps its (dict, list) return
    assert check_load_run(write_run(tmp_path / "bare", units=None)) == (REPORT, None)
    board_run = leaderboard_load_run(run)
    assert board_run.name == "run" and board_run.units == UNITS and board_run.report == REPORT


def test_read_report_alone(tmp_path):
    run = write_run(tmp_path / "run", units=None)
    assert read_report(run / "report.json") == REPORT
    (run / "report.json").write_text('"just a string"')
    with pytest.raises(InputFileError, match="not a harness report"):
        read_report(run / "report.json")
