"""Sponsor detection beyond the reference episode: invented brands in intro, mid-roll and outro
position, announcements, caption transcripts, conversation that only mentions companies, and an
episode with no ad reads (#416 from ../shared, skipped with a reason when absent)."""

from __future__ import annotations

import copy
import re
from dataclasses import replace

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
    assert intro.text.startswith("Our episode is brought to you by Zorblex")
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
        "Quick summary of the ads. Our sponsors are Lumora and Pebblecart. "
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
        ({"accept": {"require_together": [["announcement", "jingle"]]}}, "unknown kind"),
        ({"position": {"mid_roll": {"require_kinds": ["jingle"]}}}, "unknown kind"),
        ({"position": {"mid_roll": {"require_kinds": "offer"}}}, "a list of cue kinds"),
        ({"clause_breaks": ["("]}, "bad regular expression"),
    ],
)
def test_bad_sponsor_config_is_a_config_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        sponsor_config_from_mapping(bad)


@pytest.mark.shared
def test_episode_416_has_no_sponsor_segment(cfg, raw_cfg):
    if not EP416.exists():
        pytest.skip(f"{EP416} not found (../shared/episodes is not checked out)")
    t = load_transcript(EP416, "auto")
    # it points listeners to the sponsors in its description twice (the pointer rule matches),
    # and reads no ad
    pointer = next(r["pattern"] for r in raw_cfg["rules"] if r["name"] == "sponsor_pointer")
    assert len(re.findall(pointer, t.text, re.IGNORECASE)) >= 2
    assert detect_sponsors(t, cfg) == ()


# ----------------------------------------------------------------------------------------------
# Sponsor lists, long reads, self-promotion and in-conversation plugs (invented brands)
# ----------------------------------------------------------------------------------------------


def show(intro: str, outro: str = "Until next time.", middle: str = "", turns: int = 20):
    """A plain-text episode: the host's intro, ``turns`` turns of conversation (``middle`` as the
    host's turn halfway), and the host's outro."""
    lines = [f"[00:00:00] Host: {intro}"]
    for i in range(1, turns + 1):
        who = "Guest" if i % 2 else "Host"
        text = f"We talked about tides, harbours and the boats that use them, part {i} of many."
        if middle and i == turns // 2:
            who, text = "Host", middle
        lines.append(f"[00:{i:02d}:00] {who}: {text}")
    lines.append(f"[00:{turns + 1:02d}:00] Host: {outro}")
    return read_text("\n".join(lines) + "\n", "mem.txt", "0" * 64)


def texts(spans) -> list[str]:
    return [sp.text for sp in spans]


def in_conversation(sentence: str):
    """An episode with ``sentence`` said halfway through the conversation, between two others."""
    return show("Welcome to Harbour Talk.", middle=f"We went down at dawn. {sentence} Anyway, the harbour froze that winter.")


# The host's closing quotation after an outro: it ends a read and is no part of it.
CLOSING = " To end, let me leave you with a line by Ada. The sea is wide."


def test_intro_sponsor_list_ends_before_the_side_note(cfg):
    t = show(
        "Welcome to Harbour Talk. Quick mention of our sponsors, Zorblex, Quillfeather and Brightmoss. "
        "Do check those out, it is how you support the show. As a side note, harbours "
        "are older than cities. And now, here's my conversation with Ines."
    )
    assert texts(detect_sponsors(t, cfg)) == [
        "Quick mention of our sponsors, Zorblex, Quillfeather and Brightmoss. "
        "Do check those out, it is how you support the show."
    ]


def test_announced_list_of_names_closed_by_a_pointer(cfg):
    # no sponsor cue names the sponsors: the announcement and the pointer together make the read
    t = show(
        "Welcome to Harbour Talk. Quick mention of our sponsors. Zorblex, a sock maker, and Brightmoss, "
        "a lamp company. So the choice is dry feet or light. Pick whichever suits you. Clicking the "
        "sponsor links below gets you a discount and helps support the show. As a side note, "
        "I sailed here."
    )
    (span,) = detect_sponsors(t, cfg)
    assert span.text.startswith("Quick mention of our sponsors.")
    assert span.text.endswith("gets you a discount and helps support the show.")
    assert {"ads_notice", "sponsor_pointer"} <= set(span.rules)


