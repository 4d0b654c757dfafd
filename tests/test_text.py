"""The text toolkit (``harness.text``): golden values for sentences, clocks, words, stemming and
edit distance, with the edge cases each caller relies on."""

from __future__ import annotations

import math

import pytest

from harness.text import (
    content_words,
    edit_distance,
    edit_similarity,
    format_clock,
    norm_word,
    parse_clock,
    split_sentences,
    stem,
    stop_words,
    word_set,
)


def pieces(text: str, **kw) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, **kw)]


# ----------------------------------------------------------------------------------------------
# sentences
# ----------------------------------------------------------------------------------------------


def test_prose_keeps_abbreviations():
    text = "He met Dr. Smith in the U.S. today. See e.g. the paper vs. the talk. No. 5 won. Fin."
    assert pieces(text) == ["He met Dr. Smith in the U.S. today.", "See e.g. the paper vs. the talk.", "No. 5 won.", "Fin."]


def test_prose_needs_a_capital_or_digit_after_the_stop():
    assert pieces("It rose to 3. 4 more came. then it fell. Ещё раз.") == ["It rose to 3.", "4 more came. then it fell.", "Ещё раз."]


def test_prose_splits_before_markup_and_quotes():
    text = 'One. **Bold** two. [[link]] three. "Quoted" four? <a data-t="1:00">x</a> five! (Aside) six.'
    assert pieces(text) == ["One.", "**Bold** two.", "[[link]] three.", '"Quoted" four?', '<a data-t="1:00">x</a> five!', "(Aside) six."]


def test_prose_spans_exclude_blanks_and_offset_shifts():
    text = "  First one.  Second one.  "
    assert split_sentences(text) == [(2, 12), (14, 25)]
    assert split_sentences(text, offset=100) == [(102, 112), (114, 125)]
    assert split_sentences("") == [] and split_sentences(" \n ") == []


def test_tokenized_style_for_lower_cased_text_and_lines():
    text = "the club have signed a striker . he cost # 5m . fans are happy ."
    assert pieces(text, style="tokenized") == ["the club have signed a striker .", "he cost # 5m .", "fans are happy ."]
    # initials, dotted acronyms and listed abbreviations do not end a sentence; a line break does
    text = "Dr. Ada Brown met J. R. Smith in the U.S. on Monday. She left!\nA new line starts here"
    assert pieces(text, style="tokenized") == [
        "Dr. Ada Brown met J. R. Smith in the U.S. on Monday.",
        "She left!",
        "A new line starts here",
    ]
    assert pieces("x\n\n  \ny", style="tokenized") == ["x", "y"]


def test_the_two_styles_differ_where_documented():
    text = "Rowling, i.e. J. K. Rowling, wrote it. it sold."
    assert pieces(text) == ["Rowling, i.e. J.", "K.", "Rowling, wrote it. it sold."]
    assert pieces(text, style="tokenized") == ["Rowling, i.e. J. K. Rowling, wrote it.", "it sold."]


def test_unknown_style_is_a_caller_bug():
    with pytest.raises(ValueError, match="unknown sentence style 'nltk'"):
        split_sentences("A. B.", style="nltk")


# ----------------------------------------------------------------------------------------------
# clocks
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, seconds",
    [
        ("0:00", 0),
        ("2:25", 145),
        ("02:25", 145),
        ("00:02:25", 145),
        ("1:02:30", 3750),
        ("75:30", 4530),  # m:ss minutes may pass 60
        ("[1:02:03]", 3723),
        ("(00:01:10)", 70),
        (" [ 0:10 ] ", 10),
        ("1:5", 65),
        ("99:99:99", None),  # impossible times are None, never an error
        ("01:60:00", None),
        ("1:60", None),
        ("145", None),  # bare seconds only when asked
        ("1:02.500", None),  # fractions only when asked
        ("1:2:3:4", None),
        ("1:", None),
        (":30", None),
        ("ab", None),
        ("", None),
        ("²", None),
    ],
)
def test_parse_clock(label, seconds):
    assert parse_clock(label) == seconds


def test_parse_clock_bare_seconds_keyword():
    # a summary citation may be data-t="145"; a transcript timestamp line may not
    assert parse_clock("145", bare_seconds=True) == 145
    assert parse_clock("[145]", bare_seconds=True) == 145
    assert parse_clock("2:25", bare_seconds=True) == 145
    assert parse_clock("1:60", bare_seconds=True) is None
    assert parse_clock("-5", bare_seconds=True) is None
    assert parse_clock("²", bare_seconds=True) is None  # a digit int() rejects: no crash


