"""Report stage: turn a ``RunResult`` into the files of a run directory.

- ``units.jsonl``: one JSON object per summary unit,
- ``report.json``: schema-versioned machine-readable results (signature, config, timings, metrics),
- ``report.md``: the same as a page to read (units, claims, evidence, flags, coverage, metrics),
- ``report.html``: the same as a self-contained page to click through,
- ``timeline.png`` / ``timeline.svg``: where in the episode the claims come from.

All files are written atomically (temp file + rename).
"""

from harness.report.records import REPORT_SCHEMA_VERSION, report_dict, unit_records
from harness.report.writer import write_run

__all__ = ["REPORT_SCHEMA_VERSION", "report_dict", "unit_records", "write_run"]
