"""Corpus mode (manifest → per-row runs → results.parquet + leaderboards), failed rows, resume,
the output folder, and parallel multirun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, compose
from harness.cli import plain_config
from harness.corpus import (
    RUN_FIELDS,
    comparable,
    corpus_dir,
    load_manifest,
    row_signature,
    run_corpus,
    sample_episodes,
)
from harness.errors import ConfigError, InputFileError

CORPUS = ROOT / "tests" / "data" / "corpus"
SMALL = ROOT / "tests" / "data" / "corpus_small"
# The whole pipeline on a small corpus, minus the slowest extras (flags, lexical, timeline):
# verdicts, coverage and auto chapters still run.
LIGHT = ["stages.flags=false", "stages.timeline=false", "metrics=[units,consistency,coverage]",
         "corpus.progress=false"]


def _cfg(manifest: Path, *overrides: str) -> dict:
    return plain_config(compose([f"corpus.manifest={manifest}", *LIGHT, *overrides]))


def test_corpus_writes_rows_parquet_and_leaderboard(tmp_path):
    cfg = plain_config(compose([f"corpus.manifest={CORPUS / 'manifest.jsonl'}", "corpus.progress=false"]))
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
    # per-row wall time and peak memory of the worker
    assert all(w > 0 for w in table["wall_s"]) and all(m > 50 for m in table["peak_rss_mb"])
    assert set(table["peak_rss_scope"]) <= {"row", "process"}
    board = (tmp_path / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
    assert board.index("garden-1/careful") < board.index("garden-1/sloppy")
    corpus_board = (tmp_path / "leaderboard.md").read_text(encoding="utf-8")
    assert "| careful | 1 |" in corpus_board and "[garden-1](rows/garden-1__sloppy/report.html)" in corpus_board
    # inline text became an input file of the run
    assert (tmp_path / "inputs" / "garden-1__inline.summary.md").read_text().startswith("Mara Quill adds compost")


def test_manifest_without_required_column_is_a_named_error(tmp_path):
    bad = tmp_path / "m.jsonl"
    bad.write_text('{"episode_id": "x", "transcript": "t.md", "summary": "s.md", "format": "plain"}\n')
    with pytest.raises(InputFileError, match=r"m.jsonl: manifest lacks column\(s\) system"):
        load_manifest(bad, tmp_path / "inputs")


def test_manifest_row_naming_a_missing_file_is_a_row_error(tmp_path):
    bad = tmp_path / "m.csv"
    bad.write_text("episode_id,transcript,system,summary,format\nx,gone.md,s1,also_gone.md,plain\n")
    (row,) = load_manifest(bad, tmp_path / "inputs")
    assert row.error is not None and row.error.endswith("gone.md: file not found (named in the corpus manifest)")


def test_rows_with_missing_files_fail_and_the_others_run(tmp_path):
    result = run_corpus(_cfg(SMALL / "with_missing.jsonl"), tmp_path)
    status = {(r["episode_id"], r["status"]) for r in result["rows"]}
    assert status == {("bees", "ok"), ("gone", "error"), ("bread", "error")}
    assert result["failed"] == 2
    errors = {r["episode_id"]: r["error"] for r in result["rows"]}
    assert errors["gone"].endswith("gone.vtt: file not found (named in the corpus manifest)")
    assert errors["bread"].endswith("row 3: empty summary")
    # the failed rows are in the results and on the leaderboard page, with their errors
    from datasets import load_dataset

    table = load_dataset("parquet", data_files=str(tmp_path / "results.parquet"), split="train")
    assert table["status"] == ["ok", "error", "error"] and table["run_dir"] == ["rows/bees__notes", None, None]
    assert "gone / notes:" in (tmp_path / "leaderboard.md").read_text(encoding="utf-8")


def test_cli_corpus_writes_to_its_own_folder_and_exits_2_on_a_failed_row(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", f"corpus={SMALL / 'with_missing.jsonl'}", *LIGHT,  # the first form
         "stages.align=false"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    (run_dir,) = (tmp_path / "results" / "corpus" / "with_missing").iterdir()
    assert (run_dir / "results.jsonl").is_file() and (run_dir / "rows" / "bees__notes" / "report.json").is_file()
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("harness: error: 2 corpus row(s) failed; see ")
    assert last.endswith(f"{Path('results/corpus/with_missing') / run_dir.name}/results.jsonl")


def test_corpus_dir_names_and_resume_picks_the_latest_finished_folder(tmp_path):
    assert corpus_dir("a/b/lexicap.jsonl", None, False, "T1", root=tmp_path) == "corpus/lexicap/T1"
    assert corpus_dir("a/b/lexicap.jsonl", "my run", False, "T1", root=tmp_path) == "corpus/my_run/T1"
    assert corpus_dir("m.jsonl", None, True, "T9", root=tmp_path) == "corpus/m/T9"  # nothing to resume
    for stamp, finished in (("T1", True), ("T2", True), ("T3", False)):
        folder = tmp_path / "corpus" / "m" / stamp
        folder.mkdir(parents=True)
        if finished:
            (folder / "results.jsonl").write_text("")
    assert corpus_dir("m.jsonl", None, True, "T9", root=tmp_path) == "corpus/m/T2"


def _small_corpus_copy(folder):
    """The small two-episode manifest and its files, copied into ``folder`` (so a test may edit them)."""
    for name in ("bees.vtt", "bread.md", "bees_notes.md", "bread_notes.md"):
        (folder / name).write_bytes((SMALL / name).read_bytes())
    manifest = folder / "m.jsonl"
    manifest.write_text((SMALL / "manifest.jsonl").read_text())
    return manifest


def test_resume_skips_finished_rows_and_reruns_changed_ones(tmp_path):
    manifest = _small_corpus_copy(tmp_path)
    out = tmp_path / "out"
    first = run_corpus(_cfg(manifest, "stages.align=false"), out)
    assert (first["failed"], first["reused"]) == (0, 0)
    stamp = {p.name: (p / "report.json").stat().st_mtime_ns for p in (out / "rows").iterdir()}

    again = run_corpus(_cfg(manifest, "stages.align=false", "corpus.resume=true"), out)
    assert again["reused"] == 2
    assert comparable(again["rows"]) == comparable(first["rows"])
    assert {p.name: (p / "report.json").stat().st_mtime_ns for p in (out / "rows").iterdir()} == stamp

    # a changed summary re-runs its row only
    (tmp_path / "bread_notes.md").write_text("# Sourdough\n\n- Ines Varga bakes every Friday.\n")
    changed = run_corpus(_cfg(manifest, "stages.align=false", "corpus.resume=true"), out)
    assert changed["reused"] == 1
    assert (out / "rows" / "bees__notes" / "report.json").stat().st_mtime_ns == stamp["bees__notes"]
    assert (out / "rows" / "bread__notes" / "report.json").stat().st_mtime_ns != stamp["bread__notes"]

    # a changed config re-runs every row; without resume nothing is reused
    assert run_corpus(_cfg(manifest, "stages.align=false", "corpus.resume=true", "claims.min_content_words=4"),
                      out)["reused"] == 0
    assert run_corpus(_cfg(manifest, "stages.align=false"), out)["reused"] == 0


def test_resume_reruns_rows_when_the_harness_code_changed(tmp_path, monkeypatch):
    import harness.corpus as corpus_module

    manifest = _small_corpus_copy(tmp_path)
    out = tmp_path / "out"
    first = run_corpus(_cfg(manifest, "stages.align=false"), out)
    assert {r["code_sha256"] for r in first["rows"]} == {corpus_module.code_digest()}
    assert run_corpus(_cfg(manifest, "stages.align=false", "corpus.resume=true"), out)["reused"] == 2
    monkeypatch.setattr(corpus_module, "code_digest", lambda: "0" * 64)  # another commit of the same version
    assert run_corpus(_cfg(manifest, "stages.align=false", "corpus.resume=true"), out)["reused"] == 0


def test_code_digest_changes_with_any_file_and_ignores_bytecode(tmp_path):
    from harness.signature import code_digest

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    before = code_digest(tmp_path / "pkg")
    assert len(before) == 64 and before == code_digest(tmp_path / "pkg")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert code_digest(tmp_path / "pkg") == before
    (tmp_path / "pkg" / "a.py").write_text("x = 2\n")
    assert code_digest(tmp_path / "pkg") != before
    (tmp_path / "pkg" / "a.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "templates").mkdir()
    (tmp_path / "pkg" / "templates" / "t.html").write_text("<p>")
    assert code_digest(tmp_path / "pkg") != before


def test_row_signature_ignores_where_the_files_are(tmp_path):
    cfg = _cfg(SMALL / "manifest.jsonl")
    (row, _) = load_manifest(SMALL / "manifest.jsonl", tmp_path / "inputs")
    copy_dir = tmp_path / "moved"
    copy_dir.mkdir()
    for name in ("bees.vtt", "bees_notes.md"):
        (copy_dir / name).write_bytes((SMALL / name).read_bytes())
    from dataclasses import replace

    moved = replace(row, transcript_path=str(copy_dir / "bees.vtt"), summary_path=str(copy_dir / "bees_notes.md"))
    assert row_signature(cfg, row) == row_signature(cfg, moved)
    assert row_signature(cfg, row)["summary_sha256"] == (
        __import__("hashlib").sha256((SMALL / "bees_notes.md").read_bytes()).hexdigest()
    )
    other = plain_config(compose([f"corpus.manifest={SMALL / 'manifest.jsonl'}", "claims.min_content_words=4"]))
    assert row_signature(other, row)["config_sha256"] != row_signature(cfg, row)["config_sha256"]


def test_sample_spreads_episodes_over_the_manifest(tmp_path):
    manifest = tmp_path / "m.jsonl"
    manifest.write_text("".join(
        json.dumps({"episode_id": f"e{i}", "transcript": "t", "system": s, "summary": "s", "format": "plain"}) + "\n"
        for i in range(10) for s in ("a", "b")
    ))
    rows = load_manifest(manifest, tmp_path / "inputs")
    picked = sample_episodes(rows, 4)
    assert [(r.episode_id, r.system) for r in picked] == [
        ("e0", "a"), ("e0", "b"), ("e3", "a"), ("e3", "b"), ("e6", "a"), ("e6", "b"), ("e9", "a"), ("e9", "b"),
    ]
    assert [r.index for r in picked] == list(range(8))
    assert sample_episodes(rows, None) == rows and sample_episodes(rows, 50) == rows
    with pytest.raises(ConfigError, match="corpus.sample"):
        sample_episodes(rows, "few")


def test_unknown_executor_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="corpus.executor: unknown executor 'spark'"):
        run_corpus(_cfg(SMALL / "manifest.jsonl", "corpus.executor=spark"), tmp_path)


def test_run_fields_are_the_only_machine_dependent_ones():
    assert set(RUN_FIELDS) == {"wall_s", "peak_rss_mb", "peak_rss_scope", "timings_json", "worker"}


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


def test_hydra_run_dir_is_results_corpus_name_time_in_corpus_mode():
    import harness.cli  # noqa: F401  (registers the run-dir resolver, as the CLI does)
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    def run_dir(overrides):
        with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "configs")):
            return str(hydra_compose(config_name="config", overrides=overrides, return_hydra_config=True).hydra.run.dir)

    assert run_dir(["summary=wiki"]).startswith("results/runs/wiki/")
    assert run_dir(["corpus.manifest=a/lexicap.jsonl"]).startswith("results/corpus/lexicap/")
    assert run_dir(["corpus.manifest=a/lexicap.jsonl", "corpus.name=sample"]).startswith("results/corpus/sample/")
