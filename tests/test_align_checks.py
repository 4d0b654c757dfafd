"""Claim checks on the alignment (harness/align_checks.py): hedges added or removed and the
wrong speaker, on conversation cases written for these tests (no transcript text)."""

from __future__ import annotations

import pytest

from harness.align_checks import (
    CHECKS,
    apply_claim_checks,
    certainty_cues,
    checks_from_config,
    claim_subject,
    explain_checks,
    hedge_count,
    parse_checks,
)
from harness.errors import ConfigError
from harness.types import Claim, Evidence, UnitVerdict, Verdict

SPEAKERS = ("Ada Quill", "Lex Fridman")


def ev(quote: str, speaker: str | None = None) -> Evidence:
    return Evidence(
        start_s=10.0, end_s=20.0, timestamp="0:10", url=None, speaker=speaker, chapter=None,
        quote=quote, score=0.5, is_sponsor=False, char_start=0, char_end=len(quote),
    )


def verdict(text: str, label: str, evidence: tuple[Evidence, ...], score: float = 0.6) -> Verdict:
    claim = Claim(claim_id="u001.c1", unit_id="u001", index=0, text=text, char_start=0, char_end=len(text), context=None)
    return Verdict(claim=claim, label=label, score=score, evidence=evidence, features={"support": score})


# ---------------------------------------------------------------- cue counting


def test_hedge_count_counts_words_and_phrases() -> None:
    assert hedge_count("She might perhaps agree, I think.") == 3
    assert hedge_count("Robots will learn to cook.") == 0
    # "kind of" is a phrase on word boundaries, not "a kind offer"
    assert hedge_count("It was kind of slow") == 1
    assert hedge_count("A kind offer") == 0


def test_certainty_cues() -> None:
    assert certainty_cues("He stated flatly that it proved nothing") == {"flatly", "proved"}
    # words a faithful summary uses for plain statements are not cues
    assert certainty_cues("She is sure it is entirely settled") == set()


# ---------------------------------------------------------------- hedge_added


@pytest.mark.parametrize(
    "claim",
    [
        "Quill suggested that small robots might perhaps help a bit with farming.",
        "Quill was unsure whether the lab could possibly finish the bridge.",
    ],
)
def test_hedge_added_fires_on_stacked_hedges_the_passage_lacks(claim: str) -> None:
    passages = (ev("Small robots will help farms, that is where the money goes."),)
    assert CHECKS["hedge_added"](claim, passages, ())


def test_hedge_added_needs_two_more_hedges_than_the_most_hedged_passage() -> None:
    claim = "Quill said robots could maybe help on farms."  # two hedges
    assert CHECKS["hedge_added"](claim, (ev("Robots help on farms."),), ())
    # a passage that hedges once: two is not two more than one
    assert not CHECKS["hedge_added"](claim, (ev("Robots help on farms."), ev("I think robots help.")), ())


def test_hedge_added_leaves_a_faithful_single_hedge_alone() -> None:
    assert not CHECKS["hedge_added"]("Quill said robots could help on farms.", (ev("Robots help on farms."),), ())


# ---------------------------------------------------------------- hedge_removed


@pytest.mark.parametrize(
    "claim",
    [
        "Quill stated flatly that the bridge will be finished in ten years.",
        "Quill said the new battery proved that cars can run a week on one charge.",
        "Quill said it is impossible for a robot to fold laundry.",
    ],
)
def test_hedge_removed_fires_when_no_passage_asserts_certainty(claim: str) -> None:
    passages = (ev("I guess maybe in ten years, hard to say, it might work."), ev("We tried it twice."))
    assert CHECKS["hedge_removed"](claim, passages, ())


def test_hedge_removed_holds_when_the_passage_is_certain_too() -> None:
    claim = "Quill said the result definitely holds."
    assert not CHECKS["hedge_removed"](claim, (ev("Oh it definitely holds, no question."),), ())
    assert not CHECKS["hedge_removed"]("Quill said the result holds.", (ev("Maybe it holds."),), ())


# ---------------------------------------------------------------- speaker


