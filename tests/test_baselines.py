"""The project's own regression gate: the three reference runs against the committed baselines.

Two gates, on purpose different:

- The user-facing gate, ``python -m harness check``, is one-sided: a metric worse than its
  tolerance (configs/check/default.yaml) or a new major flag fails; any improvement passes.
- The project's self-regression is two-sided and tight: every metric of each reference run must
  equal its baseline (``results/baseline/<name>.json``) within ``METRIC_TOLERANCE``, in either
  direction, and every unit's verdict, claim verdicts and flags must equal the snapshot in
  ``results/baseline/units/<name>.json``. An "improvement" nobody intended is a bug until shown
  otherwise: a change that labelled every claim ``supported`` would pass ``check`` but fails here.

The pipeline is deterministic on one machine (``test_reference_runs.py`` checks two runs are
byte-identical), so nothing here is a statistical tolerance.

Refresh the baselines deliberately, in their own commit, saying why (``REFRESH`` below).
"""

from __future__ import annotations

import copy
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import pytest

from conftest import ROOT
from harness.check import baseline_from_run, compare, format_result, load_baseline, load_tolerances
from harness.textio import atomic_write_json

NAMES = ("summify", "tldr_qa", "wiki")
BASELINES = ROOT / "results" / "baseline"
UNIT_SNAPSHOTS = BASELINES / "units"

# Metric values are written rounded to 6 decimals: 1e-6 allows one unit in the last written
# digit (floating-point noise between machines, e.g. another BLAS) and nothing else. Counts
# (claims, flags, pairs) are whole numbers, so they must match exactly.
METRIC_TOLERANCE = 1e-6

REFRESH = (
    "If the change is intended, refresh the baselines in their own commit and say why: "
    "python -m pytest tests/test_baselines.py --refresh-baselines "
    "(rewrites results/baseline/{summify,tldr_qa,wiki}.json and results/baseline/units/*.json)"
)

# ----------------------------------------------------------------------------------------------
# the comparisons (pure functions, so their own tests below need no pipeline run)
# ----------------------------------------------------------------------------------------------


def _value(metric: Any) -> float | None:
    v = metric.get("value") if isinstance(metric, Mapping) else None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(float(v)):
        return None
    return float(v)


def metric_differences(baseline: Mapping[str, Any], report: Mapping[str, Any], tolerance: float = METRIC_TOLERANCE) -> list[str]:
    """One line per metric that differs from the baseline by more than ``tolerance`` either way,
    is missing from one side, or changed between a number and n/a."""
    base, run = baseline.get("metrics") or {}, report.get("metrics") or {}
    out = []
    for name in sorted(set(base) | set(run)):
        if name not in run:
            out.append(f"{name}: in the baseline ({_value(base[name])}), missing from the run")
            continue
        if name not in base:
            out.append(f"{name}: new in the run ({_value(run[name])}), not in the baseline")
            continue
        b, r = _value(base[name]), _value(run[name])
        if b is None or r is None:
            if (b is None) != (r is None):
                out.append(f"{name}: baseline {b} → run {r}")
            continue
        if abs(r - b) > tolerance:
            higher = bool(base[name].get("higher_is_better", True))
            way = "better" if (r > b) == higher else "worse"
            out.append(f"{name}: baseline {b:g} → run {r:g} ({r - b:+.6g}, {way}; tolerance ±{tolerance:g})")
    return out


