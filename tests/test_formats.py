"""Summary formats: the three reference pages parsed unit by unit, the plain format, errors.

The golden counts below were computed by the parsers and checked by reading the reference files
line by line (see the comments); a change in any of them means the parse changed.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from harness.errors import ConfigError, InputFileError
from harness.formats import FORMATS, FormatOptions, ParsedSummary, load_formats
from harness.formats.base import find_citations, strip_markup
from harness.text import parse_clock, split_sentences

REFERENCES = Path(__file__).parent.parent / "references" / "lex-fridman-94" / "summaries"
EPISODES = Path(__file__).parent.parent.parent / "shared" / "episodes"
ROLES = {"unit", "heading", "question", "front_matter", "markup"}

load_formats()


def parse(fmt: str, text: str, path: str = "summary.md", **options) -> ParsedSummary:
    return FORMATS.get(fmt)().parse(text, path, FormatOptions(**options))


def reference(name: str) -> tuple[str, str]:
    path = REFERENCES / f"{name}.md"
    return path.read_text(encoding="utf-8"), str(path)


def parse_reference(fmt: str, **options) -> ParsedSummary:
    text, path = reference(fmt)
    return parse(fmt, text, path, **options)


def kinds(parsed: ParsedSummary) -> dict[str, int]:
    return dict(Counter(u.kind for u in parsed.units))


def role_count(parsed: ParsedSummary) -> dict[str, int]:
    return dict(Counter(r.role for r in parsed.line_roles))


def unit(parsed: ParsedSummary, unit_id: str):
    return next(u for u in parsed.units if u.unit_id == unit_id)


# ----------------------------------------------------------------------------------------------
# Properties every parse must have
# ----------------------------------------------------------------------------------------------


def check_invariants(parsed: ParsedSummary, text: str) -> None:
    lines = text.splitlines()
    # ids sequential, indexes match
    assert [u.unit_id for u in parsed.units] == [f"u{i:03d}" for i in range(1, len(parsed.units) + 1)]
    assert [u.index for u in parsed.units] == list(range(len(parsed.units)))
    # document order
    assert [u.line_no for u in parsed.units] == sorted(u.line_no for u in parsed.units)
    # exactly the non-empty lines have a role, each a known one
    non_empty = {i + 1 for i, line in enumerate(lines) if line.strip()}
    assert {r.line_no for r in parsed.line_roles} == non_empty
    assert [r.line_no for r in parsed.line_roles] == sorted(non_empty)
    assert {r.role for r in parsed.line_roles} <= ROLES
    ids = {u.unit_id for u in parsed.units}
    roles = {r.line_no: r for r in parsed.line_roles}
    for r in parsed.line_roles:
        assert (r.role == "unit") == bool(r.unit_ids)
        assert set(r.unit_ids) <= ids
    for u in parsed.units:
        # each unit is recorded on its line, its text is the file's text there
        assert u.unit_id in roles[u.line_no].unit_ids
        first, *rest = u.text.split("\n")
        assert first and first in lines[u.line_no - 1]
        for k, piece in enumerate(rest, start=1):
            assert piece in lines[u.line_no - 1 + k]
        assert u.text_plain and u.text_plain == u.text_plain.strip()
        # boilerplate iff a reason
        assert u.boilerplate == (u.boilerplate_reason is not None)
    assert any(not u.boilerplate for u in parsed.units)


@pytest.mark.parametrize("fmt", ["summify", "tldr_qa", "wiki"])
@pytest.mark.parametrize("split", ["sentence", "line"])
def test_reference_invariants(fmt: str, split: str) -> None:
    text, _ = reference(fmt)
    check_invariants(parse_reference(fmt, split=split), text)


@pytest.mark.parametrize("fmt", ["summify", "tldr_qa", "wiki"])
@pytest.mark.parametrize("split", ["sentence", "line"])
def test_plain_reads_every_reference(fmt: str, split: str) -> None:
    text, path = reference(fmt)
    check_invariants(parse("plain", text, path, split=split), text)


def test_registry_has_the_five_formats() -> None:
    assert FORMATS.names() == ["markdown", "plain", "summify", "tldr_qa", "wiki"]
    for name in FORMATS.names():
        assert FORMATS.get(name).name == name


# ----------------------------------------------------------------------------------------------
# summify
# ----------------------------------------------------------------------------------------------


def test_summify_counts() -> None:
    parsed = parse_reference("summify")
    # overview: line 4; insights: lines 6-22; six section paragraphs of 4, 5, 4, 4, 4, 4
    # sentences (lines 24-34); one answer (43); glosses: lines 46-64; chrome: lines 65-73
    assert kinds(parsed) == {
        "overview": 1,
        "key_insight": 17,
        "section_sentence": 25,
        "qa_answer": 1,
        "gloss": 19,
        "boilerplate": 9,
    }
    assert len(parsed.units) == 72
    # headings: page label, title, "Key Moments", "Key Insights", 6 caps titles,
    # "Mentioned in This Episode" + 6 category labels, "Common Questions", "Topics",
    # "Mentioned in this video"
    assert role_count(parsed) == {"unit": 53, "heading": 20}
    assert parsed.title == "Ilya Sutskever: Deep Learning | Lex Fridman Podcast #94"
    assert Counter(u.boilerplate_reason for u in parsed.units if u.boilerplate) == {
        "related-video list": 6,
        "site call to action": 3,
    }
    assert [u.line_no for u in parsed.units if u.boilerplate] == list(range(65, 74))
    assert all(u.cited_timestamp_s is None for u in parsed.units)


def test_summify_golden_units() -> None:
    parsed = parse_reference("summify")
    overview = unit(parsed, "u001")
    assert (overview.kind, overview.line_no, overview.section) == ("overview", 4, "Key Moments")
    first = unit(parsed, "u002")
    assert (first.kind, first.line_no, first.section) == ("key_insight", 6, "Key Insights")
    assert first.text_plain.startswith("The pivotal moment for deep learning")
    assert first.text.endswith("fast convolutional neural network kernels.")

    sections = [u for u in parsed.units if u.kind == "section_sentence"]
    assert Counter(u.section for u in sections) == {
        "THE DAWN OF DEEP LEARNING AND NEURAL NETWORK REVOLUTION": 4,
        "INSPIRATION FROM THE BRAIN AND THE ROLE OF COST FUNCTIONS": 5,
        "THE COMPUTATIONAL AND DATA DRIVEN SURGE": 4,
        "UNITY AND DIVERSITY IN MACHINE LEARNING DOMAINS": 4,
        "THE PUZZLE OF REASONING, LANGUAGE, AND GENERALIZATION": 4,
        "THE QUEST FOR AGI AND RESPONSIBLE DEPLOYMENT": 4,
    }
    assert sections[1].text == (
        "This was significantly boosted by innovations like the Hessian-free optimizer and "
        "Alex Krazewski's efficient CUDA kernels for convolutional neural networks (CNNs)."
    )
    answer = next(u for u in parsed.units if u.kind == "qa_answer")
    assert (answer.line_no, answer.section) == (43, "Common Questions")
    assert answer.text_plain.startswith("Ilya Sutskever's core intuition")
    glosses = [u for u in parsed.units if u.kind == "gloss"]
    assert {u.section for u in glosses} == {"Topics > Mentioned in this video"}
    assert glosses[0].text_plain.startswith("Inventor of the Hessian-free optimizer")
    assert glosses[-1].line_no == 64
    related = [u for u in parsed.units if u.boilerplate_reason == "related-video list"]
    assert related[2].text.startswith("154 minRick Beato")
    assert unit(parsed, "u072").text == "Try Summify free"
    roles = {r.line_no: r.role for r in parsed.line_roles}
    assert [roles[n] for n in (1, 2, 3, 35, 36, 41, 42, 44, 45)] == ["heading"] * 9


def test_summify_line_split_keeps_paragraphs_whole() -> None:
    parsed = parse_reference("summify", split="line")
    assert kinds(parsed)["section_sentence"] == 6
    assert len(parsed.units) == 72 - 25 + 6


# ----------------------------------------------------------------------------------------------
# tldr_qa
# ----------------------------------------------------------------------------------------------


def test_tldr_qa_counts() -> None:
    parsed = parse_reference("tldr_qa")
    # TL;DR: line 12; insights: lines 18-31; excerpt: line 35; 5 + 12 answers; a 3-sentence
    # summary (line 61); takeaways: lines 115, 117, 119; chrome: lines 3-8, 14, 121-131 (odd)
    assert kinds(parsed) == {
        "tldr": 1,
        "key_insight": 14,
        "transcript_excerpt": 1,
        "qa_answer": 17,
        "summary_sentence": 3,
        "takeaway": 3,
        "boilerplate": 13,
    }
    assert len([u for u in parsed.units if not u.boilerplate]) == 38
    assert role_count(parsed) == {"unit": 50, "heading": 8, "question": 17}
    assert parsed.title == "Ilya Sutskever: Deep Learning | Lex Fridman Podcast #94"
    reasons = {u.line_no: u.boilerplate_reason for u in parsed.units if u.boilerplate}
    assert reasons == {
        3: "view count",
        4: "publication date",
        5: "byline",
        6: "byline",
        7: "video player",
        8: "repeated video title",
        14: "site call to action",
        35: "auto-caption transcript excerpt, not summary content",
        121: "site call to action",
        123: "site call to action",
        125: "site call to action",
        127: "site navigation",
        129: "site call to action",
        131: "site call to action",
    }


def test_tldr_qa_golden_units() -> None:
    parsed = parse_reference("tldr_qa")
    tldr = next(u for u in parsed.units if u.kind == "tldr")
    assert (tldr.line_no, tldr.section) == (12, "TL;DR")
    insights = [u for u in parsed.units if u.kind == "key_insight"]
    assert [u.line_no for u in insights] == list(range(18, 32))
    crypto = insights[3]
    assert crypto.text.startswith("• 💰 Cryptocurrency and the nature of money:")
    assert crypto.text_plain.startswith("Cryptocurrency and the nature of money: The conversation")
    assert not crypto.boilerplate  # content of the summary, even though it comes from an ad
    assert insights[7].text_plain.startswith("Language models and reasoning: Language models")
    assert all("•" not in u.text_plain for u in insights)

    excerpt = next(u for u in parsed.units if u.kind == "transcript_excerpt")
    assert excerpt.boilerplate and excerpt.line_no == 35 and excerpt.section == "Transcript"
    assert excerpt.text_plain.endswith("brainstorm w... Read More")

    answers = [u for u in parsed.units if u.kind == "qa_answer"]
    assert answers[0].section == (
        "How did the breakthrough in deep learning lead to advancements in computer vision and "
        "natural language processing?"
    )
    assert answers[0].line_no == 41
    assert answers[-1].section == 'Can you describe the main idea behind the "deep double descent" paper?'
    assert answers[5].section.startswith("Take us back to the time")
    summary = [u.text for u in parsed.units if u.kind == "summary_sentence"]
    assert summary == [
        "This conversation is with Ilya Sutskever, co-founder and chief scientist of OpenAI.",
        "He is a highly respected computer scientist in the field of deep learning.",
        summary[2],
    ]
    assert summary[2].startswith("They discuss the history") and summary[2].endswith("AI and deep learning.")
    takeaways = [u for u in parsed.units if u.kind == "takeaway"]
    assert [u.text_plain.split(":")[0] for u in takeaways] == [
        "Deep learning revolution",
        "Key breakthrough",
        "Unity in machine learning",
    ]
    assert {u.section for u in takeaways} == {"Summary & Key Takeaways"}
    roles = {r.line_no: r.role for r in parsed.line_roles}
    assert roles[1] == "heading" and roles[39] == "question" and roles[109] == "question"
    assert roles[37] == roles[63] == "heading"  # "Questions & Answers" twice


def test_tldr_qa_line_split_only_changes_the_summary_paragraph() -> None:
    parsed = parse_reference("tldr_qa", split="line")
    assert kinds(parsed)["summary_sentence"] == 1
    assert kinds(parsed)["key_insight"] == 14 and kinds(parsed)["qa_answer"] == 17


# ----------------------------------------------------------------------------------------------
# wiki
# ----------------------------------------------------------------------------------------------

WIKI_CITATIONS = [  # (unit, seconds) for every data-t of the reference page, in order
    ("u003", 145),  # 00:02:25
    ("u005", 154),  # 00:02:34
    ("u007", 210),  # 00:03:30
    ("u009", 315),  # 00:05:15
    ("u010", 1071),  # 00:17:51
    ("u012", 1234),  # 00:20:34
    ("u014", 3663),  # 01:01:03
    ("u015", 3722),  # 01:02:02
    ("u018", 4472),  # 01:14:32
    ("u021", 4191),  # 01:09:51
]


def test_wiki_counts() -> None:
    text, _ = reference("wiki")
    parsed = parse_reference("wiki")
    # sentences per paragraph (lines 8, 12, 16, 18, 20, 24, 28, 32, 36, 40): 2 2 2 2 1 2 3 3 3 2
    assert kinds(parsed) == {"wiki_sentence": 22, "boilerplate": 1}
    assert role_count(parsed) == {"front_matter": 4, "unit": 11, "heading": 7, "markup": 1}
    assert parsed.title == "Deep learning breakthroughs and history"
    byline = unit(parsed, "u001")
    assert (byline.line_no, byline.boilerplate_reason) == (6, "byline")
    # the page has 10 data-t citations, and each one is parsed
    assert len(re.findall(r"data-t=", text)) == len(WIKI_CITATIONS) == 10


def test_wiki_citations() -> None:
    parsed = parse_reference("wiki")
    cited = [(u.unit_id, u.cited_timestamp_s) for u in parsed.units if u.cited_timestamp_s is not None]
    assert cited == WIKI_CITATIONS
    for u in parsed.units:
        assert "data-t" not in u.text_plain and "[00:" not in u.text_plain
        # a sentence with a citation ends with it: "…field <a …>[00:02:25]</a>."
        if u.cited_timestamp_s is not None:
            assert u.text.endswith("</a>.")


def test_wiki_golden_units() -> None:
    parsed = parse_reference("wiki")
    alexnet = next(u for u in parsed.units if "AlexNet](" in u.text)
    assert alexnet.unit_id == "u003" and alexnet.cited_timestamp_s == 145
    assert alexnet.section is None
    assert "particularly on AlexNet, which marked" in alexnet.text_plain
    assert alexnet.text_plain.endswith("a significant turning point in the field.")
    first = unit(parsed, "u002")
    assert first.text_plain.startswith("The field of deep learning has experienced")
    assert first.cited_timestamp_s is None

    hessian = unit(parsed, "u006")
    assert hessian.section == "Catalytic Moments in Deep Learning > Key Developments"
    assert hessian.text.startswith("1. **Hessian-Free Optimization**: In 2010")
    assert hessian.text_plain.startswith("Hessian-Free Optimization: In 2010, James Martens")
    assert unit(parsed, "u012").text_plain.endswith(
        "in areas like natural language processing, computer vision, and more."
    )
    assert unit(parsed, "u014").section == "Evolution and Unification in Deep Learning > Transformer Models"

    callout = [u for u in parsed.units if u.line_no == 40]
    assert [u.unit_id for u in callout] == ["u022", "u023"]
    assert callout[0].section == (
        "The Specter of Artificial General Intelligence (AGI) > Challenges and Ethical "
        "Considerations > The Power and Potential of Deep Learning"
    )
    assert callout[0].text.startswith("Deep learning's capacity")  # the "> " marker is not text
    roles = {r.line_no: r.role for r in parsed.line_roles}
    assert (roles[1], roles[4], roles[38], roles[39]) == ("front_matter", "front_matter", "heading", "markup")


def test_wiki_line_split() -> None:
    parsed = parse_reference("wiki", split="line")
    assert kinds(parsed) == {"wiki_sentence": 10, "boilerplate": 1}
    # a line with two citations cites the first
    assert [u.cited_timestamp_s for u in parsed.units if u.line_no == 28] == [3663]


WIKI_STUB = "---\ntitle: Stub\n---\n\n# Stub\n\n"


@pytest.mark.parametrize("label", ["99:99:99", "00:61:00", "garbage", "", "1:2:3:4"])
def test_wiki_invalid_citation_does_not_crash(label: str) -> None:
    text = WIKI_STUB + (
        f'A claim <a class="yt-timestamp" data-t="{label}">[{label}]</a>. '
        'Another claim <a class="yt-timestamp" data-t="00:01:00">[00:01:00]</a>.\n'
    )
    parsed = parse("wiki", text)
    assert [(u.text_plain, u.cited_timestamp_s) for u in parsed.units] == [
        ("A claim.", None),
        ("Another claim.", 60),
    ]


def test_citation_after_the_full_stop_belongs_to_the_sentence_before() -> None:
    text = WIKI_STUB + (
        'First claim. <a class="yt-timestamp" data-t="00:00:30">[00:00:30]</a> '
        'Second claim <a class="yt-timestamp" data-t="00:01:00">[00:01:00]</a>.\n'
    )
    parsed = parse("wiki", text)
    assert [(u.text_plain, u.cited_timestamp_s) for u in parsed.units] == [
        ("First claim.", 30),
        ("Second claim.", 60),
    ]
    assert parsed.units[0].text.endswith("[00:00:30]</a>")
    assert parsed.units[1].text.startswith("Second claim")


# ----------------------------------------------------------------------------------------------
# plain
# ----------------------------------------------------------------------------------------------

PLAIN = """# Episode notes

