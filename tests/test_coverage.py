"""Coverage: key points, per-chapter labels, sponsor exclusion, redundancy, automatic chapters,
the timeline figure, and the reference ordering (summify covers more than wiki)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest
from omegaconf import OmegaConf

from conftest import CONFIG_DIR, SUMMARIES
from harness.coverage import compute_coverage, source_units
from harness.errors import ConfigError
from harness.formats import FormatOptions, load_summary
from harness.metrics import METRICS, MetricInputs
from harness.segmentation import SegmentationConfig, auto_chapters, chapter_titles, transcript_sentences
from harness.stage_config import CoverageConfig
from harness.readers.markdown_blog import read_markdown_blog
from harness.transcript import load_transcript
from harness.types import Claim, Evidence, SponsorSegment, Summary, SummaryUnit, Transcript, UnitVerdict, Verdict

COOKING = [
    "Simmer the tomato sauce slowly for an hour with garlic and fresh basil leaves.",
    "Knead the bread dough on a floured board until it feels smooth and elastic.",
    "Roast the chicken in a hot oven and baste it with butter every twenty minutes.",
    "Whisk the eggs with sugar until pale before folding in the sifted flour gently.",
]
ASTRONOMY = [
    "The telescope revealed four moons circling Jupiter on a clear winter night.",
    "Distant galaxies recede from us because the universe itself keeps expanding.",
    "A neutron star packs more mass than the sun into a sphere the size of a city.",
    "Light from the nearest star takes more than four years to reach our planet.",
]
FOOTBALL = [
    "The striker curled a free kick over the defensive wall into the top corner.",
    "Our goalkeeper saved the penalty in the final minute of the championship match.",
    "The coach switched to a back three formation at half time to press higher.",
    "Fans packed the stadium and sang the club anthem before the derby kicked off.",
]


def _clock(s: int) -> str:
    return f"{s // 60}:{s % 60:02d}"


def make_transcript(chapters: list[tuple[str | None, list[str]]], turn_s: int = 30) -> Transcript:
    """A markdown_blog transcript: one timestamped turn per sentence, ``turn_s`` seconds apart,
    under ``## `` headings (no heading when the title is ``None``)."""
    lines, t, speaker = [], 0, 0
    for title, sentences in chapters:
        if title is not None:
            lines += [f"## {title}", ""]
        for sentence in sentences:
            name = ("Host", "Guest")[speaker % 2]
            lines += [f"[{_clock(t)}](https://youtu.be/x?t={t})", f"**{name}:** {sentence}", ""]
            t += turn_s
            speaker += 1
    lines += [f"[{_clock(t)}](https://youtu.be/x?t={t})", "**Host:** Thanks.", ""]
    text = "\n".join(lines)
    return read_markdown_blog(text, "synthetic.md", hashlib.sha256(text.encode()).hexdigest())


def make_summary(texts: list[str]) -> Summary:
    units = tuple(
        SummaryUnit(unit_id=f"u{i + 1:03d}", index=i, section=None, kind="sentence", text=t, text_plain=t, line_no=i + 1)
        for i, t in enumerate(texts)
    )
    return Summary(path="s.md", sha256="0" * 64, format="plain", title="synthetic", units=units, line_roles=())


def sponsor_over(transcript: Transcript, needle: str) -> SponsorSegment:
    start = transcript.text.index(needle)
    end = start + len(needle)
    return SponsorSegment(0, start, end, transcript.time_at(start), transcript.time_at(end), False, (), ("test",), needle)


def cfg(**overrides) -> dict:
    base = {"use_cache": False, "key_points": {"min_per_chapter": 2, "max_per_chapter": 2, "min_words": 5}}
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            base[k] = {**base[k], **v}
        else:
            base[k] = v
    return base


@pytest.fixture(scope="module")
def three_topics() -> Transcript:
    return make_transcript([("Cooking", COOKING), ("Astronomy", ASTRONOMY), ("Football", FOOTBALL)])


