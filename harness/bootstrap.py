"""Bootstrap confidence intervals, in the manner of rouge-score's ``BootstrapAggregator``.

``BootstrapAggregator`` resamples the per-item scores with replacement ``n_samples`` times, takes
the mean of each resample, and reports the ``(1 - confidence) / 2``, 50th and
``(1 + confidence) / 2`` percentiles of those means as low, mid and high. ``bootstrap_mean`` does
the same with a seeded NumPy generator (so a run is reproducible), and optionally with weights:
the statistic of a resample is then ``Σ w·x / Σ w`` over the resampled items (a ratio estimator,
as for the length-weighted consistency score).

``interval_ranks`` ranks rows by intervals: a row's rank is 1 + the number of rows whose
interval lies entirely on the better side of its own, so rows whose intervals overlap tie.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

DEFAULT_SAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A bootstrap interval of a statistic.

    Attributes:
        low: the lower percentile of the resampled statistics.
        mid: their median.
        high: the upper percentile.
        confidence: e.g. 0.95.
        n: items resampled.
        n_samples: resamples drawn.
    """

    low: float
    mid: float
    high: float
    confidence: float
    n: int
    n_samples: int

    def overlaps(self, other: Interval) -> bool:
        """Whether the two intervals share at least one point."""
        return self.low <= other.high and other.low <= self.high


def bootstrap_mean(
    values: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    n_samples: int = DEFAULT_SAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = DEFAULT_SEED,
) -> Interval | None:
    """Percentile bootstrap interval of the (weighted) mean of ``values``; ``None`` when empty.

    Raises:
        ValueError: ``confidence`` outside (0, 1), ``n_samples`` < 1, or weights of another
            length or not positive.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return None
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != x.shape:
        raise ValueError(f"{w.size} weights for {x.size} values")
    if np.any(w <= 0):
        raise ValueError("weights must be positive")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_samples, x.size))
    stats = (x[idx] * w[idx]).sum(axis=1) / w[idx].sum(axis=1)
    alpha = (1.0 - confidence) / 2.0
    low, mid, high = np.percentile(stats, [100 * alpha, 50.0, 100 * (1 - alpha)])
    return Interval(float(low), float(mid), float(high), confidence, int(x.size), n_samples)


def interval_ranks(intervals: Sequence[Interval | None], higher_is_better: bool = True) -> list[int | None]:
    """Rank 1 = best; a row is behind only the rows whose interval lies wholly on the better side
    of its own, so rows with overlapping intervals share a rank. Rows without an interval get
    ``None`` and do not count."""
    out: list[int | None] = []
    for a in intervals:
        if a is None:
            out.append(None)
            continue
        ahead = 0
        for b in intervals:
            if b is None or b is a:
                continue
            if (b.low > a.high) if higher_is_better else (b.high < a.low):
                ahead += 1
        out.append(1 + ahead)
    return out
