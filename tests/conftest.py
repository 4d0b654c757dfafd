"""Shared fixtures: reference paths, Hydra composition, an offline guard, and the test tiers.

Tests never reach the network: model hubs are switched off and any outbound socket connection
(other than loopback) fails the test that makes it.

Two tiers: ``python -m pytest`` runs everything (what CI runs); ``python -m pytest -m "not slow"``
is the fast tier for the edit-test loop: no MiniLM or BERTScore model, no whole pipeline run in a
subprocess, no shared corpus sweep (the small spaCy pipeline is fine). A test is slow when it carries ``@pytest.mark.slow``
itself or is listed below (by file, by ``file::test`` without parameters, or by a fixture it
uses), with the reason it is slow.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
REFS = ROOT / "references" / "lex-fridman-94"
TRANSCRIPT = REFS / "transcript.md"
SUMMARIES = {name: REFS / "summaries" / f"{name}.md" for name in ("summify", "tldr_qa", "wiki")}
CONFIG_DIR = ROOT / "configs"
SHARED = ROOT.parent / "shared"


# Whole files in the slow tier.
SLOW_FILES: dict[str, str] = {
    "test_reference_runs.py": "runs the three references through the whole pipeline",
    "test_corpus_scaleout.py": "starts Ray and submitit workers",
    "test_report_browser.py": "drives a real Chromium",
    "test_conversation_eval.py": "scores a mini benchmark with the real verifier",
    "test_api.py": "evaluates a summary through the Python API (a whole pipeline run)",
}

# Single tests (every parameter of each) in the slow tier: ``file::test`` (or ``file::Class::test``).
SLOW_TESTS: dict[str, str] = {
    "test_quotes.py::test_held_out_hand_check_agreement": "matches every quote of a shared held-out set",
    "test_sponsor_eval.py::test_committed_figures_reproduce": "re-scores sponsor detection on the shared corpus",
    "test_cli.py::test_multirun_over_the_three_references": "three pipeline runs in a subprocess",
    "test_cli.py::test_plain_summary_from_the_command_line": "a pipeline run in a subprocess",
    "test_cli.py::test_signature_changes_with_config_and_input_not_otherwise": "several pipeline runs",
    "test_cli.py::test_two_runs_write_identical_units": "two pipeline runs",
    "test_cli.py::test_run_writes_the_three_files": "a pipeline run per reference",
    "test_cli.py::test_bad_summary_file_is_one_line_error_and_exit_2": "a subprocess per case",
    "test_cli.py::test_summary_in_the_wrong_format_is_rejected": "a subprocess",
    "test_cli.py::test_unknown_format_name_is_rejected": "a subprocess",
    "test_bad_inputs.py::test_summary_longer_than_transcript_still_reports": "a pipeline run on a long input",
    "test_bad_inputs.py::test_malformed_html_gives_units_without_tags": "a pipeline run",
    "test_bad_inputs.py::test_transcripts_missing_a_structure_still_report": "a pipeline run per transcript",
    "test_bad_inputs.py::test_international_text_is_kept": "a pipeline run",
    "test_bad_inputs.py::test_invalid_wiki_citation_is_null_not_a_crash": "a pipeline run",
    "test_bad_inputs.py::test_hostile_markup_is_kept_as_text_but_stripped_from_plain_text": "a pipeline run",
    "test_bad_inputs.py::test_duplicated_units_are_all_kept": "a pipeline run",
    "test_bad_inputs.py::test_out_of_order_and_far_timestamps_are_warnings": "a pipeline run",
    "test_corpus.py::test_multirun_with_the_joblib_launcher_in_parallel": "parallel joblib workers",
    "test_corpus.py::test_cli_corpus_writes_to_its_own_folder_and_exits_2_on_a_failed_row": "a corpus run in a subprocess",
    "test_corpus.py::test_corpus_writes_rows_parquet_and_leaderboard": "a corpus run",
    "test_corpus.py::test_resume_skips_finished_rows_and_reruns_changed_ones": "two corpus runs",
    "test_corpus.py::test_rows_with_missing_files_fail_and_the_others_run": "a corpus run",
    "test_corpus.py::test_row_signature_ignores_where_the_files_are": "two corpus runs",
    "test_corpus.py::test_resume_reruns_rows_when_the_harness_code_changed": "three corpus runs",
    "test_coverage.py::test_reference_summify_covers_more_than_wiki": "coverage of two references with MiniLM",
    "test_align.py::test_reference_hessian_free_claim_retrieves_the_alexnet_chapter": "embeds the reference transcript",
    "test_page_kinds.py::test_agreement_with_hand_labels_is_at_least_95_percent": "classifies every shared page",
    "test_lexical.py::test_reference_path_through_the_run": "a pipeline run with BERTScore",
    "test_llm_backend.py::test_after_a_timeout_the_retry_waits_for_the_busy_slot": "waits out a real timeout",
    "test_trained_backend.py::test_long_evidence_is_windowed_not_truncated": "the trained verifier on long evidence",
    "test_video_url.py::test_vtt_evidence_links_to_the_video_named_in_the_summary": "a pipeline run on a caption file",
    "test_meta_eval.py::test_run_meta_eval_end_to_end": "meta-eval over a benchmark file",
    "test_report_html.py::test_write_run_writes_report_html": "a pipeline run",
    "test_report_html.py::test_injected_script_does_not_run_in_chromium": "drives a real Chromium",
    "test_lexical.py::test_bertscore_f1_and_the_model_and_layer_are_named": "BERTScore with MiniLM",
    "test_lexical.py::test_chunks_fit_the_limit_and_keep_every_word": "BERTScore with MiniLM",
    "test_lexical.py::test_reference_scores_hand_computed_and_bert_score_equal": "BERTScore with MiniLM",
    "test_lexical.py::test_sentence_only_in_the_last_chunk_is_found": "BERTScore with MiniLM",
    "test_lexical.py::test_compute_lexical_reports_chunks_and_excludes_sponsors": "BERTScore with MiniLM",
    "test_lexical.py::test_bertscore_matching_equals_bert_score": "BERTScore with MiniLM",
    "test_lexical.py::test_chunked_bertscore_never_feeds_the_model_more_than_the_limit": "BERTScore with MiniLM",
    "test_coverage.py::test_untimed_transcript_gets_chapters_without_invented_times": "embeds a transcript with MiniLM",
    "test_coverage.py::test_key_points_per_chapter_count_centrality_and_time": "embeds the reference with MiniLM",
    "test_coverage.py::test_key_points_cached_in_process": "embeds the reference with MiniLM",
    "test_coverage.py::test_auto_segmentation_finds_topic_boundary_within_one_turn": "embeds a transcript with MiniLM",
    "test_coverage.py::test_timeline_png_and_svg_written": "coverage with MiniLM and matplotlib",
    "test_coverage.py::test_sponsor_chapter_and_sentences_excluded_from_denominators": "coverage with MiniLM",
    "test_coverage.py::test_coverage_labels_full_partial_none": "coverage with MiniLM",
    "test_coverage.py::test_time_weighted_uses_chapter_durations": "coverage with MiniLM",
    "test_coverage.py::test_verdict_evidence_adds_credit_and_contradicted_claims_cover_nothing": "coverage with MiniLM",
    "test_coverage.py::test_redundancy_reports_restating_pairs": "coverage with MiniLM",
    "test_coverage.py::test_segmentation_auto_overrides_transcript_chapters": "coverage with MiniLM",
    "test_coverage.py::test_metric_groups_registered": "coverage with MiniLM",
    "test_cli.py::test_failed_run_leaves_no_folder_holding_only_the_log": "a subprocess",
    "test_cli.py::test_transcript_path_to_missing_file": "a subprocess",
    "test_cli.py::test_mistyped_config_is_one_line_and_exit_2": "a subprocess per case",
    "test_page_kinds.py::test_416_other_pages_kinds": "classifies every shared page of #416",
    "test_flags.py::test_ad_content_text_signal_and_kind_severity": "MiniLM similarity to ad reads",
    "test_markdown_format.py::test_episode_416_summaries_parse_with_every_line_accounted_for": "parses the shared #416 pages",
    "test_report_timeline.py::test_untimed_timeline_uses_word_position_and_plots_every_claim": "plots with matplotlib",
    "test_bad_inputs.py::test_transcript_that_is_plain_prose_is_rejected": "a pipeline run up to the transcript check",
    "test_trained_backend.py::test_verbatim_claim_beats_flipped_claim": "the trained verifier model",
    "test_trained_backend.py::test_describe_has_weights_sha256": "the trained verifier model",
    "test_backends.py::test_hf_nli_three_way_tiny_checkpoint": "builds and runs a tiny NLI checkpoint",
    "test_backends.py::test_hf_nli_binary_label_map": "builds and runs a tiny NLI checkpoint",
}

# Tests that use one of these fixtures are slow: the fixture runs the pipeline.
SLOW_FIXTURES: dict[str, str] = {
    "reference_runs": "runs the three references through the whole pipeline",
    "ref_flags": "runs the flag detectors on the three references",
}


def slow_reason(file_name: str, test_path: str, fixtures: list[str] | tuple[str, ...]) -> str | None:
    """Why a test is in the slow tier (``None``: it is not listed). ``test_path`` is the node id
    after the file, without parameters (``test_x`` or ``TestClass::test_x``)."""
    if file_name in SLOW_FILES:
        return SLOW_FILES[file_name]
    if f"{file_name}::{test_path}" in SLOW_TESTS:
        return SLOW_TESTS[f"{file_name}::{test_path}"]
    return next((SLOW_FIXTURES[f] for f in fixtures if f in SLOW_FIXTURES), None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--refresh-baselines",
        action="store_true",
        help="rewrite results/baseline/*.json and results/baseline/units/*.json from this session's "
        "reference runs (tests/test_baselines.py); commit them on their own, saying why",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the listed tests ``slow`` so that ``-m "not slow"`` leaves them out."""
    for item in items:
        test_path = item.nodeid.split("::", 1)[-1].split("[", 1)[0]
        if slow_reason(item.path.name, test_path, getattr(item, "fixturenames", ())) is not None:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")):
            return real_connect(self, address)
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise RuntimeError(f"test tried to open a network connection to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


def pytest_configure(config):
    """configs/ extends the structured schemas of harness/schema.py (issue #18): store them in
    Hydra's ConfigStore before any test composes with Hydra directly."""
    from harness.schema import register_schemas

    register_schemas()


def compose(overrides: list[str] | None = None, config_name: str = "config"):
    """Compose the app config with Hydra the way the CLI does (without running it)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return hydra_compose(config_name=config_name, overrides=overrides or [])


@pytest.fixture(scope="session")
def reference_transcript():
    """The reference transcript, parsed and with sponsor segments marked (default config)."""
    from omegaconf import OmegaConf

    from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    cfg = OmegaConf.to_container(compose().sponsors)
    return mark_sponsors(load_transcript(TRANSCRIPT), sponsor_config_from_mapping(cfg))


@pytest.fixture(scope="session")
def reference_runs(tmp_path_factory) -> dict[str, dict]:
    """The whole pipeline (real models, default config) on the three reference summaries, once
    per test session: ``{name: {"dir", "report", "units"}}``."""
    import json

    from harness.cli import execute_run

    runs = {}
    for name in ("summify", "tldr_qa", "wiki"):
        out = tmp_path_factory.mktemp(name)
        report = execute_run(compose([f"summary={name}"]), out)
        units = [json.loads(line) for line in (out / "units.jsonl").read_text(encoding="utf-8").splitlines()]
        runs[name] = {"dir": out, "report": report, "units": units}
    return runs
