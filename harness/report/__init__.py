"""Report stage: turn a ``RunResult`` into the files of a run directory.

- ``units.jsonl``: one JSON object per summary unit,
- ``report.json``: schema-versioned machine-readable results (signature, config, timings, metrics),
- ``report.md``: a short readable summary.

All files are written atomically (temp file + rename).
"""

from harness.report.records import REPORT_SCHEMA_VERSION, report_dict, unit_records
from harness.report.writer import write_run

__all__ = ["REPORT_SCHEMA_VERSION", "report_dict", "unit_records", "write_run"]