def unit_snapshot(report: Mapping[str, Any], units: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per unit: its verdict, each claim's verdict and its flags (``severity:tag[:claim N]``)."""
    flags: dict[str, list[str]] = defaultdict(list)
    for f in report.get("flags") or []:
        claim = f.get("claim_index")
        flags[str(f.get("unit_id"))].append(f"{f.get('severity')}:{f.get('tag')}" + ("" if claim is None else f":claim {claim}"))
    inputs = (report.get("signature") or {}).get("inputs") or {}
    return {
        "schema_version": 1,
        "inputs": {role: (inputs.get(role) or {}).get("sha256") for role in ("summary", "transcript")},
        "units": [
            {
                "unit_id": u.get("unit_id"),
                "kind": u.get("kind"),
                "verdict": u.get("verdict"),
                "claims": {c.get("claim_id"): c.get("verdict") for c in u.get("claims") or []},
                "flags": sorted(flags.pop(str(u.get("unit_id")), [])),
            }
            for u in units
        ],
        "flags_outside_units": {k: sorted(v) for k, v in sorted(flags.items())},
    }


def unit_differences(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """One line per unit whose verdict, claim verdicts or flags differ, or that exists on one side only."""
    out = []
    for role in ("summary", "transcript"):
        if expected["inputs"].get(role) != actual["inputs"].get(role):
            out.append(f"{role} sha256: snapshot {expected['inputs'].get(role)} → run {actual['inputs'].get(role)}")
    exp = {u["unit_id"]: u for u in expected["units"]}
    act = {u["unit_id"]: u for u in actual["units"]}
    if list(exp) != list(act):
        out.append(f"unit ids: snapshot {list(exp)} → run {list(act)}")
    for uid in exp.keys() & act.keys():
        e, a = exp[uid], act[uid]
        for key in ("kind", "verdict"):
            if e[key] != a[key]:
                out.append(f"{uid}: {key} {e[key]} → {a[key]}")
        for cid in sorted(e["claims"].keys() | a["claims"].keys()):
            if e["claims"].get(cid) != a["claims"].get(cid):
                out.append(f"{cid}: claim verdict {e['claims'].get(cid)} → {a['claims'].get(cid)}")
        if e["flags"] != a["flags"]:
            out.append(f"{uid}: flags {e['flags']} → {a['flags']}")
    if expected["flags_outside_units"] != actual["flags_outside_units"]:
        out.append(f"flags outside units: {expected['flags_outside_units']} → {actual['flags_outside_units']}")
    return sorted(out)


def _failure(name: str, what: str, lines: list[str]) -> str:
    shown = lines[:40] + ([f"… and {len(lines) - 40} more"] if len(lines) > 40 else [])
    return f"reference {name}: {len(lines)} {what} differ from the committed baseline:\n  " + "\n  ".join(shown) + f"\n{REFRESH}"


# ----------------------------------------------------------------------------------------------
# the gate on the reference runs
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed(reference_runs, request) -> dict[str, dict[str, Any]]:
    """The committed baselines and unit snapshots; ``--refresh-baselines`` rewrites them first
    from this session's reference runs (the same content ``check --write-baseline`` writes)."""
    if request.config.getoption("--refresh-baselines"):
        for name in NAMES:
            run = reference_runs[name]
            atomic_write_json(BASELINES / f"{name}.json", baseline_from_run(run["report"], run["units"]))
            atomic_write_json(UNIT_SNAPSHOTS / f"{name}.json", unit_snapshot(run["report"], run["units"]))
    return {
        name: {
            "baseline": load_baseline(BASELINES / f"{name}.json"),
            "units": json.loads((UNIT_SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8")),
        }
        for name in NAMES
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_reference_run_passes_the_user_facing_check(reference_runs, committed, name):
    """What a user's CI runs (``harness check``, one-sided) passes too."""
    baseline = committed[name]["baseline"]
    run = reference_runs[name]
    result = compare(baseline, run["report"], run["units"], load_tolerances())
    assert not result.failed, format_result(result)
    assert baseline["signature"]["inputs"]["summary"]["sha256"] == run["report"]["signature"]["inputs"]["summary"]["sha256"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_every_metric_equals_its_baseline_both_ways(reference_runs, committed, name):
    baseline = committed[name]["baseline"]
    diffs = metric_differences(baseline, reference_runs[name]["report"])
    assert not diffs, _failure(name, "metrics", diffs)
    # The gate can fail on this very run: one metric moved up by 0.01 in a copy of the baseline.
    moved = copy.deepcopy(baseline)
    moved["metrics"]["consistency.claims.supported"]["value"] -= 0.01
    assert [d.split(":")[0] for d in metric_differences(moved, reference_runs[name]["report"])] == ["consistency.claims.supported"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_every_unit_verdict_and_flag_equals_its_snapshot(reference_runs, committed, name):
    run = reference_runs[name]
    diffs = unit_differences(committed[name]["units"], unit_snapshot(run["report"], run["units"]))
    assert not diffs, _failure(name, "unit verdicts, claim verdicts or flags", diffs)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_major_flags_equal_the_baseline_both_ways(reference_runs, committed, name):
    """``check`` fails on a new major flag only; here a vanished one fails too."""
    run = reference_runs[name]
    result = compare(committed[name]["baseline"], run["report"], run["units"], load_tolerances())
    lines = [f"new: {f['tag']} on {f['unit_id']}" for f in result.new_flags]
    lines += [f"gone: {f['tag']} on {f['unit_id']}" for f in result.fixed_flags]
    assert not lines, _failure(name, "major flags", lines)


# ----------------------------------------------------------------------------------------------
# the comparisons themselves, on the committed files (no pipeline run: fast tier)
# ----------------------------------------------------------------------------------------------


def _as_report(baseline: Mapping[str, Any]) -> dict[str, Any]:
    """A report whose metrics are the baseline's, as a run that reproduced it exactly writes them."""
    return {"metrics": copy.deepcopy(baseline["metrics"]), "signature": baseline.get("signature"), "flags": []}


@pytest.fixture
def wiki_baseline() -> dict[str, Any]:
    return load_baseline(BASELINES / "wiki.json")


@pytest.mark.parametrize("name", NAMES)
def test_committed_baselines_and_snapshots_agree(name):
    """The metrics file and the unit snapshot of a reference describe the same run."""
    baseline = load_baseline(BASELINES / f"{name}.json")
    snapshot = json.loads((UNIT_SNAPSHOTS / f"{name}.json").read_text(encoding="utf-8"))
    assert snapshot["inputs"]["summary"] == baseline["signature"]["inputs"]["summary"]["sha256"]
    assert snapshot["inputs"]["transcript"] == baseline["signature"]["inputs"]["transcript"]["sha256"]
    claims = [v for u in snapshot["units"] for v in u["claims"].values()]
    assert len(claims) == baseline["metrics"]["consistency.claims"]["value"]
    supported = sum(v == "supported" for v in claims) / len(claims)
    assert supported == pytest.approx(baseline["metrics"]["consistency.claims.supported"]["value"], abs=1e-6)
    for severity in ("major", "minor"):
        n = sum(f.startswith(severity + ":") for u in snapshot["units"] for f in u["flags"])
        n += sum(f.startswith(severity + ":") for fs in snapshot["flags_outside_units"].values() for f in fs)
        assert n == baseline["metrics"][f"flags.{severity}"]["value"], severity


@pytest.mark.parametrize("delta", [+0.01, -0.01, +2e-6, -2e-6])
def test_a_moved_metric_fails_either_way_and_names_itself(wiki_baseline, delta):
    run = _as_report(wiki_baseline)
    run["metrics"]["consistency.claims.supported"]["value"] += delta
    diffs = metric_differences(wiki_baseline, run)
    assert len(diffs) == 1 and diffs[0].startswith("consistency.claims.supported: baseline ")
    assert ("better" if delta > 0 else "worse") in diffs[0]
    message = _failure("wiki", "metrics", diffs)
    assert "consistency.claims.supported" in message and "--refresh-baselines" in message


def test_noise_in_the_last_written_digit_passes(wiki_baseline):
    run = _as_report(wiki_baseline)
    for metric in run["metrics"].values():
        if isinstance(metric.get("value"), float):
            metric["value"] += 0.9e-6
    assert metric_differences(wiki_baseline, run) == []


def test_an_improvement_check_passes_fails_here():
    """The reason for two gates: every claim ``supported`` is an improvement to ``check``."""
    baseline = load_baseline(BASELINES / "summify.json")  # 72% supported, 19% partially, 9% unsupported
    run = _as_report(baseline)
    run["metrics"]["consistency.claims.supported"]["value"] = 1.0
    run["metrics"]["consistency.claims.unsupported"]["value"] = 0.0
    run["metrics"]["consistency.claims.partially_supported"]["value"] = 0.0
    assert not compare(baseline, run, None, load_tolerances()).failed
    assert [d.split(":")[0] for d in metric_differences(baseline, run)] == [
        "consistency.claims.partially_supported",
        "consistency.claims.supported",
        "consistency.claims.unsupported",
    ]


def test_missing_new_and_not_available_metrics_fail(wiki_baseline):
    run = _as_report(wiki_baseline)
    del run["metrics"]["coverage.redundancy"]
    run["metrics"]["coverage.something_new"] = {"value": 0.5, "higher_is_better": True}
    run["metrics"]["lexical.bertscore.f1"]["value"] = None
    diffs = metric_differences(wiki_baseline, run)
    assert [d.split(":")[0] for d in diffs] == ["coverage.redundancy", "coverage.something_new", "lexical.bertscore.f1"]


def test_a_changed_unit_label_or_flag_fails_and_names_the_unit():
    snapshot = json.loads((UNIT_SNAPSHOTS / "summify.json").read_text(encoding="utf-8"))
    assert unit_differences(snapshot, snapshot) == []
    changed = copy.deepcopy(snapshot)
    unit = next(u for u in changed["units"] if u["claims"] and u["verdict"] != "supported")
    claim_id = next(iter(unit["claims"]))
    old = unit["claims"][claim_id]
    unit["verdict"] = "supported"
    unit["claims"][claim_id] = "contradicted" if old != "contradicted" else "supported"
    unit["flags"] = unit["flags"] + ["major:contradicted_claim:claim 0"]
    diffs = unit_differences(snapshot, changed)
    assert len(diffs) == 3
    assert any(d.startswith(f"{unit['unit_id']}: verdict ") for d in diffs)
    assert any(d.startswith(f"{claim_id}: claim verdict {old} → ") for d in diffs)
    assert any(d.startswith(f"{unit['unit_id']}: flags ") for d in diffs)


def test_a_dropped_unit_fails():
    snapshot = json.loads((UNIT_SNAPSHOTS / "wiki.json").read_text(encoding="utf-8"))
    changed = copy.deepcopy(snapshot)
    changed["units"].pop()
    assert unit_differences(snapshot, changed) and unit_differences(changed, snapshot)


def test_unit_snapshot_reads_verdicts_and_flags_from_a_run():
    report = {
        "signature": {"inputs": {"summary": {"sha256": "s"}, "transcript": {"sha256": "t"}}},
        "flags": [
            {"tag": "number_mismatch", "severity": "major", "unit_id": "u002", "claim_index": 1},
            {"tag": "boilerplate", "severity": "minor", "unit_id": "u001", "claim_index": None},
            {"tag": "episode_level", "severity": "minor", "unit_id": None, "claim_index": None},
        ],
    }
    units = [
        {"unit_id": "u001", "kind": "overview", "verdict": "not_checkable", "claims": []},
        {"unit_id": "u002", "kind": "key_insight", "verdict": "partially_supported", "claims": [
            {"claim_id": "u002.c1", "verdict": "supported"}, {"claim_id": "u002.c2", "verdict": "contradicted"}]},
    ]
    snap = unit_snapshot(report, units)
    assert snap["inputs"] == {"summary": "s", "transcript": "t"}
    assert snap["units"] == [
        {"unit_id": "u001", "kind": "overview", "verdict": "not_checkable", "claims": {}, "flags": ["minor:boilerplate"]},
        {"unit_id": "u002", "kind": "key_insight", "verdict": "partially_supported",
         "claims": {"u002.c1": "supported", "u002.c2": "contradicted"}, "flags": ["major:number_mismatch:claim 1"]},
    ]
    assert snap["flags_outside_units"] == {"None": ["minor:episode_level"]}