@pytest.mark.parametrize(
    "outro, read",
    [
        (
            "Thank you for listening to my talk with Ines, and thanks to Zorblex, Quillfeather "
            "and Brightmoss. Do check those out, it is how you support the show.",
            "Thank you for listening to my talk with Ines, and thanks to Zorblex, Quillfeather "
            "and Brightmoss. Do check those out, it is how you support the show.",
        ),
        (
            # "Thanks for listening" as a sentence of its own is not part of the read
            "Thank you for listening to my talk with Ines. And thank you to Zorblex and Brightmoss. "
            "Do check those out, it is how you support the show.",
            "And thank you to Zorblex and Brightmoss. Do check those out, it is how you support the show.",
        ),
    ],
)
def test_outro_thanks_list_without_our_sponsors_stops_at_the_closing_quotation(cfg, outro, read):
    t = show("Welcome to Harbour Talk.", outro + CLOSING)
    assert texts(detect_sponsors(t, cfg)) == [read]


def test_thanking_a_guest_by_name_is_not_a_read(cfg):
    t = show("Welcome to Harbour Talk.", "Thank you to Ines Farrow for coming. See you next week.")
    assert detect_sponsors(t, cfg) == ()


def test_unpunctuated_caption_outro_is_cut_at_its_formulas(cfg, tmp_path):
    cues = [(i * 5, f"we talked about tides and harbours and boats part {i}") for i in range(40)]
    cues += [
        (200, "thanks so much for talking today thank you for listening to my talk with ines and thanks to"),
        (205, "zorblex and brightmoss do check those out it is how you support the show and now let me leave"),
        (210, "you with a line from ada the sea is wide thank you for listening and until the next one"),
    ]
    vtt = tmp_path / "lower.vtt"
    vtt.write_text(
        "WEBVTT\n\n" + "\n".join(f"00:{s // 60:02d}:{s % 60:02d}.000 --> 00:{(s + 5) // 60:02d}:{(s + 5) % 60:02d}.000\n{c}\n" for s, c in cues),
        encoding="utf-8",
    )
    (span,) = detect_sponsors(load_transcript(vtt, "auto"), cfg)
    assert span.text == (
        "thank you for listening to my talk with ines and thanks to "
        "zorblex and brightmoss do check those out it is how you support the show"
    )
    assert 200 < span.start_s < 205 and 205 < span.end_s < 210


LONG_READ = (
    "Welcome to Harbour Talk. This show is sponsored by Zorblex. Sign up at zorblex.com slash harbour to "
    "get a discount. "
    + " ".join(f"Their socks are knitted from old fishing nets, batch {i} of the season." for i in range(12))
    + " Once again, sign up at zorblex.com slash harbour. And now, here's my conversation with Ines."
)


def test_long_read_is_bridged_by_its_callback_to_the_same_sponsor(cfg, raw_cfg):
    (span,) = detect_sponsors(show(LONG_READ), cfg)
    assert span.text.startswith("This show is sponsored by Zorblex.")
    assert span.text.endswith("Once again, sign up at zorblex.com slash harbour.")
    no_bridge = copy.deepcopy(raw_cfg)
    no_bridge["bridge"]["max_gap_sentences"] = 0
    no_bridge["announcement"]["max_gap_sentences"] = 0
    assert len(detect_sponsors(show(LONG_READ), sponsor_config_from_mapping(no_bridge))) == 2


SELF_PROMO = "If you enjoy the show, subscribe to it, rate it on Spotify, or back it on Patreon."


def test_self_promotion_alone_is_never_a_segment(cfg):
    t = show(f"Welcome to Harbour Talk. {SELF_PROMO} And now, here's my conversation with Ines.", SELF_PROMO)
    assert detect_sponsors(t, cfg) == ()


