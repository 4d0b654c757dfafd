"""``python -m harness leaderboard``: one row per summary, from the run directories' report.json.

Columns are metrics read generically from ``report.json`` (by name, direction from
``higher_is_better``), each shown only when some run has it; flag counts come from the report's
``flags`` list. One row model (``Column`` + row dicts) is rendered as Markdown, CSV and HTML by
one function, ``render_table`` (lm-eval ``make_table`` style).

Ranking rule (stated under every table): for each headline metric that has a value in every
row, rows get a competition rank (1 = best in the metric's direction, ties share the best rank);
a row's score is the mean of its ranks; rows are ordered by that mean, ties broken by the
headline metrics' values in headline order (better first), then by summary name; rows equal on
all of them share a rank.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from markupsafe import Markup

from harness import tables
from harness.errors import InputFileError
from harness.runs import read_report, read_run
from harness.tables import Align, Cell, Table, markdown_cell
from harness.tables import Column as TableColumn
from harness.textio import atomic_write_bytes, atomic_write_text

HEADLINE_METRICS = ("consistency.score", "coverage.chapter_weighted", "flags.major", "units.boilerplate_share")

# Column groups in table order: (glob patterns, group label). A metric lands in the first group
# whose patterns match it; metrics matching no group are left out of the table.
COLUMN_GROUPS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("coverage.chapter_weighted", "coverage.time_weighted", "coverage.key_point_recall"), "coverage"),
    (
        (
            "consistency.claims.supported",
            "consistency.claims.partially_supported",
            "consistency.claims.unsupported",
            "consistency.claims.contradicted",
            "consistency.score",
        ),
        "consistency",
    ),
    (("flags.major", "flags.minor", "flags.major.*", "flags.minor.*"), "flags"),
    (("units.boilerplate_share",), "boilerplate"),
    (("lexical.*", "*rouge*", "*bertscore*", "*bert_score*"), "lexical"),
    (("units.content_words",), "length"),
)

SHORT = {
    "coverage.chapter_weighted": "chapter cov.",
    "coverage.time_weighted": "time cov.",
    "coverage.key_point_recall": "key-point recall",
    "consistency.claims.supported": "supported",
    "consistency.claims.partially_supported": "partial",
    "consistency.claims.unsupported": "unsupported",
    "consistency.claims.contradicted": "contradicted",
    "consistency.score": "consistency",
    "flags.major": "major flags",
    "flags.minor": "minor flags",
    "units.boilerplate_share": "boilerplate",
    "units.content_words": "content words",
}


class LeaderboardError(Exception):
    """A run directory or report that cannot be read (one line for the terminal)."""


@dataclass(frozen=True)
class Column:
    """One table column.

    Attributes:
        key: row-dict key and CSV header (the metric name for metric columns).
        header: short label for the Markdown/HTML header.
        higher_is_better: direction; ``None`` for non-score columns (name, rank).
        description: what it measures (for the legend under the table).
    """

    key: str
    header: str
    higher_is_better: bool | None = None
    description: str = ""


@dataclass
class Run:
    """One run directory read for the leaderboard."""

    run_dir: Path
    name: str
    report: dict[str, Any]
    units: list[dict[str, Any]] | None = None
    values: dict[str, float | None] = field(default_factory=dict)


@dataclass
class Leaderboard:
    """The row model: columns, rows in rank order, notes to print under the table."""

    columns: list[Column]
    rows: list[dict[str, Any]]
    notes: list[str]
    legend: list[tuple[str, str, str]]
    runs: list[Run]


# ----------------------------------------------------------------------------------------------
# discovery
# ----------------------------------------------------------------------------------------------


def _has_report(path: Path) -> bool:
    return (path / "report.json").is_file()


def expand_run_dirs(paths: Sequence[str | Path]) -> list[Path]:
    """Run directories named by ``paths``: a dir holding ``report.json`` is a run; a dir whose
    subdirectories hold ``report.json`` (a multirun sweep dir) stands for those runs."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise LeaderboardError(f"{p}: no such directory")
        if not p.is_dir():
            raise LeaderboardError(f"{p}: not a directory (expected a run directory holding report.json)")
        if _has_report(p):
            out.append(p)
            continue
        subs = sorted(d for d in p.iterdir() if d.is_dir() and _has_report(d))
        if not subs:
            raise LeaderboardError(f"{p}: no report.json in it or in its subdirectories")
        out.extend(subs)
    return out


