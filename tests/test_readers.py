"""Transcript readers (harness/readers/): every format, auto-detection, chapter lists.

Fixtures are small invented transcripts under tests/data/transcripts/; the #416 page from
../shared is read when present (skipped with a reason otherwise).
"""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, SHARED, TRANSCRIPT, compose
from harness.cli import execute_run
from harness.errors import ConfigError, InputFileError
from harness.readers.chapters import parse_chapter_line, parse_chapter_list
from harness.transcript import apply_chapter_list, detect_format, load_transcript

DATA = ROOT / "tests" / "data" / "transcripts"
EP416 = SHARED / "episodes" / "lex-fridman-416-yann-lecun" / "transcript.md"
FAST = ["stages.align=false", "stages.timeline=false", "report.write_html=false", "metrics=[units]"]


def load(name: str, fmt: str = "auto", **kw):
    return load_transcript(DATA / name, fmt, **kw)


def sentences(t):
    """(text, start_s, end_s) of every timestamp block."""
    return [(t.text[b.char_start : b.char_end].strip(), b.start_s, b.end_s) for b in t.blocks]


def assert_consistent(t):
    """The model's invariants, for any reader."""
    for seg in t.segments:
        assert t.text[seg.char_start : seg.char_end] == seg.text
    starts = [b.char_start for b in t.blocks]
    assert starts == sorted(starts)
    for b in t.blocks:
        assert 0 <= b.char_start <= b.char_end <= len(t.text)
        assert b.end_s is None or b.end_s >= b.start_s
    for ch in t.chapters:
        assert ch.char_start <= ch.char_end
    assert t.chapter_source in ("headings", "file", "auto", "none")


# ----------------------------------------------------------------------------------------------
# Detection
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("whisper_split.vtt", "webvtt"),
        ("youtube_rolling.vtt", "webvtt"),
        ("dialogue.srt", "srt"),
        ("whisperx.json", "whisper_json"),
        ("markers.txt", "text"),
        ("untimed.txt", "text"),
        ("page.md", "transcript_page"),
        ("ads_invented.txt", "text"),
    ],
)
def test_auto_detects_each_format_by_content(name, fmt, tmp_path):
    # detection reads the content, not the extension: the same bytes under a neutral name
    neutral = tmp_path / "transcript.data"
    neutral.write_bytes((DATA / name).read_bytes())
    t = load_transcript(neutral, "auto")
    assert t.format == fmt
    assert_consistent(t)
    # and the named reader reads it the same way
    assert load(name, fmt).text == t.text


def test_auto_detects_the_reference_blog_layout():
    t = load_transcript(TRANSCRIPT, "auto")
    assert t.format == "markdown_blog" and len(t.chapters) == 18 and t.chapter_source == "headings"


def test_ambiguous_file_is_an_error_naming_the_candidates(tmp_path):
    mixed = tmp_path / "mixed.md"
    mixed.write_text(
        "[0:00](https://youtu.be/x?t=0)\n**Host:** Hello.\n\n"
        "Guest [(00:00:10)](https://youtu.be/x?t=10) Hi there.\n\n"
        "Host [(00:00:20)](https://youtu.be/x?t=20) Welcome.\n",
        encoding="utf-8",
    )
    with pytest.raises(InputFileError, match="ambiguous transcript format: it could be markdown_blog or transcript_page"):
        load_transcript(mixed, "auto")
    # naming the format resolves it
    assert load_transcript(mixed, "transcript_page").format == "transcript_page"


def test_detect_format_on_text():
    assert detect_format("WEBVTT\n\n00:00.000 --> 00:01.000\nhi\n") == "webvtt"
    assert detect_format('{"segments": [{"start": 0, "end": 1, "text": "hi"}]}') == "whisper_json"
    talk = " ".join(f"Sentence number {i} of a long talk about the sea and its ships." for i in range(16))
    assert detect_format(talk + "\n") == "text"  # untimed, unlabelled: long enough to be talk


SUMMARY_PAGE = """# Episode 12: Fog horns

- Fog horns were first powered by steam.
- Later they ran on compressed air.
- They could be heard twelve miles out.

**Takeaway:** towns complained about the noise.
"""


