"""The corpus leaderboard: systems compared across episodes, with their uncertainty.

From a corpus run's records (``results.jsonl``) it writes, into the corpus folder:

- ``leaderboard.md`` / ``.csv`` / ``.json`` / ``.html``: per system and metric the mean over
  episodes with a seeded percentile-bootstrap 95% interval (episodes resampled with
  replacement); the share of episodes in which each flag fires; the worst episodes per system,
  linked to their ``report.html``; and, when controls ran, the validity table (do the metrics
  separate a summary of the episode from one of another episode, and do they credit verbatim
  sentences?). The tables go through ``harness.tables``; the HTML page (a Jinja2 template)
  also embeds the plots;
- ``plots/<metric>.png``: the distribution per system (box plus every episode as a dot).
"""

from __future__ import annotations

import io
import json
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from markupsafe import Markup

from harness import tables
from harness.tables import Cell, Column, Table
from harness.textio import atomic_write_bytes, atomic_write_json, atomic_write_text

log = logging.getLogger(__name__)

# (metric, short label, higher is better), in table order.
BOARD_METRICS: tuple[tuple[str, str, bool], ...] = (
    ("consistency.score", "consistency", True),
    ("consistency.claims.supported", "supported", True),
    ("coverage.chapter_weighted", "chapter cov.", True),
    ("coverage.key_point_recall", "key-point recall", True),
    ("flags.major", "major flags", False),
    ("flags.minor", "minor flags", False),
    ("units.boilerplate_share", "boilerplate", False),
    ("units.content_words", "content words", True),
)
WORST_BY = "consistency.score"
# Validity targets (issue #20): what a metric must do on controls before its numbers mean much.
TARGET_AUROC = 0.99
TARGET_MISMATCHED_COVERAGE = 0.05
TARGET_LEAD_SUPPORTED = 0.95


@dataclass(frozen=True)
class Interval:
    """A system's metric over episodes: mean and bootstrap 95% interval (``n`` episodes)."""

    system: str
    metric: str
    n: int
    mean: float | None
    low: float | None
    high: float | None


@dataclass(frozen=True)
class ValidityCheck:
    """One row of the validity table.

    Attributes:
        check: what is measured.
        value: the measured value (``None`` when the controls needed did not run).
        target: the target as text (``≥ 0.99``), or ``""`` for a figure shown for context.
        n: how many rows (or row pairs) it rests on.
        passed: whether ``value`` meets ``target`` (``None`` without a target or a value).
    """

    check: str
    value: float | None
    target: str
    n: int
    passed: bool | None


def metric_value(record: Mapping[str, Any], metric: str) -> float | None:
    """A metric of a result record (``None`` if absent); flag counts absent from the record are 0."""
    metrics = record.get("_metrics")
    if metrics is None:
        metrics = json.loads(record.get("metrics_json") or "{}")
    value = metrics.get(metric)
    if value is None and metric.startswith("flags.") and record.get("status") == "ok":
        return 0.0
    return None if value is None else float(value)


