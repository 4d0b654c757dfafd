"""The Python API: ``harness.evaluate`` / ``harness.load_run`` (issue #15)."""

from __future__ import annotations

import json

import pytest

from conftest import ROOT, compose
from harness.cli import execute_run
from harness.errors import ConfigError, InputFileError

TRANSCRIPT = ROOT / "tests" / "data" / "transcripts" / "markers.txt"
SUMMARY = "Fog horns were first powered by steam. Towns complained about the noise of the horns.\n"
# Fast settings: no timeline, no topic segmentation; every metric group still runs.
FAST = {"stages.timeline": False, "transcript.auto_chapters": False}


@pytest.fixture(scope="module")
def summary_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "summary.md"
    path.write_text(SUMMARY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(summary_file):
    import harness

    return harness.evaluate(summary=str(summary_file), transcript=str(TRANSCRIPT), summary_format="plain", overrides=FAST)


def test_evaluate_returns_the_typed_run_result(result):
    from harness.types import RunResult, UnitResult

    assert isinstance(result, RunResult)
    assert [u.unit.text_plain for u in result.units] == [
        "Fog horns were first powered by steam.", "Towns complained about the noise of the horns.",
    ]
    assert all(isinstance(u, UnitResult) and u.verdict is not None for u in result.units)
    assert result.transcript.format == "text" and result.summary.format == "plain"
    values = result.metric_values
    assert 0.0 <= values["consistency.score"] <= 1.0 and values["units.content"] == 2.0
    assert values["flags.major"] == 0.0 and result.flags == ()


def test_to_pandas_has_one_row_per_claim(result):
    frame = result.to_pandas()
    claims = [c for u in result.units for c in u.verdict.claims]
    assert len(frame) == len(claims) == 2
    assert list(frame["claim"]) == [c.claim.text for c in claims]
    assert list(frame["verdict"]) == [c.label for c in claims]
    # the best evidence of the steam claim is the guest's line at 0:12
    assert frame.loc[0, "evidence_timestamp"] == "00:00:12" and frame.loc[0, "evidence_speaker"] == "Guest"


def test_save_writes_the_folder_the_cli_writes(result, summary_file, tmp_path):
    saved = result.save(tmp_path / "api")
    cli = tmp_path / "cli"
    execute_run(compose(["transcript=auto", f"transcript.path={TRANSCRIPT}", "summary=plain", f"summary.path={summary_file}",
                         "stages.timeline=false", "transcript.auto_chapters=false"]), cli)
    assert sorted(p.name for p in saved.iterdir()) == sorted(p.name for p in cli.iterdir())
    assert (saved / "units.jsonl").read_bytes() == (cli / "units.jsonl").read_bytes()
    api_report, cli_report = (json.loads((d / "report.json").read_text()) for d in (saved, cli))
    for report in (api_report, cli_report):
        report.pop("timings_s")
    assert api_report == cli_report  # same config, signature, metrics, flags


def test_load_run_reads_a_run_back(result, tmp_path):
    import harness

    view = harness.load_run(result.save(tmp_path / "run"))
    assert view.metric_values == result.metric_values
    assert view.flags == result.flags
    assert view.signature["string"] == result.signature["string"]
    assert [u["unit_id"] for u in view.units] == [u.unit.unit_id for u in result.units]
    assert view.to_pandas().equals(result.to_pandas())
    with pytest.raises(InputFileError, match="report.json: file not found"):
        harness.load_run(tmp_path)


def test_text_and_path_inputs_give_the_same_run(result, tmp_path, monkeypatch):
    import harness

    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    from_text = harness.evaluate(summary=SUMMARY, transcript=TRANSCRIPT.read_text(encoding="utf-8"),
                                 summary_format="plain", stages__timeline=False, transcript__auto_chapters=False)
    assert from_text.summary.sha256 == result.summary.sha256
    assert from_text.transcript.sha256 == result.transcript.sha256
    assert from_text.metric_values == result.metric_values
    assert list((tmp_path / "cache" / "inputs").iterdir())  # the texts, content-addressed


def test_bad_inputs_and_overrides_are_clear_errors(tmp_path):
    import harness

    with pytest.raises(InputFileError, match="my_sumary.md: file not found"):
        harness.evaluate(summary="my_sumary.md", transcript=str(TRANSCRIPT))  # a typo is not a one-word summary
    with pytest.raises(ConfigError, match="summary.pth: no such key; summary has: boilerplate_patterns, format"):
        harness.evaluate(summary=SUMMARY, transcript=str(TRANSCRIPT), overrides=["summary.pth=x"])
    with pytest.raises(ConfigError, match="unknown summary format 'docx'"):
        harness.evaluate(summary=SUMMARY, transcript=str(TRANSCRIPT), summary_format="docx")


def test_a_second_call_loads_no_model(tmp_path, monkeypatch, summary_file):
    """Every model load is counted: encoder, spaCy, BERTScore and the verifier load once for
    two evaluations."""
    import bert_score
    import sentence_transformers
    import spacy

    import harness.backends
    from harness import lexical, models
    from harness.api import Evaluator

    loads = {"encoder": 0, "spacy": 0, "bertscore": 0, "verifier": 0}

    def counting(kind, real):
        def load(*args, **kwargs):
            loads[kind] += 1
            return real(*args, **kwargs)
        return load

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", counting("encoder", sentence_transformers.SentenceTransformer))
    monkeypatch.setattr(spacy, "load", counting("spacy", spacy.load))
    monkeypatch.setattr(bert_score, "BERTScorer", counting("bertscore", bert_score.BERTScorer))
    monkeypatch.setattr(harness.backends, "build_verifier", counting("verifier", harness.backends.build_verifier))
    for cached in (models.sentence_encoder, models.spacy_nlp, lexical.bert_scorer):
        cached.cache_clear()
    evaluator = Evaluator()
    for summary in (summary_file, "Some towns complained about the noise.\n"):
        evaluator.evaluate(summary, str(TRANSCRIPT), summary_format="plain", overrides=FAST)
    assert loads == {"encoder": 1, "spacy": 1, "bertscore": 1, "verifier": 1}