def test_self_promotion_next_to_a_read_joins_it_and_one_sentence_away_does_not(cfg, raw_cfg):
    read = "This show is presented by Zorblex. Use code HARBOUR at zorblex.com slash harbour."
    adjacent = show(f"Welcome to Harbour Talk. {SELF_PROMO} {read} And now, here's my conversation with Ines.")
    (span,) = detect_sponsors(adjacent, cfg)
    assert span.text == f"{SELF_PROMO} {read}"
    assert "patreon" in span.rules
    apart = show(f"Welcome to Harbour Talk. {SELF_PROMO} I do read every review. {read} And now, here's Ines.")
    assert texts(detect_sponsors(apart, cfg)) == [read]
    # between two reads it ends the first; attached, it joins them into one block
    two = show(f"Welcome. {read} {SELF_PROMO} This show is also sponsored by Brightmoss. Go to brightmoss.com slash sea. And now, here's Ines.")
    assert len(detect_sponsors(two, cfg)) == 1
    reads_only = copy.deepcopy(raw_cfg)
    reads_only["self_promo"]["attach_adjacent"] = False
    spans = detect_sponsors(two, sponsor_config_from_mapping(reads_only))
    assert texts(spans) == [read, "This show is also sponsored by Brightmoss. Go to brightmoss.com slash sea."]
    assert texts(detect_sponsors(adjacent, sponsor_config_from_mapping(reads_only))) == [read]


def part_texts(t, span) -> list[tuple[str, str]]:
    return [(p.kind, t.text[p.char_start : p.char_end]) for p in span.parts]


def test_segment_parts_say_which_sentences_are_read_and_which_self_promotion(cfg, raw_cfg):
    read = "This show is presented by Zorblex. Use code HARBOUR at zorblex.com slash harbour."
    other = "This show is also sponsored by Brightmoss. Go to brightmoss.com slash sea."
    t = show(f"Welcome. {SELF_PROMO} {read} {SELF_PROMO} {other} And now, here's my conversation with Ines.")
    (span,) = detect_sponsors(t, cfg)
    assert part_texts(t, span) == [("self_promo", SELF_PROMO), ("read", read), ("self_promo", SELF_PROMO), ("read", other)]
    assert [p.kind for p in span.read_parts] == ["read", "read"]
    assert span.parts[0].char_start == span.char_start and span.parts[-1].char_end == span.char_end
    assert all(a.char_end < b.char_start for a, b in zip(span.parts, span.parts[1:]))
    # without attached self-promotion every segment is one read part
    reads_only = copy.deepcopy(raw_cfg)
    reads_only["self_promo"]["attach_adjacent"] = False
    spans = detect_sponsors(t, sponsor_config_from_mapping(reads_only))
    assert [part_texts(t, sp) for sp in spans] == [[("read", read)], [("read", other)]]


def test_mid_roll_joke_in_the_sponsor_formula_is_not_a_read(cfg):
    # the sponsor formula about the can on the table: no offer, so not a mid-roll read
    t = show("Welcome to Harbour Talk.", middle="This hour is brought to you by tasty Fizzco soda, right here on my desk. Fizzco is warm now.")
    assert detect_sponsors(t, cfg) == ()


def test_mid_roll_plug_takes_in_the_product_talk_before_its_code(cfg):
    plug = (
        "By the way, I wear Zorbwear socks on every dive. Zorbwear socks stay dry for a week. "
        "Go to zorbwear.com slash harbour and use code HARBOUR for 20 percent off."
    )
    t = in_conversation(plug)
    (span,) = detect_sponsors(t, cfg)
    assert span.text == plug
    assert position(span) == "mid_roll"


# ----------------------------------------------------------------------------------------------
# Outro lists, offers without a cue word, and plugs inside the conversation (tuned on the
# annotated Lexicap episodes; the texts here are invented)
# ----------------------------------------------------------------------------------------------

def test_outro_list_of_one_sponsor_per_sentence_after_thank_you_to_our_sponsors(cfg, raw_cfg):
    read = (
        "Thanks for listening to my talk with Ines, and thank you to our sponsors. Zorblex, the sock "
        "maker whose socks I wear on every dive. Quillfeather, pens that write under water. "
        "Brightmoss, lamps for long nights at sea. And Tidepool, the app I use to read the tides. "
        "You find each of these sponsors in the description, with a discount."
    )
    t = show("Welcome to Harbour Talk.", read + CLOSING, turns=60)
    (span,) = detect_sponsors(t, cfg)
    assert span.text == read
    assert "sponsor_list_ahead" in span.rules
    # without the rule that a sentence ending in "thank you to our sponsors." announces a list,
    # the four names are too long a gap: only the thanks remains
    without = copy.deepcopy(raw_cfg)
    without["rules"] = [r for r in without["rules"] if r["name"] != "sponsor_list_ahead"]
    (short,) = detect_sponsors(t, sponsor_config_from_mapping(without))
    assert short.text.endswith("thank you to our sponsors.")


