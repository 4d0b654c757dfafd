"""The in-process ``gguf`` judge, the shared judge core and the ``cascade`` backend.

Every test here runs a FAKE in-process model (``FakeEngine``): no model file, no xllamacpp.
The opt-in ``test_real_gguf_model`` runs a real GGUF file when ``HARNESS_TEST_GGUF`` names one.
"""

from __future__ import annotations

import builtins
import math
import os
import re
from pathlib import Path
from typing import Any, Mapping

import pytest

from harness.backends import PairScore, VerifyPair, build_verifier
from harness.backends.cascade import CascadeVerifier
from harness.backends.gguf import GGUFVerifier, resolve_model_file
from harness.backends.judge import (
    ANSWER_GRAMMAR,
    PROMPT_VERSION,
    ContextOverflowError,
    JudgeIncompleteError,
    LLMReplyError,
    focus_evidence,
    grade_alternatives,
    judge_messages,
)
from harness.errors import BackendUnavailableError, ConfigError
from harness.pipeline import effective_align_config

from conftest import compose

EVIDENCE = "Ilya Sutskever co-founded OpenAI in 2015 and worked on AlexNet with Alex Krizhevsky."
OTHER = "Lex asks about the role of compute in deep learning, and Ilya says it was decisive."


def _reply(top: list[tuple[str, float]], text: str | None = None) -> dict[str, Any]:
    """An OpenAI-style chat completion whose first token has these (token, probability) alternatives."""
    alts = [{"token": t, "logprob": math.log(p)} for t, p in top]
    return {
        "choices": [
            {
                "message": {"role": "assistant", "content": text if text is not None else top[0][0]},
                "logprobs": {"content": [{"token": top[0][0], "logprob": alts[0]["logprob"], "top_logprobs": alts}]},
            }
        ]
    }


class FakeEngine:
    """Judges by word overlap and negation, answering with graded first-token logprobs.

    ``overflow_over`` words of evidence raise ContextOverflowError; ``fail`` claims raise an error.
    """

    model_id = "fake-judge"

    def __init__(self, overflow_over: int | None = None, fail: set[str] | None = None) -> None:
        self.bodies: list[Mapping[str, Any]] = []
        self.overflow_over = overflow_over
        self.fail = fail or set()

    def complete(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        self.bodies.append(body)
        user = body["messages"][-1]["content"]
        passage = re.search(r"Passage:\n(.*?)\n\n", user, re.S).group(1)
        claim = re.search(r"Claim: (.*)\Z", user, re.S).group(1).strip()
        if claim in self.fail:
            raise LLMReplyError(f"fake engine refuses {claim!r}")
        if self.overflow_over is not None and len(passage.split()) > self.overflow_over:
            raise ContextOverflowError("request (6105 tokens) exceeds the available context size")
        words = set(re.findall(r"[a-z0-9]+", claim.lower()))
        known = set(re.findall(r"[a-z0-9]+", passage.lower()))
        if "not" in words and "not" not in known:
            return _reply([("contr", 0.9), ("supported", 0.05), ("un", 0.05)])
        if words <= known:
            return _reply([("supported", 0.9), ("un", 0.06), ("contr", 0.04)])
        return _reply([("un", 0.6), ("supported", 0.3), (" contrad", 0.1)])


def _gguf(tmp_path: Path, engine: FakeEngine, **extra: Any) -> GGUFVerifier:
    cfg = {"name": "gguf", "path": None, "cache_dir": str(tmp_path / "cache"), "progress_every_s": 0, **extra}
    return GGUFVerifier(cfg, engine=engine)


# --- prompt and grading --------------------------------------------------------------------


def test_prompt_puts_the_window_first_and_the_claim_last() -> None:
    system, user = judge_messages(VerifyPair("Ilya co-founded OpenAI.", EVIDENCE, context="Founding"), True)
    assert system["role"] == "system" and EVIDENCE not in system["content"]
    text = user["content"]
    assert text.startswith(f"Passage:\n{EVIDENCE}\n\n")
    assert text.index(EVIDENCE) < text.index("Context: Founding\n") < text.index("Claim: Ilya co-founded OpenAI.")
    # The request ends with the claim: the instructions sit in the system prompt, a prefix every
    # request shares, so only the window (when new) and the claim are evaluated per pair.
    assert text.endswith("Claim: Ilya co-founded OpenAI.")
    assert "unsupported" in system["content"] and "contradicted" in system["content"]
    # Two claims on one window share every token up to the claim: the prefix the KV cache re-uses.
    other = judge_messages(VerifyPair("Alex wrote the kernels.", EVIDENCE), False)[1]["content"]
    prefix = os.path.commonprefix([text, other])
    assert prefix.startswith(f"Passage:\n{EVIDENCE}\n\n") and "Claim" not in prefix.replace("Context", "")[:-1]


def test_few_shot_examples_come_before_the_pair_and_share_the_prefix() -> None:
    from harness.backends.judge import FEW_SHOT, prompt_version

    pair = VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)
    plain = judge_messages(pair, True)
    shots = judge_messages(pair, True, few_shot=True)
    assert len(shots) == len(plain) + 2 * len(FEW_SHOT)
    assert shots[0] == plain[0] and shots[-1] == plain[-1]  # same system prompt, same final request
    assert [m["role"] for m in shots[1:-1]] == ["user", "assistant"] * len(FEW_SHOT)
    assert {m["content"] for m in shots[2:-1:2]} == {"supported", "contradicted", "unsupported"}
    # every example is a passage and a claim in the request's own layout
    assert all(m["content"].startswith("Passage:\n") and "\n\nClaim: " in m["content"] for m in shots[1:-1:2])
    # the examples are invented: no name of the reference episode's people
    assert not any(name in m["content"] for m in shots[1:-1] for name in ("Ilya", "Lex", "Sutskever", "Fridman"))
    # two pairs share everything up to their own passage: the prefix the KV cache re-uses
    other = judge_messages(VerifyPair("Alex wrote the kernels.", OTHER), True, few_shot=True)
    assert other[:-1] == shots[:-1]
    assert prompt_version(True) != prompt_version(False) == PROMPT_VERSION


