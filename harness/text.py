"""The text toolkit: sentences, clock labels, words and edit distance, one function per job.

Every stage that cuts text into sentences, reads or writes a time such as ``1:02:03``, drops
stop words, stems or compares spellings uses this module, so a rule is written once:

* ``split_sentences``: rule-based sentence spans (no model). ``style="prose"`` for summary and
  transcript prose (a capital or a digit must follow the full stop, Markdown and HTML around it
  are allowed); ``style="tokenized"`` for text that may be lower-cased and tokenized
  (``"he left . she"``), where line breaks also end sentences (verifier chunks, ROUGE-Lsum).
* ``parse_clock`` / ``format_clock``: ``m:ss`` and ``h:mm:ss`` labels. Bare seconds (``"145"``)
  are read only when the caller asks (``bare_seconds=True``: a summary's citation may be one; a
  transcript's timestamp line may not), fractions only with ``fraction=True`` (captions).
* ``stop_words``, ``norm_word``, ``word_set``, ``content_words``, ``stem``: one English stop-word
  list (spaCy's), one word normalisation, one light stemmer.
* ``snowball_stem`` / ``porter_stem``: nltk's Snowball and Porter stemmers, for the two places
  that need exactly them (the offline verifier's fitted weights were learnt on Snowball stems;
  ROUGE must stem like ``rouge-score``, which uses Porter).
* ``edit_distance`` / ``edit_similarity``: optimal string alignment distance (a swap of two
  neighbouring letters costs 1), computed by ``rapidfuzz``.

Nothing here loads a model; spaCy's stop-word list is a plain word list read on first use.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
from typing import Any, Literal, overload

from harness.errors import BackendUnavailableError

# ----------------------------------------------------------------------------------------------
# Sentences
# ----------------------------------------------------------------------------------------------

SENTENCE_STYLES = ("prose", "tokenized")

# prose: a sentence may open with emphasis, a link or a wiki link ("**Bold** says…", "[[x]] is…"),
# and a citation anchor may follow the full stop ("…models. <a data-t=…>[…]</a> The…"): the split
# is made before the "<" too (``formats.base`` moves such a leading citation back to the sentence
# it ends). The capital may be Latin-1 or Cyrillic.
_PROSE_END = re.compile(
    r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?(?:\[\[|<|[\[*_]{0,2}[A-Z0-9À-ÖØ-ÞА-ЯЁ]))"
)
# Compared case-sensitively with the end of the text before a candidate split.
_PROSE_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Mrs.", "Ms.", "St.", "U.S.", "No.")

# tokenized: words after which a period does not end a sentence (compared lower-cased, without
# the period). Any case may follow, so the list is longer than the prose one.
_TOKENIZED_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st jr sr gen col lt sgt capt cmdr adm gov sen rep rev hon fr vs etc
    inc ltd co corp no nos vol fig approx est dept univ ave blvd mt ft jan feb mar apr jun jul
    aug sep sept oct nov dec e.g i.e a.m p.m u.s u.k u.n""".split()
)
_TOKENIZED_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_WORD_BEFORE = re.compile(r"(\S+)$")


def split_sentences(text: str, *, style: str = "prose", offset: int = 0) -> list[tuple[int, int]]:
    """Split text into sentences; returns ``(start, end)`` character spans, blanks excluded.

    Args:
        text: the text.
        style: ``prose`` splits after ``.``, ``!`` or ``?`` followed by whitespace and an
            upper-case letter or digit (which may follow an opening quote, bracket, emphasis
            marker, wiki link or tag), never after ``e.g.``, ``Dr.``, ``U.S.`` and the like.
            ``tokenized`` splits at every line break and after ``.``/``!``/``?`` before
            whitespace whatever follows, except after a common abbreviation or an initial
            (``J. K.``); it serves lower-cased, tokenized text and ROUGE-Lsum's sentence lines.
        offset: added to every span (the position of ``text`` in a larger text).

    Raises:
        ValueError: an unknown ``style`` (a caller bug).

    >>> t = "Dr. Ada met J. Bo. he left. So"
    >>> [t[s:e] for s, e in split_sentences(t)]
    ['Dr. Ada met J.', 'Bo. he left.', 'So']
    >>> [t[s:e] for s, e in split_sentences(t, style="tokenized")]
    ['Dr. Ada met J. Bo.', 'he left.', 'So']
    """
    if style == "prose":
        spans = _prose_spans(text)
    elif style == "tokenized":
        spans = _tokenized_spans(text)
    else:
        raise ValueError(f"unknown sentence style {style!r}; expected one of {', '.join(SENTENCE_STYLES)}")
    return [(offset + s, offset + e) for s, e in spans] if offset else spans


def _prose_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _PROSE_END.finditer(text):
        head = text[start : m.start()].rstrip()
        if any(head.endswith(abbr) for abbr in _PROSE_ABBREVIATIONS):
            continue
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [span for s, e in spans if (span := _strip_span(text, s, e))]


