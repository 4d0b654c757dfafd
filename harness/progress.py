"""Progress bars (tqdm) for the long stages, on stderr, only for a person watching a terminal.

Shown when ``report.progress`` is true (the default) and stderr is a terminal; never in logs,
CI output or a pipe. A bar changes nothing in what a stage computes.
"""

from __future__ import annotations

import sys
from typing import IO, Any, Mapping


def progress_enabled(cfg: Mapping[str, Any], stream: IO[str] | None = None) -> bool:
    """Whether to draw bars for a run with config ``cfg`` writing to ``stream`` (stderr)."""
    stream = sys.stderr if stream is None else stream
    if not bool((cfg.get("report") or {}).get("progress", True)):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def bar(
    total: int, desc: str, unit: str, enabled: bool, stream: IO[str] | None = None, *, initial: int = 0, leave: bool = False
) -> Any:
    """A ``tqdm`` bar on ``stream`` (stderr), a no-op one when not ``enabled``; use as a context.
    ``initial`` counts work already done (a resumed corpus); ``leave`` keeps the finished bar."""
    from tqdm import tqdm

    return tqdm(
        total=total, initial=initial, desc=desc, unit=unit, disable=not enabled, leave=leave,
        file=sys.stderr if stream is None else stream, dynamic_ncols=True,
    )
