"""Coverage: how much of the conversation a summary captures, chapter by chapter, over time.

Source content units
    The episode's chapters (``Transcript.chapters``; found by ``harness.segmentation`` when the
    transcript has none or ``segmentation: auto`` is configured). Inside each chapter, its *key
    points*: the sentences most central to the chapter (cosine of the sentence's MiniLM embedding
    to the chapter centroid, or thresholded degree centrality), ``per_minute`` of them per minute
    of non-sponsor speech, clamped to ``[min_per_chapter, max_per_chapter]``, near-duplicates
    skipped. Sponsor reads are excluded everywhere: their sentences are never key points, their
    seconds are not part of a chapter's weight, and a chapter that is (nearly) all sponsor read is
    left out of every denominator (covering an ad is not coverage).

Matching
    (a) A key point is *matched* when some summary item reaches ``match_threshold`` cosine to it.
    Items are the claims of the alignment verdicts (contradicted claims left out), or, when
    alignment did not run, the summary's content units (the result's notes say so).
    (b) With verdicts, a chapter also gets *evidence credit* for the supported (1) and partially
    supported (0.5) claims whose best evidence starts inside it; ``evidence_full_claims`` credits
    saturate it.

Per chapter: ``score = (1 - evidence_weight) * key_point_recall + evidence_weight * evidence``
(just the key-point recall without verdicts), labelled ``full`` / ``partial`` / ``none`` by
``full_threshold`` and ``partial_threshold``.

Summary level: chapter-weighted coverage (mean chapter score), time-weighted coverage (weights =
non-sponsor seconds of each chapter), key-point recall, the missed chapters and key points (what
the summary left out, with times), and redundancy: the share of item pairs (from different units)
whose cosine reaches ``redundancy_threshold``, with the pairs listed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from harness.episode import as_episode
from harness.metric_specs import metric
from harness.segmentation import TranscriptSentence
from harness.stage_config import CoverageConfig, KeyPointConfig
from harness.text import format_clock, split_sentences
from harness.types import Chapter, MetricResult, Summary, Transcript, UnitVerdict

if TYPE_CHECKING:  # pragma: no cover
    from harness.episode import Episode

log = logging.getLogger(__name__)

LABELS = ("full", "partial", "none")
_CREDIT = {"supported": 1.0, "partially_supported": 0.5}

# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPoint:
    """A central sentence of a chapter.

    Attributes:
        chapter_index: the chapter it belongs to.
        rank: 0 = most central in its chapter.
        text: the sentence.
        speaker: who says it.
        char_start, char_end: its span in ``Transcript.text``.
        time_s: ``Transcript.time_at(char_start)``.
        centrality: its centrality score (cosine to the centroid, or degree share).
        matched: some summary item reaches ``match_threshold`` cosine to it.
        best_item: id of the most similar summary item (unit id or claim id).
        best_cosine: that item's cosine.
    """

    chapter_index: int
    rank: int
    text: str
    speaker: str | None
    char_start: int
    char_end: int
    time_s: float | None
    centrality: float
    matched: bool = False
    best_item: str | None = None
    best_cosine: float | None = None


@dataclass(frozen=True)
class ChapterCoverage:
    """Coverage of one chapter.

    Attributes:
        index, title, start_s, end_s: the chapter.
        weight_s: its non-sponsor seconds (the time-weighted coverage weight).
        sponsor_share: share of its seconds inside sponsor reads.
        excluded: why it is left out of every denominator (``None`` when scored).
        key_points: its number of key points.
        matched_key_points: how many of them some summary item matches.
        key_point_recall: ``matched_key_points / key_points``.
        evidence_credit: supported (1) + partially supported (0.5) claims with best evidence
            here; ``None`` without verdicts.
        evidence_score: ``min(1, evidence_credit / evidence_full_claims)``; ``None`` without verdicts.
        score: the chapter's coverage in [0, 1] (``None`` when excluded).
        label: ``full``, ``partial`` or ``none`` (``excluded`` when excluded).
    """

    index: int
    title: str
    start_s: float | None
    end_s: float | None
    weight_s: float
    sponsor_share: float
    excluded: str | None
    key_points: int
    matched_key_points: int
    key_point_recall: float | None
    evidence_credit: float | None
    evidence_score: float | None
    score: float | None
    label: str


@dataclass(frozen=True)
class SummaryItem:
    """A piece of the summary matched against key points: a claim (with verdicts) or a unit."""

    item_id: str
    unit_id: str
    text: str


@dataclass(frozen=True)
class RedundantPair:
    """Two summary items that say nearly the same thing."""

    a: str
    b: str
    a_text: str
    b_text: str
    cosine: float


@dataclass(frozen=True)
class UnitLocation:
    """Where a summary unit best matches the transcript by similarity alone (for plots without
    verdicts): the time of its most similar transcript sentence and that cosine."""

    unit_id: str
    time_s: float | None
    cosine: float
    chapter_index: int | None
    is_sponsor: bool
    char_start: int | None = None  # of that sentence: the position to plot without timestamps


@dataclass(frozen=True)
class CoverageResult:
    """What ``compute_coverage`` returns.

    Attributes:
        segmentation: ``chapters`` (the transcript's own) or ``auto``.
        used_verdicts: whether alignment verdicts informed the scores.
        chapters: one record per chapter, in order.
        chapter_defs: the chapters scored (the transcript's, or the automatic ones).
        key_points: every key point, in time order.
        redundant_pairs: item pairs at or above the redundancy threshold, most similar first
            (at most ``max_pairs_reported``).
        redundant_pair_count: how many pairs reached it in all.
        item_pairs: the number of item pairs compared.
        unit_locations: each content unit's most similar transcript moment.
        metrics: the summary-level numbers.
        notes: caveats (no verdicts, automatic chapters, excluded chapters).
        config: the settings used.
    """

    segmentation: str
    used_verdicts: bool
    chapters: tuple[ChapterCoverage, ...]
    chapter_defs: tuple[Chapter, ...]
    key_points: tuple[KeyPoint, ...]
    redundant_pairs: tuple[RedundantPair, ...]
    redundant_pair_count: int
    item_pairs: int
    unit_locations: tuple[UnitLocation, ...]
    metrics: tuple[MetricResult, ...]
    notes: tuple[str, ...]
    config: CoverageConfig

    def metric(self, name: str) -> float | None:
        """Value of the metric ``coverage.<name>`` (or the full name)."""
        full = name if name.startswith("coverage.") else f"coverage.{name}"
        for m in self.metrics:
            if m.name == full:
                return m.value
        raise KeyError(full)

    @property
    def key_point_texts(self) -> tuple[str, ...]:
        """The key points' texts chapter by chapter, most central first (what lexical's
        BERTScore recall is computed over)."""
        order = {c.index: i for i, c in enumerate(self.chapter_defs)}
        ranked = sorted(self.key_points, key=lambda k: (order.get(k.chapter_index, len(order)), k.rank))
        return tuple(k.text for k in ranked)

    @property
    def missed_chapters(self) -> tuple[ChapterCoverage, ...]:
        """Scored chapters the summary does not cover at all (label ``none``)."""
        return tuple(c for c in self.chapters if c.label == "none")

    @property
    def missed_key_points(self) -> tuple[KeyPoint, ...]:
        """Key points of scored chapters that no summary item matches, in time order."""
        scored = {c.index for c in self.chapters if c.excluded is None}
        return tuple(k for k in self.key_points if not k.matched and k.chapter_index in scored)

    def to_json(self) -> dict[str, Any]:
        """The report.json ``coverage`` section: scalars first, then lists of flat records."""
        title = {c.index: c.title for c in self.chapters}
        out: dict[str, Any] = {
            "segmentation": self.segmentation,
            "used_verdicts": self.used_verdicts,
        }
        for m in self.metrics:
            out[m.name.removeprefix("coverage.")] = m.value
        out["notes"] = list(self.notes)
        out["chapters"] = [
            {
                "index": c.index,
                "title": c.title,
                "start_s": _r(c.start_s),
                "end_s": _r(c.end_s),
                "label": c.label,
                "score": _r(c.score, 4),
                "key_points": c.key_points,
                "matched_key_points": c.matched_key_points,
                "key_point_recall": _r(c.key_point_recall, 4),
                "evidence_credit": c.evidence_credit,
                "evidence_score": _r(c.evidence_score, 4),
                "weight_s": _r(c.weight_s),
                "sponsor_share": _r(c.sponsor_share, 4),
                "excluded": c.excluded,
            }
            for c in self.chapters
        ]
        out["key_points"] = [_kp_record(k, title) for k in self.key_points]
        out["missed_chapters"] = [
            {"index": c.index, "title": c.title, "start": format_clock(c.start_s), "end": format_clock(c.end_s), "start_s": _r(c.start_s)}
            for c in self.missed_chapters
        ]
        out["missed_key_points"] = [_kp_record(k, title) for k in self.missed_key_points]
        out["redundant_pairs"] = [
            {"a": p.a, "b": p.b, "cosine": round(p.cosine, 4), "a_text": p.a_text, "b_text": p.b_text}
            for p in self.redundant_pairs
        ]
        out["unit_locations"] = [
            {
                "unit_id": u.unit_id,
                "time_s": _r(u.time_s),
                "time": format_clock(u.time_s),
                "cosine": round(u.cosine, 4),
                "chapter_index": u.chapter_index,
                "is_sponsor": u.is_sponsor,
            }
            for u in self.unit_locations
        ]
        out["config"] = asdict(self.config)
        return out


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(float(x), nd)


def _kp_record(k: KeyPoint, titles: Mapping[int, str]) -> dict[str, Any]:
    return {
        "chapter_index": k.chapter_index,
        "chapter": titles.get(k.chapter_index),
        "rank": k.rank,
        "time": format_clock(k.time_s),
        "time_s": _r(k.time_s),
        "speaker": k.speaker,
        "text": k.text,
        "centrality": round(k.centrality, 4),
        "matched": k.matched,
        "best_item": k.best_item,
        "best_cosine": _r(k.best_cosine, 4),
        "char_start": k.char_start,
    }


# ----------------------------------------------------------------------------------------------
# Source side: sentences, chapters, key points (cached in-process per transcript and config)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceUnits:
    """The transcript side of coverage, computed once per transcript and config.

    Attributes:
        sentences: every content sentence (sponsor ones included, flagged).
        embeddings: one L2-normalised row per sentence.
        chapters: the chapters scored.
        segmentation: ``chapters`` or ``auto``.
        chapter_of: chapter index of each sentence (``-1`` before the first chapter).
        key_points: per chapter index, its key points (unmatched), most central first.
        key_point_rows: per chapter index, the sentence indices of its key points.
        weights: per chapter index, (non-sponsor seconds, sponsor share).
        excluded: per chapter index, why it is excluded (``None`` if scored).
    """

    sentences: tuple[TranscriptSentence, ...]
    embeddings: np.ndarray
    chapters: tuple[Chapter, ...]
    segmentation: str
    chapter_of: np.ndarray
    key_points: Mapping[int, tuple[KeyPoint, ...]]
    key_point_rows: Mapping[int, tuple[int, ...]]
    weights: Mapping[int, tuple[float, float]]
    excluded: Mapping[int, str | None]


def source_units(
    episode: Episode | Transcript, cfg: CoverageConfig | Mapping[str, Any] | None = None, *, encoder: Any | None = None
) -> SourceUnits:
    """Sentences, embeddings, chapters and key points of the episode (from ``episode``, or from
    a transcript whose Episode is built here)."""
    conf = CoverageConfig.from_mapping(cfg)
    ep = as_episode(episode, conf, encoder)
    transcript = ep.transcript
    sentences = ep.sentences
    embeddings = ep.sentence_embeddings if sentences else np.zeros((0, 384), dtype=np.float32)
    chapters, segmentation, chapter_of = ep.chapters, ep.segmentation, ep.chapter_of
    space = _centrality_space(embeddings, [not s.is_sponsor for s in sentences], conf.key_points.center)
    kps: dict[int, tuple[KeyPoint, ...]] = {}
    kp_rows: dict[int, tuple[int, ...]] = {}
    weights: dict[int, tuple[float, float]] = {}
    excluded: dict[int, str | None] = {}
    for ch in chapters:
        rows = [int(i) for i in np.nonzero(chapter_of == ch.index)[0]]
        content_rows = [i for i in rows if not sentences[i].is_sponsor]
        weight_s, sponsor_share = _chapter_weight(transcript, ch, [sentences[i] for i in rows], conf)
        weights[ch.index] = (weight_s, sponsor_share)
        candidates = [
            i
            for i in content_rows
            if sentences[i].words >= conf.key_points.min_words
            and not (conf.key_points.exclude_questions and sentences[i].is_question)
        ]
        if not content_rows or sponsor_share >= conf.max_sponsor_share:
            excluded[ch.index] = "sponsor read" if rows else "no conversation text"
        elif not candidates:
            excluded[ch.index] = f"no sentence of {conf.key_points.min_words}+ words"
        else:
            excluded[ch.index] = None
        if excluded[ch.index] is not None:
            kps[ch.index], kp_rows[ch.index] = (), ()
            continue
        n = _n_key_points(weight_s, conf.key_points)
        chosen = _central(space, content_rows, candidates, n, conf.key_points)
        kp_rows[ch.index] = tuple(r for r, _ in chosen)
        kps[ch.index] = tuple(
            KeyPoint(
                chapter_index=ch.index,
                rank=rank,
                text=sentences[r].text,
                speaker=sentences[r].speaker,
                char_start=sentences[r].char_start,
                char_end=sentences[r].char_end,
                time_s=sentences[r].time_s,
                centrality=float(c),
            )
            for rank, (r, c) in enumerate(chosen)
        )
    return SourceUnits(
        sentences=sentences,
        embeddings=embeddings,
        chapters=tuple(chapters),
        segmentation=segmentation,
        chapter_of=chapter_of,
        key_points=kps,
        key_point_rows=kp_rows,
        weights=weights,
        excluded=excluded,
    )


def _chapter_weight(
    transcript: Transcript, ch: Chapter, sentences: Sequence[TranscriptSentence], cfg: CoverageConfig
) -> tuple[float, float]:
    """(non-sponsor seconds, sponsor share) of a chapter; by words at the configured speaking
    rate when the chapter has no times."""
    if ch.start_s is not None and ch.end_s is not None and ch.end_s > ch.start_s:
        total = ch.end_s - ch.start_s
        sponsor = 0.0
        for sp in transcript.sponsor_segments:
            if sp.start_s is None or sp.end_s is None:
                continue
            sponsor += max(0.0, min(ch.end_s, sp.end_s) - max(ch.start_s, sp.start_s))
        # Char share catches sponsor reads whose times collapse to a point (the last block).
        words_total = sum(s.words for s in sentences)
        words_sponsor = sum(s.words for s in sentences if s.is_sponsor)
        share = max(sponsor / total, words_sponsor / words_total if words_total else 0.0)
        return total * (1.0 - min(1.0, share)), min(1.0, share)
    words_total = sum(s.words for s in sentences)
    words_content = sum(s.words for s in sentences if not s.is_sponsor)
    share = 1.0 - words_content / words_total if words_total else 0.0
    return words_content * 60.0 / cfg.auto_segmentation.words_per_minute, share


def _centrality_space(embeddings: np.ndarray, content: Sequence[bool], center: bool) -> np.ndarray:
    """The embeddings centrality is computed in: with ``center``, minus the episode's mean
    (non-sponsor) embedding and re-normalised, so what the whole conversation shares ("neural
    networks", "deep learning") does not make a sentence central to every chapter."""
    mask = np.asarray(content, dtype=bool)
    if not center or not mask.any():
        return embeddings
    centered = embeddings - embeddings[mask].mean(axis=0, keepdims=True)
    norms = np.linalg.norm(centered, axis=1, keepdims=True)
    return centered / np.where(norms > 0, norms, 1.0)


def _n_key_points(weight_s: float, cfg: KeyPointConfig) -> int:
    n = int(round(weight_s / 60.0 * cfg.per_minute))
    return max(cfg.min_per_chapter, min(cfg.max_per_chapter, n))


def _central(
    embeddings: np.ndarray, content_rows: Sequence[int], candidates: Sequence[int], n: int, cfg: KeyPointConfig
) -> list[tuple[int, float]]:
    """The ``n`` most central candidates (row, centrality), most central first, skipping a
    candidate within ``dedup_threshold`` cosine of one already chosen."""
    cand = embeddings[list(candidates)]
    if cfg.centrality == "centroid":
        centroid = embeddings[list(content_rows)].mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        scores = cand @ (centroid / norm) if norm > 0 else np.zeros(len(candidates))
    else:  # degree: share of the chapter's other sentences within degree_threshold cosine
        sims = cand @ embeddings[list(content_rows)].T
        others = max(1, len(content_rows) - 1)
        scores = ((sims >= cfg.degree_threshold).sum(axis=1) - 1) / others
    order = np.lexsort((np.array(candidates), -scores))
    chosen: list[tuple[int, float]] = []
    chosen_vecs: list[np.ndarray] = []
    for k in order:
        vec = cand[k]
        if any(float(vec @ c) >= cfg.dedup_threshold for c in chosen_vecs):
            continue
        chosen.append((int(candidates[k]), float(scores[k])))
        chosen_vecs.append(vec)
        if len(chosen) >= n:
            break
    return chosen


# ----------------------------------------------------------------------------------------------
# Summary side
# ----------------------------------------------------------------------------------------------


def summary_items(summary: Summary, unit_verdicts: Sequence[UnitVerdict], cfg: CoverageConfig) -> tuple[SummaryItem, ...]:
    """What is matched against key points: the verdicts' claims (contradicted ones left out when
    ``exclude_contradicted``) or, without verdicts, the sentences of the content units (item id
    ``u007`` for a one-sentence unit, ``u007.s2`` for the second sentence of a longer one; a
    sentence over ``max_sentence_words`` words is cut into word windows, so no encoder input is
    truncated). A multi-sentence unit is split because one embedding of a whole Q&A answer is
    diluted: its best sentence matches a key point more sharply."""
    items: list[SummaryItem] = []
    if unit_verdicts:
        for uv in unit_verdicts:
            for v in uv.claims:
                if cfg.exclude_contradicted and v.label == "contradicted":
                    continue
                items.append(SummaryItem(v.claim.claim_id, uv.unit_id, v.claim.text))
        return tuple(items)
    for unit in summary.content_units:
        text = unit.text_plain.strip()
        if not text:
            continue
        pieces: list[str] = []
        for a, b in split_sentences(text):
            words = text[a:b].split()
            for j in range(0, len(words), cfg.max_sentence_words):
                pieces.append(" ".join(words[j : j + cfg.max_sentence_words]))
        if len(pieces) == 1:
            items.append(SummaryItem(unit.unit_id, unit.unit_id, pieces[0]))
        else:
            items.extend(SummaryItem(f"{unit.unit_id}.s{k + 1}", unit.unit_id, p) for k, p in enumerate(pieces))
    return tuple(items)


# ----------------------------------------------------------------------------------------------
# Coverage
# ----------------------------------------------------------------------------------------------


def compute_coverage(
    episode: Episode | Transcript,
    summary: Summary,
    unit_verdicts: Sequence[UnitVerdict] = (),
    cfg: CoverageConfig | Mapping[str, Any] | None = None,
    *,
    encoder: Any | None = None,
) -> CoverageResult:
    """Per-chapter and summary-level coverage of ``summary`` over ``transcript``.

    Args:
        episode: the ``Episode`` (built with this coverage config), or the parsed transcript
            with sponsor segments marked, whose Episode is built here.
        summary: the parsed summary.
        unit_verdicts: alignment verdicts; empty means alignment did not run (key points are
            then matched by similarity to the summary's units only, and a note says so).
        cfg: ``CoverageConfig`` or the ``coverage`` config mapping (defaults when ``None``).
        encoder: a ``SentenceTransformer``-like encoder; the cached MiniLM when ``None``.

    Raises:
        ConfigError: an invalid coverage setting.
    """
    conf = CoverageConfig.from_mapping(cfg)
    ep = as_episode(episode, conf, encoder)
    transcript = ep.transcript
    src = source_units(ep, conf)
    used_verdicts = bool(unit_verdicts)
    items = summary_items(summary, unit_verdicts, conf)
    item_emb = _embed_summary_texts(ep, [it.text for it in items])

    # (a) key points matched by similarity
    kp_all: list[KeyPoint] = []
    matched_by_chapter: dict[int, int] = {}
    for ch in src.chapters:
        rows = src.key_point_rows.get(ch.index, ())
        kps = src.key_points.get(ch.index, ())
        if rows and len(items):
            sims = src.embeddings[list(rows)] @ item_emb.T
            best = sims.argmax(axis=1)
            best_cos = sims[np.arange(len(rows)), best]
        else:
            best, best_cos = np.zeros(len(rows), dtype=int), np.full(len(rows), np.nan)
        n_matched = 0
        for k, kp in enumerate(kps):
            cos = None if np.isnan(best_cos[k]) else float(best_cos[k])
            matched = cos is not None and cos >= conf.match_threshold
            n_matched += matched
            kp_all.append(
                KeyPoint(
                    **{f.name: getattr(kp, f.name) for f in fields(KeyPoint) if f.name not in ("matched", "best_item", "best_cosine")},
                    matched=matched,
                    best_item=items[int(best[k])].item_id if cos is not None else None,
                    best_cosine=cos,
                )
            )
        matched_by_chapter[ch.index] = n_matched

    # (b) where the supported claims' evidence lies
    credit: dict[int, float] = {ch.index: 0.0 for ch in src.chapters}
    if used_verdicts:
        for uv in unit_verdicts:
            for v in uv.claims:
                c = _CREDIT.get(v.label, 0.0)
                if not c or not v.evidence or v.evidence[0].is_sponsor:
                    continue
                idx = _chapter_of_evidence(src.chapters, v.evidence[0].char_start, v.evidence[0].start_s)
                if idx is not None:
                    credit[idx] += c

    records: list[ChapterCoverage] = []
    for ch in src.chapters:
        weight_s, sponsor_share = src.weights[ch.index]
        reason = src.excluded[ch.index]
        n_kp = len(src.key_points.get(ch.index, ()))
        if reason is not None:
            records.append(
                ChapterCoverage(ch.index, ch.title, ch.start_s, ch.end_s, 0.0, sponsor_share, reason, 0, 0, None, None, None, None, "excluded")
            )
            continue
        recall = matched_by_chapter[ch.index] / n_kp if n_kp else 0.0
        if used_verdicts:
            ev = min(1.0, credit[ch.index] / conf.evidence_full_claims)
            score = (1.0 - conf.evidence_weight) * recall + conf.evidence_weight * ev
        else:
            ev, score = None, recall
        label = "full" if score >= conf.full_threshold else "partial" if score >= conf.partial_threshold and score > 0 else "none"
        records.append(
            ChapterCoverage(
                index=ch.index,
                title=ch.title,
                start_s=ch.start_s,
                end_s=ch.end_s,
                weight_s=weight_s,
                sponsor_share=sponsor_share,
                excluded=None,
                key_points=n_kp,
                matched_key_points=matched_by_chapter[ch.index],
                key_point_recall=recall,
                evidence_credit=credit[ch.index] if used_verdicts else None,
                evidence_score=ev,
                score=score,
                label=label,
            )
        )

    pairs, n_pairs, n_total = _redundancy(items, item_emb, conf)
    locations = _unit_locations(summary, src, ep, conf)
    notes = _notes(src, records, used_verdicts, transcript)
    metrics = _summary_metrics(records, kp_all, n_pairs, n_total, used_verdicts, notes, conf)
    return CoverageResult(
        segmentation=src.segmentation,
        used_verdicts=used_verdicts,
        chapters=tuple(records),
        chapter_defs=src.chapters,
        key_points=tuple(sorted(kp_all, key=lambda k: (k.char_start, k.rank))),
        redundant_pairs=tuple(pairs[: conf.max_pairs_reported]),
        redundant_pair_count=n_pairs,
        item_pairs=n_total,
        unit_locations=locations,
        metrics=metrics,
        notes=tuple(notes),
        config=conf,
    )


def _chapter_of_evidence(chapters: Sequence[Chapter], char_start: int | None, start_s: float | None) -> int | None:
    if char_start is not None and char_start >= 0:
        for ch in reversed(chapters):
            if ch.char_start <= char_start < max(ch.char_end, ch.char_start + 1):
                return ch.index
    if start_s is not None:
        for ch in reversed(chapters):
            if ch.start_s is not None and ch.start_s <= start_s and (ch.end_s is None or start_s < ch.end_s or ch is chapters[-1]):
                return ch.index
    return None


def _redundancy(items: Sequence[SummaryItem], emb: np.ndarray, cfg: CoverageConfig) -> tuple[list[RedundantPair], int, int]:
    n = len(items)
    if n < 2:
        return [], 0, 0
    sims = emb @ emb.T
    iu, ju = np.triu_indices(n, 1)
    keep = np.ones(len(iu), dtype=bool)
    if not cfg.redundancy_same_unit:
        units = np.array([it.unit_id for it in items])
        keep = units[iu] != units[ju]
    iu, ju = iu[keep], ju[keep]
    vals = sims[iu, ju]
    hit = np.nonzero(vals >= cfg.redundancy_threshold)[0]
    hit = hit[np.lexsort((iu[hit], -vals[hit]))]
    pairs = [
        RedundantPair(items[iu[h]].item_id, items[ju[h]].item_id, items[iu[h]].text, items[ju[h]].text, float(vals[h]))
        for h in hit
    ]
    return pairs, len(hit), len(vals)


def _embed_summary_texts(ep: Episode, texts: Sequence[str]) -> np.ndarray:
    """Summary-side texts through the episode's cache (on disk too: a warm run reads them)."""
    return ep.cache.embed(
        texts, kind="summary", encoder=ep.encoder, use_disk=ep.use_disk, cache_dir=ep.cache_dir, batch_size=ep.batch_size
    ).matrix


_SIM_BLOCK_ROWS = 4096  # transcript sentences per block of the unit x sentence similarities


def best_matches(queries: np.ndarray, rows: np.ndarray, block: int = _SIM_BLOCK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the index of its most similar row of ``rows`` (first on ties) and that
    cosine, computed over blocks of ``rows`` so that no (queries x rows) matrix is held at once."""
    n = len(queries)
    best = np.zeros(n, dtype=np.int64)
    best_cos = np.full(n, -np.inf, dtype=np.float32)
    for lo in range(0, len(rows), block):
        sims = queries @ rows[lo : lo + block].T
        arg = sims.argmax(axis=1)
        val = sims[np.arange(n), arg]
        better = val > best_cos  # strict: an earlier block wins ties, as one argmax would
        best[better] = arg[better] + lo
        best_cos[better] = val[better]
    return best, best_cos


def _unit_locations(summary: Summary, src: SourceUnits, ep: Episode, cfg: CoverageConfig) -> tuple[UnitLocation, ...]:
    units = [u for u in summary.content_units if u.text_plain.strip()]
    if not units or not len(src.sentences):
        return ()
    texts = [" ".join(u.text_plain.split()[: cfg.max_sentence_words]) for u in units]
    emb = _embed_summary_texts(ep, texts)
    best, best_cos = best_matches(emb, src.embeddings)
    out = []
    for u, b, cos in zip(units, best, best_cos):
        s = src.sentences[int(b)]
        ci = int(src.chapter_of[int(b)])
        out.append(UnitLocation(u.unit_id, s.time_s, float(cos), ci if ci >= 0 else None, s.is_sponsor, s.char_start))
    return tuple(out)


def _notes(src: SourceUnits, records: Sequence[ChapterCoverage], used_verdicts: bool, transcript: Transcript) -> list[str]:
    notes = []
    if not used_verdicts:
        notes.append(
            "alignment did not run: key points are matched by MiniLM similarity to the summary's units only; "
            "no evidence locations are used"
        )
    if src.segmentation == "auto":
        why = "the transcript has no chapters" if not transcript.chapters else "segmentation: auto"
        notes.append(f"{len(src.chapters)} chapters found automatically by topic shift ({why})")
    excluded = [c for c in records if c.excluded]
    if excluded:
        notes.append(
            "left out of every denominator: " + "; ".join(f"chapter {c.index} {c.title!r} ({c.excluded})" for c in excluded)
        )
    if transcript.sponsor_segments:
        notes.append(f"{len(transcript.sponsor_segments)} sponsor segment(s) excluded from key points and chapter weights")
    return notes


def _summary_metrics(
    records: Sequence[ChapterCoverage],
    kps: Sequence[KeyPoint],
    n_redundant: int,
    n_pairs: int,
    used_verdicts: bool,
    notes: Sequence[str],
    cfg: CoverageConfig,
) -> tuple[MetricResult, ...]:
    scored = [c for c in records if c.excluded is None and c.score is not None]
    basis = None if used_verdicts else "key-point similarity only (alignment did not run)"
    chapter_weighted = float(np.mean([c.score for c in scored])) if scored else None
    total_w = sum(c.weight_s for c in scored)
    time_weighted = sum(c.weight_s * c.score for c in scored) / total_w if total_w > 0 else None  # type: ignore[operator]
    scored_idx = {c.index for c in scored}
    kp_scored = [k for k in kps if k.chapter_index in scored_idx]
    kp_recall = sum(k.matched for k in kp_scored) / len(kp_scored) if kp_scored else None
    covered = sum(c.label != "none" for c in scored)
    missed = sum(c.label == "none" for c in scored)
    excluded_note = next((n for n in notes if n.startswith("left out")), None)
    return (
        metric("coverage.chapter_weighted", _r(chapter_weighted, 6), description="Mean chapter coverage score in [0, 1] over the non-sponsor chapters (each chapter counts the same).", note="; ".join(x for x in (basis, excluded_note) if x) or None),
        metric("coverage.time_weighted", _r(time_weighted, 6), description="Chapter coverage scores weighted by each chapter's non-sponsor duration.", note=basis),
        metric("coverage.key_point_recall", _r(kp_recall, 6), description=f"Share of the chapters' key points (central transcript sentences) matched by a summary item at cosine >= {cfg.match_threshold}.", note=basis),
        metric("coverage.chapters_covered", _r(covered / len(scored), 6) if scored else None, description="Share of non-sponsor chapters covered fully or partly.", note=basis),
        metric("coverage.chapters_missed", float(missed), description="Number of non-sponsor chapters the summary does not touch (label none).", note=basis),
        metric("coverage.redundancy", _r(n_redundant / n_pairs, 6) if n_pairs else None, description=f"Share of summary item pairs (from different units) with cosine >= {cfg.redundancy_threshold}: statements that repeat each other.", note=f"{n_redundant} of {n_pairs} pairs" if n_pairs else "fewer than two summary items"),
        metric("coverage.redundant_pairs", float(n_redundant), description="Number of summary item pairs that restate each other (see coverage.redundant_pairs in report.json)."),
    )
