"""Loader of the conversation benchmark (``benchmarks/conversation/``; schema in its ``SCHEMA.md``).

Three kinds of JSON Lines files:

* ``episodes.jsonl``: the episodes and the fixed split (``dev`` for fitting and tuning, ``test``
  for reporting only). The split is decided there and nowhere else: a unit or claim whose
  ``split`` disagrees with its episode's is an error.
* ``units_<episode>.jsonl``: labelled units of summary pages, pointed at by the page's sha256,
  a 1-based line and a character span in that line. The loader re-extracts the text from the
  shared file and checks it against ``text_sha1``, so a changed page is caught, never silently
  mislabelled.
* ``claims_<episode>.jsonl``: claims the project wrote itself (their text is stored).

Paths in the files are relative to the shared data folder (``../shared`` beside the repository,
or ``$HARNESS_SHARED_DIR``); a ``project:`` prefix means the repository root.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection, Iterable, Mapping, Sequence

from harness.errors import InputFileError
from harness.textio import read_jsonl_objects, sha256_file

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BENCHMARK_DIR = PROJECT_ROOT / "benchmarks" / "conversation"
SHARED_ENV = "HARNESS_SHARED_DIR"
PROJECT_PREFIX = "project:"

SPLITS = ("dev", "test")
UNIT_LABELS = frozenset(
    {"supported", "partially_supported", "unsupported", "contradicted", "ad", "background", "not_checkable"}
)
UNIT_ROLES = frozenset(
    {"content", "background", "heading", "boilerplate", "quote", "quote_gloss", "argument", "commentary"}
)
FAITHFUL_KINDS = ("faithful_paraphrase", "faithful_gist", "faithful_merge")
ERROR_KINDS = (
    "entity_swap",
    "number_change",
    "negation",
    "hedge_removed",
    "hedge_added",
    "speaker_swap",
    "never_said",
    "sponsor_as_insight",
    "wrong_citation",
)
CLAIM_KINDS = FAITHFUL_KINDS + ERROR_KINDS
CLAIM_LABELS = frozenset({"supported", "unsupported", "contradicted"})
PROBLEM_UNIT_LABELS = frozenset({"partially_supported", "unsupported", "contradicted", "ad"})
"""Unit labels that count as "a problem" in the binary supported-vs-problem evaluation;
``background`` and ``not_checkable`` units are left out of it."""


@dataclass(frozen=True)
class Moment:
    """A stretch of the transcript that decides a label, in seconds."""

    start_s: float
    end_s: float


@dataclass(frozen=True)
class Episode:
    """One episode of the benchmark and its split.

    Attributes:
        episode_id: e.g. ``lex-fridman-10``.
        split: ``dev`` or ``test``.
        transcript: the path as written in the file (shared-relative or ``project:``).
        transcript_format: the transcript reader to use.
        transcript_sha256: hex digest of the transcript file.
        has_speakers: whether the transcript names its speakers.
        transcript_path: ``transcript`` resolved to a file on this machine.
    """

    episode_id: str
    split: str
    transcript: str
    transcript_format: str
    transcript_sha256: str
    has_speakers: bool
    transcript_path: Path


@dataclass(frozen=True)
class LabelledUnit:
    """A labelled unit of a summary page (its text re-extracted from the page).

    Attributes:
        episode_id: the episode the page summarises.
        split: the episode's split.
        summary: the page's path as written in the file.
        summary_format: the summary format to parse the page with.
        summary_sha256: hex digest of the page.
        unit_index: 0-based order among the page's labelled units.
        line: 1-based line of the page.
        char_start: start of the unit in that line (Python string index, newline excluded).
        char_end: end of the unit in that line.
        role: content, background, heading, boilerplate, quote, …
        label: supported, partially_supported, unsupported, contradicted, ad, background or
            not_checkable.
        error_kind: the claim kind of the error when the cause is clear, else ``None``.
        moments: transcript moments that decide the label.
        reason: one line, why.
        text: the unit's text, extracted from the page.
        summary_path: ``summary`` resolved to a file on this machine.
        source: the ``units_*.jsonl`` file and line it came from (``file:line``).
    """

    episode_id: str
    split: str
    summary: str
    summary_format: str
    summary_sha256: str
    unit_index: int
    line: int
    char_start: int
    char_end: int
    role: str
    label: str
    error_kind: str | None
    moments: tuple[Moment, ...]
    reason: str
    text: str
    summary_path: Path
    source: str

    @property
    def is_problem(self) -> bool | None:
        """True for a problem label, False for supported, None when left out of the binary task."""
        if self.label == "supported":
            return False
        if self.label in PROBLEM_UNIT_LABELS:
            return True
        return None


@dataclass(frozen=True)
class WrittenClaim:
    """A claim about an episode written by the project (faithful or with one kind of error).

    Attributes:
        claim_id: ``<episode>.c017``.
        episode_id: the episode it is about.
        split: the episode's split.
        text: the claim.
        kind: one of ``CLAIM_KINDS``.
        label: supported, unsupported or contradicted.
        source_claim_id: for an error, the faithful claim it was edited from.
        cited_time_s: a time the claim cites, if any.
        speaker: ``guest`` or ``host`` when the claim attributes speech.
        moments: where the transcript decides it.
        reason: one line, why.
        source: the ``claims_*.jsonl`` file and line it came from.
    """

    claim_id: str
    episode_id: str
    split: str
    text: str
    kind: str
    label: str
    source_claim_id: str | None
    cited_time_s: float | None
    speaker: str | None
    moments: tuple[Moment, ...]
    reason: str
    source: str

    @property
    def is_problem(self) -> bool:
        """True for an error claim (any label but supported)."""
        return self.label != "supported"


@dataclass(frozen=True)
class ConversationBenchmark:
    """The loaded benchmark, or one split of it (``split()``)."""

    root: Path
    episodes: tuple[Episode, ...]
    units: tuple[LabelledUnit, ...] = ()
    claims: tuple[WrittenClaim, ...] = ()
    files: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)

    def split(self, name: str) -> ConversationBenchmark:
        """Only the episodes (and their units and claims) of split ``name``."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        ids = {e.episode_id for e in self.episodes if e.split == name}
        return ConversationBenchmark(
            root=self.root,
            episodes=tuple(e for e in self.episodes if e.episode_id in ids),
            units=tuple(u for u in self.units if u.episode_id in ids),
            claims=tuple(c for c in self.claims if c.episode_id in ids),
            files=self.files,
        )

    @property
    def dev(self) -> ConversationBenchmark:
        """The dev split (fitting and tuning)."""
        return self.split("dev")

    @property
    def test(self) -> ConversationBenchmark:
        """The test split (reporting only)."""
        return self.split("test")

    def episode(self, episode_id: str) -> Episode:
        """The episode called ``episode_id`` (KeyError if none)."""
        for e in self.episodes:
            if e.episode_id == episode_id:
                return e
        raise KeyError(episode_id)


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def shared_dir() -> Path:
    """The shared data folder: ``$HARNESS_SHARED_DIR``, else ``../shared`` beside the repository."""
    env = os.environ.get(SHARED_ENV)
    return Path(env).expanduser() if env else PROJECT_ROOT.parent / "shared"


