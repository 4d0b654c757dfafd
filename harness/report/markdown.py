"""``report.md``: the run in a page a person reads first."""

from __future__ import annotations

from typing import Any

from harness.transcript import format_clock


def _md_escape(text: str) -> str:
    # Summaries are untrusted: neutralise table pipes and HTML so the page renders as text.
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


_CHAPTER_SOURCE = {
    "headings": " from its headings",
    "file": " from the chapter list",
    "auto": " found by topic segmentation",
    "none": "",
}


def render_markdown(report: dict[str, Any]) -> str:
    """Render the aggregate report (``report_dict`` output) as Markdown."""
    t, s = report["transcript"], report["summary"]
    lines = [
        f"# Summary evaluation: {_md_escape(s['title'] or s['path'])}",
        "",
        f"- Summary: `{s['path']}` (format `{s['format']}`, sha256 `{s['sha256'][:12]}…`)",
        f"- Transcript: `{t['path']}` (format `{t['format']}`, {len(t['chapters'])} chapters"
        f"{_CHAPTER_SOURCE.get(t.get('chapter_source') or 'none', '')}, "
        f"{t['turns']} turns, "
        f"{format_clock(t['duration_s']) or 'unknown length'}"
        f"{'' if t.get('timestamps', True) else '; timestamps unavailable'})",
        f"- Signature: `{report['signature']['string']}`",
        "",
    ]
    if report.get("not_available"):
        lines += ["## Checks not available", ""]
        lines += [f"- **{_md_escape(n['check'])}**: {_md_escape(n['reason'])}" for n in report["not_available"]]
        lines += [""]
    lines += [
        "## Metrics",
        "",
        "| metric | value | better | what it measures |",
        "|---|---|---|---|",
    ]
    for name, m in report["metrics"].items():
        value = "n/a" if m["value"] is None else f"{m['value']:.4g}"
        better = "higher" if m["higher_is_better"] else "lower"
        note = f" ({_md_escape(m['note'])})" if m.get("note") else ""
        lines.append(f"| {name} | {value} | {better} | {_md_escape(m['description'])}{note} |")
    lines += ["", "## Summary units", "", "| kind | units |", "|---|---|"]
    lines += [f"| {k} | {n} |" for k, n in s["units_by_kind"].items()]
    lines += [
        "",
        f"{s['boilerplate_units']} of {s['units']} units are site boilerplate, not summary content.",
        "",
        "## Sponsor segments in the transcript",
        "",
    ]
    if t["sponsor_segments"]:
        lines += ["| # | from | to | words | rules |", "|---|---|---|---|---|"]
        for sp in t["sponsor_segments"]:
            approx = "≈" if sp["time_estimated"] else ""
            lines.append(
                f"| {sp['index']} | {approx}{sp['start']} | {approx}{sp['end']} | {sp['words']} | {', '.join(sp['rules'])} |"
            )
    else:
        lines.append("None found.")
    if t["warnings"]:
        lines += ["", "## Transcript warnings", ""] + [f"- {_md_escape(w)}" for w in t["warnings"]]
    lines += ["", "## Stage timings", ""]
    lines += [f"- {k}: {v:.3f} s" for k, v in report["timings_s"].items()]
    return "\n".join(lines) + "\n"
