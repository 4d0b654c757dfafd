"""Transcript parsing and sponsor detection: the reference transcript and small synthetic ones."""

from __future__ import annotations

import pytest

from conftest import TRANSCRIPT, compose
from harness.errors import ConfigError, InputFileError
from harness.sponsors import detect_sponsors, sponsor_config_from_mapping
from harness.readers.markdown_blog import read_markdown_blog
from harness.text import format_clock, parse_clock
from harness.transcript import load_transcript

CHAPTER_STARTS = [
    ("Introduction", 0),
    ("AlexNet Paper and the ImageNet Moment", 143),
    ("Cost functions", 516),
    ("Recurrent neural networks", 828),
    ("Key ideas that led to success of deep learning", 982),
    ("What's harder to solve: language or vision?", 1200),
    ("We're massively underestimating deep learning", 1792),
    ("Deep double descent", 2165),
    ("Backpropagation", 2485),
    ("Can neural networks be made to reason?", 2569),
    ("Long-term memory", 3038),
    ("Language models", 3397),
    ("GPT-2", 3636),
    ("Active learning", 4037),
    ("Staged release of AI systems", 4137),
    ("How to build AGI?", 4421),
    ("Question to AGI", 5100),
    ("Meaning of life", 5530),
]


def test_reference_has_18_chapters_with_their_start_seconds(reference_transcript):
    got = [(c.title, c.start_s) for c in reference_transcript.chapters]
    assert got == [(t, float(s)) for t, s in CHAPTER_STARTS]
    ends = [c.end_s for c in reference_transcript.chapters]
    assert ends == [float(s) for _, s in CHAPTER_STARTS[1:]] + [5790.0]


def test_reference_turns_by_speaker_kept_as_written(reference_transcript):
    speakers = [s.speaker for s in reference_transcript.content_segments]
    assert len(speakers) == 347
    assert speakers.count("Ilya Sutskever") == 178
    assert speakers.count("Lex Fridman") == 168
    # A misspelled label in the source is kept, never corrected.
    assert speakers.count("LIlya Sutskever") == 1


def test_reference_blocks_and_metadata(reference_transcript):
    t = reference_transcript
    assert len(t.blocks) == 248
    assert t.title == "Lex Fridman podcast with Ilya Sutskever"
    assert t.video_url == "https://youtu.be/13CZPWmke6A"
    assert t.duration_s == 5790.0
    assert t.blocks[1].label == "2:23" and t.blocks[1].start_s == 143.0
    assert t.blocks[-1].label == "1:36:30" and t.blocks[-1].end_s is None


def test_reference_preface_is_kept_as_non_content(reference_transcript):
    preface = [s for s in reference_transcript.segments if not s.is_content]
    assert len(preface) == 1
    assert preface[0].text.startswith("Я помучил сегодня чатжпт")
    assert preface[0].speaker is None and preface[0].start_s is None


def test_reference_out_of_order_timestamp_is_a_warning_not_an_error(reference_transcript):
    assert reference_transcript.warnings == (
        "line 311: timestamp 33:35 goes back in time (previous 33:52 at line 308); times near it are approximate",
    )


def test_segment_text_is_the_exact_file_slice(reference_transcript):
    t = reference_transcript
    for seg in t.segments:
        assert t.text[seg.char_start : seg.char_end] == seg.text
    assert t.segments[1].text.startswith("The following is a conversation with Ilya Sutskever")
    continued = next(s for s in t.segments if "Of course, there are a huge number of choices" in s.text)
    assert continued.text.startswith("So, I can answer that.") and continued.timestamp == "1:34:48"


def test_segment_times_are_monotonic_within_blocks(reference_transcript):
    seg = next(s for s in reference_transcript.segments if s.text.startswith("Yeah, I can answer that question."))
    assert seg.timestamp == "2:23" and seg.chapter_index == 1
    assert 143.0 < seg.start_s < seg.end_s <= 278.0


