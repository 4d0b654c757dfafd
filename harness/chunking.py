"""Sentence splitting, document chunking and chunk-and-max scoring for long sources.

A verifier reads a bounded amount of text well. Long sources are therefore cut into
sentence-aligned chunks of at most ``max_words`` words that overlap by a few sentences (the
SummaC / AlignScore / MiniCheck recipe); a claim is cut into sentences; every (claim sentence,
chunk) pair is scored in one batched call; a claim sentence takes its best chunk (max), and the
claim takes its weakest sentence (``min``, or ``mean``). Which chunk won is kept for each sentence.

Nothing is dropped silently: a sentence longer than ``max_words`` is cut into word windows and
the number of such cuts is reported with the chunks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.errors import ConfigError
from harness.text import split_sentences as text_sentences
from harness.types import PairScore, VerifyPair

if TYPE_CHECKING:
    from harness.backends.base import Verifier

@dataclass(frozen=True)
class Sentence:
    """One sentence of a text.

    Attributes:
        text: the sentence, stripped.
        start: character offset of the sentence in the source text.
        end: offset just past it.
    """

    text: str
    start: int
    end: int

    @property
    def n_words(self) -> int:
        return len(self.text.split())


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` as records: ``harness.text.split_sentences`` in its
    ``"tokenized"`` style (line breaks and ``.``/``!``/``?`` before whitespace end a sentence,
    abbreviations and initials do not; works on lower-cased, tokenized text). Empty input gives
    an empty list.
    """
    return [Sentence(text[s:e], s, e) for s, e in text_sentences(text, style="tokenized")]


def claim_sentences(claim: str, min_words: int = 3) -> list[str]:
    """The sentences of a claim, fragments shorter than ``min_words`` joined to a neighbour.

    A one-sentence claim comes back as ``[claim]`` (stripped); an empty claim as ``[]``.
    """
    pieces = [s.text for s in split_sentences(claim)]
    merged: list[str] = []
    for piece in pieces:
        if merged and (_n_words(piece) < min_words or _n_words(merged[-1]) < min_words):
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    return merged


def _n_words(text: str) -> int:
    return len(re.findall(r"\w+", text))


@dataclass(frozen=True)
class Chunk:
    """A run of consecutive sentences of a document (or a window of one over-long sentence).

    Attributes:
        index: 0-based position among the chunks.
        text: the chunk's sentences joined by single spaces.
        start: character offset of the chunk's first sentence in the document.
        end: offset just past its last sentence.
        n_words: whitespace-separated words.
        from_split_sentence: the chunk is a window of a sentence longer than ``max_words``.
    """

    index: int
    text: str
    start: int
    end: int
    n_words: int
    from_split_sentence: bool = False


@dataclass(frozen=True)
class Chunking:
    """The chunks of one document and what had to be done to make them.

    Attributes:
        chunks: the chunks, in document order (empty for an empty document).
        n_sentences: sentences found in the document.
        n_split_sentences: sentences longer than ``max_words`` that were cut into windows.
    """

    chunks: tuple[Chunk, ...]
    n_sentences: int
    n_split_sentences: int

    @property
    def n_chunks(self) -> int:
        return len(self.chunks)


@dataclass(frozen=True)
class ChunkingOptions:
    """How documents and claims are cut (the ``chunking`` config block).

    Attributes:
        max_words: most words in a chunk (≈ 350 word pieces at 250 words, AlignScore's size).
        overlap_sentences: sentences a chunk repeats from the end of the previous one.
        claim_aggregation: ``min`` or ``mean`` over a claim's sentences.
        min_claim_sentence_words: claim fragments shorter than this join a neighbour.
    """

    max_words: int = 250
    overlap_sentences: int = 1
    claim_aggregation: str = "min"
    min_claim_sentence_words: int = 3

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> "ChunkingOptions":
        cfg = dict(cfg or {})
        unknown = set(cfg) - {"max_words", "overlap_sentences", "claim_aggregation", "min_claim_sentence_words"}
        if unknown:
            raise ConfigError(f"chunking: unknown key(s) {sorted(unknown)}")
        opts = cls(**cfg)
        if int(opts.max_words) < 1:
            raise ConfigError(f"chunking.max_words must be at least 1, got {opts.max_words}")
        if int(opts.overlap_sentences) < 0:
            raise ConfigError(f"chunking.overlap_sentences must be >= 0, got {opts.overlap_sentences}")
        if opts.claim_aggregation not in ("min", "mean"):
            raise ConfigError(
                f"chunking.claim_aggregation must be 'min' or 'mean', got {opts.claim_aggregation!r}"
            )
        return opts