def resolve_data_path(value: str, *, shared: Path | None = None, project: Path | None = None) -> Path:
    """A path from a benchmark file: ``project:<rel>`` under the repository root, else under the
    shared folder. Absolute paths and ``..`` parts are refused (the files must stay portable)."""
    if value.startswith(PROJECT_PREFIX):
        base, rel = (project or PROJECT_ROOT), value[len(PROJECT_PREFIX):]
    else:
        base, rel = (shared or shared_dir()), value
    rel_path = Path(rel)
    if not rel or rel_path.is_absolute() or ".." in rel_path.parts:
        raise ValueError(f"path {value!r} must be relative to the shared folder (or project:) without '..'")
    return base / rel_path


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _field(path: Path, line_no: int, obj: Mapping[str, Any], name: str, types: type | tuple[type, ...], *, optional: bool = False) -> Any:
    if name not in obj:
        raise InputFileError(path, f"line {line_no}: missing field {name!r}")
    value = obj[name]
    if value is None and optional:
        return None
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise InputFileError(path, f"line {line_no}: field {name!r} has the wrong type")
    if not isinstance(value, types):
        raise InputFileError(path, f"line {line_no}: field {name!r} has the wrong type ({type(value).__name__})")
    if isinstance(value, str) and not value.strip() and not optional:
        raise InputFileError(path, f"line {line_no}: field {name!r} is empty")
    return value


def _choice(path: Path, line_no: int, obj: Mapping[str, Any], name: str, allowed: Collection[str], *, optional: bool = False) -> Any:
    """The string field ``name``, which must be one of ``allowed`` (or ``None`` when optional)."""
    value = _field(path, line_no, obj, name, str, optional=optional)
    if value is not None and value not in allowed:
        raise InputFileError(path, f"line {line_no}: unknown {name} {value!r}")
    return value


