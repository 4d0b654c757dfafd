"""The corpus leaderboard: bootstrap intervals, flag shares, worst episodes, the validity table,
and the files it writes. Records are written by hand here (the shape of ``results.jsonl``)."""

from __future__ import annotations

import json

import pytest

from harness.corpus_leaderboard import (
    auroc,
    bootstrap_interval,
    flag_shares,
    system_intervals,
    validity_table,
    worst_episodes,
    write_corpus_leaderboard,
)

VALUES = [0.12, 0.55, 0.91, 0.33, 0.47, 0.08, 0.76, 0.64]


def _rec(ep, system, metrics, control=None, beside=None, status="ok"):
    return {"episode_id": ep, "system": system, "control": control, "beside": beside, "status": status,
            "error": None if status == "ok" else "x.vtt: file not found",
            "run_dir": f"rows/{ep}__{system}" if status == "ok" else None,
            "metrics_json": json.dumps(metrics) if status == "ok" else None}


RECORDS = [
    _rec("e1", "sys", {"consistency.score": 0.62, "coverage.chapter_weighted": 0.5, "flags.major": 1.0,
                       "flags.major.ad_content": 1.0, "consistency.claims.supported": 0.4}),
    _rec("e2", "sys", {"consistency.score": 0.41, "coverage.chapter_weighted": 0.3, "flags.major": 0.0,
                       "consistency.claims.supported": 0.2}),
    _rec("e3", "sys", {"consistency.score": 0.55, "coverage.chapter_weighted": 0.4, "flags.major": 2.0,
                       "flags.major.ad_content": 1.0, "flags.minor.boilerplate": 3.0, "consistency.claims.supported": 0.3}),
    _rec("e4", "sys", {}, status="error"),
    _rec("e1", "lead", {"consistency.score": 0.95, "consistency.claims.supported": 1.0, "flags.major": 0.0}, "lead", "sys"),
    _rec("e2", "lead", {"consistency.score": 0.91, "consistency.claims.supported": 0.9, "flags.major": 0.0}, "lead", "sys"),
    _rec("e1", "mismatched", {"consistency.score": 0.10, "coverage.chapter_weighted": 0.0,
                              "consistency.claims.supported": 0.0}, "mismatched", "sys"),
    _rec("e2", "mismatched", {"consistency.score": 0.45, "coverage.chapter_weighted": 0.1,
                              "consistency.claims.supported": 0.05}, "mismatched", "sys"),
]


def test_bootstrap_interval_golden_values():
    assert bootstrap_interval(VALUES, resamples=1000, seed=0) == pytest.approx((0.4825, 0.2999375, 0.66125))
    # the seed is the only source of randomness: same seed, same interval; another seed moves it
    assert bootstrap_interval(VALUES, resamples=1000, seed=0) == bootstrap_interval(VALUES, resamples=1000, seed=0)
    assert bootstrap_interval(VALUES, resamples=1000, seed=7)[1:] == pytest.approx((0.30246875, 0.68009375))


def test_bootstrap_interval_edge_cases():
    assert bootstrap_interval([0.3], resamples=1000, seed=0) == (0.3, 0.3, 0.3)
    assert bootstrap_interval([0.5] * 6, resamples=200, seed=0) == pytest.approx((0.5, 0.5, 0.5))
    with pytest.raises(ValueError):
        bootstrap_interval([], resamples=10, seed=0)


def test_auroc_counts_pairs_and_ties():
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.9], [0.5, 0.1]) == pytest.approx((0.5 + 1 + 1 + 1) / 4)
    assert auroc([], [0.1]) is None


def test_system_intervals_skip_failed_rows_and_count_episodes():
    by = {(i.system, i.metric): i for i in system_intervals(RECORDS, resamples=500, seed=0)}
    sys_score = by[("sys", "consistency.score")]
    assert sys_score.n == 3 and sys_score.mean == pytest.approx((0.62 + 0.41 + 0.55) / 3)
    assert sys_score.low <= sys_score.mean <= sys_score.high
    assert 0.41 <= sys_score.low and sys_score.high <= 0.62
    assert by[("lead", "coverage.chapter_weighted")].n == 0 and by[("lead", "coverage.chapter_weighted")].mean is None


def test_flag_shares_per_system():
    shares = flag_shares(RECORDS)
    assert shares["sys"] == {"major.ad_content": pytest.approx(2 / 3), "minor.boilerplate": pytest.approx(1 / 3)}
    assert shares["lead"] == {"major.ad_content": 0.0, "minor.boilerplate": 0.0}


def test_worst_episodes_link_their_reports():
    worst = worst_episodes(RECORDS, k=2)
    assert worst["sys"] == [
        {"episode_id": "e2", "value": 0.41, "report": "rows/e2__sys/report.html"},
        {"episode_id": "e3", "value": 0.55, "report": "rows/e3__sys/report.html"},
    ]


def test_validity_table_values_and_verdicts():
    checks = {c.check: c for c in validity_table(RECORDS)}
    auc = checks["consistency.score AUROC, sys vs sys on another episode"]
    # 0.62, 0.41, 0.55 against 0.10 and 0.45: 0.41 < 0.45 is the one lost pair of six
    assert auc.value == pytest.approx(5 / 6) and auc.n == 6 and auc.passed is False
    cov = checks["mean coverage.chapter_weighted of mismatched"]
    assert cov.value == pytest.approx(0.05) and cov.passed is True
    lead = checks["lead: share of claims supported (mean over episodes)"]
    assert lead.value == pytest.approx(0.95) and lead.passed is True and lead.target == "≥ 0.95"
    assert not any(c.startswith("random:") for c in checks)  # the random control did not run


def test_validity_table_is_empty_without_controls():
    assert validity_table([r for r in RECORDS if not r["control"]]) == []


def test_write_corpus_leaderboard_files(tmp_path):
    content = write_corpus_leaderboard(RECORDS, tmp_path, seed=0, resamples=200, worst=1)
    page = (tmp_path / "leaderboard.md").read_text(encoding="utf-8")
    assert "4 episodes, 8 rows, 1 failed" in page
    # real systems first, then controls
    assert page.index("| sys | 3 |") < page.index("| lead | 2 |") < page.index("| mismatched | 2 |")
    assert "| consistency.score AUROC, sys vs sys on another episode | 0.833 | ≥ 0.99 | 6 | **no** |" in page
    assert "[e2](rows/e2__sys/report.html) 0.410" in page
    assert "- e4 / sys: x.vtt: file not found" in page
    assert (tmp_path / "leaderboard.csv").read_text().startswith("system,metric,n,mean,ci_low,ci_high\n")
    assert json.loads((tmp_path / "leaderboard.json").read_text(encoding="utf-8"))["bootstrap"]["resamples"] == 200
    assert content["flag_shares"]["sys"]["major.ad_content"] == pytest.approx(2 / 3)
    plots = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert "consistency.score.png" in plots and "coverage.chapter_weighted.png" in plots
    assert (tmp_path / "plots" / "consistency.score.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