def verdict(claim_text: str, label: str, transcript: Transcript, at: str, uid: str = "u900") -> UnitVerdict:
    start = transcript.text.index(at)
    ev = Evidence(transcript.time_at(start), None, None, None, None, None, at, 0.9, False, start, start + len(at))
    claim = Claim(f"{uid}.c0", uid, 0, claim_text, 0, len(claim_text))
    return UnitVerdict(uid, label, 0.9, (Verdict(claim, label, 0.9, (ev,)),))


# ----------------------------------------------------------------------------------------------
# Key points
# ----------------------------------------------------------------------------------------------


def test_key_points_per_chapter_count_centrality_and_time():
    off_topic = "My cousin bought a red bicycle at the market yesterday afternoon."
    questions = "Do you think the galaxies will ever stop expanding away from us?"
    t = make_transcript([("Cooking", COOKING + [off_topic]), ("Astronomy", ASTRONOMY + [questions])], turn_s=60)
    # 5 turns of 60 s = 5 minutes at 0.5 per minute -> round(2.5) = 2 key points; clamp [1, 6]
    src = source_units(t, {"use_cache": False, "key_points": {"per_minute": 0.5, "min_words": 8}})
    assert [len(src.key_points[c.index]) for c in src.chapters] == [2, 2]
    for ch in src.chapters:
        for kp in src.key_points[ch.index]:
            assert kp.chapter_index == ch.index
            assert kp.time_s == t.time_at(kp.char_start)
            assert t.text[kp.char_start : kp.char_end] == kp.text
    chosen = {kp.text for kps in src.key_points.values() for kp in kps}
    assert off_topic not in chosen  # the least central sentence of its chapter
    assert questions not in chosen  # questions are not key points
    assert chosen <= set(COOKING + ASTRONOMY)
    # ranks are by centrality, most central first
    for kps in src.key_points.values():
        assert [k.rank for k in kps] == list(range(len(kps)))
        assert kps[0].centrality >= kps[1].centrality
    # more minutes, more key points; the clamp holds
    src6 = source_units(t, {"use_cache": False, "key_points": {"per_minute": 5, "max_per_chapter": 3, "min_words": 8}})
    assert [len(src6.key_points[c.index]) for c in src6.chapters] == [3, 3]


def test_key_points_cached_in_process(three_topics):
    a = source_units(three_topics, cfg())
    b = source_units(three_topics, CoverageConfig.from_mapping(cfg()))
    # the Episode (sentences, their embeddings, chapters) is built once per process
    assert a.sentences is b.sentences and a.embeddings is b.embeddings
    assert a.key_points == b.key_points and a.chapters == b.chapters


# ----------------------------------------------------------------------------------------------
# Per-chapter coverage
# ----------------------------------------------------------------------------------------------


def test_coverage_labels_full_partial_none(three_topics):
    src = source_units(three_topics, cfg())
    kp = {c.title: [k.text for k in src.key_points[c.index]] for c in src.chapters}
    summary = make_summary(kp["Cooking"] + kp["Astronomy"][:1])
    res = compute_coverage(three_topics, summary, (), cfg())
    by = {c.title: c for c in res.chapters}
    assert [(by[n].label, by[n].score, by[n].matched_key_points) for n in ("Cooking", "Astronomy", "Football")] == [
        ("full", 1.0, 2),
        ("partial", 0.5, 1),
        ("none", 0.0, 0),
    ]
    assert res.metric("chapter_weighted") == 0.5
    assert res.metric("key_point_recall") == 0.5
    assert res.metric("chapters_covered") == pytest.approx(2 / 3, abs=1e-6)
    assert res.metric("chapters_missed") == 1.0
    w = [by[n].weight_s for n in ("Cooking", "Astronomy", "Football")]
    assert w == [120.0, 120.0, 120.0]
    assert res.metric("time_weighted") == 0.5
    assert [c.title for c in res.missed_chapters] == ["Football"]
    missed = res.missed_key_points
    assert [k.text for k in missed] == kp["Astronomy"][1:] + sorted(kp["Football"], key=three_topics.text.index)
    assert all(k.time_s is not None for k in missed)
    assert res.used_verdicts is False and any("alignment did not run" in n for n in res.notes)
    js = res.to_json()
    assert js["chapter_weighted"] == 0.5 and [c["label"] for c in js["chapters"]] == ["full", "partial", "none"]
    assert js["missed_chapters"][0]["title"] == "Football" and js["missed_chapters"][0]["start"] == "4:00"


