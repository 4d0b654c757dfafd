"""Run the real pipeline on the conversation benchmark and score it against the labels.

For every episode: the transcript reader, sponsor marking, claim splitting, windows and
retrieval, the verifier, the verdict thresholds and the flag detectors run exactly as in
``python -m harness run``, on two kinds of input:

* **summary units**: each labelled summary page is parsed with its format; each labelled unit
  is matched to the pipeline unit that covers most of its span on the same line;
* **written claims**: each claim becomes a one-unit "summary" of kind ``key_insight`` (a claim
  stated as what the episode says), citing ``cited_time_s`` when it has one.

A record is *predicted a problem* when its verdict is not ``supported`` (partially supported,
unsupported, contradicted) or when one of the ``problem_flags`` fired on it. Figures, per split
and separately for units and claims: balanced accuracy of supported vs any problem, ROC AUC of
the support score (and of the score with flagged records ranked last), recall per error kind,
false alarms on faithful claims, and per summary page the predicted vs the labelled supported
share (with a bootstrap 95% interval of the predicted share and of the page's consistency score).

Thresholds are the backend's (``align.thresholds``, overridden by ``model.thresholds``); the
extra ``dev_threshold`` figures choose one support threshold on the dev split only and apply
it to test.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from harness.pipeline import effective_align_config
from harness.benchmarks.conversation import (
    ERROR_KINDS,
    FAITHFUL_KINDS,
    ConversationBenchmark,
    Episode,
    LabelledUnit,
    WrittenClaim,
    summary_pages,
)

log = logging.getLogger(__name__)

DEFAULT_PROBLEM_FLAGS = (
    "number_mismatch",
    "misattribution",
    "extrinsic_entity",
    "ad_content",
    "wrong_timestamp",
    "contradicted_claim",
)


@dataclass(frozen=True)
class Scored:
    """One benchmark record after the pipeline ran.

    Attributes:
        key: claim id, or ``<summary>#<unit_index>`` for a summary unit.
        episode_id: its episode.
        split: dev or test.
        group: the error kind (claims; faithful kinds too) or the unit's label (units).
        problem: the label says there is a problem.
        verdict: the pipeline's verdict of the matched unit.
        score: the verdict's support score (0 when not checkable).
        flags: the problem flags that fired on it.
        predicted_problem: non-supported verdict or a problem flag.
        page: the summary page (units only).
        error_kind: the unit's error kind (units labelled a problem).
        features: the deciding (weakest) claim's verdict features.
        checks: claim checks that fired on any claim of the unit.
        evidence_at_moment: whether the deciding claim's first evidence passage lies within
            ``MOMENT_SLACK_S`` of a labelled moment; ``None`` without moments or evidence.
    """

    key: str
    episode_id: str
    split: str
    group: str
    problem: bool
    verdict: str
    score: float
    flags: tuple[str, ...]
    predicted_problem: bool
    page: str | None = None
    error_kind: str | None = None
    features: Mapping[str, float] | None = None
    checks: tuple[str, ...] = ()
    evidence_at_moment: bool | None = None


MOMENT_SLACK_S = 30.0
"""Seconds of slack when checking evidence against a labelled moment: annotators mark a moment
by its sentences, the pipeline's quote is a sentence or two of a ~50 s window."""


def evidence_at_moment(uv: Any, moments: Sequence[Any], slack_s: float = MOMENT_SLACK_S) -> bool | None:
    """Does the deciding (weakest) claim's first evidence passage overlap a labelled moment?

    ``None`` when there is nothing to compare: no moments, no claims, or evidence without times.
    """
    if not moments or uv is None or not uv.claims:
        return None
    weakest = min(uv.claims, key=lambda v: v.score)
    if not weakest.evidence:
        return False
    ev = weakest.evidence[0]
    if ev.start_s is None:
        return None
    end = ev.end_s if ev.end_s is not None else ev.start_s
    return any(ev.start_s <= m.end_s + slack_s and end >= m.start_s - slack_s for m in moments)