@pytest.mark.parametrize(
    "text, why",
    [
        (SUMMARY_PAGE, r"too little for an untimed transcript"),
        ("Just some prose about the sea.\n", r"6 words in 1 sentences is too little"),
        # long enough, but a page of headings and bullets, not talk
        ("# Notes\n\n" + "".join(f"- Point {i} about the sea, its ships and the harbour lights at night.\n" for i in range(20)),
         r"21 of its 21 lines are Markdown headings, list items or table rows"),
    ],
)
def test_auto_does_not_take_a_page_or_a_line_for_a_transcript(tmp_path, text, why):
    """Issue #15 item 8: a 7-line Markdown summary given as the transcript is no ``text``
    transcript; the error says no format fits, and why."""
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError, match=r"no transcript format fits \(.*\): no time markers or speaker labels.*" + why):
        load_transcript(path, "auto")
    assert load_transcript(path, "text").format == "text"  # naming the format still reads it


def test_unknown_format_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown transcript format 'vtt'"):
        load("whisper_split.vtt", "vtt")


# ----------------------------------------------------------------------------------------------
# Caption formats: cue merging, rolling de-duplication, exact sentence times
# ----------------------------------------------------------------------------------------------


def test_whisper_cues_are_merged_into_sentences_with_their_times():
    t = load("whisper_split.vtt")
    assert t.text == (
        "Welcome back to the Tidepool show. Today we are talking about lighthouses and the people who "
        "kept them. My guest is Mara Quillon, a historian of the coast.\n"
        "Thank you. It is a pleasure to be here, and lighthouses are my favorite subject.\n"
    )
    got = sentences(t)
    # A sentence that ends inside a cue ends at the cue time interpolated by character position:
    # "show." ends at character 34 of the 47-character first cue (0-4 s).
    expected = [
        ("Welcome back to the Tidepool show.", 0.0, 4 * 34 / 47),
        ("Today we are talking about lighthouses and the people who kept them.", 4 * 35 / 47, 8.0),
        ("My guest is Mara Quillon, a historian of the coast.", 8.0, 11.0),
        ("Thank you.", 11.5, 11.5 + 3.5 * 10 / 39),
        ("It is a pleasure to be here, and lighthouses are my favorite subject.", 11.5 + 3.5 * 11 / 39, 18.0),
    ]
    assert [s for s, _, _ in got] == [s for s, _, _ in expected]
    for (_, a, b), (_, ea, eb) in zip(got, expected):
        assert a == pytest.approx(ea, abs=1e-6) and b == pytest.approx(eb, abs=1e-6)
    # one paragraph per speaker; the voice tag names the second
    assert [(s.speaker, s.start_s, s.end_s) for s in t.segments] == [(None, 0.0, 11.0), ("Mara Quillon", 11.5, 18.0)]
    assert [b.line_no for b in t.blocks] == [3, 3, 9, 12, 12]
    assert t.duration_s == 18.0 and t.chapters == () and t.chapter_source == "none"
    # time_at is exact at sentence starts
    assert t.time_at(t.text.index("My guest")) == pytest.approx(8.0)


def test_rolling_auto_captions_drop_the_repeats_and_keep_word_times():
    t = load("youtube_rolling.vtt")
    # each word once: the rolling line, the 10 ms flash cues and "[Music]" are gone
    assert t.text == "so the keeper climbed ninety steps every night and he never complained\n"
    # no punctuation: sentences end at the 3.5 s pause; times come from the inline word timings
    assert sentences(t) == [
        ("so the keeper climbed ninety steps every night", 0.5, 4.0),
        ("and he never complained", 7.5, 9.0),
    ]
    assert len(t.segments) == 1 and t.segments[0].speaker is None


def test_srt_speaker_prefixes_and_sound_annotations():
    t = load("dialogue.srt")
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("ANNA", "Good evening and welcome to Night Garden. Tonight I am joined by the grower Ben Ostrova."),
        ("BEN", "Thanks, Anna. Moonflowers open only after sunset, which still amazes me."),
    ]
    got = sentences(t)
    assert got[0] == ("Good evening and welcome to Night Garden.", 1.0, 3.0)
    assert got[1] == ("Tonight I am joined by the grower Ben Ostrova.", 6.5, 9.0)  # "[Music]" cue dropped
    assert got[2][0] == "Thanks, Anna." and got[2][2] == pytest.approx(9 + 2 * 13 / 30)
    assert got[3][1] == pytest.approx(9 + 2 * 14 / 30) and got[3][2] == 14.0


