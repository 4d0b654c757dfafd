"""The verifier plug point: given a claim and a passage, how strongly does the passage support it?

Backends are registered by name in ``VERIFIERS`` and built from the ``model`` config group with
``build_verifier``. A backend that cannot run here (missing package, missing weights) raises
``BackendUnavailableError`` when it is built, never falls back silently.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Sequence

from harness.registry import Registry
from harness.types import PairScore, VerifyPair


def claim_groups(pairs: Sequence[VerifyPair]) -> list[list[int]]:
    """Indices of ``pairs`` grouped by runs of consecutive pairs with the same claim and context
    (the windows one claim is checked against), in order."""
    groups: list[list[int]] = []
    for i, pair in enumerate(pairs):
        if groups and (pairs[groups[-1][0]].claim, pairs[groups[-1][0]].context) == (pair.claim, pair.context):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


class Verifier(Protocol):
    """Scores (claim, evidence) pairs in batches."""

    name: str

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """One ``PairScore`` per pair, in order."""
        ...

    def describe(self) -> Mapping[str, Any]:
        """Model ids, versions and settings, for the run signature."""
        ...


VERIFIERS: Registry[Any] = Registry("verifier backend")

PIPELINE_KEYS = frozenset({"thresholds"})
"""Keys of a ``model`` config that the alignment stage reads, not the backend: the backend's own
label thresholds (``harness.pipeline.effective_align_config``)."""