def _tokenized_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        line_text, base = line.group(0), line.start()
        start = 0
        for end_match in _TOKENIZED_END.finditer(line_text):
            end = end_match.end()
            if _is_abbreviation(line_text[start : end_match.start() + 1]):
                continue
            if span := _strip_span(text, base + start, base + end):
                spans.append(span)
            start = end
        if span := _strip_span(text, base + start, base + len(line_text)):
            spans.append(span)
    return spans


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``(start, end)`` narrowed to exclude surrounding whitespace; ``None`` when nothing is left."""
    seg = text[start:end]
    lead = len(seg) - len(seg.lstrip())
    trail = len(seg.rstrip())
    return (start + lead, start + trail) if trail > lead else None


def _is_abbreviation(text_before: str) -> bool:
    match = _WORD_BEFORE.search(text_before)
    if not match:
        return False
    word = match.group(1).rstrip(".!?\"'”’)]").lstrip("(\"'“‘[").lower()
    if word in _TOKENIZED_ABBREVIATIONS:
        return True
    # An initial ("J. K. Rowling") or a dotted acronym ("U.S.").
    return bool(re.fullmatch(r"(?:[a-z]\.)*[a-z]", word)) and match.group(1)[0].isupper()


# ----------------------------------------------------------------------------------------------
# Clock labels
# ----------------------------------------------------------------------------------------------

_CLOCK = re.compile(r"(\d{1,3}):(\d{1,2})(?::(\d{1,2}))?(?:[.,](\d{1,3}))?")
_BARE = re.compile(r"\d+")


@overload
def parse_clock(label: str, *, bare_seconds: bool = ..., fraction: Literal[False] = ...) -> int | None: ...


@overload
def parse_clock(label: str, *, bare_seconds: bool = ..., fraction: Literal[True]) -> float | None: ...


def parse_clock(label: str, *, bare_seconds: bool = False, fraction: bool = False) -> int | float | None:
    """Seconds of a clock label: ``m:ss`` (``"2:25"``, minutes may pass 60: ``"75:30"``) or
    ``h:mm:ss`` (``"00:02:25"``); ``None`` for anything else.

    Surrounding brackets, parentheses and spaces are ignored (``"[1:02:03]"``). Impossible times
    (seconds, or the minutes of ``h:mm:ss``, of 60 or more: ``"99:99:99"``) are ``None``, never
    an error: a summary may cite a garbled time and that must not stop a parse.

    Args:
        label: the label as written.
        bare_seconds: also read a plain number of seconds (``"145"``), as a summary's citation
            anchor may give (``data-t="145"``). Off for transcript timestamp lines and chapter
            lists, where a bare number is not a time.
        fraction: also read a fraction of a second after the seconds (``"00:01.500"``,
            ``"00:00:01,5"``: caption and Whisper times); the result is then a ``float``.

    Returns:
        Whole seconds as an ``int`` (a ``float`` with ``fraction=True``), or ``None``.

    >>> parse_clock("00:02:25"), parse_clock("[1:02:03]"), parse_clock("99:99:99"), parse_clock("145")
    (145, 3723, None, None)
    >>> parse_clock("145", bare_seconds=True), parse_clock("1:02.5", fraction=True)
    (145, 62.5)
    """
    s = label.strip().strip("[]()").strip()
    if bare_seconds and _BARE.fullmatch(s):
        return float(int(s)) if fraction else int(s)
    m = _CLOCK.fullmatch(s)
    if not m or (m.group(4) is not None and not fraction):
        return None
    a, b, c, frac = m.groups()
    if c is None:  # m:ss
        minutes, secs, whole = int(a), int(b), int(a) * 60
    else:
        minutes, secs = int(b), int(c)
        if minutes >= 60:
            return None
        whole = (int(a) * 60 + minutes) * 60
    if secs >= 60:
        return None
    if not fraction:
        return whole + secs
    if frac is None:
        return float(whole + secs)
    # the seconds field is read as one decimal number ("01.500" -> 1.5) and added to the whole
    # minutes, so a time is the same float whichever reader parsed it
    return whole + float(f"{secs}.{frac}")


def format_clock(seconds: object, *, always_hours: bool = False, missing: str | None = None) -> str | None:
    """``m:ss`` or ``h:mm:ss`` of a number of seconds (rounded to whole seconds), as the
    reference transcript writes times: ``format_clock(143) == "2:23"``.

    Args:
        seconds: the time; anything that is not a finite number (``None``, a string, ``nan``,
            a bool) gives ``missing``.
        always_hours: always write hours (``"0:02:23"``), for columns of times that line up.
        missing: what to return for a missing time (``None``, ``""`` or ``"?"`` for display).

    >>> format_clock(5790), format_clock(59.6), format_clock(143, always_hours=True), format_clock(None, missing="?")
    ('1:36:30', '1:00', '0:02:23', '?')
    """
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not math.isfinite(seconds):
        return missing
    total = int(round(seconds))
    sign, total = ("-", -total) if total < 0 else ("", total)
    h, rem = divmod(total, 3600)
    m, sec = divmod(rem, 60)
    return f"{sign}{h}:{m:02d}:{sec:02d}" if h or always_hours else f"{sign}{m}:{sec:02d}"


# ----------------------------------------------------------------------------------------------
# Words
# ----------------------------------------------------------------------------------------------

#: A word for comparisons: ASCII letters and digits, inner apostrophes and hyphens.
WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*[A-Za-z0-9]|[A-Za-z0-9]")
# A word as written (any script after the first character), for counting words a text carries.
_WRITTEN_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
# A word of ASCII letters only (inner apostrophes and hyphens), for ``content_words(letters_only=True)``.
_LETTER_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English stop words: spaCy's list (lower-case; contractions with straight and curly
    apostrophes). spaCy is a hard dependency; only the word list is read, no model."""
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
    """Normalised words of ``text`` (``norm_word``); hyphenated words also contribute their parts."""
    out: set[str] = set()
    for m in WORD.finditer(text):
        w = m.group(0)
        out.add(norm_word(w))
        if "-" in w:
            out.update(norm_word(p) for p in w.split("-") if p)
    return out


