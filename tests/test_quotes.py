"""Quotations checked word for word (harness/quotes.py) and the flags built on them.

Every page and transcript here is invented for the test: a labelled two-speaker episode
(tests/data/quotes/harbor_talk.txt), an ASR-noisy caption file with fillers, stutters, "gonna"
and cue breaks (tests/data/quotes/asr_noisy.vtt), and a Lex-Notes-like page
(tests/data/summaries/notes_page.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.flags import default_flags_config, detect_flags
from harness.formats import FormatOptions, load_summary
from harness.formats.markdown import MarkdownFormat
from harness.quotes import (
    QuoteConfig,
    QuoteMatcher,
    apply_quote_verdicts,
    match_quotes,
    normalise,
    quote_record,
    quote_text,
)
from harness.transcript import load_transcript
from harness.types import Claim, Summary, UnitVerdict, Verdict

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def talk():
    return load_transcript(str(DATA / "quotes" / "harbor_talk.txt"), "auto")


@pytest.fixture(scope="module")
def asr():
    return load_transcript(str(DATA / "quotes" / "asr_noisy.vtt"), "auto")


@pytest.fixture(scope="module")
def cfg():
    return QuoteConfig.from_mapping(None)


def page(text: str, title: str | None = "7 Ovid Marsh") -> Summary:
    parsed = MarkdownFormat().parse(text, "page.md", FormatOptions())
    return Summary("page.md", "0" * 64, "markdown", title or parsed.title, parsed.units, parsed.line_roles)


def quotes_page(*quotes: str) -> Summary:
    body = "\n\n".join(f"- {q}\n  *A gloss of my own.*" for q in quotes)
    return page(f"# 7 Ovid Marsh\n\n## Notable Quotes\n\n{body}\n")


def match_one(transcript, quote: str, cfg, encoder=False):
    s = quotes_page(quote)
    unit = next(u for u in s.units if u.kind == "quote")
    return QuoteMatcher(transcript, cfg, encoder, s.title).match(unit)


# ----------------------------------------------------------------------------------------------
# Normalisation
# ----------------------------------------------------------------------------------------------


def test_normalise_spoken_forms_contractions_and_numbers():
    assert normalise("Gonna") == ("going", "to")
    assert normalise("it's") == ("it", "is")
    assert normalise("Marsh's") == ("marsh",)  # a possessive, not "Marsh is"
    assert normalise("don’t") == ("do", "not")
    assert normalise("won't") == ("will", "not")
    assert normalise("I'm") == ("i", "am")
    assert normalise("Ten") == ("10",)


def test_quote_text_parts_and_editorial_brackets():
    s = quotes_page('"We took it [the approval rate] from thirty to ninety... and kept it there."')
    qt = quote_text(next(u for u in s.units if u.kind == "quote"))
    assert qt.parts == ("We took it from thirty to ninety", "and kept it there.")
    assert qt.attribution is None


def test_config_missing_key_is_an_error():
    with pytest.raises(ConfigError, match="near_min_recall"):
        QuoteConfig.from_mapping({"enabled": True})


# ----------------------------------------------------------------------------------------------
# Classes, on the labelled two-speaker transcript
# ----------------------------------------------------------------------------------------------


def test_verbatim_with_time_span_and_speaker(talk, cfg):
    m = match_one(talk, '"A hull lasts when the wood can breathe."', cfg)
    assert m.match_class == "verbatim"
    assert m.similarity == 1.0
    assert m.span == "A hull lasts when the wood can breathe"
    assert talk.text[m.char_start : m.char_end] == m.span
    assert m.start_s == pytest.approx(18.0, abs=1.0)
    assert m.speaker == "Ovid Marsh" and m.credited == "Ovid Marsh"
    assert not m.speaker_differs


def test_near_verbatim_reports_the_word_difference(talk, cfg):
    # one word changed ("oak" → "timber") and one dropped ("completely")
    m = match_one(talk, '"You never seal timber, because trapped water rots it from the inside."', cfg)
    assert m.match_class == "near_verbatim"
    assert m.diff == ("timber→oak completely",)
    assert not m.meaning_changed
    assert 0.75 <= m.similarity < 1.0


def test_near_verbatim_with_a_negation_dropped_changes_the_meaning(talk, cfg):
    m = match_one(talk, '"You seal oak completely, because trapped water rots it from the inside."', cfg)
    assert m.match_class == "near_verbatim"
    assert m.diff == ("+never",)
    assert m.meaning_changed


def test_ellipsis_is_a_gap_of_bounded_time(talk, cfg):
    near = match_one(talk, '"A small skiff takes me about six weeks... sometimes more if the timber is late."', cfg)
    assert near.match_class == "verbatim" and near.parts == 2
    # the second part is said 2 minutes later: beyond max_ellipsis_gap_s
    far = match_one(talk, '"A small skiff takes me about six weeks... nobody rushes a plank."', cfg)
    assert far.match_class != "verbatim"
    assert far.match_class == "not_found"  # the words after the ellipsis are 2 minutes later


def test_quote_split_across_turns_names_both_speakers(talk, cfg):
    m = match_one(talk, '"And the caulking? Cotton first, then oakum."', cfg)
    assert m.match_class == "verbatim"
    assert m.speakers == ("Nell Brandt", "Ovid Marsh")
    assert m.speaker_differs


def test_attribution_after_the_quote_is_who_the_page_credits(talk, cfg):
    s = page('# 7 Ovid Marsh\n\n## Quotes\n\n- "Every boat is a promise to the river." — Nell Brandt\n')
    unit = next(u for u in s.units if u.kind == "quote")
    m = QuoteMatcher(talk, cfg, False, s.title).match(unit)
    assert m.credited == "Nell Brandt" and not m.speaker_differs


def test_not_found_without_encoder(talk, cfg):
    m = match_one(talk, '"Sails are the soul of the ship and steel is its skeleton."', cfg)
    assert m.match_class == "not_found"
    assert m.char_start is None and m.span is None


@pytest.mark.slow
def test_paraphrased_uses_minilm_on_the_best_passage(talk, cfg):
    # the guest's words, reworded: no run of them is said, the gist is
    m = match_one(talk, '"Apprentices must be patient before they can do joinery; no one hurries a steaming board."', cfg, encoder=None)
    assert m.match_class == "paraphrased"
    assert m.similarity >= cfg.paraphrase_min_similarity
    assert "patience" in m.span
    unrelated = match_one(talk, '"Sails are the soul of the ship and steel is its skeleton."', cfg, encoder=None)
    assert unrelated.match_class == "not_found"


# ----------------------------------------------------------------------------------------------
# ASR noise: fillers, stutters, "gonna", digits, cue breaks, no speakers
# ----------------------------------------------------------------------------------------------


def test_asr_noisy_transcript_still_verbatim(asr, cfg):
    m = match_one(asr, '"I think the furnace is basically the heart of the studio."', cfg)
    assert m.match_class == "verbatim"  # "um", "the the", "uh" and a cue break in between
    assert m.speaker is None and m.credited is None  # no speaker labels: no attribution check
    m = match_one(asr, '"We are going to keep it lit for another ten years."', cfg)
    assert m.match_class == "verbatim"  # "we're gonna … like another 10 years"
    assert m.start_s == pytest.approx(12.8, abs=0.5)


def test_asr_noisy_contraction_and_near_verbatim(asr, cfg):
    m = match_one(asr, '"I do not think a machine will replace the breath."', cfg)
    assert m.match_class == "near_verbatim"
    assert m.diff == ("+ever",)


# ----------------------------------------------------------------------------------------------
# The bundled invented page: kinds, verdicts, units.jsonl record, flags
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def notes():
    return load_summary(str(DATA / "summaries" / "notes_page.md"), "markdown", FormatOptions())


def test_notes_page_quotes(talk, notes, cfg):
    matches = match_quotes(talk, notes, cfg, encoder=False)
    got = {notes.units[int(uid[1:]) - 1].line_no: (m.match_class, m.speakers) for uid, m in matches.items()}
    assert got == {
        25: ("verbatim", ("Ovid Marsh",)),
        28: ("verbatim", ("Nell Brandt",)),  # the host said it; the page credits the guest
        30: ("verbatim", ("Ovid Marsh",)),
    }


def test_quote_flags(talk, notes, cfg):
    matches = match_quotes(talk, notes, cfg, encoder=False)
    flags = detect_flags(talk, notes, (), default_flags_config(), quote_matches=matches)
    quote_flags = [(f.tag, f.severity, notes.units[int(f.unit_id[1:]) - 1].line_no) for f in flags if "quote" in f.tag]
    assert quote_flags == [("misattributed_quote", "major", 28)]
    f = next(f for f in flags if f.tag == "misattributed_quote")
    assert "Nell Brandt" in f.message and f.evidence[0].quote == "Every boat is a promise to the river"
    assert f.evidence[0].start_s == pytest.approx(50.0, abs=1.0)


def test_misquote_and_paraphrase_flags(talk, cfg):
    s = quotes_page(
        '"Sails are the soul of the ship and steel is its skeleton."',
        '"You seal oak completely, because trapped water rots it from the inside."',
    )
    matches = match_quotes(talk, s, cfg, encoder=False)
    flags = detect_flags(talk, s, (), default_flags_config(), quote_matches=matches)
    got = [(f.tag, f.severity) for f in flags if f.tag == "misquote"]
    assert got == [("misquote", "major"), ("misquote", "major")]
    assert "changes its meaning" in [f for f in flags if f.tag == "misquote"][1].message


def test_quote_verdict_and_record(talk, notes, cfg):
    matches = match_quotes(talk, notes, cfg, encoder=False)
    uid = next(iter(matches))
    unit = next(u for u in notes.units if u.unit_id == uid)
    claim = Claim(f"{uid}.c1", uid, 0, unit.text_plain, 0, len(unit.text_plain))
    old = UnitVerdict(uid, "unsupported", 0.1, (Verdict(claim, "unsupported", 0.1, ()),))
    (new,) = apply_quote_verdicts((old,), matches, talk)
    assert new.label == "supported" and new.score == 1.0
    assert new.claims[0].evidence[0].quote == "A hull lasts when the wood can breathe"
    rec = quote_record(matches[uid])
    assert rec["class"] == "verbatim" and rec["span"]["text"] == "A hull lasts when the wood can breathe"
    assert set(rec) >= {"class", "similarity", "span", "start_s", "end_s", "speaker", "diff"}


def test_two_content_words_replaced_is_not_near_verbatim(talk, cfg):
    # "oak" and "inside" replaced: what the quote is about changed, not a slip
    m = match_one(talk, '"You never seal pine completely, because trapped water rots it from the outside."', cfg)
    assert m.match_class == "not_found"  # no encoder here; with one it may be a paraphrase


def test_unmarked_omission_with_every_word_said_is_near_verbatim(talk, cfg):
    # every quoted word said in order; "oakum, and" and "with a mallet" left out without an ellipsis
    m = match_one(talk, '"Cotton first, then you drive it in until it rings."', cfg)
    assert m.match_class == "near_verbatim"
    assert m.diff == ("+oakum and", "+with a mallet")


# ----------------------------------------------------------------------------------------------
# The hand-checked corpus sample (results/quotes/hand_check.jsonl): the class still agrees
# ----------------------------------------------------------------------------------------------

SHARED_CORPUS = ROOT.parent / "shared" / "episodes" / "lexicap-corpus"


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason="../shared/episodes/lexicap-corpus is not available")
def test_held_out_hand_check_agreement(cfg):
    import json

    rows = [json.loads(x) for x in (ROOT / "results" / "quotes" / "hand_check.jsonl").read_text().splitlines() if x]
    held_out = [r for r in rows if r["sample_seed"] == 20]
    assert len(held_out) == 30
    manifest = {
        json.loads(x)["episode_id"]: json.loads(x)
        for x in (SHARED_CORPUS / "manifest.jsonl").read_text().splitlines()
        if x.strip()
    }
    agree = 0
    for r in held_out:
        row = manifest[r["episode_id"]]
        s = load_summary(str(SHARED_CORPUS / row["summary"]), "markdown", FormatOptions())
        assert s.sha256 == r["summary_sha256"]
        t = load_transcript(str(SHARED_CORPUS / row["transcript"]), "webvtt")
        unit = next(u for u in s.units if u.line_no == r["line"] and u.kind == "quote")
        m = QuoteMatcher(t, cfg, None, s.title).match(unit)
        agree += m.match_class == r["my_class"]
    assert agree >= 27, f"{agree}/30"


def test_survey_writes_classes_without_text_and_resumes(tmp_path, cfg):
    import json

    from harness.quotes import survey

    manifest = tmp_path / "manifest.jsonl"
    row = {
        "episode_id": "tidewater-7",
        "system": "notes",
        "transcript": str(DATA / "quotes" / "harbor_talk.txt"),
        "transcript_format": "text",
        "summary": str(DATA / "summaries" / "notes_page.md"),
        "format": "markdown",
    }
    manifest.write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = tmp_path / "survey.jsonl"
    result = survey(manifest, out, cfg)
    assert result["classes"] == {"verbatim": 3, "near_verbatim": 0, "paraphrased": 0, "not_found": 0}
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [25, 28, 30]
    assert all("span" not in r and "quote" not in r and "diff" not in r for r in records)  # no text
    assert not (tmp_path / "survey.jsonl.partial").exists()


def test_units_jsonl_rows_carry_kind_and_quote_match(talk, notes, cfg):
    from harness.report.records import unit_records
    from harness.types import RunResult

    matches = match_quotes(talk, notes, cfg, encoder=False)
    result = RunResult(signature={}, transcript=talk, summary=notes, quote_matches=matches)
    rows = {r["line_no"]: r for r in unit_records(result)}
    assert rows[25]["kind"] == "quote" and rows[26]["kind"] == "quote_gloss"
    qm = rows[25]["quote_match"]
    assert qm["class"] == "verbatim" and qm["speaker"] == "Ovid Marsh" and qm["start_s"] == pytest.approx(18.0, abs=1)
    assert "quote_match" not in rows[26]


def test_span_across_turns_leaves_out_the_speaker_label(talk, cfg):
    m = match_one(talk, '"And the caulking? Cotton first, then oakum."', cfg)
    assert m.span == "And the caulking? Cotton first, then oakum"
    assert "Ovid Marsh" in talk.text[m.char_start : m.char_end]  # the raw slice holds the label
