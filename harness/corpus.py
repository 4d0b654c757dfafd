"""Corpus mode: evaluate every row of a manifest, then rank the systems with intervals.

``python -m harness run corpus.manifest=path/to/manifest.jsonl`` reads a manifest that Hugging
Face ``datasets`` can load (JSONL, JSON, CSV or Parquet) with one row per (episode, system) pair:

| column | meaning |
|---|---|
| ``episode_id`` | episode name (used in row directory names) |
| ``transcript`` | path of the transcript file (relative to the manifest), or the transcript text |
| ``system`` | which summarizer produced the summary |
| ``summary`` | path of the summary file (relative to the manifest), or the summary text |
| ``format`` | summary format name (``markdown``, ``plain``, …) |
| ``transcript_format`` | optional; default ``auto`` |

The output folder is ``results/corpus/<name>/<time>/`` (``corpus.name``, default the manifest's
stem). Each row runs the normal pipeline into ``rows/<episode_id>__<system>/``; the corpus writes
``results.jsonl`` (rewritten after every row, so an interrupted corpus can resume) and
``results.parquet`` (one record per row: ids, status, error, input and config hashes, wall time,
peak memory, every metric) — load it with ``datasets.load_dataset("parquet", data_files=…)`` —
then the corpus leaderboard (``harness.corpus_leaderboard``) and the per-row table under
``leaderboard/`` (``leaderboard/<episode_id>/`` for each transcript when there are several: a
leaderboard compares summaries of one transcript).

A row whose files are missing, or whose run fails, is recorded with its error and the corpus goes
on; the command then exits 2. ``corpus.resume=true`` skips rows already finished with the same
signature (transcript sha256, summary sha256, config sha256, and the sha256 of the harness code);
a changed input, config or code re-runs them. ``corpus.executor=ray`` runs the rows as Ray tasks (``harness.corpus_ray``).
``corpus.controls=[lead,random,mismatched]`` adds reference systems per episode
(``harness.controls``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import re
import resource
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from harness.errors import ConfigError, HarnessError, InputFileError
from harness.signature import code_digest
from harness.textio import atomic_write_jsonl, atomic_write_text, sha256_file

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("episode_id", "transcript", "system", "summary", "format")
_LOADERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}
EXECUTORS = ("local", "ray")
# Record fields that depend on the machine and the moment, not on the inputs: the only fields
# in which two executors' results may differ.
RUN_FIELDS = ("wall_s", "peak_rss_mb", "peak_rss_scope", "timings_json", "worker")


@dataclass(frozen=True)
class CorpusRow:
    """One row to evaluate: a manifest row, or a control generated beside one.

    Attributes:
        index: position in the run (manifest rows first, then controls), 0-based.
        episode_id: the episode the summary is about.
        system: the summarizer (or control) name.
        transcript_path: transcript file the summary is scored against.
        transcript_format: transcript reader name (``auto`` detects it).
        summary_path: summary file.
        summary_format: summary format name.
        summary_split: ``sentence`` or ``line`` (unit splitting of plain summaries).
        control: ``lead``, ``random`` or ``mismatched`` for a control row, else ``None``.
        beside: for a control, the system whose length budget (and, for ``mismatched``,
            summary) it uses.
        transcript_episode: the episode whose transcript is used (differs from ``episode_id``
            only for ``mismatched``).
        error: why the row cannot run (a missing file, an empty cell), else ``None``.
    """

    index: int
    episode_id: str
    system: str
    transcript_path: str
    transcript_format: str
    summary_path: str
    summary_format: str
    summary_split: str = "sentence"
    control: str | None = None
    beside: str | None = None
    transcript_episode: str | None = None
    error: str | None = None

    @property
    def row_id(self) -> str:
        """Directory name of the row: ``<episode>__<system>``."""
        return f"{_safe(self.episode_id)}__{_safe(self.system)}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "row"


def _as_file(value: str, base: Path, inputs_dir: Path, stem: str, suffix: str) -> str:
    """A manifest cell as a file path: an existing path (relative to the manifest), else text
    written to ``inputs_dir``.

    Raises:
        InputFileError: the cell names a file (one word with an extension) that does not exist.
    """
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
    """Load a manifest with ``datasets``; a row with an empty cell or a missing file comes back
    with its ``error`` set (it is recorded as failed, the others still run).

    Raises:
        InputFileError: unreadable manifest, unknown extension or missing columns (nothing can run).
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
        cell = {c: str(rec.get(c) if rec.get(c) is not None else "").strip() for c in REQUIRED_COLUMNS}
        row = CorpusRow(
            index=i,
            episode_id=cell["episode_id"] or f"row-{i + 1}",
            system=cell["system"] or "unknown",
            transcript_path="",
            transcript_format=str(rec.get("transcript_format") or "auto"),
            summary_path="",
            summary_format=cell["format"],
            summary_split=str(rec.get("split") or "sentence"),
        )
        empty = [c for c in REQUIRED_COLUMNS if not cell[c]]
        if empty:
            rows.append(replace(row, error=f"{manifest}: row {i + 1}: empty {', '.join(empty)}"))
            continue
        try:
            transcript = _as_file(str(rec["transcript"]), manifest.parent, inputs_dir,
                                  f"{_safe(row.episode_id)}.transcript", ".txt")
            summary = _as_file(str(rec["summary"]), manifest.parent, inputs_dir, f"{row.row_id}.summary", ".md")
        except InputFileError as exc:
            rows.append(replace(row, error=str(exc)))
            continue
        rows.append(replace(row, transcript_path=transcript, summary_path=summary))
    return rows


