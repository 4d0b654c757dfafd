"""The `run` app: config composition, run directory contents, multirun and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, SUMMARIES, TRANSCRIPT, compose
from harness.cli import execute_run


# Parse-level behaviour is checked without loading models; tests/test_reference_runs.py runs
# the whole pipeline on the references.
FAST = ["stages.align=false"]


def _run_cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def test_default_config_composes_to_reference_inputs():
    cfg = compose()
    assert cfg.summary.name == "summify" and cfg.summary.format == "summify"
    assert cfg.transcript.name == "lex_fridman_94" and cfg.transcript.format == "markdown_blog"
    assert cfg.transcript.path == "references/lex-fridman-94/transcript.md"
    assert compose(["summary=wiki"]).summary.path == "references/lex-fridman-94/summaries/wiki.md"


@pytest.mark.parametrize("name", ["summify", "tldr_qa", "wiki"])
def test_run_writes_the_three_files(tmp_path, name):
    report = execute_run(compose([f"summary={name}", *FAST]), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "report.html", "report.json", "report.md", "timeline.png", "timeline.svg", "units.jsonl"
    ]
    on_disk = json.loads((tmp_path / "report.json").read_text())
    assert on_disk["summary"]["format"] == name
    assert on_disk["signature"]["inputs"]["summary"]["sha256"] == report["summary"]["sha256"]
    assert len(on_disk["transcript"]["chapters"]) == 18
    assert [sp["start"] for sp in on_disk["transcript"]["sponsor_segments"]] == ["0:48", "1:36:30"]
    units = [json.loads(line) for line in (tmp_path / "units.jsonl").read_text().splitlines()]
    assert len(units) == on_disk["summary"]["units"]
    assert [u["unit_id"] for u in units] == [f"u{i:03d}" for i in range(1, len(units) + 1)]
    assert "# Summary evaluation" in (tmp_path / "report.md").read_text()


def test_signature_changes_with_config_and_input_not_otherwise(tmp_path):
    a = execute_run(compose(["summary=wiki", *FAST]), tmp_path / "a")["signature"]
    b = execute_run(compose(["summary=wiki", *FAST]), tmp_path / "b")["signature"]
    c = execute_run(compose(["summary=wiki", "sponsors.max_gap_sentences=2", *FAST]), tmp_path / "c")["signature"]
    d = execute_run(compose(["summary=tldr_qa", *FAST]), tmp_path / "d")["signature"]
    assert a == b
    assert a["config_sha256"] != c["config_sha256"] and a["string"] != c["string"]
    assert a["inputs"]["summary"]["sha256"] != d["inputs"]["summary"]["sha256"]


def test_two_runs_write_identical_units(tmp_path):
    execute_run(compose(["summary=tldr_qa", *FAST]), tmp_path / "a")
    execute_run(compose(["summary=tldr_qa", *FAST]), tmp_path / "b")
    assert (tmp_path / "a" / "units.jsonl").read_bytes() == (tmp_path / "b" / "units.jsonl").read_bytes()


def test_plain_summary_from_the_command_line(tmp_path):
    summary = tmp_path / "mine.md"
    summary.write_text("# My summary\n\nIlya Sutskever talks about deep learning. He discusses GPT-2.\n")
    out = tmp_path / "run"
    proc = _run_cli("run", "summary=plain", f"summary.path={summary}", f"hydra.run.dir={out}", *FAST)
    assert proc.returncode == 0, proc.stderr
    units = [json.loads(line) for line in (out / "units.jsonl").read_text().splitlines()]
    assert [u["text"] for u in units] == ["Ilya Sutskever talks about deep learning.", "He discusses GPT-2."]
    assert {u["section"] for u in units} == {"My summary"}


def test_multirun_over_the_three_references(tmp_path):
    proc = _run_cli("run", "-m", "summary=summify,tldr_qa,wiki", f"hydra.sweep.dir={tmp_path}", *FAST)
    assert proc.returncode == 0, proc.stderr
    for name in ("summify", "tldr_qa", "wiki"):
        assert json.loads((tmp_path / name / "report.json").read_text())["summary"]["format"] == name


BAD_CASES = {
    "missing": (None, "file not found"),
    "empty": (b"", "file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "file looks binary"),
    "latin1": ("R\u00e9sum\u00e9 of the talk.".encode("latin-1"), "not valid UTF-8"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_summary_file_is_one_line_error_and_exit_2(tmp_path, case):
    data, problem = BAD_CASES[case]
    path = tmp_path / f"{case}.md"
    if data is not None:
        path.write_bytes(data)
    proc = _run_cli("run", "summary=plain", f"summary.path={path}", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    error_lines = [line for line in proc.stderr.splitlines() if line.startswith("harness: error:")]
    assert error_lines == [f"harness: error: {path}: {error_lines[0].split(': ', 3)[-1]}"]
    assert problem in error_lines[0]
    assert not (tmp_path / "run" / "report.json").exists()


def test_summary_in_the_wrong_format_is_rejected(tmp_path):
    proc = _run_cli("run", "summary=summify", f"summary.path={SUMMARIES['wiki']}", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "does not look like a summify summary" in proc.stderr


def test_unknown_format_name_is_rejected(tmp_path):
    proc = _run_cli("run", "summary=plain", f"summary.path={SUMMARIES['wiki']}", "summary.format=pdfx", f"hydra.run.dir={tmp_path}")
    assert proc.returncode == 2
    assert "unknown summary format 'pdfx' (known: markdown, plain, summify, tldr_qa, wiki)" in proc.stderr


@pytest.mark.parametrize(
    "args, line",
    [
        (["summary=summfy"], "config: summary=summfy: no such summary; choose one of: markdown, plain, summify, tldr_qa, wiki"),
        (["summary.pth=x"], "config: summary.pth: no such key; summary has: boilerplate_patterns, format, name, path, split"),
        # issue #18: the structured schemas (harness/schema.py) type every key and close every node
        (["align.retrieval.top_k=five"], "config: align.retrieval.top_k: Value 'five' of type 'str' could not be converted to Integer"),
        (["stages.align=maybe"], "config: stages.align: Value 'maybe' is not a valid bool (type str)"),
        (["+align.foo=1"], "config: align.foo: no such key in the config schema (harness/schema.py)"),
        (["summary=plain"], "config: summary.path is missing; give it on the command line, e.g. summary.path=FILE"),
        (["model=nli"], "config: model=nli: no such model; choose one of: cascade, gguf, hf_nli, llm, offline, trained"),
        (["-m", "summary=summify,wiki,summfy"], "config: summary=summfy: no such summary; choose one of: markdown, plain, summify, tldr_qa, wiki"),
    ],
)
def test_mistyped_config_is_one_line_and_exit_2(tmp_path, args, line):
    """Issue #15 item 8: not Hydra's multi-line text and exit 1."""
    proc = _run_cli("run", *args, f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2
    assert proc.stderr == f"harness: error: {line}\n"
    assert not (tmp_path / "run").exists()


def test_failed_run_leaves_no_folder_holding_only_the_log(tmp_path):
    """Issue #15 item 8: the run directory Hydra made (its log and config copy) goes with the failure."""
    summary = tmp_path / "summary.md"
    summary.write_text("A summary.\n", encoding="utf-8")
    proc = _run_cli("run", "summary=plain", f"summary.path={summary}", f"transcript.path={tmp_path / 'gone.md'}",
                    f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode == 2 and f"{tmp_path / 'gone.md'}: file not found" in proc.stderr
    assert not (tmp_path / "run").exists()
    # a directory holding an earlier run is kept, that run untouched
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "report.json").write_text("{}\n")
    proc = _run_cli("run", "summary=plain", f"summary.path={summary}", f"transcript.path={tmp_path / 'gone.md'}",
                    f"hydra.run.dir={tmp_path / 'kept'}")
    assert proc.returncode == 2 and (tmp_path / "kept" / "report.json").read_text() == "{}\n"


def test_transcript_path_to_missing_file(tmp_path):
    proc = _run_cli("run", f"transcript.path={tmp_path / 'gone.md'}", f"hydra.run.dir={tmp_path / 'r'}")
    assert proc.returncode == 2 and f"{tmp_path / 'gone.md'}: file not found" in proc.stderr


def test_unknown_command():
    proc = _run_cli("frobnicate")
    assert proc.returncode == 2 and "unknown command 'frobnicate'" in proc.stderr
