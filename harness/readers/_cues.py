"""Caption cues → sentences → paragraphs: the shared back end of the WebVTT, SRT and Whisper
JSON readers.

Caption files cut speech into short cues with no regard for sentences (Whisper ends a cue in the
middle of one), and YouTube's auto-captions repeat the previous line at the top of each cue
("rolling" captions) and flash the finished line again for 10 ms. This module turns cues back
into the text that was spoken:

1. **Words with times.** Each cue's text is cleaned (tags, sound annotations such as ``[Music]``
   and ``♪`` removed, entities decoded) and cut into words. A word's time comes from the word
   timings the file gives (Whisper's ``words``, WebVTT's inline ``<00:00:01.500>`` tags) or,
   where it gives none, is interpolated by character position between the cue's start and end.
2. **Repeats dropped.** A cue that opens with the words the stream already ends with (rolling
   captions) contributes only its new words; a cue that repeats the previous cue is dropped.
   A file counts as rolling when at least ``ROLLING_SHARE`` of its cue transitions overlap by
   two words or more; then one repeated word is enough, otherwise ``MIN_OVERLAP_WORDS`` are
   needed, so a cue that happens to begin with the word the last one ended on keeps it.
3. **Sentences.** The word stream is cut after sentence-final punctuation followed by a
   capital, at speaker changes, and — when the captions carry no punctuation (auto-captions) —
   at pauses of ``PAUSE_S`` or at the first cue boundary after ``UNPUNCTUATED_WORDS`` words; a
   run-on sentence is cut at a cue boundary after ``MAX_SENTENCE_WORDS`` words. A sentence's
   start is its first word's start, its end its last word's end.
4. **Paragraphs.** Sentences are grouped into paragraphs (one per line of ``Transcript.text``):
   a new paragraph at each speaker change, after a pause of ``PARAGRAPH_PAUSE_S``, or before a
   sentence that would take it past ``PARAGRAPH_WORDS`` words.

Every sentence is a timestamp block (so ``Transcript.time_at`` gives exact sentence times) and
every paragraph a segment.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Sequence

from harness.errors import InputFileError
from harness.readers._build import LABEL, RawBlock, RawTurn, accepted_labels, assemble
from harness.text import format_clock, parse_clock
from harness.types import Transcript

ROLLING_SHARE = 0.3
MIN_OVERLAP_WORDS = 3
MAX_OVERLAP_WORDS = 60
PAUSE_S = 1.5
UNPUNCTUATED_WORDS = 20
MAX_SENTENCE_WORDS = 60
PARAGRAPH_PAUSE_S = 4.0
PARAGRAPH_WORDS = 60
# Share of words that end a sentence (".", "?", "!") above which captions count as punctuated.
PUNCTUATED_SHARE = 0.01

_INLINE_TIME = re.compile(r"<((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})>")
_TAG = re.compile(r"<[^>]*>")
# Sound annotations: "[Music]", "[Applause]", "(laughs)", "♪ … ♪".
_ANNOTATION = re.compile(r"\[[^\]\n]*\]|\((?:[a-z]+(?:\s+[a-z]+){0,2})\)|♪[^♪\n]*♪|♪|♫")
_SPEAKER_CHANGE = ">>"
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")
_ABBREVIATIONS = frozenset(
    "mr. mrs. ms. dr. prof. st. jr. sr. vs. etc. e.g. i.e. u.s. no. inc. ltd. co. approx. fig.".split()
)


@dataclass
class Cue:
    """A caption cue as the file gives it.

    Attributes:
        start: start time in seconds.
        end: end time in seconds.
        text: the cue text (may hold inline ``<00:00:01.500>`` timings and tags).
        line_no: 1-based line of the cue's timing line in the file.
        speaker: a speaker the file names for the cue (WebVTT ``<v Name>``, WhisperX).
        words: word timings the file gives: ``(word, start, end, speaker)`` (times may be None).
    """

    start: float
    end: float
    text: str
    line_no: int
    speaker: str | None = None
    words: list[tuple[str, float | None, float | None, str | None]] | None = None


@dataclass
class _Word:
    text: str
    norm: str
    start: float
    end: float
    speaker: str | None
    line_no: int
    cue: int
    turn_break: bool = False  # a ">>" speaker change comes before this word


@dataclass
class _Sentence:
    words: list[_Word] = field(default_factory=list)

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return max(self.words[-1].end, self.words[-1].start)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def _norm(word: str) -> str:
    return re.sub(r"[^\w']", "", word.lower())


def _blank_out(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with every match of ``pattern`` replaced by spaces (offsets are kept)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)


def _cue_words(cue: Cue, index: int) -> list[_Word]:
    """The cue's words with start and end times (see module docstring, step 1)."""
    if cue.words:
        return _given_words(cue, index)
    raw = cue.text.replace("\r", "")
    # Split at inline timings: (time, chunk) pairs, the first chunk at the cue's start.
    chunks: list[tuple[float, str]] = []
    pos, t = 0, cue.start
    for m in _INLINE_TIME.finditer(raw):
        at = parse_clock(m.group(1), fraction=True)
        if at is None:  # an impossible time ("00:75.000"): not a timing, the tag is dropped as text
            continue
        chunks.append((t, raw[pos : m.start()]))
        t, pos = at, m.end()
    chunks.append((t, raw[pos:]))
    timed = len(chunks) > 1
    out: list[_Word] = []
    for ci, (t0, chunk) in enumerate(chunks):
        t1 = chunks[ci + 1][0] if ci + 1 < len(chunks) else cue.end
        t1 = max(t0, t1)
        clean = html.unescape(_TAG.sub("", chunk))
        clean = _blank_out(_ANNOTATION, clean)
        # With inline timings, lines above the last one repeat earlier text: they get the
        # cue's start and no duration, and the last line is spread over the chunk's time.
        spread_from = clean.rfind("\n") + 1 if (timed and ci == 0) else 0
        # the chunk's time is spread over its characters from the first word to the last
        body = clean[spread_from:]
        lo = spread_from + len(body) - len(body.lstrip())
        span = max(1, spread_from + len(body.rstrip()) - lo)
        for m in re.finditer(r"\S+", clean):
            word = m.group(0)
            if m.start() < spread_from:
                a = b = t0
            else:
                a = t0 + (t1 - t0) * (m.start() - lo) / span
                b = t0 + (t1 - t0) * (m.end() - lo) / span
            out.append(_Word(word, _norm(word), a, b, cue.speaker, cue.line_no, index))
    return _speaker_changes(out)