def _moments(path: Path, line_no: int, obj: Mapping[str, Any]) -> tuple[Moment, ...]:
    raw = _field(path, line_no, obj, "moments", list)
    out = []
    for m in raw:
        if not isinstance(m, dict) or not all(isinstance(m.get(k), (int, float)) for k in ("start_s", "end_s")):
            raise InputFileError(path, f"line {line_no}: each moment needs numeric start_s and end_s")
        if m["end_s"] < m["start_s"]:
            raise InputFileError(path, f"line {line_no}: a moment ends before it starts")
        out.append(Moment(float(m["start_s"]), float(m["end_s"])))
    return tuple(out)


def _episode_and_split(path: Path, line_no: int, obj: Mapping[str, Any], episodes: Mapping[str, Episode]) -> tuple[str, str]:
    """The row's ``episode_id`` and ``split``, checked against ``episodes.jsonl``."""
    eid = _field(path, line_no, obj, "episode_id", str)
    if eid not in episodes:
        raise InputFileError(path, f"line {line_no}: episode {eid!r} is not in episodes.jsonl")
    split = _field(path, line_no, obj, "split", str)
    if split != episodes[eid].split:
        raise InputFileError(path, f"line {line_no}: split {split!r} disagrees with episodes.jsonl ({episodes[eid].split!r} for {eid})")
    return eid, split


def _resolve_field_path(path: Path, line_no: int, value: str, *, shared: Path | None, project: Path | None) -> Path:
    """``resolve_data_path`` for a path named on line ``line_no`` of ``path``."""
    try:
        return resolve_data_path(value, shared=shared, project=project)
    except ValueError as exc:
        raise InputFileError(path, f"line {line_no}: {exc}") from None


def load_episodes(path: Path, *, shared: Path | None = None, project: Path | None = None) -> tuple[Episode, ...]:
    """Read ``episodes.jsonl``: the episodes and the fixed split."""
    episodes: list[Episode] = []
    seen: set[str] = set()
    for line_no, obj in read_jsonl_objects(path):
        eid = _field(path, line_no, obj, "episode_id", str)
        split = _field(path, line_no, obj, "split", str)
        if split not in SPLITS:
            raise InputFileError(path, f"line {line_no}: split must be dev or test, not {split!r}")
        if eid in seen:
            raise InputFileError(path, f"line {line_no}: episode {eid!r} is listed twice")
        seen.add(eid)
        rel = _field(path, line_no, obj, "transcript", str)
        resolved = _resolve_field_path(path, line_no, rel, shared=shared, project=project)
        episodes.append(
            Episode(
                episode_id=eid,
                split=split,
                transcript=rel,
                transcript_format=_field(path, line_no, obj, "transcript_format", str),
                transcript_sha256=_field(path, line_no, obj, "transcript_sha256", str),
                has_speakers=bool(_field(path, line_no, obj, "has_speakers", bool)),
                transcript_path=resolved,
            )
        )
    if not episodes:
        raise InputFileError(path, "no episodes")
    return tuple(episodes)


class _LineCache:
    """Summary files read once each, split into lines, with their sha256."""

    def __init__(self) -> None:
        self._files: dict[Path, tuple[str, list[str]]] = {}

    def get(self, path: Path) -> tuple[str, list[str]]:
        if path not in self._files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputFileError(path, f"cannot read summary page ({exc.strerror})") from None
            text = data.decode("utf-8-sig")
            # str.splitlines would also split at U+2028 and friends; the schema counts "\n" lines
            lines = [ln.rstrip("\r") for ln in text.split("\n")]
            self._files[path] = (hashlib.sha256(data).hexdigest(), lines)
        return self._files[path]


