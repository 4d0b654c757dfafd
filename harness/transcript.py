"""Parse stage, transcript side: a transcript file → ``Transcript`` (chapters, blocks, turns).

This module is the dispatch: ``load_transcript`` reads the file, picks the reader registered as
``transcript.format`` in ``TRANSCRIPT_READERS`` (``transcript.format=auto`` picks one by content,
``detect_format``) and applies a chapter list if one is given. The readers live in
``harness.readers``, one module per format, and register themselves there (``readers.base``):

* ``markdown_blog`` (``harness.readers.markdown_blog``): the reference layout;
* ``transcript_page``, ``webvtt``, ``srt``, ``whisper_json`` and ``text``.

Every reader has a sniffer in ``TRANSCRIPT_SNIFFERS`` that rates how surely a text is in its
format; the best rating wins, and a tie is an error that names the candidates.

Chapters come from the transcript's own headings, or from a chapter list the user gives
(``transcript.chapters=FILE``, YouTube-description lines such as ``1:02:30 Meaning of life``;
``apply_chapter_list``, built on ``harness.readers.chapters``), which replaces them;
``Transcript.chapter_source`` records which.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import harness.readers  # noqa: F401  (registers every bundled reader and sniffer)
from harness.errors import InputFileError
from harness.readers.base import TRANSCRIPT_READERS, TRANSCRIPT_SNIFFERS, TranscriptReader, TranscriptSniffer, register_sniffer
from harness.readers.chapters import parse_chapter_list, place_chapters, with_chapters
from harness.readers.text import untimed_text_problem
from harness.textio import read_text_file
from harness.types import Transcript

__all__ = [
    "AUTO_FORMAT", "TRANSCRIPT_READERS", "TRANSCRIPT_SNIFFERS", "TranscriptReader", "TranscriptSniffer",
    "apply_chapter_list", "detect_format", "load_transcript", "register_sniffer",
]

log = logging.getLogger(__name__)

AUTO_FORMAT = "auto"


def detect_format(text: str, path: str = "<text>") -> str:
    """The reader whose sniffer rates ``text`` highest (see ``TranscriptSniffer``).

    Raises:
        InputFileError: no reader recognises the text, or several share the best rating
            (the message names them, so the user can set ``transcript.format``).
    """
    scores = {name: float(sniff(text)) for name, sniff in sorted(TRANSCRIPT_SNIFFERS.items())}
    best = max(scores.values(), default=0.0)
    if best <= 0:
        why = untimed_text_problem(text) if text.strip() else "the file holds no text"
        raise InputFileError(
            path,
            f"no transcript format fits ({', '.join(sorted(scores))}): {why}; "
            "set transcript.format=text to read it as plain text anyway",
        )
    top = [name for name, score in scores.items() if score == best]
    if len(top) > 1:
        raise InputFileError(
            path,
            f"ambiguous transcript format: it could be {' or '.join(top)}; "
            f"set transcript.format to one of them",
        )
    return top[0]


def apply_chapter_list(transcript: Transcript, chapters_path: str | Path, *, max_bytes: int = 5_000_000) -> Transcript:
    """``transcript`` with the chapters of the list file ``chapters_path`` (source ``file``);
    they replace the transcript's own chapters (a warning says so).

    Raises:
        InputFileError: the list is unreadable, has no chapter line, is out of order, or the
            transcript has no timestamps to place it by.
    """
    source = read_text_file(chapters_path, max_bytes=max_bytes)
    entries = parse_chapter_list(source.text, str(chapters_path))
    chapters, warnings = place_chapters(transcript, entries, origin=str(chapters_path))
    if transcript.chapters:
        warnings.insert(
            0,
            f"the chapter list {chapters_path} replaces the {len(transcript.chapters)} chapters "
            f"found in the transcript",
        )
    updated = with_chapters(transcript, chapters, "file")
    return replace(updated, warnings=transcript.warnings + tuple(warnings))


def load_transcript(
    path: str | Path,
    fmt: str = "markdown_blog",
    *,
    max_bytes: int = 5_000_000,
    chapters: str | Path | None = None,
) -> Transcript:
    """Read and parse a transcript file with the reader registered as ``fmt`` (``auto``: the
    reader ``detect_format`` picks), then apply the chapter list ``chapters`` if one is given.

    Sponsor segments are not detected here; ``harness.sponsors.mark_sponsors`` adds them.

    Raises:
        InputFileError: the file (or the chapter list) is unreadable or does not parse, or
            ``auto`` cannot tell the format.
        ConfigError: ``fmt`` is not a registered reader.
    """
    if fmt != AUTO_FORMAT:
        reader = TRANSCRIPT_READERS.get(fmt)
    source = read_text_file(path, max_bytes=max_bytes)
    if fmt == AUTO_FORMAT:
        fmt = detect_format(source.text, str(path))
        log.info("transcript %s: format detected as %s", path, fmt)
        reader = TRANSCRIPT_READERS.get(fmt)
    transcript = reader(source.text, str(path), source.sha256)
    if chapters:
        transcript = apply_chapter_list(transcript, chapters, max_bytes=max_bytes)
    log.info(
        "transcript %s: %d chapters (%s), %d blocks, %d turns",
        path,
        len(transcript.chapters),
        transcript.chapter_source,
        len(transcript.blocks),
        len(transcript.segments),
    )
    return transcript