def _given_words(cue: Cue, index: int) -> list[_Word]:
    """Words from the file's own word timings; missing times are interpolated."""
    assert cue.words is not None
    words = [(html.unescape(_TAG.sub("", w)).strip(), a, b, sp) for w, a, b, sp in cue.words]
    words = [w for w in words if w[0] and not _ANNOTATION.fullmatch(w[0])]
    n = len(words)
    out: list[_Word] = []
    for i, (text, a, b, sp) in enumerate(words):
        guess_a = cue.start + (cue.end - cue.start) * i / max(1, n)
        guess_b = cue.start + (cue.end - cue.start) * (i + 1) / max(1, n)
        start = float(a) if a is not None else guess_a
        end = float(b) if b is not None else max(start, guess_b)
        out.append(_Word(text, _norm(text), start, end, sp or cue.speaker, cue.line_no, index))
    return _speaker_changes(out)


def _speaker_changes(words: list[_Word]) -> list[_Word]:
    """Drop ``>>`` and lone dashes, marking the next word as the start of a new turn."""
    out: list[_Word] = []
    pending = False
    for w in words:
        if w.text == _SPEAKER_CHANGE or w.text.startswith(_SPEAKER_CHANGE):
            rest = w.text[len(_SPEAKER_CHANGE) :]
            pending = True
            if not rest:
                continue
            w = _Word(rest, _norm(rest), w.start, w.end, w.speaker, w.line_no, w.cue)
        if w.text in ("-", "–", "—") and not out:
            pending = True
            continue
        if not w.norm and not re.search(r"\w", w.text):
            if out:  # punctuation on its own ("?" in auto-captions) joins the word before it
                out[-1].text += w.text
            continue
        if pending:
            w.turn_break = True
            pending = False
        out.append(w)
    return out


def _speaker_prefixes(cues: list[Cue]) -> None:
    """Take ``Name:`` at the start of cues as the speaker, when such labels recur; a cue without
    one continues the speaker before it."""
    candidates = []
    for cue in cues:
        if cue.speaker is None and not cue.words:
            m = LABEL.match(_TAG.sub("", cue.text).strip())
            if m:
                candidates.append(m.group("name").strip())
    labels = accepted_labels(candidates)
    if not labels:
        return
    current: str | None = None
    for cue in cues:
        if cue.speaker is not None or cue.words:
            current = cue.speaker
            continue
        stripped = cue.text.lstrip()
        m = LABEL.match(stripped)
        if m and m.group("name").strip() in labels:
            current = m.group("name").strip()
            cue.text = stripped[m.end() :]
        cue.speaker = current  # a cue without a label goes on with the last speaker


def _overlap(stream: Sequence[str], cue: Sequence[str], min_k: int) -> int:
    """Largest ``k >= min_k`` with ``stream[-k:] == cue[:k]`` (0 if none)."""
    top = min(len(stream), len(cue), MAX_OVERLAP_WORDS)
    for k in range(top, min_k - 1, -1):
        if k > 0 and list(stream[-k:]) == list(cue[:k]):
            return k
    return 0


def _is_rolling(per_cue: list[list[_Word]]) -> bool:
    pairs = rolling = 0
    for prev, cur in zip(per_cue, per_cue[1:]):
        if not prev or not cur:
            continue
        pairs += 1
        k = _overlap([w.norm for w in prev], [w.norm for w in cur], 1)
        if k >= 2 or (k >= 1 and k == len(cur)):
            rolling += 1
    return pairs > 0 and rolling / pairs >= ROLLING_SHARE


