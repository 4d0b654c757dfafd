"""Alignment: find where the transcript says what a claim says, verify it, and label the claim.

The stage promises, for every summary unit, a ``UnitVerdict`` built in four steps:

1. **Windows.** The conversation (``Transcript.content_segments``) is cut into overlapping windows
   of a few consecutive speaker turns. A window never exceeds ``window.max_words`` words (a long
   turn is first cut into pieces at sentence ends), so no model downstream truncates it
   silently; by default windows do not cross chapter or sponsor-read boundaries either, so a
   window's chapter and sponsor flag are clean.
2. **Retrieval.** Each claim is matched against every window with BM25 (``bm25s``; lower-cased,
   stop words removed, light suffix stemming) and MiniLM cosine similarity; the two are fused
   (weighted sum of per-claim min-max normalised scores, or reciprocal-rank fusion) and the
   ``top_k`` windows kept. Window embeddings are cached on disk, keyed by the window texts, the
   model id and the window config.
3. **Verification.** Every (claim, top-k window) pair goes to the verifier in one batched call;
   the best window wins (chunk-and-max). Up to three windows become ``Evidence``: in each, the
   one or two consecutive sentences most similar to the claim (MiniLM), cut to at most
   ``evidence.quote_max_words`` words, quoted verbatim from ``Transcript.text`` with offsets,
   time, timestamp link, speaker, chapter and sponsor flag.
4. **Labels.** Thresholds from the config turn the best support (and contradiction) score into a
   verdict; a unit's verdict aggregates its claims. Boilerplate and vague units are
   ``not_checkable`` with a reason.

Everything is deterministic: stable sorts with index tie-breaks and no sampling.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from harness.align_checks import apply_claim_checks, checks_from_config, explain_checks
from harness.backends.base import PairScore, Verifier, VerifyPair
from harness.claims import Checkability
from harness.cache import Embedded, default_cache, encoder_model_id
from harness.episode import as_episode
from harness.errors import HarnessError
from harness.stage_config import AlignConfig, RetrievalConfig, Thresholds
from harness.types import Claim, Evidence, SummaryUnit, Transcript, UnitVerdict, Verdict, Window
from harness.windows import Piece, bm25_index, bm25_tokens

if TYPE_CHECKING:  # pragma: no cover
    from harness.episode import Episode

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------
# Retrieval
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RetrievalHit:
    """One retrieved window for one claim.

    Attributes:
        window_index: index into the windows.
        rank: 0-based rank after fusion.
        fused: the fused score.
        bm25: raw BM25 score.
        dense: MiniLM cosine similarity.
    """

    window_index: int
    rank: int
    fused: float
    bm25: float
    dense: float


WindowEmbeddings = Embedded
"""Window embeddings and where they came from (``harness.cache.Embedded``)."""


def embed_windows(
    windows: Sequence[Window],
    *,
    encoder: Any | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    config_key: str = "",
    batch_size: int = 64,
    show_progress: bool = False,
) -> WindowEmbeddings:
    """Embed window texts through the one embedding cache (memory, and an on-disk ``.npy``).

    The cache file is named by the sha256 of the model id, ``config_key`` and the window texts,
    and written atomically, so a second run on the same transcript and config does not encode.

    Args:
        windows: the windows to embed.
        encoder: a ``SentenceTransformer``-like object with ``encode``; the cached MiniLM when
            ``None``.
        cache_dir: cache directory (see ``resolve_cache_dir``).
        use_cache: False skips reading and writing the cache.
        config_key: the window settings (``AlignConfig.window_key()``).
        batch_size: texts per encoder batch.
        show_progress: draw the encoder's progress bar on stderr (a cache miss only).
    """
    return embed_texts(
        [w.text for w in windows],
        kind="windows",
        encoder=encoder,
        cache_dir=cache_dir,
        use_cache=use_cache,
        config_key=config_key,
        batch_size=batch_size,
        show_progress=show_progress,
    )


def embed_texts(
    texts: Sequence[str],
    *,
    kind: str,
    encoder: Any | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    config_key: str = "",
    batch_size: int = 64,
    show_progress: bool = False,
) -> WindowEmbeddings:
    """Embed ``texts`` through the one embedding cache (``harness.cache.default_cache``; see
    ``embed_windows``); ``kind`` names the cache file (``windows``, ``sentences``)."""
    return default_cache().embed(
        texts,
        kind=kind,
        encoder=encoder,
        config_key=config_key,
        cache_dir=cache_dir,
        use_disk=use_cache,
        batch_size=batch_size,
        show_progress=show_progress,
    )


def count_encoder_truncations(encoder: Any | None, texts: Sequence[str]) -> int | None:
    """How many ``texts`` exceed the encoder's ``max_seq_length`` in tokens (``None`` when the
    encoder does not say), so truncation is reported rather than hidden."""
    if encoder is None:
        return None
    tokenizer = getattr(encoder, "tokenizer", None)
    limit = getattr(encoder, "max_seq_length", None)
    if tokenizer is None or not limit:
        return None
    lengths = (
        [len(ids) for ids in tokenizer(list(texts), add_special_tokens=True)["input_ids"]] if texts else []
    )
    return sum(1 for n in lengths if n > limit)


def _order(scores: np.ndarray) -> np.ndarray:
    """Indices sorted by descending score, ties by ascending index."""
    return np.lexsort((np.arange(len(scores)), -scores))


def _minmax(scores: np.ndarray) -> np.ndarray:
    lo, hi = float(scores.min()), float(scores.max())
    if hi <= lo:
        return np.zeros_like(scores)
    return (scores - lo) / (hi - lo)


class WindowIndex:
    """BM25 + dense index over windows; ``search`` returns the fused top-k per query.

    ``bm25`` is a prebuilt ``bm25_index(windows)`` (the Episode's); built here when ``None``.
    """

    def __init__(
        self, windows: Sequence[Window], embeddings: np.ndarray, cfg: RetrievalConfig, bm25: Any | None = None
    ) -> None:
        self.windows = tuple(windows)
        self.embeddings = embeddings
        self.cfg = cfg
        self._bm25 = bm25 if bm25 is not None or not self.windows else bm25_index(self.windows)

    def bm25_scores(self, query: str) -> np.ndarray:
        tokens = bm25_tokens(query)
        if not tokens or self._bm25 is None:
            return np.zeros(len(self.windows), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def search(
        self, queries: Sequence[str], query_embeddings: np.ndarray, top_k: int
    ) -> list[tuple[RetrievalHit, ...]]:
        """Fused top-``top_k`` windows for each query (embeddings L2-normalised, one row per query)."""
        cfg = self.cfg
        n = len(self.windows)
        out: list[tuple[RetrievalHit, ...]] = []
        if n == 0:
            return [() for _ in queries]
        dense_all = query_embeddings @ self.embeddings.T if len(queries) else np.zeros((0, n))
        for qi, query in enumerate(queries):
            bm25 = self.bm25_scores(query)
            dense = np.asarray(dense_all[qi], dtype=np.float32)
            if cfg.fusion == "rrf":
                fused = np.zeros(n, dtype=np.float64)
                for weight, scores in ((cfg.bm25_weight, bm25), (cfg.dense_weight, dense)):
                    ranks = np.empty(n, dtype=np.int64)
                    ranks[_order(scores)] = np.arange(n)
                    fused += weight / (cfg.rrf_k + ranks + 1)
            else:
                fused = cfg.bm25_weight * _minmax(bm25.astype(np.float64)) + cfg.dense_weight * _minmax(
                    dense.astype(np.float64)
                )
            order = _order(fused)[: min(top_k, n)]
            out.append(
                tuple(
                    RetrievalHit(int(i), rank, float(fused[i]), float(bm25[i]), float(dense[i]))
                    for rank, i in enumerate(order)
                )
            )
        return out


def claim_query(claim: Claim, with_context: bool) -> str:
    """The retrieval query of a claim: its text, plus its context when configured."""
    if with_context and claim.context:
        return f"{claim.text} {claim.context}"
    return claim.text


# ----------------------------------------------------------------------------------------------
# Labels and aggregation
# ----------------------------------------------------------------------------------------------


def label_claim(support: float, contradiction: float | None, thresholds: Thresholds) -> str:
    """Verdict of one claim from its best evidence's scores.

    ``contradicted`` when the contradiction score reaches its threshold and support does not
    reach ``supported``; otherwise ``supported`` / ``partially_supported`` / ``unsupported`` by
    the support thresholds.
    """
    if (
        contradiction is not None
        and contradiction >= thresholds.contradicted
        and support < thresholds.supported
    ):
        return "contradicted"
    if support >= thresholds.supported:
        return "supported"
    if support >= thresholds.partial:
        return "partially_supported"
    return "unsupported"


def aggregate_unit(unit_id: str, verdicts: Sequence[Verdict]) -> UnitVerdict:
    """A unit's verdict from its claims' (which must be non-empty).

    All supported → supported; any contradicted → contradicted; all unsupported → unsupported;
    anything else → partially_supported. The score is the mean support weighted by claim length
    in words.
    """
    if not verdicts:
        raise ValueError(f"unit {unit_id} has no claim verdicts to aggregate")
    labels = [v.label for v in verdicts]
    if all(label == "supported" for label in labels):
        label = "supported"
    elif "contradicted" in labels:
        label = "contradicted"
    elif all(label == "unsupported" for label in labels):
        label = "unsupported"
    else:
        label = "partially_supported"
    weights = [max(1, len(v.claim.text.split())) for v in verdicts]
    score = sum(w * v.score for w, v in zip(weights, verdicts, strict=True)) / sum(weights)
    return UnitVerdict(unit_id=unit_id, label=label, score=score, claims=tuple(verdicts))


# ----------------------------------------------------------------------------------------------
# Evidence quotes
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    piece: Piece
    word_start: int  # index into piece.words
    word_end: int
    sentence_keys: tuple[tuple[int, int], ...]  # (piece id, sentence index) of its sentences

    @property
    def char_start(self) -> int:
        return self.piece.words[self.word_start][0]

    @property
    def char_end(self) -> int:
        return self.piece.words[self.word_end - 1][1]


def _candidates(pieces: Sequence[Piece], piece_ids: Sequence[int], max_sentences: int) -> list[_Candidate]:
    out: list[_Candidate] = []
    for pid, piece in zip(piece_ids, pieces, strict=True):
        for si in range(len(piece.sentences)):
            for span in range(1, max_sentences + 1):
                if si + span > len(piece.sentences):
                    break
                a = piece.sentences[si][0]
                b = piece.sentences[si + span - 1][1]
                out.append(_Candidate(piece, a, b, tuple((pid, sj) for sj in range(si, si + span))))
    return out


def _cut_quote(candidate: _Candidate, claim_stems: set[str], text: str, max_words: int) -> tuple[int, int]:
    """Raw span of the candidate, cut to ``max_words`` words at word boundaries: the run of
    words that shares most stems with the claim (earliest on ties)."""
    words = candidate.piece.words[candidate.word_start : candidate.word_end]
    if len(words) <= max_words:
        return words[0][0], words[-1][1]
    hits = [1 if set(bm25_tokens(text[a:b])) & claim_stems else 0 for a, b in words]
    best_i, best = 0, -1
    running = sum(hits[:max_words])
    for i in range(0, len(words) - max_words + 1):
        if i:
            running += hits[i + max_words - 1] - hits[i - 1]
        if running > best:
            best_i, best = i, running
    return words[best_i][0], words[best_i + max_words - 1][1]


# ----------------------------------------------------------------------------------------------
# The stage
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignmentResult:
    """What the alignment stage produced.

    Attributes:
        unit_verdicts: one verdict per unit, in unit order (boilerplate included, as
            ``not_checkable``).
        windows: the transcript windows claims were matched against.
        stats: counts for the report and the benchmark: ``claims``, ``units``, ``windows``,
            ``verifier_calls``, ``verifier_pairs``, ``exhaustive_pairs`` (claims × windows),
            ``pair_ratio``, ``cache_hit``, ``cache_path``, ``labels``…
        timings: wall seconds per step (``windows``, ``embed``, ``retrieve``, ``verify``,
            ``evidence``).
    """

    unit_verdicts: tuple[UnitVerdict, ...]
    windows: tuple[Window, ...]
    stats: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        """All claim verdicts, in unit then claim order."""
        return tuple(v for uv in self.unit_verdicts for v in uv.claims)


def score_pairs(verifier: Verifier, pairs: Sequence[VerifyPair], progress: bool = False, stream: Any = None) -> list[PairScore]:
    """The verifier's scores for ``pairs``, asked for in the verifier's own batches
    (``batch_pairs``, when it has one) so that a progress bar can advance between them; the
    scores are those of one call with every pair."""
    from harness.progress import bar

    if not pairs:
        return []
    step = int(getattr(verifier, "batch_pairs", 0) or 0) or len(pairs)
    scores: list[PairScore] = []
    with bar(len(pairs), "verify", "pair", progress, stream) as shown:
        for lo in range(0, len(pairs), step):
            chunk = pairs[lo : lo + step]
            scores.extend(verifier.score(chunk))
            shown.update(len(chunk))
    return scores


def align_summary(
    episode: Episode | Transcript,
    units: Sequence[SummaryUnit],
    claims: Sequence[Claim],
    verifier: Verifier,
    cfg: AlignConfig | Mapping[str, Any],
    *,
    encoder: Any | None = None,
    checkability: Mapping[str, Checkability] | None = None,
    progress: bool = False,
) -> AlignmentResult:
    """Retrieve, verify, label and aggregate: a verdict with evidence for every unit.

    Args:
        episode: the ``Episode`` (``harness.episode.build_episode``: windows, their embeddings
            and BM25 index, evidence sentences), or a parsed transcript with sponsor segments
            marked, whose Episode is then built here.
        units: all summary units, boilerplate included (each gets a ``UnitVerdict``).
        claims: the claims of the checkable units (``harness.claims.split_claims``).
        verifier: any ``Verifier``; it is called once with every (claim, top-k window) pair.
        cfg: the ``align`` config (mapping or ``AlignConfig``).
        encoder: a ``SentenceTransformer``-like encoder; the cached MiniLM when ``None`` (with an
            ``Episode``, the episode's encoder is used).
        checkability: per-unit ``Checkability`` from ``harness.claims.is_checkable``; its reason
            is reported for units without claims.
        progress: draw progress bars on stderr for window embedding and verification
            (``harness.progress``; the caller decides: a terminal and ``report.progress``).

    Raises:
        ConfigError: an invalid ``align`` config.
        HarnessError: the verifier returned the wrong number of scores.
    """
    config = AlignConfig.from_mapping(cfg)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 4)
        clock = now

    unit_ids = {u.unit_id for u in units}
    stray = sorted({c.unit_id for c in claims} - unit_ids)
    if stray:
        raise ValueError(f"claims refer to units that were not given: {', '.join(stray)}")

    episode = as_episode(episode, align=config, encoder=encoder)
    encoder = episode.encoder
    windows = episode.windows
    lap("windows")

    rc = config.retrieval
    embedded: WindowEmbeddings | None = None
    hits: list[tuple[RetrievalHit, ...]] = []
    query_matrix = np.zeros((0, 1), np.float32)
    active_encoder = encoder
    if claims:
        embedded = episode.embed_windows(show_progress=progress)
    lap("embed")
    if claims:
        if active_encoder is None:
            from harness.models import sentence_encoder

            active_encoder = sentence_encoder()
        queries = [claim_query(c, rc.query_with_context) for c in claims]
        # through the episode's cache (coverage matches the same claim texts), on disk so that a
        # warm run of the same summary does not run the model
        query_matrix = episode.cache.embed(
            queries, kind="claims", encoder=encoder, use_disk=episode.use_disk, cache_dir=episode.cache_dir,
            batch_size=rc.encode_batch_size,
        ).matrix
        hits = WindowIndex(windows, embedded.matrix, rc, episode.bm25).search(queries, query_matrix, rc.top_k)
    lap("retrieve")

    pairs = [
        VerifyPair(c.text, windows[h.window_index].text, c.context)
        for c, hs in zip(claims, hits, strict=True)
        for h in hs
    ]
    scores = score_pairs(verifier, pairs, progress)
    if len(scores) != len(pairs):
        name = getattr(verifier, "name", type(verifier).__name__)
        raise HarnessError(f"verifier {name!r} returned {len(scores)} scores for {len(pairs)} pairs")
    lap("verify")

    verdicts, sentence_cache_hit = _claim_verdicts(episode, claims, hits, scores, query_matrix, config)
    verdicts = apply_claim_checks(verdicts, checks_from_config(cfg), episode.transcript)  # harness/align_checks.py
    lap("evidence")

    unit_verdicts = _unit_verdicts(units, verdicts, checkability, config.thresholds)
    unit_verdicts = explain_checks(unit_verdicts)
    truncated = episode.derived(
        ("encoder_truncated_windows", id(active_encoder)),
        lambda: count_encoder_truncations(active_encoder, [w.text for w in windows]),
    ) if active_encoder is not None else None
    if truncated:
        log.warning(
            "%d windows are longer than the encoder's max_seq_length; lower align.window.max_words", truncated
        )
    exhaustive = len(claims) * len(windows)
    stats: dict[str, Any] = {
        "units": len(units),
        "claims": len(claims),
        "windows": len(windows),
        "sponsor_windows": sum(1 for w in windows if w.is_sponsor),
        "max_window_words": max((len(w.text.split()) for w in windows), default=0),
        "top_k": rc.top_k,
        "verifier_calls": 1 if pairs else 0,
        "verifier_pairs": len(pairs),
        "exhaustive_pairs": exhaustive,
        "pair_ratio": round(len(pairs) / exhaustive, 6) if exhaustive else 0.0,
        "cache_hit": embedded.cache_hit if embedded else None,
        "sentence_cache_hit": sentence_cache_hit,
        "cache_path": embedded.cache_path if embedded else None,
        "encoder": encoder_model_id(encoder),
        "encoder_truncated_windows": truncated,
        "unit_labels": _count(uv.label for uv in unit_verdicts),
        "claim_labels": _count(v.label for v in verdicts),
    }
    log.info(
        "aligned %d claims against %d windows: %d verifier pairs (%.1f%% of exhaustive), embedding cache %s",
        len(claims),
        len(windows),
        len(pairs),
        100 * stats["pair_ratio"],
        {True: "hit", False: "miss", None: "unused"}[stats["cache_hit"]],
    )
    return AlignmentResult(unit_verdicts=unit_verdicts, windows=windows, stats=stats, timings=timings)


def _count(labels: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return dict(sorted(counts.items()))


def _where(ev: Evidence) -> str:
    """Where a passage is, for a reason line: "at 12:03 (Ilya Sutskever)", or its chapter."""
    from harness.text import format_clock

    when = ev.timestamp or format_clock(ev.start_s)
    place = f"at {when}" if when else (f'in "{ev.chapter}"' if ev.chapter else f"at character {ev.char_start}")
    return f"{place} ({ev.speaker})" if ev.speaker else place


def verdict_reason(uv: UnitVerdict, thresholds: Thresholds) -> str:
    """One line saying why a unit got its verdict from its claims' best evidence, e.g.
    "best evidence 0.81 at 12:03 (Ilya Sutskever) ≥ supported threshold 0.35"."""
    claims = list(uv.claims)
    if not claims:
        return uv.reason or "no checkable claim in the unit"
    n = len(claims)
    best = max(claims, key=lambda v: v.score)
    weakest = min(claims, key=lambda v: v.score)

    cuts = (thresholds.supported, thresholds.partial)

    def num(x: float) -> str:
        # two decimals; more where rounding would reach a threshold the score did not reach
        for digits in (2, 3, 4):
            text = f"{x:.{digits}f}"
            if not any(x < t <= float(text) for t in cuts):
                return text
        return f"{x:.6f}"

    def at(v: Verdict) -> str:
        return f"{num(v.score)} {_where(v.evidence[0])}" if v.evidence else f"{num(v.score)} (no passage)"

    of_n = f" of {n} claims" if n > 1 else ""
    if uv.label == "contradicted":
        bad = next(v for v in claims if v.label == "contradicted")
        c = bad.features.get("contradiction")
        which = f"claim {bad.claim.index + 1}{of_n}" if n > 1 else "the claim"
        score = f"contradiction {c:.2f} ≥ {thresholds.contradicted}" if c is not None else "contradicted"
        return f"{which}: {score} by the passage {_where(bad.evidence[0]) if bad.evidence else ''}".rstrip()
    if uv.label == "supported":
        lead = f"weakest{of_n} {at(weakest)}" if n > 1 else f"best evidence {at(best)}"
        return f"{lead} ≥ supported threshold {thresholds.supported}"
    if uv.label == "unsupported":
        return f"no claim reaches the partial threshold {thresholds.partial}; best {at(best)}"
    supported = sum(v.label == "supported" for v in claims)
    if n == 1:
        return f"best evidence {at(best)}: ≥ partial threshold {thresholds.partial}, < supported {thresholds.supported}"
    return (
        f"{supported}{of_n} supported (≥ {thresholds.supported}); best {at(best)}, weakest {num(weakest.score)}"
    )


def _unit_verdicts(
    units: Sequence[SummaryUnit],
    verdicts: Sequence[Verdict],
    checkability: Mapping[str, Checkability] | None,
    thresholds: Thresholds,
) -> tuple[UnitVerdict, ...]:
    """One verdict per unit, in unit order: aggregated claims with a one-line reason
    (``verdict_reason``), or ``not_checkable`` with the reason it cannot be checked."""
    by_unit: dict[str, list[Verdict]] = {}
    for v in verdicts:
        by_unit.setdefault(v.claim.unit_id, []).append(v)
    out: list[UnitVerdict] = []
    for unit in units:
        claim_verdicts = by_unit.get(unit.unit_id)
        if claim_verdicts:
            uv = aggregate_unit(unit.unit_id, sorted(claim_verdicts, key=lambda v: v.claim.index))
            out.append(replace(uv, reason=verdict_reason(uv, thresholds)))
            continue
        if unit.boilerplate:
            reason = f"boilerplate: {unit.boilerplate_reason}" if unit.boilerplate_reason else "boilerplate"
        elif checkability is not None and unit.unit_id in checkability and checkability[unit.unit_id].reason:
            reason = str(checkability[unit.unit_id].reason)
        else:
            reason = "no checkable claim in the unit"
        out.append(
            UnitVerdict(unit_id=unit.unit_id, label="not_checkable", score=None, claims=(), reason=reason)
        )
    return tuple(out)


def _claim_verdicts(
    episode: Episode,
    claims: Sequence[Claim],
    hits: Sequence[tuple[RetrievalHit, ...]],
    scores: Sequence[PairScore],
    query_matrix: np.ndarray,
    config: AlignConfig,
) -> tuple[list[Verdict], bool | None]:
    """Label each claim and pick its evidence; also whether the sentence embeddings came from
    the cache (``None`` when none were needed)."""
    # Scored hits per claim, best support first (retrieval rank breaks ties).
    ranked: list[list[tuple[RetrievalHit, PairScore]]] = []
    cursor = 0
    for claim_hits in hits:
        pairs = list(zip(claim_hits, scores[cursor : cursor + len(claim_hits)], strict=True))
        cursor += len(claim_hits)
        ranked.append(sorted(pairs, key=lambda hp: (-float(hp[1].support), hp[0].rank)))

    picker = _EvidencePicker(episode, config) if claims else None
    verdicts: list[Verdict] = []
    for ci, (claim, scored) in enumerate(zip(claims, ranked, strict=True)):
        if not scored or picker is None:
            verdicts.append(
                Verdict(claim=claim, label="unsupported", score=0.0, evidence=(), features={"windows": 0.0})
            )
            continue
        best_hit, best = scored[0]
        support = float(best.support)
        features: dict[str, float] = {
            "support": support,
            "window_index": float(best_hit.window_index),
            "retrieval_rank": float(best_hit.rank),
            "fused": best_hit.fused,
            "bm25": best_hit.bm25,
            "dense": best_hit.dense,
            "windows": float(len(scored)),
        }
        if best.contradiction is not None:
            features["contradiction"] = float(best.contradiction)
        contradictions = [float(s.contradiction) for _, s in scored if s.contradiction is not None]
        if contradictions:
            features["max_contradiction"] = max(contradictions)
        for name, value in sorted(best.features.items()):
            features[f"verifier.{name}"] = float(value)
        verdicts.append(
            Verdict(
                claim=claim,
                label=label_claim(support, best.contradiction, config.thresholds),
                score=support,
                evidence=picker.evidence(claim, query_matrix[ci], scored),
                features=features,
            )
        )
    return verdicts, (picker.sentence_cache_hit if picker is not None else None)


class _EvidencePicker:
    """Picks verbatim quotes from the best windows of a claim (see the module doc, step 3)."""

    def __init__(self, episode: Episode, config: AlignConfig):
        self.transcript = episode.transcript
        self.members = episode.window_members
        self.config = config
        self.chapters = {c.index: c.title for c in self.transcript.chapters}
        # Every sentence of every piece, numbered once and embedded once (the Episode's).
        numbered = episode.evidence_sentences
        self.piece_ids = numbered.piece_ids
        self.sentence_row = numbered.rows
        self.sentence_matrix = np.zeros((0, 1), np.float32)
        self.sentence_cache_hit: bool | None = None
        if numbered.texts:
            embedded = episode.embed_evidence_sentences()
            self.sentence_matrix = embedded.matrix
            self.sentence_cache_hit = embedded.cache_hit

    def evidence(
        self, claim: Claim, query: np.ndarray, scored: Sequence[tuple[RetrievalHit, PairScore]]
    ) -> tuple[Evidence, ...]:
        """Up to ``evidence.max_items`` passages from distinct windows, best support first, whose
        quotes do not overlap."""
        ev = self.config.evidence
        claim_stems = set(bm25_tokens(claim.text))
        out: list[Evidence] = []
        taken: list[tuple[int, int]] = []
        for hit, pair_score in scored:
            if len(out) >= ev.max_items:
                break
            chosen = self._best_candidate(self.members[hit.window_index], query, taken)
            if chosen is None:
                continue
            start, end = _cut_quote(chosen, claim_stems, self.transcript.text, ev.quote_max_words)
            taken.append((start, end))
            out.append(self._evidence(chosen.piece, start, end, float(pair_score.support)))
        return tuple(out)

    def _best_candidate(
        self, pieces: Sequence[Piece], query: np.ndarray, taken: Sequence[tuple[int, int]]
    ) -> _Candidate | None:
        """The 1–n consecutive sentences most similar to the claim, not overlapping ``taken``."""
        ids = [self.piece_ids[id(p)] for p in pieces]
        chosen: _Candidate | None = None
        chosen_sim = 0.0
        for cand in _candidates(pieces, ids, self.config.evidence.quote_max_sentences):
            if any(cand.char_start < b and a < cand.char_end for a, b in taken):
                continue
            vec = np.sum([self.sentence_matrix[self.sentence_row[k]] for k in cand.sentence_keys], axis=0)
            norm = float(np.linalg.norm(vec))
            sim = float(vec @ query) / norm if norm > 0 else 0.0
            if chosen is None or sim > chosen_sim:  # ties go to the earlier passage
                chosen, chosen_sim = cand, sim
        return chosen

    def _evidence(self, piece: Piece, start: int, end: int, score: float) -> Evidence:
        from harness.video import time_url

        t = self.transcript
        block = t.block_at(start)
        start_s = t.time_at(start)
        return Evidence(
            start_s=start_s,
            end_s=t.time_at(end),
            timestamp=block.label if block else piece.timestamp,
            # the transcript's own link of the block; else the video (caption files) at the quote
            url=block.url if block and block.url else time_url(t.video_url, start_s),
            speaker=piece.speaker,
            chapter=self.chapters.get(piece.chapter_index) if piece.chapter_index is not None else None,
            quote=t.text[start:end],
            score=score,
            is_sponsor=t.sponsor_overlap(start, end) > 0,
            char_start=start,
            char_end=end,
        )
