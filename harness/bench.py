"""``python -m harness bench``: speed and memory of the pipeline, as ratios and per-stage times.

Measures, in one process:

- cold start: loading the models (spaCy, MiniLM, the verifier) before any run;
- for each transcript scale (the reference transcript repeated 1×, 4×, 16× with shifted times)
  and each bundled summary: wall time per stage, verifier pairs, claims per second, and the
  retrieve-then-verify pairs as a share of exhaustive scoring (every claim × every window);
- exhaustive scoring itself, timed on a sample of claims of the first summary (every window
  for each sampled claim), so the speed-up is a measured ratio, not only a pair count;
- peak resident memory of the process;
- the one embedding cache's counters (``harness.cache``): texts encoded, read from disk and
  reused from memory per run, so "every transcript sentence is embedded once per process" is
  counted: after the first summary of a transcript, no transcript text is encoded or read again.

Config overrides after the options time another verifier the same way, e.g. the local LLM judge
on the three references (``python -m harness bench --scales 1 --out results/bench/gguf model=gguf
model.path=FILE.gguf model.cache_dir=EMPTY_DIR``): the targets are then the judge's (issue #17:
the three references in ≤ 300 s, ≤ 2 s per claim), the exhaustive sample is skipped unless asked
for, and the judge's pairs (judged, from its verdict cache) are counted per summary, so a run
that read its verdicts from the cache is not mistaken for a speed figure.

Results go to stdout and, atomically, to ``results/bench/bench.json`` and ``bench.md`` with a
description of the machine. Timings are never asserted in tests: this script is where the
project's speed goals are checked.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.pipeline import PROJECT_ROOT
from harness.textio import atomic_write_json, atomic_write_text
from harness.text import format_clock

log = logging.getLogger(__name__)

SUMMARIES = ("summify", "tldr_qa", "wiki")
_TS = re.compile(r"^\[(\d{1,2}(?::\d{1,2}){1,2})\]\(([^)?]*)\?t=(\d+)\)\s*$")


def scaled_transcript(source: Path, factor: int, out_dir: Path) -> Path:
    """Write the transcript repeated ``factor`` times, each copy's timestamps shifted past the
    previous copy and its chapter titles suffixed with the copy number."""
    if factor == 1:
        return source
    lines = source.read_text(encoding="utf-8").splitlines()
    body_start = next(i for i, line in enumerate(lines) if line.startswith("## "))
    head, body = lines[:body_start], lines[body_start:]
    last = max(int(m.group(3)) for line in body if (m := _TS.match(line)))
    period = last + 60
    out = list(head)
    for k in range(factor):
        for line in body:
            if m := _TS.match(line):
                t = int(m.group(3)) + k * period
                out.append(f"[{format_clock(t)}]({m.group(2)}?t={t})")
            elif line.startswith("## ") and k:
                out.append(f"{line} (copy {k + 1})")
            else:
                out.append(line)
    path = out_dir / f"transcript_x{factor}.md"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other jobs on shared cores slow every row)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": mem_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def _compose(overrides: list[str]) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.schema import register_schemas

    register_schemas()
    with initialize_config_dir(version_base="1.3", config_dir=str(PROJECT_ROOT / "configs")):
        cfg = compose(config_name="config", overrides=overrides)
    return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]


def _exhaustive_sample(cfg: dict[str, Any], n_claims: int) -> dict[str, Any]:
    """Time scoring ``n_claims`` claims against every window (the exhaustive baseline)."""
    from harness.windows import build_windows
    from harness.backends import VerifyPair, build_verifier
    from harness.claims import split_claims_from_config
    from harness.formats import FormatOptions, load_summary
    from harness.pipeline import resolve_input
    from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    transcript = mark_sponsors(
        load_transcript(resolve_input(cfg["transcript"]["path"]), cfg["transcript"]["format"]),
        sponsor_config_from_mapping(cfg["sponsors"]),
    )
    summary = load_summary(resolve_input(cfg["summary"]["path"]), cfg["summary"]["format"], FormatOptions())
    claims = split_claims_from_config(summary.units, cfg["claims"])[:n_claims]
    w = cfg["align"]["window"]
    windows = build_windows(transcript, w["size_turns"], w["stride_turns"], w["max_words"])
    verifier = build_verifier(cfg["model"])
    pairs = [VerifyPair(c.text, win.text, c.context) for c in claims for win in windows]
    start = time.perf_counter()
    verifier.score(pairs)
    seconds = time.perf_counter() - start
    return {"claims": len(claims), "windows": len(windows), "pairs": len(pairs), "seconds": round(seconds, 3)}


TRANSCRIPT_KINDS = ("coverage-sentences", "windows", "sentences")
"""The cache kinds that hold transcript text (the rest is summary text: claims, units)."""


def _cache_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the cache did between two ``CacheStats.as_dict()`` snapshots."""

    def kinds(key: str) -> dict[str, int]:
        a, b = before.get(key) or {}, after.get(key) or {}
        return {k: b.get(k, 0) - a.get(k, 0) for k in sorted(set(a) | set(b)) if b.get(k, 0) - a.get(k, 0)}

    encoded, from_disk = kinds("encoded_by_kind"), kinds("disk_hits_by_kind")
    return {
        "encoded": after["encoded"] - before["encoded"],
        "from_disk": after["disk_hits"] - before["disk_hits"],
        "from_memory": after["memory_hits"] - before["memory_hits"],
        "transcript_encoded": sum(v for k, v in encoded.items() if k in TRANSCRIPT_KINDS),
        "transcript_from_disk": sum(v for k, v in from_disk.items() if k in TRANSCRIPT_KINDS),
        "encoded_by_kind": encoded,
    }