def test_outro_thanks_heard_with_a_leading_a(cfg):
    # Whisper heard "And thank you to…" as "A thank you to…"
    read = "A thank you to Zorblex, Quillfeather and Brightmoss. Check them out, their links sit below, it helps support this show."
    t = show("Welcome to Harbour Talk.", "Thanks for listening to my talk with Ines. " + read + CLOSING)
    assert texts(detect_sponsors(t, cfg)) == [read]


def test_offer_of_a_sum_without_a_unit_ends_the_read_before_the_self_promotion(cfg):
    read = (
        "Thanks for listening, and thank you to Zorbpay, who pays for this hour. Download it and use "
        "code HARBOUR. You'll get $10 back, while Zorbpay gives another $10 to a sailing school for children."
    )
    t = show("Welcome to Harbour Talk.", f"{read} {SELF_PROMO}{CLOSING}")
    (span,) = detect_sponsors(t, cfg)
    assert span.text == f"{read} {SELF_PROMO}"
    assert "discount" in span.rules
    assert part_texts(t, span) == [("read", read), ("self_promo", SELF_PROMO)]


def vtt_of(tmp_path, sentences: list[str], name: str = "plug.vtt"):
    """A caption file without speakers, one sentence per 5-second cue."""
    def clock(s: int) -> str:
        return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000"

    path = tmp_path / name
    path.write_text(
        "WEBVTT\n\n" + "\n".join(f"{clock(i * 5)} --> {clock(i * 5 + 5)}\n{s}\n" for i, s in enumerate(sentences)),
        encoding="utf-8",
    )
    return load_transcript(path, "auto")


PLUG = [
    "By the way, I wear Zorbwear socks on every dive.",
    "Use code KELP20.",
    "If you go to zorbwear.com, use promo code KELP20.",
    "Yeah.",
    "What is it?",
    "Which site is it?",
    "Zorbwear.com.",
    "Zorbwear.com, promo code KELP20.",
    "They keep your feet dry for a whole week.",
    "The wool comes from old fishing nets in the north.",
    "The heel is knitted twice over by a machine.",
    "And they smell of nothing at all, even after a month.",
    "That's promo code KELP20.",
]


def test_plug_in_a_caption_conversation_is_one_mid_roll_read(cfg, tmp_path):
    # early in a long episode, but after "here's my conversation with": a mid-roll, so the
    # product talk before the code is taken in (it names the sponsor), the backchannel does not
    # count in the gap, and the repeated code bridges the product talk
    talk = [f"We talked about tides, harbours and the boats that use them, part {i} of many." for i in range(300)]
    t = vtt_of(
        tmp_path,
        ["Welcome to Harbour Talk, with Ines.", "And now, here's my conversation with Ines."]
        + talk[:5]
        + PLUG
        + ["Anyway, the harbour froze that winter.", "Nobody could sail for months."]
        + talk[5:],
    )
    (span,) = detect_sponsors(t, cfg)
    assert " ".join(span.text.split()) == " ".join(PLUG)
    assert position(span) == "mid_roll"
    assert span.start_s == 35.0 and span.end_s == 100.0


def test_a_short_promo_code_is_no_sponsor_name(cfg, tmp_path):
    # "use code ZED" does not make every later "Zed" a sponsor mention (the host's first name)
    t = show(
        "Welcome to Harbour Talk. This show is sponsored by Zorblex. Use code ZED at zorblex.com slash zed. "
        "Zed here, as always. Zed likes the sea.",
    )
    (span,) = detect_sponsors(t, cfg)
    assert span.text == "This show is sponsored by Zorblex. Use code ZED at zorblex.com slash zed."