def sample_episodes(rows: list[CorpusRow], sample: Any) -> list[CorpusRow]:
    """The rows of ``sample`` episodes spread evenly over the manifest's episode order (first and
    last included), all their systems; every row when ``sample`` is empty or covers them all.

    Raises:
        ConfigError: ``sample`` is not a positive integer.
    """
    if sample in (None, "", 0):
        return rows
    try:
        n = int(sample)
    except (TypeError, ValueError):
        raise ConfigError(f"corpus.sample: expected a number of episodes, got {sample!r}") from None
    if n < 1:
        raise ConfigError(f"corpus.sample: expected a positive number of episodes, got {n}")
    episodes = list(dict.fromkeys(r.episode_id for r in rows))
    if n >= len(episodes):
        return rows
    picked = {episodes[0]} if n == 1 else {episodes[round(i * (len(episodes) - 1) / (n - 1))] for i in range(n)}
    kept = [r for r in rows if r.episode_id in picked]
    return [replace(r, index=i) for i, r in enumerate(kept)]


def corpus_name(manifest: str, name: Any) -> str:
    """The corpus's folder name: ``corpus.name``, else the manifest's stem."""
    return _safe(str(name)) if name else _safe(Path(manifest).stem)


def corpus_dir(manifest: str, name: Any, resume: bool, now: str, root: Path = Path("results")) -> str:
    """The run directory below ``root``: ``corpus/<name>/<now>``; with ``resume`` the latest
    existing ``corpus/<name>/<time>`` that holds a ``results.jsonl`` (a new one if none does)."""
    base = Path("corpus") / corpus_name(manifest, name)
    if resume:
        earlier = sorted(p for p in (root / base).glob("*") if (p / "results.jsonl").is_file())
        if earlier:
            return str(base / earlier[-1].name)
    return str(base / now)


def _row_config(cfg: Mapping[str, Any], row: CorpusRow) -> dict[str, Any]:
    config = copy.deepcopy(dict(cfg))
    config["corpus"] = None
    config["transcript"] = {**config.get("transcript", {}), "name": row.transcript_episode or row.episode_id,
                            "path": row.transcript_path, "format": row.transcript_format, "chapters": None,
                            "auto_chapters": True}
    config["summary"] = {**config.get("summary", {}), "name": f"{row.episode_id}/{row.system}",
                         "path": row.summary_path, "format": row.summary_format, "split": row.summary_split}
    config["system"] = f"{row.episode_id}/{row.system}"  # the leaderboard row name
    return config


def _sha256_file(path: str) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def row_signature(cfg: Mapping[str, Any], row: CorpusRow, code: str | None = None) -> dict[str, str | None]:
    """What makes a finished row reusable: the sha256 of its transcript and summary files, of
    its resolved config (file paths left out, so a moved corpus still matches) and, given as
    ``code``, of the harness code that runs it (``harness.signature.code_digest``)."""
    config = _row_config(cfg, row)
    for node in ("transcript", "summary"):
        config[node] = {k: v for k, v in config[node].items() if k not in ("path", "name")}
    blob = json.dumps(config, sort_keys=True, default=str).encode("utf-8")
    return {
        "transcript_sha256": _sha256_file(row.transcript_path) if row.transcript_path else None,
        "summary_sha256": _sha256_file(row.summary_path) if row.summary_path else None,
        "config_sha256": hashlib.sha256(blob).hexdigest(),
        **({"code_sha256": code} if code is not None else {}),
    }


