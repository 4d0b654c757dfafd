"""One typed `report` node decides which files a run writes, for `run`, corpus rows and
`RunResult.save` alike (issue #18: corpus mode ignored report.write_markdown)."""

from __future__ import annotations

import copy

import pytest

from conftest import compose
from harness.cli import plain_config
from harness.errors import ConfigError
from harness.pipeline import run_pipeline
from harness.report.writer import write_run


@pytest.fixture(scope="module")
def run_result():
    config = plain_config(compose(["summary=wiki", "stages.align=false", "stages.timeline=false", "metrics=[units,flags]"]))
    return run_pipeline(config), config


def _with_report(config, **report):
    out = copy.deepcopy(config)
    out["report"].update(report)
    return out


def _files(path):
    return sorted(p.name for p in path.iterdir())


def test_all_files_by_default(tmp_path, run_result):
    result, config = run_result
    write_run(result, tmp_path, config)
    assert _files(tmp_path) == ["report.html", "report.json", "report.md", "units.jsonl"]


@pytest.mark.parametrize(
    "report, files",
    [
        ({"write_markdown": False}, ["report.html", "report.json", "units.jsonl"]),
        ({"write_html": False}, ["report.json", "report.md", "units.jsonl"]),
        ({"write_markdown": False, "write_html": False}, ["report.json", "units.jsonl"]),
    ],
)
def test_report_switches(tmp_path, run_result, report, files):
    result, config = run_result
    write_run(result, tmp_path, _with_report(config, **report))
    assert _files(tmp_path) == files


def test_a_config_without_a_report_node_takes_the_yaml_values(tmp_path, run_result):
    result, config = run_result
    write_run(result, tmp_path, {k: v for k, v in config.items() if k != "report"})
    assert "report.md" in _files(tmp_path) and "report.html" in _files(tmp_path)


def test_the_markdown_argument_still_wins(tmp_path, run_result):
    result, config = run_result
    write_run(result, tmp_path, config, markdown=False)
    assert "report.md" not in _files(tmp_path)


def test_a_bad_report_setting_is_a_config_error(tmp_path, run_result):
    result, config = run_result
    with pytest.raises(ConfigError, match=r"^config: report: "):
        write_run(result, tmp_path / "bad", _with_report(config, write_pdf=True))


def test_result_save_honours_write_markdown(tmp_path, run_result):
    result, config = run_result
    from dataclasses import replace

    replace(result, config=_with_report(config, write_markdown=False)).save(tmp_path)
    assert "report.md" not in _files(tmp_path)


def test_corpus_rows_honour_write_markdown(tmp_path, run_result):
    """A corpus row writes its run folder with the same writer and the same report node."""
    from harness.corpus import execute_row

    _, config = run_result
    row = tmp_path / "row"
    out = execute_row(_with_report(config, write_markdown=False, write_html=False), str(row))
    assert out["status"] == "ok", out
    assert _files(row) == ["report.json", "units.jsonl"]
