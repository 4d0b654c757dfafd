"""Claim checks on the alignment: what a similarity score cannot see.

A claim that adds hedges to, or strips them from, what was said scores like the claim it was
edited from: the words and the topic are the same. These checks look at the claim and at the
transcript passages the alignment chose as its evidence (``Verdict.evidence``):

``hedge_added``
    the claim carries at least ``HEDGE_ADDED_MARGIN`` hedge cues ("might", "perhaps",
    "somewhat", "was unsure", …) more than the most hedged of its passages: the claim makes
    tentative what was said plainly.
``hedge_removed``
    the claim asserts proof or certainty ("proved", "stated flatly", "definitely",
    "impossible", …) and none of its passages holds a certainty cue.
``speaker``
    on a transcript with speaker labels, the claim attributes its content to one speaker (named
    among its first words) and its best passage is spoken by another.

A fired check demotes a ``supported`` claim to ``partially_supported`` (the content is there;
its strength or its speaker is not) and is recorded as feature ``check.<name>``. The checks
act on labels only; the support score (and so every news benchmark figure, which reads scores)
is unchanged. They are switched on by name in ``align.claim_checks`` (``configs/align``).

Measured on the conversation benchmark's dev split only (see README, "Claim checks").
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

from harness.errors import ConfigError
from harness.types import Evidence, Transcript, UnitVerdict, Verdict

log = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

HEDGE_WORDS = frozenset(
    """may might could perhaps possibly probably maybe somewhat unsure uncertain speculated
    suggested wondered likely unlikely seems seemed guessed hopes hoped tentatively partly
    slightly arguably""".split()
)
"""Single-word hedge cues (the claim says the speaker was tentative)."""

HEDGE_PHRASES = ("i think", "i guess", "not sure", "a bit", "kind of", "sort of", "to some extent", "in some cases")
"""Multi-word hedge cues, matched on word boundaries."""

CERTAINTY_WORDS = frozenset(
    """flatly proved proves proven declared certainly definitely guaranteed guarantees
    impossible undoubtedly inevitably unquestionably conclusively categorically insisted
    absolutely""".split()
)
"""Cues of asserted proof or certainty. Words a faithful summary uses for plain statements
("sure", "firmly", "entirely", "settled", "always") are left out: on dev they fired on
faithful claims as often as on edited ones."""

HEDGE_ADDED_MARGIN = 2
"""How many more hedge cues than its most hedged passage the claim must carry. Speech hedges
("I think", "maybe") and one hedge is ordinary paraphrase (on dev 16% of faithful claims carry
one, 3% two), so a claim must clearly out-hedge what was said."""

CheckFn = Callable[[str, Sequence[Evidence], Sequence[str]], bool]
"""(claim text, its evidence passages best first, the transcript's speaker names) → fires."""



def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def hedge_count(text: str) -> int:
    """Hedge cues in ``text`` (words and phrases)."""
    words = _words(text)
    joined = f" {' '.join(words)} "
    return sum(w in HEDGE_WORDS for w in words) + sum(joined.count(f" {p} ") for p in HEDGE_PHRASES)


def certainty_cues(text: str) -> set[str]:
    """The certainty words ``text`` uses."""
    return set(_words(text)) & CERTAINTY_WORDS


def hedge_added(claim: str, evidence: Sequence[Evidence], speakers: Sequence[str] = ()) -> bool:
    """The claim carries at least two hedge cues more than its most hedged passage."""
    n = hedge_count(claim)
    most = max((hedge_count(e.quote) for e in evidence), default=0)
    return n >= most + HEDGE_ADDED_MARGIN


def hedge_removed(claim: str, evidence: Sequence[Evidence], speakers: Sequence[str] = ()) -> bool:
    """The claim asserts a certainty that no passage asserts."""
    cues = certainty_cues(claim)
    if not cues:
        return False
    return not any(certainty_cues(e.quote) for e in evidence)


def transcript_speakers(transcript: Transcript) -> tuple[str, ...]:
    """The distinct speaker labels of the transcript's turns, in order of appearance."""
    seen: dict[str, None] = {}
    for seg in transcript.segments:
        if seg.speaker:
            seen.setdefault(seg.speaker, None)
    return tuple(seen)


def _name_words(name: str) -> set[str]:
    return {w for w in _words(name) if len(w) >= 3}


SUBJECT_WORDS = 6
"""A speaker counts as the claim's subject when a word of their name is among its first words
("Sutskever says…", "According to Sutskever, …")."""


def claim_subject(claim: str, speakers: Sequence[str]) -> str | None:
    """The transcript speaker the claim attributes its content to: the first speaker named in
    its first ``SUBJECT_WORDS`` words; ``None`` when none is, or two different people are."""
    head = _words(claim)[:SUBJECT_WORDS]
    named = [s for s in speakers if _name_words(s) & set(head)]
    people = {frozenset(_name_words(s)) for s in named}
    if not named or any(not (a & b) for a in people for b in people):
        return None
    return min(named, key=lambda s: min(head.index(w) for w in _name_words(s) if w in head))


def speaker(claim: str, evidence: Sequence[Evidence], speakers: Sequence[str] = ()) -> bool:
    """The claim attributes its content to one speaker; its best passage is another's."""
    if len(speakers) < 2 or not evidence or not evidence[0].speaker:
        return False
    subject = claim_subject(claim, speakers)
    if subject is None:
        return False
    return not (_name_words(subject) & _name_words(evidence[0].speaker))


CHECKS: Mapping[str, CheckFn] = {"hedge_added": hedge_added, "hedge_removed": hedge_removed, "speaker": speaker}
"""The claim checks by the name ``align.claim_checks`` uses."""


def parse_checks(names: Sequence[str] | None) -> tuple[str, ...]:
    """Validate ``align.claim_checks``.

    Raises:
        ConfigError: an unknown check name.
    """
    out = tuple(str(n) for n in (names or ()))
    unknown = [n for n in out if n not in CHECKS]
    if unknown:
        raise ConfigError(f"align.claim_checks: unknown check(s) {unknown}; known: {sorted(CHECKS)}")
    return out


def checks_from_config(cfg: Any) -> tuple[str, ...]:
    """The enabled checks of an ``align`` config mapping (none for a built ``AlignConfig``)."""
    if isinstance(cfg, Mapping):
        return parse_checks(cfg.get("claim_checks"))
    return ()


def apply_claim_checks(
    verdicts: Sequence[Verdict], checks: Sequence[str], transcript: Transcript | None = None
) -> list[Verdict]:
    """Demote supported claims a check fires on to ``partially_supported``.

    Every claim with evidence is checked; a fired check is recorded as feature
    ``check.<name>`` = 1.0 whatever the label (so a refit of the thresholds sees it). Scores,
    evidence and the other labels are kept.
    """
    if not checks:
        return list(verdicts)
    speakers = transcript_speakers(transcript) if transcript is not None else ()
    out: list[Verdict] = []
    demoted = 0
    for v in verdicts:
        if not v.evidence:
            out.append(v)
            continue
        fired = [name for name in checks if CHECKS[name](v.claim.text, v.evidence, speakers)]
        if not fired:
            out.append(v)
            continue
        features = {**dict(v.features), **{f"check.{name}": 1.0 for name in fired}}
        label = "partially_supported" if v.label == "supported" else v.label
        out.append(replace(v, label=label, features=features))
        demoted += v.label == "supported"
    if demoted:
        log.info("claim checks demoted %d supported claim(s)", demoted)
    return out


def explain_checks(unit_verdicts: Sequence[UnitVerdict]) -> list[UnitVerdict]:
    """Rewrite the reason of units whose verdict a claim check decided."""
    out: list[UnitVerdict] = []
    for uv in unit_verdicts:
        fired = [
            (i, name[len("check.") :])
            for i, v in enumerate(uv.claims)
            for name in v.features
            if name.startswith("check.")
        ]
        if not fired or uv.label != "partially_supported":
            out.append(uv)
            continue
        which = ", ".join(
            f"{name} (claim {i + 1})" if len(uv.claims) > 1 else name for i, name in fired
        )
        out.append(replace(uv, reason=f"claim check {which} fired ({uv.reason or 'no reason'})"))
    return out

