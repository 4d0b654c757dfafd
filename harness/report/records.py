"""JSON records of a run: per-unit rows (HELM-style per-instance) and the aggregate report."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Any, Mapping, Sequence

from harness.text import format_clock
from harness.types import RunResult, SponsorSegment, Transcript

REPORT_SCHEMA_VERSION = 1

# Columns of ``RunResult.to_pandas()`` / ``RunView.to_pandas()``, one row per claim.
CLAIM_COLUMNS = (
    "unit_id", "section", "kind", "unit_text", "unit_verdict", "claim_id", "claim_index", "claim",
    "verdict", "score", "evidence_start_s", "evidence_timestamp", "evidence_url", "evidence_speaker",
    "evidence_chapter", "evidence_quote", "evidence_is_sponsor", "flags",
)


def unit_records(result: RunResult) -> list[dict[str, Any]]:
    """One JSON-ready dict per summary unit, in document order."""
    verdicts = {v.unit_id: v for v in result.unit_verdicts}
    rows = []
    for unit in result.summary.units:
        row = asdict(unit)
        verdict = verdicts.get(unit.unit_id)
        if verdict is not None:
            row["verdict"] = verdict.label
            row["score"] = verdict.score
            row["verdict_reason"] = verdict.reason
            row["claims"] = [
                {
                    "claim_id": v.claim.claim_id,
                    "text": v.claim.text,
                    "verdict": v.label,
                    "score": v.score,
                    "evidence": [asdict(e) for e in v.evidence],
                    **_judge_scores(v.features),
                }
                for v in verdict.claims
            ]
        match = result.quote_matches.get(unit.unit_id)
        if match is not None:
            from harness.quotes import quote_record

            row["quote_match"] = quote_record(match)
        rows.append(row)
    return rows


_JUDGE_FEATURES = ("p_supported", "p_contradicted", "p_unsupported", "cascade_tier")


def _judge_scores(features: Any) -> dict[str, Any]:
    """``{"judge": {p_supported, p_contradicted, p_unsupported[, cascade_tier]}}`` of the claim's
    deciding window when an LLM judge (gguf, llm, cascade) scored it; empty for other backends."""
    scores = {k: features[f"verifier.{k}"] for k in _JUDGE_FEATURES if f"verifier.{k}" in (features or {})}
    return {"judge": scores} if scores else {}


def _sponsor_record(sp: SponsorSegment) -> dict[str, Any]:
    return {
        "index": sp.index,
        "start_s": _round(sp.start_s),
        "end_s": _round(sp.end_s),
        "start": format_clock(sp.start_s),
        "end": format_clock(sp.end_s),
        "time_estimated": sp.time_estimated,
        "char_start": sp.char_start,
        "char_end": sp.char_end,
        "rules": list(sp.rules),
        "words": len(sp.text.split()),
        "parts": [
            {
                "kind": p.kind,
                "start_s": _round(p.start_s),
                "end_s": _round(p.end_s),
                "start": format_clock(p.start_s),
                "end": format_clock(p.end_s),
                "char_start": p.char_start,
                "char_end": p.char_end,
            }
            for p in (sp.parts or sp.read_parts)
        ],
    }


def sponsor_parts_text(sp: Mapping[str, Any]) -> str:
    """A sponsor segment's parts in one line: ``read 1:05–2:02; self-promotion 0:50–1:05``."""
    names = {"read": "read", "self_promo": "self-promotion"}
    approx = "≈" if sp.get("time_estimated") else ""
    bits = []
    for part in sp.get("parts") or []:
        where = f"{approx}{part.get('start') or ''}–{approx}{part.get('end') or ''}" if part.get("start") else ""
        bits.append(f"{names.get(part.get('kind'), part.get('kind'))} {where}".strip())
    return "; ".join(bits)


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def transcript_record(t: Transcript) -> dict[str, Any]:
    """Transcript statistics for the report: chapters, turns, sponsor segments, warnings."""
    content = t.content_segments
    return {
        "path": t.path,
        "sha256": t.sha256,
        "format": t.format,
        "title": t.title,
        "video_url": t.video_url,
        "duration_s": t.duration_s,
        "timestamps": bool(t.blocks),
        "chapter_source": t.chapter_source,
        "chapters": [
            {"index": c.index, "title": c.title, "start_s": c.start_s, "end_s": c.end_s, "line_no": c.line_no}
            for c in t.chapters
        ],
        "timestamp_blocks": len(t.blocks),
        "turns": len(content),
        "turns_by_speaker": dict(sorted(Counter(s.speaker or "(none)" for s in content).items())),
        "non_content_segments": len(t.segments) - len(content),
        "words": sum(len(s.text.split()) for s in content),
        "sponsor_segments": [_sponsor_record(sp) for sp in t.sponsor_segments],
        "warnings": list(t.warnings),
    }