def latest_runs(results: str | Path = "results") -> list[Path]:
    """The latest run of each system on each transcript, among ``results/runs/<summary>/<time>/``
    and the per-summary subdirs of multirun sweeps ``results/multirun/<time>/<summary>/``.

    A row is a (transcript sha256, system name) pair, the name read from the run's report
    (``system`` config value, else the summary file's stem), so two own-summary runs made with
    ``summary=markdown`` stay two rows. Latest is by the time directory's name (Hydra's
    ``%Y-%m-%d_%H-%M-%S`` sorts in time order). Ordered by name, then transcript."""
    root = Path(results)
    best: dict[tuple[str, str], tuple[str, Path]] = {}

    def offer(when: str, run: Path) -> None:
        try:
            report = read_report(run / "report.json")
        except InputFileError as exc:
            raise LeaderboardError(str(exc)) from None
        key = (row_name(report, run), str(transcript_sha(report)))
        if key not in best or when > best[key][0]:
            best[key] = (when, run)

    runs_root = root / "runs"
    if runs_root.is_dir():
        for sdir in sorted(d for d in runs_root.iterdir() if d.is_dir()):
            for tdir in sorted(d for d in sdir.iterdir() if d.is_dir() and _has_report(d)):
                offer(tdir.name, tdir)
    multi_root = root / "multirun"
    if multi_root.is_dir():
        for tdir in sorted(d for d in multi_root.iterdir() if d.is_dir()):
            for sdir in sorted(d for d in tdir.iterdir() if d.is_dir() and _has_report(d)):
                offer(tdir.name, sdir)
    return [best[k][1] for k in sorted(best)]


def transcript_sha(report: Mapping[str, Any]) -> str | None:
    """The sha256 of the transcript a run scored (from its signature, else its transcript record)."""
    sig_inputs = (report.get("signature") or {}).get("inputs") or {}
    return (sig_inputs.get("transcript") or {}).get("sha256") or (report.get("transcript") or {}).get("sha256")


def _transcript_label(run: Run) -> str:
    path = ((run.report.get("config") or {}).get("transcript") or {}).get("path") if isinstance(run.report.get("config"), Mapping) else None
    sha = str(transcript_sha(run.report))[:12]
    return f"{sha} ({Path(str(path)).name})" if path else sha


def one_transcript(runs: Sequence[Run]) -> None:
    """Refuse runs on different transcripts: their numbers are not comparable.

    Raises:
        LeaderboardError: naming each transcript (sha256 prefix and file name) with its rows.
    """
    groups: dict[str, list[str]] = {}
    for r in runs:
        groups.setdefault(_transcript_label(r), []).append(r.name)
    if len(groups) > 1:
        listed = "; ".join(f"{label}: {', '.join(names)}" for label, names in groups.items())
        raise LeaderboardError(
            f"the runs score {len(groups)} different transcripts ({listed}); a leaderboard compares "
            "summaries of one transcript: pick one with --transcript SHA256_PREFIX, or name its run directories"
        )


def load_run(run_dir: Path) -> Run:
    """Read a run directory's report.json (required) and units.jsonl (optional) with
    ``harness.runs.read_run``.

    Raises:
        LeaderboardError: a missing or unreadable file (the message names it).
    """
    try:
        record = read_run(run_dir, require_metrics=False)
    except InputFileError as exc:
        raise LeaderboardError(str(exc)) from None
    units = None if record.units is None else list(record.units)
    return Run(run_dir=run_dir, name=row_name(record.report, run_dir), report=record.report, units=units)


def row_name(report: Mapping[str, Any], run_dir: Path) -> str:
    """A run's row name: the ``system`` config value when set, else the summary file's stem
    (``summify`` for ``summify.md``, ``my_summary`` for ``my_summary.md``), else the summary
    config's name, else the run directory's name."""
    cfg = report.get("config") if isinstance(report.get("config"), Mapping) else {}
    system = cfg.get("system")
    if system:
        return str(system)
    cfg_summary = cfg.get("summary") if isinstance(cfg.get("summary"), Mapping) else {}
    path = (report.get("summary") or {}).get("path") or cfg_summary.get("path")
    if path:
        return Path(str(path)).stem
    return str(cfg_summary.get("name") or run_dir.name)


