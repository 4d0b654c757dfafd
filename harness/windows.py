"""Retrieval windows and their BM25 index: how the transcript is cut into overlapping,
sentence-aligned passages of consecutive turns (``align.window``), built once per transcript by
the ``Episode`` (``harness.episode``) and searched by ``harness.align``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from harness.errors import ConfigError
from harness.stage_config import WindowConfig
from harness.text import stem, stop_words
from harness.types import Transcript, Window

_WORD_RE = re.compile(r"\S+")


@dataclass(frozen=True)
class Piece:
    """A turn, or a sentence-aligned part of a long turn: the unit windows are built from.

    ``words`` are the raw spans (offsets in ``Transcript.text``) of the piece's words;
    ``sentences`` are word-index ranges ``[a, b)`` into ``words``.
    """

    segment_index: int
    speaker: str | None
    chapter_index: int | None
    timestamp: str | None
    text: str
    char_start: int
    char_end: int
    start_s: float | None
    end_s: float | None
    words: tuple[tuple[int, int], ...]
    sentences: tuple[tuple[int, int], ...]
    is_sponsor: bool

    @property
    def n_words(self) -> int:
        return len(self.words)


def _raw_word_spans(
    transcript: Transcript, seg_text: str, seg_char_start: int, seg_char_end: int
) -> list[tuple[int, int, int, int]]:
    """Each word of a segment as (seg_start, seg_end, raw_start, raw_end).

    The segment text equals the transcript slice for the bundled reader; for readers that
    remove markup the words are found in order in the raw text, so quotes stay verbatim.
    """
    raw = transcript.text
    out: list[tuple[int, int, int, int]] = []
    verbatim = raw[seg_char_start:seg_char_end] == seg_text
    pos = seg_char_start
    for m in _WORD_RE.finditer(seg_text):
        if verbatim:
            out.append((m.start(), m.end(), seg_char_start + m.start(), seg_char_start + m.end()))
            continue
        word = m.group()
        j = raw.find(word, pos, seg_char_end)
        length = len(word)
        if j < 0:
            core = word.strip("*_`[]()<>\"'")
            j = raw.find(core, pos, seg_char_end) if core else -1
            length = len(core)
        if j < 0:
            j, length = pos, 0  # unmappable word: keep order, give it an empty span
        out.append((m.start(), m.end(), j, j + length))
        pos = j + length
    return out


def _sentence_word_ranges(seg_text: str, word_starts: Sequence[int]) -> list[tuple[int, int]]:
    """Sentences of a segment as word-index ranges, from ``harness.chunking.split_sentences``."""
    from harness.chunking import split_sentences

    ranges: list[tuple[int, int]] = []
    w = 0
    n = len(word_starts)
    for sent in split_sentences(seg_text):
        a = w
        while w < n and word_starts[w] < sent.end:
            w += 1
        if w > a:
            ranges.append((a, w))
    if w < n:
        ranges.append((w, n))
    return ranges


def _pieces(transcript: Transcript, max_words: int, break_at_sponsors: bool) -> list[Piece]:
    pieces: list[Piece] = []
    sponsors = [(sp.char_start, sp.char_end) for sp in transcript.sponsor_segments]
    for seg in transcript.content_segments:
        words = _raw_word_spans(transcript, seg.text, seg.char_start, seg.char_end)
        if not words:
            continue
        flags = [any(a <= w[2] < b for a, b in sponsors) for w in words] if sponsors else [False] * len(words)
        # Sentence units, cut further where sponsor text starts or stops and where a single
        # sentence is longer than the cap.
        units: list[tuple[int, int]] = []
        for a, b in _sentence_word_ranges(seg.text, [w[0] for w in words]):
            cut = a
            for i in range(a + 1, b):
                if (break_at_sponsors and flags[i] != flags[i - 1]) or i - cut >= max_words:
                    units.append((cut, i))
                    cut = i
            units.append((cut, b))
        # Greedy packing of sentence units into pieces of at most max_words words.
        groups: list[list[tuple[int, int]]] = []
        for unit in units:
            if groups:
                last = groups[-1]
                size = last[-1][1] - last[0][0] + unit[1] - unit[0]
                same_kind = not break_at_sponsors or flags[unit[0]] == flags[last[0][0]]
                if size <= max_words and same_kind:
                    last.append(unit)
                    continue
            groups.append([unit])
        whole = len(groups) == 1
        for group in groups:
            a, b = group[0][0], group[-1][1]
            span_words = tuple((w[2], w[3]) for w in words[a:b])
            raw_start, raw_end = span_words[0][0], span_words[-1][1]
            if whole:
                start_s, end_s = seg.start_s, seg.end_s
            else:
                start_s = _interpolate(seg, raw_start)
                end_s = _interpolate(seg, raw_end)
            pieces.append(
                Piece(
                    segment_index=seg.index,
                    speaker=seg.speaker,
                    chapter_index=seg.chapter_index,
                    timestamp=seg.timestamp,
                    text=seg.text[words[a][0] : words[b - 1][1]],
                    char_start=raw_start,
                    char_end=raw_end,
                    start_s=start_s,
                    end_s=end_s,
                    words=span_words,
                    sentences=tuple((x - a, y - a) for x, y in group),
                    is_sponsor=transcript.sponsor_overlap(raw_start, raw_end) >= 0.5,
                )
            )
    return pieces


def _interpolate(seg: Any, offset: int) -> float | None:
    """Time of a raw offset inside a segment, in proportion to its characters."""
    if seg.start_s is None or seg.end_s is None or seg.char_end <= seg.char_start:
        return seg.start_s
    frac = min(1.0, max(0.0, (offset - seg.char_start) / (seg.char_end - seg.char_start)))
    return seg.start_s + frac * (seg.end_s - seg.start_s)


def _build(
    transcript: Transcript,
    size: int,
    stride: int,
    max_words: int,
    break_at_chapters: bool,
    break_at_sponsors: bool,
) -> tuple[tuple[Window, ...], tuple[tuple[Piece, ...], ...]]:
    if size < 1 or stride < 1 or max_words < 1:
        raise ConfigError("align.window: size_turns, stride_turns and max_words must be >= 1")
    pieces = _pieces(transcript, max_words, break_at_sponsors)
    # Runs of pieces a window may span.
    runs: list[list[Piece]] = []
    for piece in pieces:
        if runs:
            prev = runs[-1][-1]
            same = (not break_at_chapters or prev.chapter_index == piece.chapter_index) and (
                not break_at_sponsors or prev.is_sponsor == piece.is_sponsor
            )
            if same:
                runs[-1].append(piece)
                continue
        runs.append([piece])
    windows: list[Window] = []
    members: list[tuple[Piece, ...]] = []
    for run in runs:
        start = 0
        while start < len(run):
            end, words = start, 0
            while (
                end < len(run)
                and end - start < size
                and (end == start or words + run[end].n_words <= max_words)
            ):
                words += run[end].n_words
                end += 1
            chosen = tuple(run[start:end])
            members.append(chosen)
            windows.append(_window(transcript, len(windows), chosen))
            if end >= len(run):
                break
            # Never skip a piece: advance by the stride, or less when the cap made this window short.
            start += min(stride, end - start)
    return tuple(windows), tuple(members)


def _window(transcript: Transcript, index: int, pieces: Sequence[Piece]) -> Window:
    speakers: list[str] = []
    for p in pieces:
        if p.speaker is not None and p.speaker not in speakers:
            speakers.append(p.speaker)
    segs: list[int] = []
    for p in pieces:
        if p.segment_index not in segs:
            segs.append(p.segment_index)
    char_start, char_end = pieces[0].char_start, pieces[-1].char_end
    return Window(
        index=index,
        text="\n".join(p.text for p in pieces),
        segment_indices=tuple(segs),
        start_s=pieces[0].start_s,
        end_s=pieces[-1].end_s,
        timestamp=pieces[0].timestamp,
        chapter_index=pieces[0].chapter_index,
        speakers=tuple(speakers),
        char_start=char_start,
        char_end=char_end,
        is_sponsor=transcript.sponsor_overlap(char_start, char_end) >= 0.5,
    )


def build_windows(
    transcript: Transcript,
    size: int,
    stride: int,
    max_words: int,
    *,
    break_at_chapters: bool = True,
    break_at_sponsors: bool = True,
) -> tuple[Window, ...]:
    """Overlapping windows of consecutive content turns.

    Args:
        transcript: the parsed transcript (sponsor segments marked, if any).
        size: turns per window; a turn longer than ``max_words`` counts as several turns (its
            sentence-aligned pieces).
        stride: turns between window starts (``stride < size`` gives overlap).
        max_words: no window has more words than this.
        break_at_chapters: never span two chapters.
        break_at_sponsors: never mix sponsor-read text and conversation.

    Returns:
        Windows in transcript order; every content word lies in at least one window.

    Raises:
        ConfigError: a size, stride or cap below 1.
    """
    windows, _ = _build(transcript, size, stride, max_words, break_at_chapters, break_at_sponsors)
    return windows


def build_windows_and_members(
    transcript: Transcript, wc: WindowConfig
) -> tuple[tuple[Window, ...], tuple[tuple[Piece, ...], ...]]:
    """The windows of ``wc`` (``align.window``) and, per window, the pieces it is made of (for the Episode)."""
    return _build(transcript, wc.size_turns, wc.stride_turns, wc.max_words, wc.break_at_chapters, wc.break_at_sponsors)


# ----------------------------------------------------------------------------------------------
# BM25
# ----------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def bm25_tokens(text: str) -> list[str]:
    """Lower-cased, stop words removed, stemmed tokens (the BM25 vocabulary)."""
    stop = stop_words()
    return [stem(t) for t in _TOKEN_RE.findall(text.lower()) if t not in stop]


def bm25_index(windows: Sequence[Window]) -> Any:
    """A ``bm25s.BM25`` index of the windows' ``bm25_tokens`` (``None`` without windows)."""
    if not windows:
        return None
    import bm25s

    index = bm25s.BM25()
    index.index([bm25_tokens(w.text) for w in windows], show_progress=False)
    return index