def test_whisper_json_words_speakers_and_segments_without_words():
    t = load("whisperx.json")
    assert [(s.speaker, s.text) for s in t.segments] == [
        ("SPEAKER_00", "Hello and welcome to Copper Kettle, the cooking podcast."),
        ("SPEAKER_01", "Glad to be here. I brought bread."),
    ]
    got = sentences(t)
    # word timings given: the sentence runs from the first word's start to the last word's end
    assert got[0] == ("Hello and welcome to Copper Kettle, the cooking podcast.", 0.0, 3.9)
    # no word timings: interpolated over the segment, from its first character
    assert got[1][0] == "Glad to be here." and got[1][1] == pytest.approx(4.5)
    assert got[2][2] == pytest.approx(7.0)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("WEBVTT\n\nnot a cue\n", "WebVTT"),
        ('{"segments": [{"start": "soon", "end": 1, "text": "hi"}]}', "not a number of seconds"),
        ('{"text": "hi"}', "does not look like Whisper JSON"),
    ],
)
def test_broken_caption_files_are_named_errors(tmp_path, text, problem):
    bad = tmp_path / "bad.txt"
    bad.write_text(text, encoding="utf-8")
    fmt = "whisper_json" if text.startswith("{") else "webvtt"
    with pytest.raises(InputFileError, match=problem):
        load_transcript(bad, fmt)


# ----------------------------------------------------------------------------------------------
# Plain text
# ----------------------------------------------------------------------------------------------


def test_plain_text_with_markers_and_labels():
    t = load("markers.txt")
    assert [(b.label, b.start_s) for b in t.blocks] == [
        ("00:00:05", 5.0), ("00:00:12", 12.0), ("00:01:03", 63.0), ("00:01:07", 67.0), ("00:01:15", 75.0)
    ]
    content = [(s.speaker, s.text, s.timestamp) for s in t.segments]
    assert content[1:] == [
        ("Host", "Welcome to Harbor Lights. Today we talk about fog horns.", "00:00:05"),
        ("Guest", "Thanks for having me. Fog horns were first powered by steam.\nThey later ran on compressed air.", "00:00:12"),
        ("Host", "How loud were they?", "00:01:03"),
        ("Guest", "Loud enough to be heard twelve miles out.", "00:01:07"),
        # a marker inside a line starts a new segment of the same speaker
        ("Guest", "Some towns complained about the noise.", "00:01:15"),
    ]
    assert t.duration_s == 75.0


def test_plain_text_without_times_has_null_times_and_offsets():
    t = load("untimed.txt")
    assert t.format == "text" and t.blocks == () and t.duration_s is None
    assert [s.speaker for s in t.segments] == ["Host", "Guest", "Host", "Guest"]
    assert all(s.start_s is None and s.end_s is None and s.timestamp is None for s in t.segments)
    assert t.time_at(10) is None
    assert t.segments[3].char_start == t.text.index("The number of species")


