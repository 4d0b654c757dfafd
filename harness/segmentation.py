"""Transcript sentences, their MiniLM embeddings, and automatic chapters for transcripts without any.

Coverage (``harness.coverage``) measures a summary against the *source content units* of an
episode: its chapters and, inside each chapter, its key points. This module provides the layer
underneath:

* ``transcript_sentences``: the conversation cut into sentences with character offsets, times and
  a sponsor flag (sponsor reads and non-content text such as a preface are marked, never scored);
  a run-on sentence longer than ``max_words`` is cut into word windows so no encoder input is
  ever truncated.
* ``embed_sentences``: L2-normalised MiniLM embeddings through the one cache (``harness.cache``).
* ``auto_chapters``: chapters for a transcript that has none (or when ``segmentation: auto`` is
  configured), found TextTiling-style (Hearst 1997) from embeddings instead of word counts: at
  every turn boundary, the cosine between the mean embedding of the sentences in the
  ``block_s`` seconds before and after it; a boundary's *depth* is how far that similarity dips
  below the nearest peaks on either side; the deepest boundaries become chapter starts, subject
  to a minimum and maximum chapter length. The chapters are ``Chapter`` records so everything
  downstream works unchanged, each titled by its topic words (``chapter_titles``: the terms,
  single words or two-word phrases, most distinctive of it by TF-IDF over the chapters).
  Without timestamps a chapter has no times (``start_s``/``end_s`` are ``None``): boundaries
  are still placed by word position, but no clock time is invented.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from harness.cache import EmbeddingCache, default_cache
from harness.errors import ConfigError
from harness.text import split_sentences
from harness.types import Chapter, Transcript

log = logging.getLogger(__name__)

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
        chapter_index: the index of its chapter (set by ``harness.episode.build_episode``;
            ``None`` before the first chapter or before chapters are known).
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
    chapter_index: int | None = None


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

def embed_sentences(
    texts: Sequence[str],
    *,
    encoder: Any | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    batch_size: int = 64,
    cache: EmbeddingCache | None = None,
) -> np.ndarray:
    """``(len(texts), dim)`` float32 L2-normalised embeddings of ``texts``, through the one
    embedding cache (``harness.cache``: in memory for the process, and with ``use_cache`` on disk
    in ``<cache_dir>/embeddings/coverage-<hash>.npy`` named by the model id and the exact texts).

    Args:
        texts: the texts, in order.
        encoder: a ``SentenceTransformer``-like object with ``encode``; the cached MiniLM when
            ``None``.
        cache_dir: see ``harness.cache.resolve_cache_dir``.
        use_cache: read and write the on-disk cache.
        batch_size: texts per encoder batch.
        cache: the embedding cache (default: the process-wide one).
    """
    return (cache if cache is not None else default_cache()).embed(
        texts,
        kind="coverage-sentences",
        file_prefix="coverage",
        encoder=encoder,
        cache_dir=cache_dir,
        use_disk=use_cache,
        batch_size=batch_size,
    ).matrix


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
        words_per_minute: speaking rate used for positions when the transcript has no times
            (internal only: an untimed transcript's chapters get no times).
        title_terms: how many topic terms make a chapter title.
        title_stop_words: words never used in a title, on top of spaCy's English stop words
            (conversation fillers such as "yeah", "think").
    """

    block_s: float = 120.0
    min_block_sentences: int = 3
    min_chapter_s: float = 180.0
    max_chapter_s: float = 900.0
    depth_std: float = 0.5
    smoothing: int = 3
    words_per_minute: float = 150.0
    title_terms: int = 3
    title_stop_words: tuple[str, ...] = (
        "yeah", "okay", "like", "know", "think", "thing", "things", "kind", "sort", "lot", "actually",
        "really", "right", "mean", "just", "going", "gonna", "want", "say", "said", "says", "saying",
        "people", "stuff", "maybe", "pretty", "guess", "probably", "sure", "way", "little", "bit",
        "good", "great", "yes", "fun", "oh", "uh", "um",
    )  # the same list as configs/coverage/default.yaml

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | None) -> "SegmentationConfig":
        """Build from a mapping; unknown keys and bad values raise ``ConfigError``."""
        if isinstance(cfg, SegmentationConfig):
            return cfg
        data = dict(cfg or {})
        if "title_stop_words" in data:
            data["title_stop_words"] = tuple(str(w).lower() for w in data["title_stop_words"] or ())
        try:
            built = cls(**data)
        except TypeError as exc:
            raise ConfigError(f"coverage.auto_segmentation: {exc}") from None
        checks = [
            (built.block_s > 0, "block_s must be > 0"),
            (built.min_block_sentences >= 1, "min_block_sentences must be >= 1"),
            (0 < built.min_chapter_s <= built.max_chapter_s, "need 0 < min_chapter_s <= max_chapter_s"),
            (built.smoothing >= 1, "smoothing must be >= 1"),
            (built.words_per_minute > 0, "words_per_minute must be > 0"),
            (built.title_terms >= 1, "title_terms must be >= 1"),
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
    """Chapters found by topic shift (see the module docstring), titled by their topic words.

    Args:
        transcript: the transcript (its own chapters are ignored).
        cfg: ``SegmentationConfig`` or a mapping of its fields.
        sentences: ``transcript_sentences(transcript)`` if already computed.
        embeddings: embeddings of the non-sponsor ``sentences`` (row per non-sponsor sentence,
            in order); computed when ``None``.
        encoder, cache_dir, use_cache: passed to ``embed_sentences``.

    A chapter starts at a speaker turn; its ``start_s``/``end_s`` are the turn's time and the next
    chapter's start (the episode's end for the last one), or ``None`` when the transcript has no
    timestamps. Sponsor reads take part in no similarity; they fall inside whichever chapter
    holds them.
    """
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
    timed = bool(transcript.blocks) and all(s.time_s is not None for s in all_sents)
    chosen = choose_boundaries(boundary_scores(content, embeddings, conf), start_s, end_s, conf)
    seg_by_index = {s.index: s for s in transcript.segments}
    starts = [(segs[0].index, _turn_start(transcript, segs[0], start_s))]
    starts += [(b.segment_index, _turn_start(transcript, seg_by_index[b.segment_index], b.time_s)) for b in chosen]
    spans = []
    for k, (seg_index, _t0) in enumerate(starts):
        char_end = seg_by_index[starts[k + 1][0]].char_start if k + 1 < len(starts) else len(transcript.text)
        spans.append((seg_by_index[seg_index].char_start, char_end))
    texts = [" ".join(s.text for s in content if a <= s.char_start < b) for a, b in spans]
    titles = chapter_titles(texts, conf.title_terms, conf.title_stop_words)
    chapters = []
    for k, (seg_index, t0) in enumerate(starts):
        t1 = starts[k + 1][1] if k + 1 < len(starts) else end_s
        chapters.append(
            Chapter(
                index=k,
                title=titles[k] or f"Part {k + 1}",
                start_s=t0 if timed else None,
                end_s=t1 if timed else None,
                line_no=seg_by_index[seg_index].line_no,
                char_start=spans[k][0],
                char_end=spans[k][1],
            )
        )
    return tuple(chapters)


_TITLE_NOUN = frozenset({"NOUN", "PROPN"})
_TITLE_MODIFIER = frozenset({"NOUN", "PROPN", "ADJ"})


def _singular(tok: Any) -> str:
    """The lower-cased word, a regular plural made singular ("networks" → "network"; "data",
    "bases", "mechanics" stay as said: "datum", "basis", "mechanic" would misread in a title)."""
    lemma, low = tok.lemma_.lower(), tok.lower_
    if low.endswith(("ics", "ss", "us")):  # "physics", "mechanics", "process", "virus"
        return low
    return lemma if low in (lemma + "s", lemma + "es", lemma[:-1] + "ies") else low


def _chapter_terms(doc: Any, stop: frozenset[str]) -> list[str]:
    """Candidate title terms of a tagged text, in order: nouns (singular; proper nouns as written)
    and two-word noun phrases (an adjective or noun followed by a noun)."""
    words: list[tuple[str, str] | None] = []  # (term form, part of speech), None for a non-term
    for tok in doc:
        form = tok.text if tok.pos_ == "PROPN" else _singular(tok)
        ok = (
            tok.pos_ in _TITLE_MODIFIER
            and tok.is_alpha
            and len(tok.text) >= 3
            and tok.lower_ not in stop
            and form.lower() not in stop
        )
        words.append((form, tok.pos_) if ok else None)
    terms = []
    for i, w in enumerate(words):
        if w is None:
            continue
        if w[1] in _TITLE_NOUN:
            terms.append(w[0])
        nxt = words[i + 1] if i + 1 < len(words) else None
        if nxt is not None and nxt[1] in _TITLE_NOUN and nxt[0].lower() != w[0].lower():
            terms.append(f"{w[0]} {nxt[0]}")
    return terms


def chapter_titles(
    texts: Sequence[str], n_terms: int = 3, stop_words: Sequence[str] = (), *, nlp: Any | None = None
) -> list[str]:
    """A short topic title per chapter text: its ``n_terms`` most distinctive terms by TF-IDF
    over the chapters, joined by commas ("" for a chapter with no noun).

    A term is a noun or a two-word noun phrase (spaCy part-of-speech tags, ``nlp`` or the
    bundled small English pipeline); a phrase counts double (it says more than either word), a
    term overlapping one already chosen is skipped, and in a chapter of 40+ terms a term said
    once comes after every term said more often. Ties break alphabetically, so the titles are deterministic.
    """
    import math
    from collections import Counter

    from spacy.lang.en.stop_words import STOP_WORDS  # a word list only: no model is loaded

    if nlp is None:
        from harness.models import spacy_nlp

        nlp = spacy_nlp()
    stop = frozenset(STOP_WORDS) | frozenset(w.lower() for w in stop_words)
    docs = nlp.pipe(texts, disable=[p for p in ("parser", "ner") if p in nlp.pipe_names])
    counts: list[Counter[str]] = []
    surface: dict[str, Counter[str]] = {}  # lower-cased term -> the forms it was written in
    for doc in docs:
        terms = _chapter_terms(doc, stop)
        counts.append(Counter(t.lower() for t in terms))
        for t in terms:
            surface.setdefault(t.lower(), Counter())[t] += 1
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    titles = []
    for c in counts:
        total = sum(c.values())
        min_count = 2 if total >= 40 else 1
        scored = []
        for term, n in c.items():
            idf = math.log((1 + len(texts)) / (1 + df[term])) + 0.1  # a term of every chapter still titles a lone one
            weight = 2.0 if " " in term else 1.0
            scored.append((n < min_count, -(n / total) * idf * weight, term))
        scored.sort()
        chosen: list[str] = []
        for _once, _score, term in scored:
            words = set(term.split())
            if any(words & set(other.split()) for other in chosen):
                continue
            chosen.append(term)
            if len(chosen) == n_terms:
                break
        titles.append(", ".join(min(surface[t].items(), key=lambda kv: (-kv[1], kv[0] != kv[0].lower(), kv[0]))[0] for t in chosen))
    return titles


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
