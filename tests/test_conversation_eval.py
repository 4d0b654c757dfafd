"""The conversation benchmark through the real pipeline: pinned cases per error kind on an
invented mini transcript (tests/data/conversation_mini), unit matching, and the figures."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from test_conversation_benchmark import write_jsonl

from harness.benchmarks.conversation import load_benchmark
from harness.benchmarks.conversation_eval import (
    DEFAULT_PROBLEM_FLAGS,
    Scored,
    dev_threshold_figures,
    evaluate_conversation,
    figures,
    match_units,
)

ROOT = Path(__file__).resolve().parents[1]
MINI = "project:tests/data/conversation_mini/transcript.md"

# (kind, text, cited_time_s, speaker) — our own claims about the invented episode
CLAIMS = [
    ("faithful_paraphrase", "Tobias Renn says the first pump prototype was built in 2014 in a Portuguese fishing village.", None, "guest"),
    ("faithful_paraphrase", "The float, pushed by the rising tide, drove a piston that lifted water about eight metres.", 60.0, None),
    ("faithful_gist", "Tobias Renn argues that simple, repairable machines outlast clever ones.", None, "guest"),
    ("faithful_merge", "Persuading the village council took two summers, and the Halvorsen Foundation grant later paid for pumps in Morocco.", None, None),
    ("number_change", "Tobias Renn says the first pump lifted water about eighty metres up the hill.", None, "guest"),
    ("number_change", "The Halvorsen Foundation grant was four hundred thousand euros.", None, None),
    ("entity_swap", "The first grant came from the Gates Foundation and paid for pumps in Morocco.", None, None),
    ("negation", "Tobias Renn says venture capital worked well for them.", None, "guest"),
    ("speaker_swap", "Tobias Renn says tidal pumps will probably replace diesel pumps on most coasts within twenty years.", None, "guest"),
    ("hedge_removed", "Tidal pumps will replace diesel pumps on most coasts within twenty years.", None, None),
    ("never_said", "Tobias Renn says the pumps are now manufactured in a factory in Norway.", None, "guest"),
    ("sponsor_as_insight", "A key insight: Lumo Socks makes the warmest merino socks, and code QUILL gives fifteen percent off.", None, None),
    ("wrong_citation", "Venture capital never worked for Tobias Renn because investors wanted a return in five years.", 240.0, "guest"),
]


def _claims_rows(split: str = "dev") -> list[dict]:
    rows = []
    for i, (kind, text, cited, speaker) in enumerate(CLAIMS, start=1):
        faithful = kind.startswith("faithful")
        rows.append(
            {"claim_id": f"mini.c{i:03d}", "episode_id": "mini", "split": split, "text": text, "kind": kind,
             "label": "supported" if faithful else ("contradicted" if kind in ("number_change", "negation", "speaker_swap") else "unsupported"),
             "source_claim_id": None, "cited_time_s": cited, "speaker": speaker, "moments": [], "reason": "invented"}
        )
    return rows


@pytest.fixture(scope="module")
def mini_bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    transcript = ROOT / "tests" / "data" / "conversation_mini" / "transcript.md"
    write_jsonl(root / "episodes.jsonl", [
        {"episode_id": "mini", "split": "dev", "transcript": MINI, "transcript_format": "markdown_blog",
         "transcript_sha256": hashlib.sha256(transcript.read_bytes()).hexdigest(), "has_speakers": True},
    ])
    write_jsonl(root / "claims_mini.jsonl", _claims_rows())
    return load_benchmark(root)


@pytest.fixture(scope="module")
def run_cfg(tmp_path_factory):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "configs")):
        cfg = compose(config_name="meta_eval")
    conf = OmegaConf.to_container(cfg, resolve=True)
    conf["align"]["cache_dir"] = str(tmp_path_factory.mktemp("cache"))
    return conf


@pytest.fixture(scope="module")
def evaluated(mini_bench, run_cfg):
    from harness.backends import build_verifier

    verifier = build_verifier(run_cfg["model"])
    result, rows = evaluate_conversation(mini_bench, run_cfg, verifier, problem_flags=DEFAULT_PROBLEM_FLAGS)
    return result, {r["key"]: r for r in rows}


def _row(rows, kind, nth=0):
    keys = [f"mini.c{i:03d}" for i, c in enumerate(CLAIMS, start=1) if c[0] == kind]
    return rows[keys[nth]]


def test_faithful_claims_pass(evaluated):
    _, rows = evaluated
    for kind in ("faithful_paraphrase", "faithful_gist"):
        for key in [f"mini.c{i:03d}" for i, c in enumerate(CLAIMS, start=1) if c[0] == kind]:
            assert rows[key]["predicted_problem"] is False, rows[key]


def test_faithful_merge_is_a_known_false_alarm(evaluated):
    """Known false alarm (measured, not hidden): the merge's support lies between the supported
    cut refitted on the full dev split (0.0775) and the earlier one (0.0706), so the
    contradiction rule's firing now labels it contradicted."""
    _, rows = evaluated
    r = _row(rows, "faithful_merge")
    assert r["predicted_problem"] is True and r["flags"] == ["contradicted_claim"], r


