"""Reading a run directory back: ``report.json`` and ``units.jsonl``, as the run writes them.

One loader for every command that reads runs: ``check`` (the regression gate), ``leaderboard``
and the Python API's ``load_run``. Each turns a ``RunRecord`` into its own view; none reads the
files itself. A missing or corrupt file is an ``InputFileError`` that names the file and the
problem in one line (the CLI prints ``harness: error: <file>: <problem>`` and exits 2).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputFileError
from harness.textio import read_jsonl_objects

REPORT_FILE = "report.json"
UNITS_FILE = "units.jsonl"


@dataclass(frozen=True)
class RunRecord:
    """A run directory's files, parsed.

    Attributes:
        run_dir: the run directory.
        report_path: its ``report.json``.
        report: ``report.json`` as a dict (signature, config, metrics, flags…).
        units: ``units.jsonl``, one dict per summary unit; ``None`` when the run has no
            ``units.jsonl`` and the caller allowed that.
    """

    run_dir: Path
    report_path: Path
    report: dict[str, Any]
    units: tuple[dict[str, Any], ...] | None

    @property
    def units_path(self) -> Path:
        """Where the run's ``units.jsonl`` is (or would be)."""
        return self.run_dir / UNITS_FILE


def read_run(
    path: str | os.PathLike[str],
    *,
    require_units: bool = False,
    require_metrics: bool = True,
) -> RunRecord:
    """Read a run directory (or its ``report.json`` given directly).

    Args:
        path: the run directory, or the path of its ``report.json``.
        require_units: a missing ``units.jsonl`` is an error (else ``units`` is ``None``).
        require_metrics: the report must hold a ``metrics`` object (else it may lack one, but
            a ``metrics`` that is not an object is still an error).

    Raises:
        InputFileError: the path does not exist; ``report.json`` is missing, a directory, not
            UTF-8 or not a JSON object with metrics; ``units.jsonl`` is missing (when required)
            or has a line that is not a JSON object. The message names the file.
    """
    given = Path(path)
    if not given.exists():
        raise InputFileError(given, "no such run directory")
    report_path = given / REPORT_FILE if given.is_dir() else given
    run_dir = report_path.parent
    report = read_report(report_path)
    metrics = report.get("metrics")
    if not isinstance(metrics, dict) and (require_metrics or "metrics" in report):
        raise InputFileError(report_path, "not a harness report (no metrics object)")
    units_path = run_dir / UNITS_FILE
    units: tuple[dict[str, Any], ...] | None = None
    if units_path.is_file():
        units = tuple(obj for _, obj in read_jsonl_objects(units_path))
    elif require_units:
        raise InputFileError(units_path, "file not found (not a harness run directory?)")
    return RunRecord(run_dir=run_dir, report_path=report_path, report=report, units=units)


def read_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A run's ``report.json`` alone, as a dict (for listing runs without reading their units).

    Raises:
        InputFileError: missing, a directory, unreadable, not UTF-8, not JSON or not an object.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "file not found")
    if path.is_dir():
        raise InputFileError(path, f"is a directory, expected {REPORT_FILE}")
    try:
        report = json.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise InputFileError(path, f"not valid UTF-8 (offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(path, f"not valid JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(report, dict):
        raise InputFileError(path, "not a harness report (no metrics object)")
    return report
