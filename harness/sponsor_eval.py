"""Sponsor detection, measured: the detector's segments against hand-annotated read spans.

``benchmarks/sponsors/spans.jsonl`` holds, per corpus episode, the time spans of its sponsor reads
as a person marked them (times only; ``benchmarks/sponsors/README.md`` is the annotation guide).
This module loads and validates that file, runs only the transcript reader and
``harness.sponsors.detect_sponsors`` on each episode (no models), and scores the detected
segments two ways:

* **in seconds**: precision = seconds of detected read parts inside annotated reads / seconds
  detected; recall = seconds of annotated reads inside detected read parts / seconds annotated
  (both on the union of spans, summed over episodes);
* **per read**: a read is *found* when at least ``MIN_COVER`` of it is covered by detected read
  parts; a detected read part is a *false alarm* when less than ``MIN_COVER`` of it overlaps
  annotated reads.

A detected segment is the promotional block: its sponsor-read parts and the show's
self-promotion attached to them ("subscribe…", "support it on Patreon…";
``SponsorSegment.parts``). Reads are scored on the read parts only. The file also marks the
show's self-promotion (``self_promo``): the self-promotion parts are scored against it (precision
and recall in seconds), and whole segments against reads and self-promotion together
(``*_with_promo``).

``python -m harness sponsor-eval`` writes ``results/sponsors/sponsor_eval.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from harness.errors import HarnessError, InputFileError
from harness.text import format_clock
from harness.textio import read_jsonl_objects, sha256_file

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPANS = PROJECT_ROOT / "benchmarks" / "sponsors" / "spans.jsonl"
DEFAULT_SHARED = PROJECT_ROOT.parent / "shared"
DEFAULT_OUT = PROJECT_ROOT / "results" / "sponsors"
DEFAULT_SPONSOR_CONFIG = PROJECT_ROOT / "configs" / "sponsors" / "default.yaml"
SCHEMA_VERSION = 2  # 2: reads scored on the segments' read parts; self-promotion scored apart

#: Share of a read that detected segments must cover for the read to count as found, and share
#: of a detected segment that must lie inside reads for it not to be a false alarm (issue #20).
MIN_COVER = 0.5
POSITIONS = ("intro", "midroll", "outro")
KINDS = ("read", "list")
SPLITS = ("dev", "heldout", "test", "test2")

Span = tuple[float, float]


@dataclass(frozen=True)
class AnnotatedRead:
    """One sponsor read as annotated.

    Attributes:
        start_s: start of the read, seconds from the start of the transcript.
        end_s: end of the read (> ``start_s``).
        brand: short sponsor name(s), for the reader of the file.
        position: ``intro``, ``midroll`` or ``outro``.
        kind: ``read`` (ad copy for one sponsor) or ``list`` (one passage naming several
            sponsors: "quick summary of the ads", "thank you to our sponsors X, Y and Z").
    """

    start_s: float
    end_s: float
    brand: str
    position: str
    kind: str = "read"


@dataclass(frozen=True)
class EpisodeAnnotation:
    """The annotated reads of one episode.

    Attributes:
        episode_id: the corpus manifest's ``episode_id``.
        transcript: the transcript path relative to the shared data folder.
        transcript_sha256: sha256 of the transcript the spans were set on.
        split: ``dev`` or ``heldout`` (both used to tune the detector since 2026-12-07), ``test``
            (annotated blind to the detector; tuning data too since its errors were examined), or
            ``test2`` (annotated blind to the detector afterwards; never used to tune).
        reads: the reads in time order, non-overlapping (may be empty).
        self_promo: ``(start_s, end_s)`` of the show's self-promotion passages, in time order,
            overlapping neither each other nor a read.
        annotator_note: free text about the episode's reads.
    """

    episode_id: str
    transcript: str
    transcript_sha256: str
    split: str
    reads: tuple[AnnotatedRead, ...]
    self_promo: tuple[Span, ...] = ()
    annotator_note: str = ""


@dataclass(frozen=True)
class DetectedSegment:
    """One detected sponsor segment as the scorer sees it.

    Attributes:
        start_s: start of the segment.
        end_s: end of the segment.
        reads: ``(start_s, end_s)`` of its sponsor-read parts.
        self_promo: ``(start_s, end_s)`` of its attached self-promotion parts.
    """

    start_s: float
    end_s: float
    reads: tuple[Span, ...]
    self_promo: tuple[Span, ...] = ()


@dataclass(frozen=True)
class EpisodeScore:
    """Detected segments against the annotated reads and self-promotion of one episode.

    Reads are scored on the segments' read parts; the self-promotion attached to them is scored
    against the annotated ``self_promo`` spans; whole segments (reads and self-promotion) against
    both together (``*_with_promo``).

    Attributes:
        episode_id: the episode.
        split: its split.
        annotated_s: seconds inside annotated reads (union).
        detected_s: seconds inside detected read parts (union).
        overlap_s: seconds inside both.
        reads: number of annotated reads.
        reads_found: reads at least ``MIN_COVER`` covered by detected read parts.
        read_parts: number of detected read parts.
        false_alarms: read parts less than ``MIN_COVER`` inside annotated reads.
        promo_annotated_s: seconds inside annotated self-promotion (union).
        promo_detected_s: seconds inside detected self-promotion parts (union).
        promo_overlap_s: seconds inside both.
        segments: number of detected segments (a segment holds one or more read parts and the
            self-promotion attached to them).
        segment_s: seconds inside detected segments (union).
        overlap_with_promo_s: seconds of detected segments inside reads or self-promotion.
        false_alarms_with_promo: segments less than ``MIN_COVER`` inside reads and
            self-promotion together.
        read_results: ``(position, kind, found)`` per read, in order.
        missed: ``(start_s, end_s, position)`` of each read not found.
        false_alarm_spans: ``(start_s, end_s)`` of each false-alarm read part.
        detected: ``(start_s, end_s)`` of every detected read part.
        detected_promo: ``(start_s, end_s)`` of every detected self-promotion part.
    """

    episode_id: str
    split: str
    annotated_s: float
    detected_s: float
    overlap_s: float
    reads: int
    reads_found: int
    read_parts: int
    false_alarms: int
    promo_annotated_s: float
    promo_detected_s: float
    promo_overlap_s: float
    segments: int
    segment_s: float
    overlap_with_promo_s: float
    false_alarms_with_promo: int
    read_results: tuple[tuple[str, str, bool], ...] = ()
    missed: tuple[tuple[float, float, str], ...] = ()
    false_alarm_spans: tuple[Span, ...] = ()
    detected: tuple[Span, ...] = ()
    detected_promo: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Totals:
    """Scores summed over a set of episodes; a ratio with an empty denominator is ``None``.

    Attributes:
        episodes: episodes summed.
        annotated_s, detected_s, overlap_s: read seconds, summed.
        precision_s: ``overlap_s / detected_s`` (read parts against reads).
        recall_s: ``overlap_s / annotated_s``.
        reads, reads_found: annotated reads and those found.
        read_recall: ``reads_found / reads``.
        read_parts, false_alarms: detected read parts and false alarms among them.
        read_part_precision: ``(read_parts - false_alarms) / read_parts``.
        promo_annotated_s, promo_detected_s, promo_overlap_s: self-promotion seconds, summed.
        promo_precision_s: ``promo_overlap_s / promo_detected_s``.
        promo_recall_s: ``promo_overlap_s / promo_annotated_s`` (self-promotion is only ever
            detected next to a read, so the show's promotion elsewhere counts as missed).
        segments, segment_s: whole detected segments and their seconds.
        precision_with_promo_s: seconds of whole segments inside reads or self-promotion /
            ``segment_s``.
        false_alarms_with_promo: segments less than ``MIN_COVER`` inside reads and
            self-promotion together.
        segment_precision_with_promo: ``(segments - false_alarms_with_promo) / segments``.
        read_recall_by: ``{"kind:read": (found, total), "position:intro": …}``.
    """

    episodes: int
    annotated_s: float
    detected_s: float
    overlap_s: float
    precision_s: float | None
    recall_s: float | None
    reads: int
    reads_found: int
    read_recall: float | None
    read_parts: int
    false_alarms: int
    read_part_precision: float | None
    promo_annotated_s: float
    promo_detected_s: float
    promo_overlap_s: float
    promo_precision_s: float | None
    promo_recall_s: float | None
    segments: int
    segment_s: float
    precision_with_promo_s: float | None
    false_alarms_with_promo: int
    segment_precision_with_promo: float | None
    read_recall_by: dict[str, tuple[int, int]]


# ----------------------------------------------------------------------------------------------
# Interval arithmetic
# ----------------------------------------------------------------------------------------------


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """The union of ``spans`` as sorted, disjoint spans (empty and reversed spans dropped)."""
    out: list[list[float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in spans if e > s):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e) for s, e in out]


def total_length(spans: Iterable[Span]) -> float:
    """Seconds covered by the union of ``spans``."""
    return sum(e - s for s, e in merge_spans(spans))


def overlap_length(span: Span, others: Iterable[Span]) -> float:
    """Seconds of ``span`` covered by the union of ``others``."""
    start, end = span
    return sum(max(0.0, min(end, e) - max(start, s)) for s, e in merge_spans(others))


def covered_share(span: Span, others: Iterable[Span]) -> float:
    """Share of ``span`` covered by ``others``; a zero-length span counts as covered (1.0) when it
    lies inside one of them, else 0.0."""
    start, end = span
    if end <= start:
        return 1.0 if any(s <= start <= e for s, e in others) else 0.0
    return overlap_length(span, others) / (end - start)


def _as_segment(d: Span | DetectedSegment) -> DetectedSegment:
    if isinstance(d, DetectedSegment):
        return d
    start, end = float(d[0]), float(d[1])
    return DetectedSegment(start, end, ((start, end),))


def score_episode(annotation: EpisodeAnnotation, detected: Sequence[Span | DetectedSegment]) -> EpisodeScore:
    """Score the detected segments of one episode against its annotated reads and self-promotion.

    A plain ``(start_s, end_s)`` in ``detected`` is a segment that is all read.
    """
    segments = [_as_segment(d) for d in detected]
    reads = [(r.start_s, r.end_s) for r in annotation.reads]
    promo = list(annotation.self_promo)
    allowed = reads + promo
    parts = [(float(s), float(e)) for seg in segments for s, e in seg.reads]
    promo_parts = [(float(s), float(e)) for seg in segments for s, e in seg.self_promo]
    whole = [(seg.start_s, seg.end_s) for seg in segments]
    gold = merge_spans(reads)
    pred = merge_spans(parts)
    overlap = sum(overlap_length(p, gold) for p in pred)
    promo_pred = merge_spans(promo_parts)
    found = [covered_share((r.start_s, r.end_s), parts) >= MIN_COVER for r in annotation.reads]
    missed = tuple((r.start_s, r.end_s, r.position) for r, ok in zip(annotation.reads, found) if not ok)
    false = tuple(d for d in parts if covered_share(d, reads) < MIN_COVER)
    false_promo = [d for d in whole if covered_share(d, allowed) < MIN_COVER]
    return EpisodeScore(
        episode_id=annotation.episode_id,
        split=annotation.split,
        annotated_s=round(total_length(gold), 3),
        detected_s=round(total_length(pred), 3),
        overlap_s=round(overlap, 3),
        reads=len(reads),
        reads_found=len(reads) - len(missed),
        read_parts=len(parts),
        false_alarms=len(false),
        promo_annotated_s=round(total_length(promo), 3),
        promo_detected_s=round(total_length(promo_pred), 3),
        promo_overlap_s=round(sum(overlap_length(p, promo) for p in promo_pred), 3),
        segments=len(segments),
        segment_s=round(total_length(whole), 3),
        overlap_with_promo_s=round(sum(overlap_length(p, allowed) for p in merge_spans(whole)), 3),
        false_alarms_with_promo=len(false_promo),
        read_results=tuple((r.position, r.kind, ok) for r, ok in zip(annotation.reads, found)),
        missed=missed,
        false_alarm_spans=false,
        detected=tuple(parts),
        detected_promo=tuple(promo_parts),
    )


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den > 0 else None


def totals(scores: Sequence[EpisodeScore]) -> Totals:
    """Sum episode scores into precision and recall, in seconds and per read."""

    def total(key: str) -> float:
        return sum(getattr(s, key) for s in scores)

    by: dict[str, list[int]] = {}
    for s in scores:
        for position, kind, ok in s.read_results:
            for key in (f"kind:{kind}", f"position:{position}"):
                by.setdefault(key, [0, 0])
                by[key][0] += int(ok)
                by[key][1] += 1
    parts, false = int(total("read_parts")), int(total("false_alarms"))
    segments, false_promo = int(total("segments")), int(total("false_alarms_with_promo"))
    return Totals(
        episodes=len(scores),
        annotated_s=round(total("annotated_s"), 3),
        detected_s=round(total("detected_s"), 3),
        overlap_s=round(total("overlap_s"), 3),
        precision_s=_ratio(total("overlap_s"), total("detected_s")),
        recall_s=_ratio(total("overlap_s"), total("annotated_s")),
        reads=int(total("reads")),
        reads_found=int(total("reads_found")),
        read_recall=_ratio(total("reads_found"), total("reads")),
        read_parts=parts,
        false_alarms=false,
        read_part_precision=_ratio(parts - false, parts),
        promo_annotated_s=round(total("promo_annotated_s"), 3),
        promo_detected_s=round(total("promo_detected_s"), 3),
        promo_overlap_s=round(total("promo_overlap_s"), 3),
        promo_precision_s=_ratio(total("promo_overlap_s"), total("promo_detected_s")),
        promo_recall_s=_ratio(total("promo_overlap_s"), total("promo_annotated_s")),
        segments=segments,
        segment_s=round(total("segment_s"), 3),
        precision_with_promo_s=_ratio(total("overlap_with_promo_s"), total("segment_s")),
        false_alarms_with_promo=false_promo,
        segment_precision_with_promo=_ratio(segments - false_promo, segments),
        read_recall_by={k: (v[0], v[1]) for k, v in sorted(by.items())},
    )


# ----------------------------------------------------------------------------------------------
# The annotation file
# ----------------------------------------------------------------------------------------------

_ROW_KEYS = {"episode_id", "transcript", "transcript_sha256", "split", "reads", "self_promo", "annotator_note"}
_READ_KEYS = {"start_s", "end_s", "brand", "position", "kind"}


def _number(value: Any, where: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InputFileError(path, f"{where} must be a non-negative number, got {value!r}")
    return float(value)


def _parse_row(raw: Any, line_no: int, path: Path) -> EpisodeAnnotation:
    where = f"line {line_no}"
    if not isinstance(raw, dict):
        raise InputFileError(path, f"{where}: a JSON object is required")
    missing = _ROW_KEYS - raw.keys()
    extra = raw.keys() - _ROW_KEYS
    if missing or extra:
        problem = ", ".join(
            [f"missing {sorted(missing)}"] * bool(missing) + [f"unknown {sorted(extra)}"] * bool(extra)
        )
        raise InputFileError(path, f"{where}: keys: {problem}")
    for key in ("episode_id", "transcript", "transcript_sha256"):
        if not isinstance(raw[key], str) or not raw[key]:
            raise InputFileError(path, f"{where}: {key} must be a non-empty string")
    sha = raw["transcript_sha256"]
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise InputFileError(path, f"{where}: transcript_sha256 must be 64 lower-case hex digits")
    if raw["split"] not in SPLITS:
        raise InputFileError(path, f"{where}: split must be one of {', '.join(SPLITS)}, got {raw['split']!r}")
    if not isinstance(raw["annotator_note"], str):
        raise InputFileError(path, f"{where}: annotator_note must be a string")
    if not isinstance(raw["reads"], list):
        raise InputFileError(path, f"{where}: reads must be a list")
    reads = []
    for k, read in enumerate(raw["reads"]):
        rw = f"{where} read {k}"
        if not isinstance(read, dict) or set(read) != _READ_KEYS:
            raise InputFileError(path, f"{rw}: keys must be {sorted(_READ_KEYS)}")
        start = _number(read["start_s"], f"{rw} start_s", path)
        end = _number(read["end_s"], f"{rw} end_s", path)
        if end <= start:
            raise InputFileError(path, f"{rw}: end_s ({end}) must be after start_s ({start})")
        if read["position"] not in POSITIONS:
            raise InputFileError(path, f"{rw}: position must be one of {', '.join(POSITIONS)}, got {read['position']!r}")
        if not isinstance(read["brand"], str) or not read["brand"].strip():
            raise InputFileError(path, f"{rw}: brand must be a non-empty string")
        if read["kind"] not in KINDS:
            raise InputFileError(path, f"{rw}: kind must be one of {', '.join(KINDS)}, got {read['kind']!r}")
        if reads and start < reads[-1].end_s:
            raise InputFileError(path, f"{rw}: starts at {start} s, before the previous read ends ({reads[-1].end_s} s); reads must be sorted and must not overlap")
        reads.append(AnnotatedRead(start, end, read["brand"], read["position"], read["kind"]))
    if not isinstance(raw["self_promo"], list):
        raise InputFileError(path, f"{where}: self_promo must be a list")
    promo: list[Span] = []
    for k, span in enumerate(raw["self_promo"]):
        pw = f"{where} self_promo {k}"
        if not isinstance(span, dict) or set(span) != {"start_s", "end_s"}:
            raise InputFileError(path, f"{pw}: keys must be ['end_s', 'start_s']")
        start = _number(span["start_s"], f"{pw} start_s", path)
        end = _number(span["end_s"], f"{pw} end_s", path)
        if end <= start:
            raise InputFileError(path, f"{pw}: end_s ({end}) must be after start_s ({start})")
        if promo and start < promo[-1][1]:
            raise InputFileError(path, f"{pw}: starts before the previous self_promo span ends; spans must be sorted and must not overlap")
        if any(start < r.end_s and r.start_s < end for r in reads):
            raise InputFileError(path, f"{pw}: overlaps a read ({start}-{end} s)")
        promo.append((start, end))
    return EpisodeAnnotation(
        episode_id=raw["episode_id"],
        transcript=raw["transcript"],
        transcript_sha256=sha,
        split=raw["split"],
        reads=tuple(reads),
        self_promo=tuple(promo),
        annotator_note=raw["annotator_note"],
    )


def load_annotations(path: str | Path = DEFAULT_SPANS, shared: str | Path | None = None) -> tuple[EpisodeAnnotation, ...]:
    """Read and validate the annotation file.

    Args:
        path: the JSON Lines file (one episode per line).
        shared: the shared data folder; when given, every transcript must exist there with the
            recorded sha256.

    Raises:
        InputFileError: unreadable JSON, a missing or unknown key, a bad value, reads unsorted or
            overlapping, a repeated episode, or (with ``shared``) a missing or changed transcript.
    """
    path = Path(path)
    rows: list[EpisodeAnnotation] = []
    seen: set[str] = set()
    for line_no, raw in read_jsonl_objects(path):
        row = _parse_row(raw, line_no, path)
        if row.episode_id in seen:
            raise InputFileError(path, f"line {line_no}: episode {row.episode_id} is annotated twice")
        seen.add(row.episode_id)
        if shared is not None:
            transcript = Path(shared) / row.transcript
            if not transcript.is_file():
                raise InputFileError(path, f"line {line_no}: transcript {transcript} not found")
            if sha256_file(transcript) != row.transcript_sha256:
                raise InputFileError(path, f"line {line_no}: {transcript} does not match transcript_sha256 (the file changed since it was annotated)")
        rows.append(row)
    if not rows:
        raise InputFileError(path, "no episodes")
    return tuple(rows)


# ----------------------------------------------------------------------------------------------
# Running the detector
# ----------------------------------------------------------------------------------------------


def load_sponsor_config(path: str | Path = DEFAULT_SPONSOR_CONFIG) -> dict[str, Any]:
    """The ``sponsors`` config group file as plain containers (what the run pipeline passes)."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(str(path)), resolve=True)  # type: ignore[return-value]


def detect_spans(transcript_path: str | Path, sponsor_cfg: Mapping[str, Any]) -> list[DetectedSegment]:
    """Detected sponsor segments of a WebVTT transcript, with their read and self-promotion
    parts, exactly as the run pipeline builds them (reader, then ``mark_sponsors``), with no other
    stage. Segments or parts without times are left out."""
    from harness.sponsors import detect_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    def span(x: Any) -> Span:
        return (round(float(x.start_s), 2), round(float(x.end_s), 2))

    def timed(xs: Iterable[Any]) -> list[Any]:
        return [x for x in xs if x.start_s is not None and x.end_s is not None]

    transcript = load_transcript(str(transcript_path), "webvtt")
    out = []
    for seg in timed(detect_sponsors(transcript, sponsor_config_from_mapping(sponsor_cfg))):
        promo = tuple(span(p) for p in timed(seg.parts) if p.kind == "self_promo")
        out.append(DetectedSegment(*span(seg), tuple(span(p) for p in timed(seg.read_parts)), promo))
    return out


def evaluate(
    annotations: Sequence[EpisodeAnnotation], shared: str | Path, sponsor_cfg: Mapping[str, Any]
) -> list[EpisodeScore]:
    """Run detection on every annotated episode and score it."""
    scores = []
    for row in annotations:
        detected = detect_spans(Path(shared) / row.transcript, sponsor_cfg)
        scores.append(score_episode(row, detected))
        log.info("%s: %d reads, %d segments", row.episode_id, len(row.reads), len(detected))
    return scores


# ----------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------


def build_report(scores: Sequence[EpisodeScore], spans_sha256: str, config_sha256: str) -> dict[str, Any]:
    """The JSON report: totals over all episodes and per split, and one row per episode."""
    from harness import __version__

    return {
        "schema_version": SCHEMA_VERSION,
        "signature": {
            "spans_sha256": spans_sha256,
            "sponsor_config_sha256": config_sha256,
            "harness_version": __version__,
            "min_cover": MIN_COVER,
            "string": f"sponsor-eval|spans:{spans_sha256[:12]}|sponsors-config:{config_sha256[:12]}|cover:{MIN_COVER}|harness:{__version__}",
        },
        "totals": {
            "all": asdict(totals(scores)),
            **{split: asdict(totals([s for s in scores if s.split == split])) for split in SPLITS},
        },
        "episodes": [asdict(s) for s in scores],
    }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render_markdown(report: Mapping[str, Any]) -> str:
    """The Markdown report: totals, recall by read kind and position, one row per episode."""
    lines = [
        "# Sponsor detection against hand-annotated reads",
        "",
        f"`{report['signature']['string']}`",
        "",
        "Seconds: union of spans per episode, summed. Reads are scored on the read parts of the detected",
        "segments: a read is found when >= 50% of it is covered; a read part is a false alarm when < 50%",
        "of it lies inside reads. The self-promotion parts (attached to reads) are scored against the",
        "annotated self-promotion; the last two columns score whole segments (read and self-promotion",
        "parts) against reads and self-promotion together.",
        "",
        "| episodes | annotated s | detected s | precision (s) | recall (s) | reads found | false alarms / read parts "
        "| self-promo precision (s) | self-promo recall (s) | segment precision (s), self-promo allowed | false alarms / segments, self-promo allowed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in report["totals"].items():
        lines.append(
            f"| {name} ({t['episodes']}) | {t['annotated_s']:.1f} | {t['detected_s']:.1f} | {_fmt(t['precision_s'])} | "
            f"{_fmt(t['recall_s'])} | {t['reads_found']}/{t['reads']} | {t['false_alarms']}/{t['read_parts']} | "
            f"{_fmt(t['promo_precision_s'])} | {_fmt(t['promo_recall_s'])} | "
            f"{_fmt(t['precision_with_promo_s'])} | {t['false_alarms_with_promo']}/{t['segments']} |"
        )
    by = report["totals"]["all"]["read_recall_by"]
    lines += ["", "| reads (all episodes) | found |", "|---|---:|"]
    lines += [f"| {key} | {found}/{total} |" for key, (found, total) in by.items()]
    lines += [
        "",
        "| episode | split | annotated s | detected s | overlap s | reads found | false alarms | self-promo annotated s | self-promo detected s | self-promo overlap s | missed reads | false-alarm read parts |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for e in report["episodes"]:
        missed = ", ".join(f"{p} {format_clock(s, always_hours=True)}–{format_clock(t, always_hours=True)}" for s, t, p in e["missed"]) or "–"
        false = ", ".join(f"{format_clock(s, always_hours=True)}–{format_clock(t, always_hours=True)}" for s, t in e["false_alarm_spans"]) or "–"
        lines.append(
            f"| {e['episode_id']} | {e['split']} | {e['annotated_s']:.1f} | {e['detected_s']:.1f} | {e['overlap_s']:.1f} | "
            f"{e['reads_found']}/{e['reads']} | {e['false_alarms']}/{e['read_parts']} | {e['promo_annotated_s']:.1f} | "
            f"{e['promo_detected_s']:.1f} | {e['promo_overlap_s']:.1f} | {missed} | {false} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m harness sponsor-eval``: score sponsor detection on the annotated episodes."""
    from harness.textio import atomic_write_json, atomic_write_text, sha256_file

    parser = argparse.ArgumentParser(prog="python -m harness sponsor-eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", default=str(DEFAULT_SPANS), help="annotation file (default: %(default)s)")
    parser.add_argument("--shared", default=str(DEFAULT_SHARED), help="shared data folder the transcript paths are relative to")
    parser.add_argument("--sponsors-config", default=str(DEFAULT_SPONSOR_CONFIG), help="sponsors config group file")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="output folder for sponsor_eval.json and .md")
    args = parser.parse_args(argv)
    try:
        if not Path(args.shared).is_dir():
            raise InputFileError(args.shared, "shared data folder not found (pass --shared)")
        annotations = load_annotations(args.spans, shared=args.shared)
        cfg_path = Path(args.sponsors_config)
        if not cfg_path.is_file():
            raise InputFileError(cfg_path, "sponsors config not found")
        scores = evaluate(annotations, args.shared, load_sponsor_config(cfg_path))
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    report = build_report(scores, sha256_file(args.spans), sha256_file(cfg_path))
    out = Path(args.out)
    atomic_write_json(out / "sponsor_eval.json", report)
    atomic_write_text(out / "sponsor_eval.md", render_markdown(report))
    t = report["totals"]["all"]
    print(
        f"{t['episodes']} episodes: precision {_fmt(t['precision_s'])} recall {_fmt(t['recall_s'])} (seconds); "
        f"reads found {t['reads_found']}/{t['reads']}; false alarms {t['false_alarms']}/{t['read_parts']} read parts; "
        f"self-promotion precision {_fmt(t['promo_precision_s'])} recall {_fmt(t['promo_recall_s'])}; "
        f"whole segments with self-promotion allowed: precision {_fmt(t['precision_with_promo_s'])}, "
        f"false alarms {t['false_alarms_with_promo']}/{t['segments']} -> {out}"
    )
    return 0