# ----------------------------------------------------------------------------------------------
# row model
# ----------------------------------------------------------------------------------------------


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _flags_known(run: Run) -> bool:
    r = run.report
    cfg = r.get("config") if isinstance(r.get("config"), Mapping) else {}
    return bool(r.get("flags")) or "flags" in cfg or any(str(k).startswith("flags.") for k in r.get("metrics") or {})


def _run_values(run: Run, flag_tags: set[tuple[str, str]], flags_present: bool) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for name, m in (run.report.get("metrics") or {}).items():
        if isinstance(m, Mapping):
            values[str(name)] = _num(m.get("value"))
    if flags_present and isinstance(run.report.get("flags"), list):
        flags = [f for f in run.report["flags"] if isinstance(f, Mapping)]
        values.setdefault("flags.major", float(sum(f.get("severity") == "major" for f in flags)))
        values.setdefault("flags.minor", float(sum(f.get("severity") != "major" for f in flags)))
        for sev, tag in flag_tags:
            n = sum((("major" if f.get("severity") == "major" else "minor"), str(f.get("tag"))) == (sev, tag) for f in flags)
            values.setdefault(f"flags.{sev}.{tag}", float(n))
    return values


def _metric_meta(runs: Sequence[Run]) -> dict[str, tuple[bool, str]]:
    meta: dict[str, tuple[bool, str]] = {}
    for run in runs:
        for name, m in (run.report.get("metrics") or {}).items():
            if isinstance(m, Mapping) and name not in meta:
                desc = str(m.get("description") or "")
                if m.get("note"):
                    desc += f" ({m.get('note')})"
                meta[str(name)] = (m.get("higher_is_better", True), desc)  # None: a size, not a score
    meta.setdefault("flags.major", (False, "Number of major flags (errors a careful reader would catch)."))
    meta.setdefault("flags.minor", (False, "Number of minor flags."))
    return meta


def _group_of(name: str) -> tuple[int, int] | None:
    for gi, (patterns, _label) in enumerate(COLUMN_GROUPS):
        for pi, pat in enumerate(patterns):
            if fnmatch.fnmatchcase(name, pat):
                return gi, pi
    return None


def _unique_names(runs: list[Run]) -> None:
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.name] = counts.get(r.name, 0) + 1
    for r in runs:
        if counts[r.name] > 1:
            r.name = f"{r.name}@{r.run_dir.name}"
    seen: dict[str, int] = {}
    for r in runs:  # still equal (same dir name twice): number them
        if r.name in seen:
            seen[r.name] += 1
            r.name = f"{r.name}#{seen[r.name]}"
        else:
            seen[r.name] = 1


def competition_ranks(values: Sequence[float], higher_is_better: bool) -> list[int]:
    """Rank 1 = best; equal values share the best rank ("1224" ranking)."""
    signed = [-v if higher_is_better else v for v in values]
    return [1 + sum(1 for o in signed if o < s) for s in signed]


def _config_without_summary(report: Mapping[str, Any]) -> str:
    cfg = report.get("config")
    if not isinstance(cfg, Mapping):
        return ""
    rest = {k: v for k, v in cfg.items() if k not in ("summary", "system")}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()


def _differing_config_keys(reports: Sequence[Mapping[str, Any]]) -> list[str]:
    keys: set[str] = set()
    cfgs = [r.get("config") if isinstance(r.get("config"), Mapping) else {} for r in reports]
    for k in set().union(*[set(c) for c in cfgs]) - {"summary", "system"}:
        dumped = {json.dumps(c.get(k), sort_keys=True, default=str) for c in cfgs}
        if len(dumped) > 1:
            keys.add(str(k))
    return sorted(keys)


