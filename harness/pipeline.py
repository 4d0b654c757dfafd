"""The run pipeline: parse → units → (claims → align → metrics → flags) → ``RunResult``.

Each stage reads the typed output of the one before; this module only wires them together from
the resolved config and times each stage. It writes nothing (``harness.report`` does).
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from harness.cache import EmbeddingCache
from harness.episode import Episode, build_episode
from harness.formats import FormatOptions, load_summary
from harness.lexical import lexical_config
from harness.metrics import MetricInputs, compute_metrics
from harness.models import MINILM_ID, SPACY_ID
from harness.report import write_run
from harness.report.records import claims_frame, unit_records
from harness.signature import build_signature
from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
from harness.transcript import load_transcript
from harness.types import Flag, Summary, Transcript, UnitVerdict, asdict_flag
from harness.types import RunResult as RunRecord

log = logging.getLogger(__name__)

# Builds a verifier from the ``model`` config block (harness.backends.build_verifier's signature).
VerifierFactory = Callable[[Mapping[str, Any]], Any]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RunResult(RunRecord):
    """What ``run_pipeline`` (and ``harness.evaluate``) returns: the ``harness.types.RunResult``
    record with the two conveniences of the Python API, which need the report stage."""

    def to_pandas(self) -> Any:
        """One row per claim (``harness.report.records.CLAIM_COLUMNS``) as a ``pandas.DataFrame``."""
        return claims_frame(unit_records(self), [asdict_flag(f) for f in self.flags])

    def save(self, out_dir: str | Path) -> Path:
        """Write the run directory the CLI writes (``report.json``, ``units.jsonl``, ``report.md``,
        ``report.html``, timeline) into ``out_dir``, the files chosen by the config's ``report``
        node; returns its path."""
        write_run(self, out_dir, dict(self.config))
        return Path(out_dir)


def resolve_input(path: str) -> str:
    """A relative input path as given if it exists from the working directory, else relative to
    the project root (so the bundled references work from any directory)."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return str(p)
    candidate = PROJECT_ROOT / p
    return str(candidate) if candidate.exists() else str(p)


@contextmanager
def _stage(name: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - start, 4)
        log.info("stage %s: %.3f s", name, timings[name])