def test_claim_subject_is_the_speaker_named_first() -> None:
    assert claim_subject("Quill says the bridge is late.", SPEAKERS) == "Ada Quill"
    assert claim_subject("According to Lex, the bridge is late.", SPEAKERS) == "Lex Fridman"
    # named too late to be the subject, or two people named: no subject
    assert claim_subject("The bridge that everyone talks about is late, says Quill.", SPEAKERS) is None
    assert claim_subject("Quill and Fridman agree that the bridge is late.", SPEAKERS) is None


def test_speaker_fires_when_the_best_passage_is_the_other_speakers() -> None:
    passages = (ev("I love long walks by the sea.", "Lex Fridman"), ev("Yes.", "Ada Quill"))
    assert CHECKS["speaker"]("Quill says she loves long walks by the sea.", passages, SPEAKERS)
    assert not CHECKS["speaker"]("Lex says he loves long walks by the sea.", passages, SPEAKERS)


def test_speaker_matches_a_misspelt_label_of_the_same_person() -> None:
    passages = (ev("I love long walks.", "AAda Quill"),)
    assert not CHECKS["speaker"]("Quill says she loves long walks.", passages, (*SPEAKERS, "AAda Quill"))


def test_speaker_is_silent_without_speaker_labels() -> None:
    passages = (ev("I love long walks by the sea.", None),)
    assert not CHECKS["speaker"]("Quill says she loves long walks by the sea.", passages, ())


# ---------------------------------------------------------------- applying them


def test_apply_demotes_a_supported_claim_and_keeps_its_score() -> None:
    v = verdict("Quill stated flatly that robots will cook.", "supported", (ev("Maybe robots will cook."),))
    (out,) = apply_claim_checks([v], ("hedge_added", "hedge_removed"))
    assert out.label == "partially_supported"
    assert out.score == v.score
    assert out.features["check.hedge_removed"] == 1.0
    assert "check.hedge_added" not in out.features


def test_apply_records_but_does_not_relabel_an_unsupported_claim() -> None:
    v = verdict("Quill stated flatly that robots will cook.", "unsupported", (ev("Maybe robots will cook."),), 0.05)
    (out,) = apply_claim_checks([v], ("hedge_removed",))
    assert out.label == "unsupported"
    assert out.features["check.hedge_removed"] == 1.0


def test_apply_without_checks_or_evidence_changes_nothing() -> None:
    v = verdict("Quill stated flatly that robots will cook.", "supported", (ev("Maybe robots will cook."),))
    assert apply_claim_checks([v], ()) == [v]
    bare = verdict("Quill stated flatly that robots will cook.", "supported", ())
    assert apply_claim_checks([bare], ("hedge_removed",)) == [bare]


def test_explain_names_the_check_in_the_unit_reason() -> None:
    v = verdict("Quill stated flatly that robots will cook.", "supported", (ev("Maybe robots will cook."),))
    (demoted,) = apply_claim_checks([v], ("hedge_removed",))
    uv = UnitVerdict(unit_id="u001", label="partially_supported", score=0.6, claims=(demoted,), reason="best evidence 0.60")
    (out,) = explain_checks([uv])
    assert out.reason == "claim check hedge_removed fired (best evidence 0.60)"


def test_config_names_are_validated() -> None:
    assert parse_checks(["speaker", "hedge_added"]) == ("speaker", "hedge_added")
    assert parse_checks(None) == ()
    assert checks_from_config({"claim_checks": ["hedge_removed"]}) == ("hedge_removed",)
    assert checks_from_config({}) == ()
    with pytest.raises(ConfigError, match="unknown check"):
        parse_checks(["negation"])


def test_conversation_eval_reads_the_fired_checks_of_every_claim_of_a_unit() -> None:
    from harness.benchmarks.conversation_eval import _checks

    plain = verdict("Quill said robots will cook.", "supported", (ev("Robots will cook."),))
    (demoted,) = apply_claim_checks(
        [verdict("Quill stated flatly that robots will cook.", "supported", (ev("Maybe robots will cook."),))],
        ("hedge_removed",),
    )
    uv = UnitVerdict(unit_id="u001", label="partially_supported", score=0.6, claims=(plain, demoted))
    assert _checks(uv) == ("hedge_removed",)
    assert _checks(UnitVerdict(unit_id="u002", label="supported", score=0.6, claims=(plain,))) == ()