def build_leaderboard(runs: list[Run], rank_by: Sequence[str] = HEADLINE_METRICS) -> Leaderboard:
    """The row model of the leaderboard for ``runs`` (one row per run)."""
    if not runs:
        raise LeaderboardError("no runs to put in a leaderboard")
    one_transcript(runs)
    _unique_names(runs)
    flags_present = any(_flags_known(r) for r in runs)
    flag_tags: set[tuple[str, str]] = set()
    for r in runs:
        for f in r.report.get("flags") or []:
            if isinstance(f, Mapping):
                flag_tags.add(("major" if f.get("severity") == "major" else "minor", str(f.get("tag"))))
    for r in runs:
        r.values = _run_values(r, flag_tags, flags_present)
    meta = _metric_meta(runs)

    present = {name for r in runs for name, v in r.values.items() if v is not None}
    # Runs report a per-tag flag count for every enabled detector, 0 when it did not fire: a tag
    # that is 0 in every row says nothing here and would only widen the table.
    quiet_tags = {
        n for n in present
        if n.count(".") == 2 and n.split(".")[0] == "flags" and all(not r.values.get(n) for r in runs)
    }
    metric_cols = sorted(
        (n for n in present - quiet_tags if _group_of(n) is not None), key=lambda n: (*_group_of(n), n)  # type: ignore[misc]
    )

    # ranking
    used = [m for m in rank_by if all(r.values.get(m) is not None for r in runs)]
    missing = [m for m in rank_by if m not in used]
    directions = {m: meta.get(m, (True, ""))[0] for m in used}
    per_metric = {
        m: competition_ranks([r.values[m] for r in runs], directions[m]) for m in used  # type: ignore[misc]
    }
    mean_rank = {
        id(r): (sum(per_metric[m][i] for m in used) / len(used)) if used else None for i, r in enumerate(runs)
    }

    def tie_values(r: Run) -> tuple[float, ...]:
        return tuple((-(r.values[m] or 0.0) if directions[m] else (r.values[m] or 0.0)) for m in used)

    if used:
        ordered = sorted(runs, key=lambda r: (mean_rank[id(r)], tie_values(r), r.name))
    else:
        ordered = sorted(runs, key=lambda r: r.name)

    columns = [Column("summary", "summary")]
    if used:
        columns += [Column("rank", "rank"), Column("mean_rank", "mean rank", False, "mean of per-metric ranks")]
    for name in metric_cols:
        hib, desc = meta.get(name, (True, ""))
        if name.startswith("flags.") and name.count(".") == 2:
            sev, tag = name.split(".", 2)[1:]
            header, desc = f"{sev}: {tag}", desc or f"Number of {sev} flags tagged {tag}."
            hib = False
        else:
            header = SHORT.get(name) or (name.split(".", 1)[1].replace("_", " ") if "." in name else name)
        columns.append(Column(name, header, hib, desc))

    rows: list[dict[str, Any]] = []
    prev_key = None
    rank = 0
    for pos, r in enumerate(ordered, start=1):
        row: dict[str, Any] = {"summary": r.name}
        if used:
            key = (mean_rank[id(r)], tie_values(r))
            if key != prev_key:
                rank = pos
            prev_key = key
            row["rank"] = rank
            row["mean_rank"] = round(mean_rank[id(r)], 4)  # type: ignore[arg-type]
        for c in columns:
            if c.higher_is_better is not None and c.key not in row:
                row[c.key] = r.values.get(c.key)
        rows.append(row)

    if _add_interval_columns(columns, rows, ordered):
        notes_ci = (
            "consistency 95% CI: seeded bootstrap interval of `consistency.score` over the run's claims "
            "(harness/bootstrap.py); CI rank: 1 + the number of rows whose interval lies wholly above, "
            "so rows whose intervals overlap share a rank."
        )
    else:
        notes_ci = None

    notes = []
    if used:
        rule = (
            "Rank: for each of " + ", ".join(f"`{m}` ({'higher' if directions[m] else 'lower'} is better)" for m in used)
            + ", rows are ranked 1 = best (ties share the best rank); rows are ordered by the mean of those ranks, "
            "ties broken by the same metrics' values in that order, then by summary name; rows equal on all of them share a rank."
        )
        if missing:
            rule += " Not used (no value in every run): " + ", ".join(f"`{m}`" for m in missing) + "."
    else:
        rule = (
            "Not ranked: none of the headline metrics (" + ", ".join(f"`{m}`" for m in rank_by) + ") has a value in every run."
        )
    notes.append(rule)
    if notes_ci:
        notes.append(notes_ci)
    if len({_config_without_summary(r.report) for r in ordered}) > 1:
        keys = _differing_config_keys([r.report for r in ordered])
        notes.append(
            "Warning: the runs used different settings apart from the summary (config keys that differ: "
            + (", ".join(f"`{k}`" for k in keys) or "unknown")
            + "); compare with care."
        )
    for label, getter in (
        ("harness versions", lambda r: (r.report.get("signature") or {}).get("harness_version")),
        ("models", lambda r: json.dumps((r.report.get("signature") or {}).get("models"), sort_keys=True)),
    ):
        if len({getter(r) for r in ordered}) > 1:
            notes.append(f"Warning: the runs used different {label} (see each run's signature).")
    if flags_present and not any(r.report.get("flags") for r in ordered):
        notes.append("No run has flags.")
    legend = [(c.key, "higher" if c.higher_is_better else "lower", c.description) for c in columns if c.higher_is_better is not None]
    return Leaderboard(columns=columns, rows=rows, notes=notes, legend=legend, runs=ordered)


