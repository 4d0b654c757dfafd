"""Text helpers shared by the flag detectors: words, string similarity, a phonetic skeleton,
clock labels, and ``Evidence`` built from a span of the transcript.

Everything here is deterministic and model-free; the detectors that need spaCy or MiniLM load
them through ``harness.models``.
"""

from __future__ import annotations

import functools
import re

from harness.transcript import format_clock
from harness.types import Evidence, Transcript

WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*[A-Za-z0-9]|[A-Za-z0-9]")
_LETTERS = re.compile(r"[a-z]+")


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English stop words (spaCy's list; spaCy is a hard dependency of the harness)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def norm_word(word: str) -> str:
    """Lower-case form of a word for presence checks: possessive ``'s`` and a plural ``s``
    removed, curly apostrophes straightened (``Transformers`` → ``transformer``)."""
    w = word.lower().replace("’", "'").strip("'-")
    if w.endswith("'s"):
        w = w[:-2]
    elif w.endswith("'"):
        w = w[:-1]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


def word_set(text: str) -> set[str]:
    """Normalised words of ``text``; hyphenated words also contribute their parts."""
    out: set[str] = set()
    for m in WORD.finditer(text):
        w = m.group(0)
        out.add(norm_word(w))
        if "-" in w:
            out.update(norm_word(p) for p in w.split("-") if p)
    return out


def content_words(text: str) -> list[str]:
    """Normalised words of ``text`` that carry content (stop words and 1-letter words dropped)."""
    stop = stop_words()
    out = []
    for m in WORD.finditer(text):
        for part in m.group(0).split("-"):
            w = norm_word(part)
            if len(w) > 1 and w not in stop and not w.isdigit():
                out.append(w)
    return out


def levenshtein(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment): insertions,
    deletions, substitutions and swaps of two neighbouring letters ("GTP" → "GPT") cost 1."""
    if a == b:
        return 0
    if not a or not b:
        return max(len(a), len(b))
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def similarity(a: str, b: str) -> float:
    """``1 - edit distance / longer length`` on lower-cased strings, in [0, 1]."""
    a, b = a.lower(), b.lower()
    if not a and not b:
        return 1.0
    return 1.0 - levenshtein(a, b) / max(len(a), len(b))


# Consonant classes of the skeleton: letters that auto-captions and spellers confuse map to one
# symbol (d/t, b/p, f/v/w, s/z, c/k/q/g-hard), vowels, ``h`` and ``y`` are dropped and repeats
# collapse. It is a small Metaphone-like key, written here so the harness needs no extra package.
_CLASS = {
    "b": "p", "p": "p", "d": "t", "t": "t", "f": "f", "v": "f", "w": "f",
    "s": "s", "z": "s", "x": "s", "k": "k", "q": "k", "g": "k", "c": "k",
    "j": "j", "l": "l", "m": "m", "n": "n", "r": "r",
}


def skeleton(word: str) -> str:
    """Phonetic consonant skeleton of a word or name (spaces and punctuation ignored).

    >>> skeleton("Krazewski") == skeleton("Krizhevsky"), skeleton("elias discover") == skeleton("Ilya Sutskever")
    (True, True)
    >>> skeleton("Geoffrey"), skeleton("Jeff")
    ('jfr', 'jf')
    """
    w = "".join(_LETTERS.findall(word.lower()))
    w = w.replace("ph", "f").replace("ck", "k").replace("sch", "s").replace("sh", "s")
    out: list[str] = []
    for i, ch in enumerate(w):
        nxt = w[i + 1] if i + 1 < len(w) else ""
        if ch == "g" and nxt in ("e", "i", "y") and i == 0:
            code = "j"  # soft g at the start of a name: Geoff ~ Jeff
        elif ch == "c" and nxt in ("e", "i", "y"):
            code = "s"
        else:
            code = _CLASS.get(ch, "")
        if code and (not out or out[-1] != code):
            out.append(code)
        elif not code and out and out[-1] != "_":
            out.append("_")  # a vowel between two equal consonants keeps both ("kk" in "kick")
    return "".join(out).replace("_", "")


def clock(seconds: float | None) -> str:
    """``m:ss`` / ``h:mm:ss`` of a time, ``?`` when unknown."""
    return format_clock(seconds) or "?"


def shorten(text: str, max_words: int = 12) -> str:
    """The first ``max_words`` words of ``text``, with ``…`` when cut."""
    words = text.split()
    return " ".join(words) if len(words) <= max_words else " ".join(words[:max_words]) + "…"


def evidence_from_span(
    transcript: Transcript,
    char_start: int,
    char_end: int,
    *,
    score: float,
    is_sponsor: bool | None = None,
    max_words: int = 40,
) -> Evidence:
    """An ``Evidence`` for ``transcript.text[char_start:char_end]`` (cut to ``max_words`` words),
    with time, block label, speaker and chapter looked up in the transcript."""
    text = transcript.text[char_start:char_end]
    words = list(re.finditer(r"\S+", text))
    if len(words) > max_words:
        char_end = char_start + words[max_words - 1].end()
        text = transcript.text[char_start:char_end]
    block = transcript.block_at(char_start)
    speaker = None
    chapter = None
    for seg in transcript.segments:
        if seg.char_start <= char_start < max(seg.char_end, seg.char_start + 1):
            speaker = seg.speaker
            if seg.chapter_index is not None and seg.chapter_index < len(transcript.chapters):
                chapter = transcript.chapters[seg.chapter_index].title
            break
    url = None
    if block is not None and block.url:
        url = block.url
    if is_sponsor is None:
        is_sponsor = transcript.sponsor_overlap(char_start, char_end) > 0
    return Evidence(
        start_s=transcript.time_at(char_start),
        end_s=transcript.time_at(char_end),
        timestamp=block.label if block else None,
        url=url,
        speaker=speaker,
        chapter=chapter,
        quote=" ".join(text.split()),
        score=round(float(score), 4),
        is_sponsor=bool(is_sponsor),
        char_start=char_start,
        char_end=char_end,
    )


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of ``text`` shifted by ``offset`` (the parsers' rule-based splitter)."""
    from harness.formats.base import split_sentences

    return [(offset + s, offset + e) for s, e in split_sentences(text)]


def quoted(text: str, max_words: int = 12) -> str:
    """``text`` shortened and put in curly quotes."""
    return f"“{shorten(text, max_words)}”"
