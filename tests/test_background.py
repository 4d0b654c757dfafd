"""Background units (a bio box) kept apart from claims about the conversation; entity checks that
read a page as a reader does: short forms and acronyms, bold titles, and the direction of a
misspelling decided from evidence.

All pages and transcripts are invented here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.background import apply_background_verdicts
from harness.flags import default_flags_config, detect_flags
from harness.flags.entities import short_forms
from harness.formats import FormatOptions
from harness.formats.markdown import MarkdownFormat
from harness.metrics import MetricInputs, compute_metrics
from harness.transcript import load_transcript
from harness.types import Claim, Evidence, Summary, UnitVerdict, Verdict

ROOT = Path(__file__).resolve().parents[1]
TALK = ROOT / "tests" / "data" / "quotes" / "harbor_talk.txt"

PAGE = """# 7 Ovid Marsch

> Ovid Marsch is a boat builder who teaches at New York University.

Source: [Wikipedia](https://en.wikipedia.org/wiki/Ovid_Marsch)

- **Born**: 1961, Astoria
- **Affiliation**: New York University
- **Known for**: Wooden sloops

## The Main Arguments

- **Cotton and Oakum Methods**: Marsch says the caulking is driven in with a mallet until it rings.
"""


@pytest.fixture(scope="module")
def talk_nyu(tmp_path_factory):
    # the episode says the acronym, and (as speech recognition might) "Marsh" for "Marsch"
    text = TALK.read_text(encoding="utf-8").replace(
        "who builds wooden boats on the river.", "who builds wooden boats on the river and teaches at NYU."
    )
    path = tmp_path_factory.mktemp("talk") / "talk.txt"
    path.write_text(text, encoding="utf-8")
    return load_transcript(str(path), "auto")


@pytest.fixture(scope="module")
def summary():
    parsed = MarkdownFormat().parse(PAGE, "page.md", FormatOptions())
    return Summary("page.md", "0" * 64, "markdown", parsed.title, parsed.units, parsed.line_roles)


def unit_at(summary: Summary, line: int):
    return next(u for u in summary.units if u.line_no == line)


def test_short_forms():
    assert short_forms("New York University")[0] == "NYU"
    assert short_forms("University of California, Berkeley")[:3] == ["UCB", "UC Berkeley", "Berkeley"]
    assert "MIT" in short_forms("Massachusetts Institute of Technology")
    assert "Stanford" in short_forms("Stanford University")
    assert short_forms("NYU") == [] and short_forms("Berkeley") == []


def test_flags_on_background_are_minor_and_spelling_direction_from_evidence(talk_nyu, summary):
    flags = detect_flags(talk_nyu, summary, (), default_flags_config())
    by_line = [(unit_at_id(summary, f.unit_id).line_no, f.tag, f.severity) for f in flags]
    # no flag on background is major
    background = {u.unit_id for u in summary.units if u.kind == "background"}
    assert all(f.severity != "major" for f in flags if f.unit_id in background)
    # "New York University" where the transcript says "NYU": no extrinsic_entity
    assert not any(tag == "extrinsic_entity" and line == 8 for line, tag, _ in by_line)
    # the bold title of the argument is never an entity claim
    assert not any(line == 13 and tag in ("extrinsic_entity", "misspelled_entity") for line, tag, _ in by_line)
    # "Marsch" is the page's spelling (title and source link); the transcript's "Marsh" appears
    # nowhere on the page: a transcript spelling note, not a summary error
    spelling = [(line, tag, sev) for line, tag, sev in by_line if tag in ("misspelled_entity", "transcript_spelling")]
    assert spelling and all(tag == "transcript_spelling" and sev == "info" for _, tag, sev in spelling)


def test_misspelling_in_the_summary_when_both_documents_have_the_transcript_spelling(talk_nyu):
    page = PAGE.replace("Source: [Wikipedia](https://en.wikipedia.org/wiki/Ovid_Marsch)", "![Ovid Marsh](https://example.org/m.png)")
    page = page.replace("# 7 Ovid Marsch", "# 7 Ovid Marsh")
    parsed = MarkdownFormat().parse(page, "page.md", FormatOptions())
    s = Summary("page.md", "0" * 64, "markdown", parsed.title, parsed.units, parsed.line_roles)
    flags = detect_flags(talk_nyu, s, (), default_flags_config())
    tags = {f.tag for f in flags if "Marsch" in f.message}
    assert tags == {"misspelled_entity"}


def unit_at_id(summary: Summary, unit_id: str):
    return next(u for u in summary.units if u.unit_id == unit_id)


def _verdict(unit, label: str, start_s: float | None = 2.0) -> UnitVerdict:
    claim = Claim(f"{unit.unit_id}.c1", unit.unit_id, 0, unit.text_plain, 0, len(unit.text_plain))
    ev = Evidence(start_s, start_s, None, None, None, None, "quote", 0.8, False, 0, 5)
    v = Verdict(claim, label, 0.8 if label != "unsupported" else 0.1, (ev,))
    return UnitVerdict(unit.unit_id, label, v.score, (v,))


def test_background_verdicts_are_not_scored_but_say_whether_the_episode_says_it(summary):
    bio, born, arg = unit_at(summary, 3), unit_at(summary, 7), unit_at(summary, 13)
    verdicts = (_verdict(bio, "supported"), _verdict(born, "unsupported"), _verdict(arg, "supported"))
    out = {uv.unit_id: uv for uv in apply_background_verdicts(verdicts, summary)}
    assert out[bio.unit_id].label == "not_checkable" and out[bio.unit_id].score is None
    assert out[bio.unit_id].reason.endswith("also said in the episode at 0:02")
    assert out[bio.unit_id].claims  # the evidence is kept for the report
    assert out[born.unit_id].reason.endswith("not said in the episode")
    assert out[arg.unit_id].label == "supported"  # an argument is scored as before
    contradicted = apply_background_verdicts((_verdict(born, "contradicted"),), summary)[0]
    assert "contradicts it" in contradicted.reason


def test_background_share_metric(talk_nyu, summary):
    metrics = {m.name: m for m in compute_metrics(["units"], MetricInputs(transcript=talk_nyu, summary=summary))}
    m = metrics["units.background_share"]
    content = [u for u in summary.units if not u.boilerplate]
    expected = sum(len(u.text_plain) for u in content if u.kind == "background") / sum(len(u.text_plain) for u in content)
    assert m.value == pytest.approx(round(expected, 6))
    assert 0.5 < m.value < 1.0 and m.higher_is_better is False


def test_unsupported_claim_fires_for_markdown_arguments(talk_nyu, summary):
    arg = unit_at(summary, 13)
    flags = detect_flags(talk_nyu, summary, (_verdict(arg, "unsupported"),), default_flags_config())
    assert [(f.tag, f.severity) for f in flags if f.unit_id == arg.unit_id and f.tag == "unsupported_claim"] == [
        ("unsupported_claim", "minor")
    ]


def test_contradicted_background_is_minor(talk_nyu, summary):
    born = unit_at(summary, 7)
    flags = detect_flags(talk_nyu, summary, (_verdict(born, "contradicted"),), default_flags_config())
    got = [(f.tag, f.severity) for f in flags if f.unit_id == born.unit_id and f.tag == "contradicted_claim"]
    assert got == [("contradicted_claim", "minor")]