def chunk_document(text: str, max_words: int = 250, overlap_sentences: int = 1) -> Chunking:
    """Cut ``text`` into sentence-aligned chunks of at most ``max_words`` words.

    Consecutive chunks share ``overlap_sentences`` sentences, as long as the shared part leaves
    room for at least one new sentence. A sentence longer than ``max_words`` becomes its own
    run of word windows (overlapping by a fifth of ``max_words``) and is counted in
    ``n_split_sentences``; it is never dropped or truncated.
    """
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    sentences = split_sentences(text)
    units: list[tuple[Sentence, bool]] = []
    n_split = 0
    for sent in sentences:
        if sent.n_words <= max_words:
            units.append((sent, False))
            continue
        n_split += 1
        units.extend((piece, True) for piece in _word_windows(text, sent, max_words))

    chunks: list[Chunk] = []
    i = 0
    while i < len(units):
        if units[i][1]:  # a window of a long sentence is a chunk by itself
            sent = units[i][0]
            chunks.append(Chunk(len(chunks), sent.text, sent.start, sent.end, sent.n_words, True))
            i += 1
            continue
        j, words = i, 0
        while j < len(units) and not units[j][1] and words + units[j][0].n_words <= max_words:
            words += units[j][0].n_words
            j += 1
        group = [u[0] for u in units[i:j]]
        chunks.append(
            Chunk(len(chunks), " ".join(s.text for s in group), group[0].start, group[-1].end, words)
        )
        if j >= len(units):
            break
        # Step back by the overlap, but always move forward by at least one sentence.
        back = min(overlap_sentences, j - i - 1)
        if units[j][1]:
            back = 0
        i = j - back
    return Chunking(tuple(chunks), len(sentences), n_split)


def sentence_units(text: str, max_words: int) -> tuple[list[Sentence], int]:
    """The sentences of ``text``, each longer than ``max_words`` cut into overlapping windows.

    Returns the units and how many sentences had to be cut.
    """
    units: list[Sentence] = []
    n_cut = 0
    for sent in split_sentences(text):
        if sent.n_words <= max_words:
            units.append(sent)
        else:
            n_cut += 1
            units.extend(_word_windows(text, sent, max_words))
    return units, n_cut


