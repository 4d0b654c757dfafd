"""Text helpers of the flag detectors: a phonetic skeleton of names and short quotes for messages.

Words, stop words, sentence spans, clock labels and edit distance come from ``harness.text``;
speakers and the ``Evidence`` of a transcript span from ``harness.transcript_lookup``.
Everything here is deterministic and model-free; the detectors that need spaCy or MiniLM load
them through ``harness.models``.
"""

from __future__ import annotations

import re

_LETTERS = re.compile(r"[a-z]+")

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


def shorten(text: str, max_words: int = 12) -> str:
    """The first ``max_words`` words of ``text``, with ``…`` when cut."""
    words = text.split()
    return " ".join(words) if len(words) <= max_words else " ".join(words[:max_words]) + "…"


def quoted(text: str, max_words: int = 12) -> str:
    """``text`` shortened and put in curly quotes."""
    return f"“{shorten(text, max_words)}”"
