"""Metric metadata declared once (issue #18): every metric a run reports has one entry in
harness.metrics.METRIC_SPECS (direction, unit, description), and a size such as
consistency.claims is not "higher is better": the gate never fails on it in either direction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.check import Tolerance, Tolerances, compare
from harness.metrics import METRIC_SPECS, Direction, UnknownMetricError, metric, metric_spec

ROOT = Path(__file__).resolve().parent.parent
# report.json files of committed runs (the references' baselines and results/); run outputs that
# .gitignore keeps out of the repository (corpus row folders, results/runs, multiruns) are not
# committed, so a local corpus run does not add hundreds of cases here.
_UNCOMMITTED = ("rows", "runs", "multirun", "leaderboards")
COMMITTED_REPORTS = sorted(
    p for p in ROOT.glob("results/**/report.json")
    if not set(p.relative_to(ROOT / "results").parts[:-1]) & set(_UNCOMMITTED)
)
BASELINES = sorted((ROOT / "results" / "baseline").glob("*.json"))


def _names_in(path: Path) -> list[str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return sorted((data.get("metrics") or {}).keys())


@pytest.mark.parametrize(
    "name, direction, unit",
    [
        ("consistency.claims", Direction.NONE, "count"),
        ("units.content", Direction.NONE, "count"),
        ("units.content_words", Direction.NONE, "words"),
        ("consistency.score", Direction.HIGHER, "score"),
        ("consistency.claims.supported", Direction.HIGHER, "share"),
        ("consistency.claims.contradicted", Direction.LOWER, "share"),
        ("consistency.units.partially_supported", Direction.LOWER, "share"),
        ("consistency.sponsor_evidence_claims", Direction.LOWER, "count"),
        ("flags.major", Direction.LOWER, "count"),
        ("flags.minor.misquote", Direction.LOWER, "count"),
        ("coverage.chapters_missed", Direction.LOWER, "count"),
        ("lexical.rougeLsum.recall", Direction.HIGHER, "score"),
        ("lexical.reference.rouge1.f", Direction.HIGHER, "score"),
        ("lexical.reference.bertscore.f1", Direction.HIGHER, "score"),
    ],
)
def test_registry_entries(name, direction, unit):
    spec = metric_spec(name)
    assert (spec.direction, spec.unit) == (direction, unit)


def test_description_fills_the_name_parts():
    assert metric("flags.minor.misquote", 2.0).description == "Number of minor misquote flags."
    assert metric("consistency.claims.unsupported", 0.1).description == "Share of claims whose verdict is unsupported."


def test_direction_none_is_recorded_as_null_and_scores_keep_theirs():
    assert metric("consistency.claims", 64.0).higher_is_better is None
    assert metric("consistency.score", 0.5).higher_is_better is True
    assert metric("flags.major", 1.0).higher_is_better is False


def test_an_undeclared_metric_is_an_error():
    with pytest.raises(UnknownMetricError, match="METRIC_SPECS"):
        metric("consistency.vibes", 1.0)
    with pytest.raises(UnknownMetricError):
        metric_spec("flags.major.tag.extra")  # a pattern part never spans a dot


def test_specs_are_unique_and_patterns_well_formed():
    patterns = [s.pattern for s in METRIC_SPECS]
    assert len(patterns) == len(set(patterns))
    for s in METRIC_SPECS:
        assert s.unit in ("share", "score", "count", "words", "ratio")
        assert s.description.endswith(".")
        if "{" not in s.pattern:
            assert metric_spec(s.pattern) is s  # an exact name is never shadowed by a pattern


def test_every_metric_of_a_fresh_run_has_an_entry_and_its_direction():
    """Run the references' metric groups (units, consistency, flags, coverage, lexical) through
    the pipeline and check every emitted name against the registry."""
    from conftest import compose
    from harness.cli import plain_config
    from harness.pipeline import run_pipeline

    config = plain_config(compose(["summary=wiki", "stages.timeline=false", "lexical.bertscore=false"]))
    result = run_pipeline(config)
    names = [m.name for m in result.metrics]
    assert {"consistency.claims", "coverage.chapter_weighted", "lexical.rouge1.recall", "flags.major"} <= set(names)
    assert result.signature["readable"].startswith("verifier:offline|thr:0.0775/0.0388/0.50|k:5|")  # RunResult has it too
    for m in result.metrics:
        spec = metric_spec(m.name)
        if m.name.split(".")[0] in ("units", "consistency", "flags"):  # emitted through metric()
            assert m.higher_is_better == spec.direction.higher_is_better, m.name


@pytest.mark.parametrize("path", COMMITTED_REPORTS + BASELINES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_metric_of_committed_runs_has_an_entry(path):
    for name in _names_in(path):
        metric_spec(name)


def _report(value: float, hib) -> dict:
    return {"metrics": {"consistency.claims": {"value": value, "higher_is_better": hib}}, "signature": {}}


@pytest.mark.parametrize("run_value", [40.0, 90.0])
def test_check_never_fails_a_size_in_either_direction(run_value):
    """Even with a gating tolerance on it, a count with direction none is shown, not failed."""
    tol = Tolerances(default=Tolerance(abs=0.0, rel=0.0, gate=True))
    baseline = {"metrics": {"consistency.claims": {"value": 64.0, "higher_is_better": None}}}
    result = compare(baseline, _report(run_value, None), None, tol)
    (diff,) = result.diffs
    assert not diff.failed and diff.status == "changed (a size, not gated)"


def test_check_keeps_its_one_sided_rule_for_scores():
    tol = Tolerances(default=Tolerance(abs=0.01, rel=0.0, gate=True))
    base = {"metrics": {"consistency.score": {"value": 0.6, "higher_is_better": True}}}
    worse = {"metrics": {"consistency.score": {"value": 0.5, "higher_is_better": True}}}
    better = {"metrics": {"consistency.score": {"value": 0.7, "higher_is_better": True}}}
    assert compare(base, worse, None, tol).diffs[0].failed
    assert not compare(base, better, None, tol).diffs[0].failed
