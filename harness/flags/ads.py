"""``ad_content``: a claim that restates the sponsor read instead of the conversation.

Two independent signals, so the detector works with or without verdicts:

* **Evidence** (needs verdicts): the claim's best evidence lies in a sponsor segment, the claim
  is (partly) supported, and no conversation passage among its evidence comes close.
* **Text** (always): the claim is compared with the sponsor segments' sentences and with the
  conversation (transcript turns with the sponsor spans cut out):

  - *semantic*: MiniLM cosine similarity to the best sponsor window is high and clearly above
    the similarity to the best conversation window;
  - *lexical*: several of the claim's content words occur in the sponsor read and nowhere in the
    conversation (products, promo codes, the sponsor's talking points: "debits", "ledgers",
    "Bitcoin"), and they make up a fair share of the claim.

The flag is major when the unit is presented as an insight or an answer (``flags.insight_kinds``),
minor otherwise. Without verdicts the items checked are the unit's sentences (claim index
``None``); with verdicts they are its claims.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from harness.flags.base import FLAGS, SUPPORTED, FlagContext, severity
from harness.text import content_words, format_clock, split_sentences
from harness.transcript_lookup import evidence_from_span
from harness.types import Evidence, Flag, Transcript

log = logging.getLogger(__name__)


@dataclass
class _Piece:
    char_start: int
    char_end: int
    text: str


@dataclass
class _AdIndex:
    sponsor: list[_Piece]
    conversation: list[_Piece]
    conversation_words: list[frozenset[str]]
    sponsor_only_words: frozenset[str]
    sponsor_emb: np.ndarray | None = None
    conversation_emb: dict[int, np.ndarray] = field(default_factory=dict)


def _cut(text: str, start: int, end: int, holes: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """``[start, end)`` minus the ``holes`` (sponsor spans), as absolute spans."""
    spans = [(start, end)]
    for hs, he in holes:
        nxt = []
        for s, e in spans:
            if he <= s or hs >= e:
                nxt.append((s, e))
                continue
            if s < hs:
                nxt.append((s, hs))
            if he < e:
                nxt.append((he, e))
        spans = nxt
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _windows(text: str, spans: Iterable[tuple[int, int]], size: int, stride: int, singles: bool) -> list[_Piece]:
    """Windows of ``size`` consecutive sentences (every ``stride``) inside each span, plus each
    single sentence when ``singles`` (so a one-line claim can match one line)."""
    out = []
    for s, e in spans:
        sents = split_sentences(text[s:e], offset=s)
        if not sents:
            continue
        starts = list(range(0, max(1, len(sents) - size + 1), stride))
        if starts[-1] + size < len(sents):
            starts.append(len(sents) - size)
        for i in starts:
            group = sents[i : i + size]
            cs, ce = group[0][0], group[-1][1]
            out.append(_Piece(cs, ce, text[cs:ce]))
        if singles and size > 1:
            out.extend(_Piece(a, b, text[a:b]) for a, b in sents)
    return out


def _ad_index(ctx: FlagContext, params: Mapping[str, Any]) -> _AdIndex:
    """The sponsor and conversation passages of the transcript (kept on the run's Episode)."""
    size = int(params["window_sentences"])
    if ctx.episode is None:
        return _build_ad_index(ctx.transcript, size)
    return ctx.episode.derived(("flags.ad_index", size), lambda: _build_ad_index(ctx.transcript, size))


def _build_ad_index(transcript: Transcript, size: int) -> _AdIndex:
    text = transcript.text
    holes = [(s.char_start, s.char_end) for s in transcript.sponsor_segments]
    sponsor = _windows(text, holes, size, 1, singles=True)
    conv_spans = []
    for seg in transcript.content_segments:
        conv_spans.extend(_cut(text, seg.char_start, seg.char_end, holes))
    conversation = _windows(text, conv_spans, size, max(1, size - 1), singles=False)
    sponsor_words = {w for p in sponsor for w in content_words(p.text)}
    conv_words = [frozenset(content_words(p.text)) for p in conversation]
    all_conv = set().union(*conv_words) if conv_words else set()
    # the speakers' own names are not sponsor material ("connect with me at Lex Fridman")
    all_conv |= {w for seg in transcript.content_segments if seg.speaker for w in content_words(seg.speaker)}
    return _AdIndex(sponsor, conversation, conv_words, frozenset(sponsor_words - all_conv))


def _encode(texts: Sequence[str]) -> np.ndarray:
    """MiniLM rows of ``texts`` through the one embedding cache (memory and disk)."""
    from harness.cache import default_cache

    return default_cache().embed(list(texts), kind="ad-texts", batch_size=32).matrix


def _conversation_embeddings(idx: _AdIndex, ids: Iterable[int]) -> None:
    todo = sorted(set(ids) - set(idx.conversation_emb))
    if todo:
        for i, vec in zip(todo, _encode([idx.conversation[i].text for i in todo])):
            idx.conversation_emb[i] = vec


@dataclass
class _TextSignal:
    fired: bool
    why: str
    sponsor_sim: float | None
    conversation_sim: float | None
    sponsor_words: tuple[str, ...]
    lexical: bool
    best_sponsor: _Piece | None


def _text_signals(
    items: Sequence[str], idx: _AdIndex, params: Mapping[str, Any], use_embeddings: bool
) -> list[_TextSignal]:
    sim_min = float(params["min_sponsor_similarity"])
    margin = float(params["min_similarity_margin"])
    lex_hits = int(params["min_sponsor_only_words"])
    lex_share = float(params["min_sponsor_only_share"])
    gate = int(params["embed_min_sponsor_only_words"])
    top_k = int(params["conversation_candidates"])

    words = [set(content_words(item)) for item in items]
    hits = [tuple(sorted(w & idx.sponsor_only_words)) for w in words]
    # MiniLM only for items that share a word with the sponsor read alone: the others cannot be
    # sponsor material, and encoding every claim against the whole episode is slow on a CPU.
    gated = [i for i, h in enumerate(hits) if len(h) >= gate] if use_embeddings and idx.sponsor else []
    sims: dict[int, tuple[float, float, int]] = {}
    if gated:
        if idx.sponsor_emb is None:
            idx.sponsor_emb = _encode([p.text for p in idx.sponsor])
        cands = {}
        for i in gated:
            overlap = [(len(words[i] & cw), -j) for j, cw in enumerate(idx.conversation_words)]
            best = sorted(range(len(overlap)), key=lambda j: overlap[j], reverse=True)[:top_k]
            cands[i] = [j for j in best if overlap[j][0] > 0] or best[:1]
        _conversation_embeddings(idx, (j for c in cands.values() for j in c))
        emb = _encode([items[i] for i in gated])
        for row, i in enumerate(gated):
            s = emb[row] @ idx.sponsor_emb.T
            j = int(np.argmax(s))
            conv = np.stack([idx.conversation_emb[c] for c in cands[i]]) if cands[i] else None
            c_sim = float((conv @ emb[row]).max()) if conv is not None else 0.0
            sims[i] = (float(s[j]), c_sim, j)
    out = []
    for i, item in enumerate(items):
        share = len(hits[i]) / len(words[i]) if words[i] else 0.0
        lexical = len(hits[i]) >= lex_hits and share >= lex_share
        s_sim = c_sim = None
        best = None
        semantic = False
        if i in sims:
            s_sim, c_sim, j = sims[i]
            best = idx.sponsor[j]
            semantic = s_sim >= sim_min and s_sim - c_sim >= margin
        elif hits[i] and idx.sponsor:
            best = max(idx.sponsor, key=lambda p: (len(set(content_words(p.text)) & set(hits[i])), -len(p.text)))
        why = []
        if semantic:
            why.append(f"similarity {s_sim:.2f} to the sponsor read vs {c_sim:.2f} to the conversation")
        if lexical:
            why.append("words found only in the sponsor read: " + ", ".join(hits[i][:6]))
        out.append(_TextSignal(semantic or lexical, "; ".join(why), s_sim, c_sim, hits[i], lexical, best))
    return out


def _where(transcript: Transcript, shown: Evidence | None) -> str:
    """`` at m:ss–m:ss`` for the sponsor segment holding the shown passage."""
    if shown is None:
        return ""
    for sp in transcript.sponsor_segments:
        if sp.char_start <= shown.char_start < sp.char_end and sp.start_s is not None:
            end = f"–{format_clock(sp.end_s, missing='?')}" if sp.end_s is not None and sp.end_s - sp.start_s >= 1 else ""
            return f" at {format_clock(sp.start_s, missing='?')}{end}"
    return f" at {format_clock(shown.start_s, missing='?')}" if shown.start_s is not None else ""


def _kind_name(kind: str) -> str:
    return {"qa_answer": "answer", "tldr": "TL;DR", "key_insight": "key insight"}.get(kind, kind.replace("_", " "))


@FLAGS.register("ad_content")
def detect_ad_content(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Claims that restate sponsor material (see the module docstring)."""
    transcript = ctx.transcript
    if not transcript.sponsor_segments:
        return
    sev_insight = severity(params, "severity_insight")
    sev_other = severity(params, "severity_other")
    conv_margin = float(params["evidence_conversation_margin"])
    idx = _ad_index(ctx, params)
    units = ctx.content_units()

    # Items: claims where verdicts exist, else the unit's sentences.
    items: list[tuple[str, int | None, str, tuple[Evidence, ...], str | None]] = []
    for u in units:
        claims = ctx.claims_of(u.unit_id)
        if claims:
            for v in claims:
                items.append((u.unit_id, v.claim.index, v.claim.text, v.evidence, v.label))
        else:
            for s, e in split_sentences(u.text_plain):
                items.append((u.unit_id, None, u.text_plain[s:e], (), None))
    signals = _text_signals([it[2] for it in items], idx, params, bool(params["use_embeddings"]))

    flagged_units: set[str] = set()
    for (unit_id, claim_index, text, evidence, label), sig in zip(items, signals):
        if claim_index is None and unit_id in flagged_units:
            continue  # one unit-level flag per unit
        unit = ctx.units[unit_id]
        via_evidence = False
        if evidence and evidence[0].is_sponsor and label in SUPPORTED:
            best = evidence[0]
            via_evidence = not any(
                (not ev.is_sponsor) and ev.score >= best.score - conv_margin for ev in evidence[1:]
            )
        if not (via_evidence or sig.fired):
            continue
        if via_evidence:
            shown = evidence[0]
        elif sig.best_sponsor is not None:
            shown = evidence_from_span(
                transcript, sig.best_sponsor.char_start, sig.best_sponsor.char_end,
                score=sig.sponsor_sim if sig.sponsor_sim is not None else 0.0, is_sponsor=True,
            )
        else:  # pragma: no cover - a sponsor segment always yields windows
            shown = None
        log.debug("ad_content %s claim %s: %s", unit_id, claim_index, sig.why or "evidence in a sponsor segment")
        where = _where(transcript, shown)
        if via_evidence:
            reason = "the passage that best supports it is the ad"
        elif sig.lexical:
            reason = (
                "it repeats the ad's talking points (" + ", ".join(sig.sponsor_words[:5])
                + "), which nobody mentions in the conversation"
            )
        else:
            reason = "it is far closer to the ad than to anything said in the conversation"
        message = f"This {_kind_name(unit.kind)} comes from the sponsor read{where}, not the conversation: {reason}."
        flagged_units.add(unit_id)
        yield Flag(
            tag="ad_content",
            severity=sev_insight if unit.kind in ctx.insight_kinds else sev_other,
            unit_id=unit_id,
            claim_index=claim_index,
            message=message,
            evidence=(shown,) if shown is not None else (),
        )