def test_plain_text_variants(tmp_path):
    otter = tmp_path / "otter.txt"
    otter.write_text("Speaker 1  0:03\nHello there.\n\nSpeaker 2  0:09\nHi, good to be here.\n", encoding="utf-8")
    t = load_transcript(otter, "auto")
    assert [(s.speaker, s.start_s, s.text) for s in t.segments] == [
        ("Speaker 1", 3.0, "Hello there."),
        ("Speaker 2", 9.0, "Hi, good to be here."),
    ]
    youtube = tmp_path / "copied.txt"
    youtube.write_text("0:00\nwelcome back everyone\n0:04\ntoday we talk about kites\n", encoding="utf-8")
    t = load_transcript(youtube, "auto")
    assert [(b.start_s, s.text) for b, s in zip(t.blocks, t.segments)] == [(0.0, "welcome back everyone"), (4.0, "today we talk about kites")]
    cpp = tmp_path / "whisper_cpp.txt"
    cpp.write_text("[00:00:00.000 --> 00:00:02.500]  First line.\n[00:00:02.500 --> 00:00:05.000]  Second line.\n", encoding="utf-8")
    t = load_transcript(cpp, "auto")
    assert [(b.start_s, b.end_s) for b in t.blocks] == [(0.0, 2.5), (2.5, 5.0)]
    parens = tmp_path / "parens.txt"
    parens.write_text("(00:05) Host: Hi, welcome.\n(01:10) Guest: Hello, glad to be here.\n", encoding="utf-8")
    t = load_transcript(parens, "auto")
    assert [(s.speaker, s.start_s, s.text) for s in t.segments] == [
        ("Host", 5.0, "Hi, welcome."), ("Guest", 70.0, "Hello, glad to be here.")
    ]
    prose = tmp_path / "prose.txt"
    prose.write_text("Note: this is a plain note.\nIt has no speakers at all.\n", encoding="utf-8")
    assert all(s.speaker is None for s in load_transcript(prose, "text").segments)


# ----------------------------------------------------------------------------------------------
# Transcript page
# ----------------------------------------------------------------------------------------------


def test_transcript_page_layout():
    t = load("page.md")
    assert t.format == "transcript_page"
    assert t.title == "Transcript for Orchard Talk #7 | The Orchard Podcast"
    assert t.video_url == "https://video.example.org/watch?v=orch7"
    # headings under which the conversation goes on are chapters; the table of contents and the
    # author box are not
    assert [(c.title, c.start_s, c.end_s) for c in t.chapters] == [
        ("Introduction", 0.0, 31.0), ("Grafting", 31.0, 92.0), ("Frost", 92.0, 100.0)
    ]
    assert t.chapter_source == "headings"
    conv = [(s.speaker, s.start_s, s.chapter_index) for s in t.content_segments]
    # "## Grafting" falls inside Nell Hart's turn: the paragraph after it is still hers
    assert conv[:3] == [("Nell Hart", 0.0, 0), ("Nell Hart", 31.0, 1), ("Ivo Brandt", 45.0, 1)]
    assert [s.speaker for s in t.content_segments] == ["Nell Hart", "Nell Hart", "Ivo Brandt", "Ivo Brandt", "Nell Hart", "Ivo Brandt"]
    assert t.blocks[1].url == "https://video.example.org/watch?v=orch7&t=31"
    # page header and footer are kept, but not as conversation
    other = [s.text for s in t.segments if not s.is_content]
    assert other[0].startswith("This is a transcript of Orchard Talk #7")
    assert other[-2].startswith("This entry was posted in") and other[-1] == "Host of The Orchard Podcast."
    assert not any("posted" in s.text for s in t.content_segments)


def test_transcript_page_table_of_contents_gives_chapters_without_headings(tmp_path):
    text = (DATA / "page.md").read_text(encoding="utf-8")
    no_headings = "\n".join(line for line in text.splitlines() if line not in ("## Introduction", "## Grafting", "## Frost"))
    page = tmp_path / "page.md"
    page.write_text(no_headings + "\n", encoding="utf-8")
    t = load_transcript(page, "transcript_page")
    assert [(c.title, c.start_s) for c in t.chapters] == [("Introduction", 0.0), ("Grafting", 40.0), ("Frost", 90.0)]
    assert t.chapter_source == "headings"
    # placed at the first sentence whose estimated time reaches the listed time
    assert t.time_at(t.chapters[1].char_start) >= 40.0


@pytest.mark.shared
def test_episode_416_transcript_page():
    if not EP416.exists():
        pytest.skip(f"{EP416} not found (../shared/episodes is not checked out)")
    t = load_transcript(EP416, "auto")
    assert t.format == "transcript_page"
    assert len(t.chapters) == 23 and t.chapter_source == "headings"
    assert t.chapters[0].title == "Introduction" and t.chapters[-1].title == "Hope for the future"
    assert {s.speaker for s in t.content_segments} == {"Yann LeCun", "Lex Fridman"}
    assert len(t.blocks) == 394 and t.duration_s == 10005.0
    assert not any("This entry was posted" in s.text for s in t.content_segments)
    assert_consistent(t)


