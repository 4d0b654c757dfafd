"""The timeline figure of a transcript without timestamps: an axis of words, not invented
minutes, with every claim drawn (issue: a 1:46 time axis for a 1:36 episode, and no dots)."""

from __future__ import annotations

import re

from test_coverage import ASTRONOMY, COOKING, cfg, load_untimed_transcript, make_summary, make_transcript, verdict

from harness.coverage import compute_coverage
from harness.report.timeline import plot_timeline
from harness.readers.chapters import with_chapters
from harness.segmentation import SegmentationConfig, auto_chapters


def _points(svg: str) -> int:
    """Markers drawn by scatter: the ``<use`` elements of the ``PathCollection`` groups (a chunk
    of the SVG runs from one ``<g id=`` to the next; text glyphs live in ``text_*`` groups)."""
    chunks = svg.split('<g id="')
    return sum(c.count("<use ") for c in chunks if c.startswith("PathCollection_"))


def _untimed(tmp_path):
    t = load_untimed_transcript(tmp_path)
    chapters = auto_chapters(t, SegmentationConfig(block_s=40, min_chapter_s=40), use_cache=False)
    return with_chapters(t, chapters, "auto")


def test_untimed_timeline_uses_word_position_and_plots_every_claim(tmp_path):
    t = _untimed(tmp_path)
    assert t.blocks == () and len(t.chapters) == 2
    summary = make_summary([COOKING[0], ASTRONOMY[1], "Stars are far away."])
    uvs = (
        verdict(COOKING[0], "supported", t, COOKING[0], "u001"),
        verdict(ASTRONOMY[1], "partially_supported", t, ASTRONOMY[1], "u002"),
        verdict("Stars are far away.", "unsupported", t, ASTRONOMY[3], "u003"),
    )
    assert all(v.evidence[0].start_s is None for uv in uvs for v in uv.claims)
    res = compute_coverage(t, summary, uvs, cfg(auto_segmentation={"block_s": 40, "min_chapter_s": 40}))
    (svg_path,) = plot_timeline(t, summary, uvs, res, tmp_path / "run", formats=("svg",))
    svg = svg_path.read_text(encoding="utf-8")
    assert "position in transcript (words)" in svg
    assert "episode time" not in svg and "without evidence" not in svg
    assert _points(svg) == 3  # every claim is a dot
    assert "claims:" in svg  # the key counts claims, and says so
    # no invented clock time anywhere in the figure's text
    texts = " ".join(re.findall(r"<!-- (.*?) -->", svg))
    assert not re.search(r"\b\d+:\d\d\b", texts)
    # without verdicts: each unit at its most similar sentence, still by word position
    res0 = compute_coverage(t, summary, (), cfg(auto_segmentation={"block_s": 40, "min_chapter_s": 40}))
    (svg0,) = plot_timeline(t, summary, (), res0, tmp_path / "run0", formats=("svg",))
    assert _points(svg0.read_text(encoding="utf-8")) == 3


def test_timed_timeline_keeps_the_time_axis(tmp_path):
    t = make_transcript([("Cooking", COOKING), ("Astronomy", ASTRONOMY)])
    summary = make_summary([COOKING[0]])
    uvs = (verdict(COOKING[0], "supported", t, COOKING[0], "u001"),)
    (svg_path,) = plot_timeline(t, summary, uvs, None, tmp_path, formats=("svg",))
    svg = svg_path.read_text(encoding="utf-8")
    assert "episode time" in svg and "position in transcript" not in svg
    assert _points(svg) == 1


def test_same_inputs_give_the_same_svg_bytes(tmp_path):
    """matplotlib names clip paths with random ids unless ``svg.hashsalt`` is set: without the
    salt two drawings of one run differ, and so does the report.html that embeds them."""
    t = make_transcript([("Cooking", COOKING), ("Astronomy", ASTRONOMY)])
    summary = make_summary([COOKING[0]])
    uvs = (verdict(COOKING[0], "supported", t, COOKING[0], "u001"),)
    (first,) = plot_timeline(t, summary, uvs, None, tmp_path / "a", formats=("svg",))
    (second,) = plot_timeline(t, summary, uvs, None, tmp_path / "b", formats=("svg",))
    assert 'clip-path="url(#' in first.read_text(encoding="utf-8")
    assert first.read_bytes() == second.read_bytes()