def test_time_weighted_uses_chapter_durations():
    t = make_transcript([("Cooking", COOKING), ("Astronomy", ASTRONOMY[:2])], turn_s=30)
    src = source_units(t, cfg())
    res = compute_coverage(t, make_summary([k.text for k in src.key_points[0]]), (), cfg())
    assert [c.weight_s for c in res.chapters] == [120.0, 60.0]
    assert res.metric("chapter_weighted") == 0.5
    assert res.metric("time_weighted") == pytest.approx(120 / 180, abs=1e-6)


def test_verdict_evidence_adds_credit_and_contradicted_claims_cover_nothing(three_topics):
    src = source_units(three_topics, cfg())
    football_kp = src.key_points[2][0].text
    uvs = (
        verdict("It was quite remarkable to watch.", "supported", three_topics, FOOTBALL[0], "u001"),
        verdict(football_kp, "contradicted", three_topics, football_kp, "u002"),
    )
    res = compute_coverage(three_topics, make_summary(["x"]), uvs, cfg())
    foot = res.chapters[2]
    assert foot.matched_key_points == 0  # the contradicted claim repeats a key point verbatim
    assert foot.evidence_credit == 1.0 and foot.evidence_score == 0.5
    assert foot.score == 0.25 and foot.label == "partial"  # 0.5 * 0 + 0.5 * min(1, 1 / 2)
    assert res.chapters[0].label == "none" and res.chapters[0].evidence_credit == 0.0
    assert res.used_verdicts and not any("alignment did not run" in n for n in res.notes)


# ----------------------------------------------------------------------------------------------
# Sponsors
# ----------------------------------------------------------------------------------------------

AD = [
    "This show is presented by Cash App, use code PODCAST to get ten dollars.",
    "Cash App lets you send money to friends and buy bitcoin with one dollar.",
    "Download Cash App from the App Store and use code PODCAST today.",
    "Cash App will also donate ten dollars to a robotics charity for kids.",
]


def test_sponsor_chapter_and_sentences_excluded_from_denominators():
    base = make_transcript([("Cooking", COOKING), ("Ad break", AD), ("Astronomy", ASTRONOMY)])
    ad_start = base.text.index(AD[0])
    ad_end = base.text.index(AD[-1]) + len(AD[-1])
    # one sponsor read over the whole ad chapter, one sentence-long read inside Astronomy
    sp_ad = SponsorSegment(0, ad_start, ad_end, base.time_at(ad_start), base.time_at(ad_end), False, (), ("t",), "ad")
    sp_in = replace(sponsor_over(base, ASTRONOMY[0]), index=1)
    t = replace(base, sponsor_segments=(sp_ad, sp_in))
    src = source_units(t, cfg())
    res = compute_coverage(t, make_summary([k.text for k in src.key_points[0]]), (), cfg())
    ad = res.chapters[1]
    assert ad.excluded == "sponsor read" and ad.label == "excluded" and ad.score is None and ad.key_points == 0
    assert [c.label for c in res.chapters] == ["full", "excluded", "none"]
    # the ad chapter counts in no denominator: 2 scored chapters, not 3
    assert res.metric("chapter_weighted") == 0.5
    assert res.metric("key_point_recall") == 0.5
    # a chapter's sponsor share is the larger of its share of seconds and its share of words
    words = [len(x.split()) for x in ASTRONOMY] + [1]  # the closing "Thanks." turn is in this chapter
    share = max((sp_in.end_s - sp_in.start_s) / 120, words[0] / sum(words))
    assert res.chapters[2].sponsor_share == pytest.approx(share)
    assert res.chapters[2].weight_s == pytest.approx(120 * (1 - share))
    assert res.metric("time_weighted") == pytest.approx(120 / (120 + res.chapters[2].weight_s), abs=1e-6)
    # a sponsor sentence is never a key point, even in a content chapter
    assert all(ASTRONOMY[0] != k.text for k in res.key_points)
    assert all(t.sponsor_overlap(k.char_start, k.char_end) == 0 for k in res.key_points)
    assert any("left out of every denominator" in n for n in res.notes)


