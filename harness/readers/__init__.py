"""Transcript readers, one module per format; importing this package registers them all.

Each module registers a reader in ``TRANSCRIPT_READERS`` and a content sniffer in
``TRANSCRIPT_SNIFFERS`` (``harness.readers.base``; the sniffers serve ``transcript.format=auto``):

* ``transcript_page`` (``harness.readers.page``): a podcast site's transcript page — speaker
  names before ``[(HH:MM:SS)](link)`` paragraph timestamps, ``## `` chapter headings (which may
  fall inside a turn), a "Table of Contents" list, a page header and footer kept as non-content.
* ``webvtt`` and ``srt`` (``harness.readers.captions``): caption files, cues merged into
  sentences, rolling auto-caption repeats dropped.
* ``whisper_json`` (``harness.readers.whisper``): Whisper / WhisperX JSON output.
* ``text`` (``harness.readers.text``): plain text with ``[hh:mm:ss]`` / ``(mm:ss)`` markers and
  ``Name:`` labels, or with no times at all.

* ``markdown_blog`` (``harness.readers.markdown_blog``): the reference layout, a Markdown blog
  post with ``[m:ss](link)`` timestamp lines and ``**Speaker:**`` turns.

Shared pieces: ``readers.base`` (the registries), ``readers._build`` (one ``Transcript`` model
from raw turns, blocks and chapters), ``readers._cues`` (caption cues to sentences) and
``readers.chapters`` (chapter lists). No reader imports ``harness.transcript``: that module
imports this package to dispatch to the readers.
"""

from harness.readers import captions, markdown_blog, page, text, whisper  # noqa: F401

__all__ = ["captions", "markdown_blog", "page", "text", "whisper"]
