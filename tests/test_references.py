"""The bundled references are byte-identical to the seeds and their README states their hashes."""

from __future__ import annotations

import hashlib

import pytest

from conftest import REFS, SHARED, SUMMARIES, TRANSCRIPT

EXPECTED = {
    TRANSCRIPT: "fcca067026d5bcaa8ac2f98555b61c0dcd11c7f89fb723ca0d72b1ca8601075b",
    SUMMARIES["summify"]: "b4bd8f6889c51409fedea73549ad4dc0bdfb4a0c5bb5833fc444e64969a79b3e",
    SUMMARIES["tldr_qa"]: "205baa6c6750ac089797bfde7408c7f3eb3773b321b7fb2113998ef594ecd408",
    SUMMARIES["wiki"]: "0e809e289272d6ff861c6f1dd12eef42eeba5d4541650dc24bd6847827d130b1",
}
SEED_NAMES = {
    TRANSCRIPT: "002_91a152baa3933bc7.txt",
    SUMMARIES["summify"]: "000_979c5fb879a44834.txt",
    SUMMARIES["tldr_qa"]: "001_200e6a076c8e4dad.txt",
    SUMMARIES["wiki"]: "003_b9c924b5485ead5d.txt",
}


@pytest.mark.parametrize("path", list(EXPECTED), ids=lambda p: p.name)
def test_reference_hash_matches_and_is_documented(path):
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == EXPECTED[path]
    assert digest in (REFS / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", list(SEED_NAMES), ids=lambda p: p.name)
def test_reference_is_byte_identical_to_its_seed(path):
    seed = SHARED / "seeds" / SEED_NAMES[path]
    if not seed.exists():
        pytest.skip(f"{seed} is absent (no ../shared next to the checkout)")
    assert path.read_bytes() == seed.read_bytes()