def report_dict(result: RunResult, config: dict[str, Any]) -> dict[str, Any]:
    """The aggregate ``report.json`` content (deterministic apart from ``timings_s``)."""
    summary = result.summary
    units = summary.units
    roles = Counter(r.role for r in summary.line_roles)
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "signature": dict(result.signature),
        "config": config,
        "transcript": transcript_record(result.transcript),
        "summary": {
            "path": summary.path,
            "sha256": summary.sha256,
            "format": summary.format,
            "title": summary.title,
            "units": len(units),
            "units_by_kind": dict(sorted(Counter(u.kind for u in units).items())),
            "boilerplate_units": sum(u.boilerplate for u in units),
            "lines_by_role": dict(sorted(roles.items())),
            "cited_timestamps": sum(u.cited_timestamp_s is not None for u in units),
        },
        "metrics": {
            m.name: {
                "value": m.value,
                "higher_is_better": m.higher_is_better,
                "description": m.description,
                "note": m.note,
                **({"ci_low": m.ci_low, "ci_high": m.ci_high} if m.ci_low is not None else {}),
            }
            for m in result.metrics
        },
        "flags": [asdict(f) for f in result.flags],
        "timings_s": dict(result.timings_s),
        **{k: v for k, v in result.extra.items()},
    }


def claims_frame(units: Sequence[Mapping[str, Any]], flags: Sequence[Mapping[str, Any]]) -> Any:
    """A ``pandas.DataFrame`` with one row per claim (``CLAIM_COLUMNS``); the best evidence
    passage fills the ``evidence_*`` columns and ``flags`` lists the tags raised on that claim
    (or on its whole unit). Units without claims (boilerplate, not checkable, or no alignment)
    have no row: ``result.units`` lists every unit."""
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas comes with datasets
        raise ImportError("to_pandas() needs pandas: pip install pandas") from exc
    rows = []
    for unit in units:
        for index, claim in enumerate(unit.get("claims") or ()):
            best = (claim.get("evidence") or [None])[0] or {}
            tags = sorted({
                f["tag"] for f in flags
                if f.get("unit_id") == unit.get("unit_id") and f.get("claim_index") in (None, index)
            })
            rows.append({
                "unit_id": unit.get("unit_id"), "section": unit.get("section"), "kind": unit.get("kind"),
                "unit_text": unit.get("text_plain"), "unit_verdict": unit.get("verdict"),
                "claim_id": claim.get("claim_id"), "claim_index": index, "claim": claim.get("text"),
                "verdict": claim.get("verdict"), "score": claim.get("score"),
                "evidence_start_s": best.get("start_s"), "evidence_timestamp": best.get("timestamp"),
                "evidence_url": best.get("url"), "evidence_speaker": best.get("speaker"),
                "evidence_chapter": best.get("chapter"), "evidence_quote": best.get("quote"),
                "evidence_is_sponsor": best.get("is_sponsor"), "flags": ",".join(tags),
            })
    return pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
