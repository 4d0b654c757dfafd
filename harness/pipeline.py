"""The run pipeline: parse → units → (claims → align → metrics → flags) → ``RunResult``.

Each stage reads the typed output of the one before; this module only wires them together from
the resolved config and times each stage. It writes nothing (``harness.report`` does).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

from harness.formats import FormatOptions, load_summary
from harness.signature import build_signature
from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
from harness.transcript import load_transcript
from harness.types import MetricResult, RunResult, Summary

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def resolve_input(path: str) -> str:
    """A relative input path as given if it exists from the working directory, else relative to
    the project root (so the bundled references work from any directory)."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return str(p)
    candidate = PROJECT_ROOT / p
    return str(candidate) if candidate.exists() else str(p)


@contextmanager
def _stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - start, 4)
        log.info("stage %s: %.3f s", name, timings[name])


def summary_metrics(summary: Summary) -> tuple[MetricResult, ...]:
    """Metrics of the parse stage: how much of the page is summary at all."""
    units = summary.units
    chars_total = sum(len(u.text_plain) for u in units)
    chars_boiler = sum(len(u.text_plain) for u in units if u.boilerplate)
    return (
        MetricResult(
            name="units.content",
            value=float(len(summary.content_units)),
            higher_is_better=True,
            description="Number of summary units that are content (not site boilerplate).",
        ),
        MetricResult(
            name="units.boilerplate_share",
            value=round(chars_boiler / chars_total, 6) if chars_total else 0.0,
            higher_is_better=False,
            description="Share of the page's unit characters that are site boilerplate, not summary.",
        ),
        MetricResult(
            name="units.content_words",
            value=float(sum(len(u.text_plain.split()) for u in summary.content_units)),
            higher_is_better=True,
            description="Words of summary content (boilerplate excluded).",
            note="length, not quality: read it next to coverage and consistency",
        ),
    )


def run_pipeline(cfg: Mapping[str, Any]) -> RunResult:
    """Run every configured stage on one (transcript, summary) pair.

    Args:
        cfg: the resolved run config as plain containers (``OmegaConf.to_container``), without
            the ``hydra`` node.

    Raises:
        HarnessError: a bad input file or config value (the CLI turns it into one line).
    """
    timings: dict[str, float] = {}
    max_bytes = int(cfg.get("max_input_bytes", 5_000_000))
    t_cfg, s_cfg = cfg["transcript"], cfg["summary"]

    with _stage("parse_transcript", timings):
        transcript = load_transcript(
            resolve_input(t_cfg["path"]), t_cfg.get("format", "markdown_blog"), max_bytes=max_bytes
        )
    with _stage("sponsors", timings):
        transcript = mark_sponsors(transcript, sponsor_config_from_mapping(cfg.get("sponsors", {})))
    with _stage("parse_summary", timings):
        options = FormatOptions(
            split=s_cfg.get("split", "sentence"),
            boilerplate_patterns=tuple(s_cfg.get("boilerplate_patterns") or ()),
        )
        summary = load_summary(resolve_input(s_cfg["path"]), s_cfg["format"], options, max_bytes=max_bytes)

    metrics = summary_metrics(summary)
    signature = build_signature(
        inputs={
            "transcript": {"sha256": transcript.sha256, "format": transcript.format},
            "summary": {"sha256": summary.sha256, "format": summary.format},
        },
        config=cfg,
    )
    return RunResult(
        signature=signature,
        transcript=transcript,
        summary=summary,
        metrics=metrics,
        timings_s=timings,
    )