def test_few_shot_answers_are_cached_apart_from_the_plain_prompts(tmp_path: Path) -> None:
    pair = [VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)]
    engine = FakeEngine()
    _gguf(tmp_path, engine).score(pair)
    shots = _gguf(tmp_path, engine, few_shot=True)
    shots.score(pair)
    assert len(engine.bodies) == 2  # not answered from the plain prompt's cache
    assert shots.describe()["prompt_version"].endswith("+few-shot")
    assert _gguf(tmp_path, engine, few_shot=True).score(pair) and len(engine.bodies) == 2  # its own cache hit


LONG_WINDOW = (
    "We talked about the weather in the mountains for a while. "
    "Then Ilya said the lab was founded in 2015 by a small group of researchers. "
    "He added that the first year was spent hiring and building the cluster. "
    "Later the conversation moved to chess openings and a long story about a cat. "
    "Nobody mentioned the budget after that."
)


def test_focus_evidence_keeps_the_sentences_around_the_best_match() -> None:
    claim = "The lab was founded in 2015 and its first year went to hiring."
    focused = focus_evidence(claim, LONG_WINDOW, 30)
    # best sentence (founded/2015/lab) first, then the better-matching neighbour (first/year/
    # hiring) while it fits; the earlier neighbour (no match) would overflow the budget
    assert focused == (
        "Then Ilya said the lab was founded in 2015 by a small group of researchers. "
        "He added that the first year was spent hiring and building the cluster."
    )
    assert len(focused.split()) <= 30
    # neighbours that match equally: the earlier one first
    assert focus_evidence("The lab was founded in 2015.", LONG_WINDOW, 30).startswith("We talked about")


def test_focus_evidence_edges() -> None:
    assert focus_evidence("anything", LONG_WINDOW, 0) == LONG_WINDOW  # 0: whole window
    assert focus_evidence("anything", LONG_WINDOW, 500) == LONG_WINDOW  # within budget: unchanged
    # a best sentence longer than the budget is cut to it
    assert focus_evidence("founded 2015 lab", LONG_WINDOW, 10) == "Then Ilya said the lab was founded in 2015 by"
    # no content word in common: the first sentence, then its neighbours
    assert focus_evidence("zebra", LONG_WINDOW, 12).startswith("We talked about the weather")


