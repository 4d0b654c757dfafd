"""Corpus throughput for ``python -m harness bench --throughput``: episodes per hour, stage split,
and projections.

Runs the corpus pipeline (``harness.corpus.run_corpus``, local executor, no controls) on a fixed
sample of ``--episodes`` episodes spread evenly over a manifest (by default the shared Lexicap
corpus, system ``lexnotes``), in a temporary folder, and reports:

- episodes per hour, end to end (models loaded once, manifest read, every row run and written);
- the stage split: each pipeline stage's share of the summed row time;
- projections: the whole manifest on this machine, and 10,000 episodes on N such workers,
  assuming rows scale out linearly (each worker as fast as this one; the embedding cache on a
  shared filesystem).

``--from-run DIR`` computes the same figures from an existing corpus folder instead (rows of real
systems only; the wall time is then the sum of the rows' wall times, without model loading).
The load average is recorded at start and end: on shared cores it says how contended the
measurement was.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.pipeline import PROJECT_ROOT

DEFAULT_MANIFEST = PROJECT_ROOT.parent / "shared" / "episodes" / "lexicap-corpus" / "manifest.jsonl"
TARGET_EPISODES_PER_HOUR = 120
PROJECT_EPISODES = 10_000
WORKER_COUNTS = (1, 8, 32, 128)
# Stages shown in the split (top level; align.* are parts of "align", shown indented).
TOP_STAGES = ("parse_transcript", "sponsors", "auto_chapters", "parse_summary", "load_verifier", "claims", "align",
              "flags", "coverage", "metrics")


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def stage_split(records: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Seconds per stage summed over the finished rows (from each row's ``timings_json``)."""
    total: dict[str, float] = {}
    for r in records:
        if r.get("status") != "ok" or not r.get("timings_json"):
            continue
        for stage, seconds in json.loads(r["timings_json"]).items():
            total[stage] = round(total.get(stage, 0.0) + float(seconds), 3)
    return total


def summarize(records: Sequence[Mapping[str, Any]], wall_s: float, *, corpus_episodes: int,
              source: str, workers: Sequence[int] = WORKER_COUNTS) -> dict[str, Any]:
    """Throughput figures of finished rows that took ``wall_s`` seconds end to end."""
    ok = [r for r in records if r.get("status") == "ok" and not r.get("control")]
    episodes = len({r["episode_id"] for r in ok})
    per_hour = episodes / wall_s * 3600 if wall_s > 0 and episodes else None
    row_walls = [float(r["wall_s"]) for r in ok if r.get("wall_s") is not None]
    return {
        "source": source,
        "episodes": episodes,
        "rows_failed": sum(1 for r in records if r.get("status") != "ok"),
        "wall_s": round(wall_s, 2),
        "episodes_per_hour": None if per_hour is None else round(per_hour, 1),
        "row_wall_s": {"mean": round(sum(row_walls) / len(row_walls), 2), "max": max(row_walls)} if row_walls else None,
        "peak_rss_mb": max((float(r["peak_rss_mb"]) for r in ok if r.get("peak_rss_mb") is not None), default=None),
        "stages_s": stage_split(ok),
        "projection": None if per_hour is None else {
            "corpus_episodes": corpus_episodes,
            "corpus_hours_one_worker": round(corpus_episodes / per_hour, 2),
            "episodes": PROJECT_EPISODES,
            "hours_on_workers": {str(n): round(PROJECT_EPISODES / (per_hour * n), 2) for n in workers},
        },
        "target_episodes_per_hour": TARGET_EPISODES_PER_HOUR,
    }