def bootstrap_interval(values: Sequence[float], *, resamples: int, seed: int) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap 95% interval of ``values`` (resampled with replacement,
    ``numpy.random.default_rng(seed)``); one value gives a zero-width interval.

    Raises:
        ValueError: no values.
    """
    import numpy as np

    if not values:
        raise ValueError("bootstrap_interval needs at least one value")
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if len(data) == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(resamples, len(data)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return mean, float(low), float(high)


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """Probability that a positive scores above a negative (ties count one half): the ROC AUC
    of the score as a classifier of positives; ``None`` if either side is empty."""
    if not positives or not negatives:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def _ok(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        if r.get("status") == "ok":
            out.append({**r, "_metrics": json.loads(r.get("metrics_json") or "{}")})
    return out


def system_intervals(records: Iterable[Mapping[str, Any]], *, resamples: int = 1000, seed: int = 0) -> list[Interval]:
    """Per system and board metric, the mean over its episodes with a bootstrap 95% interval."""
    ok = _ok(records)
    out = []
    for system in _systems(ok):
        rows = [r for r in ok if r["system"] == system]
        for metric, _, _ in BOARD_METRICS:
            values = [v for r in rows if (v := metric_value(r, metric)) is not None]
            if not values:
                out.append(Interval(system, metric, 0, None, None, None))
                continue
            mean, low, high = bootstrap_interval(values, resamples=resamples, seed=seed)
            out.append(Interval(system, metric, len(values), mean, low, high))
    return out


def flag_shares(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """``{system: {"major.ad_content": share of its episodes with at least one such flag, …}}``."""
    ok = _ok(records)
    tags = sorted({m[len("flags."):] for r in ok for m in r["_metrics"] if m.count(".") == 2 and m.startswith("flags.")})
    out: dict[str, dict[str, float]] = {}
    for system in _systems(ok):
        rows = [r for r in ok if r["system"] == system]
        out[system] = {tag: sum((metric_value(r, f"flags.{tag}") or 0) > 0 for r in rows) / len(rows) for tag in tags}
    return out


def worst_episodes(records: Iterable[Mapping[str, Any]], k: int = 3, metric: str = WORST_BY) -> dict[str, list[dict[str, Any]]]:
    """Per system, the ``k`` episodes with the lowest ``metric`` (ties by episode id), each with
    its value and ``report.html`` path relative to the corpus folder."""
    ok = _ok(records)
    out = {}
    for system in _systems(ok):
        scored = [(v, r["episode_id"], r) for r in ok if r["system"] == system and (v := metric_value(r, metric)) is not None]
        out[system] = [
            {"episode_id": ep, "value": v, "report": f"{r['run_dir']}/report.html"}
            for v, ep, r in sorted(scored, key=lambda t: (t[0], t[1]))[:k]
        ]
    return out


def validity_table(records: Iterable[Mapping[str, Any]]) -> list[ValidityCheck]:
    """The checks the controls make possible; empty when no control ran."""
    ok = _ok(records)
    if not any(r.get("control") for r in ok):
        return []
    real = [r for r in ok if not r.get("control")]
    mismatched = [r for r in ok if r.get("control") == "mismatched"]
    checks = []
    for system in sorted({r["system"] for r in real}):
        pos = [v for r in real if r["system"] == system and (v := metric_value(r, "consistency.score")) is not None]
        neg = [v for r in mismatched if r.get("beside") == system and (v := metric_value(r, "consistency.score")) is not None]
        if neg:
            value = auroc(pos, neg)
            checks.append(ValidityCheck(f"consistency.score AUROC, {system} vs {system} on another episode",
                                        value, f"≥ {TARGET_AUROC}", len(pos) * len(neg), _meets(value, TARGET_AUROC, True)))
    for metric in ("coverage.chapter_weighted", "coverage.key_point_recall") if mismatched else ():
        values = [v for r in mismatched if (v := metric_value(r, metric)) is not None]
        value = sum(values) / len(values) if values else None
        target = f"≤ {TARGET_MISMATCHED_COVERAGE}" if metric == "coverage.chapter_weighted" else ""
        checks.append(ValidityCheck(f"mean {metric} of mismatched", value, target, len(values),
                                    _meets(value, TARGET_MISMATCHED_COVERAGE, False) if target else None))
    for control, metric, target in (
        ("lead", "consistency.claims.supported", TARGET_LEAD_SUPPORTED),
        ("lead", "consistency.score", None),
        ("random", "consistency.claims.supported", None),
        ("mismatched", "consistency.claims.supported", None),
    ):
        rows = [r for r in ok if r.get("control") == control]
        if not rows:  # that control did not run
            continue
        values = [v for r in rows if (v := metric_value(r, metric)) is not None]
        value = sum(values) / len(values) if values else None
        label = "share of claims supported" if metric.endswith("supported") else metric
        checks.append(ValidityCheck(f"{control}: {label} (mean over episodes)", value,
                                    f"≥ {target}" if target else "", len(values),
                                    _meets(value, target, True) if target else None))
    return checks


def _meets(value: float | None, target: float, higher: bool) -> bool | None:
    if value is None:
        return None
    return value >= target if higher else value <= target


def _systems(ok: Sequence[Mapping[str, Any]]) -> list[str]:
    """Real systems first (by name), then controls (by name)."""
    return sorted({r["system"] for r in ok}, key=lambda s: (any(r["system"] == s and r.get("control") for r in ok), s))


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


@dataclass(frozen=True)
class CorpusBoard:
    """What the corpus leaderboard page shows, whatever its format.

    Attributes:
        summary: the line under the title (episodes, rows, failures, what a cell means).
        systems: the systems, real ones first, then controls.
        intervals: per system, the mean and interval of each board metric.
        validity: the validity checks (``None`` when no control ran).
        flag_shares: per system, the share of episodes where each flag fires (``None``: no flags).
        worst: per system, its worst episodes (episode id, report path, value).
        failed: the failed rows as (episode id, system, error).
    """

    summary: str
    systems: tuple[str, ...]
    intervals: Table
    validity: Table | None
    flag_shares: Table | None
    worst: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...]
    failed: tuple[tuple[str, str, str], ...]


VALIDITY_NOTE = (
    "Controls sit beside each system with its length budget: `lead` (first transcript sentences "
    "outside sponsor reads), `random` (seeded transcript sentences), `mismatched` (the system's "
    "summary scored against another episode's transcript)."
)
WORST_TITLE = f"Worst episodes per system (lowest {WORST_BY})"


def corpus_board(records: Sequence[Mapping[str, Any]], intervals: Sequence[Interval],
                 shares: Mapping[str, Mapping[str, float]], worst: Mapping[str, Sequence[Mapping[str, Any]]],
                 validity: Sequence[ValidityCheck], *, resamples: int, seed: int) -> CorpusBoard:
    """The page's content: its tables (``harness.tables``) and lists."""
    ok = _ok(records)
    systems = _systems(ok)
    by = {(i.system, i.metric): i for i in intervals}
    metrics = [(m, label, hib) for m, label, hib in BOARD_METRICS if any(by[(s, m)].n for s in systems)]
    failed = [r for r in records if r.get("status") != "ok"]
    summary = (f"{len({r['episode_id'] for r in records})} episodes, {len(records)} rows, {len(failed)} failed. "
               f"Each cell: mean over episodes [95% bootstrap interval, {resamples} resamples, seed {seed}]; "
               "↑ higher is better, ↓ lower is better.")
    columns = [Column("system"), Column("episodes")] + [Column(m, f"{label} {'↑' if hib else '↓'}") for m, label, hib in metrics]
    rows = []
    for s in systems:
        n = len({r["episode_id"] for r in ok if r["system"] == s})
        cells = []
        for m, _, _ in metrics:
            i = by[(s, m)]
            cells.append("—" if i.mean is None else f"{_fmt(i.mean)} [{_fmt(i.low)}, {_fmt(i.high)}]")
        rows.append([s, n, *cells])
    validity_table = None
    if validity:
        checks = [[c.check, _fmt(c.value, 3), c.target, c.n, "" if c.passed is None else Cell("yes" if c.passed else "no", strong=not c.passed)]
                  for c in validity]
        validity_table = Table.of([Column(h) for h in ("check", "value", "target", "n", "met")], checks, wrapper_class="scroll")
    tags = sorted({t for s in shares.values() for t in s})
    shares_table = None
    if tags:
        share_rows = [[s, *(_fmt(shares.get(s, {}).get(t)) for t in tags)] for s in systems]
        shares_table = Table.of([Column("system"), *(Column(t) for t in tags)], share_rows, wrapper_class="scroll")
    return CorpusBoard(
        summary=summary,
        systems=tuple(systems),
        intervals=Table.of(columns, rows, wrapper_class="scroll"),
        validity=validity_table,
        flag_shares=shares_table,
        worst=tuple((s, tuple((str(w["episode_id"]), str(w["report"]), _fmt(w["value"], 3)) for w in worst.get(s, ()))) for s in systems),
        failed=tuple((str(r["episode_id"]), str(r["system"]), str(r.get("error"))) for r in failed),
    )