def _dedupe(per_cue: list[list[_Word]]) -> tuple[list[_Word], bool]:
    """The word stream without rolling repeats (step 2), and whether the file was rolling."""
    rolling = _is_rolling(per_cue)
    min_k = 1 if rolling else MIN_OVERLAP_WORDS
    stream: list[_Word] = []
    prev_norm: list[str] | None = None
    for words in per_cue:
        if not words:
            continue
        norms = [w.norm for w in words]
        if norms == prev_norm:
            continue  # the same cue again
        prev_norm = norms
        k = _overlap([w.norm for w in stream[-MAX_OVERLAP_WORDS:]], norms, min_k)
        stream.extend(words[k:])
    return stream, rolling


def _ends_sentence(word: _Word, nxt: _Word | None) -> bool:
    if not _SENTENCE_END.search(word.text):
        return False
    if word.text.lower() in _ABBREVIATIONS:
        return False
    if nxt is None:
        return True
    first = nxt.text.lstrip("\"'“‘(")
    return bool(first) and (first[0].isupper() or first[0].isdigit())


def _sentences(stream: list[_Word], punctuated: bool) -> list[_Sentence]:
    """Cut the word stream into sentences (step 3)."""
    out: list[_Sentence] = []
    cur = _Sentence()
    for i, w in enumerate(stream):
        if cur.words:
            prev = cur.words[-1]
            new_turn = w.turn_break or w.speaker != prev.speaker
            cue_boundary = w.cue != prev.cue
            long_pause = w.start - prev.end >= PAUSE_S
            if (
                new_turn
                or (not punctuated and (long_pause or (cue_boundary and len(cur.words) >= UNPUNCTUATED_WORDS)))
                or (cue_boundary and len(cur.words) >= MAX_SENTENCE_WORDS)
            ):
                out.append(cur)
                cur = _Sentence()
        cur.words.append(w)
        nxt = stream[i + 1] if i + 1 < len(stream) else None
        if punctuated and _ends_sentence(w, nxt):
            out.append(cur)
            cur = _Sentence()
    if cur.words:
        out.append(cur)
    return out


def _paragraphs(sentences: list[_Sentence]) -> list[list[_Sentence]]:
    """Group sentences into paragraphs (step 4)."""
    out: list[list[_Sentence]] = []
    words = 0
    for s in sentences:
        if out:
            last = out[-1][-1]
            first = s.words[0]
            if (
                first.turn_break
                or first.speaker != last.words[-1].speaker
                or s.start - last.end >= PARAGRAPH_PAUSE_S
                or words + len(s.words) > PARAGRAPH_WORDS
            ):
                out.append([s])
                words = len(s.words)
                continue
            out[-1].append(s)
            words += len(s.words)
        else:
            out.append([s])
            words = len(s.words)
    return out


def cues_to_transcript(
    cues: list[Cue],
    *,
    path: str,
    sha256: str,
    fmt: str,
    title: str | None = None,
    warnings: Sequence[str] = (),
) -> Transcript:
    """The ``Transcript`` for a list of cues (see module docstring).

    Raises:
        InputFileError: no cue holds any words.
    """
    warn = list(warnings)
    for i in range(1, len(cues)):
        if cues[i].start < cues[i - 1].start:
            warn.append(
                f"line {cues[i].line_no}: cue at {format_clock(cues[i].start)} starts before the cue above it "
                f"({format_clock(cues[i - 1].start)}); times near it are approximate"
            )
            break
    _speaker_prefixes(cues)
    per_cue = [_cue_words(c, i) for i, c in enumerate(cues)]
    stream, _ = _dedupe(per_cue)
    if not stream:
        raise InputFileError(path, "the captions hold no words")
    ends = sum(1 for w in stream if _SENTENCE_END.search(w.text))
    punctuated = ends / len(stream) >= PUNCTUATED_SHARE
    sentences = _sentences(stream, punctuated)
    paragraphs = _paragraphs(sentences)

    parts: list[str] = []
    pos = 0
    turns: list[RawTurn] = []
    blocks: list[RawBlock] = []
    for para in paragraphs:
        para_start = pos
        for j, s in enumerate(para):
            if j:
                parts.append(" ")
                pos += 1
            text = s.text
            blocks.append(
                RawBlock(
                    start_s=s.start,
                    label=format_clock(s.start) or "0:00",
                    url=None,
                    line_no=s.words[0].line_no,
                    char_start=pos,
                    end_s=s.end,
                    char_end=pos + len(s.text),
                )
            )
            parts.append(text)
            pos += len(text)
        turns.append(RawTurn(para[0].words[0].speaker, para_start, pos, para[0].words[0].line_no))
        parts.append("\n")
        pos += 1
    duration = max(s.end for s in sentences)
    return assemble(
        text="".join(parts),
        path=path,
        sha256=sha256,
        fmt=fmt,
        title=title,
        video_url=None,
        turns=turns,
        blocks=blocks,
        warnings=warn,
        duration_s=duration,
    )


def timing_line_numbers(text: str) -> list[int]:
    """1-based numbers of the lines holding ``-->`` (cue timing lines), in order."""
    return [i for i, line in enumerate(text.splitlines(), start=1) if "-->" in line]