def test_let_me_leave_you_without_with_still_ends_the_read(cfg):
    # "Let me leave you now a few words from Ada": the quotation is no part of the read, even
    # when one of its sentences shares words (the guest's name) with the thanks
    read = "Thanks for listening to my talk with Ines Farrow, and thank you to Zorblex and Brightmoss. Check them out, their links sit below, it helps support this show."
    outro = f"{read} Let me leave you now a few words by Ines Farrow herself. The sea is wide. Ines Farrow said it twice."
    t = show("Welcome to Harbour Talk.", outro, turns=60)
    assert texts(detect_sponsors(t, cfg)) == [read]


def test_one_sentence_plug_with_an_address_for_the_show_is_a_mid_roll_read(cfg):
    # an address with a path ("zorblex.com slash ines") is ad copy on its own; a bare domain
    # named in conversation ("go to inesfarrow.com") is not
    plug = "Ines and I both sail with Zorblex gear, zorblex.com slash ines."
    t = in_conversation(plug)
    (span,) = detect_sponsors(t, cfg)
    assert span.text == plug and position(span) == "mid_roll"
    bare = in_conversation("My charts are all online, go to inesfarrow.com if you like.")
    assert detect_sponsors(bare, cfg) == ()


def test_a_company_site_named_in_conversation_is_not_a_mid_roll_read(cfg):
    # "go to x.com" and the company named again, with no code, path or sponsor cue: a story
    middle = (
        "If we go to seashanty.com and that whole era of songs, what do you make of it? "
        "Well, seashanty was the first site to sing them online. I founded seashanty in a shed, "
        "and seashanty grew fast."
    )
    assert detect_sponsors(show("Welcome to Harbour Talk.", middle=middle), cfg) == ()


def test_their_links_are_in_the_description_closes_the_intro_list(cfg):
    read = "If you like, back the show by trying our sponsors, Zorblex, Quillfeather and Brightmoss. Their links are in the description."
    t = show(f"Welcome to Harbour Talk. {read} This is Harbour Talk, and here is my conversation with Ines.")
    assert texts(detect_sponsors(t, cfg)) == [read]


def test_report_json_records_the_parts_of_each_sponsor_segment(cfg):
    from harness.report.records import transcript_record

    read = "This show is presented by Zorblex. Use code HARBOUR at zorblex.com slash harbour."
    t = show(f"Welcome. {read} {SELF_PROMO} And now, here's my conversation with Ines.")
    t = replace(t, sponsor_segments=detect_sponsors(t, cfg))
    (record,) = transcript_record(t)["sponsor_segments"]
    assert [p["kind"] for p in record["parts"]] == ["read", "self_promo"]
    read_part, promo = record["parts"]
    assert t.text[read_part["char_start"] : read_part["char_end"]] == read
    assert t.text[promo["char_start"] : promo["char_end"]] == SELF_PROMO
    assert set(read_part) == {"kind", "start_s", "end_s", "start", "end", "char_start", "char_end"}
    # a segment built without parts (older callers) is one read part
    bare = replace(t.sponsor_segments[0], parts=())
    (record,) = transcript_record(replace(t, sponsor_segments=(bare,)))["sponsor_segments"]
    assert [(p["kind"], p["char_start"], p["char_end"]) for p in record["parts"]] == [("read", bare.char_start, bare.char_end)]


# ----------------------------------------------------------------------------------------------
# Third tuning: all 56 annotated episodes (variants of the offer and promo-code formulas; the
# texts here are invented)
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offer",
    [
        "You will get $10 back, while Zorbpay gives another $10 to a sailing school for children.",
        "You will receive 10 dollars back, and Zorbpay hands a sailing school another ten.",
        "You will also get two months free on the first box of socks they mail you.",
        "You will receive three months free when the sailing season starts.",
    ],
)
def test_offer_sentence_in_any_wording_ends_the_outro_read(cfg, offer):
    # "you will get $10" is the same offer as "you'll get $10": the read runs through it
    read = f"Thanks for listening, and thank you to Zorbpay, who pays for this hour. Download it and use code HARBOUR. {offer}"
    t = show("Welcome to Harbour Talk.", f"{read} {SELF_PROMO}{CLOSING}")
    (span,) = detect_sponsors(t, cfg)
    assert part_texts(t, span) == [("read", read), ("self_promo", SELF_PROMO)]
    assert "discount" in span.rules