# ----------------------------------------------------------------------------------------------
# one row (runs in the driver for the local executor, in a Ray worker for the Ray executor)
# ----------------------------------------------------------------------------------------------


def _reset_peak_rss() -> str:
    """Reset the kernel's peak-RSS mark of this process (Linux ``clear_refs``); returns the scope
    the next reading covers: ``row`` after a reset, ``process`` where it is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return "row"
    except OSError:
        return "process"


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def execute_row(config: Mapping[str, Any], row_dir: str) -> dict[str, Any]:
    """Run the pipeline for one row config into ``row_dir``; returns the row's result fields
    (``status``, ``error``, metrics, wall time, peak memory). Models are the worker process's
    cached ones (``harness.models``), so they load once per worker."""
    from harness.pipeline import run_pipeline
    from harness.report import write_run

    scope = _reset_peak_rss()
    start = time.perf_counter()
    out: dict[str, Any] = {"worker": f"{os.uname().nodename}:{os.getpid()}"}
    try:
        report = write_run(run_pipeline(config), Path(row_dir), config)
    except HarnessError as exc:
        out.update(status="error", error=str(exc))
    except Exception as exc:  # a bug in one row must not lose the other rows' work
        log.exception("corpus row %s crashed", row_dir)
        out.update(status="error", error=f"{type(exc).__name__}: {exc}".splitlines()[0])
    else:
        metrics = {name: m["value"] for name, m in sorted(report["metrics"].items())}
        out.update(status="ok", error=None, metrics=metrics, timings_json=json.dumps(report.get("timings_s", {})),
                   sponsor_segments=len(report["transcript"].get("sponsor_segments") or ()))
    out.update(wall_s=round(time.perf_counter() - start, 3), peak_rss_mb=_peak_rss_mb(), peak_rss_scope=scope)
    return out


# ----------------------------------------------------------------------------------------------
# the corpus
# ----------------------------------------------------------------------------------------------


def _record(row: CorpusRow, signature: Mapping[str, Any], result: Mapping[str, Any], out: Path) -> dict[str, Any]:
    record: dict[str, Any] = {
        "episode_id": row.episode_id,
        "system": row.system,
        "control": row.control,
        "beside": row.beside,
        "transcript_episode": row.transcript_episode or row.episode_id,
        "format": row.summary_format,
        "status": result["status"],
        "error": result.get("error"),
        "run_dir": str(Path("rows") / row.row_id) if result["status"] == "ok" else None,
        **signature,
        **{k: result.get(k) for k in RUN_FIELDS},
    }
    if result["status"] == "ok":
        metrics = result["metrics"]
        record["metrics_json"] = json.dumps(metrics, sort_keys=True)
        record["sponsor_segments"] = result.get("sponsor_segments")
        record.update({k.replace(".", "__"): v for k, v in metrics.items()})
    return record


def _previous(out: Path) -> dict[str, dict[str, Any]]:
    """Finished rows of an earlier run in ``out``, by row directory."""
    path = out / "results.jsonl"
    if not path.is_file():
        return {}
    done = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if rec.get("status") == "ok" and rec.get("run_dir") and (out / rec["run_dir"] / "report.json").is_file():
            done[rec["run_dir"]] = rec
    return done


def _reusable(previous: Mapping[str, Any] | None, signature: Mapping[str, Any]) -> bool:
    return bool(previous) and all(previous.get(k) == v for k, v in signature.items()) and None not in signature.values()


def run_corpus(cfg: Mapping[str, Any], out_dir: str | Path) -> dict[str, Any]:
    """Evaluate every row (manifest rows and controls) into ``out_dir``.

    Returns:
        ``{"rows": [record, …] in row order, "failed": n, "reused": n, "wall_s": s}``.

    Raises:
        InputFileError: the manifest cannot be read.
        ConfigError: an unknown executor or control.
    """
    from harness.controls import control_rows
    from harness.pipeline import resolve_input

    start = time.perf_counter()
    corpus = dict(cfg.get("corpus") or {})
    executor = str(corpus.get("executor") or "local")
    if executor not in EXECUTORS:
        raise ConfigError(f"corpus.executor: unknown executor {executor!r} (use {' or '.join(EXECUTORS)})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = sample_episodes(load_manifest(resolve_input(str(corpus["manifest"])), out / "inputs"), corpus.get("sample"))
    rows += control_rows(rows, list(corpus.get("controls") or ()), cfg, out / "inputs",
                         seed=int(corpus.get("seed") or 0), start_index=len(rows))
    previous = _previous(out) if corpus.get("resume") else {}

    records: dict[int, dict[str, Any]] = {}
    todo: list[tuple[CorpusRow, dict[str, Any], dict[str, Any]]] = []
    code = code_digest()
    for row in rows:
        signature = row_signature(cfg, row, code)
        if row.error:
            records[row.index] = _record(row, signature, {"status": "error", "error": row.error}, out)
            log.error("corpus row %d (%s / %s): %s", row.index + 1, row.episode_id, row.system, row.error)
        elif _reusable(prev := previous.get(str(Path("rows") / row.row_id)), signature):
            records[row.index] = prev
        else:
            todo.append((row, signature, _row_config(cfg, row)))
    reused = sum(1 for r in records.values() if r["status"] == "ok")
    if reused:
        log.info("corpus: %d row(s) reused from %s (same inputs and config)", reused, out / "results.jsonl")

    def ordered() -> list[dict[str, Any]]:
        return [records[i] for i in sorted(records)]

    bar = _progress(len(rows), len(records), bool(corpus.get("progress", True)))
    failed = sum(r["status"] != "ok" for r in records.values())
    bar.set_postfix(failed=failed)

    def on_done(item: tuple[CorpusRow, dict[str, Any], dict[str, Any]], result: Mapping[str, Any]) -> None:
        nonlocal failed
        row, signature, _ = item
        records[row.index] = _record(row, signature, result, out)
        if result["status"] != "ok":
            failed += 1
            log.error("corpus row %d (%s / %s): %s", row.index + 1, row.episode_id, row.system, result["error"])
        atomic_write_jsonl(out / "results.jsonl", ordered())  # after every row: a crash loses one row at most
        bar.update(1)
        bar.set_postfix(failed=failed)

    try:
        if executor == "ray":
            from harness.corpus_ray import run_rows_ray

            run_rows_ray([(str(out / "rows" / r.row_id), c) for r, _, c in todo], corpus.get("ray") or {},
                         lambda i, result: on_done(todo[i], result))
        else:
            for item in todo:
                on_done(item, execute_row(item[2], str(out / "rows" / item[0].row_id)))
    finally:
        bar.close()

    final = ordered()
    atomic_write_jsonl(out / "results.jsonl", final)
    write_parquet(final, out / "results.parquet")
    _write_boards(cfg, final, out)
    return {"rows": final, "failed": failed, "reused": reused, "wall_s": round(time.perf_counter() - start, 3)}


def _progress(total: int, initial: int, enabled: bool) -> Any:
    from harness.progress import bar

    return bar(total, "corpus", "row", enabled, initial=initial, leave=True)


def _write_boards(cfg: Mapping[str, Any], records: list[dict[str, Any]], out: Path) -> None:
    from harness.corpus_leaderboard import write_corpus_leaderboard
    from harness.leaderboard import build_leaderboard, load_run, write_leaderboard

    corpus = cfg.get("corpus") or {}
    write_corpus_leaderboard(records, out, seed=int(corpus.get("seed") or 0),
                             resamples=int(corpus.get("bootstrap") or 1000), worst=int(corpus.get("worst") or 3))
    # A leaderboard compares summaries of one transcript: one per transcript when there are several
    # (a `mismatched` control is scored against another episode's transcript).
    done: dict[str, list[Path]] = {}
    for r in records:
        if r["status"] == "ok":
            done.setdefault(str(r.get("transcript_episode") or r["episode_id"]), []).append(out / r["run_dir"])
    for episode, dirs in sorted(done.items()):
        board_dir = out / "leaderboard" if len(done) == 1 else out / "leaderboard" / _safe(episode)
        write_leaderboard(build_leaderboard([load_run(d) for d in dirs]), board_dir)


def write_parquet(records: Iterable[Mapping[str, Any]], path: Path) -> None:
    """Export the records as a ``datasets`` Dataset in Parquet, atomically. Every record gets
    every column (``None`` where a row has no value)."""
    from datasets import Dataset

    records = list(records)
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


def comparable(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records without the fields that depend on the machine and moment (``RUN_FIELDS``): what two
    executors must agree on."""
    return [{k: v for k, v in r.items() if k not in RUN_FIELDS} for r in records]

