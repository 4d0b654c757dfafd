"""Control systems for corpus runs: a floor and a ceiling beside every real system.

Generated per episode from the transcript, with the same length budget (content words of the
system's summary) as the system they sit beside:

- ``lead``: the transcript's first sentences outside sponsor reads (an extractive ceiling for
  support: every sentence is in the transcript);
- ``random``: seeded random transcript sentences outside sponsor reads, in transcript order;
- ``mismatched``: the system's own summary scored against a different episode's transcript (the
  next episode in sorted order, wrapping around), a floor: it should be unsupported, with
  coverage near zero.

``lead`` and ``random`` are written as plain summaries, one transcript sentence per line
(``summary.split=line``), under the corpus's ``inputs/``.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from harness.errors import ConfigError, HarnessError
from harness.textio import atomic_write_text

if TYPE_CHECKING:
    from harness.corpus import CorpusRow
    from harness.types import Transcript

log = logging.getLogger(__name__)

CONTROLS = ("lead", "random", "mismatched")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
# A transcript sentence shorter than this is a filler ("Yeah.", "Right.") that says nothing a
# verifier could check; controls skip it so their budget goes to checkable sentences.
MIN_SENTENCE_WORDS = 5
# A sentence counts as part of a sponsor read when at least this share of it lies inside one.
SPONSOR_OVERLAP = 0.5


def transcript_sentences(transcript: "Transcript") -> list[str]:
    """The transcript's conversation sentences outside sponsor reads, in order (turns split at
    sentence ends; sentences under ``MIN_SENTENCE_WORDS`` words left out)."""
    out = []
    for seg in transcript.content_segments:
        offset = 0
        for sentence in _SENTENCE_END.split(seg.text):
            found = seg.text.find(sentence, offset)
            offset = found + len(sentence) if found >= 0 else offset
            start = seg.char_start + max(found, 0)
            text = " ".join(sentence.split())
            if len(text.split()) < MIN_SENTENCE_WORDS:
                continue
            if transcript.sponsor_overlap(start, start + len(sentence)) >= SPONSOR_OVERLAP:
                continue
            out.append(text)
    return out


def lead_sentences(sentences: Sequence[str], budget: int) -> list[str]:
    """The first sentences until their word count reaches ``budget``."""
    out, words = [], 0
    for sentence in sentences:
        if words >= budget:
            break
        out.append(sentence)
        words += len(sentence.split())
    return out


def random_sentences(sentences: Sequence[str], budget: int, seed: str) -> list[str]:
    """Sentences drawn without replacement (``random.Random(seed)``) until their word count
    reaches ``budget``, returned in transcript order."""
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    chosen, words = [], 0
    for i in order:
        if words >= budget:
            break
        chosen.append(i)
        words += len(sentences[i].split())
    return [sentences[i] for i in sorted(chosen)]


def mismatched_pairs(episodes: Sequence[str]) -> dict[str, str]:
    """Each episode paired with the next one in sorted order (the last with the first): a
    deterministic pairing in which no episode meets its own transcript."""
    ordered = sorted(set(episodes))
    if len(ordered) < 2:
        return {}
    return {ep: ordered[(i + 1) % len(ordered)] for i, ep in enumerate(ordered)}


def control_rows(
    rows: Sequence["CorpusRow"],
    controls: Sequence[str],
    cfg: Mapping[str, Any],
    inputs_dir: Path,
    *,
    seed: int,
    start_index: int,
) -> list["CorpusRow"]:
    """Control rows for every runnable manifest row (one per control name), indexed from
    ``start_index``. A control that cannot be built for a row (unreadable input, a single
    episode for ``mismatched``) is logged and skipped; the system row reports the input problem.

    Raises:
        ConfigError: an unknown control name.
    """
    unknown = [c for c in controls if c not in CONTROLS]
    if unknown:
        raise ConfigError(f"corpus.controls: unknown control(s) {', '.join(map(str, unknown))} (use {', '.join(CONTROLS)})")
    if not controls:
        return []
    systems = sorted({r.system for r in rows})
    real = [r for r in rows if r.error is None]
    transcripts = {r.episode_id: r for r in real}  # an episode's transcript, from any of its rows
    pairs = {s: mismatched_pairs([r.episode_id for r in real if r.system == s]) for s in systems}
    sentence_cache: dict[str, list[str]] = {}
    out: list[CorpusRow] = []
    for row in real:
        name = (lambda c: c) if len(systems) == 1 else (lambda c, s=row.system: f"{c}-{s}")
        for control in controls:
            try:
                built = _control_row(row, control, cfg, inputs_dir, seed, sentence_cache, pairs[row.system], transcripts)
            except HarnessError as exc:
                log.warning("control %s for %s / %s not built: %s", control, row.episode_id, row.system, exc)
                continue
            if built is None:
                log.warning("control %s for %s / %s not built: needs at least two episodes", control,
                            row.episode_id, row.system)
                continue
            out.append(replace(built, index=start_index + len(out), system=name(control)))
    return out


def _control_row(
    row: "CorpusRow",
    control: str,
    cfg: Mapping[str, Any],
    inputs_dir: Path,
    seed: int,
    sentence_cache: dict[str, list[str]],
    pairs: Mapping[str, str],
    transcripts: Mapping[str, "CorpusRow"],
) -> "CorpusRow | None":
    base = replace(row, control=control, beside=row.system, transcript_episode=row.episode_id)
    if control == "mismatched":
        partner = pairs.get(row.episode_id)
        if partner is None:
            return None
        other = transcripts[partner]
        return replace(base, transcript_path=other.transcript_path, transcript_format=other.transcript_format,
                       transcript_episode=partner)
    if row.transcript_path not in sentence_cache:
        sentence_cache[row.transcript_path] = transcript_sentences(_load_transcript(row, cfg))
    sentences = sentence_cache[row.transcript_path]
    budget = _content_words(row, cfg)
    if control == "lead":
        chosen = lead_sentences(sentences, budget)
    else:
        chosen = random_sentences(sentences, budget, f"{seed}:{row.episode_id}:{row.system}")
    path = inputs_dir / f"{row.row_id}.{control}.txt"
    inputs_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n".join(chosen) + "\n")
    return replace(base, summary_path=str(path), summary_format="plain", summary_split="line")


def _load_transcript(row: "CorpusRow", cfg: Mapping[str, Any]) -> "Transcript":
    from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    transcript = load_transcript(row.transcript_path, row.transcript_format,
                                 max_bytes=int(cfg.get("max_input_bytes", 5_000_000)))
    return mark_sponsors(transcript, sponsor_config_from_mapping(cfg.get("sponsors", {})))


def _content_words(row: "CorpusRow", cfg: Mapping[str, Any]) -> int:
    """The system summary's length budget: words in its content units (as ``units.content_words``)."""
    from harness.formats import FormatOptions, load_summary

    s_cfg = cfg.get("summary") or {}
    options = FormatOptions(split=row.summary_split,
                            boilerplate_patterns=tuple(s_cfg.get("boilerplate_patterns") or ()))
    summary = load_summary(row.summary_path, row.summary_format, options,
                           max_bytes=int(cfg.get("max_input_bytes", 5_000_000)))
    return sum(len(u.text_plain.split()) for u in summary.content_units)