@pytest.mark.parametrize(
    "line",
    [
        # a guest's "with code": software, not an offer
        "Patents are slow, and with code, the thing is stale by the time the patent office replies.",
        "You cannot fix a broken harbour with code.",
        "We started using code to steer the cranes, and they never crashed again.",
        "These days we use code that the students write to steer the cranes.",
        "Half of the lab now works with code written by the students themselves.",
    ],
)
def test_code_as_software_in_the_last_minutes_is_no_promo_code(cfg, line):
    # in the outro region a promo code alone would be a read: the code itself must follow
    t = show("Welcome to Harbour Talk.", f"{line} The cranes still run on it today. Until next time.", turns=8)
    assert detect_sponsors(t, cfg) == ()


@pytest.mark.parametrize(
    "offer",
    [
        "Get 20 percent off the socks with code KELP20.",
        "Get 20 percent off the socks with the code harbour, at checkout.",
        "Use code harbour at checkout for a free pair of socks.",
        "Enter code HARBOUR when you order the socks.",
        # a caption's aside between the verb and the code
        "Enter code, as you may guess, HARBOUR, for a free pair of socks.",
    ],
)
def test_a_promo_code_names_the_code(cfg, offer):
    # the other side of the rule above: a code written in capitals, or a lower-case code that
    # runs into the offer, is still a promo code
    read = f"Thanks for listening, and thank you to Zorbwear, who pays for this hour. {offer}"
    t = show("Welcome to Harbour Talk.", read + CLOSING)
    (span,) = detect_sponsors(t, cfg)
    assert span.text == read and "promo_code" in span.rules


INTRO_READ = "This show is presented by Zorblex. Go to zorblex.com slash harbour and use code HARBOUR for 20 percent off."
PRODUCT_TAIL = "I wear their socks on every dive. Highly recommended, and my feet say so too."


def test_intro_read_takes_in_its_product_talk_up_to_the_conversation(cfg, raw_cfg):
    # the last sentences of an intro read often praise the product with no cue at all
    t = show(f"Welcome to Harbour Talk. {INTRO_READ} {PRODUCT_TAIL} And now, here's my conversation with Ines.")
    assert texts(detect_sponsors(t, cfg)) == [f"{INTRO_READ} {PRODUCT_TAIL}"]
    without = copy.deepcopy(raw_cfg)
    without["position"]["intro"]["tail_to_conversation"] = 0
    assert texts(detect_sponsors(t, sponsor_config_from_mapping(without))) == [INTRO_READ]


@pytest.mark.parametrize(
    "between",
    [
        # the host's side note, the show's self-promotion, or more talk than a read's last words
        "As a side note, harbours are older than cities. I sailed here from the north.",
        SELF_PROMO,
        "Ines grew up on a tug. She has sailed every sea. She wrote four books on tides. "
        "Her latest is about ice. She lives by a harbour now.",
    ],
)
def test_intro_tail_stops_at_anything_but_the_conversation_start(cfg, between):
    t = show(f"Welcome to Harbour Talk. {INTRO_READ} {between} And now, here's my conversation with Ines.")
    (span,) = detect_sponsors(t, cfg)
    assert span.read_parts[-1].char_end == t.text.index(INTRO_READ) + len(INTRO_READ)


def test_an_address_for_job_openings_is_no_ad(cfg):
    # the host's own hiring notice in the intro: "go to <site> slash hiring" is no affiliate address
    t = show(
        "Welcome to Harbour Talk. I am looking for two editors to join me. "
        "If that sounds like you, go to harbourtalk.com slash hiring. And now, here's my conversation with Ines."
    )
    assert detect_sponsors(t, cfg) == ()


def test_outro_thanks_to_a_sponsor_whose_name_starts_with_the(cfg):
    # "And thank you to the Harbour Gazette, …": a sponsor's name may begin with "the"
    read = "And thank you to the Harbour Gazette, Zorblex and Brightmoss. Check them out below, it helps support this show."
    t = show("Welcome to Harbour Talk.", "Thanks for listening to my talk with Ines. " + read + CLOSING)
    assert texts(detect_sponsors(t, cfg)) == [read]
