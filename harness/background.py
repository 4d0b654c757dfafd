"""Background units: what a page adds about a person (a bio box from Wikipedia), kept apart from
claims about the conversation.

Background units are still aligned, so a reader learns whether the episode says the same thing,
but they are not scored: their verdict becomes ``not_checkable`` with a reason that says whether
the transcript also says it ("also said in the episode at 0:57"), does not, or contradicts it.
Flags on them are capped at minor (``flags.background_max_severity``), and their share of the page
is the metric ``units.background_share``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from harness.text import format_clock
from harness.types import Summary, UnitVerdict

BACKGROUND_KINDS = frozenset({"background"})


def background_reason(uv: UnitVerdict) -> str:
    """Why a background unit is not scored, and what the transcript says about it."""
    base = "background (what the page adds about a person, not a claim about the conversation)"
    labels = [v.label for v in uv.claims]
    if "contradicted" in labels:
        v = next(v for v in uv.claims if v.label == "contradicted")
        at = _at(v.evidence[0].start_s) if v.evidence else ""
        return f"{base}; the transcript contradicts it{at}"
    said = [v for v in uv.claims if v.label in ("supported", "partially_supported")]
    if said:
        at = _at(said[0].evidence[0].start_s) if said[0].evidence else ""
        return f"{base}; also said in the episode{at}"
    return f"{base}; not said in the episode"


def _at(seconds: float | None) -> str:
    label = format_clock(seconds)
    return f" at {label}" if label else ""


def apply_background_verdicts(unit_verdicts: Sequence[UnitVerdict], summary: Summary) -> tuple[UnitVerdict, ...]:
    """Unit verdicts with every background unit marked ``not_checkable`` (claims and evidence
    kept, so the report shows where the episode says the same)."""
    kinds = {u.unit_id: u.kind for u in summary.units}
    out = []
    for uv in unit_verdicts:
        if kinds.get(uv.unit_id) in BACKGROUND_KINDS and uv.claims:
            out.append(replace(uv, label="not_checkable", score=None, reason=background_reason(uv)))
        elif kinds.get(uv.unit_id) in BACKGROUND_KINDS:
            out.append(replace(uv, reason=f"background, not checked: {uv.reason}" if uv.reason else "background"))
        else:
            out.append(uv)
    return tuple(out)
