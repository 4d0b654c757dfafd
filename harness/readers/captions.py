"""The ``webvtt`` and ``srt`` readers: caption files, parsed with ``webvtt-py`` and ``srt``.

Cues are merged into sentences and paragraphs by ``harness.readers._cues`` (rolling
auto-caption repeats dropped, sentence times kept). Speakers come from WebVTT voice tags
(``<v Name>``) or from ``Name:`` prefixes that recur across cues; ``>>`` marks a change of
speaker. Captions have no chapters (give a chapter list with ``transcript.chapters=FILE``).
"""

from __future__ import annotations

import io
import re

from harness.errors import InputFileError
from harness.readers._cues import Cue, cues_to_transcript, timing_line_numbers
from harness.readers.base import TRANSCRIPT_READERS, register_sniffer
from harness.types import Transcript

_SRT_START = re.compile(r"\A\s*\d+[ \t]*\r?\n[ \t]*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->[ \t]*\d{1,2}:\d{2}:\d{2}[,.]\d{1,3}")
_SRT_TIMING = re.compile(r"^[ \t]*\d{1,2}:\d{2}:\d{2},\d{1,3}[ \t]*-->[ \t]*\d{1,2}:\d{2}:\d{2},\d{1,3}", re.M)


def _ms(ts: object) -> float:
    """Seconds of a ``webvtt`` timestamp, milliseconds included."""
    return ts.in_milliseconds() / 1000.0  # type: ignore[attr-defined]


@register_sniffer("webvtt")
def sniff_webvtt(text: str) -> float:
    """3 for a file that opens with the ``WEBVTT`` signature, else 0."""
    return 3.0 if text.lstrip("\ufeff \t\r\n").startswith("WEBVTT") else 0.0


@register_sniffer("srt")
def sniff_srt(text: str) -> float:
    """3 for a file that opens with a numbered cue and an ``hh:mm:ss,mmm --> …`` timing line;
    2 for ``hh:mm:ss,mmm -->`` timing lines without the numbering; else 0."""
    if text.lstrip().startswith("WEBVTT"):
        return 0.0
    if _SRT_START.match(text):
        return 3.0
    return 2.0 if len(_SRT_TIMING.findall(text)) >= 2 else 0.0


@TRANSCRIPT_READERS.register("webvtt")
def read_webvtt(text: str, path: str, sha256: str) -> Transcript:
    """Parse a WebVTT file (YouTube auto-captions, Whisper ``.vtt`` output, human captions).

    Raises:
        InputFileError: the file is not valid WebVTT or holds no words.
    """
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    try:
        captions = webvtt.WebVTT.from_buffer(io.StringIO(text)).captions
    except (MalformedFileError, MalformedCaptionError, ValueError) as exc:
        raise InputFileError(path, f"not a valid WebVTT file: {exc}") from None
    lines = timing_line_numbers(text)
    cues = []
    for i, c in enumerate(captions):
        raw = re.sub(r"<v(?:\.[\w.]+)?[ \t]+[^>]*>|</v>", "", c.raw_text)
        cues.append(
            Cue(
                start=_ms(c.start_time),
                end=_ms(c.end_time),
                text=raw,
                line_no=lines[i] if i < len(lines) else 1,
                speaker=(c.voice or "").strip() or None,
            )
        )
    if not cues:
        raise InputFileError(path, "the WebVTT file holds no cues")
    return cues_to_transcript(cues, path=path, sha256=sha256, fmt="webvtt")


@TRANSCRIPT_READERS.register("srt")
def read_srt(text: str, path: str, sha256: str) -> Transcript:
    """Parse a SubRip (``.srt``) file.

    Raises:
        InputFileError: the file is not valid SRT or holds no words.
    """
    import srt

    try:
        subtitles = list(srt.parse(text))
    except (srt.SRTParseError, ValueError) as exc:
        raise InputFileError(path, f"not a valid SRT file: {str(exc).splitlines()[0]}") from None
    lines = timing_line_numbers(text)
    cues = [
        Cue(
            start=s.start.total_seconds(),
            end=s.end.total_seconds(),
            text=s.content,
            line_no=lines[i] if i < len(lines) else 1,
        )
        for i, s in enumerate(subtitles)
    ]
    if not cues:
        raise InputFileError(path, "the SRT file holds no cues")
    return cues_to_transcript(cues, path=path, sha256=sha256, fmt="srt")