def render_markdown(records: Sequence[Mapping[str, Any]], intervals: Sequence[Interval],
                    shares: Mapping[str, Mapping[str, float]], worst: Mapping[str, Sequence[Mapping[str, Any]]],
                    validity: Sequence[ValidityCheck], *, resamples: int, seed: int) -> str:
    """The leaderboard page (Markdown)."""
    board = corpus_board(records, intervals, shares, worst, validity, resamples=resamples, seed=seed)
    lines = ["# Corpus leaderboard", "", board.summary]
    lines += ["", tables.to_markdown(board.intervals).rstrip("\n")]
    if board.validity is not None:
        lines += ["", "## Validity (controls)", "", VALIDITY_NOTE, "", tables.to_markdown(board.validity).rstrip("\n")]
    if board.flag_shares is not None:
        lines += ["", "## Share of episodes where each flag fires", "", tables.to_markdown(board.flag_shares).rstrip("\n")]
    lines += ["", f"## {WORST_TITLE}", ""]
    for s, items in board.worst:
        links = ", ".join(f"[{ep}]({report}) {value}" for ep, report, value in items)
        lines.append(f"- **{s}**: {links or '—'}")
    if board.failed:
        lines += ["", "## Failed rows", ""]
        lines += [f"- {ep} / {system}: {error}" for ep, system, error in board.failed]
    lines += ["", "Distributions: `plots/<metric>.png`. Every row: `results.parquet`, `leaderboard/`.", ""]
    return "\n".join(lines)


