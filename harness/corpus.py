"""Corpus mode: evaluate every row of a manifest, then rank the systems.

``python -m harness run corpus=path/to/manifest.jsonl`` reads a manifest that Hugging Face
``datasets`` can load (JSONL, JSON, CSV or Parquet) with one row per (episode, system) pair:

| column | meaning |
|---|---|
| ``episode_id`` | episode name (used in row directory names) |
| ``transcript`` | path of the transcript file (relative to the manifest), or the transcript text |
| ``system`` | which summarizer produced the summary |
| ``summary`` | path of the summary file (relative to the manifest), or the summary text |
| ``format`` | summary format name (``markdown``, ``plain``, …) |
| ``transcript_format`` | optional; default ``auto`` |

Each row runs the normal pipeline into ``<run dir>/rows/<episode_id>__<system>/``. The corpus
writes ``results.jsonl`` and ``results.parquet`` (one record per row: ids, status, every metric)
— load it with ``datasets.load_dataset("parquet", data_files=…)`` — and a leaderboard of the
rows under ``<run dir>/leaderboard/`` (``<run dir>/leaderboard/<episode_id>/`` for each episode when
the manifest has several). A row that fails is recorded with its error and the
corpus goes on; the command then exits 2.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from harness.errors import HarnessError, InputFileError
from harness.textio import atomic_write_jsonl, atomic_write_text

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("episode_id", "transcript", "system", "summary", "format")
_LOADERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


@dataclass(frozen=True)
class CorpusRow:
    """One manifest row, with its text inputs resolved to files."""

    index: int
    episode_id: str
    system: str
    transcript_path: str
    transcript_format: str
    summary_path: str
    summary_format: str


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "row"


def _as_file(value: str, base: Path, inputs_dir: Path, stem: str, suffix: str) -> str:
    """A manifest cell as a file path: an existing path (relative to the manifest), else text
    written to ``inputs_dir``."""
    if "\n" not in value and len(value) < 1024:
        candidate = Path(value) if Path(value).is_absolute() else base / value
        if candidate.is_file():
            return str(candidate)
        if Path(value).suffix and not value.strip().count(" "):
            raise InputFileError(candidate, "file not found (named in the corpus manifest)")
    inputs_dir.mkdir(parents=True, exist_ok=True)
    path = inputs_dir / f"{stem}{suffix}"
    atomic_write_text(path, value)
    return str(path)


def load_manifest(path: str | os.PathLike[str], inputs_dir: Path) -> list[CorpusRow]:
    """Load and validate a manifest with ``datasets``.

    Raises:
        InputFileError: unreadable manifest, unknown extension, missing columns or empty cells.
    """
    manifest = Path(path)
    if not manifest.is_file():
        raise InputFileError(manifest, "corpus manifest not found")
    kind = _LOADERS.get(manifest.suffix.lower())
    if kind is None:
        raise InputFileError(manifest, f"unknown manifest type {manifest.suffix!r} (use .jsonl, .json, .csv or .parquet)")
    from datasets import load_dataset

    try:
        table = load_dataset(kind, data_files=str(manifest), split="train")
    except Exception as exc:  # datasets raises many types for a malformed file
        raise InputFileError(manifest, f"cannot read the manifest: {str(exc).splitlines()[0]}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table.column_names]
    if missing:
        raise InputFileError(manifest, f"manifest lacks column(s) {', '.join(missing)}")
    rows = []
    for i, rec in enumerate(table):
        empty = [c for c in REQUIRED_COLUMNS if not str(rec.get(c) or "").strip()]
        if empty:
            raise InputFileError(manifest, f"row {i + 1}: empty {', '.join(empty)}")
        stem = f"{_safe(str(rec['episode_id']))}__{_safe(str(rec['system']))}"
        rows.append(
            CorpusRow(
                index=i,
                episode_id=str(rec["episode_id"]),
                system=str(rec["system"]),
                transcript_path=_as_file(str(rec["transcript"]), manifest.parent, inputs_dir, f"{_safe(str(rec['episode_id']))}.transcript", ".txt"),
                transcript_format=str(rec.get("transcript_format") or "auto"),
                summary_path=_as_file(str(rec["summary"]), manifest.parent, inputs_dir, f"{stem}.summary", ".md"),
                summary_format=str(rec["format"]),
            )
        )
    return rows


def _row_config(cfg: Mapping[str, Any], row: CorpusRow) -> dict[str, Any]:
    config = copy.deepcopy(dict(cfg))
    config["corpus"] = None
    config["transcript"] = {**config.get("transcript", {}), "name": row.episode_id, "path": row.transcript_path,
                            "format": row.transcript_format, "chapters": None, "auto_chapters": True}
    config["summary"] = {**config.get("summary", {}), "name": f"{row.episode_id}/{row.system}",
                         "path": row.summary_path, "format": row.summary_format}
    config["system"] = f"{row.episode_id}/{row.system}"  # the leaderboard row name
    return config


def run_corpus(cfg: Mapping[str, Any], out_dir: str | Path) -> dict[str, Any]:
    """Evaluate every manifest row; returns ``{"rows": [...], "failed": n}``."""
    from harness.leaderboard import build_leaderboard, load_run, write_leaderboard
    from harness.pipeline import resolve_input, run_pipeline
    from harness.report import write_run

    out = Path(out_dir)
    rows = load_manifest(resolve_input(str(cfg["corpus"])), out / "inputs")
    records, done = [], []
    for row in rows:
        row_dir = out / "rows" / f"{_safe(row.episode_id)}__{_safe(row.system)}"
        record: dict[str, Any] = {"episode_id": row.episode_id, "system": row.system, "format": row.summary_format}
        try:
            config = _row_config(cfg, row)
            report = write_run(run_pipeline(config), row_dir, config)
        except HarnessError as exc:
            log.error("corpus row %d (%s / %s): %s", row.index + 1, row.episode_id, row.system, exc)
            records.append({**record, "status": "error", "error": str(exc), "run_dir": None})
            continue
        done.append((row.episode_id, row_dir))
        metrics = {name: m["value"] for name, m in sorted(report["metrics"].items())}
        records.append({**record, "status": "ok", "error": None, "run_dir": str(row_dir),
                        "summary_sha256": report["summary"]["sha256"],
                        "transcript_sha256": report["transcript"]["sha256"],
                        "metrics_json": json.dumps(metrics, sort_keys=True),
                        **{k.replace(".", "__"): v for k, v in metrics.items()}})
        log.info("corpus row %d/%d done: %s / %s", row.index + 1, len(rows), row.episode_id, row.system)
    atomic_write_jsonl(out / "results.jsonl", records)
    _write_parquet(records, out / "results.parquet")
    # A leaderboard compares summaries of one transcript: one per episode when there are several.
    episodes = sorted({episode for episode, _ in done})
    for episode in episodes:
        board_dir = out / "leaderboard" if len(episodes) == 1 else out / "leaderboard" / _safe(episode)
        write_leaderboard(build_leaderboard([load_run(d) for e, d in done if e == episode]), board_dir)
    failed = sum(r["status"] != "ok" for r in records)
    return {"rows": records, "failed": failed}


def _write_parquet(records: list[dict[str, Any]], path: Path) -> None:
    """Export the records as a ``datasets`` Dataset in Parquet, atomically."""
    from datasets import Dataset

    columns = sorted({k for r in records for k in r})
    table = Dataset.from_list([{c: r.get(c) for c in columns} for r in records])
    fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".parquet.tmp", dir=path.parent)
    os.close(fd)
    try:
        table.to_parquet(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