def _word_windows(text: str, sent: Sentence, max_words: int) -> list[Sentence]:
    words = [(m.start() + sent.start, m.end() + sent.start) for m in re.finditer(r"\S+", sent.text)]
    step = max(1, max_words - max(1, max_words // 5))
    windows: list[Sentence] = []
    for lo in range(0, len(words), step):
        hi = min(lo + max_words, len(words))
        start, end = words[lo][0], words[hi - 1][1]
        windows.append(Sentence(text[start:end], start, end))
        if hi == len(words):
            break
    return windows


@dataclass(frozen=True)
class SentenceScore:
    """How one claim sentence fared against its best chunk.

    Attributes:
        sentence: the claim sentence.
        best_chunk: index of the chunk with the highest support.
        support: support from that chunk.
        contradiction: highest contradiction over the chunks (``None`` if the backend has none).
        features: the backend's features for the winning (sentence, chunk) pair.
    """

    sentence: str
    best_chunk: int
    support: float
    contradiction: float | None
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkedScore:
    """A claim scored against a long document by chunk-and-max.

    Attributes:
        score: the claim's ``PairScore`` (support aggregated over sentences, contradiction the
            maximum; features those of the deciding sentence plus chunking counts).
        sentences: one ``SentenceScore`` per claim sentence.
        chunking: the document's chunks.
        deciding_sentence: index of the sentence whose features ``score`` reports (the weakest
            one under ``min``; the weakest one too under ``mean``, for inspection).
    """

    score: PairScore
    sentences: tuple[SentenceScore, ...]
    chunking: Chunking
    deciding_sentence: int


def expand_pairs(
    pairs: Sequence[VerifyPair], options: ChunkingOptions
) -> tuple[list[VerifyPair], list[tuple[list[str], Chunking, list[list[int]]]]]:
    """Every (claim sentence, chunk) sub-pair of ``pairs``, and where each one came from.

    Returns the flat list of sub-pairs and, per input pair, its claim sentences, its document
    chunking and, per claim sentence, the positions of its sub-pairs in the flat list. Chunkings
    are computed once per distinct document.
    """
    chunk_cache: dict[str, Chunking] = {}
    flat: list[VerifyPair] = []
    layout: list[tuple[list[str], Chunking, list[list[int]]]] = []
    for pair in pairs:
        chunking = chunk_cache.get(pair.evidence)
        if chunking is None:
            chunking = chunk_document(pair.evidence, options.max_words, options.overlap_sentences)
            chunk_cache[pair.evidence] = chunking
        sentences = claim_sentences(pair.claim, options.min_claim_sentence_words)
        positions: list[list[int]] = []
        for sentence in sentences:
            row = []
            for chunk in chunking.chunks:
                row.append(len(flat))
                flat.append(VerifyPair(sentence, chunk.text, pair.context))
            positions.append(row)
        layout.append((sentences, chunking, positions))
    return flat, layout


def aggregate(
    layout: Sequence[tuple[list[str], Chunking, list[list[int]]]],
    sub_scores: Sequence[PairScore],
    options: ChunkingOptions,
) -> list[ChunkedScore]:
    """Fold sub-pair scores back into one ``ChunkedScore`` per input pair (max, then min/mean)."""
    results: list[ChunkedScore] = []
    for sentences, chunking, positions in layout:
        per_sentence: list[SentenceScore] = []
        for sentence, row in zip(sentences, positions):
            if not row:
                continue
            scores = [sub_scores[k] for k in row]
            best = max(range(len(scores)), key=lambda c: (scores[c].support, -c))
            contradictions = [s.contradiction for s in scores if s.contradiction is not None]
            per_sentence.append(
                SentenceScore(
                    sentence=sentence,
                    best_chunk=best,
                    support=float(scores[best].support),
                    contradiction=max(contradictions) if contradictions else None,
                    features=dict(scores[best].features),
                )
            )
        counts = {
            "n_chunks": float(chunking.n_chunks),
            "n_claim_sentences": float(len(sentences)),
            "n_split_sentences": float(chunking.n_split_sentences),
        }
        if not per_sentence:  # empty document or empty claim: nothing can support it
            results.append(
                ChunkedScore(PairScore(0.0, None, {**counts, "best_chunk": -1.0}), (), chunking, -1)
            )
            continue
        supports = [s.support for s in per_sentence]
        deciding = min(range(len(supports)), key=lambda k: (supports[k], k))
        support = min(supports) if options.claim_aggregation == "min" else sum(supports) / len(supports)
        contradictions = [s.contradiction for s in per_sentence if s.contradiction is not None]
        features = dict(per_sentence[deciding].features)
        features.update(counts)
        features["best_chunk"] = float(per_sentence[deciding].best_chunk)
        features["truncated"] = max(float(s.features.get("truncated", 0.0)) for s in per_sentence)
        results.append(
            ChunkedScore(
                PairScore(float(support), max(contradictions) if contradictions else None, features),
                tuple(per_sentence),
                chunking,
                deciding,
            )
        )
    return results


def score_chunked(
    verifier: Verifier, pairs: Sequence[VerifyPair], options: ChunkingOptions
) -> list[ChunkedScore]:
    """Score claims against long documents: chunk, score every sub-pair in one call, aggregate."""
    flat, layout = expand_pairs(pairs, options)
    sub_scores = verifier.score(flat) if flat else []
    if len(sub_scores) != len(flat):
        raise RuntimeError(f"verifier {verifier.name!r} returned {len(sub_scores)} scores for {len(flat)} pairs")
    return aggregate(layout, sub_scores, options)