# ----------------------------------------------------------------------------------------------
# Redundancy
# ----------------------------------------------------------------------------------------------


def test_redundancy_reports_restating_pairs(three_topics):
    summary = make_summary(
        [
            "The striker curled a free kick over the wall into the top corner.",
            "Over the defensive wall, the striker curled a free kick into the top corner.",
            "Distant galaxies recede because the universe keeps expanding.",
            "Knead the dough until smooth.",
        ]
    )
    res = compute_coverage(three_topics, summary, (), cfg())
    assert res.item_pairs == 6 and res.redundant_pair_count == 1
    assert res.metric("redundancy") == pytest.approx(1 / 6, abs=1e-6)
    pair = res.redundant_pairs[0]
    assert (pair.a, pair.b) == ("u001", "u002") and pair.cosine >= 0.8


# ----------------------------------------------------------------------------------------------
# Automatic chapters
# ----------------------------------------------------------------------------------------------


def test_auto_segmentation_finds_topic_boundary_within_one_turn():
    cooking = COOKING + [
        "Season the soup with salt, pepper and a splash of lemon juice at the end.",
        "Caramelise the onions slowly in olive oil until they turn deep golden brown.",
        "Marinate the lamb overnight in yoghurt, cumin and crushed garlic cloves.",
        "Blanch the green beans in salted boiling water, then plunge them into ice.",
    ]
    astronomy = ASTRONOMY + [
        "Saturn's rings are made of countless chunks of ice and dusty rock.",
        "A total solar eclipse happens when the moon covers the entire disc of the sun.",
        "Comets grow bright tails of gas and dust as they approach the sun.",
        "The Milky Way galaxy contains hundreds of billions of stars and planets.",
    ]
    t = make_transcript([(None, cooking + astronomy)], turn_s=30)
    assert t.chapters == ()
    conf = SegmentationConfig(block_s=90, min_chapter_s=60, max_chapter_s=900, depth_std=0.5)
    chapters = auto_chapters(t, conf)
    assert len(chapters) == 2
    switch = t.content_segments[len(cooking)]
    first_turn_of_2nd = next(s for s in t.content_segments if s.char_start == chapters[1].char_start)
    assert abs(first_turn_of_2nd.index - switch.index) <= 1
    assert chapters[1].start_s == float(first_turn_of_2nd.index * 30)  # the turn's timestamp
    # titled by topic words, not "Part 1 (0:00–…)": the cooking chapter by cooking nouns
    assert "Part" not in chapters[0].title and "0:00" not in chapters[0].title
    assert len(chapters[0].title.split(", ")) == 3 and len(chapters[1].title.split(", ")) == 3
    assert set(re.split(r"[, ]+", chapters[0].title)) & {"soup", "onion", "lamb", "bean", "sauce", "dough", "egg"}
    assert set(re.split(r"[, ]+", chapters[1].title)) & {"star", "sun", "moon", "galaxy", "ring", "comet", "Saturn"}
    assert chapters[1].end_s == t.duration_s
    # coverage falls back to automatic chapters when the transcript has none, and says so
    res = compute_coverage(t, make_summary(astronomy[:4]), (), cfg(auto_segmentation={"block_s": 90, "min_chapter_s": 60}))
    assert res.segmentation == "auto" and len(res.chapters) == 2
    assert any("found automatically" in n for n in res.notes)
    assert res.chapters[0].label == "none" and res.chapters[1].label != "none"


