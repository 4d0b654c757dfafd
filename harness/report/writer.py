"""Write a run directory atomically."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.records import report_dict, unit_records
from harness.textio import atomic_write_json, atomic_write_jsonl, atomic_write_text
from harness.types import RunResult

log = logging.getLogger(__name__)


def write_run(result: RunResult, out_dir: str | Path, config: dict[str, Any], *, markdown: bool = True) -> dict[str, Any]:
    """Write ``units.jsonl``, ``report.json`` (and ``report.md``, ``report.html``) into ``out_dir``.

    Every file is written to a temporary file and renamed, ``report.json`` last, so a reader
    that sees a new ``report.json`` also sees the matching units. ``report.html`` is written
    unless the config sets ``report.write_html: false``; it embeds a ``timeline.svg`` /
    ``timeline.png`` already in ``out_dir``. Returns the report dict.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = report_dict(result, config)
    units = unit_records(result)
    atomic_write_jsonl(out / "units.jsonl", units)
    if (config.get("stages") or {}).get("timeline", True) and (result.unit_verdicts or result.coverage is not None):
        from harness.report.timeline import plot_timeline

        plot_timeline(result.transcript, result.summary, result.unit_verdicts, result.coverage, out)
    if markdown:
        atomic_write_text(out / "report.md", render_markdown(report, units))
    if (config.get("report") or {}).get("write_html", True):
        atomic_write_text(out / "report.html", render_html(report, units, out))
    atomic_write_json(out / "report.json", report)
    log.info("wrote run to %s", out)
    return report
