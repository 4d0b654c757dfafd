"""``python -m harness check``: the regression gate for a summarizer in CI.

Compares a run's ``report.json`` with a committed baseline file:

- every baseline metric with per-metric tolerances (``configs/check/default.yaml``: a default,
  overridden by exact metric name or by glob), direction from ``higher_is_better``;
- major flags, by identity ``(tag, unit text, claim index)`` (unit id when a side has no text), so
  renumbered units do not count as new flags.

A flag count (``flags.<severity>[.<tag>]``) missing from the run reads 0 (older runs listed a
tag only when it fired), so a fixed flag is an improvement, never a missing metric.

Exit codes: 0 nothing got worse beyond tolerance and no new major flag; 1 a regression (the
diff table says which); 2 a missing or unreadable file (one line). A different summary,
transcript or config than the baseline's is a warning line; the comparison still runs.

``--write-baseline FILE --run DIR`` creates or updates a baseline from a run.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.errors import InputFileError
from harness.runs import read_run
from harness.textio import atomic_write_json

BASELINE_SCHEMA_VERSION = 1
DEFAULT_TOLERANCES = Path(__file__).resolve().parent.parent / "configs" / "check" / "default.yaml"
EPS = 1e-9


class CheckError(Exception):
    """A file the check needs is missing or unreadable (printed as one line, exit 2)."""


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> Any:
    if not path.exists():
        raise CheckError(f"{path}: file not found")
    if path.is_dir():
        raise CheckError(f"{path}: is a directory, expected {what}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckError(f"{path}: not valid JSON ({str(exc).splitlines()[0]})") from None


def load_run(run_dir: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
    """A run's report.json (required) and units.jsonl (optional, for flag identity by text);
    ``run_dir`` may also be the report.json itself. Read by ``harness.runs.read_run``.

    Raises:
        CheckError: a missing or unreadable file (the message names it).
    """
    try:
        record = read_run(run_dir)
    except InputFileError as exc:
        raise CheckError(str(exc)) from None
    return record.report, None if record.units is None else list(record.units)


def load_baseline(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    data = _read_json(p, "a baseline JSON file")
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise CheckError(f"{p}: not a harness baseline (no metrics object)")
    version = data.get("schema_version")
    if not isinstance(version, int) or version > BASELINE_SCHEMA_VERSION:
        raise CheckError(f"{p}: unsupported baseline schema_version {version!r} (this harness reads {BASELINE_SCHEMA_VERSION})")
    if not isinstance(data.get("major_flags", []), list):
        raise CheckError(f"{p}: major_flags is not a list")
    return data


@dataclass(frozen=True)
class Tolerance:
    """How much a metric may get worse: ``max(abs, rel * |baseline|)``; ``gate`` False: never fails."""

    abs: float = 0.01
    rel: float = 0.0
    gate: bool = True
    rule: str = "default"

    def allowed(self, baseline: float) -> float:
        return max(self.abs, self.rel * abs(baseline))


@dataclass
class Tolerances:
    default: Tolerance
    overrides: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def for_metric(self, name: str) -> Tolerance:
        match = next(((pat, o) for pat, o in self.overrides if pat == name), None)
        if match is None:
            match = next(((pat, o) for pat, o in self.overrides if fnmatch.fnmatchcase(name, pat)), None)
        if match is None:
            return self.default
        pat, o = match
        return Tolerance(
            abs=float(o.get("abs", self.default.abs)),
            rel=float(o.get("rel", self.default.rel)),
            gate=bool(o.get("gate", self.default.gate)),
            rule=pat,
        )


def load_tolerances(path: str | Path = DEFAULT_TOLERANCES) -> Tolerances:
    """Read a tolerance file (see ``configs/check/default.yaml``)."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise CheckError(f"{p}: file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CheckError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise CheckError(f"{p}: expected a mapping with `default` and `metrics`")
    d = data.get("default") or {}
    overrides = data.get("metrics") or {}
    if not isinstance(d, dict) or not isinstance(overrides, dict) or not all(isinstance(v, dict) for v in overrides.values()):
        raise CheckError(f"{p}: `default` and every entry of `metrics` must be mappings (abs, rel, gate)")
    try:
        default = Tolerance(abs=float(d.get("abs", 0.01)), rel=float(d.get("rel", 0.0)), gate=bool(d.get("gate", True)))
        for o in overrides.values():
            float(o.get("abs", 0.0)), float(o.get("rel", 0.0))
    except (TypeError, ValueError) as exc:
        raise CheckError(f"{p}: tolerance values must be numbers ({exc})") from None
    return Tolerances(default=default, overrides=[(str(k), v) for k, v in overrides.items()])