def test_segmentation_auto_overrides_transcript_chapters(three_topics):
    res = compute_coverage(three_topics, make_summary(["x y z"]), (), cfg(segmentation="auto", auto_segmentation={"min_chapter_s": 60}))
    assert res.segmentation == "auto"
    assert [c.title for c in res.chapters] == [c.title for c in source_units(three_topics, cfg(segmentation="auto", auto_segmentation={"min_chapter_s": 60})).chapters]
    assert all(c.title and not c.title.startswith("Part ") for c in res.chapters)


def test_chapter_titles_are_distinctive_noun_phrases():
    titles = chapter_titles(
        [
            "We counted beetles in the old forest valley. The beetles declined after dry summers. Dry summers kill larvae. Yeah, beetles.",
            "Stars and galaxies. The galaxy has a black hole. Black holes eat stars. Yeah, the black hole.",
            "",
        ],
        n_terms=3,
        stop_words=["yeah"],
    )
    # two-word noun phrases first, plurals folded, filler and stop words never, no overlaps
    assert titles == ["dry summer, beetle, forest valley", "black hole, galaxy, star", ""]


def load_untimed_transcript(tmp_path):
    """A ``text`` transcript without time markers: two host/guest rounds of cooking, then of
    astronomy, written to ``tmp_path`` and loaded."""
    lines = []
    for i, sentence in enumerate(COOKING * 2 + ASTRONOMY * 2):
        lines += [f"{('Host', 'Guest')[i % 2]}: {sentence}", ""]
    path = tmp_path / "untimed.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_transcript(path, "text")


def test_untimed_transcript_gets_chapters_without_invented_times(tmp_path):
    """A ``text`` transcript without markers: chapters numbered by position, titled by topic,
    with no clock time anywhere (issue: "Part 1 (0:00–4:01)" for a transcript with no times)."""
    t = load_untimed_transcript(tmp_path)
    assert t.blocks == () and t.chapters == ()
    chapters = auto_chapters(t, SegmentationConfig(block_s=40, min_chapter_s=40, max_chapter_s=900), use_cache=False)
    assert len(chapters) == 2
    assert [c.index for c in chapters] == [0, 1]
    assert all(c.start_s is None and c.end_s is None for c in chapters)
    assert not any(re.search(r"\d:\d\d", c.title) for c in chapters)
    assert chapters[0].char_end == chapters[1].char_start and chapters[-1].char_end == len(t.text)
    assert set(re.split(r"[, ]+", chapters[1].title)) & {"star", "galaxy", "moon", "telescope", "planet"}
    assert not set(re.split(r"[, ]+", chapters[1].title)) & {"bread", "chicken", "egg", "sauce", "dough"}
    res = compute_coverage(t, make_summary(ASTRONOMY[:2]), (), cfg(auto_segmentation={"block_s": 40, "min_chapter_s": 40}))
    assert res.segmentation == "auto" and all(c.start_s is None for c in res.chapters)


def test_transcript_sentences_cut_long_runs_and_flag_sponsors(three_topics):
    long_turn = " ".join(["word"] * 170)
    t = make_transcript([("Long", [long_turn])])
    sents = transcript_sentences(t, max_words=80)
    assert [s.words for s in sents if s.text.startswith("word")] == [80, 80, 10]
    sp = replace(three_topics, sponsor_segments=(sponsor_over(three_topics, FOOTBALL[1]),))
    flagged = [s.text for s in transcript_sentences(sp) if s.is_sponsor]
    assert flagged == [FOOTBALL[1]]


