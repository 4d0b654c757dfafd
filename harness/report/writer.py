"""Write a run directory so that its files change together or not at all.

Every file of a run is first written into a hidden staging folder inside the run directory
(``.run-XXXX.partial``); only when all of them are complete are they renamed into place, with
Ctrl-C held back for those few renames. An interrupt (or an error) before that leaves the
previous run's files exactly as they were and removes the staging folder, so a run directory
never holds new ``units.jsonl`` next to an old ``report.json``.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.records import report_dict, unit_records
from harness.schema import ReportConfig, stage_config
from harness.textio import atomic_write_json, atomic_write_jsonl, atomic_write_text
from harness.types import RunResult

log = logging.getLogger(__name__)

# The files that make up one run, in commit order: ``report.json`` last, so a reader that sees
# a new ``report.json`` knows the rest is in place.
RUN_FILES = ("units.jsonl", "timeline.png", "timeline.svg", "report.md", "report.html", "report.json")
STAGING_SUFFIX = ".partial"


def write_run(
    result: RunResult, out_dir: str | Path, config: Mapping[str, Any], *, markdown: bool | None = None
) -> dict[str, Any]:
    """Write ``units.jsonl``, ``report.json`` (and ``report.md``, ``report.html``, the timeline)
    into ``out_dir``, all together (see the module docstring).

    Which files: the config's ``report`` node (``report.write_markdown``, ``report.write_html``;
    a key it lacks comes from ``configs/report/default.yaml``), read once here for every caller
    (``run``, corpus rows, ``RunResult.save``); ``markdown`` overrides ``report.write_markdown``
    when given. ``report.html`` embeds the timeline drawn for this run (``stages.timeline``). A
    file of a previous run in ``out_dir`` that this run does not write (a timeline, when this run
    draws none) is removed with the commit. Returns the report dict.

    Raises:
        ConfigError: a ``report`` key that is not in the schema, or not a boolean.
    """
    settings = stage_config(config, "report", ReportConfig)
    write_markdown = settings.write_markdown if markdown is None else bool(markdown)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = report_dict(result, config)
    units = unit_records(result)
    staging = Path(tempfile.mkdtemp(prefix=".run-", suffix=STAGING_SUFFIX, dir=out))
    try:
        atomic_write_jsonl(staging / "units.jsonl", units)
        if (config.get("stages") or {}).get("timeline", True) and (result.unit_verdicts or result.coverage is not None):
            from harness.report.timeline import plot_timeline

            plot_timeline(result.transcript, result.summary, result.unit_verdicts, result.coverage, staging)
        if write_markdown:
            atomic_write_text(staging / "report.md", render_markdown(report, units))
        if settings.write_html:
            atomic_write_text(staging / "report.html", render_html(report, units, staging))
        atomic_write_json(staging / "report.json", report)
        commit_run_files(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("wrote run to %s", out)
    return report


def commit_run_files(staging: Path, out: Path) -> None:
    """Move the run files from ``staging`` into ``out`` (``report.json`` last) and remove the
    previous run's files that ``staging`` does not replace, with Ctrl-C held back meanwhile."""
    with _sigint_held():
        for name in RUN_FILES:
            if name == "report.json":
                continue
            if (staging / name).exists():
                os.replace(staging / name, out / name)
            else:
                (out / name).unlink(missing_ok=True)
        os.replace(staging / "report.json", out / "report.json")


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold a Ctrl-C back until the block is done (main thread only; elsewhere Python delivers
    no signals anyway). The run is then complete, so the interrupt is logged, not raised."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pressed:
            log.warning("Ctrl-C arrived while the run's files were being moved into place; the run is complete")
