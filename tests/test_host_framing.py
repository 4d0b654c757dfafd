"""The host's framing of a caption transcript (no speaker labels) and the misattribution check
it allows: a statement the summary gives the guest that comes from the host's introduction or
closing words. Every transcript here is invented."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from harness.errors import ConfigError
from harness.flags import default_flags_config, detect_flags
from harness.flags.base import framing_of
from harness.readers.captions import read_webvtt
from harness.transcript_lookup import evidence_from_span, host_framing
from harness.types import Claim, Summary, SummaryUnit, UnitVerdict, Verdict

COLD_OPEN = ["Honestly, tide pools taught me more than any textbook ever did."]
INTRO = [
    "The following is a conversation with Mira Okonkwo-Vale, a marine biologist at Harbour University.",
    "She is one of the leading researchers in the world working on how coral reefs recover from heat.",
    "And now, here's my conversation with Mira Okonkwo-Vale.",
]
MIDDLE = [f"We talked about reef number {i} and the way its fish return after a storm." for i in range(60)]
MIDDLE[30] = "I think kelp forests will outlast most coral reefs in this century."
OUTRO = [
    "Thanks for listening to this conversation with Mira Okonkwo-Vale.",
    "And now, let me leave you with some words from Basil Tremaine.",
    "The sea does not reward those who are too anxious or too greedy.",
    "Thank you for listening, and hope to see you next time.",
]


def _vtt(lines: list[str]) -> str:
    cues = []
    for i, line in enumerate(lines):
        cues.append(f"00:{i // 60:02d}:{i % 60:02d}.000 --> 00:{i // 60:02d}:{i % 60:02d}.900\n{line}\n")
    return "WEBVTT\n\n" + "\n".join(cues)


@pytest.fixture(scope="module")
def captions():
    return read_webvtt(_vtt(COLD_OPEN + INTRO + MIDDLE + OUTRO), "invented.vtt", "0" * 64)


@pytest.fixture(scope="module")
def framing_cfg() -> dict:
    return default_flags_config()["misattribution"]["host_framing"]


def _framing(transcript, cfg):
    kw = {k: cfg[k] for k in ("openings", "conversation_starts", "outros", "intro_max_share", "outro_min_share")}
    return host_framing(transcript, **kw)


def test_framing_finds_intro_outro_and_guest(captions, framing_cfg):
    fr = _framing(captions, framing_cfg)
    assert [s.part for s in fr.spans] == ["intro", "outro"]
    intro, outro = (captions.text[s.char_start : s.char_end] for s in fr.spans)
    # the cold open is the guest's clip: it stays out of the host's introduction
    assert intro.startswith("The following is a conversation with") and "tide pools" not in intro
    assert intro.rstrip().endswith("here's my conversation with Mira Okonkwo-Vale.")
    assert outro.startswith("Thanks for listening") and outro.rstrip().endswith("see you next time.")
    assert fr.guests == ("Mira Okonkwo-Vale",)
    kelp = captions.text.index("kelp forests")
    assert fr.part_at(kelp, kelp + 40) is None
    quote = captions.text.index("The sea does not")
    assert fr.part_at(quote, quote + 40) == "outro"


def test_framing_is_empty_with_labels_or_without_formulas(captions, framing_cfg):
    labelled = replace(captions, segments=tuple(replace(s, speaker="Someone") for s in captions.segments))
    assert _framing(labelled, framing_cfg).spans == ()
    plain = read_webvtt(_vtt(MIDDLE), "plain.vtt", "0" * 64)
    assert _framing(plain, framing_cfg).spans == () and _framing(plain, framing_cfg).guests == ()
    # an opening formula with no "here's my conversation with" after it: no intro is guessed
    no_start = read_webvtt(_vtt(INTRO[:2] + MIDDLE + OUTRO), "x.vtt", "0" * 64)
    assert [s.part for s in _framing(no_start, framing_cfg).spans] == ["outro"]


def test_framing_config_is_validated(captions, framing_cfg):
    bad = {**framing_cfg, "intro_max_share": 0.9}
    with pytest.raises(ConfigError, match="intro_max_share < outro_min_share"):
        framing_of(captions, {"host_framing": bad})
    with pytest.raises(ConfigError, match="bad outro pattern"):
        framing_of(captions, {"host_framing": {**framing_cfg, "outros": ["(unclosed"]}})
    assert framing_of(captions, {"host_framing": {**framing_cfg, "enabled": False}}).spans == ()


def _unit(text: str) -> SummaryUnit:
    return SummaryUnit(unit_id="u001", index=0, section=None, kind="key_insight", text=text, text_plain=text, line_no=1)


def _flags(transcript, text: str, phrase: str, cfg: dict, label: str = "supported"):
    u = _unit(text)
    start = transcript.text.index(phrase)
    e = evidence_from_span(transcript, start, start + len(phrase), score=0.9)
    v = Verdict(claim=Claim("u001.c1", "u001", 0, text, 0, len(text)), label=label, score=0.9, evidence=(e,))
    summary = Summary(path="s.md", sha256="0" * 64, format="plain", title=None, units=(u,), line_roles=())
    return detect_flags(transcript, summary, (UnitVerdict(unit_id="u001", label=label, score=0.9, claims=(v,)),), cfg)


@pytest.fixture(scope="module")
def cfg() -> dict:
    out = copy.deepcopy(default_flags_config())
    out["enabled"] = ["misattribution"]
    return out


def test_closing_quote_given_to_the_guest_is_flagged(captions, cfg):
    (flag,) = _flags(
        captions,
        "Okonkwo-Vale closed by quoting Basil Tremaine that the sea does not reward the anxious or greedy.",
        "The sea does not reward those who are too anxious or too greedy.",
        cfg,
    )
    assert flag.tag == "misattribution" and flag.severity == "major"
    assert "attributes this to Okonkwo-Vale, but it comes from the host's closing words" in flag.message


def test_host_introduction_given_to_the_guest_is_flagged(captions, cfg):
    (flag,) = _flags(
        captions,
        "Mira described herself as one of the leading researchers on how coral reefs recover from heat.",
        "She is one of the leading researchers in the world working on how coral reefs recover from heat.",
        cfg,
    )
    assert "the host's introduction" in flag.message
    # the host's description of the guest is often restated as the guest's view: minor
    assert flag.severity == "minor"


def test_what_the_framing_cannot_tell_is_not_flagged(captions, cfg):
    kelp = "I think kelp forests will outlast most coral reefs in this century."
    # the middle of a caption transcript has no speaker: nothing to compare
    assert _flags(captions, "Okonkwo-Vale says kelp forests will outlast coral reefs this century.", kelp, cfg) == ()
    # a passage that only names the guest is no evidence of who said what
    opening = "The following is a conversation with Mira Okonkwo-Vale"
    assert _flags(captions, "Okonkwo-Vale argues that storms reshape reef fish.", opening, cfg) == ()
    # an intro passage that shares only the claim's topic (3 of 14 words): no evidence of who said it
    intro = "She is one of the leading researchers in the world working on how coral reefs recover from heat."
    topical = ("Okonkwo-Vale argues that coral reefs need marine protected areas, fishing bans and cooler water "
               "to recover after bleaching events.")
    assert _flags(captions, topical, intro, cfg) == ()
    quote = "The sea does not reward those who are too anxious or too greedy."
    # no attribution ("the quote says"), or a person who is not the guest: nothing to check
    assert _flags(captions, "The closing quote says the sea does not reward the anxious or greedy.", quote, cfg) == ()
    # unsupported claims have no evidence to place
    text = "Okonkwo-Vale closed by quoting that the sea does not reward the anxious or greedy."
    assert _flags(captions, text, quote, cfg, label="unsupported") == ()
    off = copy.deepcopy(cfg)
    off["misattribution"]["host_framing"]["enabled"] = False
    assert _flags(captions, text, quote, off) == ()
    assert len(_flags(captions, text, quote, cfg)) == 1


def test_report_says_what_misattribution_can_check_without_labels(captions, cfg):
    from harness.pipeline import not_available_checks

    s = Summary(path="s.md", sha256="0" * 64, format="plain", title=None, units=(_unit("A claim."),), line_roles=())
    (entry,) = [c for c in not_available_checks(captions, s, {"flags": cfg}) if c["check"] == "misattribution"]
    assert entry["reason"] == (
        "the transcript has no speaker labels: only statements the summary gives the guest that come from "
        "the host's introduction and closing words (found by the show's formulas) are checked"
    )
    plain = read_webvtt(_vtt(MIDDLE), "plain.vtt", "0" * 64)
    (entry,) = [c for c in not_available_checks(plain, s, {"flags": cfg}) if c["check"] == "misattribution"]
    assert entry["reason"] == "the transcript has no speaker labels"


def _quote_flags(transcript, quote: str, cfg: dict):
    u = SummaryUnit(unit_id="u001", index=0, section="Quotes", kind="quote", text=quote, text_plain=quote, line_no=1)
    summary = Summary(path="s.md", sha256="0" * 64, format="plain", title=None, units=(u,), line_roles=())
    return detect_flags(transcript, summary, (), cfg)


@pytest.fixture(scope="module")
def quote_cfg() -> dict:
    out = copy.deepcopy(default_flags_config())
    out["enabled"] = ["misattributed_quote"]
    return out


def test_a_quote_the_host_reads_is_not_the_guests(quote_cfg):
    outro = OUTRO[:2] + ["The sea does not reward those who are too anxious or too greedy.", OUTRO[3]]
    mid = [*MIDDLE]
    mid[10] = "In fact, as Mira says, every reef keeps a memory of the last storm."
    t = read_webvtt(_vtt(COLD_OPEN + INTRO + mid + outro), "q.vtt", "0" * 64)
    (flag,) = _quote_flags(t, "“The sea does not reward those who are too anxious or too greedy.”", quote_cfg)
    assert flag.tag == "misattributed_quote" and flag.severity == "major"
    assert "gives this quote to Mira Okonkwo-Vale, but the host says it in the closing words" in flag.message
    # the page credits the author the host reads: right
    assert _quote_flags(t, "“The sea does not reward those who are too anxious or too greedy.” — Basil Tremaine",
                        quote_cfg) == ()
    # a quotation from the conversation itself: no speaker to compare, nothing to flag
    assert _quote_flags(t, "“I think kelp forests will outlast most coral reefs in this century.”", quote_cfg) == ()
    # the host reads the guest's own words: hers
    reads_guest = [*outro]
    reads_guest[1] = "And now, let me leave you with some words from Mira Okonkwo-Vale herself."
    t2 = read_webvtt(_vtt(COLD_OPEN + INTRO + MIDDLE + reads_guest), "q2.vtt", "0" * 64)
    assert _quote_flags(t2, "“The sea does not reward those who are too anxious or too greedy.”", quote_cfg) == ()


def test_host_credits_the_guest_by_a_reporting_cue():
    from harness.transcript_lookup import FramedSpan, HostFraming

    def credited(text: str, passage: str) -> bool:
        fr = HostFraming((FramedSpan("intro", 0, len(text)),), ("Scott Aaronson",))
        return fr.credits_guest(text, text.index(passage), len(text))

    assert credited("I'm always learning. In fact, as Scott says, if you always win, you lose.", "if you always")
    assert credited("Let me leave you with some words from Scott Aaronson. If you always win, you lose.", "If you")
    assert credited("He has a new book, where he argues brilliantly, I would say, that email is bad.", "email is")
    assert credited("His main thesis is that addiction has less to do with drugs.", "addiction")
    assert credited("It challenges us to, quote, use empirical evidence.", "use empirical")
    # a quotation of a source (the guest's book, say): not the host's own words
    assert credited("I found her work by a quote from Thinking Engines that says, AI began with myths.", "AI began")
    # a reading of the guest runs on past its first sentence
    reading = "Let me leave you with words from Scott Aaronson in his book. " + "Lots of words here. " * 30 + "To me, X."
    assert credited(reading, "To me, X.")
    # the guest's name alone, or a cue in an earlier sentence, credits nothing
    assert not credited("This is a conversation with Scott Aaronson, his second time. If you win, you lose.", "If you")
    assert not credited("People miss his ideas. We talk about it. To me, ego can lead you astray.", "ego can")
    assert not credited("He's one of the top researchers in the world working on robots.", "one of the top")
