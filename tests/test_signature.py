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