# ----------------------------------------------------------------------------------------------
# baseline content
# ----------------------------------------------------------------------------------------------


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return None if math.isnan(float(v)) else float(v)


def major_flags(report: Mapping[str, Any], units: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The run's major flags with the identity the gate compares (tag, unit text, claim index)."""
    texts = {u.get("unit_id"): (u.get("text_plain") or u.get("text")) for u in units or () if isinstance(u, Mapping)}
    out = []
    for f in report.get("flags") or []:
        if not isinstance(f, Mapping) or f.get("severity") != "major":
            continue
        out.append(
            {
                "tag": f.get("tag"),
                "unit_id": f.get("unit_id"),
                "unit_text": texts.get(f.get("unit_id")),
                "claim_index": f.get("claim_index"),
                "message": f.get("message"),
            }
        )
    out.sort(key=lambda f: (str(f["tag"]), str(f["unit_id"]), str(f["claim_index"])))
    return out


def baseline_from_run(report: Mapping[str, Any], units: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    """The baseline file content for a run (deterministic: no paths, no times)."""
    metrics = {
        name: {"value": m.get("value"), "higher_is_better": m.get("higher_is_better", True)}
        for name, m in sorted((report.get("metrics") or {}).items())
        if isinstance(m, Mapping)
    }
    return {
        "schema_version": BASELINE_SCHEMA_VERSION,
        "signature": report.get("signature") or {},
        "metrics": metrics,
        "major_flags": major_flags(report, units),
    }


# ----------------------------------------------------------------------------------------------
# comparison
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricDiff:
    name: str
    baseline: float | None
    run: float | None
    higher_is_better: bool | None
    tolerance: Tolerance
    status: str  # ok, improved, worse (within tolerance), REGRESSED, MISSING, new, not gated
    failed: bool

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.run is None:
            return None
        return self.run - self.baseline


@dataclass
class CheckResult:
    diffs: list[MetricDiff]
    new_flags: list[dict[str, Any]]
    fixed_flags: list[dict[str, Any]]
    warnings: list[str]

    @property
    def failed(self) -> bool:
        return any(d.failed for d in self.diffs) or bool(self.new_flags)


def _short(h: Any) -> str:
    return str(h)[:12] if h else "none"


def signature_warnings(baseline_sig: Mapping[str, Any], run_sig: Mapping[str, Any]) -> list[str]:
    """One warning line per input (summary, transcript), config or model set that differs."""
    warnings = []
    b_in, r_in = baseline_sig.get("inputs") or {}, run_sig.get("inputs") or {}
    for role in ("summary", "transcript"):
        b, r = (b_in.get(role) or {}).get("sha256"), (r_in.get(role) or {}).get("sha256")
        if b and r and b != r:
            warnings.append(
                f"warning: {role} sha256 differs from the baseline's ({_short(b)} → {_short(r)}): "
                f"a different {role} file; comparing anyway"
            )
    b, r = baseline_sig.get("config_sha256"), run_sig.get("config_sha256")
    if b and r and b != r:
        warnings.append(f"warning: config sha256 differs from the baseline's ({_short(b)} → {_short(r)}); comparing anyway")
    if baseline_sig.get("models") is not None and run_sig.get("models") is not None:
        if json.dumps(baseline_sig.get("models"), sort_keys=True) != json.dumps(run_sig.get("models"), sort_keys=True):
            warnings.append("warning: models differ from the baseline's; comparing anyway")
    return warnings


def _is_flag_count(name: str) -> bool:
    """``flags.major``, ``flags.minor`` and ``flags.<severity>.<tag>``: counts that read 0 when absent."""
    parts = name.split(".")
    return parts[0] == "flags" and len(parts) in (2, 3) and parts[1] in ("major", "minor")


def _flag_key(f: Mapping[str, Any], by_text: bool) -> tuple[Any, ...]:
    unit = f.get("unit_text") if by_text else f.get("unit_id")
    return (f.get("tag"), unit, f.get("claim_index"))


def compare(
    baseline: Mapping[str, Any],
    report: Mapping[str, Any],
    units: Sequence[Mapping[str, Any]] | None,
    tolerances: Tolerances,
) -> CheckResult:
    """Compare a run with a baseline; see the module docstring for the rules."""
    run_metrics = report.get("metrics") or {}
    base_metrics = baseline.get("metrics") or {}
    diffs = []
    for name in list(base_metrics) + [n for n in run_metrics if n not in base_metrics]:
        bm = base_metrics.get(name) if isinstance(base_metrics.get(name), Mapping) else None
        rm = run_metrics.get(name) if isinstance(run_metrics.get(name), Mapping) else None
        direction = (rm or bm or {}).get("higher_is_better", True)
        hib = None if direction is None else bool(direction)  # None: a size (metrics.Direction.NONE)
        b = _num(bm.get("value")) if bm else None
        r = _num(rm.get("value")) if rm else None
        if rm is None and _is_flag_count(name):
            r = 0.0  # older runs list a per-tag flag count only when the tag fired
        tol = tolerances.for_metric(name)
        failed = False
        if bm is None:
            status = "new"
        elif b is None:
            status = "new" if r is not None else "ok"
        elif r is None:
            status, failed = "MISSING", tol.gate
            if not tol.gate:
                status = "missing, not gated"
        else:
            worse_by = (b - r) if hib else (r - b)
            if abs(r - b) <= EPS:
                status = "ok"
            elif hib is None:  # neither direction is worse: shown, never failed
                status = "changed (a size, not gated)"
            elif worse_by < 0:
                status = "improved"
            elif not tol.gate:
                status = "not gated"
            elif worse_by <= tol.allowed(b) + EPS:
                status = "worse, within tolerance"
            else:
                status, failed = "REGRESSED", True
        diffs.append(MetricDiff(name, b, r, hib, tol, status, failed))

    base_flags = [f for f in baseline.get("major_flags") or [] if isinstance(f, Mapping)]
    run_flags = major_flags(report, units)
    by_text = units is not None and all(f.get("unit_text") is not None for f in base_flags)
    base_keys = {_flag_key(f, by_text) for f in base_flags}
    run_keys = {_flag_key(f, by_text) for f in run_flags}
    new_flags = [f for f in run_flags if _flag_key(f, by_text) not in base_keys]
    fixed = [f for f in base_flags if _flag_key(f, by_text) not in run_keys]
    warnings = signature_warnings(baseline.get("signature") or {}, report.get("signature") or {})
    return CheckResult(diffs=diffs, new_flags=new_flags, fixed_flags=list(fixed), warnings=warnings)


# ----------------------------------------------------------------------------------------------
# output
# ----------------------------------------------------------------------------------------------


def _fmt(v: float | None) -> str:
    if v is None:
        return "n/a"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.4g}"


def _fmt_change(d: MetricDiff) -> str:
    c = d.change
    if c is None:
        return ""
    if abs(c) <= EPS:
        return "0"
    return ("+" if c > 0 else "-") + _fmt(abs(c))


def _fmt_tol(d: MetricDiff) -> str:
    if not d.tolerance.gate or d.higher_is_better is None:
        return "not gated"
    arrow = "↑" if d.higher_is_better else "↓"
    if d.baseline is not None and d.tolerance.rel:
        return f"{_fmt(d.tolerance.allowed(d.baseline))} {arrow}"
    return f"{_fmt(d.tolerance.abs)} {arrow}"


def _flag_line(f: Mapping[str, Any]) -> str:
    where = f"{f.get('unit_id')}" + (f" claim {f.get('claim_index')}" if f.get("claim_index") is not None else "")
    text = str(f.get("unit_text") or "").replace("\n", " ")
    if len(text) > 80:
        text = text[:77] + "…"
    quoted = f' "{text}"' if text else ""
    return f"{f.get('tag')} on {where}{quoted}: {f.get('message') or ''}".rstrip(": ")


def format_result(result: CheckResult, fmt: str = "text") -> str:
    """The diff table, flag changes and a verdict line, as plain text or Markdown."""
    header = ["metric", "baseline", "run", "change", "tolerance", "status"]
    rows = [[d.name, _fmt(d.baseline), _fmt(d.run), _fmt_change(d), _fmt_tol(d), d.status] for d in result.diffs]
    lines: list[str] = list(result.warnings)
    if fmt == "md":
        lines += ["", "| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|---|"]
        for row in rows:
            cells = [c.replace("|", "\\|") for c in row]
            if row[5] in ("REGRESSED", "MISSING"):
                cells[5] = f"**{cells[5]}**"
            lines.append("| " + " | ".join(cells) + " |")
    else:
        widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
        fmt_row = lambda r: "  ".join(  # noqa: E731
            c.ljust(w) if i in (0, 5) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
        ).rstrip()
        lines += [fmt_row(header), fmt_row(["-" * w for w in widths])] + [fmt_row(r) for r in rows]
    bullet = "- " if fmt == "md" else "  "
    if result.new_flags:
        lines += ["", f"New major flags ({len(result.new_flags)}):"] + [f"{bullet}NEW {_flag_line(f)}" for f in result.new_flags]
    if result.fixed_flags:
        lines += ["", f"Major flags gone since the baseline ({len(result.fixed_flags)}):"]
        lines += [f"{bullet}fixed {_flag_line(f)}" for f in result.fixed_flags]
    regressed = [d for d in result.diffs if d.failed]
    improved = sum(d.status == "improved" for d in result.diffs)
    if result.failed:
        parts = []
        if regressed:
            parts.append(f"{len(regressed)} metric{'s' if len(regressed) != 1 else ''} worse than tolerance ({', '.join(d.name for d in regressed)})")
        if result.new_flags:
            parts.append(f"{len(result.new_flags)} new major flag{'s' if len(result.new_flags) != 1 else ''}")
        verdict = "check: FAILED: " + "; ".join(parts)
    else:
        gated = sum(d.tolerance.gate and d.baseline is not None for d in result.diffs)
        verdict = f"check: passed: {gated} gated metrics within tolerance, {improved} improved, no new major flag"
    lines += ["", verdict]
    return "\n".join(lines).lstrip("\n") + "\n"


# ----------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m harness check``; returns the exit code (0 pass, 1 regression, 2 bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m harness check",
        description="Regression gate: compare a run's metrics and major flags with a baseline. "
        "Exit 0: pass; 1: a metric worse than its tolerance or a new major flag; 2: missing/unreadable file.",
    )
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--baseline", metavar="FILE", help="baseline JSON to compare the run with")
    mode.add_argument("--write-baseline", metavar="FILE", help="create or update a baseline JSON from the run")
    parser.add_argument("--run", required=True, metavar="DIR", help="run directory holding report.json (and units.jsonl)")
    parser.add_argument("--config", default=str(DEFAULT_TOLERANCES), metavar="YAML", help="tolerances (default: configs/check/default.yaml)")
    parser.add_argument("--format", choices=("text", "md"), default="text", help="diff table as aligned text or Markdown")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        report, units = load_run(args.run)
        if args.write_baseline:
            baseline = baseline_from_run(report, units)
            atomic_write_json(args.write_baseline, baseline)
            print(
                f"wrote baseline {args.write_baseline} ({len(baseline['metrics'])} metrics, "
                f"{len(baseline['major_flags'])} major flags) from {args.run}"
            )
            return 0
        baseline = load_baseline(args.baseline)
        tolerances = load_tolerances(args.config)
    except CheckError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"harness: error: {exc.filename or args.write_baseline}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    result = compare(baseline, report, units, tolerances)
    sys.stdout.write(format_result(result, args.format))
    return 1 if result.failed else 0