def test_the_judge_reads_the_focused_window_and_keys_its_cache_on_it(tmp_path: Path) -> None:
    engine = FakeEngine()
    verifier = _gguf(tmp_path, engine, evidence_words=30)
    verifier.score([VerifyPair("The lab was founded in 2015.", LONG_WINDOW)])
    user = engine.bodies[-1]["messages"][1]["content"]
    assert "chess" not in user and "founded in 2015" in user
    assert verifier.describe()["evidence_words"] == 30
    with pytest.raises(ConfigError, match="evidence_words"):
        _gguf(tmp_path, FakeEngine(), evidence_words=5)


def test_request_asks_for_one_constrained_token_at_temperature_zero(tmp_path: Path) -> None:
    engine = FakeEngine()
    _gguf(tmp_path, engine).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    (body,) = engine.bodies
    assert body["max_tokens"] == 1 and body["temperature"] == 0.0 and body["seed"] == 0
    assert body["grammar"] == ANSWER_GRAMMAR and body["logprobs"] is True and body["top_logprobs"] == 20


def test_logprobs_are_summed_per_answer_and_normalised() -> None:
    probs = grade_alternatives(
        [("contr", math.log(0.5)), (" contrad", math.log(0.1)), ("supported", math.log(0.2)),
         ("un", math.log(0.1)), ("The", math.log(0.1))]
    )
    assert probs == pytest.approx({"contradicted": 0.6 / 0.9, "supported": 0.2 / 0.9, "unsupported": 0.1 / 0.9})
    assert grade_alternatives([("The", -0.1), ("A", -2.0)]) is None


def test_graded_scores_are_rounded_and_saved_per_pair(tmp_path: Path) -> None:
    verifier = _gguf(tmp_path, FakeEngine())
    supported, contradicted, unsupported = verifier.score(
        [VerifyPair("Ilya co-founded OpenAI.", EVIDENCE), VerifyPair("Ilya did not co-found OpenAI.", OTHER),
         VerifyPair("Ilya founded DeepMind.", OTHER)]
    )
    assert (supported.support, supported.contradiction) == (0.9, 0.04)
    assert (contradicted.support, contradicted.contradiction) == (0.05, 0.9)
    assert unsupported.features["p_unsupported"] == 0.6 and unsupported.support == 0.3
    assert supported.features["judged"] == 1.0 and supported.features["graded"] == 1.0


def test_a_reply_that_is_no_answer_is_an_error_not_a_guess(tmp_path: Path) -> None:
    class Babbler(FakeEngine):
        def complete(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
            return _reply([("The", 0.7), ("A", 0.3)])

    with pytest.raises(JudgeIncompleteError, match=r"answered 'The'"):
        _gguf(tmp_path, Babbler()).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])


# --- window order ----------------------------------------------------------------------------


def test_second_window_is_judged_only_when_the_first_is_inconclusive(tmp_path: Path) -> None:
    engine = FakeEngine()
    pairs = [
        VerifyPair("Ilya co-founded OpenAI.", EVIDENCE), VerifyPair("Ilya co-founded OpenAI.", OTHER),  # conclusive
        VerifyPair("Ilya likes compute.", OTHER), VerifyPair("Ilya likes compute.", EVIDENCE),  # inconclusive
        VerifyPair("Ilya likes compute.", "a third window"),  # beyond max_windows=2
    ]
    scores = _gguf(tmp_path, engine).score(pairs)
    assert [s.features["judged"] for s in scores] == [1.0, 0.0, 1.0, 1.0, 0.0]
    assert (scores[1].support, scores[1].contradiction) == (0.0, 0.0)
    assert len(engine.bodies) == 3


def test_stop_at_supported_ends_a_claim_at_the_supported_cut(tmp_path: Path) -> None:
    # p_supported 0.3 on the first window: below `conclusive` (0.8) but at the backend's own
    # supported cut, so the claim is supported whatever its second window says.
    pairs = [VerifyPair("Ilya likes compute.", OTHER), VerifyPair("Ilya likes compute.", EVIDENCE)]
    thresholds = {"supported": 0.3, "partial": 0.2, "contradicted": 0.5}
    # By default the second window is still judged: it may be the better evidence to show.
    engine = FakeEngine()
    assert [s.features["judged"] for s in _gguf(tmp_path / "a", engine, thresholds=thresholds).score(pairs)] == [1.0, 1.0]
    engine = FakeEngine()
    scores = _gguf(tmp_path, engine, thresholds=thresholds, stop_at_supported=True).score(pairs)
    assert [s.features["judged"] for s in scores] == [1.0, 0.0]
    assert scores[0].support == pytest.approx(0.3) and len(engine.bodies) == 1
    # Just above the score, the first window is inconclusive again and the second one is asked.
    engine = FakeEngine()
    above = {**thresholds, "supported": 0.301}
    scores = _gguf(tmp_path / "b", engine, thresholds=above, stop_at_supported=True).score(pairs)
    assert [s.features["judged"] for s in scores] == [1.0, 1.0]
    assert len(engine.bodies) == 2


