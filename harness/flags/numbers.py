"""Numbers in prose, normalised so a summary's "1.5 billion" matches a transcript's "one and a
half billion" and "165,000" matches "165 000".

``extract_numbers`` returns each number with its *kind* (``year``, ``decade``, ``percent``,
``money``, ``ordinal``, ``count``) and, for counts, the *unit* noun that follows it ("10 layers",
"10-layer" → ``layer``), so two numbers are only compared when they measure the same thing.
Numbers that are part of a name ("GPT-2", "Podcast #94") are not numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.text import norm_word, stop_words

_SMALL = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALE = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SUFFIX_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "bn": 1e9}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
    "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20,
}
_WORD_NUM = "|".join(sorted(list(_SMALL) + list(_SCALE) + ["half", "a", "and"], key=len, reverse=True))
_NUMBER_WORDS = re.compile(
    rf"\b(?:{_WORD_NUM})(?:[\s-]+(?:{_WORD_NUM}))*\b", re.I
)
# A digit number: not glued to a name ("GPT-2", "#94", "v1"), with thousands separators,
# decimals, an optional K/M/B suffix, ordinal suffix, decade "s", or percent sign.
_DIGITS = re.compile(
    r"(?<![A-Za-z]-)(?<![\w#.$])(?<!\d[.,])"
    r"(?P<cur>\$)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:(?P<ord>st|nd|rd|th)\b|(?P<dec>'?s)\b|(?P<suf>[kKmMbB]|bn)\b)?"
    r"(?P<pct>\s?%|\s(?:percent|per cent)\b)?"
)
_FOLLOW = re.compile(r"[\s-]*(?P<scale>hundred|thousand|million|billion|trillion)?s?\b[\s-]*(?P<unit>[A-Za-z]+)?", re.I)
_MONEY_UNITS = frozenset({"dollar", "cent", "euro", "pound", "usd"})
_NOT_UNITS = frozenset({"or", "and", "to", "of", "in", "on", "at", "by", "for", "the", "a", "an"})


@dataclass(frozen=True)
class Number:
    """A number found in text.

    Attributes:
        value: the value (``1.5 billion`` → 1.5e9; a decade ``1980s`` → 1980).
        kind: ``year``, ``decade``, ``percent``, ``money``, ``ordinal`` or ``count``.
        unit: for counts and money, the normalised noun after the number, else ``None``.
        text: the number as written.
        start: offset in the searched text.
        end: offset past it.
    """

    value: float
    kind: str
    unit: str | None
    text: str
    start: int
    end: int


def _words_value(words: list[str]) -> float | None:
    """Value of a run of number words ("one and a half billion", "thirty five", "a hundred")."""
    total, current, seen = 0.0, 0.0, False
    half = False
    for w in words:
        if w in _SMALL:
            current += _SMALL[w]
            seen = True
        elif w == "half":
            half = True
            seen = True
        elif w in _SCALE:
            scale = _SCALE[w]
            base = (current or (0 if half else 1)) + (0.5 if half else 0)
            half = False
            if scale == 100:
                current = base * 100
            else:
                total += base * scale
                current = 0
            seen = True
        elif w == "a":
            current += 0  # "a hundred", "a half": the scale word that follows gives the value
        # "and" joins parts
    if not seen:
        return None
    return total + current + (0.5 if half else 0)


def _unit(text: str, pos: int) -> tuple[str | None, int]:
    """The noun after a number (skipping a hyphen), normalised, and where it ends."""
    m = re.compile(r"[\s-]*([A-Za-z]+)").match(text, pos)
    if not m:
        return None, pos
    word = m.group(1).lower()
    if word in _NOT_UNITS or word in stop_words():
        return None, pos
    return norm_word(word), m.end()


def extract_numbers(text: str) -> list[Number]:
    """Numbers in ``text`` in order of position (see the module docstring)."""
    found: list[Number] = []
    taken: list[tuple[int, int]] = []

    for m in _DIGITS.finditer(text):
        raw = m.group("num")
        value = float(raw.replace(",", ""))
        kind = "count"
        end = m.end()
        if m.group("ord"):
            kind = "ordinal"
        elif m.group("dec"):
            kind = "decade" if value >= 1000 or value % 10 == 0 else "count"
            if kind == "decade" and value < 100:
                value += 1900  # "the 80s"
        elif m.group("pct"):
            kind = "percent"
        elif m.group("suf"):
            value *= _SUFFIX_SCALE[m.group("suf").lower()]
        unit = None
        if kind == "count":
            f = _FOLLOW.match(text, end)
            if f and f.group("scale"):
                value *= _SCALE[f.group("scale").lower()]
                end = f.start("scale") + len(f.group("scale"))
            if m.group("cur"):
                kind, unit = "money", "dollar"
            elif "," not in raw and "." not in raw and 1000 <= value <= 2100 and not (f and f.group("scale")):
                kind = "year"
            if kind == "count":
                unit, unit_end = _unit(text, end)
                if unit in _MONEY_UNITS:
                    kind, unit = "money", "dollar" if unit in ("dollar", "usd") else unit
                elif unit == "percent":
                    kind, unit = "percent", None
        found.append(Number(value, kind, unit, text[m.start() : end], m.start(), end))
        taken.append((m.start(), end))

    for m in _NUMBER_WORDS.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        words = [w.lower() for w in re.split(r"[\s-]+", m.group(0))]
        # trim joiners at the edges ("a", "and" are numbers only inside a run)
        while words and words[0] in ("a", "and"):
            words = words[1:]
        while words and words[-1] in ("a", "and"):
            words = words[:-1]
        if not words:
            continue
        if words == ["one"] or words == ["half"]:
            continue  # "one of the…", "half of…": a pronoun or a vague share, not a quantity
        if words[-1] in _SCALE and len(words) == 1 and text[m.end() : m.end() + 1].lower() == "s":
            continue  # "thousands of", "millions of": vague
        value = _words_value(words)
        if value is None:
            continue
        start = m.start() + m.group(0).lower().find(words[0])
        end = start + len(" ".join(words))
        end = m.end() if end > m.end() else end
        unit, _ = _unit(text, m.end())
        kind = "count"
        if unit in _MONEY_UNITS:
            kind, unit = "money", "dollar"
        elif unit == "percent":
            kind, unit = "percent", None
        found.append(Number(value, kind, unit, text[start : m.end()].strip(), start, m.end()))

    for m in re.finditer(r"\b(" + "|".join(_ORDINAL_WORDS) + r")\b", text, re.I):
        found.append(Number(float(_ORDINAL_WORDS[m.group(1).lower()]), "ordinal", None, m.group(0), m.start(), m.end()))

    found.sort(key=lambda n: (n.start, n.end))
    # "2 or 3 times", "10 to 20 layers": the first number of a range takes the second one's unit
    for i in range(len(found) - 2, -1, -1):
        a, b = found[i], found[i + 1]
        if a.kind == "count" and a.unit is None and b.unit and re.fullmatch(r"\s*(?:or|to|and|-|–)\s*", text[a.end : b.start]):
            found[i] = Number(a.value, b.kind, b.unit, a.text, a.start, a.end)
    return found


def same_value(a: float, b: float) -> bool:
    """Equal, up to rounding for large or fractional values (0.5 % relative: "1.5 billion" equals
    "1,500,000,000"); whole numbers below 10,000 (years, counts) must be equal exactly."""
    if a == b:
        return True
    if float(a).is_integer() and float(b).is_integer() and max(abs(a), abs(b)) < 10_000:
        return False
    return abs(a - b) <= 0.005 * max(abs(a), abs(b))


def comparable(a: Number, b: Number) -> bool:
    """Whether two numbers measure the same kind of thing (year vs year, layers vs layers)."""
    if a.kind != b.kind:
        # a bare year-like count and a year are the same kind ("in 2010" vs "2010")
        return False
    if a.kind in ("count", "money"):
        return a.unit is not None and a.unit == b.unit
    return True
