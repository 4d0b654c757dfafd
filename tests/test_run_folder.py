"""A run directory changes as a set: an interrupt never leaves new units next to an old report."""

from __future__ import annotations

import json
import os
import signal

import pytest

from conftest import SUMMARIES, compose
from harness.cli import plain_config
from harness.pipeline import run_pipeline
from harness.report import writer
from harness.report.writer import write_run

PREVIOUS = '{"previous": true}\n'


@pytest.fixture(scope="module")
def run_result():
    config = plain_config(compose(["summary=wiki", "stages.align=false", "metrics=[units,flags]"]))
    return run_pipeline(config), config


def _previous_run(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("units.jsonl", "report.json", "report.md"):
        (out / name).write_text(PREVIOUS)
    return out


def test_interrupt_after_units_are_written_keeps_the_previous_run_whole(tmp_path, monkeypatch, run_result):
    """Issue #15 item 3: Ctrl-C while the report is rendered, after units.jsonl is written."""
    result, config = run_result
    out = _previous_run(tmp_path)

    def interrupted(report, units=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "render_markdown", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_run(result, out, config)
    assert {p.name: p.read_text() for p in out.iterdir()} == {
        "units.jsonl": PREVIOUS, "report.json": PREVIOUS, "report.md": PREVIOUS,
    }  # no staging folder left either


def test_ctrl_c_during_the_commit_is_held_until_the_set_is_in_place(tmp_path, monkeypatch, run_result):
    result, config = run_result
    out = _previous_run(tmp_path)
    (out / "timeline.png").write_text(PREVIOUS)  # this run draws no timeline: the old one goes
    real_replace = os.replace
    calls = []

    def replace_then_ctrl_c(src, dst):
        if os.path.dirname(dst) == str(out):  # the commit, not a write into the staging folder
            calls.append(os.path.basename(dst))
            if len(calls) == 1:
                os.kill(os.getpid(), signal.SIGINT)
        return real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", replace_then_ctrl_c)
    report = write_run(result, out, config)
    assert calls[-1] == "report.json"  # report.json last, after the rest is in place
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md", "units.jsonl"]
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(report))
    units = [json.loads(line) for line in (out / "units.jsonl").read_text().splitlines()]
    assert len(units) == report["summary"]["units"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