def test_joint_windows_judge_a_merged_claim_on_both_windows_at_once(tmp_path: Path) -> None:
    # "Zorblex" is in one window and "Quillan" in the other: no window alone supports the claim
    first = "Mara founded Zorblex in a garage. It sold kites, then toys."
    second = "Years later Mara sold Quillan to a bank. The bank closed it."
    claim = "Mara founded Zorblex, then sold Quillan."
    pairs = [VerifyPair(claim, first), VerifyPair(claim, second)]
    alone = _gguf(tmp_path / "alone", FakeEngine(), evidence_words=0).score(pairs)
    assert max(s.support for s in alone) < 0.5
    engine = FakeEngine()
    joint = _gguf(tmp_path / "joint", engine, evidence_words=0, joint_windows=True).score(pairs)
    assert joint[0].support < 0.5 and joint[1].support == 0.9
    # the second request holds the first window, a cut, then the second window
    assert len(engine.bodies) == 2
    assert f"{first}\n[…]\n{second}" in engine.bodies[1]["messages"][-1]["content"]


def test_claims_on_the_same_window_are_asked_one_after_another(tmp_path: Path) -> None:
    engine = FakeEngine()
    pairs = [VerifyPair("Ilya co-founded OpenAI.", EVIDENCE), VerifyPair("Ilya did not say so.", OTHER),
             VerifyPair("Alex worked on AlexNet.", EVIDENCE)]
    _gguf(tmp_path, engine, max_windows=1).score(pairs)
    passages = [b["messages"][1]["content"].split("\n\n")[0] for b in engine.bodies]
    assert passages[0] == passages[1] != passages[2] or passages[1] == passages[2] != passages[0]


# --- cache and failures ----------------------------------------------------------------------


def test_verdicts_are_cached_on_disk_and_a_second_run_asks_nothing(tmp_path: Path) -> None:
    pairs = [VerifyPair("Ilya co-founded OpenAI.", EVIDENCE), VerifyPair("Ilya did not co-found OpenAI.", OTHER)]
    first = _gguf(tmp_path, FakeEngine()).score(pairs)
    engine = FakeEngine()
    again = _gguf(tmp_path, engine)  # a new process would build a new verifier, as here
    assert again.score(pairs) == first
    assert engine.bodies == []
    assert again.describe()["pairs"]["cache_hits"] == 2
    assert (tmp_path / "cache" / "judge" / "verdicts.sqlite").is_file()
    assert again.describe()["prompt_version"] == PROMPT_VERSION


def test_cache_key_names_model_window_and_claim(tmp_path: Path) -> None:
    _gguf(tmp_path, FakeEngine()).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    other_model = FakeEngine()
    other_model.model_id = "another-model"
    _gguf(tmp_path, other_model).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    engine = FakeEngine()
    _gguf(tmp_path, engine).score([VerifyPair("Ilya co-founded OpenAI", EVIDENCE), VerifyPair("Ilya co-founded OpenAI.", OTHER)])
    assert len(other_model.bodies) == 1 and len(engine.bodies) == 2


def test_cache_off_asks_every_time(tmp_path: Path) -> None:
    engine = FakeEngine()
    verifier = _gguf(tmp_path, engine, cache=False)
    verifier.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    verifier.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    assert len(engine.bodies) == 2 and not (tmp_path / "cache").exists()