OFFLINE_TARGETS = {"warm_all_three_1x_s": 12, "peak_rss_mb": 1228, "growth_16x_max": 4, "transcript_texts_obtained_again": 0}
"""Issue #18's targets for the default offline verifier."""
JUDGE_TARGETS = {"all_three_1x_s": 300, "s_per_claim": 2.0}
"""Issue #17's targets for an LLM judge (``gguf``, ``llm``, ``cascade``) on 2 CPU cores."""
JUDGE_BACKENDS = frozenset({"gguf", "llm", "cascade"})


def _judge_pairs(result: Any) -> dict[str, int] | None:
    """The judge's pair counts of one run (judged, cache hits), or ``None`` for other verifiers."""
    verifier = ((result.signature.get("models") or {}).get("verifier") or {}) if result.signature else {}
    if verifier.get("name") == "cascade":
        verifier = verifier.get("judge") or {}
    pairs = verifier.get("pairs")
    if not isinstance(pairs, dict):
        return None
    return {"judged": int(pairs.get("judged", 0)), "cache_hits": int(pairs.get("cache_hits", 0))}


def run_bench(
    scales: list[int], summaries: list[str], exhaustive_claims: int | None, overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Run the benchmark and return its JSON-ready result.

    Args:
        scales: transcript repetition factors.
        summaries: bundled summary names.
        exhaustive_claims: claims timed against every window; ``None``: 6 for the offline
            verifier, 0 (skipped) for an LLM judge (hours of requests).
        overrides: Hydra overrides applied to every run (e.g. ``model=gguf model.path=...``).
    """
    from harness import models
    from harness.backends import build_verifier
    from harness.cache import default_cache
    from harness.lexical import lexical_config
    from harness.pipeline import run_pipeline

    overrides = list(overrides)
    load_start = _loadavg()
    start = time.perf_counter()
    cfg = _compose(overrides)
    verifier_name = str(cfg["model"].get("name"))
    judge = verifier_name in JUDGE_BACKENDS
    if exhaustive_claims is None:
        exhaustive_claims = 0 if judge else 6
    models.spacy_nlp()
    models.sentence_encoder()
    build_verifier(cfg["model"])
    if "lexical" in (cfg.get("metrics") or []):
        from harness.lexical import bert_scorer

        lexical = lexical_config(cfg)
        bert_scorer(lexical.bertscore_num_layers, lexical.bertscore_model_type)  # bert-score's own MiniLM copy
    cold_s = time.perf_counter() - start
    log.info("cold start (model load): %.1f s", cold_s)

    rows = []
    cache = default_cache()
    source = PROJECT_ROOT / "references" / "lex-fridman-94" / "transcript.md"
    with tempfile.TemporaryDirectory() as tmp:
        for factor in scales:
            path = scaled_transcript(source, factor, Path(tmp))
            total = total_cpu = 0.0
            for name in summaries:
                cfg = _compose([*overrides, f"summary={name}", f"transcript.path={path}"])
                before = cache.stats.as_dict()
                t0, c0 = time.perf_counter(), time.process_time()
                result = run_pipeline(cfg)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                embeds = _cache_delta(before, cache.stats.as_dict())
                total += wall
                total_cpu += cpu
                stats = result.extra.get("alignment", {})
                rows.append(
                    {
                        "scale": factor,
                        "summary": name,
                        "wall_s": round(wall, 3),
                        "cpu_s": round(cpu, 3),
                        "stages_s": dict(result.timings_s),
                        "claims": stats.get("claims"),
                        "windows": stats.get("windows"),
                        "verifier_pairs": stats.get("verifier_pairs"),
                        "exhaustive_pairs": stats.get("exhaustive_pairs"),
                        "pair_ratio": stats.get("pair_ratio"),
                        "claims_per_s": round(stats.get("claims", 0) / wall, 2) if wall else None,
                        "embedding_cache_hit": stats.get("cache_hit"),
                        "embeddings": embeds,
                        "peak_rss_mb": round(_peak_rss_mb(), 1),
                        "judge_pairs": _judge_pairs(result),
                    }
                )
                log.info("scale %dx %s: %.2f s", factor, name, wall)
            rows.append({"scale": factor, "summary": "(all)", "wall_s": round(total, 3), "cpu_s": round(total_cpu, 3)})
    exhaustive = (
        _exhaustive_sample(_compose([*overrides, f"summary={summaries[0]}"]), exhaustive_claims) if exhaustive_claims else None
    )
    first = next((r for r in rows if r["scale"] == scales[0] and r["summary"] == summaries[0]), None)
    if exhaustive and first and first.get("claims"):
        per_pair = exhaustive["seconds"] / max(1, exhaustive["pairs"])
        exhaustive["projected_s_for_first_summary"] = round(per_pair * first["exhaustive_pairs"], 1)
        exhaustive["measured_verify_s_for_first_summary"] = first["stages_s"].get("align.verify")
    all_rows = {r["scale"]: r["wall_s"] for r in rows if r["summary"] == "(all)"}
    # "once per process": after the first summary of each scale, no transcript text is encoded
    # or read from disk again (every later summary takes the Episode from memory).
    firsts = {r["scale"]: r["summary"] for r in reversed(rows) if r["summary"] != "(all)"}
    again = sum(
        r["embeddings"]["transcript_encoded"] + r["embeddings"]["transcript_from_disk"]
        for r in rows
        if r["summary"] != "(all)" and r["summary"] != firsts.get(r["scale"])
    )
    base = all_rows.get(1)
    growth = {f"{k}x": round(v / base, 2) for k, v in all_rows.items()} if base else {}
    return {
        "machine": {**_machine(), "load_average_start": load_start, "load_average_end": _loadavg()},
        "cold_start_s": round(cold_s, 2),
        "rows": rows,
        "time_growth_vs_1x": growth,
        "exhaustive_sample": exhaustive,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "embedding_cache": {**cache.stats.as_dict(), "transcript_texts_obtained_again": again},
        "verifier": verifier_name,
        "overrides": overrides,
        "targets": dict(JUDGE_TARGETS if judge else OFFLINE_TARGETS),
    }


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def render(result: dict[str, Any]) -> str:
    """Markdown table of a bench result."""
    m = result["machine"]
    lines = [
        "# harness bench",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}.",
        f"Load average (1, 5, 15 min) at the start: {m.get('load_average_start')}, at the end: "
        f"{m.get('load_average_end')}. CPU s is this process's user+system time (all threads): "
        "wall time grows with other jobs on the cores, CPU time much less.",
        f"Cold start (model load, once per process): {result['cold_start_s']:.1f} s. "
        f"Peak RSS: {result['peak_rss_mb']:.0f} MB.",
        f"Verifier: `{result.get('verifier', 'offline')}`"
        + (f" (overrides: `{' '.join(result['overrides'])}`)." if result.get("overrides") else "."),
        "",
        "| scale | summary | wall s | CPU s | claims | pairs verified | exhaustive pairs | share | claims/s | align.embed s | align.verify s | cache hit | texts encoded (transcript) | read from disk (transcript) | reused from memory |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if r["summary"] == "(all)":
            cpu_all = f"**{r['cpu_s']:.2f}**" if r.get("cpu_s") is not None else "—"
            lines.append(f"| {r['scale']}x | **all** | **{r['wall_s']:.2f}** | {cpu_all} | | | | | | | | | | | |")
            continue
        st = r["stages_s"]
        e = r.get("embeddings") or {}
        lines.append(
            f"| {r['scale']}x | {r['summary']} | {r['wall_s']:.2f} | {_num(r.get('cpu_s'))} | {r['claims']} | {r['verifier_pairs']} | "
            f"{r['exhaustive_pairs']} | {r['pair_ratio']:.3f} | {r['claims_per_s']} | "
            f"{st.get('align.embed', 0):.2f} | {st.get('align.verify', 0):.2f} | {r['embedding_cache_hit']} | "
            f"{e.get('encoded', '—')} ({e.get('transcript_encoded', '—')}) | {e.get('from_disk', '—')} "
            f"({e.get('transcript_from_disk', '—')}) | {e.get('from_memory', '—')} |"
        )
    if result["time_growth_vs_1x"]:
        lines += ["", "Time growth vs 1x (all three summaries): "
                  + ", ".join(f"{k}: {v}x" for k, v in result["time_growth_vs_1x"].items())]
    ex = result.get("exhaustive_sample")
    if ex:
        lines += [
            "",
            f"Exhaustive baseline, measured: {ex['claims']} claims × {ex['windows']} windows = {ex['pairs']} pairs "
            f"in {ex['seconds']:.1f} s. Projected for every claim of the first summary: "
            f"{ex.get('projected_s_for_first_summary')} s, against {ex.get('measured_verify_s_for_first_summary')} s "
            "of retrieve-then-verify.",
        ]
    ec = result.get("embedding_cache")
    if ec:
        lines += [
            "",
            f"Embedding cache (one per process, harness/cache.py): {ec['encoded']} texts encoded, "
            f"{ec['disk_hits']} read from disk, {ec['memory_hits']} reused from memory; transcript texts "
            f"encoded or read again after the first summary of a transcript: {ec['transcript_texts_obtained_again']}.",
        ]
    t = result["targets"]
    total_1x = next((r["wall_s"] for r in result["rows"] if r["scale"] == 1 and r["summary"] == "(all)"), None)
    if "s_per_claim" in t:
        return "\n".join(lines + _judge_lines(result, t, total_1x)) + "\n"
    lines += ["", "| target | measured | status |", "|---|---|---|"]
    growth_16 = result["time_growth_vs_1x"].get("16x")
    checks = [
        (f"all three summaries at 1x ≤ {t['warm_all_three_1x_s']} s (models loaded)", total_1x, t["warm_all_three_1x_s"], "s"),
        (f"peak RSS ≤ {t['peak_rss_mb']} MB", result["peak_rss_mb"], t["peak_rss_mb"], "MB"),
        (f"16x transcript ≤ {t['growth_16x_max']}x the 1x time", growth_16, t["growth_16x_max"], "x"),
        (
            "every transcript sentence embedded once per process (texts encoded or read again after the first summary)",
            (ec or {}).get("transcript_texts_obtained_again"),
            t.get("transcript_texts_obtained_again", 0),
            "texts",
        ),
    ]
    return "\n".join(lines + _target_rows(checks)) + "\n"


def _target_rows(checks: Sequence[tuple[str, float | None, float, str]]) -> list[str]:
    out = []
    for label, value, limit, unit in checks:
        status = "not measured" if value is None else ("met" if value <= limit else "MISSED")
        shown = "—" if value is None else f"{value:g} {unit}"
        out.append(f"| {label} | {shown} | {status} |")
    return out


def _judge_lines(result: dict[str, Any], t: Mapping[str, Any], total_1x: float | None) -> list[str]:
    """Judge pairs per summary and the judge's targets; no target is called met from cached verdicts."""
    rows = [r for r in result["rows"] if r["scale"] == 1 and r["summary"] != "(all)"]
    pairs = [r.get("judge_pairs") or {} for r in rows]
    judged = sum(p.get("judged", 0) for p in pairs)
    cached = sum(p.get("cache_hits", 0) for p in pairs)
    claims = sum(r.get("claims") or 0 for r in rows)
    lines = ["", f"Judge pairs at 1x: {judged} judged, {cached} read from the verdict cache, for {claims} claims."]
    per_claim = round(total_1x / claims, 2) if total_1x is not None and claims else None
    if cached:
        lines.append("Some verdicts came from the cache: these times are no speed figure (use an empty "
                     "`model.cache_dir`, or `model.judge.cache_dir` for the cascade).")
        total_1x = per_claim = None
    lines += ["", "| target | measured | status |", "|---|---|---|"]
    return lines + _target_rows([
        (f"the three references at 1x ≤ {t['all_three_1x_s']} s (models loaded)", total_1x, t["all_three_1x_s"], "s"),
        (f"≤ {t['s_per_claim']} s per claim, whole pipeline", per_claim, t["s_per_claim"], "s"),
    ])


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``python -m harness bench [--scales 1,4,16] [--out results/bench]``."""
    parser = argparse.ArgumentParser(prog="python -m harness bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4,16", help="transcript repetition factors (default 1,4,16)")
    parser.add_argument("--summaries", default=",".join(SUMMARIES))
    parser.add_argument("--exhaustive-claims", type=int, default=None,
                        help="claims timed against every window (0: skip; default 6, or 0 with an LLM judge)")
    parser.add_argument("--out", default=str(PROJECT_ROOT / "results" / "bench"))
    corpus = parser.add_argument_group("corpus throughput (harness.throughput)")
    corpus.add_argument("--throughput", action="store_true",
                        help="measure episodes per hour on a fixed corpus sample instead (writes throughput.{json,md})")
    corpus.add_argument("--episodes", type=int, default=20, help="episodes in the sample (default 20)")
    corpus.add_argument("--manifest", default=None, help="corpus manifest (default: the shared Lexicap corpus)")
    corpus.add_argument("--from-run", default=None, help="compute from an existing corpus folder instead of running")
    parser.add_argument("overrides", nargs="*",
                        help="config overrides for every run (e.g. model=gguf model.path=FILE.gguf, or metrics=[units] with --throughput)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.throughput or args.from_run:
        return _throughput_main(args)
    scales = [int(x) for x in args.scales.split(",") if x.strip()]
    summaries = [x for x in args.summaries.split(",") if x.strip()]
    result = run_bench(scales, summaries, args.exhaustive_claims, args.overrides)
    text = render(result)
    out = Path(args.out)
    atomic_write_json(out / "bench.json", result)
    atomic_write_text(out / "bench.md", text)
    print(text)
    print(json.dumps({"wrote": [str(out / "bench.json"), str(out / "bench.md")]}))
    return 0


def _throughput_main(args: argparse.Namespace) -> int:
    from harness import throughput
    from harness.corpus import load_manifest
    from harness.errors import HarnessError

    manifest = Path(args.manifest) if args.manifest else throughput.DEFAULT_MANIFEST
    if not manifest.is_file():
        print(f"harness: error: {manifest}: corpus manifest not found (--manifest FILE)", file=sys.stderr)
        return 2
    try:
        if args.from_run:
            with tempfile.TemporaryDirectory() as tmp:
                episodes = len({r.episode_id for r in load_manifest(manifest, Path(tmp))})
            result = throughput.from_run(Path(args.from_run), episodes)
        else:
            result = throughput.run_throughput(args.episodes, manifest, args.overrides)
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    text = throughput.render(result)
    out = Path(args.out)
    atomic_write_json(out / "throughput.json", result)
    atomic_write_text(out / "throughput.md", text)
    print(text)
    return 0