CI_METRIC = "consistency.score"
"""The metric whose bootstrap interval (``ci_low``/``ci_high`` in report.json) gets its own
columns: the interval, and a rank in which rows with overlapping intervals tie."""


def _add_interval_columns(columns: list[Column], rows: list[dict[str, Any]], runs: Sequence[Run]) -> bool:
    """Append ``consistency.score 95% CI`` and ``CI rank`` columns when every run has the interval
    (runs written before intervals existed have none: then nothing is added)."""
    from harness.bootstrap import Interval, interval_ranks

    intervals = []
    for r in runs:
        m = (r.report.get("metrics") or {}).get(CI_METRIC)
        lo, hi = (_num(m.get("ci_low")), _num(m.get("ci_high"))) if isinstance(m, Mapping) else (None, None)
        intervals.append(None if lo is None or hi is None else Interval(lo, (lo + hi) / 2, hi, 0.95, 0, 0))
    present = [i for i in intervals if i is not None]
    if not present or len(present) != len(intervals):
        return False
    columns.append(Column(f"{CI_METRIC}.ci", "consistency 95% CI", None, ""))
    columns.append(Column(f"{CI_METRIC}.ci_rank", "CI rank", None, ""))
    for row, interval, rank in zip(rows, present, interval_ranks(present, True), strict=True):
        row[f"{CI_METRIC}.ci"] = f"{interval.low:.2f}–{interval.high:.2f}"
        row[f"{CI_METRIC}.ci_rank"] = rank
    return True


# ----------------------------------------------------------------------------------------------
# rendering
# ----------------------------------------------------------------------------------------------