The first sentence. The second one cites [1:05].
A third sentence runs
over two lines (0:01:10).

## Part two

- A *bullet* item. With [a link](https://example.com) too.
"""


def test_plain_sentence_split() -> None:
    parsed = parse("plain", PLAIN)
    check_invariants(parsed, PLAIN)
    assert parsed.title == "Episode notes"
    rows = [(u.kind, u.section, u.line_no, u.text_plain, u.cited_timestamp_s) for u in parsed.units]
    assert rows == [
        ("sentence", "Episode notes", 3, "The first sentence.", None),
        ("sentence", "Episode notes", 3, "The second one cites.", 65),
        ("sentence", "Episode notes", 4, "A third sentence runs over two lines.", 70),
        ("sentence", "Episode notes > Part two", 9, "A bullet item.", None),
        ("sentence", "Episode notes > Part two", 9, "With a link too.", None),
    ]
    assert parsed.units[2].text == "A third sentence runs\nover two lines (0:01:10)."
    assert parsed.units[3].text == "- A *bullet* item."
    roles = {r.line_no: r for r in parsed.line_roles}
    assert roles[1].role == roles[7].role == "heading"
    assert roles[5].unit_ids == ("u003",)


def test_plain_line_split() -> None:
    parsed = parse("plain", PLAIN, split="line")
    check_invariants(parsed, PLAIN)
    assert [(u.kind, u.line_no, u.text_plain, u.cited_timestamp_s) for u in parsed.units] == [
        ("line", 3, "The first sentence. The second one cites.", 65),
        ("line", 4, "A third sentence runs", None),
        ("line", 5, "over two lines.", 70),
        ("line", 9, "A bullet item. With a link too.", None),
    ]


def test_plain_script_tag_stays_in_text_only() -> None:
    text = "Hello <script>alert('x')</script> world. <b>Bold</b> claim.\n"
    parsed = parse("plain", text)
    assert [u.text for u in parsed.units] == ["Hello <script>alert('x')</script> world.", "<b>Bold</b> claim."]
    assert [u.text_plain for u in parsed.units] == ["Hello world.", "Bold claim."]


def test_plain_front_matter_markup_and_quotes() -> None:
    text = (
        "---\ntitle: \"Quoted title\"\ndate: 2020-05-08\n---\n"
        "Intro line.\n\n---\n\n![img](https://x/y.png)\n<div>\n\n"
        "> Quoted claim one.\n> Quoted claim\n> two.\n>\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode here\n```\n"
    )
    parsed = parse("plain", text)
    check_invariants(parsed, text)
    assert parsed.title == "Quoted title"
    roles = {r.line_no: r.role for r in parsed.line_roles}
    assert [roles[n] for n in (1, 2, 3, 4)] == ["front_matter"] * 4
    assert [roles[n] for n in (7, 9, 10, 15, 18, 21, 23)] == ["markup"] * 7
    assert [u.text_plain for u in parsed.units] == [
        "Intro line.",
        "Quoted claim one.",
        "Quoted claim two.",
        "| a | b |",  # a table row is one unit; its pipes are kept
        "| 1 | 2 |",
        "code here",
    ]
    assert parsed.units[2].text == "Quoted claim\n> two."
    assert parsed.units[-1].boilerplate_reason == "code block"


def test_plain_without_headings_or_title() -> None:
    parsed = parse("plain", "Just one line without a full stop")
    assert parsed.title is None
    assert [(u.section, u.text_plain) for u in parsed.units] == [(None, "Just one line without a full stop")]


# ----------------------------------------------------------------------------------------------
# errors and options
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, source, missing",
    [
        ("summify", "wiki", "no 'Key Moments' line and no 'Key Insights' line"),
        ("summify", "tldr_qa", "no 'Key Moments' line"),
        ("tldr_qa", "summify", "no 'TL;DR' heading and no 'Summary and Q&A' title"),
        ("tldr_qa", "wiki", "no 'TL;DR' heading"),
        ("wiki", "summify", "no front matter, no data-t timestamp citations and no [[wiki links]]"),
        ("wiki", "tldr_qa", "no front matter"),
    ],
)
def test_wrong_format_is_an_error(fmt: str, source: str, missing: str) -> None:
    text, path = reference(source)
    with pytest.raises(InputFileError, match="does not look like") as err:
        parse(fmt, text, path)
    assert err.value.path == path
    assert err.value.problem.startswith(f"does not look like a {fmt} summary: ")
    assert missing in err.value.problem


@pytest.mark.parametrize(
    "fmt, text",
    [
        ("plain", ""),
        ("plain", "  \n\n"),
        ("plain", "# Only a heading\n\n## And another\n\n---\n"),
        ("summify", "Key Moments\nKey Insights\nTHE ONLY SECTION TITLE\nTry Summify free\n"),
        ("tldr_qa", "Title | Summary and Q&A\n\n541.7K views\n\nTL;DR\n\n"),
        ("wiki", "---\ntitle: Empty\n---\n\nFrom: [[someone]] <br/>\n"),
    ],
)
def test_no_content_is_an_error(fmt: str, text: str) -> None:
    with pytest.raises(InputFileError, match="no summary content found"):
        parse(fmt, text, "empty.md")


def test_boilerplate_patterns_apply_in_every_format() -> None:
    pattern = r"^The meaning of life"
    parsed = parse_reference("summify", boilerplate_patterns=(pattern,))
    life = unit(parsed, "u018")
    assert life.kind == "key_insight" and life.boilerplate
    assert life.boilerplate_reason == f"matches boilerplate pattern {pattern!r}"
    assert sum(u.boilerplate for u in parsed.units) == 10

    parsed = parse_reference("tldr_qa", boilerplate_patterns=("Cryptocurrency",))
    assert [u.line_no for u in parsed.units if u.boilerplate_reason and "pattern" in u.boilerplate_reason] == [21]

    parsed = parse_reference("wiki", boilerplate_patterns=(r"^> ",))
    assert [u.unit_id for u in parsed.units if u.boilerplate_reason and "pattern" in u.boilerplate_reason] == ["u022", "u023"]

    parsed = parse("plain", PLAIN, boilerplate_patterns=(r"^- ",))
    assert [u.boilerplate for u in parsed.units] == [False, False, False, True, True]


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        parse("plain", PLAIN, boilerplate_patterns=("(unclosed",))
    with pytest.raises(ConfigError, match="summary.split"):
        parse("plain", PLAIN, split="paragraph")


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label, seconds",
    [
        ("00:02:25", 145),
        ("2:25", 145),
        ("[1:02:03]", 3723),
        ("(00:01:10)", 70),
        ("75:30", 4530),
        ("145", 145),
        ("99:99:99", None),
        ("01:60:00", None),
        ("1:60", None),
        ("garbage", None),
        ("", None),
        ("1:2:3:4", None),
    ],
)
def test_parse_clock(label: str, seconds: int | None) -> None:
    # a summary's citation may give bare seconds: the formats read clocks with bare_seconds=True
    assert parse_clock(label, bare_seconds=True) == seconds


def test_find_citations_styles() -> None:
    text = (
        'a <a class="yt-timestamp" data-t="00:02:25">[00:02:25]</a> b [2:23](https://youtu.be/x?t=143) '
        "c [(01:00:00)](https://y) d (0:10) e [99:99]"
    )
    assert [(c.label, c.seconds) for c in find_citations(text)] == [
        ("00:02:25", 145),
        ("2:23", 143),
        ("01:00:00", 3600),
        ("0:10", 10),
        ("99:99", None),
    ]


def test_split_sentences_keeps_abbreviations_and_splits_before_markup() -> None:
    text = "He met Dr. Smith in the U.S. today. **Bold** start. [[link]] start. Fin."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "He met Dr. Smith in the U.S. today.",
        "**Bold** start.",
        "[[link]] start.",
        "Fin.",
    ]


def test_strip_markup() -> None:
    assert strip_markup("[[page_name | Alias]] and [[plain_page]]") == "Alias and plain_page"
    assert strip_markup("![pic](u.png) **bold** _em_ snake_case `code` &amp; x") == "bold em snake_case code & x"
    assert strip_markup("  • 🖥️ Label: text") == "Label: text"


# ----------------------------------------------------------------------------------------------
# other episodes (robustness only; no golden values)
# ----------------------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("split", ["sentence", "line"])
def test_plain_reads_other_episode_summaries(split: str) -> None:
    folder = EPISODES / "lex-fridman-416-yann-lecun" / "summaries"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (../shared is not checked out)")
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        check_invariants(parse("plain", text, str(path), split=split), text)


def test_line_numbers_count_newlines_only() -> None:
    text = "First line\x0cstill line one.\r\nSecond\u2028line.\n"
    parsed = parse("plain", text, split="line")
    assert [(u.line_no, u.text) for u in parsed.units] == [
        (1, "First line\x0cstill line one."),
        (2, "Second\u2028line."),
    ]