def _claims_summary(claims: Sequence[WrittenClaim]) -> Any:
    from harness.types import Summary, SummaryUnit

    units = tuple(
        SummaryUnit(
            unit_id=f"u{i + 1:03d}",
            index=i,
            section=None,
            kind="key_insight",
            text=c.text,
            text_plain=c.text,
            line_no=i + 1,
            cited_timestamp_s=int(round(c.cited_time_s)) if c.cited_time_s is not None else None,
        )
        for i, c in enumerate(claims)
    )
    return Summary(path="<written claims>", sha256="0" * 64, format="plain", title=None, units=units, line_roles=())


def _run(transcript: Any, summary: Any, run_cfg: Mapping[str, Any], verifier: Any) -> tuple[dict[str, Any], list[Any]]:
    """Claims → align → flags on one summary; verdict per unit id and the flags."""
    from harness.align import align_summary
    from harness.claims import is_checkable, split_claims_from_config
    from harness.flags import detect_flags

    claims_cfg = run_cfg["claims"]
    checkability = {u.unit_id: is_checkable(u, int(claims_cfg["min_content_words"])) for u in summary.units}
    claims = split_claims_from_config(summary.units, claims_cfg)
    alignment = align_summary(
        transcript, summary.units, claims, verifier, effective_align_config(run_cfg), checkability=checkability
    )
    flags = list(detect_flags(transcript, summary, alignment.unit_verdicts, run_cfg.get("flags")))
    return {uv.unit_id: uv for uv in alignment.unit_verdicts}, flags


def _load_transcript(episode: Episode, run_cfg: Mapping[str, Any]) -> Any:
    from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    transcript = load_transcript(str(episode.transcript_path), episode.transcript_format, max_bytes=20_000_000)
    return mark_sponsors(transcript, sponsor_config_from_mapping(run_cfg.get("sponsors") or {}))


def _line_spans(path: Any) -> list[str]:
    return [ln.rstrip("\r") for ln in path.read_bytes().decode("utf-8-sig").split("\n")]


def match_units(labelled: Sequence[LabelledUnit], summary: Any, lines: Sequence[str]) -> dict[int, str | None]:
    """For each labelled unit (by ``unit_index``), the id of the pipeline unit covering most of
    its span on its line (``None`` when no pipeline unit overlaps it)."""
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for u in summary.units:
        line = lines[u.line_no - 1] if 0 < u.line_no <= len(lines) else ""
        first = u.text.split("\n", 1)[0]
        start = line.find(first) if first else -1
        if start < 0:
            start = line.find(u.text_plain[:40]) if u.text_plain else -1
        if start < 0:
            start, end = 0, len(line)  # the format rewrote the line: the unit covers it
        else:
            end = start + len(first)
        spans.setdefault(u.line_no, []).append((start, end, u.unit_id))
    out: dict[int, str | None] = {}
    for lu in labelled:
        best, best_overlap = None, 0
        for a, b, uid in spans.get(lu.line, []):
            overlap = min(b, lu.char_end) - max(a, lu.char_start)
            if overlap > best_overlap:
                best, best_overlap = uid, overlap
        out[lu.unit_index] = best
    return out


