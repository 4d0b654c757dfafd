"""The transcript-reader plug point: the registries every reader module adds itself to.

A reader is registered by name in ``TRANSCRIPT_READERS`` (picked by ``transcript.format``) and
its content sniffer in ``TRANSCRIPT_SNIFFERS`` (used by ``transcript.format=auto``). The reader
modules import this module, never ``harness.transcript``, which imports them: the dependency
runs one way, ``transcript`` → ``readers``.
"""

from __future__ import annotations

from typing import Callable

from harness.registry import Registry
from harness.types import Transcript

TranscriptReader = Callable[[str, str, str], Transcript]
"""A reader takes (text, path, sha256) and returns a ``Transcript`` without sponsor segments."""

TRANSCRIPT_READERS: Registry[TranscriptReader] = Registry("transcript format")

TranscriptSniffer = Callable[[str], float]
"""A sniffer rates how surely a text is in its reader's format: 0 = not this format, 0.5 = any
text (the plain-text fallback), 1 = generic markers (``[mm:ss]``, ``Name:``), 2 = the layout's
own markers, 3 = a signature only this format has (``WEBVTT`` header, SRT cue numbering,
Whisper's JSON structure)."""

TRANSCRIPT_SNIFFERS: dict[str, TranscriptSniffer] = {}


def register_sniffer(name: str) -> Callable[[TranscriptSniffer], TranscriptSniffer]:
    """Decorator that registers the content sniffer of the reader ``name``."""

    def decorator(fn: TranscriptSniffer) -> TranscriptSniffer:
        if name in TRANSCRIPT_SNIFFERS:
            raise ValueError(f"transcript sniffer {name!r} is registered twice")
        TRANSCRIPT_SNIFFERS[name] = fn
        return fn

    return decorator
