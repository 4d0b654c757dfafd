"""The project's own regression gate: the three reference runs against the committed baselines.

This is what a user's CI does with ``python -m harness check``: any metric worse than its
tolerance (configs/check/default.yaml) or any new major flag fails the build. Refresh a baseline
deliberately, in its own commit, with ``python -m harness check --write-baseline``.
"""

from __future__ import annotations

import pytest

from conftest import ROOT
from harness.check import compare, format_result, load_baseline, load_tolerances

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["summify", "tldr_qa", "wiki"])
def test_reference_run_passes_its_committed_baseline(reference_runs, name):
    baseline = load_baseline(ROOT / "results" / "baseline" / f"{name}.json")
    run = reference_runs[name]
    result = compare(baseline, run["report"], run["units"], load_tolerances())
    assert not result.failed, format_result(result)
    assert baseline["signature"]["inputs"]["summary"]["sha256"] == run["report"]["signature"]["inputs"]["summary"]["sha256"]
