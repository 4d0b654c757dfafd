"""Unit kinds of generic pages (harness/formats/page_kinds.py), from sections and wording.

Exact values on an invented page (tests/data/summaries/notes_page.md) and on small invented
snippets; agreement with the hand labels of benchmarks/page_kinds/labels.jsonl on the shared
Lex Notes pages (skipped without ../shared).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from harness.formats import FormatOptions, load_summary
from harness.formats.markdown import MarkdownFormat
from harness.formats.page_kinds import find_quote, is_commentary

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "episodes"
LABELS = ROOT / "benchmarks" / "page_kinds" / "labels.jsonl"


def kinds(text: str) -> list[tuple[int, str, str]]:
    parsed = MarkdownFormat().parse(text, "page.md", FormatOptions())
    return [(u.line_no, u.kind, u.text_plain) for u in parsed.units]


def test_invented_notes_page_kinds():
    s = load_summary(str(ROOT / "tests" / "data" / "summaries" / "notes_page.md"), "markdown", FormatOptions())
    got = [(u.line_no, u.kind) for u in s.units]
    assert got == [
        (6, "background"),  # tagline
        (8, "background"),  # bio blockquote
        (10, "boilerplate"),  # Source: Wikipedia
        (12, "background"),
        (13, "background"),
        (14, "background"),  # infobox items
        (19, "argument"),
        (19, "commentary"),  # "This highlights …"
        (21, "argument"),
        (21, "argument"),
        (25, "quote"),
        (26, "quote_gloss"),  # italic line under the quote
        (28, "quote"),
        (28, "quote_gloss"),  # '"…" - gloss' on one line
        (30, "quote"),  # one unit, ellipsis and all
        (31, "quote_gloss"),  # nested bullet
        (35, "argument"),
        (35, "commentary"),
        (37, "commentary"),  # "Overall, …"
    ]
    quote = next(u for u in s.units if u.line_no == 30)
    assert quote.text_plain == '"A small skiff takes me about six weeks... a larger sloop can take a whole year."'


def test_heading_kind_for_a_bold_only_bullet():
    got = kinds("# T\n\n## Notes\n\n- **Key points**:\n- The host asks about boats.\n")
    assert got == [(5, "heading", "Key points:"), (6, "sentence", "The host asks about boats.")]


def test_blockquote_of_speech_in_a_content_section_is_a_quote():
    got = kinds("# T\n\n## Highlights\n\n> We never sealed the oak, not once.\n\nThe host laughs at that.\n")
    assert got[0][:2] == (5, "quote")
    assert got[1][:2] == (7, "sentence")


def test_quoted_sentence_outside_a_quote_section():
    got = kinds('# T\n\n## Highlights\n\n- "Boats are promises." - A line the guest repeats.\n')
    assert [k for _, k, _ in got] == ["quote", "quote_gloss"]


def test_background_section_by_name():
    got = kinds("# T\n\n## About the guest\n\nShe grew up on a river island.\n\n## Summary\n\nShe talks about boats.\n")
    assert [k for _, k, _ in got] == ["background", "sentence"]


def test_no_bio_zone_without_content_sections():
    # a plain post with a Source line and no ## sections: its opening is the summary itself
    got = kinds("# Post\n\nThe guest builds boats.\n\nSource: [Archive](https://example.org)\n")
    assert got[0][:2] == (3, "sentence")


def test_infobox_item_is_one_unit():
    got = kinds("# T\n\n- **Spouse**: Ann Lee (m. 1989)\n- **Born**: 1961\n\n## Main Arguments\n\n- **X**: He argues y.\n")
    assert got[:2] == [(3, "background", "Spouse: Ann Lee (m. 1989)"), (4, "background", "Born: 1961")]
    assert got[2][1] == "argument"


def test_find_quote_attribution_and_gloss():
    q = find_quote('"Every boat is a promise." — Nell Brandt')
    assert q.attribution == "Nell Brandt" and q.gloss_start is None
    q = find_quote('**"Every boat is a promise."** - This quote shows the idea.')
    assert q.attribution is None and q.gloss_start is not None
    assert find_quote("No quotation here.") is None


@pytest.mark.parametrize(
    "sentence,expected",
    [
        ("This highlights the tension between craft and speed.", True),
        ("This point underscores the value of patience.", True),
        ("The significance lies in the slow pace of the work.", True),
        ("Marsh's insights into timber raise questions about forestry.", True),
        ("Overall, the episode offers a calm look at boats.", True),
        ("Marsh argues that oak must breathe.", False),
        ("This model allows a hull to flex in heavy water.", False),
    ],
)
def test_commentary_wording(sentence, expected):
    assert is_commentary(sentence) is expected


# ----------------------------------------------------------------------------------------------
# Shared pages: the #416 and #10 pages, and agreement with the hand labels
# ----------------------------------------------------------------------------------------------

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/episodes is not available")


@pytest.mark.shared
@needs_shared
def test_lexnotes_10_kinds_and_quote_units():
    s = load_summary(str(SHARED / "lexicap-corpus/summaries/lexnotes/10-pieter-abbeel.md"), "markdown", FormatOptions())
    counts: dict[str, int] = defaultdict(int)
    for u in s.units:
        counts[u.kind] += 1
    assert dict(counts) == {
        "background": 7, "boilerplate": 1, "argument": 15, "commentary": 10, "quote": 5, "quote_gloss": 5,
    }
    # the quotation with an ellipsis is one unit
    assert sum(1 for u in s.units if u.kind == "quote" and "..." in u.text) == 1


@pytest.mark.shared
@needs_shared
def test_416_other_pages_kinds():
    lumentis = load_summary(str(SHARED / "lex-fridman-416-yann-lecun/summaries/lumentis-docs.md"), "markdown", FormatOptions())
    assert not any(u.kind == "background" for u in lumentis.units)  # joined docs pages: no bio box
    allen = load_summary(str(SHARED / "lex-fridman-416-yann-lecun/summaries/allenlsy-lex-summary.md"), "markdown", FormatOptions())
    quotes = [u for u in allen.units if u.kind == "quote"]
    assert len(quotes) == 20 and all(u.text_plain.startswith("“") for u in quotes)  # blockquoted speech


@pytest.mark.shared
@needs_shared
def test_lexnotes_416_kinds():
    s = load_summary(str(SHARED / "lex-fridman-416-yann-lecun/summaries/lexnotes.md"), "markdown", FormatOptions())
    counts: dict[str, int] = defaultdict(int)
    for u in s.units:
        counts[u.kind] += 1
    assert counts["quote"] == 7 and counts["quote_gloss"] == 7
    assert counts["background"] == 9 and counts["boilerplate"] == 2


@pytest.mark.shared
@needs_shared
def test_agreement_with_hand_labels_is_at_least_95_percent():
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_file: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_file[r["file"]].append(r)
    assert len(by_file) >= 15  # the three #416 pages and at least 12 Lex Notes corpus pages
    agree = total = 0
    per_group: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for file, labels in by_file.items():
        s = load_summary(str(SHARED / file), "markdown", FormatOptions())
        assert s.sha256 == labels[0]["sha256"], f"{file} changed since it was labelled"
        got: dict[tuple[int, int], str] = {}
        seen: dict[int, int] = defaultdict(int)
        for u in s.units:
            got[(u.line_no, seen[u.line_no])] = u.kind
            seen[u.line_no] += 1
        group = per_group["416" if "416" in file else "corpus"]
        for r in labels:
            ok = got.get((r["line"], r["n"])) == r["kind"]
            total += 1
            agree += ok
            group[0] += ok
            group[1] += 1
    assert total >= 1000
    for name, (a, n) in per_group.items():
        assert a / n >= 0.95, f"{name}: {a}/{n}"
