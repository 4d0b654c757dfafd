"""The Python API: score a summary from a notebook or a script, read a run back.

    from harness import evaluate, load_run

    result = evaluate(summary="my_summary.md", transcript="episode.vtt")
    result.metric_values["consistency.score"]
    result.to_pandas()          # one row per claim
    result.save("runs/mine")    # the run directory the CLI writes
    load_run("runs/mine")       # a read-only view of a run directory

``evaluate`` composes the same Hydra config as ``python -m harness run`` (``configs/``), with the
inputs and any overrides on top, and runs the same pipeline. An ``Evaluator`` keeps the loaded
verifier between calls (the MiniLM encoder, spaCy and BERTScore are loaded once per process by
``harness.models`` / ``harness.lexical``), so a second ``evaluate`` loads no model again, and its
embedding cache (``harness.cache``; the process-wide one unless given), so a second summary of
the same transcript reuses its ``Episode`` and encodes no transcript sentence again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.errors import ConfigError, InputFileError
from harness.report.records import claims_frame
from harness.runs import read_run
from harness.types import Evidence, Flag, MetricResult

if TYPE_CHECKING:
    from harness.pipeline import RunResult

# Summary formats that are config groups of their own (configs/summary/<name>.yaml).
_SUMMARY_GROUPS = ("markdown", "plain", "summify", "tldr_qa", "wiki")
_EXTENSIONS = {"markdown": ".md", "summify": ".md", "tldr_qa": ".md", "wiki": ".md", "plain": ".txt",
               "webvtt": ".vtt", "srt": ".srt", "whisper_json": ".json", "markdown_blog": ".md",
               "transcript_page": ".md"}
# A one-line string with no spaces that ends like a file name is a path, never summary text,
# so a mistyped file name is "file not found" rather than a one-word summary.
_LOOKS_LIKE_PATH = re.compile(r"^[^\s]+\.[A-Za-z0-9]{1,5}$")


@dataclass
class Evaluator:
    """Runs the pipeline and keeps each built verifier, keyed by its ``model`` config, so that
    repeated evaluations reuse the loaded model, and the embedding cache that holds each
    transcript's ``Episode`` (``None``: the process-wide ``harness.cache.default_cache()``)."""

    verifiers: dict[str, Any] = field(default_factory=dict)
    cache: Any | None = None

    def verifier(self, model_cfg: Mapping[str, Any]) -> Any:
        """The verifier for ``model_cfg``, built on first use."""
        from harness.backends import build_verifier

        key = json.dumps(model_cfg, sort_keys=True, default=str)
        if key not in self.verifiers:
            self.verifiers[key] = build_verifier(model_cfg)
        return self.verifiers[key]

    def evaluate(
        self,
        summary: str | os.PathLike[str],
        transcript: str | os.PathLike[str] | None = None,
        *,
        summary_format: str = "markdown",
        transcript_format: str = "auto",
        overrides: Sequence[str] | Mapping[str, Any] | None = None,
        **options: Any,
    ) -> RunResult:
        """Score a summary against a transcript; the Python form of ``python -m harness run``.

        Args:
            summary: a path (``str`` or ``Path``) or the summary text itself.
            transcript: a path or the transcript text; ``None`` keeps the configured transcript
                (the bundled Lex Fridman #94 reference).
            summary_format: ``markdown``, ``plain``, ``summify``, ``tldr_qa`` or ``wiki``.
            transcript_format: ``auto`` (detect from the content) or a reader name (``webvtt``,
                ``srt``, ``whisper_json``, ``text``, ``markdown_blog``, ``transcript_page``).
            overrides: Hydra overrides, as strings (``["align.retrieval.top_k=3"]``) or a dict
                (``{"align.retrieval.top_k": 3}``).
            **options: more overrides as keywords, ``__`` standing for a dot
                (``align__retrieval__top_k=3``, ``system="my-pipeline"``).

        Returns:
            The typed ``RunResult``: ``.units``, ``.metrics`` (``.metric_values`` as a dict),
            ``.flags``, ``.to_pandas()``, ``.save(dir)``.

        Raises:
            InputFileError: a missing or unreadable input, or one not in its format.
            ConfigError: an unknown format, config key or value.
        """
        from harness.cli import plain_config
        from harness.config import compose_config, overrides_from
        from harness.pipeline import run_pipeline

        items = _input_overrides(summary, transcript, summary_format, transcript_format)
        items += overrides_from(overrides)
        items += overrides_from({key.replace("__", "."): value for key, value in options.items()})
        config = plain_config(compose_config(items))
        return run_pipeline(config, verifiers=self.verifier, cache=self.cache)


_DEFAULT = Evaluator()
evaluate = _DEFAULT.evaluate
"""Score a summary against a transcript with the shared ``Evaluator`` (see ``Evaluator.evaluate``)."""


