"""Where the episode's video is, so evidence timestamps can link to the moment they quote.

A transcript page links its timestamps to the video itself; a caption file or plain text does
not. The video link is then taken, in this order, from the ``transcript.video_url`` config value,
the transcript (its own timestamp links, or a YouTube link in a caption file's header or
``NOTE`` lines), or the summary's front matter (``videoId: …``, ``youtube: https://…``).
"""

from __future__ import annotations

import re
from typing import Sequence

_ID = r"[A-Za-z0-9_-]{11}"
_YOUTUBE = re.compile(
    r"https?://(?:www\.|m\.)?(?:youtube\.com/(?:watch\?(?:[^\s\"'<>)\]]*?&)?v=|embed/|live/|shorts/)|youtu\.be/)"
    rf"(?P<id>{_ID})(?![A-Za-z0-9_-])"
)
_ID_KEY = re.compile(rf"^\s*(?:video_?id|youtube_?id|yt_?id)\s*[:=]\s*[\"']?(?P<id>{_ID})[\"']?\s*$", re.I)
_HEADER_LINES = 20


def youtube_url(video_id: str) -> str:
    """The watch link of a YouTube video id."""
    return f"https://www.youtube.com/watch?v={video_id}"


def find_youtube_url(text: str) -> str | None:
    """The first YouTube video link in ``text``, as a plain watch link (time parameter dropped)."""
    m = _YOUTUBE.search(text)
    return youtube_url(m.group("id")) if m else None


def _front_matter(lines: Sequence[str]) -> list[str]:
    if not lines or lines[0].strip() not in ("---", "+++"):
        return []
    fence = lines[0].strip()
    for i in range(1, min(len(lines), 200)):
        if lines[i].strip() == fence:
            return list(lines[1:i])
    return []


def summary_video_url(text: str) -> str | None:
    """A video link from a summary's front matter: a ``videoId``-style key or a YouTube link."""
    block = _front_matter(text.splitlines())
    for line in block:
        m = _ID_KEY.match(line)
        if m:
            return youtube_url(m.group("id"))
    return find_youtube_url("\n".join(block))


def caption_video_url(text: str) -> str | None:
    """A YouTube link in a caption or text transcript's header (its first lines) or its
    WebVTT ``NOTE`` lines; links said inside the conversation are not taken."""
    lines = text.splitlines()
    header = lines[:_HEADER_LINES] + [ln for ln in lines if ln.startswith("NOTE")]
    return find_youtube_url("\n".join(header))


def time_url(video_url: str | None, seconds: float | None) -> str | None:
    """A link to second ``seconds`` of the video (``t=N``); ``None`` without both."""
    if not video_url or seconds is None:
        return None
    sep = "&" if "?" in video_url else "?"
    return f"{video_url}{sep}t={int(seconds)}"


def resolve_video_url(
    configured: str | None, transcript_url: str | None, transcript_text: str, summary_text: str
) -> tuple[str | None, str | None]:
    """(video link, where it came from: ``config``, ``transcript``, ``summary`` or ``None``)."""
    if configured:
        return str(configured), "config"
    if transcript_url:
        return transcript_url, "transcript"
    found = caption_video_url(transcript_text)
    if found:
        return found, "transcript"
    found = summary_video_url(summary_text)
    if found:
        return found, "summary"
    return None, None
