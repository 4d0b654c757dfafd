"""Claims: splitting summary units into atomic, stand-alone, checkable statements."""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from harness.claims import (
    CLAIM_SPLITTERS,
    Checkability,
    is_checkable,
    split_claims,
    split_claims_from_config,
)
from harness.errors import ConfigError
from harness.text import content_words
from harness.types import SummaryUnit

CONFIGS = Path(__file__).resolve().parent.parent / "configs" / "claims"


def unit(text: str, n: int = 1, section: str | None = "Key Insights", **kw) -> SummaryUnit:
    return SummaryUnit(
        unit_id=f"u{n:03d}",
        index=n - 1,
        section=section,
        kind="key_insight",
        text=text,
        text_plain=text,
        line_no=n,
        **kw,
    )


def clause_cfg() -> dict:
    from harness.schema import group_defaults

    return group_defaults("claims", "clause")  # the YAML less its schema line (defaults)


def sentence_cfg() -> dict:
    from harness.schema import group_defaults

    return group_defaults("claims", "sentence")


def clause(*texts: str, section: str | None = "Key Insights"):
    units = [unit(t, i + 1, section) for i, t in enumerate(texts)]
    return split_claims_from_config(units, clause_cfg())


def assert_offsets_valid(claims, units):
    by_id = {u.unit_id: u for u in units}
    for c in claims:
        plain = by_id[c.unit_id].text_plain
        assert 0 <= c.char_start < c.char_end <= len(plain)
        assert plain[c.char_start : c.char_end].strip() == plain[c.char_start : c.char_end]


# ----------------------------------------------------------------------------------------------
# configs
# ----------------------------------------------------------------------------------------------


def test_claim_configs_name_registered_splitters():
    assert CLAIM_SPLITTERS.names() == ["clause", "sentence"]
    assert sentence_cfg()["splitter"] == "sentence"
    assert clause_cfg()["splitter"] == "clause"
    for cfg in (sentence_cfg(), clause_cfg()):
        assert cfg["min_content_words"] == 3
        assert cfg["min_claim_content_words"] == 2


def test_unknown_splitter_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown claim splitter 'words'"):
        split_claims(
            [unit("Ilya co-founded OpenAI.")], "words", min_content_words=3, min_claim_content_words=2
        )


def test_missing_config_key_is_a_config_error():
    with pytest.raises(ConfigError, match="min_content_words"):
        split_claims_from_config(
            [unit("Ilya co-founded OpenAI.")], {"splitter": "sentence", "min_claim_content_words": 2}
        )


# ----------------------------------------------------------------------------------------------
# sentence splitter
# ----------------------------------------------------------------------------------------------


def test_sentence_splitter_one_claim_per_sentence_verbatim():
    text = "Ilya co-founded OpenAI in 2015. GPT-2 was trained on web text. It generated coherent paragraphs of English."
    units = [unit(text)]
    claims = split_claims_from_config(units, sentence_cfg())
    assert [c.text for c in claims] == [
        "Ilya co-founded OpenAI in 2015.",
        "GPT-2 was trained on web text.",
        "It generated coherent paragraphs of English.",
    ]
    assert [c.claim_id for c in claims] == ["u001.c1", "u001.c2", "u001.c3"]
    assert [c.index for c in claims] == [0, 1, 2]
    assert all(c.unit_id == "u001" and c.context == "Key Insights" for c in claims)
    for c in claims:
        assert text[c.char_start : c.char_end] == c.text
    assert_offsets_valid(claims, units)


def test_short_sentence_is_attached_to_its_neighbour():
    text = "GPT-2 was trained on web text. This is it. It generated coherent paragraphs of English."
    claims = split_claims_from_config([unit(text)], sentence_cfg())
    assert [c.text for c in claims] == [
        "GPT-2 was trained on web text. This is it.",
        "It generated coherent paragraphs of English.",
    ]
    assert (claims[0].char_start, claims[0].char_end) == (0, 42)


# ----------------------------------------------------------------------------------------------
# clause splitter
# ----------------------------------------------------------------------------------------------


def test_coordinated_independent_clauses_become_two_claims():
    text = "Ilya co-founded OpenAI, and he wrote many papers."
    claims = clause(text)
    assert [c.text for c in claims] == ["Ilya co-founded OpenAI.", "He wrote many papers."]
    assert [text[c.char_start : c.char_end] for c in claims] == [
        "Ilya co-founded OpenAI",
        "he wrote many papers.",
    ]
    assert [c.claim_id for c in claims] == ["u001.c1", "u001.c2"]


def test_list_of_short_items_is_not_over_split():
    texts = (
        "Supervised data, compute and conviction were key.",
        "Ilya Sutskever discusses deep learning's evolution, from the AlexNet breakthrough to the future of AI, "
        "touching on reasoning, language, and AGI.",
        "The key factors were supervised data, compute, and conviction.",
    )
    claims = clause(*texts)
    assert [c.text for c in claims] == list(texts)


