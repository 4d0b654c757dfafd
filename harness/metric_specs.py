"""Metric metadata, declared once: every metric a run reports (by name or name pattern) with its
direction, unit and description, and ``metric(name, value)`` that builds a ``MetricResult`` from it.

A module of its own below ``harness.metrics``, so the stages that emit metrics (metrics,
coverage, lexical) all use it without importing one another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import HarnessError
from harness.types import MetricResult, StrEnum

# ----------------------------------------------------------------------------------------------
# Metric metadata, declared once
# ----------------------------------------------------------------------------------------------


class Direction(StrEnum):
    """Which way a metric gets better. ``none``: a size or a count that is not a quality on its
    own (more claims is neither better nor worse); the regression gate never fails on it in
    either direction, and ``report.json`` records its ``higher_is_better`` as ``null``."""

    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"

    @property
    def higher_is_better(self) -> bool | None:
        """``True``/``False`` for a score, ``None`` for ``none``: what ``report.json`` records."""
        return {"higher": True, "lower": False}.get(self.value)


@dataclass(frozen=True)
class MetricSpec:
    """What one metric (or a family of them) means.

    Attributes:
        pattern: the metric name, with ``{field}`` for a name part that varies
            (``consistency.claims.{label}``); the part must not contain a dot.
        direction: which way is better (``Direction``).
        unit: ``share`` (in [0, 1]), ``score`` (in [0, 1]), ``count``, ``words`` or ``ratio``.
        description: one sentence; ``{field}`` is filled from the name.
    """

    pattern: str
    direction: Direction
    unit: str
    description: str

    @property
    def regex(self) -> re.Pattern[str]:
        parts = re.split(r"(\{\w+\})", self.pattern)
        body = "".join(f"(?P<{p[1:-1]}>[^.]+)" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(f"^{body}$")


H, L, N = Direction.HIGHER, Direction.LOWER, Direction.NONE
_ROUGE = "ROUGE {variant} {which}"

# Every metric a run can report. An exact name is looked up before the patterns; among patterns
# the first match wins. A name with no entry is an error (tests/test_metric_specs.py runs the
# references and checks every emitted name against this table).
METRIC_SPECS: tuple[MetricSpec, ...] = (
    # units
    MetricSpec("units.content", N, "count", "Number of summary units that are content (not site boilerplate)."),
    MetricSpec("units.boilerplate_share", L, "share", "Share of the page's unit characters that are site boilerplate, not summary."),
    MetricSpec(
        "units.background_share", L, "share",
        "Share of the page's content characters that are background (a bio box: what the page adds about a "
        "person, not a claim about the conversation; not scored).",
    ),
    MetricSpec("units.content_words", N, "words", "Words of summary content (boilerplate excluded)."),
    # consistency
    MetricSpec("consistency.score", H, "score", "Mean claim support score in [0, 1], weighted by claim length in words."),
    MetricSpec("consistency.claims", N, "count", "Number of claims checked."),
    MetricSpec("consistency.checkable_unit_share", H, "share", "Share of summary units that could be checked against the transcript."),
    MetricSpec(
        "consistency.sponsor_evidence_claims", L, "count",
        "Claims whose best evidence lies in a sponsor read (an ad passed off as content).",
    ),
    MetricSpec("consistency.units.supported", H, "share", "Share of checkable units whose verdict is supported."),
    MetricSpec("consistency.units.{label}", L, "share", "Share of checkable units whose verdict is {label}."),
    MetricSpec("consistency.claims.supported", H, "share", "Share of claims whose verdict is supported."),
    MetricSpec("consistency.claims.{label}", L, "share", "Share of claims whose verdict is {label}."),
    # flags
    MetricSpec("flags.{severity}", L, "count", "Number of {severity} flags (errors a careful reader would catch)."),
    MetricSpec("flags.{severity}.{tag}", L, "count", "Number of {severity} {tag} flags."),
    # coverage (emitted by harness/coverage.py)
    MetricSpec(
        "coverage.chapter_weighted", H, "score",
        "Mean chapter coverage score in [0, 1] over the non-sponsor chapters (each chapter counts the same).",
    ),
    MetricSpec("coverage.time_weighted", H, "score", "Chapter coverage scores weighted by each chapter's non-sponsor duration."),
    MetricSpec(
        "coverage.key_point_recall", H, "share",
        "Share of the chapters' key points (central transcript sentences) matched by a summary item.",
    ),
    MetricSpec("coverage.chapters_covered", H, "share", "Share of non-sponsor chapters covered fully or partly."),
    MetricSpec("coverage.chapters_missed", L, "count", "Number of non-sponsor chapters the summary does not touch (label none)."),
    MetricSpec(
        "coverage.redundancy", L, "share",
        "Share of summary item pairs (from different units) that restate each other.",
    ),
    MetricSpec("coverage.redundant_pairs", L, "count", "Number of summary item pairs that restate each other."),
    # lexical (emitted by harness/lexical.py)
    MetricSpec("lexical.bertscore.{which}", H, "score", "BERTScore {which} of the summary against the transcript."),
    MetricSpec("lexical.compression_ratio", N, "ratio", "Transcript words (conversation, sponsor reads excluded) per summary content word."),
    MetricSpec(
        "lexical.fragment_coverage", N, "share",
        "Extractive fragment coverage (Grusky et al. 2018): share of summary words inside a word sequence copied from the transcript.",
    ),
    MetricSpec(
        "lexical.fragment_density", N, "words",
        "Extractive fragment density (Grusky et al. 2018): mean length of the copied sequence a summary word sits in.",
    ),
    MetricSpec("lexical.reference.bertscore.{which}", H, "score", "BERTScore {which} of the summary against the reference summary."),
    MetricSpec("lexical.reference.{variant}.{which}", H, "score", _ROUGE + " of the summary against the reference summary."),
    MetricSpec("lexical.{variant}.{which}", H, "score", _ROUGE + " of the summary against the transcript."),
)


class UnknownMetricError(HarnessError):
    """A metric name with no entry in ``METRIC_SPECS``."""


def metric_spec(name: str) -> MetricSpec:
    """The registry entry of metric ``name`` (an exact name first, then the first pattern).

    Raises:
        UnknownMetricError: no entry matches.
    """
    for spec in METRIC_SPECS:
        if spec.pattern == name:
            return spec
    for spec in METRIC_SPECS:
        if "{" in spec.pattern and spec.regex.match(name):
            return spec
    raise UnknownMetricError(f"metric {name!r} has no entry in harness.metrics.METRIC_SPECS; declare it there")


def metric(name: str, value: float | None, *, description: str | None = None, note: str | None = None, **interval: float) -> MetricResult:
    """A ``MetricResult`` whose direction and description come from ``METRIC_SPECS``.

    Args:
        name: the metric name (must match an entry).
        value: the number, ``None`` when it could not be computed (``note`` says why).
        description: a sentence to use instead of the registry's (e.g. one naming a threshold
            from the config); the direction always comes from the registry.
        note: caveats.
        interval: ``ci_low``/``ci_high`` of a bootstrap interval, when the metric has one.
    """
    spec = metric_spec(name)
    if description is None:
        found = spec.regex.match(name)
        description = spec.description.format(**(found.groupdict() if found else {}))
    return MetricResult(
        name=name,
        value=value,
        higher_is_better=spec.direction.higher_is_better,
        description=description,
        note=note,
        **interval,
    )
