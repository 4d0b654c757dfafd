"""The detector plug point and what every detector reads: ``FlagContext`` and ``TranscriptIndex``.

A detector is a function ``(ctx, params) -> Iterable[Flag]`` registered by name in ``FLAGS``;
``params`` is the detector's own section of the ``flags`` config (``flags.<name>``). Detectors
read the transcript, the summary and the verdicts through ``ctx`` and never change them.
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from harness.errors import ConfigError
from harness.flags.numbers import Number, extract_numbers
from harness.text import norm_word, split_sentences, word_set
from harness.transcript_lookup import HostFraming, Speaker, guest_of, host_framing, speaker_of, transcript_speakers
from harness.registry import Registry
from harness.types import Flag, QuoteMatch, Summary, SummaryUnit, Transcript, UnitVerdict, Verdict

if TYPE_CHECKING:  # pragma: no cover
    from harness.episode import Episode

Detector = Callable[["FlagContext", Mapping[str, Any]], Iterable[Flag]]

FLAGS: Registry[Detector] = Registry("flag detector")
"""Flag detectors by name; ``flags.enabled`` in the config picks which run."""

SEVERITIES = ("major", "minor", "info")
"""``info`` is a note, not an error of the summary (a name the transcript misspells); it is not
counted in ``flags.major`` / ``flags.minor``."""
SUPPORTED = ("supported", "partially_supported")


class Params(dict):
    """A detector's settings (``flags.<name>``); a missing key is a ``ConfigError`` naming it,
    so every threshold comes from the config file, never from a default in the code."""

    def __init__(self, name: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.name = name

    def __missing__(self, key: str) -> Any:
        raise ConfigError(f"flags.{self.name}.{key} is missing from the flags config")


def severity(params: Mapping[str, Any], key: str) -> str:
    """A severity from the detector's params, checked against ``SEVERITIES``."""
    value = str(params[key])
    if value not in SEVERITIES:
        name = getattr(params, "name", "?")
        raise ConfigError(f"flags.{name}.{key} must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return value


# ----------------------------------------------------------------------------------------------
# Transcript index: words, numbers, proper nouns and speakers, built once per transcript
# ----------------------------------------------------------------------------------------------

_NAME_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'’\-]*[A-Za-z0-9]|[A-Z]")
_CAMEL = re.compile(r"[a-z][A-Z]|^[A-Z]{2,}[a-z]")
_MODEL = re.compile(r"[A-Za-z]+-?\d")


def is_name_like(token: str) -> bool:
    """A token written like a name: capitalised, CamelCase, an acronym or a model name."""
    return bool(token) and (token[0].isupper() or bool(_CAMEL.search(token)) or bool(_MODEL.match(token)))


def strip_possessive(token: str) -> str:
    """``Krazewski's`` → ``Krazewski``."""
    return re.sub(r"['’]s?$", "", token)


@dataclass(frozen=True)
class NameOccurrence:
    """Where a proper-noun-like token occurs in the transcript, with the name-like tokens next
    to it (lower-cased), so "Alex Krazewski" can be matched to "Alex Krizhevsky" by context."""

    token: str
    char_start: int
    char_end: int
    sentence_start: int
    sentence_end: int
    neighbours: frozenset[str]


@dataclass
class TranscriptIndex:
    """What detectors look up in the transcript (conversation turns only, preface excluded).

    Attributes:
        words: normalised words of the conversation (``norm_word``), speaker labels included.
        phrase_text: the conversation lower-cased with punctuation replaced by spaces, padded
            with spaces, for whole-phrase lookups.
        numbers: numbers said in the conversation, with offsets into ``Transcript.text``.
        names: proper-noun-like tokens (as written, possessive removed) → occurrences; a
            speaker label's tokens get an occurrence with ``char_start`` -1 (a label, not text).
        full_names: runs of 2–3 adjacent name-like tokens ("Alex Krizhevsky") and speaker
            names → how often they occur.
        speakers: distinct speakers, most turns first.
        host: the speaker of the first labelled turn (podcasts open with the host).
    """

    words: set[str]
    phrase_text: str
    numbers: list[Number]
    names: dict[str, list[NameOccurrence]]
    full_names: dict[str, int]
    speakers: list[Speaker]
    host: Speaker | None

    def has_word(self, word: str) -> bool:
        """Whether a word (any case, plural or possessive) is said in the conversation; a
        hyphenated word counts when all its parts are."""
        w = norm_word(word)
        if w in self.words or word.lower() in self.words:
            return True
        parts = [p for p in re.split(r"[-/]", word) if p]
        return len(parts) > 1 and all(norm_word(p) in self.words for p in parts)

    def has_phrase(self, phrase: str) -> bool:
        """Whether a phrase occurs as a whole (case and punctuation ignored)."""
        p = phrase_key(phrase)
        return bool(p) and f" {p} " in self.phrase_text

    def speaker_of(self, label: str | None) -> Speaker | None:
        """The speaker a label belongs to (``None`` for no label)."""
        return speaker_of(label, self.speakers)

    def occurrences(self, token: str) -> list[NameOccurrence]:
        """Where a name-like token is said in the conversation (speaker labels left out)."""
        return [o for o in self.names.get(token, ()) if o.char_start >= 0]

    @property
    def guest(self) -> Speaker | None:
        """The speaker with the most turns other than the host."""
        return guest_of(self.speakers, self.host)


def phrase_key(text: str) -> str:
    """Lower-case, possessives dropped, non-alphanumerics to single spaces."""
    t = re.sub(r"['’]s\b", "", text.lower())
    return " ".join(re.findall(r"[a-z0-9]+", t))


def _flush(run: list[str], full_names: Counter[str]) -> None:
    if 2 <= len(run) <= 3:
        full_names[" ".join(run)] += 1


def _build_index(transcript: Transcript) -> TranscriptIndex:
    words: set[str] = set()
    numbers: list[Number] = []
    names: dict[str, list[NameOccurrence]] = defaultdict(list)
    full_names: Counter[str] = Counter()
    phrase_parts: list[str] = []
    for seg in transcript.content_segments:
        words |= word_set(seg.text)
        if seg.speaker:
            words |= word_set(seg.speaker)
        phrase_parts.append(phrase_key(seg.text))
        for n in extract_numbers(seg.text):
            numbers.append(
                Number(n.value, n.kind, n.unit, n.text, seg.char_start + n.start, seg.char_start + n.end)
            )
        for s, e in split_sentences(seg.text):
            toks = [(m.start(), m.end(), m.group(0)) for m in _NAME_TOKEN.finditer(seg.text, s, e)]
            run: list[str] = []
            prev_end = s
            for i, (ts, te, tok) in enumerate(toks):
                name = strip_possessive(tok)
                ok = i > 0 and is_name_like(name)
                if ok and run and seg.text[prev_end:ts] == " ":
                    run.append(name)
                else:
                    _flush(run, full_names)
                    run = [name] if ok else []
                prev_end = te
                if tok.endswith(("'s", "’s")):
                    _flush(run, full_names)
                    run = []
            _flush(run, full_names)
            for i, (ts, te, tok) in enumerate(toks):
                name = strip_possessive(tok)
                mid_sentence = i > 0 and not seg.text[s:ts].rstrip().endswith((":", '"', "“"))
                if not (is_name_like(name) and (mid_sentence or _CAMEL.search(name) or _MODEL.match(name))):
                    continue
                neighbours = frozenset(
                    strip_possessive(t).lower()
                    for j, (_, _, t) in enumerate(toks)
                    if j != i and abs(j - i) <= 2 and is_name_like(t)
                )
                names[name].append(
                    NameOccurrence(
                        name,
                        seg.char_start + ts,
                        seg.char_start + ts + len(name),
                        seg.char_start + s,
                        seg.char_start + e,
                        neighbours,
                    )
                )
    speakers, host = transcript_speakers(transcript)
    for sp in speakers:
        for label in sp.labels:
            toks = label.split()
            if len(toks) > 1:
                full_names[label] += 0
            for tok in toks:
                if is_name_like(tok):
                    others = frozenset(t.lower() for t in toks if t != tok)
                    names[tok].append(NameOccurrence(tok, -1, -1, -1, -1, others))
    return TranscriptIndex(
        words=words,
        phrase_text=" " + " ".join(phrase_parts) + " ",
        numbers=numbers,
        names=dict(names),
        full_names=dict(full_names),
        speakers=speakers,
        host=host,
    )


def transcript_index(transcript: Transcript, episode: Episode | None = None) -> TranscriptIndex:
    """The index of a transcript; with its ``Episode``, built once per episode and kept there."""
    if episode is None:
        return _build_index(transcript)
    return episode.derived("flags.transcript_index", lambda: _build_index(episode.transcript))


def framing_of(transcript: Transcript, params: Mapping[str, Any], episode: Any = None) -> HostFraming:
    """The host's intro and outro of an unlabelled transcript by ``flags.misattribution.host_framing``
    (empty when that block is off or missing); built once per episode and config."""
    cfg = params.get("host_framing") or {}
    if not cfg or not cfg.get("enabled", False):
        return HostFraming()
    try:
        kwargs = dict(
            openings=list(cfg["openings"]),
            conversation_starts=list(cfg["conversation_starts"]),
            outros=list(cfg["outros"]),
            intro_max_share=float(cfg["intro_max_share"]),
            outro_min_share=float(cfg["outro_min_share"]),
        )
    except KeyError as exc:
        raise ConfigError(f"flags.misattribution.host_framing needs key {exc}") from exc
    if not (0 < kwargs["intro_max_share"] < kwargs["outro_min_share"] < 1):
        raise ConfigError("flags.misattribution.host_framing: need 0 < intro_max_share < outro_min_share < 1")
    try:
        if episode is None:
            return host_framing(transcript, **kwargs)
        key = "flags.host_framing:" + repr(sorted(kwargs.items()))
        return episode.derived(key, lambda: host_framing(episode.transcript, **kwargs))
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc


# ----------------------------------------------------------------------------------------------
# Context
# ----------------------------------------------------------------------------------------------


@dataclass
class FlagContext:
    """Everything a detector reads.

    Attributes:
        transcript: the parsed transcript with sponsor segments marked.
        summary: the parsed summary.
        episode: the run's ``Episode`` (indexes built from the transcript are kept there);
            ``None``: built per context.
        unit_verdicts: per-unit verdicts; empty when alignment did not run.
        cfg: the whole ``flags`` config (plain containers).
        quote_matches: the quote stage's matches by unit id; ``None`` = match them when a
            detector first asks (``quotes``).
    """

    transcript: Transcript
    summary: Summary
    unit_verdicts: tuple[UnitVerdict, ...]
    cfg: Mapping[str, Any]
    quote_matches: Mapping[str, QuoteMatch] | None = None
    episode: Episode | None = None
    _docs: dict[str, Any] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def units(self) -> dict[str, SummaryUnit]:
        return {u.unit_id: u for u in self.summary.units}

    @functools.cached_property
    def verdicts(self) -> dict[str, UnitVerdict]:
        return {uv.unit_id: uv for uv in self.unit_verdicts}

    @functools.cached_property
    def index(self) -> TranscriptIndex:
        return transcript_index(self.transcript, self.episode)

    @functools.cached_property
    def framing(self) -> HostFraming:
        """The host's framing of an unlabelled transcript (``flags.misattribution.host_framing``),
        shared by ``misattribution`` and ``misattributed_quote``."""
        return framing_of(self.transcript, self.cfg.get("misattribution") or {}, self.episode)

    @functools.cached_property
    def quotes(self) -> Mapping[str, QuoteMatch]:
        """The ``QuoteMatch`` of every quote unit (from the quote stage, or matched here with the
        bundled ``configs/quotes/default.yaml``)."""
        if self.quote_matches is not None:
            return self.quote_matches
        if not any(u.kind == "quote" for u in self.summary.content_units):
            return {}
        from harness.quotes import match_quotes

        return match_quotes(self.transcript, self.summary, None, unit_verdicts=self.unit_verdicts)

    @property
    def insight_kinds(self) -> frozenset[str]:
        """Kinds a summary presents as an insight or an answer (``flags.insight_kinds``)."""
        return frozenset(self.cfg.get("insight_kinds") or ())

    @property
    def attributed_kinds(self) -> frozenset[str]:
        """Kinds that state what was said in the conversation (``flags.attributed_kinds``)."""
        return frozenset(self.cfg.get("attributed_kinds") or ())

    def claims_of(self, unit_id: str) -> tuple[Verdict, ...]:
        """The claim verdicts of a unit (empty without verdicts)."""
        uv = self.verdicts.get(unit_id)
        return uv.claims if uv else ()

    def content_units(self) -> list[SummaryUnit]:
        """Units that are summary content, in order."""
        return [u for u in self.summary.units if not u.boilerplate]

    def claim_at(self, unit_id: str, char_start: int, char_end: int) -> Verdict | None:
        """The claim verdict whose span of the unit's ``text_plain`` overlaps a span the most."""
        best, best_overlap = None, 0
        for v in self.claims_of(unit_id):
            overlap = min(char_end, v.claim.char_end) - max(char_start, v.claim.char_start)
            if overlap > best_overlap:
                best, best_overlap = v, overlap
        return best

    def docs(self, units: Iterable[SummaryUnit]) -> dict[str, Any]:
        """spaCy docs of units' ``text_plain``, parsed once per context."""
        from harness.models import spacy_nlp

        todo = [u for u in units if u.unit_id not in self._docs]
        if todo:
            nlp = spacy_nlp()
            for u, doc in zip(todo, nlp.pipe([u.text_plain for u in todo], batch_size=64)):
                self._docs[u.unit_id] = doc
        return self._docs
