"""Transcript readers, one module per format; importing this package registers them all.

Each module registers a reader in ``harness.transcript.TRANSCRIPT_READERS`` and a content sniffer
in ``harness.transcript.TRANSCRIPT_SNIFFERS`` (used by ``transcript.format=auto``):

* ``transcript_page`` (``harness.readers.page``): a podcast site's transcript page — speaker
  names before ``[(HH:MM:SS)](link)`` paragraph timestamps, ``## `` chapter headings (which may
  fall inside a turn), a "Table of Contents" list, a page header and footer kept as non-content.
* ``webvtt`` and ``srt`` (``harness.readers.captions``): caption files, cues merged into
  sentences, rolling auto-caption repeats dropped.
* ``whisper_json`` (``harness.readers.whisper``): Whisper / WhisperX JSON output.
* ``text`` (``harness.readers.text``): plain text with ``[hh:mm:ss]`` / ``(mm:ss)`` markers and
  ``Name:`` labels, or with no times at all.

The reference layout, ``markdown_blog``, lives in ``harness.transcript`` itself.
"""

from harness.readers import captions, page, text, whisper  # noqa: F401

__all__ = ["captions", "page", "text", "whisper"]
