"""Detectors that compare a claim with its evidence: ``number_mismatch``, ``wrong_timestamp``,
``misattribution``, ``unsupported_claim`` and ``contradicted_claim``.

All of them read ``Verdict.evidence`` (best first) and produce nothing without verdicts, except
the validity part of ``wrong_timestamp`` (a citation that is not a time, or lies past the end of
the episode), which needs only the summary and the transcript.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from harness.errors import ConfigError
from harness.flags.base import FLAGS, SUPPORTED, FlagContext, severity
from harness.flags.numbers import Number, comparable, extract_numbers, same_value
from harness.flags.text import quoted
from harness.formats.base import find_citations
from harness.text import content_words, format_clock
from harness.transcript_lookup import Speaker, match_speaker
from harness.types import Evidence, Flag, SummaryUnit, Verdict


def _verdict_items(ctx: FlagContext) -> Iterable[tuple[SummaryUnit, Verdict]]:
    """(unit, claim verdict) for every content unit that has verdicts, in unit order."""
    for unit in ctx.content_units():
        for v in ctx.claims_of(unit.unit_id):
            yield unit, v


def _at(ev: Evidence) -> str:
    return format_clock(ev.start_s, missing="?") if ev.start_s is not None else (ev.timestamp or "?")


# ----------------------------------------------------------------------------------------------
# number_mismatch
# ----------------------------------------------------------------------------------------------


def _claim_numbers(text: str) -> list[Number]:
    return [n for n in extract_numbers(text) if not (n.kind == "ordinal" and not n.text[:1].isdigit())]


def _window_text(ctx: FlagContext, ev: Evidence, pad: int) -> str:
    """The evidence quote widened by ``pad`` characters of transcript on each side (when the
    evidence's offsets point into this transcript), else the quote."""
    text = ctx.transcript.text
    if 0 <= ev.char_start < ev.char_end <= len(text):
        return text[max(0, ev.char_start - pad) : min(len(text), ev.char_end + pad)]
    return ev.quote


@FLAGS.register("number_mismatch")
def detect_number_mismatch(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """A number in a claim that differs from the same-kind number of its best evidence, when the
    claim's value appears nowhere in its evidence (quotes and the text around them)."""
    sev = severity(params, "severity")
    min_score = float(params["min_evidence_score"])
    pad = int(params["window_chars"])
    for unit, v in _verdict_items(ctx):
        if not v.evidence or v.evidence[0].score < min_score:
            continue
        claim_nums = _claim_numbers(v.claim.text)
        if not claim_nums:
            continue
        best = v.evidence[0]
        best_nums = _claim_numbers(best.quote)
        around = [n for ev in v.evidence for n in _claim_numbers(_window_text(ctx, ev, pad))]
        around += [n for ev in v.evidence for n in _claim_numbers(ev.quote)]
        for c in claim_nums:
            rivals = [n for n in best_nums if comparable(c, n)]
            if not rivals or any(same_value(c.value, n.value) for n in around):
                continue
            said = ", ".join(f"“{n.text}”" for n in rivals[:3])
            yield Flag(
                tag="number_mismatch",
                severity=sev,
                unit_id=unit.unit_id,
                claim_index=v.claim.index,
                message=(
                    f"The summary says “{c.text}”, but the transcript says {said} here ({_at(best)}): "
                    f"{quoted(best.quote, 14)}."
                ),
                evidence=(best,),
            )


# ----------------------------------------------------------------------------------------------
# wrong_timestamp
# ----------------------------------------------------------------------------------------------


def _cited_text_covers(ctx: FlagContext, unit: SummaryUnit, cited: float, tol: float, best: Evidence, ratio: float) -> bool:
    """Whether the transcript around the cited time holds the unit's content words about as well
    as the best evidence does (the topic may be said twice; the aligner picked the other place)."""
    if ratio <= 0:
        return False
    claim = set(content_words(unit.text_plain))
    if not claim:
        return False
    around = " ".join(
        seg.text
        for seg in ctx.transcript.content_segments
        if seg.start_s is not None
        and seg.start_s <= cited + tol
        and (seg.end_s if seg.end_s is not None else seg.start_s) >= cited - tol
    )
    cited_recall = len(claim & set(content_words(around))) / len(claim)
    evidence_recall = len(claim & set(content_words(best.quote))) / len(claim)
    return evidence_recall > 0 and cited_recall >= ratio * evidence_recall


@FLAGS.register("wrong_timestamp")
def detect_wrong_timestamp(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """A cited time that is invalid, past the end of the episode, or more than ``tolerance_s``
    from the best evidence of every claim of the unit, whatever their verdicts (with
    ``require_supported``: from every evidence passage of its supported claims)."""
    tol = float(params["tolerance_s"])
    major_after = float(params["major_after_s"])
    grace = float(params["end_grace_s"])
    min_score = float(params["min_evidence_score"])
    # False (default): a citation far from the claim's best evidence is flagged whatever the
    # verdict; True: only for claims judged (partially) supported, as before.
    require_supported = bool(params.get("require_supported", False))
    sev_invalid = severity(params, "severity_invalid")
    duration = ctx.transcript.duration_s
    for unit in ctx.content_units():
        citations = find_citations(unit.text)
        for c in citations:
            if c.seconds is None:
                yield Flag(
                    tag="wrong_timestamp",
                    severity=sev_invalid,
                    unit_id=unit.unit_id,
                    claim_index=None,
                    message=f"The summary cites “{c.label}”, which is not a valid time.",
                )
        cited = unit.cited_timestamp_s
        if cited is None:
            continue
        if duration is not None and cited > duration + grace:
            yield Flag(
                tag="wrong_timestamp",
                severity=sev_invalid,
                unit_id=unit.unit_id,
                claim_index=None,
                message=(
                    f"The summary cites {format_clock(cited, missing='?')}, but the episode's transcript ends at about "
                    f"{format_clock(duration, missing='?')}."
                ),
            )
            continue
        if require_supported:
            support = [
                ev
                for v in ctx.claims_of(unit.unit_id)
                if v.label in SUPPORTED
                for ev in v.evidence
                if ev.score >= min_score and ev.start_s is not None
            ]
        else:  # each claim's best evidence, whatever its verdict
            support = [
                v.evidence[0]
                for v in ctx.claims_of(unit.unit_id)
                if v.evidence and v.evidence[0].score >= min_score and v.evidence[0].start_s is not None
            ]
        if not support:
            continue
        if any(ev.start_s - tol <= cited <= (ev.end_s if ev.end_s is not None else ev.start_s) + tol for ev in support):
            continue
        best = max(support, key=lambda ev: ev.score)
        if _cited_text_covers(ctx, unit, cited, tol, best, float(params["cited_text_overlap_ratio"])):
            continue
        off = abs(cited - best.start_s)
        yield Flag(
            tag="wrong_timestamp",
            severity="major" if off > major_after else "minor",
            unit_id=unit.unit_id,
            claim_index=None,
            message=(
                f"The summary cites {format_clock(cited, missing='?')}, but the transcript says this at {_at(best)}: "
                f"{quoted(best.quote, 12)}."
            ),
            evidence=(best,),
        )


# ----------------------------------------------------------------------------------------------
# misattribution
# ----------------------------------------------------------------------------------------------

_NAME = r"(?P<name>[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){0,2})"
_ROLE = r"(?:the\s+)?(?P<role>host|interviewer|guest|interviewee)"
_PRONOUN = r"(?P<pronoun>\b(?:he|she)\b)"


def _attribution_patterns(verbs: Sequence[str]) -> list[re.Pattern[str]]:
    verb = r"(?:also\s+|further\s+|then\s+|later\s+)?(?:" + "|".join(re.escape(v) for v in verbs) + r")\b"
    return [
        re.compile(rf"(?:^|[\s,;(]){_NAME}(?:['’]s)?\s+{verb}"),
        re.compile(rf"(?i:(?:^|[\s,;(]){_ROLE})\s+(?i:{verb})"),
        re.compile(rf"(?i:{_PRONOUN})\s+(?i:{verb})"),
        re.compile(rf"\b(?i:according\s+to)\s+(?:{_NAME}|(?i:{_ROLE}))"),
    ]


def _previous_person(ctx: FlagContext, unit: SummaryUnit, before: int, speakers: Sequence[Speaker]) -> Speaker | None:
    """The last of ``speakers`` named before a pronoun: earlier in the unit, then in earlier
    units of the same section (nearest first)."""
    texts = [unit.text_plain[:before]]
    for u in reversed(ctx.summary.units[: unit.index]):
        if u.section != unit.section or u.boilerplate:
            break
        texts.append(u.text_plain)
    name_re = re.compile(r"[A-Z][\w'’\-]+(?:\s+[A-Z][\w'’\-]+){0,2}")
    for t in texts:
        for m in reversed(list(name_re.finditer(t))):
            sp = match_speaker(re.sub(r"['’]s$", "", m.group(0)), speakers)
            if sp is not None:
                return sp
    return None


def _attributed(
    ctx: FlagContext,
    unit: SummaryUnit,
    v: Verdict,
    patterns: Sequence[re.Pattern[str]],
    speakers: Sequence[Speaker],
    host: Speaker | None,
    guest: Speaker | None,
) -> tuple[Speaker, str] | None:
    """The one of ``speakers`` a claim attributes its statement to, and how it was named."""
    text = v.claim.text
    for p in patterns:
        m = p.search(text)
        if not m:
            continue
        groups = m.groupdict()
        if groups.get("name"):
            name = re.sub(r"['’]s$", "", groups["name"])
            sp = match_speaker(name, speakers)
            if sp is not None:
                return sp, name
        elif groups.get("role"):
            role = groups["role"].lower()
            sp = host if role in ("host", "interviewer") else guest
            if sp is not None:
                return sp, f"the {role}"
        elif groups.get("pronoun"):
            before = v.claim.char_start + m.start() if 0 <= v.claim.char_start <= len(unit.text_plain) else 0
            sp = _previous_person(ctx, unit, before, speakers)
            if sp is not None:
                return sp, f"{groups['pronoun']} ({sp.name})"
    return None


def _answered_by(ctx: FlagContext, ev: Evidence, person: Speaker) -> bool:
    """Whether the evidence is a question whose answer (the next turn) is ``person``'s: "So you
    think X?" — "Yes." makes X the answerer's view."""
    if "?" not in ev.quote:
        return False
    segs = ctx.transcript.content_segments
    for i, seg in enumerate(segs):
        if seg.char_start <= ev.char_start < max(seg.char_end, seg.char_start + 1):
            nxt = next((s for s in segs[i + 1 :] if s.speaker), None)
            return nxt is not None and ctx.index.speaker_of(nxt.speaker) is person
    return False


@FLAGS.register("misattribution")
def detect_misattribution(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """A claim that puts a statement in one speaker's mouth while the transcript gives it to
    another (near-identical speaker labels count as one person)."""
    sev = severity(params, "severity")
    min_score = float(params["min_evidence_score"])
    margin = float(params["same_speaker_margin"])
    verbs = params["verbs"]
    if not verbs:
        raise ConfigError("flags.misattribution.verbs must list at least one reporting verb")
    patterns = _attribution_patterns(verbs)
    idx = ctx.index
    if not idx.speakers:
        yield from _misattributed_framing(ctx, params, patterns, sev, margin)
        return
    for unit, v in _verdict_items(ctx):
        if not v.evidence or v.label not in SUPPORTED or v.evidence[0].score < min_score:
            continue
        found = _attributed(ctx, unit, v, patterns, idx.speakers, idx.host, idx.guest)
        if found is None:
            continue
        person, named = found
        best = v.evidence[0]
        actual = idx.speaker_of(best.speaker)
        if actual is None or actual is person:
            continue
        if any(idx.speaker_of(ev.speaker) is person and ev.score >= best.score - margin for ev in v.evidence[1:]):
            continue
        if params["question_answered_by_next_turn"] and _answered_by(ctx, best, person):
            continue
        yield Flag(
            tag="misattribution",
            severity=sev,
            unit_id=unit.unit_id,
            claim_index=v.claim.index,
            message=(
                f"The summary attributes this to {person.name}, but in the transcript {actual.name} "
                f"says it ({_at(best)}): {quoted(best.quote, 12)}."
            ),
            evidence=(best,),
        )


def _misattributed_framing(
    ctx: FlagContext,
    params: Mapping[str, Any],
    patterns: Sequence[re.Pattern[str]],
    sev: str,
    margin: float,
) -> Iterable[Flag]:
    """Misattribution without speaker labels: a claim that gives the guest (named as the
    intro or outro names them, or "the guest") a statement whose best evidence lies in the host's
    intro or outro, where no other evidence passage within ``margin`` lies outside them. The
    rest of the conversation has no labels, so nothing else is checked (the report says so).

    ``min_evidence_score`` does not apply: the verdict's label (by the backend's own thresholds)
    already says the best passage supports the claim, and backends score on different scales."""
    framing = ctx.framing
    if not framing.spans or not framing.guests:
        return
    guest = Speaker(framing.guests[0], frozenset(framing.guests), 0)
    names = {w for g in framing.guests for w in content_words(g)}
    fcfg = params.get("host_framing") or {}
    min_shared = int(fcfg.get("min_shared_words", 1))
    min_share = float(fcfg.get("min_shared_share", 0.0))
    part_severity = {part: severity(fcfg, f"severity_{part}") if f"severity_{part}" in fcfg else sev for part in ("intro", "outro")}
    for unit, v in _verdict_items(ctx):
        if not v.evidence or v.label not in SUPPORTED:
            continue
        found = _attributed(ctx, unit, v, patterns, [guest], None, guest)
        if found is None:
            continue
        _, named = found
        best = v.evidence[0]
        span = framing.span_at(best.char_start, best.char_end)
        if span is None:
            continue
        if framing.credits_guest(ctx.transcript.text, best.char_start, best.char_end):
            continue  # the host reads or reports the guest's own words ("as Scott says, …")
        said = set(content_words(v.claim.text)) - names
        shared = said & set(content_words(best.quote))
        if len(shared) < min_shared or len(shared) < min_share * len(said):
            continue  # the passage shares a topic with the claim but does not say what it says
        if any(
            framing.part_at(ev.char_start, ev.char_end) is None and ev.score >= best.score - margin
            for ev in v.evidence[1:]
        ):
            continue
        yield Flag(
            tag="misattribution",
            severity=part_severity[span.part],
            unit_id=unit.unit_id,
            claim_index=v.claim.index,
            message=(
                f"The summary attributes this to {named}, but it comes from the host's {span.label} "
                f"({_at(best)}): {quoted(best.quote, 12)}."
            ),
            evidence=(best,),
        )


# ----------------------------------------------------------------------------------------------
# unsupported_claim / contradicted_claim
# ----------------------------------------------------------------------------------------------


@FLAGS.register("contradicted_claim")
def detect_contradicted_claim(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Claims the verifier judged contradicted by the transcript."""
    sev = severity(params, "severity")
    for unit, v in _verdict_items(ctx):
        if v.label != "contradicted":
            continue
        where = f"; see {_at(v.evidence[0])}: {quoted(v.evidence[0].quote, 12)}" if v.evidence else ""
        yield Flag(
            tag="contradicted_claim",
            severity=sev,
            unit_id=unit.unit_id,
            claim_index=v.claim.index,
            message=f"The transcript contradicts the claim {quoted(v.claim.text, 12)}{where}.",
            evidence=tuple(v.evidence[:1]),
        )


@FLAGS.register("unsupported_claim")
def detect_unsupported_claim(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Unsupported claims in units presented as insights or answers (``flags.insight_kinds``)."""
    sev = severity(params, "severity")
    kinds = frozenset(params["kinds"] or ctx.insight_kinds)
    for unit, v in _verdict_items(ctx):
        if v.label != "unsupported" or unit.kind not in kinds:
            continue
        where = f"; the closest passage is at {_at(v.evidence[0])}" if v.evidence else ""
        yield Flag(
            tag="unsupported_claim",
            severity=sev,
            unit_id=unit.unit_id,
            claim_index=v.claim.index,
            message=f"Nothing in the transcript supports the claim {quoted(v.claim.text, 12)}{where}.",
            evidence=tuple(v.evidence[:1]),
        )
