"""The video link of evidence timestamps: from the config, the transcript, or the summary's
front matter (issue: VTT evidence had no link although the summary named its videoId)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, compose
from harness.cli import execute_run
from harness.video import caption_video_url, resolve_video_url, summary_video_url, time_url

DATA = ROOT / "tests" / "data" / "transcripts"
FRONT = "---\ntitle: Lighthouses\nvideoId: dQw4w9WgXcQ\n---\n"


@pytest.mark.parametrize(
    "text, url",
    [
        (FRONT + "Body.", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("---\nvideo_id: 'dQw4w9WgXcQ'\n---\n", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("---\nyoutube: https://youtu.be/dQw4w9WgXcQ?t=42\n---\n", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("---\nsource: https://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ\n---\n", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        ("No front matter https://youtu.be/dQw4w9WgXcQ", None),  # a link in the body is not the episode
        ("---\nvideoId: short\n---\n", None),
    ],
)
def test_summary_front_matter_video_url(text, url):
    assert summary_video_url(text) == url


def test_caption_header_link_but_not_one_said_in_the_talk():
    head = "WEBVTT\nNOTE https://www.youtube.com/watch?v=dQw4w9WgXcQ\n\n00:00.000 --> 00:01.000\nHi.\n"
    assert caption_video_url(head) == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    talk = "WEBVTT\n" + "\n".join(f"00:{i:02d}.000 --> 00:{i:02d}.500\nline {i}" for i in range(30))
    assert caption_video_url(talk + "\nsee youtu.be/dQw4w9WgXcQ\n") is None


def test_resolution_order_and_time_links():
    yt = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert resolve_video_url("https://example.org/v", "https://t", "", FRONT) == ("https://example.org/v", "config")
    assert resolve_video_url(None, "https://t", "", FRONT) == ("https://t", "transcript")
    assert resolve_video_url(None, None, "WEBVTT\n", FRONT) == (yt, "summary")
    assert resolve_video_url(None, None, "", "") == (None, None)
    assert time_url(yt, 143.7) == yt + "&t=143"
    assert time_url("https://youtu.be/x", 5) == "https://youtu.be/x?t=5"
    assert time_url(None, 5) is None and time_url(yt, None) is None


def test_vtt_evidence_links_to_the_video_named_in_the_summary(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text(FRONT + "Mara Quillon is a historian of the coast.\n", encoding="utf-8")
    cfg = compose(["transcript=auto", f"transcript.path={DATA / 'whisper_split.vtt'}", "transcript.auto_chapters=false",
                   "summary=plain", f"summary.path={summary}", "stages.flags=false", "stages.timeline=false",
                   "metrics=[units]", f"align.cache_dir={tmp_path / 'cache'}"])
    report = execute_run(cfg, tmp_path / "run")
    assert report["transcript"]["video_url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    units = [json.loads(line) for line in (tmp_path / "run" / "units.jsonl").read_text(encoding="utf-8").splitlines()]
    evidence = [ev for u in units for c in u.get("claims") or [] for ev in c["evidence"]]
    assert evidence
    for ev in evidence:
        assert ev["url"] == f"https://www.youtube.com/watch?v=dQw4w9WgXcQ&t={int(ev['start_s'])}"
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    assert f'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t={int(evidence[0]["start_s"])}"' in html
    # an explicit transcript.video_url wins
    cfg2 = compose(["transcript=auto", f"transcript.path={DATA / 'whisper_split.vtt'}", "transcript.auto_chapters=false",
                    "transcript.video_url=https://example.org/ep1", "summary=plain", f"summary.path={summary}",
                    "stages.align=false", "stages.timeline=false", "report.write_html=false", "metrics=[units]"])
    assert execute_run(cfg2, tmp_path / "run2")["transcript"]["video_url"] == "https://example.org/ep1"
