"""Corpus mode (manifest → per-row runs → results.parquet + leaderboard) and parallel multirun."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, compose
from harness.cli import plain_config
from harness.corpus import load_manifest, run_corpus
from harness.errors import InputFileError

CORPUS = ROOT / "tests" / "data" / "corpus"


def test_corpus_writes_rows_parquet_and_leaderboard(tmp_path):
    cfg = plain_config(compose([f"corpus={CORPUS / 'manifest.jsonl'}"]))
    result = run_corpus(cfg, tmp_path)
    assert result["failed"] == 0
    assert sorted(p.name for p in (tmp_path / "rows").iterdir()) == [
        "garden-1__careful", "garden-1__inline", "garden-1__sloppy",
    ]
    from datasets import load_dataset

    table = load_dataset("parquet", data_files=str(tmp_path / "results.parquet"), split="train")
    assert table.num_rows == 3 and table["system"] == ["careful", "sloppy", "inline"]
    scores = dict(zip(table["system"], table["consistency__score"]))
    # The faithful summary beats the one with the wrong facts (sand, ten buckets, every day).
    assert scores["careful"] > scores["sloppy"] + 0.3
    assert json.loads(table["metrics_json"][0])["consistency.score"] == scores["careful"]
    board = (tmp_path / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
    assert board.index("garden-1/careful") < board.index("garden-1/sloppy")
    # inline text became an input file of the run
    assert (tmp_path / "inputs" / "garden-1__inline.summary.md").read_text().startswith("Mara Quill adds compost")


def test_manifest_without_required_column_is_a_named_error(tmp_path):
    bad = tmp_path / "m.jsonl"
    bad.write_text('{"episode_id": "x", "transcript": "t.md", "summary": "s.md", "format": "plain"}\n')
    with pytest.raises(InputFileError, match=r"m.jsonl: manifest lacks column\(s\) system"):
        load_manifest(bad, tmp_path / "inputs")


def test_manifest_row_naming_a_missing_file(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("episode_id,transcript,system,summary,format\nx,gone.md,s1,also_gone.md,plain\n")
    with pytest.raises(InputFileError, match="gone.md: file not found"):
        load_manifest(bad, tmp_path / "inputs")


def test_multirun_with_the_joblib_launcher_in_parallel(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "-m", "summary=summify,tldr_qa,wiki", "hydra/launcher=joblib",
         "hydra.launcher.n_jobs=2", "stages.align=false", "stages.flags=false", "metrics=[units]",
         f"hydra.sweep.dir={tmp_path}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Joblib" in proc.stdout + proc.stderr
    for name in ("summify", "tldr_qa", "wiki"):
        assert json.loads((tmp_path / name / "report.json").read_text())["summary"]["format"] == name