def test_sponsor_segments_in_intro_and_outro_only(reference_transcript):
    sponsors = reference_transcript.sponsor_segments
    assert len(sponsors) == 2
    intro, outro = sponsors
    assert intro.text.startswith("If you enjoy it, subscribe on YouTube")
    assert intro.text.endswith("STEM education for young people around the world.")
    assert "history of money" in intro.text and "Debits and credits on ledgers" in intro.text
    assert intro.segment_indices == (1,) and 40 < intro.start_s < 60 and 135 < intro.end_s < 143
    assert intro.time_estimated
    assert outro.text.startswith("And thank you to our presenting sponsor, Cash App.")
    assert outro.text.endswith("connect with me on Twitter at Lex Fridman.")
    assert outro.start_s == 5790.0
    # Nothing between the intro and the outro is a sponsor read.
    assert reference_transcript.chapters[0].index == 0
    assert all(sp.start_s < 143 or sp.start_s >= 5790 for sp in sponsors)
    # The guest's introduction and the closing Turing quote are not ads.
    assert "The following is a conversation" not in intro.text
    assert "Alan Turing" not in outro.text


def test_sponsor_overlap(reference_transcript):
    intro = reference_transcript.sponsor_segments[0]
    assert reference_transcript.sponsor_overlap(intro.char_start, intro.char_end) == 1.0
    assert reference_transcript.sponsor_overlap(0, 10) == 0.0


def _sponsor_cfg():
    from omegaconf import OmegaConf

    return sponsor_config_from_mapping(OmegaConf.to_container(compose().sponsors))


def test_guest_mentioning_bitcoin_is_not_an_ad():
    text = (
        "## Money\n\n[0:10](https://youtu.be/x?t=10)\n**Guest:** I think Bitcoin is a fascinating idea. "
        "Cryptocurrency might change money. The first ledgers were clay tablets.\n"
    )
    t = read_markdown_blog(text, "mem.md", "0" * 64)
    assert detect_sponsors(t, _sponsor_cfg()) == ()


def test_invented_brand_ad_read_is_found_by_its_cues():
    text = (
        "[0:00](https://youtu.be/x?t=0)\n**Host:** Welcome to the show. This episode is brought to you by "
        "Zorblex, the socks that think. Go to zorblex.com/show and use code SHOW to get 20 percent off. "
        "Now, on to the conversation with my guest.\n\n[1:00](https://youtu.be/x?t=60)\n**Guest:** Thanks for having me.\n"
    )
    t = read_markdown_blog(text, "mem.md", "0" * 64)
    (span,) = detect_sponsors(t, _sponsor_cfg())
    assert span.text.startswith("This episode is brought to you by Zorblex")
    assert span.text.endswith("to get 20 percent off.")
    assert {"presented_by", "promo_code"} <= set(span.rules)


def test_bad_sponsor_rule_is_a_config_error():
    with pytest.raises(ConfigError, match="bad regular expression"):
        sponsor_config_from_mapping({"strong_rules": [{"name": "x", "pattern": "("}]})


@pytest.mark.parametrize(
    "label, seconds",
    [("0:00", 0), ("2:23", 143), ("1:02:30", 3750), ("00:02:25", 145), ("99:99:99", None), ("1:60", None), ("ab", None), ("1:2:3:4", None)],
)
def test_parse_clock(label, seconds):
    assert parse_clock(label) == seconds


def test_format_clock():
    assert format_clock(143) == "2:23" and format_clock(5790) == "1:36:30" and format_clock(None) is None


def test_speakers_without_timestamps_parse_with_null_times():
    t = read_markdown_blog("## Chat\n\n**A:** Hello there.\n\n**B:** Hi.\n", "mem.md", "0" * 64)
    assert [s.speaker for s in t.segments] == ["A", "B"]
    assert t.segments[0].start_s is None and t.chapters[0].start_s is None
    assert t.blocks == ()


def test_text_without_timestamps_or_speakers_is_rejected_with_the_reason():
    with pytest.raises(InputFileError, match="does not look like a markdown_blog transcript"):
        read_markdown_blog("Just some prose.\nNo markers at all.\n", "prose.md", "0" * 64)


def test_timestamp_with_t_parameter_wins_over_label():
    t = read_markdown_blog("[1:00](https://youtu.be/x?t=75s)\n**A:** Hi.\n", "m.md", "0" * 64)
    assert t.blocks[0].start_s == 75.0


def test_load_transcript_unknown_format_is_config_error():
    with pytest.raises(ConfigError, match="unknown transcript format 'srtx'"):
        load_transcript(TRANSCRIPT, "srtx")
