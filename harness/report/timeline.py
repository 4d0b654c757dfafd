"""The timeline figure: where in the episode a summary's statements come from, and what it covers.

One picture, readable without a legend: the episode's minutes run left to right (for a
transcript without timestamps, its words: the axis is then the position in the transcript, in
words, and no time is shown); chapters are
alternating bands titled along the top; sponsor reads are hatched and labelled "sponsor"; every
summary claim is a dot at the time of its best evidence, on its unit's row (rows in document
order, grouped and labelled by unit kind on the left), coloured by verdict, with the colour key
written as coloured words over the plot; a strip at the bottom shows each chapter's coverage
score as a bar, coloured and labelled by its label. Without verdicts each unit is drawn as a
hollow dot at its most similar transcript moment (from the coverage stage) and the figure says so.

Drawn with matplotlib's object API on the Agg canvas (no pyplot state), written as PNG and SVG
through ``harness.textio.atomic_write_bytes``.
"""

from __future__ import annotations

import bisect
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from harness.textio import atomic_write_bytes
from harness.text import format_clock
from harness.types import Chapter, Summary, Transcript, UnitVerdict

log = logging.getLogger(__name__)

VERDICT_STYLE = {
    "supported": ("#2e9d4a", "supported"),
    "partially_supported": ("#e69f00", "partly supported"),
    "unsupported": ("#8c8c8c", "unsupported"),
    "contradicted": ("#d62728", "contradicted"),
}
LABEL_COLOURS = {"full": "#2e9d4a", "partial": "#e69f00", "none": "#d62728", "excluded": "#bdbdbd"}
LOCATED_COLOUR = "#1f77b4"
_TITLE_CHARS = 26


@dataclass(frozen=True)
class _Axis:
    """The x axis: episode minutes when the transcript is timed, else word position."""

    timed: bool
    word_starts: tuple[int, ...] = ()  # character offset of every word (untimed only)

    @classmethod
    def of(cls, transcript: Transcript) -> "_Axis":
        if transcript.blocks:
            return cls(True)
        return cls(False, tuple(m.start() for m in re.finditer(r"\S+", transcript.text)))

    def at(self, seconds: float | None, char: int | None) -> float | None:
        """x of a moment given by its time (timed) or its character offset (untimed)."""
        if self.timed:
            return None if seconds is None else seconds / 60.0
        return None if char is None else float(bisect.bisect_right(self.word_starts, char))

    def span(self, start_s: float | None, end_s: float | None, char_start: int, char_end: int, end_default: float) -> tuple[float, float] | None:
        """(a, b) of a chapter or read; ``None`` when a timed one has no start time."""
        if self.timed:
            if start_s is None:
                return None
            return start_s / 60.0, (end_s if end_s is not None else end_default * 60.0) / 60.0
        return float(bisect.bisect_right(self.word_starts, char_start)), float(bisect.bisect_left(self.word_starts, char_end))

    def label(self) -> str:
        return "episode time (h:mm:ss / m:ss)" if self.timed else "position in transcript (words); the transcript has no timestamps"