def run_throughput(episodes: int, manifest: Path, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """Run ``episodes`` sampled episodes of ``manifest`` through the corpus pipeline and measure."""
    from harness.bench import _compose, _machine
    from harness.corpus import load_manifest, run_corpus

    load_start = _load()
    with tempfile.TemporaryDirectory(prefix="harness-throughput-") as tmp:
        corpus_episodes = len({r.episode_id for r in load_manifest(manifest, Path(tmp) / "probe")})
        cfg = _compose([f"corpus.manifest={manifest}", f"corpus.sample={episodes}", "corpus.progress=true",
                        *overrides])
        start = time.perf_counter()
        result = run_corpus(cfg, Path(tmp) / "run")
        wall = time.perf_counter() - start
    out = summarize(result["rows"], wall, corpus_episodes=corpus_episodes,
                    source=f"{episodes} episodes of {manifest}, measured end to end (models loaded once)")
    out.update(machine=_machine(), load_average_start=load_start, load_average_end=_load(),
               overrides=list(overrides))
    return out


def from_run(run_dir: Path, corpus_episodes: int) -> dict[str, Any]:
    """The same figures from an existing corpus folder's ``results.jsonl`` (wall time = the sum of
    its real-system rows' wall times)."""
    from harness.bench import _machine

    records = [json.loads(line) for line in (run_dir / "results.jsonl").read_text(encoding="utf-8").splitlines() if line]
    rows = [r for r in records if r.get("status") == "ok" and not r.get("control")]
    wall = sum(float(r["wall_s"]) for r in rows)
    out = summarize(records, wall, corpus_episodes=corpus_episodes,
                    source=f"rows of {run_dir} (sum of row wall times; no model loading)")
    out.update(machine=_machine(), load_average_start=None, load_average_end=_load(), overrides=_overrides(run_dir))
    return out


def _overrides(run_dir: Path) -> list[str]:
    """The command-line overrides of a corpus folder's run (Hydra's ``.hydra/overrides.yaml``)."""
    import yaml

    path = run_dir / ".hydra" / "overrides.yaml"
    try:
        return [str(o) for o in yaml.safe_load(path.read_text(encoding="utf-8")) or []]
    except (OSError, yaml.YAMLError):
        return []


def render(result: Mapping[str, Any]) -> str:
    """Markdown page of a throughput result."""
    m = result["machine"]
    eph = result["episodes_per_hour"]
    lines = [
        "# harness bench --throughput",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}. "
        f"Load average (1, 5, 15 min) at start {result.get('load_average_start')}, at end {result.get('load_average_end')}"
        f" (above {m['cores']} means the cores were shared).",
        f"Source: {result['source']}. Overrides: {' '.join(result.get('overrides') or []) or 'none'}.",
        "",
        "| episodes | failed rows | wall s | episodes / hour | mean row s | max row s | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    rw = result.get("row_wall_s") or {}
    lines.append(f"| {result['episodes']} | {result['rows_failed']} | {result['wall_s']:.0f} | "
                 f"{'—' if eph is None else f'{eph:.1f}'} | {rw.get('mean', '—')} | {rw.get('max', '—')} | "
                 f"{result.get('peak_rss_mb') or '—'} |")
    stages = result["stages_s"]
    total = sum(stages.get(s, 0.0) for s in TOP_STAGES) or 1.0
    lines += ["", "Stage split (summed over rows):", "", "| stage | s | share |", "|---|---|---|"]
    for stage in TOP_STAGES:
        if stage in stages:
            lines.append(f"| {stage} | {stages[stage]:.1f} | {stages[stage] / total:.0%} |")
        if stage == "align":
            lines += [f"| &nbsp;&nbsp;{s} | {v:.1f} | {v / total:.0%} |" for s, v in stages.items() if s.startswith("align.")]
    p = result.get("projection")
    if p:
        lines += ["", f"Projection (linear scale-out, each worker = this machine): the whole manifest "
                      f"({p['corpus_episodes']} episodes) in {p['corpus_hours_one_worker']:.1f} h on one worker; "
                      f"{p['episodes']:,} episodes:", "",
                  "| workers | hours |", "|---|---|"]
        lines += [f"| {n} | {h:.1f} |" for n, h in p["hours_on_workers"].items()]
    status = "not measured" if eph is None else ("met" if eph >= result["target_episodes_per_hour"] else "MISSED")
    lines += ["", f"Target ≥ {result['target_episodes_per_hour']} episodes/hour on 2 cores: {status}"
                  f"{'' if eph is None else f' ({eph:.1f})'}.", ""]
    return "\n".join(lines)
