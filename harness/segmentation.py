"""Transcript sentences, their MiniLM embeddings, and automatic chapters for transcripts without any.

Coverage (``harness.coverage``) measures a summary against the *source content units* of an
episode: its chapters and, inside each chapter, its key points. This module provides the layer
underneath:

* ``transcript_sentences``: the conversation cut into sentences with character offsets, times and
  a sponsor flag (sponsor reads and non-content text such as a preface are marked, never scored);
  a run-on sentence longer than ``max_words`` is cut into word windows so no encoder input is
  ever truncated.
* ``embed_sentences``: L2-normalised MiniLM embeddings, cached in-process and on disk (keyed by
  the model and the exact texts).
* ``auto_chapters``: chapters for a transcript that has none (or when ``segmentation: auto`` is
  configured), found TextTiling-style (Hearst 1997) from embeddings instead of word counts: at
  every turn boundary, the cosine between the mean embedding of the sentences in the
  ``block_s`` seconds before and after it; a boundary's *depth* is how far that similarity dips
  below the nearest peaks on either side; the deepest boundaries become chapter starts, subject
  to a minimum and maximum chapter length. The chapters are ``Chapter`` records titled
  ``"Part k (m:ss–m:ss)"`` so everything downstream works unchanged.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from harness.errors import ConfigError
from harness.formats.base import split_sentences
from harness.textio import atomic_write_bytes
from harness.types import Chapter, Transcript

log = logging.getLogger(__name__)

CACHE_ENV = "HARNESS_CACHE_DIR"
DEFAULT_CACHE_DIR = "~/.cache/harness"
_CACHE_FORMAT = 1
_WORD = re.compile(r"\S+")

# ----------------------------------------------------------------------------------------------
# Sentences
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptSentence:
    """One sentence (or word window of a run-on sentence) of the conversation.

    Attributes:
        index: 0-based position among the transcript's sentences.
        segment_index: the speaker turn it lies in.
        speaker: that turn's speaker label.
        text: the sentence text.
        char_start: offset in ``Transcript.text``.
        char_end: offset past its end.
        time_s: estimated time of its first character (``Transcript.time_at``); ``None`` when
            the transcript has no timestamps.
        words: number of whitespace-separated words.
        is_question: ends with a question mark.
        is_sponsor: more than half of it lies in a sponsor segment.
    """

    index: int
    segment_index: int
    speaker: str | None
    text: str
    char_start: int
    char_end: int
    time_s: float | None
    words: int
    is_question: bool
    is_sponsor: bool


def transcript_sentences(transcript: Transcript, max_words: int = 80) -> tuple[TranscriptSentence, ...]:
    """The content turns of ``transcript`` cut into sentences, in order.

    Non-content turns (preface, front matter) are left out. A sentence longer than ``max_words``
    words (an unpunctuated auto-caption run, say) is cut into consecutive windows of at most
    ``max_words`` words, so that a 256-token encoder never truncates one (80 words of the
    reference transcript are at most 94 MiniLM word pieces).
    """
    if max_words < 1:
        raise ConfigError("coverage: max_sentence_words must be >= 1")
    out: list[TranscriptSentence] = []
    for seg in transcript.content_segments:
        raw = transcript.text[seg.char_start : seg.char_end]
        exact = raw == seg.text
        for a, b in split_sentences(seg.text):
            for wa, wb in _word_windows(seg.text, a, b, max_words):
                text = seg.text[wa:wb]
                if exact:
                    cs, ce = seg.char_start + wa, seg.char_start + wb
                else:  # the reader removed markup: place the span proportionally
                    scale = (seg.char_end - seg.char_start) / max(1, len(seg.text))
                    cs = seg.char_start + int(wa * scale)
                    ce = max(cs + 1, seg.char_start + int(wb * scale))
                out.append(
                    TranscriptSentence(
                        index=len(out),
                        segment_index=seg.index,
                        speaker=seg.speaker,
                        text=text,
                        char_start=cs,
                        char_end=ce,
                        time_s=transcript.time_at(cs) if transcript.blocks else None,
                        words=len(_WORD.findall(text)),
                        is_question=text.rstrip().rstrip("\"'”’)").endswith("?"),
                        is_sponsor=transcript.sponsor_overlap(cs, ce) > 0.5,
                    )
                )
    return tuple(out)


def _word_windows(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    words = [(start + m.start(), start + m.end()) for m in _WORD.finditer(text[start:end])]
    if len(words) <= max_words:
        return [(start, end)]
    return [(words[i][0], words[min(i + max_words, len(words)) - 1][1]) for i in range(0, len(words), max_words)]


# ----------------------------------------------------------------------------------------------
# Embeddings
# ----------------------------------------------------------------------------------------------

_MEMORY: dict[str, np.ndarray] = {}
_MEMORY_MAX = 16


def resolve_cache_dir(value: str | os.PathLike[str] | None) -> Path:
    """``value`` if set, else ``$HARNESS_CACHE_DIR``, else ``~/.cache/harness`` (as alignment)."""
    chosen = value if value not in (None, "") else os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR
    return Path(os.path.expanduser(str(chosen)))


def _model_id(encoder: Any | None) -> str:
    from harness.models import MINILM_ID

    if encoder is None:
        return MINILM_ID
    return str(getattr(encoder, "model_id", f"{type(encoder).__module__}.{type(encoder).__qualname__}"))


def embed_sentences(
    texts: Sequence[str],
    *,
    encoder: Any | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    batch_size: int = 64,
) -> np.ndarray:
    """``(len(texts), dim)`` float32 L2-normalised embeddings of ``texts``.

    Kept in-process (so the transcript is encoded once per process however many summaries are
    scored against it) and, with ``use_cache``, in ``<cache_dir>/embeddings/coverage-<hash>.npy``
    named by the model id and the exact texts.

    Args:
        texts: the texts, in order.
        encoder: a ``SentenceTransformer``-like object with ``encode``; the cached MiniLM when
            ``None``.
        cache_dir: see ``resolve_cache_dir``.
        use_cache: read and write the on-disk cache.
        batch_size: texts per encoder batch.
    """
    texts = list(texts)
    model_id = _model_id(encoder)
    digest = hashlib.sha256()
    for part in (f"format={_CACHE_FORMAT}", "coverage-sentences", model_id, str(len(texts))):
        digest.update(part.encode("utf-8") + b"\x00")
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    key = digest.hexdigest()[:40]
    if key in _MEMORY:
        return _MEMORY[key]
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    path = resolve_cache_dir(cache_dir) / "embeddings" / f"coverage-{key}.npy"
    matrix: np.ndarray | None = None
    if use_cache and path.exists():
        try:
            loaded = np.load(path, allow_pickle=False)
            if loaded.ndim == 2 and loaded.shape[0] == len(texts):
                matrix = loaded.astype(np.float32)
                log.info("coverage embedding cache hit: %s", path)
        except (OSError, ValueError) as exc:
            log.warning("coverage embedding cache %s is unreadable (%s); re-encoding", path, exc)
    if matrix is None:
        if encoder is None:
            from harness.models import sentence_encoder

            encoder = sentence_encoder()
        vectors = encoder.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        matrix = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms > 0, norms, 1.0)
        if use_cache:
            buffer = io.BytesIO()
            np.save(buffer, matrix, allow_pickle=False)
            atomic_write_bytes(path, buffer.getvalue())
    if len(_MEMORY) >= _MEMORY_MAX:
        _MEMORY.pop(next(iter(_MEMORY)))
    _MEMORY[key] = matrix
    return matrix


# ----------------------------------------------------------------------------------------------
# Automatic chapters
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentationConfig:
    """Settings of ``auto_chapters`` (``coverage.auto_segmentation`` in the config).

    Attributes:
        block_s: seconds of sentences compared on each side of a candidate boundary.
        min_block_sentences: a side with fewer sentences in ``block_s`` is widened to this many
            sentences (timestamps can be sparse).
        min_chapter_s: no chapter shorter than this.
        max_chapter_s: a longer chapter is split at its deepest boundary (if it has one that
            leaves both parts at least ``min_chapter_s`` long).
        depth_std: a boundary is taken when its depth is at least ``mean + depth_std * sd`` of
            all depths (TextTiling's cutoff is ``mean - sd/2``; we start chapters more sparingly).
        smoothing: width of the moving average applied to the similarity curve (1 = none).
        words_per_minute: speaking rate used for positions when the transcript has no times.
    """

    block_s: float = 120.0
    min_block_sentences: int = 3
    min_chapter_s: float = 180.0
    max_chapter_s: float = 900.0
    depth_std: float = 0.5
    smoothing: int = 3
    words_per_minute: float = 150.0

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | None) -> "SegmentationConfig":
        """Build from a mapping; unknown keys and bad values raise ``ConfigError``."""
        if isinstance(cfg, SegmentationConfig):
            return cfg
        try:
            built = cls(**dict(cfg or {}))
        except TypeError as exc:
            raise ConfigError(f"coverage.auto_segmentation: {exc}") from None
        checks = [
            (built.block_s > 0, "block_s must be > 0"),
            (built.min_block_sentences >= 1, "min_block_sentences must be >= 1"),
            (0 < built.min_chapter_s <= built.max_chapter_s, "need 0 < min_chapter_s <= max_chapter_s"),
            (built.smoothing >= 1, "smoothing must be >= 1"),
            (built.words_per_minute > 0, "words_per_minute must be > 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"coverage.auto_segmentation: {message}")
        return built


@dataclass(frozen=True)
class Boundary:
    """A candidate chapter start (a speaker turn boundary) and its TextTiling scores."""

    segment_index: int
    sentence_index: int
    time_s: float
    similarity: float
    depth: float


def sentence_positions(sentences: Sequence[TranscriptSentence], words_per_minute: float = 150.0) -> np.ndarray:
    """Seconds of each sentence: its time, or (no timestamps) its word offset at ``words_per_minute``."""
    if sentences and all(s.time_s is not None for s in sentences):
        return np.array([float(s.time_s) for s in sentences])  # type: ignore[arg-type]
    cumulative = np.cumsum([0] + [s.words for s in sentences[:-1]]) if sentences else np.zeros(0)
    return cumulative * 60.0 / words_per_minute


def boundary_scores(
    sentences: Sequence[TranscriptSentence], embeddings: np.ndarray, cfg: SegmentationConfig
) -> list[Boundary]:
    """Similarity and depth at every turn boundary between non-sponsor sentences.

    ``sentences`` and ``embeddings`` are aligned row for row (sponsor sentences already left out).
    """
    n = len(sentences)
    if n < 2:
        return []
    pos = sentence_positions(sentences, cfg.words_per_minute)
    starts = [i for i in range(1, n) if sentences[i].segment_index != sentences[i - 1].segment_index]
    sims: list[float] = []
    kept: list[int] = []
    for i in starts:
        lo = int(np.searchsorted(pos, pos[i] - cfg.block_s, side="left"))
        hi = int(np.searchsorted(pos, pos[i] + cfg.block_s, side="left"))
        lo = min(lo, max(0, i - cfg.min_block_sentences))
        hi = max(hi, min(n, i + cfg.min_block_sentences))
        left, right = embeddings[lo:i].mean(axis=0), embeddings[i:hi].mean(axis=0)
        denom = float(np.linalg.norm(left) * np.linalg.norm(right))
        sims.append(float(left @ right) / denom if denom > 0 else 0.0)
        kept.append(i)
    if not sims:
        return []
    curve = np.array(sims)
    if cfg.smoothing > 1 and len(curve) >= cfg.smoothing:
        kernel = np.ones(cfg.smoothing) / cfg.smoothing
        padded = np.pad(curve, (cfg.smoothing // 2, cfg.smoothing - 1 - cfg.smoothing // 2), mode="edge")
        curve = np.convolve(padded, kernel, mode="valid")
    out = []
    for k, i in enumerate(kept):
        s = curve[k]
        lpeak = s
        for j in range(k - 1, -1, -1):
            if curve[j] >= lpeak:
                lpeak = curve[j]
            else:
                break
        rpeak = s
        for j in range(k + 1, len(curve)):
            if curve[j] >= rpeak:
                rpeak = curve[j]
            else:
                break
        out.append(
            Boundary(
                segment_index=sentences[i].segment_index,
                sentence_index=i,
                time_s=float(pos[i]),
                similarity=float(sims[k]),
                depth=float((lpeak - s) + (rpeak - s)),
            )
        )
    return out


def choose_boundaries(boundaries: Sequence[Boundary], start_s: float, end_s: float, cfg: SegmentationConfig) -> list[Boundary]:
    """The boundaries that start chapters: deepest first above the depth cutoff while every
    chapter stays at least ``min_chapter_s`` long, then splits of chapters over ``max_chapter_s``
    at their deepest admissible boundary. Returned in time order."""
    if not boundaries:
        return []
    depths = np.array([b.depth for b in boundaries])
    cutoff = float(depths.mean() + cfg.depth_std * depths.std())
    chosen: list[Boundary] = []

    def admissible(b: Boundary) -> bool:
        edges = sorted([start_s, end_s] + [c.time_s for c in chosen])
        k = int(np.searchsorted(edges, b.time_s))
        if k == 0 or k >= len(edges):
            return False
        return b.time_s - edges[k - 1] >= cfg.min_chapter_s and edges[k] - b.time_s >= cfg.min_chapter_s

    order = sorted(boundaries, key=lambda b: (-b.depth, b.time_s))
    for b in order:
        if b.depth > 0 and b.depth >= cutoff and admissible(b):
            chosen.append(b)
    while True:  # split over-long chapters
        edges = sorted([start_s, end_s] + [c.time_s for c in chosen])
        added = False
        for a, z in zip(edges, edges[1:]):
            if z - a <= cfg.max_chapter_s:
                continue
            inside = [b for b in order if a < b.time_s < z and b not in chosen and admissible(b)]
            if inside:
                chosen.append(inside[0])  # deepest first (``order``)
                added = True
                break
        if not added:
            break
    return sorted(chosen, key=lambda b: b.time_s)


def auto_chapters(
    transcript: Transcript,
    cfg: SegmentationConfig | Mapping[str, Any] | None = None,
    *,
    sentences: Sequence[TranscriptSentence] | None = None,
    embeddings: np.ndarray | None = None,
    encoder: Any | None = None,
    cache_dir: str | None = None,
    use_cache: bool = True,
) -> tuple[Chapter, ...]:
    """Chapters found by topic shift (see the module docstring), titled ``"Part k (m:ss–m:ss)"``.

    Args:
        transcript: the transcript (its own chapters are ignored).
        cfg: ``SegmentationConfig`` or a mapping of its fields.
        sentences: ``transcript_sentences(transcript)`` if already computed.
        embeddings: embeddings of the non-sponsor ``sentences`` (row per non-sponsor sentence,
            in order); computed when ``None``.
        encoder, cache_dir, use_cache: passed to ``embed_sentences``.

    A chapter starts at a speaker turn; its ``start_s``/``end_s`` are the turn's time and the next
    chapter's start (the episode's end for the last one). Sponsor reads take part in no
    similarity; they fall inside whichever chapter holds them.
    """
    from harness.transcript import format_clock

    conf = SegmentationConfig.from_mapping(cfg)
    all_sents = tuple(sentences) if sentences is not None else transcript_sentences(transcript)
    content = [s for s in all_sents if not s.is_sponsor]
    if embeddings is None:
        embeddings = embed_sentences([s.text for s in content], encoder=encoder, cache_dir=cache_dir, use_cache=use_cache)
    if len(embeddings) != len(content):
        raise ValueError("auto_chapters: one embedding row per non-sponsor sentence is required")
    segs = transcript.content_segments
    if not segs:
        return ()
    pos_all = sentence_positions(all_sents, conf.words_per_minute) if all_sents else np.zeros(0)
    start_s = float(pos_all[0]) if len(pos_all) else 0.0
    if transcript.duration_s is not None and all(s.time_s is not None for s in all_sents):
        end_s = max(float(transcript.duration_s), float(pos_all[-1]) if len(pos_all) else 0.0)
    else:
        end_s = float(pos_all[-1]) if len(pos_all) else 0.0
    chosen = choose_boundaries(boundary_scores(content, embeddings, conf), start_s, end_s, conf)
    seg_by_index = {s.index: s for s in transcript.segments}
    starts = [(segs[0].index, _turn_start(transcript, segs[0], start_s))]
    starts += [(b.segment_index, _turn_start(transcript, seg_by_index[b.segment_index], b.time_s)) for b in chosen]
    chapters = []
    for k, (seg_index, t0) in enumerate(starts):
        t1 = starts[k + 1][1] if k + 1 < len(starts) else end_s
        seg = seg_by_index[seg_index]
        char_start = seg.char_start
        char_end = seg_by_index[starts[k + 1][0]].char_start if k + 1 < len(starts) else len(transcript.text)
        chapters.append(
            Chapter(
                index=k,
                title=f"Part {k + 1} ({format_clock(t0)}–{format_clock(t1)})",
                start_s=t0,
                end_s=t1,
                line_no=seg.line_no,
                char_start=char_start,
                char_end=char_end,
            )
        )
    return tuple(chapters)


def _turn_start(transcript: Transcript, seg: Any, fallback: float) -> float:
    """A chapter's start time: the timestamp of the turn's block when the turn opens the block
    (the written time, not one interpolated past the speaker label), else ``fallback``."""
    block = transcript.block_at(seg.char_start) if transcript.blocks else None
    if block is None or block.char_start > seg.char_start:
        return fallback
    earlier = any(
        s.is_content and block.char_start <= s.char_start < seg.char_start for s in transcript.segments
    )
    return fallback if earlier else float(block.start_s)
