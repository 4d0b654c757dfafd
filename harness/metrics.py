"""Metrics stage: named metric groups computed from the typed outputs of earlier stages.

Groups are registered by name in ``METRICS`` and chosen by the ``metrics`` config list. Each
returns ``MetricResult`` records that state their direction and meaning (HELM-style metadata).
That metadata is declared once, in ``METRIC_SPECS`` (name or name pattern → direction, unit,
description), and every emission goes through ``metric(name, value)``, which fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from harness import coverage as coverage_stage
from harness import lexical as lexical_stage
from harness.episode import Episode
from harness.metric_specs import (  # noqa: F401 - re-exported: the registry's public names
    METRIC_SPECS,
    Direction,
    MetricSpec,
    UnknownMetricError,
    metric,
    metric_spec,
)
from harness.registry import Registry
from harness.types import VERDICTS, Flag, MetricResult, Severity, Summary, Transcript, UnitKind, UnitVerdict, VerdictLabel

@dataclass(frozen=True)
class MetricInputs:
    """What metric groups may read: the parsed inputs, the stages' results and each stage's own
    config node.

    Attributes:
        transcript: the parsed transcript.
        summary: the parsed summary.
        unit_verdicts: the alignment verdicts (empty when alignment did not run).
        flags: the flags.
        config: the run config (the ``flags`` group reads which detectors ran).
        coverage: the coverage stage's ``CoverageResult``; computed by the group when ``None``.
        reference: a human reference summary (``reference.path``), if given.
        episode: the run's ``Episode`` (built from ``transcript`` when ``None`` and needed).
        coverage_config: the ``coverage`` node (``CoverageConfig`` or mapping; defaults when ``None``).
        lexical_config: the ``lexical`` node (``LexicalConfig`` or mapping; defaults when ``None``).
    """

    transcript: Transcript
    summary: Summary
    unit_verdicts: tuple[UnitVerdict, ...] = ()
    flags: tuple[Flag, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    coverage: Any | None = None
    reference: Summary | None = None
    episode: Episode | None = None
    coverage_config: Any | None = None
    lexical_config: Any | None = None


MetricGroup = Callable[[MetricInputs], tuple[MetricResult, ...]]
METRICS: Registry[MetricGroup] = Registry("metric group")


@METRICS.register("units")
def unit_metrics(inputs: MetricInputs) -> tuple[MetricResult, ...]:
    """How much of the page is summary at all."""
    summary = inputs.summary
    units = summary.units
    chars_total = sum(len(u.text_plain) for u in units)
    chars_boiler = sum(len(u.text_plain) for u in units if u.boilerplate)
    chars_content = chars_total - chars_boiler
    chars_background = sum(len(u.text_plain) for u in summary.content_units if u.kind == UnitKind.BACKGROUND)
    return (
        metric("units.content", float(len(summary.content_units))),
        metric("units.boilerplate_share", round(chars_boiler / chars_total, 6) if chars_total else 0.0),
        metric(
            "units.background_share",
            round(chars_background / chars_content, 6) if chars_content else 0.0,
            note="not a quality judgement on its own: background can be accurate and useful",
        ),
        metric(
            "units.content_words",
            float(sum(len(u.text_plain.split()) for u in summary.content_units)),
            note="length, not quality: read it next to coverage and consistency",
        ),
    )


def _ci(values: Sequence[float], weights: Sequence[float] | None = None) -> dict[str, float]:
    """``ci_low``/``ci_high`` of a seeded bootstrap 95% interval of the (weighted) mean over
    claims or units (``harness.bootstrap``, 1000 resamples, seed 0); empty when there is nothing."""
    from harness.bootstrap import bootstrap_mean

    interval = bootstrap_mean(values, weights)
    if interval is None:
        return {}
    return {"ci_low": round(interval.low, 6), "ci_high": round(interval.high, 6)}


@METRICS.register("consistency")
def consistency_metrics(inputs: MetricInputs) -> tuple[MetricResult, ...]:
    """Verdict shares, the length-weighted consistency score and sponsor-only evidence."""
    verdicts = inputs.unit_verdicts
    if not verdicts:
        return (
            metric(
                "consistency.score", None,
                description="Mean claim support, weighted by claim length.", note="alignment did not run",
            ),
        )
    checkable = [v for v in verdicts if v.label != VerdictLabel.NOT_CHECKABLE]
    claims = [c for v in checkable for c in v.claims]
    out = [metric("consistency.checkable_unit_share", _share(len(checkable), len(verdicts)))]
    for label in VERDICTS:
        with_ci = label == VerdictLabel.SUPPORTED  # intervals for the headline share only
        unit_ci = _ci([float(v.label == label) for v in checkable]) if with_ci else {}
        out.append(metric(f"consistency.units.{label}", _share(sum(v.label == label for v in checkable), len(checkable)), **unit_ci))
        claim_ci = _ci([float(c.label == label) for c in claims]) if with_ci else {}
        out.append(metric(f"consistency.claims.{label}", _share(sum(c.label == label for c in claims), len(claims)), **claim_ci))
    weights = [max(1, len(c.claim.text.split())) for c in claims]
    score = sum(w * c.score for w, c in zip(weights, claims)) / sum(weights) if claims else None
    out.append(
        metric(
            "consistency.score",
            None if score is None else round(score, 6),
            **_ci([float(c.score) for c in claims], weights),
        )
    )
    out.append(metric("consistency.claims", float(len(claims))))
    sponsor_best = sum(1 for c in claims if c.evidence and c.evidence[0].is_sponsor)
    out.append(metric("consistency.sponsor_evidence_claims", float(sponsor_best)))
    return tuple(out)


@METRICS.register("flags")
def flag_metrics(inputs: MetricInputs) -> tuple[MetricResult, ...]:
    """Counts of major and minor flags, in total and per detector.

    Every enabled detector gets a ``flags.<severity>.<tag>`` count for both severities, 0 when
    it did not fire: a flag fixed since a baseline reads 0, not "missing"."""
    out = []
    tags = set(_enabled_flag_tags(inputs.config))
    for severity in (Severity.MAJOR, Severity.MINOR):
        found = [f for f in inputs.flags if f.severity == severity]
        out.append(metric(f"flags.{severity}", float(len(found))))
        for tag in sorted(tags | {f.tag for f in found}):
            out.append(metric(f"flags.{severity}.{tag}", float(sum(f.tag == tag for f in found))))
    return tuple(out)


def _enabled_flag_tags(config: Mapping[str, Any]) -> list[str]:
    """The tags the run's flag detectors can emit (a detector's tag is its registered name):
    ``flags.enabled`` when the flags stage ran, all registered detectors when it lists none."""
    if not (config.get("stages") or {}).get("flags", True):
        return []
    enabled = (config.get("flags") or {}).get("enabled")
    if enabled is None:
        from harness.flags import FLAGS

        return FLAGS.names()
    return [str(name) for name in enabled]


def _share(n: int, total: int) -> float | None:
    return round(n / total, 6) if total else None


def compute_metrics(names: Sequence[str], inputs: MetricInputs) -> tuple[MetricResult, ...]:
    """Run the named metric groups in order and concatenate their results."""
    results: list[MetricResult] = []
    for name in names:
        results.extend(METRICS.get(name)(inputs))
    return tuple(results)


def _coverage_result(inputs: MetricInputs) -> Any:
    """The coverage result of ``inputs``, computed from its episode when the stage did not run."""
    if inputs.coverage is not None:
        return inputs.coverage
    source = inputs.episode if inputs.episode is not None else inputs.transcript
    return coverage_stage.compute_coverage(source, inputs.summary, inputs.unit_verdicts, inputs.coverage_config)


@METRICS.register("coverage")
def coverage_metric_group(inputs: MetricInputs) -> tuple[MetricResult, ...]:
    """Chapter-, time- and key-point coverage and redundancy (``harness.coverage.compute_coverage``)."""
    return _coverage_result(inputs).metrics


@METRICS.register("lexical")
def lexical_metric_group(inputs: MetricInputs) -> tuple[MetricResult, ...]:
    """ROUGE, chunked BERTScore, compression ratio and extractive fragments
    (``harness.lexical.compute_lexical``); BERTScore recall is over the coverage key points."""
    conf = lexical_stage.LexicalConfig.from_mapping(inputs.lexical_config)
    key_points: Sequence[str] = ()
    if conf.bertscore:
        if inputs.coverage is not None:
            key_points = inputs.coverage.key_point_texts
        else:
            source = inputs.episode if inputs.episode is not None else inputs.transcript
            src = coverage_stage.source_units(source, inputs.coverage_config)
            key_points = [kp.text for ch in src.chapters for kp in src.key_points.get(ch.index, ())]
    source = inputs.episode if inputs.episode is not None else inputs.transcript
    out = lexical_stage.compute_lexical(source, inputs.summary, conf, key_points=key_points)
    if inputs.reference is not None:
        out += lexical_stage.compute_reference_scores(inputs.summary, inputs.reference, conf)
    return out