# ----------------------------------------------------------------------------------------------
# Config and registration
# ----------------------------------------------------------------------------------------------


def test_yaml_defaults_equal_dataclass_defaults():
    data = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "coverage" / "default.yaml"))
    assert CoverageConfig.from_mapping(data) == CoverageConfig()  # the lexical section is ignored


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"segmentation": "magic"}, "coverage.segmentation"),
        ({"match_threshold": 2}, "coverage.match_threshold"),
        ({"full_threshold": 0.1, "partial_threshold": 0.5}, "partial_threshold"),
        ({"key_points": {"centrality": "pagerank"}}, "centrality"),
        ({"nonsense": 1}, "nonsense"),
        ({"auto_segmentation": {"min_chapter_s": 0}}, "min_chapter_s"),
    ],
)
def test_bad_config_is_a_config_error(bad, message):
    with pytest.raises(ConfigError, match=message):
        CoverageConfig.from_mapping(bad)


def test_metric_groups_registered(three_topics):
    import harness.lexical  # noqa: F401  (registers "lexical")

    assert "coverage" in METRICS.names() and "lexical" in METRICS.names()

    inputs = MetricInputs(three_topics, make_summary(COOKING[:2]))
    object.__setattr__(inputs, "coverage_config", cfg())
    names = [m.name for m in METRICS.get("coverage")(inputs)]
    assert names[:3] == ["coverage.chapter_weighted", "coverage.time_weighted", "coverage.key_point_recall"]


# ----------------------------------------------------------------------------------------------
# Timeline
# ----------------------------------------------------------------------------------------------


def test_timeline_png_and_svg_written(three_topics, tmp_path):
    from harness.report.timeline import plot_timeline

    t = replace(three_topics, sponsor_segments=(sponsor_over(three_topics, FOOTBALL[3]),))
    summary = make_summary(COOKING[:2] + ["Stars are far away."])
    uvs = (
        verdict(COOKING[0], "supported", t, COOKING[0], "u001"),
        verdict(COOKING[1], "partially_supported", t, COOKING[1], "u002"),
        verdict("Stars are far away.", "unsupported", t, ASTRONOMY[3], "u003"),
    )
    res = compute_coverage(t, summary, uvs, cfg())
    paths = plot_timeline(t, summary, uvs, res, tmp_path / "run", stem="timeline")
    assert [p.name for p in paths] == ["timeline.png", "timeline.svg"]
    png, svg = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    assert b"<svg" in svg and b"sponsor" in svg and b"chapter coverage" in svg
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]
    # without verdicts: units drawn at their similarity location, and the figure says so
    res0 = compute_coverage(t, summary, (), cfg())
    p0 = plot_timeline(t, summary, (), res0, tmp_path / "run0", formats=("svg",))
    assert b"alignment did not run" in p0[0].read_bytes()


# ----------------------------------------------------------------------------------------------
# The references
# ----------------------------------------------------------------------------------------------


def test_reference_summify_covers_more_than_wiki(reference_transcript):
    results = {}
    for name in ("summify", "wiki"):
        summary = load_summary(SUMMARIES[name], name, FormatOptions())
        results[name] = compute_coverage(reference_transcript, summary, (), None)
    s, w = results["summify"], results["wiki"]
    assert len(s.chapters) == 18 and all(c.excluded is None for c in s.chapters)
    assert sum(c.key_points for c in s.chapters) == 49
    assert s.metric("chapter_weighted") > w.metric("chapter_weighted") + 0.2
    assert s.metric("time_weighted") > w.metric("time_weighted")
    assert s.metric("key_point_recall") > w.metric("key_point_recall")
    assert len(w.missed_chapters) > len(s.missed_chapters)
    # no key point comes from the sponsor reads (Cash App, bitcoin)
    assert not any(reference_transcript.sponsor_overlap(k.char_start, k.char_end) > 0 for k in s.key_points)