def load_units(
    path: Path,
    episodes: Mapping[str, Episode],
    *,
    shared: Path | None = None,
    project: Path | None = None,
    cache: _LineCache | None = None,
    check_text: bool = True,
) -> tuple[LabelledUnit, ...]:
    """Read one ``units_*.jsonl`` file, re-extracting every unit's text from its page.

    Raises:
        InputFileError: a malformed line, an unknown episode, a split that disagrees with
            ``episodes.jsonl``, a page whose sha256 differs from the one labelled, or a span
            whose text no longer matches ``text_sha1``.
    """
    cache = cache or _LineCache()
    out: list[LabelledUnit] = []
    for line_no, obj in read_jsonl_objects(path):
        where = f"line {line_no}"
        eid, split = _episode_and_split(path, line_no, obj, episodes)
        label = _choice(path, line_no, obj, "label", UNIT_LABELS)
        role = _choice(path, line_no, obj, "role", UNIT_ROLES)
        error_kind = _choice(path, line_no, obj, "error_kind", CLAIM_KINDS, optional=True)
        summary = _field(path, line_no, obj, "summary", str)
        summary_path = _resolve_field_path(path, line_no, summary, shared=shared, project=project)
        sha256 = _field(path, line_no, obj, "summary_sha256", str)
        line = _field(path, line_no, obj, "line", int)
        start = _field(path, line_no, obj, "char_start", int)
        end = _field(path, line_no, obj, "char_end", int)
        text = ""
        if check_text:
            actual_sha, lines = cache.get(summary_path)
            if actual_sha != sha256:
                raise InputFileError(path, f"{where}: {summary} has sha256 {actual_sha[:12]}…, labelled {sha256[:12]}… (the page changed)")
            if not 1 <= line <= len(lines):
                raise InputFileError(path, f"{where}: line {line} is outside {summary} ({len(lines)} lines)")
            if not 0 <= start < end <= len(lines[line - 1]):
                raise InputFileError(path, f"{where}: span {start}:{end} is outside line {line} of {summary}")
            text = lines[line - 1][start:end]
            want = _field(path, line_no, obj, "text_sha1", str)
            got = hashlib.sha1(text.encode("utf-8")).hexdigest()
            if got != want:
                raise InputFileError(path, f"{where}: text of {summary} line {line} [{start}:{end}] has sha1 {got[:12]}…, labelled {want[:12]}… (span or page changed)")
        out.append(
            LabelledUnit(
                episode_id=eid,
                split=split,
                summary=summary,
                summary_format=_field(path, line_no, obj, "summary_format", str),
                summary_sha256=sha256,
                unit_index=_field(path, line_no, obj, "unit_index", int),
                line=line,
                char_start=start,
                char_end=end,
                role=role,
                label=label,
                error_kind=error_kind,
                moments=_moments(path, line_no, obj),
                reason=str(obj.get("reason") or ""),
                text=text,
                summary_path=summary_path,
                source=f"{path.name}:{line_no}",
            )
        )
    return tuple(out)


def load_claims(path: Path, episodes: Mapping[str, Episode]) -> tuple[WrittenClaim, ...]:
    """Read one ``claims_*.jsonl`` file.

    Raises:
        InputFileError: a malformed line, an unknown episode or kind, a split that disagrees
            with ``episodes.jsonl``, or a repeated claim id.
    """
    out: list[WrittenClaim] = []
    seen: set[str] = set()
    for line_no, obj in read_jsonl_objects(path):
        where = f"line {line_no}"
        cid = _field(path, line_no, obj, "claim_id", str)
        if cid in seen:
            raise InputFileError(path, f"{where}: claim id {cid!r} repeats")
        seen.add(cid)
        eid, split = _episode_and_split(path, line_no, obj, episodes)
        kind = _choice(path, line_no, obj, "kind", CLAIM_KINDS)
        label = _choice(path, line_no, obj, "label", CLAIM_LABELS)
        if (kind in FAITHFUL_KINDS) != (label == "supported"):
            raise InputFileError(path, f"{where}: kind {kind!r} does not go with label {label!r}")
        cited = _field(path, line_no, obj, "cited_time_s", (int, float), optional=True)
        if kind == "wrong_citation" and cited is None:
            raise InputFileError(path, f"{where}: a wrong_citation claim needs cited_time_s")
        speaker = _field(path, line_no, obj, "speaker", str, optional=True) if "speaker" in obj else None
        out.append(
            WrittenClaim(
                claim_id=cid,
                episode_id=eid,
                split=split,
                text=_field(path, line_no, obj, "text", str),
                kind=kind,
                label=label,
                source_claim_id=obj.get("source_claim_id") if isinstance(obj.get("source_claim_id"), str) else None,
                cited_time_s=float(cited) if cited is not None else None,
                speaker=speaker,
                moments=_moments(path, line_no, obj) if "moments" in obj else (),
                reason=str(obj.get("reason") or ""),
                source=f"{path.name}:{line_no}",
            )
        )
    return tuple(out)


