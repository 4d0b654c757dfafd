"""The disk layer of the per-text model outputs (``EmbeddingCache.save_arrays``/``load_arrays``):
the offline verifier's MiniLM outputs and the lexical group's BERTScore token embeddings are read
back bit for bit by a new process, so a warm run gives the same scores without running a model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.cache import EmbeddingCache

SENTENCES = [
    "The council approved a budget for the new library.",
    "Mayor Jane Holloway said construction will begin in 2019.",
    "Nobody expected the bridge to open before the winter.",
]


def test_arrays_round_trip_with_their_dtypes(tmp_path):
    cache = EmbeddingCache(tmp_path)
    vector = np.linspace(-1, 1, 384, dtype=np.float32)
    tokens = (np.arange(12 * 384, dtype=np.float32).reshape(12, 384) / 7).astype(np.float16)
    cache.save_arrays("offline-minilm", "model|layer4", "a text", (vector, tokens))
    other = EmbeddingCache(tmp_path)  # a new process
    found = other.load_arrays("offline-minilm", "model|layer4", ["a text", "never saved", "a text"])
    assert list(found) == ["a text"]
    v, t = found["a text"]
    assert v.dtype == np.float32 and t.dtype == np.float16
    assert np.array_equal(v, vector) and np.array_equal(t, tokens)
    assert other.stats.disk_hits == 1 and other.stats.disk_hits_by_kind == {"offline-minilm": 1}
    # the kind and the key (model, layer) are part of the file's name
    assert other.load_arrays("offline-minilm", "model|layer5", ["a text"]) == {}
    assert other.load_arrays("bertscore-tokens", "model|layer4", ["a text"]) == {}
    path = other.array_path("offline-minilm", "model|layer4", "a text")
    assert path.is_file() and path.parent.parent.name == "offline-minilm"


def test_unreadable_file_is_recomputed_and_persist_off_writes_nothing(tmp_path, caplog):
    cache = EmbeddingCache(tmp_path)
    path = cache.array_path("bertscore-tokens", "k", "torn")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz")
    assert cache.load_arrays("bertscore-tokens", "k", ["torn"]) == {}
    assert "unreadable" in caplog.text
    off = EmbeddingCache(tmp_path / "off", persist_arrays=False)
    off.save_arrays("bertscore-tokens", "k", "x", (np.zeros(3, dtype=np.float32),))
    assert not (tmp_path / "off").exists()
    assert off.load_arrays("bertscore-tokens", "k", ["x"]) == {}


@pytest.fixture(scope="module")
def encoder():
    from harness.models import sentence_encoder

    return sentence_encoder()


def test_offline_minilm_outputs_from_disk_equal_fresh_ones(tmp_path, encoder):
    from harness.backends.offline import _MiniLM

    fresh_cache = EmbeddingCache(tmp_path)
    fresh = _MiniLM(encoder, 4, 64, cache=fresh_cache)
    fresh.ensure(SENTENCES)
    assert fresh.encoded == 3 and fresh_cache.stats.encoded_by_kind == {"offline-minilm": 3}

    warm_cache = EmbeddingCache(tmp_path)  # same folder, empty memory: the next process
    warm = _MiniLM(encoder, 4, 64, cache=warm_cache)
    warm.ensure(SENTENCES)
    assert warm.encoded == 0 and warm_cache.stats.encoded == 0
    assert warm_cache.stats.disk_hits_by_kind == {"offline-minilm": 3}
    for s in SENTENCES:
        assert np.array_equal(warm.vector(s), fresh.vector(s)) and warm.vector(s).dtype == np.float32
        assert warm.tokens(s).dtype == torch.float16 and torch.equal(warm.tokens(s), fresh.tokens(s))
    assert warm.bertscore_precision(SENTENCES[0], SENTENCES[1:]) == fresh.bertscore_precision(SENTENCES[0], SENTENCES[1:])

    other_layer = _MiniLM(encoder, 3, 64, cache=EmbeddingCache(tmp_path))  # another layer: another file
    other_layer.ensure(SENTENCES[:1])
    assert other_layer.encoded == 1


def test_bertscore_tokens_from_disk_equal_fresh_ones_and_bert_score(tmp_path):
    from harness.lexical import bert_scorer, best_precision, token_embeddings

    scorer = bert_scorer(4, None)
    texts = SENTENCES + ["A cat was sitting on a mat near the door."]
    fresh_cache = EmbeddingCache(tmp_path)
    fresh = token_embeddings(scorer, texts, cache=fresh_cache)
    assert fresh_cache.stats.encoded_by_kind == {"bertscore-tokens": 4}
    warm_cache = EmbeddingCache(tmp_path)
    warm = token_embeddings(scorer, texts, cache=warm_cache)
    assert warm_cache.stats.encoded == 0 and warm_cache.stats.disk_hits_by_kind == {"bertscore-tokens": 4}
    for (e1, w1), (e2, w2) in zip(fresh, warm):
        assert e2.dtype == torch.float32 and torch.equal(e1, e2) and torch.equal(w1, w2)
    # the scores from disk are bert_score's
    p, _r, _f = scorer.score([texts[0]], [texts[3]])
    assert best_precision([warm[0]], [warm[3]])[0] == pytest.approx(float(p[0]), abs=1e-5)
    assert best_precision([warm[0]], [warm[3]]) == best_precision([fresh[0]], [fresh[3]])


def test_chunked_bertscore_is_the_same_from_a_warm_disk_cache(tmp_path, monkeypatch):
    import harness.lexical as lexical

    transcript = SENTENCES * 4
    cold_cache, warm_cache = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    caches = iter([cold_cache, warm_cache])
    monkeypatch.setattr(lexical, "default_cache", lambda: next(caches))
    cold = lexical.chunked_bertscore(transcript, SENTENCES[:1], SENTENCES[1:], max_tokens=32)
    warm = lexical.chunked_bertscore(transcript, SENTENCES[:1], SENTENCES[1:], max_tokens=32)
    assert cold_cache.stats.encoded > 0 and cold_cache.stats.disk_hits == 0
    assert warm_cache.stats.encoded == 0 and warm_cache.stats.disk_hits == cold_cache.stats.encoded
    assert cold == warm


def test_rouge_lsum_over_a_repeated_transcript_equals_rouge_score():
    # rouge_lsum computes each distinct target sentence's LCS union once; the bench repeats the
    # transcript 16 times, so repeated sentences must still count their hits one by one.
    import random

    from rouge_score import rouge_scorer

    from harness.lexical import UnicodeTokenizer, rouge_scores

    rng = random.Random(5)
    vocab = "the a cat dog sat ran on under mat rug".split()
    scorer = rouge_scorer.RougeScorer(["rougeLsum"], tokenizer=UnicodeTokenizer(stem=False))
    for _ in range(60):
        once = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 10))) for _ in range(rng.randint(1, 5))]
        target = once * rng.randint(2, 4)
        pred = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 10))) for _ in range(rng.randint(1, 6))]
        ref = scorer.score("\n".join(target), "\n".join(pred))["rougeLsum"]
        assert rouge_scores(target, pred, stem=False)["rougeLsum"] == pytest.approx((ref.precision, ref.recall), abs=1e-12)
