"""harness.bootstrap: seeded percentile intervals (rouge-score BootstrapAggregator style) and
ranks that tie where intervals overlap."""

from __future__ import annotations

import numpy as np
import pytest

from harness.bootstrap import Interval, bootstrap_mean, interval_ranks


def test_constant_values_give_a_point_interval():
    ci = bootstrap_mean([0.4] * 7)
    assert (ci.low, ci.mid, ci.high) == pytest.approx((0.4, 0.4, 0.4))
    assert ci.n == 7 and ci.n_samples == 1000 and ci.confidence == 0.95


def test_empty_is_none():
    assert bootstrap_mean([]) is None


def test_seeded_and_reproducible():
    values = [1, 0, 1, 1, 0, 1, 1, 1, 0, 1]
    a, b = bootstrap_mean(values, seed=0), bootstrap_mean(values, seed=0)
    assert a == b
    spread = [0.11, 0.52, 0.93, 0.34, 0.75, 0.26, 0.47]
    assert bootstrap_mean(spread, seed=1) != bootstrap_mean(spread, seed=0)
    # the mean lies inside, and a 95% interval of 10 coin-like draws is wide
    assert a.low < 0.7 < a.high
    assert a.high - a.low > 0.3


def test_matches_the_percentile_recipe():
    """Same draws as rouge-score's aggregator: resample indices, mean each, take percentiles."""
    values = np.array([0.1, 0.5, 0.9, 0.3])
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 4, size=(200, 4))
    means = values[idx].mean(axis=1)
    want = np.percentile(means, [2.5, 50, 97.5])
    ci = bootstrap_mean(values, n_samples=200, seed=3)
    assert (ci.low, ci.mid, ci.high) == pytest.approx(tuple(want))


def test_weighted_mean_is_a_ratio_estimator():
    # two claims, 9 words supported and 1 word not: a resample of both scores 9/10, of either
    # one alone 1 or 0; the median resample holds both (probability 1/2)
    ci = bootstrap_mean([1.0, 0.0], weights=[9, 1], n_samples=2000)
    assert ci.mid == pytest.approx(0.9)
    assert (ci.low, ci.high) == (0.0, 1.0)
    with pytest.raises(ValueError, match="weights"):
        bootstrap_mean([1.0, 0.0], weights=[1.0])
    with pytest.raises(ValueError, match="positive"):
        bootstrap_mean([1.0, 0.0], weights=[1.0, 0.0])


def test_narrower_with_more_data():
    rng = np.random.default_rng(0)
    small = bootstrap_mean(rng.random(20))
    large = bootstrap_mean(rng.random(2000))
    assert large.high - large.low < (small.high - small.low) / 4


def test_bad_arguments():
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_mean([1.0], confidence=1.0)
    with pytest.raises(ValueError, match="n_samples"):
        bootstrap_mean([1.0], n_samples=0)


def iv(lo, hi):
    return Interval(lo, (lo + hi) / 2, hi, 0.95, 10, 1000)


def test_ranks_tie_where_intervals_overlap():
    a, b, c = iv(0.6, 0.8), iv(0.5, 0.65), iv(0.1, 0.3)
    # a and b overlap: both first; c is below both
    assert interval_ranks([a, b, c]) == [1, 1, 3]
    # lower is better: c first, a and b share second
    assert interval_ranks([a, b, c], higher_is_better=False) == [2, 2, 1]
    # a chain: a overlaps b, b overlaps d, a does not overlap d -> d is behind a only
    d = iv(0.4, 0.55)
    assert interval_ranks([a, b, d]) == [1, 1, 2]
    assert interval_ranks([a, None]) == [1, None]
    assert a.overlaps(b) and not a.overlaps(c)


# ---- where the intervals show up ---------------------------------------------------------------


def _report(score: float, lo: float | None, hi: float | None) -> dict:
    metric = {"value": score, "higher_is_better": True, "description": "d"}
    if lo is not None:
        metric.update(ci_low=lo, ci_high=hi)
    return {"metrics": {"consistency.score": metric}, "flags": []}


def test_leaderboard_gets_interval_columns_and_tied_ci_ranks(tmp_path):
    from harness.leaderboard import Run, build_leaderboard, render_table

    runs = [
        Run(tmp_path / "a", "a", _report(0.70, 0.60, 0.80)),
        Run(tmp_path / "b", "b", _report(0.62, 0.55, 0.68)),
        Run(tmp_path / "c", "c", _report(0.20, 0.10, 0.30)),
    ]
    board = build_leaderboard(runs, rank_by=("consistency.score",))
    by_name = {r["summary"]: r for r in board.rows}
    assert [by_name[n]["rank"] for n in "abc"] == [1, 2, 3]
    assert [by_name[n]["consistency.score.ci_rank"] for n in "abc"] == [1, 1, 3]
    assert by_name["a"]["consistency.score.ci"] == "0.60–0.80"
    assert "| consistency 95% CI | CI rank |" in render_table(board.columns, board.rows, "md")
    assert any("intervals overlap share a rank" in n for n in board.notes)
    # a run without an interval (written before #16): no interval columns at all
    old = [Run(tmp_path / "a", "a", _report(0.7, None, None)), Run(tmp_path / "b", "b", _report(0.6, 0.5, 0.7))]
    board = build_leaderboard(old, rank_by=("consistency.score",))
    assert "consistency.score.ci" not in {c.key for c in board.columns}


def test_consistency_metrics_carry_intervals():
    from harness.metrics import consistency_metrics
    from harness.types import Claim, UnitVerdict, Verdict

    def verdict(i: int, label: str, score: float) -> Verdict:
        return Verdict(claim=Claim(f"u{i}.c1", f"u{i}", 0, "word " * (i + 1), 0, 5), label=label, score=score, evidence=())

    vs = [verdict(i, "supported" if i % 2 else "unsupported", 0.8 if i % 2 else 0.1) for i in range(10)]
    units = tuple(UnitVerdict(unit_id=v.claim.unit_id, label=v.label, score=v.score, claims=(v,)) for v in vs)

    class Inputs:
        unit_verdicts = units

    got = {m.name: m for m in consistency_metrics(Inputs())}  # type: ignore[arg-type]
    share = got["consistency.claims.supported"]
    assert share.value == 0.5 and share.ci_low < 0.5 < share.ci_high
    assert got["consistency.units.supported"].ci_low == share.ci_low  # one claim per unit: same draws
    score = got["consistency.score"]
    assert score.ci_low < score.value < score.ci_high
    assert got["consistency.claims.unsupported"].ci_low is None  # intervals only for supported share and score
