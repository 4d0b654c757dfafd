"""The error-flag catalogue: detectors that say *what exactly* is wrong with a summary.

Scores say how good a summary is; flags name the errors a careful reader would catch, each
with a severity (``major`` / ``minor``), the unit (and claim) it concerns, one plain sentence,
and transcript passages the user can check.

Detectors (registered in ``FLAGS``, switched on by ``flags.enabled``):

* ``ad_content`` — the claim restates the sponsor read, not the conversation.
* ``boilerplate`` — site chrome on the page (parsed as boilerplate, or missed by the parser).
* ``misspelled_entity`` — a name not in the transcript that is a close variant of one that is.
* ``extrinsic_entity`` / ``extrinsic_fact`` — names and numbers that appear nowhere in the
  transcript.
* ``number_mismatch`` — a number that differs from the one in the claim's evidence.
* ``wrong_timestamp`` — a cited time that does not hold the claim's evidence, or is invalid.
* ``misattribution`` — a statement put in the mouth of the wrong speaker.
* ``unsupported_claim`` / ``contradicted_claim`` — from the verdicts.
* ``misquote`` / ``quote_paraphrased`` / ``misattributed_quote`` — a quotation not said, said in
  other words, or said by someone else (``harness.quotes``).
* ``transcript_spelling`` (info) — a name the transcript misspells and the summary has right.

Flags on background units (``flags.background_kinds``) are capped at
``flags.background_max_severity``: a bio box is not a claim about the conversation.

Detectors that need verdicts produce nothing when ``unit_verdicts`` is empty; the text-only
ones (``ad_content``, ``boilerplate``, ``misspelled_entity``, ``extrinsic_*``, the validity part of
``wrong_timestamp``) always run.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from harness.errors import ConfigError
from harness.flags.base import FLAGS, SEVERITIES, Detector, FlagContext, Params
from harness.types import Flag, QuoteMatch, Summary, Transcript, UnitVerdict

if TYPE_CHECKING:  # pragma: no cover
    from harness.episode import Episode

# Importing the detector modules registers them.
from harness.flags import ads, chrome, entities, evidence_checks, quotes  # noqa: E402,F401  isort: skip

log = logging.getLogger(__name__)

__all__ = [
    "FLAGS",
    "Detector",
    "FlagContext",
    "default_flags_config",
    "detect_flags",
    "flag_counts",
]

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent.parent / "configs" / "flags" / "default.yaml"


def default_flags_config() -> dict[str, Any]:
    """The bundled ``configs/flags/default.yaml`` as plain containers."""
    from omegaconf import OmegaConf

    if not DEFAULT_CONFIG.exists():  # pragma: no cover - installed without the configs folder
        raise ConfigError(f"flags: default config {DEFAULT_CONFIG} not found; pass the flags config")
    return OmegaConf.to_container(OmegaConf.load(DEFAULT_CONFIG), resolve=True)  # type: ignore[return-value]


def _plain(cfg: Any) -> dict[str, Any]:
    if cfg is None:
        return default_flags_config()
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(cfg, DictConfig):
            cfg = OmegaConf.to_container(cfg, resolve=True)
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(cfg, Mapping):
        raise ConfigError(f"flags: expected a mapping, got {type(cfg).__name__}")
    return dict(cfg)


def _enabled(cfg: Mapping[str, Any]) -> list[str]:
    enabled = cfg.get("enabled")
    if enabled is None:
        return FLAGS.names()
    if isinstance(enabled, str) or not isinstance(enabled, Iterable):
        raise ConfigError("flags.enabled must be a list of detector names")
    names = [str(n) for n in enabled]
    for name in names:
        FLAGS.get(name)  # ConfigError naming the known detectors
    return names


def detect_flags(
    episode: Episode | Transcript,
    summary: Summary,
    unit_verdicts: Iterable[UnitVerdict] = (),
    cfg: Mapping[str, Any] | None = None,
    *,
    quote_matches: Mapping[str, QuoteMatch] | None = None,
) -> tuple[Flag, ...]:
    """Run the detectors enabled in ``cfg`` (the ``flags`` config group; ``None`` = defaults)
    on the run's ``Episode`` (or a bare transcript: its indexes are then built for this call).

    ``quote_matches`` are the quote stage's results (``None``: the quote detectors match the
    quotes themselves). Returns the flags sorted by unit position, claim index (unit-level flags first), tag and
    message, without duplicates.

    Raises:
        ConfigError: an unknown detector name or an invalid setting.
    """
    from harness.episode import Episode

    plain = _plain(cfg)
    ep = episode if isinstance(episode, Episode) else None
    transcript = ep.transcript if ep is not None else episode
    ctx = FlagContext(
        transcript=transcript,
        summary=summary,
        unit_verdicts=tuple(unit_verdicts),
        cfg=plain,
        quote_matches=quote_matches,
        episode=ep,
    )
    flags: list[Flag] = []
    for name in _enabled(plain):
        detector = FLAGS.get(name)
        params = plain.get(name) or {}
        if not isinstance(params, Mapping):
            raise ConfigError(f"flags.{name} must be a mapping of settings")
        produced = list(detector(ctx, Params(name, params)))
        for f in produced:
            if f.severity not in SEVERITIES:  # pragma: no cover - a detector bug
                raise ValueError(f"detector {name} produced severity {f.severity!r}")
        log.info("flags: %s produced %d", name, len(produced))
        flags.extend(produced)
    flags = _cap_background(flags, summary, plain)
    order = {u.unit_id: u.index for u in summary.units}
    seen: set[tuple] = set()
    unique = []
    for f in flags:
        key = (f.tag, f.unit_id, f.claim_index, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    unique.sort(
        key=lambda f: (
            order.get(f.unit_id, len(order)),
            -1 if f.claim_index is None else f.claim_index,
            f.tag,
            f.message,
        )
    )
    return tuple(unique)


def _cap_background(flags: list[Flag], summary: Summary, cfg: Mapping[str, Any]) -> list[Flag]:
    """Flags on background units at most ``background_max_severity`` (a bio box is not a claim
    about the conversation: where it disagrees with the transcript, that is worth a note, not a
    major error)."""
    kinds = frozenset(cfg.get("background_kinds") or ())
    cap = cfg.get("background_max_severity")
    if not kinds or cap is None:
        return flags
    if cap not in SEVERITIES:
        raise ConfigError(f"flags.background_max_severity must be one of {', '.join(SEVERITIES)}, got {cap!r}")
    background = {u.unit_id for u in summary.units if u.kind in kinds}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return [
        replace(f, severity=cap) if f.unit_id in background and rank[f.severity] < rank[cap] else f for f in flags
    ]


def flag_counts(flags: Iterable[Flag]) -> dict[str, dict[str, int]]:
    """``{tag: {"major": n, "minor": m}}`` for a report table (``"info"`` too for a tag that has
    info notes)."""
    out: dict[str, dict[str, int]] = {}
    for f in flags:
        counts = out.setdefault(f.tag, {"major": 0, "minor": 0})
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return dict(sorted(out.items()))