def content_words(text: str, *, normalise: bool = True, min_chars: int = 2, letters_only: bool = False) -> list[str]:
    """The words of ``text`` that carry content: not stop words, not shorter than ``min_chars``.

    Args:
        text: the text.
        normalise: ``True`` (comparing texts): ``WORD`` tokens cut at hyphens, each in its
            ``norm_word`` form, numbers dropped. ``False`` (counting what a text says, e.g. is a
            summary unit too vague to check?): words as written, hyphenated words whole, letters
            of any script kept, numbers kept (a number is a fact: ``"in 2012"`` counts).
        min_chars: shortest word kept (a number is kept whatever its length when ``normalise``
            is ``False``).
        letters_only: with ``normalise``, words of ASCII letters only, a hyphenated word kept
            whole (``"plant-based"`` → ``plant-based``; digits end a word): the sponsor
            detector's product words.

    >>> content_words("The Transformers' attention-heads in 2017")
    ['transformer', 'attention', 'head']
    >>> content_words("The Transformers' attention-heads in 2017", normalise=False)
    ["Transformers'", 'attention-heads', '2017']
    >>> content_words("The Transformers' attention-heads in 2017", letters_only=True)
    ['transformer', 'attention-head']
    """
    stop = stop_words()
    out = []
    if normalise and letters_only:
        for m in _LETTER_WORD.finditer(text):
            w = norm_word(m.group(0))
            if len(w) >= min_chars and w not in stop:
                out.append(w)
        return out
    if normalise:
        for m in WORD.finditer(text):
            for part in m.group(0).split("-"):
                w = norm_word(part)
                if len(w) >= min_chars and w not in stop and not w.isdigit():
                    out.append(w)
        return out
    for word in _WRITTEN_WORD.findall(text):
        lower = word.lower().replace("’", "'")
        if lower in stop or (len(lower) < min_chars and not lower.isdigit()):
            continue
        out.append(word)
    return out


def stem(word: str) -> str:
    """The project's stemmer: a light suffix stemmer (plural -s/-es/-ies, -ing, -ed) for
    matching words across a summary and a transcript. Expects a lower-case word.

    >>> [stem(w) for w in ("studies", "classes", "learning", "invented", "gas", "analysis")]
    ['study', 'class', 'learn', 'invent', 'gas', 'analysis']
    """
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("ing") and len(word) >= 7:
        return word[:-3]
    if word.endswith("ed") and len(word) >= 6:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=200_000)
def snowball_stem(word: str) -> str:
    """nltk's English Snowball stem of ``word`` (the offline verifier's word features: its fitted
    weights were learnt on these stems, so it must not change).

    Raises:
        BackendUnavailableError: nltk is not installed.
    """
    return _snowball().stem(word)


@functools.lru_cache(maxsize=1)
def _snowball() -> Any:
    try:
        from nltk.stem.snowball import SnowballStemmer
    except ImportError as exc:  # nltk comes with rouge-score
        raise BackendUnavailableError("nltk is not installed: pip install nltk") from exc
    return SnowballStemmer("english")


@functools.lru_cache(maxsize=65536)
def porter_stem(word: str) -> str:
    """nltk's Porter stem of ``word``, as ``rouge-score`` stems (ROUGE with ``use_stemmer``)."""
    return _porter().stem(word)


@functools.lru_cache(maxsize=1)
def _porter() -> Any:
    from nltk.stem import porter

    return porter.PorterStemmer()


# ----------------------------------------------------------------------------------------------
# Edit distance
# ----------------------------------------------------------------------------------------------


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    neighbouring characters (``"GTP"`` → ``"GPT"``) each cost 1; case-sensitive.

    >>> edit_distance("GTP-2", "GPT-2"), edit_distance("kitten", "sitting")
    (1, 3)
    """
    from rapidfuzz.distance import OSA

    return int(OSA.distance(a, b))


def edit_similarity(a: str, b: str) -> float:
    """``1 - edit_distance / longer length`` on lower-cased strings, in [0, 1] (two empty
    strings are identical: 1.0)."""
    a, b = a.lower(), b.lower()
    if not a and not b:
        return 1.0
    return 1.0 - edit_distance(a, b) / max(len(a), len(b))