def test_number_change_is_caught(evaluated):
    _, rows = evaluated
    assert _row(rows, "number_change", 0)["predicted_problem"]
    # Known miss (measured, not hidden): "four hundred thousand euros" against "forty thousand
    # euros" keeps a low but supported score, and number_mismatch needs evidence scoring >= 0.25.
    assert _row(rows, "number_change", 1)["predicted_problem"] is False


def test_negation_is_a_problem(evaluated):
    _, rows = evaluated
    assert _row(rows, "negation")["predicted_problem"]


def test_hedge_removed_is_a_known_miss(evaluated):
    """No detector compares hedges: "will probably" said by the host, restated as a fact without
    a speaker, stays supported. Pinned so a future hedge check shows up here."""
    _, rows = evaluated
    assert _row(rows, "hedge_removed")["predicted_problem"] is False


def test_speaker_swap_is_a_misattribution(evaluated):
    _, rows = evaluated
    r = _row(rows, "speaker_swap")
    assert "misattribution" in r["flags"], r


def test_sponsor_as_insight_is_ad_content(evaluated):
    _, rows = evaluated
    r = _row(rows, "sponsor_as_insight")
    assert "ad_content" in r["flags"], r


def test_wrong_citation_is_flagged_whatever_the_verdict(evaluated):
    _, rows = evaluated
    r = _row(rows, "wrong_citation")
    assert "wrong_timestamp" in r["flags"], r
    # the faithful claim that cites the right minute is not
    assert "wrong_timestamp" not in _row(rows, "faithful_paraphrase", 1)["flags"]


def test_never_said_and_entity_swap_are_problems(evaluated):
    _, rows = evaluated
    assert _row(rows, "never_said")["predicted_problem"]
    assert _row(rows, "entity_swap")["predicted_problem"]


def test_figures_shape(evaluated):
    result, _ = evaluated
    claims = result["splits"]["dev"]["claims"]
    assert claims["n"] == len(CLAIMS)
    assert claims["false_alarms_on_faithful"] == 0.25  # the merge, 1 of 4 (see above)
    assert set(claims["by_kind"]) == {c[0] for c in CLAIMS}
    assert result["splits"]["test"]["claims"] == {"n": 0}


# ---- pure functions -----------------------------------------------------------------------------


def _scored(problem: bool, predicted: bool, score: float, split: str = "test", group: str = "g", flags=()) -> Scored:
    return Scored("k", "e", split, group, problem, "supported" if not predicted else "unsupported", score, tuple(flags), predicted)


def test_figures_balanced_accuracy_and_false_alarms():
    rows = [
        _scored(False, False, 0.9, group="faithful_gist"),
        _scored(False, True, 0.2, group="faithful_gist"),
        _scored(True, True, 0.1, group="negation"),
        _scored(True, True, 0.8, group="negation", flags=("number_mismatch",)),
    ]
    f = figures(rows, ("negation", "faithful_gist"), ("faithful_gist",))
    assert f["balanced_accuracy"] == 0.75  # supported recall 1/2, problem recall 2/2
    assert f["false_alarms_on_faithful"] == 0.5
    assert f["by_kind"]["negation"] == {"n": 2, "flagged": 1.0}
    assert f["roc_auc"] == 0.75 and f["roc_auc_with_flags"] == 1.0
    assert f["flags_fired"] == {"number_mismatch": 1}


def test_dev_threshold_is_chosen_on_dev_only():
    dev = [_scored(False, False, 0.9, "dev"), _scored(True, True, 0.3, "dev")]
    test = [_scored(False, False, 0.5, "test"), _scored(True, True, 0.45, "test")]
    got = dev_threshold_figures(dev + test)
    assert got["dev_balanced_accuracy"] == 1.0
    assert 0.3 <= got["threshold"] < 0.9
    # the test records do not move the threshold
    assert dev_threshold_figures(dev + [_scored(False, False, 0.1, "test")])["threshold"] == got["threshold"]


def test_match_units_by_span_overlap():
    from harness.benchmarks.conversation import LabelledUnit
    from harness.types import Summary, SummaryUnit

    line = "- First sentence here. Second one follows."
    units = (
        SummaryUnit("u001", 0, None, "sentence", "First sentence here.", "First sentence here.", 1),
        SummaryUnit("u002", 1, None, "sentence", "Second one follows.", "Second one follows.", 1),
    )
    summary = Summary("p.md", "0" * 64, "markdown", None, units, ())

    def lu(i, a, b, line_no=1):
        return LabelledUnit("e", "dev", "p.md", "markdown", "0" * 64, i, line_no, a, b, "content", "supported", None, (), "", line[a:b], Path("p.md"), "x")

    got = match_units([lu(0, 2, 22), lu(1, 23, 42), lu(2, 0, 5, line_no=2)], summary, [line, ""])
    assert got == {0: "u001", 1: "u002", 2: None}