def _best(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    best: dict[str, float] = {}
    if len(rows) < 2:
        return best
    for c in columns:
        if c.higher_is_better is None:
            continue
        vals = [r.get(c.key) for r in rows if isinstance(r.get(c.key), (int, float))]
        if len(vals) >= 2 and len(set(vals)) > 1:
            best[c.key] = max(vals) if c.higher_is_better else min(vals)
    return best


_ARROW = {True: " ↑", False: " ↓", None: ""}


def board_table(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> Table:
    """The row model as a ``harness.tables.Table``: the summary column left-aligned, the rest
    right-aligned with their direction arrow, the best value per column emphasised."""
    best = _best(columns, rows)
    table_columns = [
        TableColumn(
            c.key,
            c.header + _ARROW[c.higher_is_better],
            Align.LEFT if c.key == "summary" else Align.RIGHT,
            title=c.key,
        )
        for c in columns
    ]
    cells = [
        [Cell(r.get(c.key), strong=c.key in best and r.get(c.key) == best[c.key]) for c in columns] for r in rows
    ]
    return Table.of(table_columns, cells, wrapper_class="scroll")


def render_table(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], fmt: str) -> str:
    """Render the row model as ``md`` (Markdown table, best value per column in bold), ``csv``
    (column keys as header, full-precision values, empty for missing) or ``html`` (an escaped
    ``<table>``, best values in ``<strong>``), through ``harness.tables``."""
    return tables.render(board_table(columns, rows), fmt)


def _display_path(p: Path) -> str:
    try:
        rel = os.path.relpath(p.resolve(), Path.cwd().resolve())
    except ValueError:
        return str(p)
    return str(p) if rel.startswith("..") else rel


def render_markdown(board: Leaderboard, figure: str | None = None) -> str:
    lines = ["# Leaderboard", "", render_table(board.columns, board.rows, "md").rstrip("\n"), ""]
    lines += [f"- {n}" for n in board.notes]
    lines += ["", "Best value per column in bold; ↑ higher is better, ↓ lower is better.", "", "## Columns", ""]
    lines += [f"- `{k}` ({d} is better): {markdown_cell(desc)}" for k, d, desc in board.legend]
    lines += ["", "## Runs", ""]
    for r in board.runs:
        sig = (r.report.get("signature") or {}).get("string", "")
        lines.append(f"- {markdown_cell(r.name)}: `{_display_path(r.run_dir)}` (`{sig}`)")
    if figure:
        lines += ["", "## Timeline", "", f"![claims of each summary along the episode, coloured by verdict]({figure})"]
    return "\n".join(lines) + "\n"




def render_html_page(board: Leaderboard, figure_png: bytes | None = None) -> str:
    """The leaderboard as one self-contained HTML page (template ``leaderboard.html.j2``)."""
    import base64

    from harness.templates import code_spans, environment, static_text

    runs = [
        (r.name, _display_path(r.run_dir), str((r.report.get("signature") or {}).get("string", ""))) for r in board.runs
    ]
    return environment().get_template("leaderboard.html.j2").render(
        csp=Markup("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
        css=Markup(static_text("leaderboard.css")),
        table=tables.to_html(board_table(board.columns, board.rows)),
        notes=[code_spans(n) for n in board.notes],
        legend=board.legend,
        runs=runs,
        figure=base64.b64encode(figure_png).decode("ascii") if figure_png else "",
    )


# ----------------------------------------------------------------------------------------------
# timeline figure
# ----------------------------------------------------------------------------------------------

VERDICT_COLOURS = {
    "supported": "#1a7f37",
    "partially_supported": "#d4a72c",
    "unsupported": "#8c959f",
    "contradicted": "#cf222e",
}


def claim_marks(units: Iterable[Mapping[str, Any]] | None) -> list[tuple[float, str]]:
    """(time in seconds of the best evidence, verdict) for every claim that has both."""
    marks = []
    for u in units or ():
        for c in u.get("claims") or []:
            if not isinstance(c, Mapping) or c.get("verdict") not in VERDICT_COLOURS:
                continue
            ev = (c.get("evidence") or [None])[0]
            t = _num(ev.get("start_s")) if isinstance(ev, Mapping) else None
            if t is not None:
                marks.append((t, str(c["verdict"])))
    return marks


def timeline_png(board: Leaderboard) -> bytes | None:
    """A figure with one row per summary: claim marks at evidence times coloured by verdict,
    chapter boundaries and sponsor reads of the (first run's) transcript. ``None`` when no run
    has verdicts with evidence times."""
    marks = {r.name: claim_marks(r.units) for r in board.runs}
    if not any(marks.values()):
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = board.runs
    t0 = runs[0].report.get("transcript") or {}
    fig_h = max(2.4, 1.2 + 0.55 * len(runs))
    fig, ax = plt.subplots(figsize=(12, fig_h), dpi=100)
    end = max([t for m in marks.values() for t, _ in m] + [_num(t0.get("duration_s")) or 0.0]) / 60.0
    for ch in t0.get("chapters") or []:
        s = _num(ch.get("start_s"))
        if s is not None:
            ax.axvline(s / 60.0, color="#d0d7de", lw=0.8, zorder=0)
    for sp in t0.get("sponsor_segments") or []:
        s, e = _num(sp.get("start_s")), _num(sp.get("end_s"))
        if s is not None and e is not None:
            ax.axvspan(s / 60.0, max(e, s + 5) / 60.0, color="#8250df", alpha=0.15, lw=0, zorder=0)
    for i, r in enumerate(runs):
        y = len(runs) - 1 - i
        for verdict in ("unsupported", "partially_supported", "supported", "contradicted"):  # worst on top
            colour = VERDICT_COLOURS[verdict]
            xs = [t / 60.0 for t, v in marks[r.name] if v == verdict]
            if xs:
                ax.scatter(xs, [y] * len(xs), marker="|", s=260, color=colour, linewidths=2)
    handles = [plt.Line2D([], [], color=c, marker="|", ls="", markersize=12, mew=2, label=v.replace("_", " ")) for v, c in VERDICT_COLOURS.items()]
    handles.append(plt.Rectangle((0, 0), 1, 1, color="#8250df", alpha=0.15, label="sponsor read"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    ax.set_yticks(range(len(runs)))
    ax.set_yticklabels([r.name for r in reversed(runs)])
    ax.set_ylim(-0.6, len(runs) - 0.4)
    ax.set_xlim(0, max(end, 1.0) * 1.01)
    ax.set_xlabel("episode time (minutes); grey lines: chapter starts")
    ax.set_title("Where each summary's claims find their best evidence", fontsize=11)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------


def write_leaderboard(board: Leaderboard, out_dir: str | Path, *, figure: bool = True) -> list[Path]:
    """Write leaderboard.md, .csv, .html (and leaderboard_timeline.png) atomically."""
    out = Path(out_dir)
    png = timeline_png(board) if figure else None
    written = []
    if png is not None:
        atomic_write_bytes(out / "leaderboard_timeline.png", png)
        written.append(out / "leaderboard_timeline.png")
    else:
        (out / "leaderboard_timeline.png").unlink(missing_ok=True)  # a stale figure would mislead
    atomic_write_text(out / "leaderboard.md", render_markdown(board, "leaderboard_timeline.png" if png else None))
    atomic_write_text(out / "leaderboard.csv", render_table(board.columns, board.rows, "csv"))
    atomic_write_text(out / "leaderboard.html", render_html_page(board, png))
    written += [out / "leaderboard.md", out / "leaderboard.csv", out / "leaderboard.html"]
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m harness leaderboard [RUN_DIR ...] [--out DIR]``; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m harness leaderboard",
        description="One row per summary from run directories' report.json. Without RUN_DIR: the latest "
        "run of each summary under RESULTS/runs/<summary>/<time>/ and RESULTS/multirun/<time>/<summary>/.",
    )
    parser.add_argument("run_dirs", nargs="*", metavar="RUN_DIR", help="run dir (holds report.json) or multirun dir (its subdirs do)")
    parser.add_argument(
        "--out",
        default=None,
        help="output directory (default: a new RESULTS/leaderboards/<time>/; the committed board is "
        "--out results/leaderboard)",
    )
    parser.add_argument("--transcript", metavar="SHA256_PREFIX", help="only runs on the transcript whose sha256 starts so")
    parser.add_argument("--results", default="results", help="where to look for runs when no RUN_DIR is given (default: results)")
    parser.add_argument(
        "--rank-by",
        default=",".join(HEADLINE_METRICS),
        help=f"comma-separated headline metrics the rank uses (default: {','.join(HEADLINE_METRICS)})",
    )
    parser.add_argument("--no-figure", action="store_true", help="do not draw leaderboard_timeline.png")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        dirs = expand_run_dirs(args.run_dirs) if args.run_dirs else latest_runs(args.results)
        if not dirs:
            raise LeaderboardError(f"{args.results}: no runs found (looked in runs/<summary>/<time>/ and multirun/<time>/<summary>/)")
        runs = [load_run(d) for d in dirs]
        if args.transcript:
            runs = [r for r in runs if str(transcript_sha(r.report) or "").startswith(args.transcript.lower())]
            if not runs:
                raise LeaderboardError(f"no run scores a transcript whose sha256 starts with {args.transcript}")
        board = build_leaderboard(runs, [m.strip() for m in args.rank_by.split(",") if m.strip()])
        out = args.out or Path(args.results) / "leaderboards" / time.strftime("%Y-%m-%d_%H-%M-%S")
        written = write_leaderboard(board, out, figure=not args.no_figure)
    except LeaderboardError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"harness: error: {getattr(exc, 'filename', None) or args.out or args.results}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render_table(board.columns, board.rows, "md"))
    for note in board.notes:
        print(f"- {note}")
    for p in written:
        print(f"wrote {p}")
    return 0
