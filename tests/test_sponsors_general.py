"""Sponsor detection beyond the reference episode: invented brands in intro, mid-roll and outro
position, announcements, caption transcripts, conversation that only mentions companies, and an
episode with no ad reads (#416 from ../shared, skipped with a reason when absent)."""

from __future__ import annotations

import copy

import pytest
from omegaconf import OmegaConf

from conftest import ROOT, SHARED, compose
from harness.errors import ConfigError
from harness.readers.text import read_text
from harness.sponsors import detect_sponsors, sponsor_config_from_mapping
from harness.transcript import load_transcript

DATA = ROOT / "tests" / "data" / "transcripts"
EP416 = SHARED / "episodes" / "lex-fridman-416-yann-lecun" / "transcript.md"


@pytest.fixture(scope="module")
def raw_cfg() -> dict:
    return OmegaConf.to_container(compose().sponsors)


@pytest.fixture(scope="module")
def cfg(raw_cfg):
    return sponsor_config_from_mapping(raw_cfg)


def position(sp) -> str:
    return next(r.split(":", 1)[1] for r in sp.rules if r.startswith("position:"))


def test_invented_brands_in_intro_mid_roll_and_outro(cfg):
    t = load_transcript(DATA / "ads_invented.txt", "auto")
    spans = detect_sponsors(t, cfg)
    assert [position(sp) for sp in spans] == ["intro", "mid_roll", "outro"]
    intro, mid, outro = spans
    assert intro.text.startswith("This episode is brought to you by Zorblex")
    assert intro.text.endswith("to get 20 percent off your first order.")  # "here's my conversation" ends it
    assert {"presented_by", "promo_code", "vanity_url", "sponsor_brand"} <= set(intro.rules)
    assert intro.start_s == 9.0 and not intro.time_estimated
    # the announcement before the break belongs to the ad block; "Now back to the conversation" ends it
    assert mid.text.startswith("We'll be right back after a short break.")
    assert mid.text.endswith("for a free trial of their field journal app.")
    assert {"ads_notice", "presented_by", "vanity_url", "free_trial"} <= set(mid.rules)
    assert mid.start_s == 270.0
    # the sponsor names come from the transcript: "Brightmoss makes lamps…" has no cue of its own
    assert outro.text.startswith("Thanks again to our sponsors, Zorblex and Brightmoss. Brightmoss makes lamps")
    assert outro.text.endswith("for 15 percent off.")
    # the conversation is untouched
    for sp in spans:
        assert "deep sea" not in sp.text and "Tova" not in sp.text


def test_companies_and_offers_mentioned_in_conversation_are_not_ads(cfg):
    # a former employer's discount, a sawmill's free trial, an app, a grant "sponsored by", and
    # the bare "check out our sponsors in the show notes" in the intro and the outro
    t = load_transcript(DATA / "ads_none.txt", "auto")
    assert detect_sponsors(t, cfg) == ()


def test_quick_summary_of_the_ads_opens_an_ad_block(cfg):
    text = (
        "[00:00:00] Host: Welcome to Night Shift, a show about people who work while we sleep. "
        "Quick summary of the ads. Two sponsors: Lumora and Pebblecart. "
        "Lumora makes sleep masks that block every bit of light. I wear one on every flight. "
        "The mask is soft, it stays on, and it even comes in a travel case. "
        "Pebblecart delivers groceries at night, which my neighbours who work nights love. "
        "And now, here's my conversation with Ines Farrow.\n"
        + "".join(
            f"[00:0{i}:00] {'Guest' if i % 2 else 'Host'}: We talked about night work, part {i}, and about sleep.\n"
            for i in range(1, 10)
        )
    )
    (span,) = detect_sponsors(read_text(text, "mem.txt", "0" * 64), cfg)
    assert span.text.startswith("Quick summary of the ads.")
    assert span.text.endswith("which my neighbours who work nights love.")
    assert {"ads_notice", "presented_by", "sponsor_brand"} <= set(span.rules)


def test_caption_transcript_without_speakers(cfg, tmp_path):
    cues = [
        ("00:00:00.000", "00:00:03.000", "Hi, this is Kite Hour."),
        ("00:00:03.000", "00:00:06.000", "Today's episode is sponsored by Windvane. Go to windvane dot"),
        ("00:00:06.000", "00:00:09.000", "com slash kites and use the code KITE for a free string."),
        ("00:00:09.000", "00:00:12.000", "Now, on to the show. Kites are older than paper."),
    ]
    cues += [(f"00:00:{12 + 3 * i:02d}.000", f"00:00:{15 + 3 * i:02d}.000", f"The kite flew over hill number {i}.") for i in range(12)]
    vtt = tmp_path / "kites.vtt"
    vtt.write_text("WEBVTT\n\n" + "\n".join(f"{a} --> {b}\n{c}\n" for a, b, c in cues), encoding="utf-8")
    t = load_transcript(vtt, "auto")
    (span,) = detect_sponsors(t, cfg)
    assert span.text == (
        "Today's episode is sponsored by Windvane. Go to windvane dot com slash kites and use the code KITE "
        "for a free string."
    )
    # sentences are timestamp blocks: the span starts on one, at an interpolated cue time
    assert not span.time_estimated and span.start_s == pytest.approx(3.0) and span.end_s == pytest.approx(9.0)


def test_thresholds_and_rules_come_from_the_config(raw_cfg):
    t = load_transcript(DATA / "ads_invented.txt", "auto")
    strict = copy.deepcopy(raw_cfg)
    strict["position"]["intro"]["min_score"] = 100
    assert [position(sp) for sp in detect_sponsors(t, sponsor_config_from_mapping(strict))] == ["mid_roll", "outro"]
    no_offers = copy.deepcopy(raw_cfg)
    no_offers["rules"] = [r for r in no_offers["rules"] if r["kind"] != "offer"]
    no_offers["accept"]["require_kinds"] = ["offer"]
    assert detect_sponsors(t, sponsor_config_from_mapping(no_offers)) == ()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"rules": [{"name": "x", "kind": "jingle", "pattern": "a"}]}, "kind must be one of"),
        ({"rules": [{"name": "x", "kind": "offer", "pattern": "("}]}, "bad regular expression"),
        ({"rules": [{"name": "x", "kind": "offer"}]}, "needs a name and a pattern"),
        ({"position": {"intro_fraction": 0.7, "outro_fraction": 0.7}}, "intro_fraction \\+ outro_fraction"),
        ({"position": {"intro": {"min_score": "high"}}}, "must be a number"),
        ({"accept": {"require_kinds": ["jingle"]}}, "unknown kind"),
    ],
)
def test_bad_sponsor_config_is_a_config_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        sponsor_config_from_mapping(bad)


@pytest.mark.shared
def test_episode_416_has_no_sponsor_segment(cfg):
    if not EP416.exists():
        pytest.skip(f"{EP416} not found (../shared/episodes is not checked out)")
    t = load_transcript(EP416, "auto")
    # it says "please check out our sponsors in the description" twice, and reads no ad
    assert "check out our sponsors in the description" in t.text
    assert detect_sponsors(t, cfg) == ()