# ----------------------------------------------------------------------------------------------
# Chapter lists
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, parsed",
    [
        ("0:00 Introduction", (0.0, "Introduction")),
        ("1:02:30 Meaning of life", (3750.0, "Meaning of life")),
        ("  * 2:18 – Limits of LLMs", (138.0, "Limits of LLMs")),
        ("(12:05) - Fog signals", (725.0, "Fog signals")),
        ("[3:10](https://youtu.be/x?t=190) Keepers", (190.0, "Keepers")),
        ("Follow the show: https://example.org", None),
        ("99:99 Nothing", None),
    ],
)
def test_parse_chapter_line(line, parsed):
    assert parse_chapter_line(line) == parsed


def test_chapter_list_file_replaces_chapters_and_is_placed_by_time():
    t = load("markers.txt", chapters=DATA / "chapters.txt")
    assert t.chapter_source == "file"
    assert [(c.title, c.start_s, c.end_s, c.line_no) for c in t.chapters] == [
        ("Introduction", 0.0, 12.0, 2), ("Steam horns", 12.0, 63.0, 3), ("Noise complaints", 63.0, 75.0, 4)
    ]
    assert t.text[t.chapters[1].char_start :].startswith("Thanks for having me.")
    assert t.text[t.chapters[2].char_start :].startswith("How loud were they?")
    assert [s.chapter_index for s in t.content_segments] == [0, 0, 1, 2, 2, 2]
    assert [b.chapter_index for b in t.blocks] == [0, 1, 2, 2, 2]


def test_chapter_list_for_captions_and_replacing_headings(tmp_path):
    chapters = tmp_path / "ch.txt"
    chapters.write_text("Intro 0:00\nThe guest 0:08\n", encoding="utf-8")  # title-first lines
    t = load("whisper_split.vtt", chapters=chapters)
    assert [(c.title, c.start_s) for c in t.chapters] == [("Intro", 0.0), ("The guest", 8.0)]
    assert t.text[t.chapters[1].char_start :].startswith("My guest is Mara Quillon")
    page = load("page.md", chapters=chapters)
    assert page.chapter_source == "file" and "replaces the 3 chapters" in page.warnings[0]