def test_parse_clock_fraction_keyword():
    assert parse_clock("00:00:01.500", fraction=True) == 1.5
    assert parse_clock("01:02,25", fraction=True) == 62.25
    assert parse_clock("1:02:03", fraction=True) == 3723.0 and isinstance(parse_clock("1:02:03", fraction=True), float)
    assert parse_clock("00:59.999", fraction=True) == pytest.approx(59.999)
    assert parse_clock("00:60.000", fraction=True) is None
    assert parse_clock("145", fraction=True, bare_seconds=True) == 145.0
    assert parse_clock("1:02.5000", fraction=True) is None  # at most milliseconds


def test_parse_clock_returns_int_without_fraction():
    assert type(parse_clock("2:25")) is int  # a citation's seconds are written to JSON as 145, not 145.0


@pytest.mark.parametrize(
    "seconds, label",
    [(0, "0:00"), (5, "0:05"), (59.4, "0:59"), (59.6, "1:00"), (143, "2:23"), (3599.6, "1:00:00"), (5790, "1:36:30"), (36000, "10:00:00"), (-65, "-1:05")],
)
def test_format_clock(seconds, label):
    assert format_clock(seconds) == label


def test_format_clock_keywords():
    assert format_clock(143, always_hours=True) == "0:02:23"
    assert format_clock(5790, always_hours=True) == "1:36:30"
    assert format_clock(None) is None
    assert format_clock(None, missing="?") == "?"
    for not_a_time in ("2:23", math.nan, math.inf, True):
        assert format_clock(not_a_time, missing="") == ""


def test_clock_round_trip():
    for seconds in (0, 59, 60, 3599, 3600, 5790, 86399):
        assert parse_clock(format_clock(seconds)) == seconds


# ----------------------------------------------------------------------------------------------
# words
# ----------------------------------------------------------------------------------------------


def test_stop_words_are_spacys_list():
    stop = stop_words()
    assert {"the", "and", "of", "'s", "n’t"} <= stop and "transformer" not in stop
    assert len(stop) == 326  # spaCy 3.7/3.8's English list


@pytest.mark.parametrize(
    "word, norm",
    [("Transformers", "transformer"), ("GPU’s", "gpu"), ("models'", "model"), ("class", "class"), ("gas", "gas"), ("-Net-", "net"), ("Its", "its")],
)
def test_norm_word(word, norm):
    assert norm_word(word) == norm


def test_word_set_adds_hyphen_parts():
    assert word_set("Self-supervised models, GPT-2's") == {"self-supervised", "self", "supervised", "model", "gpt-2", "gpt", "2"}


def test_content_words_normalised_for_comparing():
    text = "The Transformers' attention-heads were trained in 2017 on GPT-2 by a team"
    assert content_words(text) == ["transformer", "attention", "head", "trained", "gpt", "team"]
    assert content_words("Ilya and I") == ["ilya"]
    assert content_words("AI is an ML field", min_chars=3) == ["field"]


def test_content_words_as_written_for_counting():
    text = "The Transformers' attention-heads were trained in 2017 on GPT-2 by a team"
    assert content_words(text, normalise=False) == ["Transformers'", "attention-heads", "trained", "2017", "GPT-2", "team"]
    # letters of any script after the first, a one-digit number kept, a one-letter word dropped
    assert content_words("Café au lait, 3 x y", normalise=False) == ["Café", "au", "lait", "3"]
    # spaCy lists "'s" and "n't" but not "it's": a contraction counts as a word, as it always did
    assert content_words("It’s great, isn't it", normalise=False) == ["It’s", "great", "isn't"]
    assert content_words("", normalise=False) == [] and content_words("") == []


@pytest.mark.parametrize(
    "word, stemmed",
    [
        ("studies", "study"),
        ("classes", "class"),
        ("learning", "learn"),
        ("invented", "invent"),
        ("gas", "gas"),
        ("analysis", "analysis"),
        ("bus", "bus"),
        ("sing", "sing"),  # -ing only on words of 7+ letters
        ("red", "red"),
        ("2017", "2017"),
        ("models", "model"),
        ("addresses", "address"),
    ],
)
def test_stem(word, stemmed):
    assert stem(word) == stemmed


# ----------------------------------------------------------------------------------------------
# edit distance
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b, distance",
    [
        ("kitten", "sitting", 3),
        ("GTP-2", "GPT-2", 1),  # a swap of neighbours costs 1 (optimal string alignment)
        ("ca", "abc", 3),  # OSA, not full Damerau: no edit of a swapped pair
        ("abc", "abc", 0),
        ("", "abc", 3),
        ("", "", 0),
        ("Hinton", "hinton", 1),  # case-sensitive
    ],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance == edit_distance(b, a)


def test_edit_similarity():
    assert edit_similarity("McCulloch", "McCollum") == pytest.approx(5 / 9)
    assert edit_similarity("Hinton", "HINTON") == 1.0  # lower-cased
    assert edit_similarity("", "") == 1.0
    assert edit_similarity("abc", "") == 0.0
    assert edit_similarity("Krizhevsky", "Krazewski") == pytest.approx(0.6)  # 4 edits over 10 letters