def test_object_list_of_substantial_items_is_split_with_the_shared_prefix():
    claims = clause(
        "The conversation highlights the importance of avoiding overfitting in neural networks and the role of "
        "parameterization."
    )
    assert [c.text for c in claims] == [
        "The conversation highlights the importance of avoiding overfitting in neural networks.",
        "The conversation highlights the role of parameterization.",
    ]


def test_conjoined_predicates_repeat_the_subject():
    text = (
        "Sutskever traced the revolution to 2010 and credited James Martens with the Hessian-free optimizer."
    )
    claims = clause(text)
    assert [c.text for c in claims] == [
        "Sutskever traced the revolution to 2010.",
        "Sutskever credited James Martens with the Hessian-free optimizer.",
    ]
    assert (
        text[claims[1].char_start : claims[1].char_end]
        == "credited James Martens with the Hessian-free optimizer."
    )


def test_conjoined_predicates_repeat_a_shared_auxiliary():
    claims = clause(
        "This counter-intuitive behavior is analyzed and explained through insights from statistical theory."
    )
    assert [c.text for c in claims] == [
        "This counter-intuitive behavior is analyzed.",
        "This counter-intuitive behavior is explained through insights from statistical theory.",
    ]


def test_semicolon_between_clauses_splits():
    claims = clause("The brain uses spikes; neural networks do not use spikes.")
    assert [c.text for c in claims] == ["The brain uses spikes.", "Neural networks do not use spikes."]


def test_embedded_question_after_and_stays_attached():
    text = (
        "The conversation touches on the history of money, from ledgers to the US dollar, and how cryptocurrencies "
        "like Bitcoin could redefine the nature of money."
    )
    assert [c.text for c in clause(text)] == [text]


def test_subordinate_clause_is_not_split_off():
    text = "While simulation is a powerful tool for training, transfer to the real world is crucial."
    assert [c.text for c in clause(text)] == [text]


def test_clause_claim_offsets_are_valid():
    texts = (
        "Ilya co-founded OpenAI, and he wrote many papers.",
        "Deep learning revolution: The conversation highlights the pivotal role of deep learning. Compute matters a lot.",
        "The brain uses spikes; neural networks do not use spikes.",
    )
    units = [unit(t, i + 1) for i, t in enumerate(texts)]
    claims = split_claims_from_config(units, clause_cfg())
    assert len(claims) == 6
    assert_offsets_valid(claims, units)


# ----------------------------------------------------------------------------------------------
# labels, boilerplate, vague units
# ----------------------------------------------------------------------------------------------


def test_label_prefix_becomes_context():
    text = (
        "Deep learning revolution: The conversation highlights the pivotal role of deep learning in revolutionizing "
        "artificial intelligence."
    )
    for cfg in (sentence_cfg(), clause_cfg()):
        claims = split_claims_from_config([unit(text)], cfg)
        assert len(claims) == 1
        claim = claims[0]
        assert claim.text.startswith("The conversation highlights the pivotal role")
        assert "Deep learning revolution" not in claim.text
        assert claim.context == "Key Insights > Deep learning revolution"
        assert claim.char_start == len("Deep learning revolution: ")
        assert claim.char_end == len(text)


def test_label_without_section_is_the_whole_context():
    claims = clause("Key breakthrough: James Martens trained a ten-layer network end to end.", section=None)
    assert [(c.text, c.context) for c in claims] == [
        ("James Martens trained a ten-layer network end to end.", "Key breakthrough")
    ]


def test_a_clause_before_a_colon_is_not_a_label():
    text = "The realization was this: at some point we realized that we can train networks."
    claims = clause(text)
    assert [(c.text, c.context, c.char_start) for c in claims] == [(text, "Key Insights", 0)]


def test_boilerplate_units_produce_no_claims():
    chrome = unit(
        "Summarize YouTube Videos and Get Video Transcripts with 1-Click",
        1,
        boilerplate=True,
        boilerplate_reason="site call to action",
    )
    content = unit("James Martens invented the Hessian-free optimizer in 2010.", 2)
    claims = split_claims_from_config([chrome, content], clause_cfg())
    assert [c.unit_id for c in claims] == ["u002"]
    assert is_checkable(chrome, 3) == Checkability(False, "boilerplate: site call to action")


def test_vague_unit_is_not_checkable_with_a_reason():
    vague = unit("It was great.")
    assert content_words(vague.text_plain, normalise=False) == ["great"]
    result = is_checkable(vague, 3)
    assert result == Checkability(False, "too vague to check: 1 content word (fewer than 3)")
    assert split_claims_from_config([vague], clause_cfg()) == ()
    assert is_checkable(unit("James Martens invented the Hessian-free optimizer."), 3) == Checkability(
        True, None
    )


def test_label_words_do_not_count_towards_checkability():
    # "Future of deep learning" is a label; the body alone is two content words.
    assert is_checkable(unit("Future of deep learning: It looks great."), 3).checkable is False


def test_splitting_is_deterministic():
    texts = (
        "Ilya co-founded OpenAI, and he wrote many papers.",
        "The brain uses spikes; neural networks do not use spikes.",
    )
    assert clause(*texts) == clause(*texts)