def test_bad_chapter_lists_are_named_errors(tmp_path):
    backwards = tmp_path / "back.txt"
    backwards.write_text("0:00 Intro\n5:00 Middle\n2:00 Oops\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"line 3: chapter 'Oops' at 2:00 does not start after 'Middle'"):
        parse_chapter_list(backwards.read_text(), str(backwards))
    empty = tmp_path / "empty.txt"
    empty.write_text("no times here\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no chapter lines found"):
        load("markers.txt", chapters=empty)
    with pytest.raises(InputFileError, match="the transcript has no timestamps"):
        apply_chapter_list(load("untimed.txt"), DATA / "chapters.txt")


def test_chapter_list_past_the_end_is_dropped_with_a_warning(tmp_path):
    chapters = tmp_path / "ch.txt"
    chapters.write_text("0:00 Intro\n10:00 Later\n", encoding="utf-8")
    t = load("markers.txt", chapters=chapters)
    assert [c.title for c in t.chapters] == ["Intro"]
    assert any("'Later' at 10:00 starts after the transcript's last timestamp" in w for w in t.warnings)


# ----------------------------------------------------------------------------------------------
# Through the run: report.json / report.md
# ----------------------------------------------------------------------------------------------


def _run(tmp_path, transcript: str, *extra: str) -> dict:
    summary = tmp_path / "summary.md"
    summary.write_text("The keeper climbed ninety steps every night [0:02]. He never complained.\n", encoding="utf-8")
    cfg = compose(["transcript=auto", f"transcript.path={DATA / transcript}", "transcript.auto_chapters=false",
                   "summary=plain", f"summary.path={summary}", *FAST, *extra])
    return execute_run(cfg, tmp_path / "run")


def test_report_says_what_is_not_available(tmp_path):
    report = _run(tmp_path, "youtube_rolling.vtt")
    t = report["transcript"]
    assert t["format"] == "webvtt" and t["chapter_source"] == "none" and t["timestamps"] is True
    checks = {n["check"]: n["reason"] for n in report["not_available"]}
    assert checks["misattribution"] == "the transcript has no speaker labels"
    assert "no chapters" in checks["chapters"]
    assert "wrong_timestamp" not in checks  # the summary cites a time and the captions have times
    md = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "## Checks not available" in md and "**misattribution**: the transcript has no speaker labels" in md
    saved = json.loads((tmp_path / "run" / "report.json").read_text(encoding="utf-8"))
    assert saved["not_available"] == report["not_available"]


def test_report_for_an_untimed_transcript(tmp_path):
    report = _run(tmp_path, "untimed.txt")
    checks = {n["check"]: n["reason"] for n in report["not_available"]}
    assert checks["wrong_timestamp"].startswith("the transcript has no timestamps")
    assert "misattribution" not in checks  # Host and Guest are labelled
    assert report["transcript"]["timestamps"] is False
    md = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "timestamps unavailable" in md


def test_report_records_a_chapter_list_given_in_the_config(tmp_path):
    report = _run(tmp_path, "markers.txt", f"transcript.chapters={DATA / 'chapters.txt'}")
    assert report["transcript"]["chapter_source"] == "file"
    assert [c["title"] for c in report["transcript"]["chapters"]] == ["Introduction", "Steam horns", "Noise complaints"]
    assert not any(n["check"] == "chapters" for n in report["not_available"])


def test_auto_chapters_when_the_transcript_has_none(tmp_path, monkeypatch):
    import harness.segmentation
    from harness.types import Chapter

    seen = {}

    def fake_auto_chapters(transcript, cfg=None, **kw):
        seen["segments"] = len(transcript.content_segments)
        first = transcript.content_segments[0]
        return (Chapter(0, "Part 1 (0:00–0:09)", 0.0, 9.0, first.line_no, first.char_start, len(transcript.text)),)

    monkeypatch.setattr(harness.segmentation, "auto_chapters", fake_auto_chapters)
    report = _run(tmp_path, "youtube_rolling.vtt", "transcript.auto_chapters=true")
    assert seen["segments"] == 1
    assert report["transcript"]["chapter_source"] == "auto"
    assert [c["title"] for c in report["transcript"]["chapters"]] == ["Part 1 (0:00–0:09)"]
    assert not any(n["check"] == "chapters" for n in report["not_available"])


class _WordEncoder:
    """A deterministic bag-of-words encoder (no model)."""

    model_id = "test/bag-of-words"

    def encode(self, texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False):
        import zlib

        import numpy as np

        out = np.full((len(texts), 64), 0.01, dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.strip(".,").encode()) % 64] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class _NeedleVerifier:
    """Supports a claim against any window that holds ``needle``."""

    name = "needle"

    def __init__(self, needle: str) -> None:
        self.needle = needle

    def score(self, pairs):
        from harness.backends.base import PairScore

        return [PairScore(support=0.9 if self.needle in p.evidence else 0.05, contradiction=0.0) for p in pairs]

    def describe(self):
        return {"name": self.name}


def test_evidence_from_an_untimed_transcript_has_offsets_and_null_times(tmp_path):
    from omegaconf import OmegaConf

    from harness.align import align_summary
    from harness.types import Claim, SummaryUnit

    t = load("untimed.txt")
    text = "The number of species dropped by a third after dry summers."
    unit = SummaryUnit("u001", 0, None, "sentence", text, text, 1)
    claim = Claim("u001.c1", "u001", 0, text, 0, len(text))
    cfg = OmegaConf.to_container(compose().align)
    cfg["cache_dir"] = str(tmp_path / "cache")
    result = align_summary(t, [unit], [claim], _NeedleVerifier("species dropped"), cfg, encoder=_WordEncoder())
    ev = result.unit_verdicts[0].claims[0].evidence[0]
    assert result.unit_verdicts[0].label == "supported"
    assert ev.start_s is None and ev.end_s is None and ev.timestamp is None and ev.url is None
    assert t.text[ev.char_start : ev.char_end] == ev.quote and "species dropped" in ev.quote
    assert ev.speaker == "Guest"