def _short(title: str, n: int = _TITLE_CHARS) -> str:
    title = " ".join(title.split())
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def plot_timeline(
    transcript: Transcript,
    summary: Summary,
    unit_verdicts: Sequence[UnitVerdict],
    coverage_result: Any | None,
    out_dir: str | Path,
    stem: str = "timeline",
    *,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 110,
) -> list[Path]:
    """Draw the timeline and write ``<stem>.png`` and ``<stem>.svg`` into ``out_dir`` atomically.

    Args:
        transcript: the parsed transcript (chapters, sponsor segments, duration).
        summary: the parsed summary (unit rows and kinds).
        unit_verdicts: alignment verdicts; empty draws similarity locations instead.
        coverage_result: a ``harness.coverage.CoverageResult`` (chapters scored, unit
            locations), or ``None`` to leave out the coverage strip.
        out_dir: directory to write into (created if missing).
        stem: file name without extension.
        formats: which of ``png`` and ``svg`` to write.
        dpi: PNG resolution.

    Returns:
        The paths written, in ``formats`` order.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    chapters: tuple[Chapter, ...] = tuple(getattr(coverage_result, "chapter_defs", ()) or transcript.chapters)
    units = list(summary.content_units)
    row_of = {u.unit_id: i for i, u in enumerate(units)}
    xpos = _Axis.of(transcript)
    duration = _duration(transcript, chapters)
    x_max = max(duration / 60.0, 1.0) if xpos.timed else float(max(len(xpos.word_starts), 1))

    # ---- marks -----------------------------------------------------------------------------
    marks: list[tuple[float, int, str]] = []  # (x, row, verdict)
    no_time = 0
    counts = {k: 0 for k in VERDICT_STYLE}
    for uv in unit_verdicts:
        row = row_of.get(uv.unit_id)
        for v in uv.claims:
            counts[v.label] = counts.get(v.label, 0) + 1
            x = xpos.at(v.evidence[0].start_s, v.evidence[0].char_start) if v.evidence else None
            if row is None or x is None:
                no_time += 1
                continue
            marks.append((x, row, v.label))
    located: list[tuple[float, int, float]] = []
    if not unit_verdicts and coverage_result is not None:
        for loc in getattr(coverage_result, "unit_locations", ()):
            x = xpos.at(loc.time_s, getattr(loc, "char_start", None))
            if x is not None and loc.unit_id in row_of:
                located.append((x, row_of[loc.unit_id], loc.cosine))

    # ---- layout ----------------------------------------------------------------------------
    n_rows = max(len(units), 1)
    main_h = min(max(2.6, 0.11 * n_rows), 9.0)
    # inches, top to bottom: header + key (0.75), chapter titles (1.5), main plot, gap, coverage
    # strip (0.9), time axis (0.6)
    head_h, title_h, gap_h, strip_h, axis_h = 0.75, 1.5, 0.15, 0.9, 0.6
    fig_h = head_h + title_h + main_h + gap_h + strip_h + axis_h
    fig = Figure(figsize=(14, fig_h), dpi=dpi)
    FigureCanvasAgg(fig)  # a renderer to measure text with; savefig picks the canvas per format
    left, right = 0.13, 0.985
    bottom_strip = axis_h / fig_h
    strip_frac = strip_h / fig_h
    main_bottom = (axis_h + strip_h + gap_h) / fig_h
    main_frac = main_h / fig_h
    ax = fig.add_axes((left, main_bottom, right - left, main_frac))
    axc = fig.add_axes((left, bottom_strip, right - left, strip_frac), sharex=ax)

    # chapter bands and titles
    min_width = x_max * 0.001
    chapter_span: dict[int, tuple[float, float]] = {}
    for ch in chapters:
        span = xpos.span(ch.start_s, ch.end_s, ch.char_start, ch.char_end, duration / 60.0)
        if span is None:
            continue
        a, b = span
        chapter_span[ch.index] = span
        colour = "#f0f0f0" if ch.index % 2 == 0 else "#ffffff"
        ax.axvspan(a, max(b, a + min_width), color=colour, zorder=0, lw=0)
        axc.axvspan(a, max(b, a + min_width), color=colour, zorder=0, lw=0)
        ax.text(
            (a + b) / 2,
            1.01,
            _short(ch.title),
            transform=ax.get_xaxis_transform(),
            rotation=55,
            ha="left",
            va="bottom",
            fontsize=7.5,
            color="#333333",
            rotation_mode="anchor",
        )
        ax.axvline(a, color="#d0d0d0", lw=0.6, zorder=1)

    # sponsor reads: hatched, labelled
    for sp in transcript.sponsor_segments:
        span = xpos.span(sp.start_s, sp.end_s if sp.end_s is not None else sp.start_s, sp.char_start, sp.char_end, 0.0)
        if span is None:
            continue
        width = x_max * 0.006  # a read whose times collapse to a point still shows
        a = min(span[0], x_max - width)
        b = min(max(span[1], a + width), x_max)
        for axis in (ax, axc):
            axis.axvspan(a, b, facecolor="none", edgecolor="#b07aa1", hatch="////", lw=0, zorder=1)
        ax.text(
            min((a + b) / 2, x_max * 0.995),
            0.5,
            "sponsor",
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="center",
            va="center",
            fontsize=8,
            color="#7b4173",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
            zorder=5,
        )

    # unit-kind groups on the left
    groups: list[tuple[str, int, int]] = []
    for i, u in enumerate(units):
        if groups and groups[-1][0] == u.kind and groups[-1][2] == i - 1:
            groups[-1] = (u.kind, groups[-1][1], i)
        else:
            groups.append((u.kind, i, i))
    for kind, lo, hi in groups:
        ax.axhline(lo - 0.5, color="#c8c8c8", lw=0.5, zorder=1)
        ax.text(
            -0.005,
            (lo + hi) / 2,
            f"{kind.replace('_', ' ')} ({hi - lo + 1})",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=7.5,
            color="#333333",
        )

    # marks
    for verdict, (colour, _name) in VERDICT_STYLE.items():
        xs = [m[0] for m in marks if m[2] == verdict]
        ys = [m[1] for m in marks if m[2] == verdict]
        if xs:
            ax.scatter(xs, ys, s=22, color=colour, edgecolor="white", linewidth=0.4, zorder=4)
    if located:
        ax.scatter(
            [m[0] for m in located],
            [m[1] for m in located],
            s=22,
            facecolor="none",
            edgecolor=LOCATED_COLOUR,
            linewidth=1.0,
            zorder=4,
        )

    ax.set_xlim(0, x_max)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelbottom=False, length=0)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)

    # direct colour key, above the plot on the left
    fig_key_y = 1.0 - 0.4 / fig_h
    header = f"{summary.format} summary: {summary.title or Path(summary.path).name}"
    if coverage_result is not None:
        try:
            header += f"  ·  chapter coverage {coverage_result.metric('chapter_weighted'):.0%}"
        except (AttributeError, KeyError, TypeError, ValueError):
            pass
    fig.text(left - 0.11, fig_key_y, header, fontsize=9.5, fontweight="bold", va="bottom", ha="left")
    if unit_verdicts:
        parts = [("claims:", "#333333")]
        parts += [(f"● {name} {counts.get(v, 0)}", colour) for v, (colour, name) in VERDICT_STYLE.items()]
        if no_time:
            parts.append((f"({no_time} claims without evidence not drawn)", "#555555"))
        explain = "each dot is a claim at its best evidence, on its unit's row"
    else:
        parts = [("○ unit at its most similar transcript moment (alignment did not run, no verdicts)", LOCATED_COLOUR)]
        explain = "one hollow dot per summary unit, on its row"
    _text_row(fig, left - 0.11, fig_key_y - 0.27 / fig_h, parts + [(explain, "#555555")])

    # coverage strip
    cov_chapters = list(getattr(coverage_result, "chapters", ()) or ())
    if cov_chapters:
        for c in cov_chapters:
            if c.index not in chapter_span:
                continue
            a, b = chapter_span[c.index]
            width = max(b - a, min_width)
            if c.label == "excluded" or c.score is None:
                axc.bar(a, 1.0, width=width, align="edge", color="none", edgecolor="#9e9e9e", hatch="..", lw=0.5, zorder=2)
                text = "excl."
            else:
                height = max(float(c.score), 0.03)
                axc.bar(a, height, width=width * 0.96, align="edge", color=LABEL_COLOURS.get(c.label, "#777777"), zorder=2)
                text = f"{c.label}\n{c.score:.0%}" if c.label != "none" else "none"
            if width >= x_max * 0.028:
                axc.text(a + width / 2, 1.04, text, ha="center", va="bottom", fontsize=6.5, color="#333333", linespacing=0.9)
        axc.set_ylim(0, 1.55)
        axc.set_yticks([])
        axc.text(
            -0.005, 0.45, "chapter coverage", transform=axc.get_yaxis_transform(), ha="right", va="center", fontsize=8, color="#333333"
        )
    else:
        axc.set_yticks([])
        axc.text(0.5, 0.5, "coverage not computed", transform=axc.transAxes, ha="center", va="center", fontsize=8, color="#777777")
    for spine in ("top", "right", "left"):
        axc.spines[spine].set_visible(False)
    if xpos.timed:
        ticks = _minute_ticks(x_max)
        axc.set_xticks(ticks)
        axc.set_xticklabels([format_clock(t * 60) or "" for t in ticks], fontsize=8)
    else:
        axc.tick_params(axis="x", labelsize=8)
    axc.set_xlabel(xpos.label(), fontsize=8.5)

    out = Path(out_dir)
    written: list[Path] = []
    for fmt in formats:
        if fmt not in ("png", "svg"):
            raise ValueError(f"timeline format must be png or svg, not {fmt!r}")
        buffer = io.BytesIO()
        # A fixed salt makes the SVG's element ids (clip paths, glyphs) a hash of the content
        # instead of random, so the same inputs give the same bytes here too.
        with matplotlib.rc_context({"svg.hashsalt": "harness-timeline"}):
            fig.savefig(buffer, format=fmt, dpi=dpi if fmt == "png" else None, metadata=_metadata(fmt))
        path = out / f"{stem}.{fmt}"
        atomic_write_bytes(path, buffer.getvalue())
        written.append(path)
    log.info("wrote timeline %s", ", ".join(str(p) for p in written))
    return written


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation dates: the same inputs give the same bytes.
    if fmt == "svg":
        return {"Date": None}
    return {"Software": None}


def _text_row(fig: Any, x: float, y: float, parts: Sequence[tuple[str, str]]) -> None:
    """Coloured words in a row, each placed after the previous one's rendered width."""
    renderer = fig.canvas.get_renderer()
    for text, colour in parts:
        artist = fig.text(x, y, text, fontsize=8.5, color=colour, va="bottom", ha="left")
        bbox = artist.get_window_extent(renderer=renderer)
        x += bbox.width / fig.bbox.width + 0.012


def _duration(transcript: Transcript, chapters: Sequence[Chapter]) -> float:
    candidates = [transcript.duration_s or 0.0]
    candidates += [c.end_s for c in chapters if c.end_s is not None]
    candidates += [s.end_s for s in transcript.segments if s.end_s is not None]
    return float(max(candidates)) if candidates else 0.0


def _minute_ticks(x_max: float) -> list[float]:
    for step in (1, 2, 5, 10, 15, 20, 30, 60):
        if x_max / step <= 12:
            break
    n = int(x_max // step) + 1
    return [float(i * step) for i in range(n)]