def test_a_failed_request_does_not_lose_the_other_answers(tmp_path: Path) -> None:
    pairs = [VerifyPair("Ilya co-founded OpenAI.", EVIDENCE), VerifyPair("Alex worked on AlexNet.", EVIDENCE),
             VerifyPair("Ilya did not co-found OpenAI.", OTHER)]
    with pytest.raises(JudgeIncompleteError, match=r"1 of 3 pairs not judged .*fake engine refuses.*cached in .*rerun"):
        _gguf(tmp_path, FakeEngine(fail={"Alex worked on AlexNet."})).score(pairs)
    engine = FakeEngine()
    scores = _gguf(tmp_path, engine).score(pairs)
    assert len(engine.bodies) == 1 and "Alex worked on AlexNet." in engine.bodies[0]["messages"][1]["content"]
    assert [s.support for s in scores] == [0.9, 0.9, 0.05]


def test_the_judge_stops_asking_after_consecutive_failures(tmp_path: Path) -> None:
    claims = [f"Claim number {i} here." for i in range(6)]
    engine = FakeEngine(fail=set(claims))
    with pytest.raises(JudgeIncompleteError, match=r"6 of 6 pairs not judged"):
        _gguf(tmp_path, engine, max_consecutive_failures=2).score([VerifyPair(c, EVIDENCE) for c in claims])
    assert len(engine.bodies) == 2


def test_a_context_overflow_trims_the_window_and_retries(tmp_path: Path) -> None:
    long_window = " ".join([EVIDENCE] * 6)  # 78 words
    engine = FakeEngine(overflow_over=40)
    (score,) = _gguf(tmp_path, engine).score([VerifyPair("Ilya co-founded OpenAI.", long_window)])
    assert score.features["evidence_trimmed"] == 2.0  # 78 -> 52 -> 34 words
    assert score.support == 0.9 and len(engine.bodies) == 3


def test_a_context_overflow_that_trimming_cannot_fix_is_reported(tmp_path: Path) -> None:
    with pytest.raises(JudgeIncompleteError, match="exceeds the available context size"):
        _gguf(tmp_path, FakeEngine(overflow_over=5), max_trims=1).score([VerifyPair("Ilya co-founded OpenAI.", " ".join([EVIDENCE] * 6))])