def load_benchmark(
    root: Path | str | None = None,
    *,
    shared: Path | None = None,
    project: Path | None = None,
    check_text: bool = True,
) -> ConversationBenchmark:
    """Load ``episodes.jsonl`` and every ``units_*.jsonl`` and ``claims_*.jsonl`` beside it.

    Args:
        root: the benchmark folder (default ``benchmarks/conversation`` of the project).
        shared: the shared data folder (default ``shared_dir()``).
        project: what ``project:`` paths are relative to (default the repository root).
        check_text: re-extract unit texts and check their sha1 (needs the shared pages).

    Raises:
        InputFileError: see ``load_units`` and ``load_claims``; also a missing ``episodes.jsonl``.
    """
    base = Path(root) if root is not None else DEFAULT_BENCHMARK_DIR
    episodes_file = base / "episodes.jsonl"
    if not episodes_file.is_file():
        raise InputFileError(episodes_file, "not found (the conversation benchmark needs its episodes.jsonl)")
    episodes = load_episodes(episodes_file, shared=shared, project=project)
    by_id = {e.episode_id: e for e in episodes}
    cache = _LineCache()
    units: list[LabelledUnit] = []
    claims: list[WrittenClaim] = []
    files: list[dict[str, Any]] = [_file_entry(episodes_file, len(episodes))]
    for path in sorted(base.glob("units_*.jsonl")):
        got = load_units(path, by_id, shared=shared, project=project, cache=cache, check_text=check_text)
        units.extend(got)
        files.append(_file_entry(path, len(got)))
    for path in sorted(base.glob("claims_*.jsonl")):
        got_claims = load_claims(path, by_id)
        dup = {c.claim_id for c in got_claims} & {c.claim_id for c in claims}
        if dup:
            raise InputFileError(path, f"claim id {sorted(dup)[0]!r} also appears in another claims file")
        claims.extend(got_claims)
        files.append(_file_entry(path, len(got_claims)))
    return ConversationBenchmark(root=base, episodes=episodes, units=tuple(units), claims=tuple(claims), files=tuple(files))


def _file_entry(path: Path, records: int) -> dict[str, Any]:
    digest = sha256_file(path)
    return {"path": path.name, "sha256": digest, "records": records}


def check_sources(bench: ConversationBenchmark, episode_ids: Iterable[str] | None = None) -> list[str]:
    """Problems with the shared files the benchmark points at (missing file, changed sha256),
    one line each; empty when all is well."""
    wanted = set(episode_ids) if episode_ids is not None else None
    problems = []
    for e in bench.episodes:
        if wanted is not None and e.episode_id not in wanted:
            continue
        if not e.transcript_path.is_file():
            problems.append(f"{e.episode_id}: transcript {e.transcript} not found")
            continue
        digest = sha256_file(e.transcript_path)
        if digest != e.transcript_sha256:
            problems.append(f"{e.episode_id}: transcript {e.transcript} has sha256 {digest[:12]}…, expected {e.transcript_sha256[:12]}…")
    return problems


def summary_pages(units: Sequence[LabelledUnit]) -> dict[tuple[str, str], list[LabelledUnit]]:
    """Labelled units grouped by (episode, summary page), in unit order."""
    out: dict[tuple[str, str], list[LabelledUnit]] = {}
    for u in units:
        out.setdefault((u.episode_id, u.summary), []).append(u)
    for rows in out.values():
        rows.sort(key=lambda u: u.unit_index)
    return out


def provenance_table(bench: ConversationBenchmark) -> str:
    """A Markdown table of every shared file the benchmark points at (path, sha256, split,
    labelled units, written claims), for the benchmark's README."""
    lines = ["| episode | split | file | sha256 | units | claims |", "|---|---|---|---|---:|---:|"]
    pages = summary_pages(bench.units)
    for e in bench.episodes:
        n_claims = sum(1 for c in bench.claims if c.episode_id == e.episode_id)
        lines.append(f"| {e.episode_id} | {e.split} | `{e.transcript}` (transcript, {e.transcript_format}) | `{e.transcript_sha256}` | | {n_claims} |")
        for (eid, page), units in sorted(pages.items()):
            if eid == e.episode_id:
                lines.append(f"| {eid} | {e.split} | `{page}` (summary, {units[0].summary_format}) | `{units[0].summary_sha256}` | {len(units)} | |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m harness.benchmarks.conversation``: load and check the benchmark, print counts
    and the provenance table (exit 2 with one line on a problem)."""
    import argparse
    import sys
    from collections import Counter

    parser = argparse.ArgumentParser(prog="python -m harness.benchmarks.conversation", description=main.__doc__)
    parser.add_argument("root", nargs="?", default=None, help="benchmark folder (default benchmarks/conversation)")
    args = parser.parse_args(argv)
    try:
        bench = load_benchmark(args.root)
        problems = check_sources(bench)
    except InputFileError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    for split in SPLITS:
        part = bench.split(split)
        print(f"{split}: {len(part.episodes)} episodes, {len(part.units)} labelled units "
              f"{dict(sorted(Counter(u.label for u in part.units).items()))}, {len(part.claims)} claims "
              f"{dict(sorted(Counter(c.kind for c in part.claims).items()))}")
    print()
    print(provenance_table(bench))
    for p in problems:
        print(f"harness: error: {p}", file=sys.stderr)
    return 2 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
