"""The ``whisper_json`` reader: Whisper's JSON output (openai-whisper, faster-whisper, WhisperX).

The file is an object with a ``segments`` list (or the list itself); each segment has ``start``,
``end`` and ``text``, optionally ``speaker`` (WhisperX diarization) and ``words`` (``word``,
``start``, ``end``, optional ``speaker``). Whisper's segments end in the middle of sentences, so
they are merged into sentences and paragraphs like caption cues (``harness.readers._cues``).
"""

from __future__ import annotations

import json
from typing import Any

from harness.errors import InputFileError
from harness.readers._cues import Cue, cues_to_transcript
from harness.readers.base import TRANSCRIPT_READERS, register_sniffer
from harness.types import Transcript

FORMAT = "whisper_json"


def _segments(data: Any) -> list[Any] | None:
    segs = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(segs, list) or not segs:
        return None
    if not all(isinstance(s, dict) and "start" in s and "end" in s and "text" in s for s in segs):
        return None
    return segs


@register_sniffer(FORMAT)
def sniff_whisper_json(text: str) -> float:
    """3 for JSON holding Whisper segments (``start``, ``end``, ``text``), else 0."""
    head = text.lstrip()
    if not head.startswith(("{", "[")):
        return 0.0
    try:
        return 3.0 if _segments(json.loads(text)) is not None else 0.0
    except ValueError:
        return 0.0


def _number(value: Any, what: str, path: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputFileError(path, f"{what}: {value!r} is not a number of seconds") from None


@TRANSCRIPT_READERS.register(FORMAT)
def read_whisper_json(text: str, path: str, sha256: str) -> Transcript:
    """Parse Whisper JSON output.

    Raises:
        InputFileError: not JSON, no ``segments`` with ``start``/``end``/``text``, a time that is
            not a number, or no words at all.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputFileError(path, f"not valid JSON: {exc}") from None
    segs = _segments(data)
    if segs is None:
        raise InputFileError(
            path, "does not look like Whisper JSON: expected a 'segments' list of {start, end, text} objects"
        )
    cues = []
    search_from = 0
    line_no = 1
    for i, seg in enumerate(segs):
        start = _number(seg["start"], f"segment {i} start", path)
        end = _number(seg["end"], f"segment {i} end", path)
        seg_text = str(seg.get("text") or "")
        # The segment's line in the file: where its text is written (best effort).
        for form in (json.dumps(seg_text, ensure_ascii=False), json.dumps(seg_text)):
            at = text.find(form, search_from)
            if at >= 0:
                line_no = text.count("\n", 0, at) + 1
                search_from = at + len(form)
                break
        words = None
        raw_words = seg.get("words")
        if isinstance(raw_words, list) and raw_words:
            words = []
            for w in raw_words:
                if not isinstance(w, dict):
                    continue
                token = str(w.get("word", w.get("text", "")))
                a = w.get("start")
                b = w.get("end")
                words.append(
                    (
                        token,
                        None if a is None else _number(a, f"segment {i} word start", path),
                        None if b is None else _number(b, f"segment {i} word end", path),
                        str(w["speaker"]) if w.get("speaker") else None,
                    )
                )
        speaker = seg.get("speaker")
        cues.append(
            Cue(
                start=start,
                end=max(start, end),
                text=seg_text,
                line_no=line_no,
                speaker=str(speaker) if speaker else None,
                words=words or None,
            )
        )
    return cues_to_transcript(cues, path=path, sha256=sha256, fmt=FORMAT)