def render_html(board: CorpusBoard, plots: Sequence[tuple[str, bytes]] = ()) -> str:
    """The leaderboard page (HTML, template ``corpus_leaderboard.html.j2``): the same content as
    the Markdown page, the worst episodes linked to their ``report.html``, and the distribution
    plots (``(metric, png bytes)``) embedded."""
    import base64

    from harness.templates import environment, static_text

    def report_link(path: str) -> str | None:
        # a path inside the corpus folder, relative; anything else is shown but not linked
        return None if path.startswith(("/", "\\")) or ":" in path or ".." in Path(path).parts else path

    return environment().get_template("corpus_leaderboard.html.j2").render(
        css=Markup(static_text("leaderboard.css")),
        board=board,
        intervals=tables.to_html(board.intervals),
        validity=tables.to_html(board.validity) if board.validity is not None else None,
        validity_note=VALIDITY_NOTE,
        flag_shares=tables.to_html(board.flag_shares) if board.flag_shares is not None else None,
        worst_title=WORST_TITLE,
        worst=[(s, [(ep, report_link(report), value) for ep, report, value in items]) for s, items in board.worst],
        plots=[(metric, base64.b64encode(png).decode("ascii")) for metric, png in plots],
    )


def _csv(intervals: Sequence[Interval]) -> str:
    columns = [Column(k) for k in ("system", "metric", "n", "mean", "ci_low", "ci_high")]
    rows = [[i.system, i.metric, i.n, i.mean, i.low, i.high] for i in intervals]
    return tables.to_csv(Table.of(columns, rows), value=_csv_cell)


def _csv_cell(value: Any) -> Any:
    """Means and bounds as Python writes them (``1.0`` stays ``1.0``), ``None`` as ''."""
    return "" if value is None else value


def plot_distributions(records: Sequence[Mapping[str, Any]], out_dir: Path) -> list[Path]:
    """One PNG per board metric: a box per system with every episode as a jittered dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ok = _ok(records)
    systems = _systems(ok)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    rng = np.random.default_rng(0)
    for metric, label, hib in BOARD_METRICS:
        data = [[v for r in ok if r["system"] == s and (v := metric_value(r, metric)) is not None] for s in systems]
        if not any(data):
            continue
        fig, ax = plt.subplots(figsize=(max(4.0, 1.3 * len(systems) + 1.5), 3.6))
        positions = [i + 1 for i, d in enumerate(data) if d]
        ax.boxplot([d for d in data if d], positions=positions, widths=0.5, showfliers=False)
        for pos, values in zip(positions, [d for d in data if d]):
            ax.scatter(pos + rng.uniform(-0.15, 0.15, len(values)), values, s=12, alpha=0.7, zorder=3)
        ax.set_xticks(range(1, len(systems) + 1), systems, rotation=20, ha="right")
        ax.set_ylabel(f"{label} ({'higher' if hib else 'lower'} is better)")
        ax.set_title(metric)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})
        plt.close(fig)
        path = out_dir / f"{metric}.png"
        atomic_write_bytes(path, buf.getvalue())
        written.append(path)
    return written


def write_corpus_leaderboard(records: Sequence[Mapping[str, Any]], out: Path, *, seed: int = 0,
                             resamples: int = 1000, worst: int = 3) -> dict[str, Any]:
    """Write ``leaderboard.{md,csv,json,html}`` and ``plots/`` into the corpus folder ``out``;
    returns the JSON content."""
    intervals = system_intervals(records, resamples=resamples, seed=seed)
    shares = flag_shares(records)
    worst_rows = worst_episodes(records, worst)
    validity = validity_table(records)
    atomic_write_text(out / "leaderboard.md",
                      render_markdown(records, intervals, shares, worst_rows, validity, resamples=resamples, seed=seed))
    atomic_write_text(out / "leaderboard.csv", _csv(intervals))
    content = {
        "bootstrap": {"resamples": resamples, "seed": seed, "level": 0.95},
        "intervals": [asdict(i) for i in intervals],
        "flag_shares": shares,
        "worst": worst_rows,
        "validity": [asdict(c) for c in validity],
    }
    atomic_write_json(out / "leaderboard.json", content)
    plots = plot_distributions(records, out / "plots") if any(r.get("status") == "ok" for r in records) else []
    board = corpus_board(records, intervals, shares, worst_rows, validity, resamples=resamples, seed=seed)
    atomic_write_text(out / "leaderboard.html", render_html(board, [(p.stem, p.read_bytes()) for p in plots]))
    return content