def run_pipeline(
    cfg: Mapping[str, Any], *, verifiers: VerifierFactory | None = None, cache: EmbeddingCache | None = None
) -> RunResult:
    """Run every configured stage on one (transcript, summary) pair.

    Args:
        cfg: the resolved run config as plain containers (``OmegaConf.to_container``), without
            the ``hydra`` node.
        verifiers: builds the verifier from the ``model`` config (default
            ``harness.backends.build_verifier``); the Python API passes a cached one so repeated
            runs reuse a loaded model.
        cache: the embedding cache that builds and keeps the ``Episode`` (default: the
            process-wide ``harness.cache.default_cache()``, so each transcript sentence is
            encoded once per process).

    Raises:
        HarnessError: a bad input file or config value (the CLI turns it into one line).
    """
    timings: dict[str, float] = {}
    max_bytes = int(cfg.get("max_input_bytes", 5_000_000))
    t_cfg, s_cfg = cfg["transcript"], cfg["summary"]

    with _stage("parse_transcript", timings):
        chapters_file = t_cfg.get("chapters")
        transcript = load_transcript(
            resolve_input(t_cfg["path"]),
            t_cfg.get("format", "markdown_blog"),
            max_bytes=max_bytes,
            chapters=resolve_input(str(chapters_file)) if chapters_file else None,
        )
    with _stage("sponsors", timings):
        transcript = mark_sponsors(transcript, sponsor_config_from_mapping(cfg.get("sponsors", {})))
    with _stage("parse_summary", timings):
        options = FormatOptions(
            split=s_cfg.get("split", "sentence"),
            boilerplate_patterns=tuple(s_cfg.get("boilerplate_patterns") or ()),
        )
        summary = load_summary(resolve_input(s_cfg["path"]), s_cfg["format"], options, max_bytes=max_bytes)
    transcript = _with_video_url(transcript, t_cfg, resolve_input(t_cfg["path"]), resolve_input(s_cfg["path"]), max_bytes)
    stages = cfg.get("stages", {}) or {}
    metric_names = list(cfg.get("metrics", ["units", "consistency"]))
    with _stage("episode", timings):
        # The transcript read once: sentences, windows, (automatic) chapters; embeddings on use.
        episode = build_episode(
            transcript,
            align=effective_align_config(cfg) if stages.get("align", True) else None,
            coverage=cfg.get("coverage") or {},
            score_chapters="coverage" in metric_names or "lexical" in metric_names,
            auto_chapters=bool(t_cfg.get("auto_chapters", False)),
            cache=cache,
        )
    transcript = episode.transcript

    reference = None
    ref_cfg = cfg.get("reference") or {}
    if ref_cfg.get("path"):
        with _stage("parse_reference", timings):
            reference = load_summary(
                resolve_input(str(ref_cfg["path"])),
                ref_cfg.get("format", "markdown"),
                FormatOptions(split="sentence"),
                max_bytes=max_bytes,
            )

    unit_verdicts: tuple[UnitVerdict, ...] = ()
    models: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    if stages.get("align", True):
        unit_verdicts, models, extra["alignment"] = _claims_and_alignment(episode, summary, cfg, timings, verifiers)
    quote_matches = {}
    if any(u.kind == "quote" for u in summary.content_units):
        from harness.quotes import apply_quote_verdicts, match_quotes

        with _stage("quotes", timings):
            quote_matches = match_quotes(transcript, summary, cfg.get("quotes"), unit_verdicts=unit_verdicts)
        unit_verdicts = apply_quote_verdicts(unit_verdicts, quote_matches, transcript)
    if unit_verdicts:
        from harness.background import apply_background_verdicts

        unit_verdicts = apply_background_verdicts(unit_verdicts, summary)

    flags: tuple[Flag, ...] = ()
    if stages.get("flags", True):
        from harness.flags import detect_flags

        with _stage("flags", timings):
            flags = detect_flags(episode, summary, unit_verdicts, cfg.get("flags"), quote_matches=quote_matches)

    coverage = None
    if "coverage" in metric_names:
        from harness.coverage import compute_coverage

        with _stage("coverage", timings):
            coverage = compute_coverage(episode, summary, unit_verdicts, cfg.get("coverage") or {})
        extra["coverage"] = coverage.to_json()

    with _stage("metrics", timings):
        metrics = compute_metrics(
            metric_names,
            MetricInputs(
                transcript=transcript,
                summary=summary,
                unit_verdicts=unit_verdicts,
                flags=flags,
                config=cfg,
                coverage=coverage,
                reference=reference,
                episode=episode,
                coverage_config=cfg.get("coverage") or {},
                lexical_config=lexical_config(cfg),
            ),
        )
    extra["not_available"] = not_available_checks(transcript, summary, cfg, episode)
    inputs = {
        "transcript": {"sha256": transcript.sha256, "format": transcript.format},
        "summary": {"sha256": summary.sha256, "format": summary.format},
    }
    if reference is not None:
        inputs["reference"] = {"sha256": reference.sha256, "format": reference.format}
    if "lexical" in metric_names:
        lexical = lexical_config(cfg)
        if lexical.bertscore:
            models["bertscore"] = lexical.bertscore_name()
    signature = build_signature(
        inputs=inputs,
        config=cfg,
        models=models,
    )
    return RunResult(
        signature=signature,
        transcript=transcript,
        summary=summary,
        unit_verdicts=unit_verdicts,
        flags=flags,
        metrics=metrics,
        timings_s=timings,
        extra=extra,
        coverage=coverage,
        config=cfg,
        quote_matches=quote_matches,
    )


def effective_align_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The ``align`` config with the backend's own label thresholds (``model.thresholds``, in
    ``configs/model/<backend>.yaml``) over the generic ones of ``align.thresholds``."""
    align = dict(cfg["align"])
    model = cfg.get("model") or {}
    own = model.get("thresholds")
    if own:
        align["thresholds"] = {**dict(align.get("thresholds") or {}), **dict(own)}
    return align


def _claims_and_alignment(
    episode: Episode,
    summary: Summary,
    cfg: Mapping[str, Any],
    timings: dict[str, float],
    verifiers: VerifierFactory | None = None,
) -> tuple[tuple[UnitVerdict, ...], dict[str, Any], dict[str, Any]]:
    """Claims → retrieve → verify; returns unit verdicts, model descriptions and alignment stats."""
    from harness.align import align_summary
    from harness.backends import build_verifier
    from harness.claims import is_checkable, split_claims_from_config
    from harness.progress import progress_enabled

    claims_cfg = cfg["claims"]
    with _stage("load_verifier", timings):
        verifier = (verifiers or build_verifier)(cfg["model"])
    with _stage("claims", timings):
        checkability = {
            u.unit_id: is_checkable(u, int(claims_cfg["min_content_words"])) for u in summary.units
        }
        claims = split_claims_from_config(summary.units, claims_cfg)
    with _stage("align", timings):
        alignment = align_summary(
            episode, summary.units, claims, verifier, effective_align_config(cfg), checkability=checkability,
            progress=progress_enabled(cfg),
        )
    for name, seconds in alignment.timings.items():
        timings[f"align.{name}"] = seconds
    models = {
        "verifier": dict(verifier.describe()),
        "retrieval_encoder": MINILM_ID,
        "claim_splitter": f"{claims_cfg['splitter']} ({SPACY_ID})",
    }
    return alignment.unit_verdicts, models, dict(alignment.stats)


def _with_video_url(transcript: Transcript, t_cfg: Mapping[str, Any], transcript_path: Any, summary_path: Any, max_bytes: int) -> Transcript:
    """The transcript with its video link (``harness.video.resolve_video_url``): evidence
    timestamps and chapter starts link to the video moment."""
    from dataclasses import replace

    from harness.video import resolve_video_url

    def head(path: Any) -> str:
        try:
            with open(path, "rb") as fh:
                return fh.read(max_bytes).decode("utf-8", errors="replace")
        except (OSError, TypeError):  # already read once by its loader; a text given inline has no file
            return ""

    url, source = resolve_video_url(t_cfg.get("video_url"), transcript.video_url, head(transcript_path), head(summary_path))
    if url and url != transcript.video_url:
        log.info("video link %s (from the %s)", url, source)
        return replace(transcript, video_url=url)
    return transcript


def _framed_parts(transcript: Transcript, flags_cfg: Mapping[str, Any], episode: Any = None) -> str | None:
    """"introduction and closing words" (the host's framing found in a transcript without speaker
    labels, by ``flags.misattribution.host_framing``), ``None`` when none was found. With the
    run's ``episode``, the framing the flag detectors built is re-used."""
    from harness.flags.base import framing_of

    framing = framing_of(transcript, flags_cfg.get("misattribution") or {}, episode)
    if not framing.spans or not framing.guests:
        return None
    return " and ".join(s.label for s in framing.spans)