def test_backend_thresholds_override_the_align_ones():
    from harness.pipeline import effective_align_config

    cfg = {"align": {"thresholds": {"supported": 0.35, "partial": 0.2, "contradicted": 0.5}, "top_k": 5},
           "model": {"name": "offline", "thresholds": {"supported": 0.07, "partial": 0.035}}}
    got = effective_align_config(cfg)
    assert got["thresholds"] == {"supported": 0.07, "partial": 0.035, "contradicted": 0.5}
    assert cfg["align"]["thresholds"]["supported"] == 0.35  # the input is not changed
    assert effective_align_config({"align": {"thresholds": {"supported": 0.35}}, "model": {}})["thresholds"] == {"supported": 0.35}


def test_every_backend_accepts_its_own_thresholds():
    from harness.backends.base import PIPELINE_KEYS

    assert "thresholds" in PIPELINE_KEYS
    for path in ("offline", "trained", "hf_nli", "llm"):
        source = (ROOT / "harness" / "backends" / f"{path}.py").read_text()
        assert "- PIPELINE_KEYS" in source, path


def test_records_choose_claims_or_units(mini_bench, run_cfg):
    from harness.backends import build_verifier
    from harness.errors import ConfigError
    from harness.meta_eval import run_conversation

    verifier = build_verifier(run_cfg["model"])
    conf = {**run_cfg, "conversation": {**run_cfg["conversation"], "path": str(mini_bench.root), "splits": ["dev"]}}
    # units only: the mini benchmark has no labelled pages, so nothing is scored, and no claim
    result, rows = run_conversation({**conf, "conversation": {**conf["conversation"], "records": ["units"]}}, verifier)
    assert rows == [] and result["splits"]["dev"]["claims"]["n"] == 0
    with pytest.raises(ConfigError, match="conversation.records"):
        run_conversation({**conf, "conversation": {**conf["conversation"], "records": ["pages"]}}, verifier)


def test_rows_carry_the_deciding_claims_features(evaluated):
    _, rows = evaluated
    row = _row(rows, "faithful_paraphrase")
    # the offline verifier's features of the claim that decides the record, rounded, for tuning
    # cuts other than the support one (a judge's p_contradicted, the contradiction score)
    assert row["features"] and all(isinstance(v, float) for v in row["features"].values())
    assert all(round(v, 4) == v for v in row["features"].values())


def test_evidence_at_moment_compares_the_deciding_claims_first_passage():
    from types import SimpleNamespace as NS

    from harness.benchmarks.conversation import Moment
    from harness.benchmarks.conversation_eval import MOMENT_SLACK_S, evidence_at_moment

    def claim(score, start, end=None):
        ev = (NS(start_s=start, end_s=end),) if start is not False else ()
        return NS(score=score, evidence=ev)

    moment = (Moment(100.0, 130.0),)
    # the weakest claim (score 0.2) decides; its passage at 150-160 s is 20 s after the moment
    uv = NS(claims=[claim(0.9, 1000.0, 1010.0), claim(0.2, 150.0, 160.0)])
    assert evidence_at_moment(uv, moment) is True
    assert evidence_at_moment(uv, moment, slack_s=10.0) is False
    # beyond the slack on the other side
    assert evidence_at_moment(NS(claims=[claim(0.5, 40.0, 100.0 - MOMENT_SLACK_S - 1)]), moment) is False
    # a claim with no evidence is a miss; nothing to compare is None
    assert evidence_at_moment(NS(claims=[claim(0.5, False)]), moment) is False
    assert evidence_at_moment(NS(claims=[claim(0.5, None)]), moment) is None
    assert evidence_at_moment(uv, ()) is None and evidence_at_moment(NS(claims=[]), moment) is None


def test_figures_count_evidence_at_the_labelled_moment():
    rows = [
        Scored("a", "e", "dev", "g", False, "supported", 0.9, (), False, evidence_at_moment=True),
        Scored("b", "e", "dev", "g", False, "unsupported", 0.1, (), True, evidence_at_moment=False),
        Scored("c", "e", "dev", "g", True, "unsupported", 0.1, (), True, evidence_at_moment=True),
        Scored("d", "e", "dev", "g", True, "unsupported", 0.1, (), True),  # no moments: not counted
    ]
    assert figures(rows, ("g",))["evidence_at_moment"] == {"n": 3, "share": 0.6667, "share_not_problem": 0.5}


def test_rows_say_whether_the_evidence_is_at_the_moment(evaluated):
    _, rows = evaluated
    # the mini claims carry no moments: nothing to compare
    assert all(r["evidence_at_moment"] is None for r in rows.values())


def test_the_printed_table_names_the_share_of_evidence_at_the_moment():
    from harness.meta_eval import format_conversation_table

    rows = [
        Scored("a", "e", "dev", "faithful_gist", False, "supported", 0.9, (), False, evidence_at_moment=True),
        Scored("b", "e", "dev", "negation", True, "unsupported", 0.1, (), True, evidence_at_moment=False),
    ]
    conv = {"splits": {"dev": {"claims": figures(rows, ("faithful_gist", "negation"), ("faithful_gist",)), "units": {"n": 0}}}}
    header, line = format_conversation_table(conv).splitlines()
    assert "at moment" in header
    assert line.split()[:7] == ["dev", "claims", "2", "1.000", "1.000", "0.000", "0.500"]
    assert line.endswith("negation 1.00")
