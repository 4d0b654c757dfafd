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

import functools
import hashlib
import io
import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from harness.align_checks import apply_claim_checks, checks_from_config, explain_checks
from harness.backends.base import PairScore, Verifier, VerifyPair
from harness.claims import Checkability
from harness.errors import ConfigError, HarnessError
from harness.textio import atomic_write_bytes
from harness.types import Claim, Evidence, SummaryUnit, Transcript, UnitVerdict, Verdict, Window

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = "~/.cache/harness"
CACHE_ENV = "HARNESS_CACHE_DIR"
_CACHE_FORMAT = 1  # bump when the cached array layout changes

# ----------------------------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowConfig:
    """How the transcript is cut into retrieval windows (``align.window``).

    Attributes:
        size_turns: turns (or pieces of a long turn) per window.
        stride_turns: turns between the starts of consecutive windows.
        max_words: hard cap on a window's words; longer turns are cut at sentence ends.
        break_at_chapters: windows never span two chapters.
        break_at_sponsors: windows never mix sponsor-read text with conversation.
    """

    size_turns: int
    stride_turns: int
    max_words: int
    break_at_chapters: bool = True
    break_at_sponsors: bool = True


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid retrieval settings (``align.retrieval``).

    Attributes:
        top_k: windows verified per claim.
        fusion: ``weighted`` (sum of min-max normalised scores) or ``rrf`` (reciprocal rank).
        bm25_weight: weight of the lexical score in the fusion.
        dense_weight: weight of the MiniLM cosine in the fusion.
        rrf_k: the constant of reciprocal-rank fusion.
        query_with_context: append the claim's context (section, question) to the query.
        encode_batch_size: texts per encoder batch.
    """

    top_k: int
    fusion: str
    bm25_weight: float
    dense_weight: float
    rrf_k: int = 60
    query_with_context: bool = False
    encode_batch_size: int = 64


@dataclass(frozen=True)
class Thresholds:
    """Score thresholds that turn verifier scores into labels (``align.thresholds``)."""

    supported: float
    partial: float
    contradicted: float


@dataclass(frozen=True)
class EvidenceConfig:
    """What evidence is kept per claim (``align.evidence``).

    Attributes:
        max_items: passages per claim, best first, from distinct windows.
        quote_max_words: longest quote, in words.
        quote_max_sentences: most consecutive sentences in one quote.
    """

    max_items: int
    quote_max_words: int
    quote_max_sentences: int


@dataclass(frozen=True)
class AlignConfig:
    """The ``align`` config group (``configs/align/default.yaml``), validated.

    Attributes:
        window: windowing.
        retrieval: retrieval and fusion.
        thresholds: label thresholds.
        evidence: evidence selection.
        cache_dir: where window embeddings are cached; ``None`` means ``$HARNESS_CACHE_DIR``,
            else ``~/.cache/harness``.
        use_cache: read and write the embedding cache.
    """

    window: WindowConfig
    retrieval: RetrievalConfig
    thresholds: Thresholds
    evidence: EvidenceConfig
    cache_dir: str | None = None
    use_cache: bool = True

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | AlignConfig) -> AlignConfig:
        """Build from a config mapping (plain dict or ``DictConfig``).

        Raises:
            ConfigError: a key is missing or a value is out of range, naming the key.
        """
        if isinstance(cfg, AlignConfig):
            return cfg
        try:
            window = WindowConfig(**_section(cfg, "window"))
            retrieval = RetrievalConfig(**_section(cfg, "retrieval"))
            thresholds = Thresholds(**_section(cfg, "thresholds"))
            evidence = EvidenceConfig(**_section(cfg, "evidence"))
        except TypeError as exc:
            raise ConfigError(f"align: {exc}") from None
        built = cls(
            window=window,
            retrieval=retrieval,
            thresholds=thresholds,
            evidence=evidence,
            cache_dir=cfg.get("cache_dir"),
            use_cache=bool(cfg.get("use_cache", True)),
        )
        built.validate()
        return built

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first out-of-range value."""
        w, r, t, e = self.window, self.retrieval, self.thresholds, self.evidence
        checks = [
            (w.size_turns >= 1, "align.window.size_turns must be >= 1"),
            (1 <= w.stride_turns, "align.window.stride_turns must be >= 1"),
            (w.max_words >= 1, "align.window.max_words must be >= 1"),
            (r.top_k >= 1, "align.retrieval.top_k must be >= 1"),
            (
                r.fusion in ("weighted", "rrf"),
                f"align.retrieval.fusion must be 'weighted' or 'rrf', not {r.fusion!r}",
            ),
            (r.bm25_weight >= 0 and r.dense_weight >= 0, "align.retrieval weights must be >= 0"),
            (r.bm25_weight + r.dense_weight > 0, "align.retrieval: bm25_weight + dense_weight must be > 0"),
            (0 <= t.partial <= t.supported <= 1, "align.thresholds: need 0 <= partial <= supported <= 1"),
            (0 <= t.contradicted <= 1, "align.thresholds.contradicted must be in [0, 1]"),
            (
                e.max_items >= 1 and e.quote_max_words >= 1 and e.quote_max_sentences >= 1,
                "align.evidence values must be >= 1",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def window_key(self) -> str:
        """The window settings as a stable string (part of the embedding cache key)."""
        return json.dumps(asdict(self.window), sort_keys=True)


def _section(cfg: Mapping[str, Any], key: str) -> dict[str, Any]:
    if key not in cfg or cfg[key] is None:
        raise ConfigError(f"align: missing config section {key!r}")
    return dict(cfg[key])


def resolve_cache_dir(value: str | os.PathLike[str] | None) -> Path:
    """The embedding cache directory: ``value`` if set, else ``$HARNESS_CACHE_DIR``, else
    ``~/.cache/harness``."""
    chosen = value if value not in (None, "") else os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR
    return Path(os.path.expanduser(str(chosen)))


# ----------------------------------------------------------------------------------------------
# Windows
# ----------------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class _Piece:
    """A turn, or a sentence-aligned part of a long turn: the unit windows are built from.

    ``words`` are the raw spans (offsets in ``Transcript.text``) of the piece's words;
    ``sentences`` are word-index ranges ``[a, b)`` into ``words``.
    """

    segment_index: int
    speaker: str | None
    chapter_index: int | None
    timestamp: str | None
    text: str
    char_start: int
    char_end: int
    start_s: float | None
    end_s: float | None
    words: tuple[tuple[int, int], ...]
    sentences: tuple[tuple[int, int], ...]
    is_sponsor: bool

    @property
    def n_words(self) -> int:
        return len(self.words)


def _raw_word_spans(
    transcript: Transcript, seg_text: str, seg_char_start: int, seg_char_end: int
) -> list[tuple[int, int, int, int]]:
    """Each word of a segment as (seg_start, seg_end, raw_start, raw_end).

    The segment text equals the transcript slice for the bundled reader; for readers that
    remove markup the words are found in order in the raw text, so quotes stay verbatim.
    """
    raw = transcript.text
    out: list[tuple[int, int, int, int]] = []
    verbatim = raw[seg_char_start:seg_char_end] == seg_text
    pos = seg_char_start
    for m in _WORD_RE.finditer(seg_text):
        if verbatim:
            out.append((m.start(), m.end(), seg_char_start + m.start(), seg_char_start + m.end()))
            continue
        word = m.group()
        j = raw.find(word, pos, seg_char_end)
        length = len(word)
        if j < 0:
            core = word.strip("*_`[]()<>\"'")
            j = raw.find(core, pos, seg_char_end) if core else -1
            length = len(core)
        if j < 0:
            j, length = pos, 0  # unmappable word: keep order, give it an empty span
        out.append((m.start(), m.end(), j, j + length))
        pos = j + length
    return out


def _sentence_word_ranges(seg_text: str, word_starts: Sequence[int]) -> list[tuple[int, int]]:
    """Sentences of a segment as word-index ranges, from ``harness.chunking.split_sentences``."""
    from harness.chunking import split_sentences

    ranges: list[tuple[int, int]] = []
    w = 0
    n = len(word_starts)
    for sent in split_sentences(seg_text):
        a = w
        while w < n and word_starts[w] < sent.end:
            w += 1
        if w > a:
            ranges.append((a, w))
    if w < n:
        ranges.append((w, n))
    return ranges


def _pieces(transcript: Transcript, max_words: int, break_at_sponsors: bool) -> list[_Piece]:
    pieces: list[_Piece] = []
    sponsors = [(sp.char_start, sp.char_end) for sp in transcript.sponsor_segments]
    for seg in transcript.content_segments:
        words = _raw_word_spans(transcript, seg.text, seg.char_start, seg.char_end)
        if not words:
            continue
        flags = [any(a <= w[2] < b for a, b in sponsors) for w in words] if sponsors else [False] * len(words)
        # Sentence units, cut further where sponsor text starts or stops and where a single
        # sentence is longer than the cap.
        units: list[tuple[int, int]] = []
        for a, b in _sentence_word_ranges(seg.text, [w[0] for w in words]):
            cut = a
            for i in range(a + 1, b):
                if (break_at_sponsors and flags[i] != flags[i - 1]) or i - cut >= max_words:
                    units.append((cut, i))
                    cut = i
            units.append((cut, b))
        # Greedy packing of sentence units into pieces of at most max_words words.
        groups: list[list[tuple[int, int]]] = []
        for unit in units:
            if groups:
                last = groups[-1]
                size = last[-1][1] - last[0][0] + unit[1] - unit[0]
                same_kind = not break_at_sponsors or flags[unit[0]] == flags[last[0][0]]
                if size <= max_words and same_kind:
                    last.append(unit)
                    continue
            groups.append([unit])
        whole = len(groups) == 1
        for group in groups:
            a, b = group[0][0], group[-1][1]
            span_words = tuple((w[2], w[3]) for w in words[a:b])
            raw_start, raw_end = span_words[0][0], span_words[-1][1]
            if whole:
                start_s, end_s = seg.start_s, seg.end_s
            else:
                start_s = _interpolate(seg, raw_start)
                end_s = _interpolate(seg, raw_end)
            pieces.append(
                _Piece(
                    segment_index=seg.index,
                    speaker=seg.speaker,
                    chapter_index=seg.chapter_index,
                    timestamp=seg.timestamp,
                    text=seg.text[words[a][0] : words[b - 1][1]],
                    char_start=raw_start,
                    char_end=raw_end,
                    start_s=start_s,
                    end_s=end_s,
                    words=span_words,
                    sentences=tuple((x - a, y - a) for x, y in group),
                    is_sponsor=transcript.sponsor_overlap(raw_start, raw_end) >= 0.5,
                )
            )
    return pieces


def _interpolate(seg: Any, offset: int) -> float | None:
    """Time of a raw offset inside a segment, in proportion to its characters."""
    if seg.start_s is None or seg.end_s is None or seg.char_end <= seg.char_start:
        return seg.start_s
    frac = min(1.0, max(0.0, (offset - seg.char_start) / (seg.char_end - seg.char_start)))
    return seg.start_s + frac * (seg.end_s - seg.start_s)


def _build(
    transcript: Transcript,
    size: int,
    stride: int,
    max_words: int,
    break_at_chapters: bool,
    break_at_sponsors: bool,
) -> tuple[tuple[Window, ...], tuple[tuple[_Piece, ...], ...]]:
    if size < 1 or stride < 1 or max_words < 1:
        raise ConfigError("align.window: size_turns, stride_turns and max_words must be >= 1")
    pieces = _pieces(transcript, max_words, break_at_sponsors)
    # Runs of pieces a window may span.
    runs: list[list[_Piece]] = []
    for piece in pieces:
        if runs:
            prev = runs[-1][-1]
            same = (not break_at_chapters or prev.chapter_index == piece.chapter_index) and (
                not break_at_sponsors or prev.is_sponsor == piece.is_sponsor
            )
            if same:
                runs[-1].append(piece)
                continue
        runs.append([piece])
    windows: list[Window] = []
    members: list[tuple[_Piece, ...]] = []
    for run in runs:
        start = 0
        while start < len(run):
            end, words = start, 0
            while (
                end < len(run)
                and end - start < size
                and (end == start or words + run[end].n_words <= max_words)
            ):
                words += run[end].n_words
                end += 1
            chosen = tuple(run[start:end])
            members.append(chosen)
            windows.append(_window(transcript, len(windows), chosen))
            if end >= len(run):
                break
            # Never skip a piece: advance by the stride, or less when the cap made this window short.
            start += min(stride, end - start)
    return tuple(windows), tuple(members)


def _window(transcript: Transcript, index: int, pieces: Sequence[_Piece]) -> Window:
    speakers: list[str] = []
    for p in pieces:
        if p.speaker is not None and p.speaker not in speakers:
            speakers.append(p.speaker)
    segs: list[int] = []
    for p in pieces:
        if p.segment_index not in segs:
            segs.append(p.segment_index)
    char_start, char_end = pieces[0].char_start, pieces[-1].char_end
    return Window(
        index=index,
        text="\n".join(p.text for p in pieces),
        segment_indices=tuple(segs),
        start_s=pieces[0].start_s,
        end_s=pieces[-1].end_s,
        timestamp=pieces[0].timestamp,
        chapter_index=pieces[0].chapter_index,
        speakers=tuple(speakers),
        char_start=char_start,
        char_end=char_end,
        is_sponsor=transcript.sponsor_overlap(char_start, char_end) >= 0.5,
    )


def build_windows(
    transcript: Transcript,
    size: int,
    stride: int,
    max_words: int,
    *,
    break_at_chapters: bool = True,
    break_at_sponsors: bool = True,
) -> tuple[Window, ...]:
    """Overlapping windows of consecutive content turns.

    Args:
        transcript: the parsed transcript (sponsor segments marked, if any).
        size: turns per window; a turn longer than ``max_words`` counts as several turns (its
            sentence-aligned pieces).
        stride: turns between window starts (``stride < size`` gives overlap).
        max_words: no window has more words than this.
        break_at_chapters: never span two chapters.
        break_at_sponsors: never mix sponsor-read text and conversation.

    Returns:
        Windows in transcript order; every content word lies in at least one window.

    Raises:
        ConfigError: a size, stride or cap below 1.
    """
    windows, _ = _build(transcript, size, stride, max_words, break_at_chapters, break_at_sponsors)
    return windows


# ----------------------------------------------------------------------------------------------
# Retrieval
# ----------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def stem(word: str) -> str:
    """A light suffix stemmer (plural -s/-es/-ies, -ing, -ed) for BM25 matching."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ing") and len(word) >= 7:
        return word[:-3]
    if word.endswith("ed") and len(word) >= 6:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def bm25_tokens(text: str) -> list[str]:
    """Lower-cased, stop words removed, stemmed tokens (the BM25 vocabulary)."""
    stop = _stop_words()
    return [stem(t) for t in _TOKEN_RE.findall(text.lower()) if t not in stop]


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


@dataclass(frozen=True)
class WindowEmbeddings:
    """Window embeddings and where they came from.

    Attributes:
        matrix: ``(n_windows, dim)`` float32, L2-normalised rows.
        cache_hit: True when read from the cache rather than encoded.
        cache_path: the cache file (``None`` with caching off).
        model_id: the encoder's id (part of the cache key).
    """

    matrix: np.ndarray
    cache_hit: bool
    cache_path: str | None
    model_id: str


def encoder_model_id(encoder: Any | None) -> str:
    """The id that keys cached embeddings: ``MINILM_ID`` for the default encoder, else the
    encoder's ``model_id`` attribute or its class name."""
    from harness.models import MINILM_ID

    if encoder is None:
        return MINILM_ID
    return str(getattr(encoder, "model_id", f"{type(encoder).__module__}.{type(encoder).__qualname__}"))


def _encode(encoder: Any, texts: Sequence[str], batch_size: int, show_progress: bool = False) -> np.ndarray:
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    vectors = encoder.encode(
        list(texts),
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=show_progress,
    )
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


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
    """Embed window texts, reading and writing an on-disk ``.npy`` cache.

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
    """Embed ``texts`` through the on-disk cache (see ``embed_windows``); ``kind`` names the
    cache file (``windows``, ``sentences``)."""
    model_id = encoder_model_id(encoder)
    digest = hashlib.sha256()
    for part in (f"format={_CACHE_FORMAT}", kind, model_id, config_key, str(len(texts))):
        digest.update(part.encode("utf-8") + b"\x00")
    for text in texts:
        digest.update(text.encode("utf-8") + b"\x00")
    path = resolve_cache_dir(cache_dir) / "embeddings" / f"{kind}-{digest.hexdigest()[:40]}.npy"
    if use_cache and path.exists():
        try:
            matrix = np.load(path, allow_pickle=False)
            if matrix.ndim == 2 and matrix.shape[0] == len(texts):
                log.info("embedding cache hit: %s (%d %s)", path, len(texts), kind)
                return WindowEmbeddings(matrix.astype(np.float32), True, str(path), model_id)
            log.warning(
                "embedding cache %s has shape %s, expected %d rows; re-encoding",
                path,
                matrix.shape,
                len(texts),
            )
        except (OSError, ValueError) as exc:
            log.warning("embedding cache %s is unreadable (%s); re-encoding", path, exc)
    log.info("embedding cache miss: encoding %d %s with %s", len(texts), kind, model_id)
    if encoder is None:
        from harness.models import sentence_encoder

        encoder = sentence_encoder()
    matrix = _encode(encoder, texts, batch_size, show_progress)
    if use_cache:
        buffer = io.BytesIO()
        np.save(buffer, matrix, allow_pickle=False)
        atomic_write_bytes(path, buffer.getvalue())
    return WindowEmbeddings(matrix, False, str(path) if use_cache else None, model_id)


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
    """BM25 + dense index over windows; ``search`` returns the fused top-k per query."""

    def __init__(self, windows: Sequence[Window], embeddings: np.ndarray, cfg: RetrievalConfig) -> None:
        import bm25s

        self.windows = tuple(windows)
        self.embeddings = embeddings
        self.cfg = cfg
        self._bm25 = bm25s.BM25() if self.windows else None
        if self._bm25 is not None:
            self._bm25.index([bm25_tokens(w.text) for w in self.windows], show_progress=False)

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
    piece: _Piece
    word_start: int  # index into piece.words
    word_end: int
    sentence_keys: tuple[tuple[int, int], ...]  # (piece id, sentence index) of its sentences

    @property
    def char_start(self) -> int:
        return self.piece.words[self.word_start][0]

    @property
    def char_end(self) -> int:
        return self.piece.words[self.word_end - 1][1]


def _candidates(pieces: Sequence[_Piece], piece_ids: Sequence[int], max_sentences: int) -> list[_Candidate]:
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
    transcript: Transcript,
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
        transcript: the parsed transcript, sponsor segments marked.
        units: all summary units, boilerplate included (each gets a ``UnitVerdict``).
        claims: the claims of the checkable units (``harness.claims.split_claims``).
        verifier: any ``Verifier``; it is called once with every (claim, top-k window) pair.
        cfg: the ``align`` config (mapping or ``AlignConfig``).
        encoder: a ``SentenceTransformer``-like encoder; the cached MiniLM when ``None``.
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

    wc = config.window
    windows, members = _build(
        transcript, wc.size_turns, wc.stride_turns, wc.max_words, wc.break_at_chapters, wc.break_at_sponsors
    )
    lap("windows")

    rc = config.retrieval
    embedded: WindowEmbeddings | None = None
    hits: list[tuple[RetrievalHit, ...]] = []
    query_matrix = np.zeros((0, 1), np.float32)
    active_encoder = encoder
    if claims:
        embedded = embed_windows(
            windows,
            encoder=encoder,
            cache_dir=config.cache_dir,
            use_cache=config.use_cache,
            config_key=config.window_key(),
            batch_size=rc.encode_batch_size,
            show_progress=progress,
        )
    lap("embed")
    if claims:
        if active_encoder is None:
            from harness.models import sentence_encoder

            active_encoder = sentence_encoder()
        queries = [claim_query(c, rc.query_with_context) for c in claims]
        query_matrix = _encode(active_encoder, queries, rc.encode_batch_size)
        hits = WindowIndex(windows, embedded.matrix, rc).search(queries, query_matrix, rc.top_k)
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

    verdicts, sentence_cache_hit = _claim_verdicts(
        transcript, claims, hits, scores, members, query_matrix, encoder, config
    )
    verdicts = apply_claim_checks(verdicts, checks_from_config(cfg), transcript)  # harness/align_checks.py
    lap("evidence")

    unit_verdicts = _unit_verdicts(units, verdicts, checkability, config.thresholds)
    unit_verdicts = explain_checks(unit_verdicts)
    truncated = count_encoder_truncations(active_encoder, [w.text for w in windows])
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
    from harness.transcript import format_clock

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
    transcript: Transcript,
    claims: Sequence[Claim],
    hits: Sequence[tuple[RetrievalHit, ...]],
    scores: Sequence[PairScore],
    members: Sequence[tuple[_Piece, ...]],
    query_matrix: np.ndarray,
    encoder: Any | None,
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

    picker = _EvidencePicker(transcript, members, config) if claims else None
    if picker is not None:
        picker.embed_sentences(encoder)
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

    def __init__(self, transcript: Transcript, members: Sequence[tuple[_Piece, ...]], config: AlignConfig):
        self.transcript = transcript
        self.members = members
        self.config = config
        self.chapters = {c.index: c.title for c in transcript.chapters}
        # Every sentence of every piece, numbered once.
        self.piece_ids: dict[int, int] = {}
        self.sentence_row: dict[tuple[int, int], int] = {}
        self.sentence_texts: list[str] = []
        for window_pieces in members:
            for piece in window_pieces:
                if id(piece) in self.piece_ids:
                    continue
                pid = self.piece_ids[id(piece)] = len(self.piece_ids)
                for si, (a, b) in enumerate(piece.sentences):
                    self.sentence_row[(pid, si)] = len(self.sentence_texts)
                    self.sentence_texts.append(transcript.text[piece.words[a][0] : piece.words[b - 1][1]])
        self.sentence_matrix = np.zeros((0, 1), np.float32)
        self.sentence_cache_hit: bool | None = None

    def embed_sentences(self, encoder: Any | None) -> None:
        """Embed all transcript sentences through the disk cache: every summary of the same
        episode reuses them."""
        if not self.sentence_texts:
            return
        embedded = embed_texts(
            self.sentence_texts,
            kind="sentences",
            encoder=encoder,
            cache_dir=self.config.cache_dir,
            use_cache=self.config.use_cache,
            config_key=self.config.window_key(),
            batch_size=self.config.retrieval.encode_batch_size,
        )
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
        self, pieces: Sequence[_Piece], query: np.ndarray, taken: Sequence[tuple[int, int]]
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

    def _evidence(self, piece: _Piece, start: int, end: int, score: float) -> Evidence:
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
