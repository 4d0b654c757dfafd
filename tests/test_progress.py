"""Progress bars: on stderr for a terminal only, off with report.progress=false, and they change
no score (issue #15 item 10)."""

from __future__ import annotations

import io

from harness.align import score_pairs
from harness.backends.base import PairScore, VerifyPair
from harness.progress import progress_enabled


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _BatchedVerifier:
    """A verifier that scores in batches of two and records every call."""

    name = "fake"
    batch_pairs = 2

    def __init__(self) -> None:
        self.calls: list[int] = []

    def score(self, pairs):
        self.calls.append(len(pairs))
        return [PairScore(support=len(p.claim) / 100, contradiction=0.0) for p in pairs]


PAIRS = [VerifyPair(f"claim {'x' * i}", "window", None) for i in range(5)]


def test_bars_only_on_a_terminal_and_only_when_asked():
    assert progress_enabled({"report": {"progress": True}}, _Terminal())
    assert progress_enabled({}, _Terminal())  # on by default
    assert not progress_enabled({"report": {"progress": False}}, _Terminal())
    assert not progress_enabled({"report": {"progress": True}}, io.StringIO())  # a pipe, a log, CI


def test_verify_bar_advances_per_verifier_batch_and_changes_no_score():
    shown = _Terminal()
    verifier = _BatchedVerifier()
    scores = score_pairs(verifier, PAIRS, progress=True, stream=shown)
    assert verifier.calls == [2, 2, 1]
    assert shown.getvalue().startswith("\rverify:   0%") and "0/5 [" in shown.getvalue()  # cleared when done
    assert scores == _BatchedVerifier().score(PAIRS)  # the same as one call with every pair
    quiet = io.StringIO()
    assert score_pairs(_BatchedVerifier(), PAIRS, progress=False, stream=quiet) == scores
    assert quiet.getvalue() == ""


def test_a_verifier_without_batches_is_called_once():
    class Whole(_BatchedVerifier):
        batch_pairs = None

    verifier = Whole()
    score_pairs(verifier, PAIRS)
    assert verifier.calls == [5]
    assert score_pairs(verifier, []) == []