def _flag_tags(flags: Sequence[Any], problem_flags: frozenset[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, set[str]] = {}
    for f in flags:
        if f.tag in problem_flags:
            out.setdefault(f.unit_id, set()).add(f.tag)
    return {k: tuple(sorted(v)) for k, v in out.items()}


def score_benchmark(
    bench: ConversationBenchmark,
    run_cfg: Mapping[str, Any],
    verifier: Any,
    *,
    problem_flags: Sequence[str] = DEFAULT_PROBLEM_FLAGS,
) -> tuple[list[Scored], list[Scored], list[dict[str, Any]], dict[str, float]]:
    """Run the pipeline on every episode; returns claim records, unit records, page records
    (predicted and labelled supported share) and seconds per episode."""
    from harness.bootstrap import bootstrap_mean
    from harness.formats import FormatOptions, load_summary

    pf = frozenset(problem_flags)
    claim_rows: list[Scored] = []
    unit_rows: list[Scored] = []
    pages_out: list[dict[str, Any]] = []
    timings: dict[str, float] = {}
    pages = summary_pages(bench.units)
    for episode in bench.episodes:
        claims = [c for c in bench.claims if c.episode_id == episode.episode_id]
        ep_pages = {k: v for k, v in pages.items() if k[0] == episode.episode_id}
        if not claims and not ep_pages:
            continue
        t0 = time.perf_counter()
        transcript = _load_transcript(episode, run_cfg)
        if claims:
            summary = _claims_summary(claims)
            verdicts, flags = _run(transcript, summary, run_cfg, verifier)
            tags = _flag_tags(flags, pf)
            for c, u in zip(claims, summary.units, strict=True):
                uv = verdicts[u.unit_id]
                fired = tags.get(u.unit_id, ())
                claim_rows.append(
                    Scored(
                        key=c.claim_id,
                        episode_id=c.episode_id,
                        split=c.split,
                        group=c.kind,
                        problem=c.is_problem,
                        verdict=uv.label,
                        score=float(uv.score or 0.0),
                        flags=fired,
                        predicted_problem=_predicted(uv.label, fired),
                        features=_weakest(uv),
                        checks=_checks(uv),
                        evidence_at_moment=evidence_at_moment(uv, c.moments),
                    )
                )
        for (_, page), labelled in sorted(ep_pages.items()):
            first = labelled[0]
            summary = load_summary(str(first.summary_path), first.summary_format, FormatOptions(split="sentence"), max_bytes=20_000_000)
            verdicts, flags = _run(transcript, summary, run_cfg, verifier)
            tags = _flag_tags(flags, pf)
            matched = match_units(labelled, summary, _line_spans(first.summary_path))
            page_rows = []
            for lu in labelled:
                uid = matched[lu.unit_index]
                uv = verdicts.get(uid) if uid else None
                label = uv.label if uv is not None else "unmatched"
                fired = tags.get(uid, ()) if uid else ()
                row = Scored(
                    key=f"{page}#{lu.unit_index}",
                    episode_id=lu.episode_id,
                    split=lu.split,
                    group=lu.label,
                    problem=bool(lu.is_problem),
                    verdict=label,
                    score=float(uv.score or 0.0) if uv is not None and uv.score is not None else 0.0,
                    flags=fired,
                    predicted_problem=_predicted(label, fired),
                    page=page,
                    error_kind=lu.error_kind,
                    features=_weakest(uv) if uv is not None else None,
                    checks=_checks(uv) if uv is not None else (),
                    evidence_at_moment=evidence_at_moment(uv, lu.moments),
                )
                if lu.is_problem is not None:
                    unit_rows.append(row)
                    page_rows.append(row)
            checkable = [uv for uv in verdicts.values() if uv.label != "not_checkable"]
            claim_verdicts = [c for uv in checkable for c in uv.claims]
            weights = [max(1, len(c.claim.text.split())) for c in claim_verdicts]
            reported = float(np.mean([uv.label == "supported" for uv in checkable])) if checkable else None
            reported_ci = bootstrap_mean([float(uv.label == "supported") for uv in checkable])
            score_ci = bootstrap_mean([float(c.score) for c in claim_verdicts], weights)
            labelled_share = float(np.mean([not r.problem for r in page_rows])) if page_rows else None
            predicted_share = float(np.mean([not r.predicted_problem for r in page_rows])) if page_rows else None
            pages_out.append(
                {
                    "page": page,
                    "episode_id": episode.episode_id,
                    "split": episode.split,
                    "labelled_units": len(page_rows),
                    "labelled_supported_share": _r(labelled_share),
                    "predicted_supported_share": _r(predicted_share),
                    "predicted_supported_share_ci": _ci(bootstrap_mean([float(not r.predicted_problem) for r in page_rows])),
                    "reported_units_supported": _r(reported),
                    "reported_units_supported_ci": _ci(reported_ci),
                    "consistency_score": _r(sum(w * c.score for w, c in zip(weights, claim_verdicts)) / sum(weights)) if weights else None,
                    "consistency_score_ci": _ci(score_ci),
                    "within_0.10": None
                    if labelled_share is None or predicted_share is None
                    else abs(labelled_share - predicted_share) <= 0.10,
                    "unmatched_units": sum(1 for lu in labelled if matched[lu.unit_index] is None),
                }
            )
        timings[episode.episode_id] = round(time.perf_counter() - t0, 2)
        log.info("conversation %s: %d claims, %d pages in %.1f s", episode.episode_id, len(claims), len(ep_pages), timings[episode.episode_id])
    return claim_rows, unit_rows, pages_out, timings


def _weakest(uv: Any) -> dict[str, float] | None:
    """The verdict features of a unit's lowest-scoring claim (what decides the unit)."""
    if not uv.claims:
        return None
    weakest = min(uv.claims, key=lambda v: v.score)
    return {k: float(v) for k, v in weakest.features.items()}


def _checks(uv: Any) -> tuple[str, ...]:
    """The claim checks (``harness.align_checks``) that fired on any claim of the unit."""
    return tuple(sorted({k[len("check.") :] for v in uv.claims for k in v.features if k.startswith("check.")}))


def _predicted(verdict: str, flags: Sequence[str]) -> bool:
    return verdict not in ("supported", "not_checkable", "unmatched") or bool(flags)


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _ci(interval: Any) -> list[float] | None:
    return None if interval is None else [round(interval.low, 4), round(interval.high, 4)]


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def figures(rows: Sequence[Scored], groups: Sequence[str], faithful: Sequence[str] = ()) -> dict[str, Any]:
    """Balanced accuracy, ROC AUCs, recall per group and false alarms for one set of records."""
    from harness.meta_eval import balanced_accuracy, roc_auc

    if not rows:
        return {"n": 0}
    y_ok = np.array([not r.problem for r in rows], dtype=int)
    pred_ok = np.array([not r.predicted_problem for r in rows], dtype=int)
    score = np.array([r.score for r in rows])
    combined = np.where([bool(r.flags) for r in rows], score - 1.0, score)
    out: dict[str, Any] = {
        "n": len(rows),
        "n_problem": int((1 - y_ok).sum()),
        "balanced_accuracy": _r(balanced_accuracy(y_ok, pred_ok)),
        "roc_auc": _r(roc_auc(score, y_ok)),
        "roc_auc_with_flags": _r(roc_auc(combined, y_ok)),
        "problem_recall": _r(float(np.mean([r.predicted_problem for r in rows if r.problem]))) if (1 - y_ok).any() else None,
        "false_alarm_rate": _r(float(np.mean([r.predicted_problem for r in rows if not r.problem]))) if y_ok.any() else None,
    }
    per: dict[str, Any] = {}
    for g in groups:
        members = [r for r in rows if r.group == g]
        if members:
            per[g] = {"n": len(members), "flagged": _r(float(np.mean([r.predicted_problem for r in members])))}
    out["by_kind"] = per
    if faithful:
        fa = [r for r in rows if r.group in faithful]
        out["false_alarms_on_faithful"] = _r(float(np.mean([r.predicted_problem for r in fa]))) if fa else None
    flag_counts: dict[str, int] = {}
    for r in rows:
        for t in r.flags:
            flag_counts[t] = flag_counts.get(t, 0) + 1
    out["flags_fired"] = dict(sorted(flag_counts.items()))
    verdicts: dict[str, int] = {}
    for r in rows:
        verdicts[r.verdict] = verdicts.get(r.verdict, 0) + 1
    out["verdicts"] = dict(sorted(verdicts.items()))
    located = [r for r in rows if r.evidence_at_moment is not None]
    # Retrieval's share: the deciding evidence lies at the labelled moment (records with moments),
    # overall and for the faithful records (where a miss means a true claim judged on the wrong passage).
    out["evidence_at_moment"] = {
        "n": len(located),
        "share": _r(float(np.mean([r.evidence_at_moment for r in located]))) if located else None,
        "share_not_problem": _r(float(np.mean([r.evidence_at_moment for r in located if not r.problem])))
        if any(not r.problem for r in located) else None,
    }
    return out


def dev_threshold_figures(rows: Sequence[Scored]) -> dict[str, Any]:
    """A support threshold chosen on dev (SummaC/AggreFact percentile search, flags kept as
    problems), applied to test."""
    from harness.meta_eval import balanced_accuracy, choose_threshold

    dev = [r for r in rows if r.split == "dev"]
    test = [r for r in rows if r.split == "test"]
    if not dev or not test:
        return {}
    # a flagged record is a problem whatever the threshold: give it the lowest score
    def s(rs: Sequence[Scored]) -> np.ndarray:
        return np.array([(r.score if not r.flags else -1.0) for r in rs])

    y_dev = np.array([not r.problem for r in dev], dtype=int)
    threshold, dev_bacc = choose_threshold(s(dev), y_dev)
    y_test = np.array([not r.problem for r in test], dtype=int)
    preds = (s(test) > threshold).astype(int)
    return {
        "threshold": round(threshold, 4),
        "dev_balanced_accuracy": _r(dev_bacc),
        "test_balanced_accuracy": _r(balanced_accuracy(y_test, preds)),
    }


def evaluate_conversation(
    bench: ConversationBenchmark,
    run_cfg: Mapping[str, Any],
    verifier: Any,
    *,
    problem_flags: Sequence[str] = DEFAULT_PROBLEM_FLAGS,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """All figures for the benchmark (both splits) and the per-record rows (ids, labels,
    verdicts, scores, flags; no text)."""
    claims, units, pages, timings = score_benchmark(bench, run_cfg, verifier, problem_flags=problem_flags)
    unit_groups = ("partially_supported", "unsupported", "contradicted", "ad", "supported")
    result: dict[str, Any] = {"problem_flags": list(problem_flags), "splits": {}}
    for split in ("dev", "test"):
        c = [r for r in claims if r.split == split]
        u = [r for r in units if r.split == split]
        p = [pg for pg in pages if pg["split"] == split]
        unit_fig = figures(u, unit_groups)
        kinds: dict[str, Any] = {}
        for k in ERROR_KINDS:
            members = [r for r in u if r.problem and r.error_kind == k]
            if members:
                kinds[k] = {"n": len(members), "flagged": _r(float(np.mean([r.predicted_problem for r in members])))}
        unit_fig["by_error_kind"] = kinds
        within = [pg["within_0.10"] for pg in p if pg["within_0.10"] is not None]
        result["splits"][split] = {
            "episodes": sorted({r.episode_id for r in (*c, *u)}),
            "claims": figures(c, FAITHFUL_KINDS + ERROR_KINDS, FAITHFUL_KINDS),
            "units": unit_fig,
            "pages": p,
            "pages_within_0.10": f"{sum(within)}/{len(within)}" if within else None,
        }
    result["dev_threshold"] = {"claims": dev_threshold_figures(claims), "units": dev_threshold_figures(units)}
    result["timing_s"] = timings
    rows = [
        {
            "set": "claims" if r.page is None else "units",
            "key": r.key,
            "episode_id": r.episode_id,
            "split": r.split,
            "group": r.group,
            "problem": r.problem,
            "verdict": r.verdict,
            "score": round(r.score, 6),
            "flags": list(r.flags),
            "checks": list(r.checks),
            "predicted_problem": r.predicted_problem,
            "evidence_at_moment": r.evidence_at_moment,
            # the deciding claim's verdict features (e.g. a judge's p_contradicted): what a
            # threshold other than the support cut is tuned on
            "features": {k: round(v, 4) for k, v in sorted((r.features or {}).items())},
        }
        for r in (*claims, *units)
    ]
    return result, rows