# --- building the gguf backend ---------------------------------------------------------------


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_import = builtins.__import__

    def no_xllamacpp(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "xllamacpp":
            raise ImportError("No module named 'xllamacpp'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_xllamacpp)
    with pytest.raises(BackendUnavailableError, match=r'optional extra "judge": pip install -e "\.\[judge\]"'):
        build_verifier({"name": "gguf", "path": str(tmp_path / "m.gguf")})


def test_model_file_must_exist_and_be_gguf(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailableError, match="GGUF model file not found"):
        resolve_model_file({"path": str(tmp_path / "missing.gguf")})
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(BackendUnavailableError, match="not a GGUF file"):
        resolve_model_file({"path": str(bad)})
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert resolve_model_file({"path": str(good)}) == good
    with pytest.raises(ConfigError, match="exactly one of"):
        resolve_model_file({})
    with pytest.raises(ConfigError, match="exactly one of"):
        resolve_model_file({"path": str(good), "hf_repo": "org/repo", "hf_file": "m.gguf"})
    with pytest.raises(ConfigError, match="needs model.hf_file"):
        resolve_model_file({"hf_repo": "org/repo"})


def _fake_hf_cache(root: Path, repo: str, filename: str) -> Path:
    """The layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<rev>/file}."""
    folder = root / f"models--{repo.replace('/', '--')}"
    revision = "0123456789abcdef0123456789abcdef01234567"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(revision)
    snapshot = folder / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / filename).write_bytes(b"GGUF\x03\x00\x00\x00fake")
    return snapshot / filename


def test_hf_repo_is_read_from_the_cache_when_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cached = _fake_hf_cache(tmp_path, "org/judge-GGUF", "judge-q4_k_m.gguf")
    cfg = {"hf_repo": "org/judge-GGUF", "hf_file": "judge-q4_k_m.gguf", "hf_cache_dir": str(tmp_path)}
    assert resolve_model_file(cfg).resolve() == cached.resolve()


def test_hf_repo_not_in_the_cache_is_refused_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = {"hf_repo": "org/judge-GGUF", "hf_file": "other.gguf", "hf_cache_dir": str(tmp_path)}
    with pytest.raises(BackendUnavailableError, match=r"not in the Hugging Face cache and HF_HUB_OFFLINE=1"):
        resolve_model_file(cfg)


def test_unknown_key_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown key"):
        GGUFVerifier({"name": "gguf", "temperature": 0.2}, engine=FakeEngine())
    with pytest.raises(ConfigError, match="max_windows"):
        GGUFVerifier({"name": "gguf", "max_windows": 0}, engine=FakeEngine())


def test_gguf_config_composes_with_its_own_thresholds() -> None:
    cfg = compose(["model=gguf", "model.path=/models/judge.gguf"])
    assert cfg.model.name == "gguf" and cfg.model.path == "/models/judge.gguf"
    align = effective_align_config({"align": dict(cfg.align), "model": dict(cfg.model)})
    assert dict(align["thresholds"]) == dict(cfg.model.thresholds)
    bare = compose(["model=hf_nli"])  # a backend with no thresholds of its own keeps align.thresholds
    assert "thresholds" not in bare.model
    assert effective_align_config({"align": dict(bare.align), "model": dict(bare.model)})["thresholds"] == bare.align.thresholds


# --- cascade ---------------------------------------------------------------------------------


class FakeOffline:
    """Offline-tier stand-in: fixed features per claim text."""

    name = "offline"

    def __init__(self, features: Mapping[str, Mapping[str, float]]) -> None:
        self.features = features

    def score(self, pairs: list[VerifyPair]) -> list[PairScore]:
        return [PairScore(0.5, 0.0, dict(self.features.get((p.claim, p.evidence), self.features.get(p.claim, {}))))
                for p in pairs]

    def describe(self) -> Mapping[str, Any]:
        return {"name": "offline"}


VERBATIM = {"cosine_max": 0.95, "content_precision_local": 0.95, "entity_precision": 1.0, "number_precision": 1.0,
            "number_conflict": 0.0, "negation_mismatch": 0.0}
NUMBER_CONFLICT = {"cosine_max": 0.9, "content_precision_local": 0.8, "entity_precision": 1.0, "number_precision": 0.0,
                   "number_conflict": 1.0, "negation_mismatch": 0.0}
VAGUE = {"cosine_max": 0.6, "content_precision_local": 0.5, "entity_precision": 1.0, "number_precision": 1.0,
         "number_conflict": 0.0, "negation_mismatch": 0.0}


def _cascade(tmp_path: Path, offline: FakeOffline, engine: FakeEngine) -> CascadeVerifier:
    cfg = compose(["model=cascade"]).model
    rules = {k: dict(v) for k, v in cfg.rules.items()}
    return CascadeVerifier({"name": "cascade", "rules": rules}, offline=offline, judge=_gguf(tmp_path, engine))


def test_cascade_offline_decides_the_sure_claims_and_the_judge_the_rest(tmp_path: Path) -> None:
    offline = FakeOffline({
        ("Ilya co-founded OpenAI in 2015.", OTHER): VERBATIM,
        "Ilya co-founded OpenAI in 2016.": NUMBER_CONFLICT,
        "Ilya co-founded OpenAI.": VAGUE,
        "Ilya did not co-found OpenAI.": VAGUE,
    })
    engine = FakeEngine()
    cascade = _cascade(tmp_path, offline, engine)
    pairs = [
        VerifyPair("Ilya co-founded OpenAI in 2015.", EVIDENCE), VerifyPair("Ilya co-founded OpenAI in 2015.", OTHER),
        VerifyPair("Ilya co-founded OpenAI in 2016.", EVIDENCE),
        VerifyPair("Ilya co-founded OpenAI.", EVIDENCE),
        VerifyPair("Ilya did not co-found OpenAI.", OTHER),
    ]
    scores = cascade.score(pairs)
    assert [(s.support, s.contradiction) for s in scores[:3]] == [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]
    assert [s.features["cascade_tier"] for s in scores] == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert scores[1].features["cascade_deciding_window"] == 1.0 and scores[1].features["offline.cosine_max"] == 0.95
    assert (scores[3].support, scores[4].contradiction) == (0.9, 0.9)
    assert len(engine.bodies) == 2
    described = cascade.describe()
    assert described["claims_by_tier"] == {"offline_supported": 1, "offline_contradicted": 1, "judge": 2}
    assert described["judge"]["name"] == "gguf"


def test_cascade_rule_needs_every_name_and_number_for_supported(tmp_path: Path) -> None:
    missing_name = {**VERBATIM, "entity_precision": 0.5}
    engine = FakeEngine()
    cascade = _cascade(tmp_path, FakeOffline({"Ilya co-founded OpenAI.": missing_name}), engine)
    (score,) = cascade.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    assert score.features["cascade_tier"] == 1.0 and len(engine.bodies) == 1


def test_cascade_config_composes_offline_and_gguf_parts() -> None:
    cfg = compose(["model=cascade", "model.judge.path=/models/judge.gguf"])
    assert cfg.model.offline.name == "offline" and cfg.model.judge.name == "gguf"
    assert cfg.model.judge.path == "/models/judge.gguf"
    assert dict(cfg.model.thresholds) == dict(cfg.model.judge.thresholds)
    with pytest.raises(ConfigError, match="judge.name must be gguf or llm"):
        CascadeVerifier({"name": "cascade", "rules": {k: dict(v) for k, v in cfg.model.rules.items()},
                         "judge": {"name": "offline"}}, offline=FakeOffline({}))


# --- opt-in: a real model --------------------------------------------------------------------


@pytest.mark.skipif(not os.environ.get("HARNESS_TEST_GGUF"), reason="set HARNESS_TEST_GGUF=FILE.gguf to run a real model")
def test_real_gguf_model(tmp_path: Path) -> None:
    verifier = build_verifier({**dict(compose(["model=gguf"]).model), "path": os.environ["HARNESS_TEST_GGUF"],
                               "cache_dir": str(tmp_path), "threads": 2})
    pairs = [
        VerifyPair("Ilya Sutskever co-founded OpenAI in 2015.", EVIDENCE),
        VerifyPair("Ilya Sutskever co-founded OpenAI in 1999.", EVIDENCE),
        VerifyPair("Ilya Sutskever grew up in Canada and studied painting.", EVIDENCE),
    ]
    supported, wrong_year, unsaid = verifier.score(pairs)
    for s in (supported, wrong_year, unsaid):
        assert s.features["graded"] == 1.0
        assert s.features["p_supported"] + s.features["p_contradicted"] + s.features["p_unsupported"] == pytest.approx(1, abs=0.01)
    assert supported.support > wrong_year.support and supported.support > unsaid.support
    print("real gguf:", verifier.describe()["model"], [(s.support, s.contradiction) for s in (supported, wrong_year, unsaid)])
    again = build_verifier({**dict(compose(["model=gguf"]).model), "path": os.environ["HARNESS_TEST_GGUF"],
                            "cache_dir": str(tmp_path), "threads": 2})
    assert again.score(pairs) == [supported, wrong_year, unsaid]
    assert again.describe()["pairs"]["judged"] == 0


def test_judge_extra_is_bounded_and_not_a_core_dependency() -> None:
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    extra = {Requirement(r).name: Requirement(r) for r in project["optional-dependencies"]["judge"]}
    assert "xllamacpp" in extra
    assert all(any(s.operator in {"<", "<="} for s in r.specifier) for r in extra.values())
    assert not any(Requirement(r).name == "xllamacpp" for r in project["dependencies"])


def test_units_jsonl_keeps_the_judge_probabilities_of_each_claim() -> None:
    from types import SimpleNamespace

    from harness.report.records import unit_records
    from harness.types import Claim, SummaryUnit, UnitVerdict, Verdict

    unit = SummaryUnit(unit_id="u001", index=0, section="S", kind="key_insight", text="A. B.", text_plain="A. B.", line_no=1)
    judged = Verdict(claim=Claim("u001.c1", "u001", 0, "A.", 0, 2), label="contradicted", score=0.1, evidence=(),
                     features={"support": 0.1, "verifier.p_supported": 0.1, "verifier.p_contradicted": 0.8,
                               "verifier.p_unsupported": 0.1, "verifier.cascade_tier": 1.0})
    offline = Verdict(claim=Claim("u001.c2", "u001", 1, "B.", 3, 5), label="supported", score=0.6, evidence=(),
                      features={"support": 0.6, "verifier.cosine_max": 0.9})
    result = SimpleNamespace(summary=SimpleNamespace(units=(unit,)),
                             unit_verdicts=(UnitVerdict("u001", "contradicted", 0.35, (judged, offline)),),
                             quote_matches={})
    (row,) = unit_records(result)
    first, second = row["claims"]
    assert first["judge"] == {"p_supported": 0.1, "p_contradicted": 0.8, "p_unsupported": 0.1, "cascade_tier": 1.0}
    assert "judge" not in second