def not_available_checks(
    transcript: Transcript, summary: Summary, cfg: Mapping[str, Any], episode: Any = None
) -> list[dict[str, str]]:
    """The checks this run could not make because the inputs lack what they need, each with the
    reason: ``[{"check": "misattribution", "reason": "the transcript has no speaker labels"}]``.
    Reported in ``report.json`` and ``report.md`` so a missing check is never read as a clean one."""
    stages = cfg.get("stages", {}) or {}
    flags_cfg = cfg.get("flags") or {}
    enabled = flags_cfg.get("enabled")
    flags_on = bool(stages.get("flags", True))

    def flag_on(name: str) -> bool:
        return flags_on and (enabled is None or name in enabled)

    out: list[dict[str, str]] = []
    speakers = sorted({s.speaker for s in transcript.content_segments if s.speaker})
    framed = None if speakers else _framed_parts(transcript, flags_cfg, episode)
    unlabelled = "the transcript has no speaker labels"
    if flag_on("misattribution"):
        if not speakers:
            reason = unlabelled if framed is None else (
                f"{unlabelled}: only statements the summary gives the guest that come from the host's "
                f"{framed} (found by the show's formulas) are checked"
            )
            out.append({"check": "misattribution", "reason": reason})
        elif len(speakers) == 1:
            out.append(
                {"check": "misattribution", "reason": f"the transcript names only one speaker ({speakers[0]})"}
            )
    if flag_on("misattributed_quote") and len(speakers) < 2 and any(u.kind == "quote" for u in summary.content_units):
        reason = "the transcript names fewer than two speakers, so who said a quotation cannot be checked"
        if framed is not None:
            reason = (
                f"{unlabelled}: only quotes the page gives the guest that the host says in the {framed} "
                "are checked"
            )
        out.append({"check": "misattributed_quote", "reason": reason})
    timed = bool(transcript.blocks)
    if not timed:
        if flag_on("wrong_timestamp"):
            out.append(
                {
                    "check": "wrong_timestamp",
                    "reason": "the transcript has no timestamps, so the times the summary cites cannot be "
                    "checked against it (only whether they are valid times)",
                }
            )
        if stages.get("align", True):
            out.append(
                {
                    "check": "evidence_timestamps",
                    "reason": "the transcript has no timestamps: evidence is located by character offsets "
                    "only (start_s is null)",
                }
            )
    elif flag_on("wrong_timestamp") and not any(u.cited_timestamp_s is not None for u in summary.content_units):
        out.append({"check": "wrong_timestamp", "reason": "the summary cites no timestamps"})
    if (cfg.get("reference") or {}).get("path") and "lexical" not in (cfg.get("metrics") or ()):
        out.append({"check": "reference", "reason": "a reference summary was given but the lexical metric group is off"})
    # Coverage finds chapters by topic shift itself when the transcript has none (and says so).
    if not transcript.chapters and "coverage" not in (cfg.get("metrics") or ()):
        out.append(
            {
                "check": "chapters",
                "reason": "the transcript has no chapters and no chapter list was given "
                "(transcript.chapters=FILE, or transcript.auto_chapters=true to find them)",
            }
        )
    return out