def _input_overrides(summary: Any, transcript: Any, summary_format: str, transcript_format: str) -> list[str]:
    items: list[str] = []
    fmt = str(summary_format)
    if fmt in _SUMMARY_GROUPS:
        items.append(f"summary={fmt}")
    else:
        raise ConfigError(f"unknown summary format {fmt!r} (known: {', '.join(_SUMMARY_GROUPS)})")
    items.append(f"summary.path={_as_file(summary, 'summary', _EXTENSIONS.get(fmt, '.md'))}")
    if transcript is not None:
        items += ["transcript=auto", f"transcript.format={transcript_format}"]
        ext = _EXTENSIONS.get(str(transcript_format), ".txt")
        items.append(f"transcript.path={_as_file(transcript, 'transcript', ext)}")
    return [_quote_path(item) for item in items]


def _quote_path(item: str) -> str:
    key, _, value = item.partition("=")
    if key.endswith(".path") and not re.fullmatch(r"[\w./\-+~:@]+", value):
        return f"{key}='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return item


def _as_file(value: Any, role: str, ext: str) -> str:
    """A path for a path, or a content-addressed file (``$HARNESS_CACHE_DIR/inputs``) holding
    the text, so that the same text gives the same config and signature on every call."""
    if isinstance(value, os.PathLike):
        return str(Path(value).expanduser())
    if not isinstance(value, str):
        raise ConfigError(f"{role}: expected a path or text, got {type(value).__name__}")
    if "\n" not in value and len(value) < 4096:
        from harness.pipeline import resolve_input

        candidate = Path(resolve_input(str(Path(value).expanduser())))
        if candidate.is_file():
            return str(candidate)
        if _LOOKS_LIKE_PATH.match(value.strip()):
            raise InputFileError(value, "file not found")
    if not value.strip():
        raise InputFileError(f"<{role} text>", "file is empty")
    from harness.cache import CACHE_ENV, DEFAULT_CACHE_DIR

    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    folder = Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE_DIR).expanduser() / "inputs"
    path = folder / f"{digest[:16]}{ext}"
    if not path.is_file():
        from harness.textio import atomic_write_text

        atomic_write_text(path, value)
    return str(path)


# ----------------------------------------------------------------------------------------------
# Reading a run back
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    """A run directory read back (``load_run``): what the files hold, read-only.

    Attributes:
        path: the run directory.
        report: ``report.json`` as a dict (signature, config, transcript, summary, coverage…).
        units: ``units.jsonl``, one dict per summary unit (the records the README describes).
        metrics: the metrics as ``MetricResult`` records, in ``report.json`` order.
        flags: the flags as ``Flag`` records (with their evidence).
    """

    path: Path
    report: Mapping[str, Any]
    units: tuple[Mapping[str, Any], ...]
    metrics: tuple[MetricResult, ...]
    flags: tuple[Flag, ...]

    @property
    def signature(self) -> Mapping[str, Any]:
        """Input hashes, config digest, models and versions of the run."""
        return self.report.get("signature") or {}

    @property
    def metric_values(self) -> dict[str, float | None]:
        """``{metric name: value}``."""
        return {m.name: m.value for m in self.metrics}

    def to_pandas(self) -> Any:
        """One row per claim, the same columns as ``RunResult.to_pandas()``."""
        return claims_frame(self.units, self.report.get("flags") or [])


def load_run(run_dir: str | os.PathLike[str]) -> RunView:
    """Read a run directory (``report.json`` and ``units.jsonl``) written by the CLI or by
    ``RunResult.save``.

    Raises:
        InputFileError: the directory or one of its two files is missing or not valid JSON
            (the message names the file; read by ``harness.runs.read_run``).
    """
    record = read_run(run_dir, require_units=True)
    report, units = record.report, record.units or ()
    metrics = tuple(
        MetricResult(name=name, value=m.get("value"), higher_is_better=m.get("higher_is_better", True),
                     description=str(m.get("description") or ""), note=m.get("note"))
        for name, m in report["metrics"].items()
    )
    flags = tuple(_flag(f) for f in report.get("flags") or [])
    return RunView(path=record.run_dir, report=report, units=units, metrics=metrics, flags=flags)


def _flag(record: Mapping[str, Any]) -> Flag:
    evidence_fields = set(Evidence.__dataclass_fields__)
    evidence = tuple(Evidence(**{k: v for k, v in e.items() if k in evidence_fields}) for e in record.get("evidence") or ())
    return Flag(tag=record["tag"], severity=record["severity"], unit_id=record["unit_id"],
                claim_index=record.get("claim_index"), message=record.get("message") or "", evidence=evidence)
