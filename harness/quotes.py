"""Quote stage: a quotation in a summary is a claim about exact words, so it is matched word for word.

For every ``quote`` unit (see ``harness.formats.page_kinds``) the quoted words are found in the
transcript, tolerating what speech recognition and transcription change without changing what
was said: punctuation and casing, filler words ("um", "uh", "like", "you know") and stutters
in the transcript, contractions ("it's" = "it is", "gonna" = "going to"), digits for small
number words. An ellipsis in the quote is a gap of at most ``max_ellipsis_gap_s`` seconds (or
``max_ellipsis_gap_tokens`` words without times) between its parts; a quote may run across
caption cues and speaker turns.

How: the transcript becomes one sequence of normalised tokens (with their character offsets and
turn) built once; rare quote tokens vote for alignment diagonals (token position − position in
the quote); around the best diagonals the quote is aligned to the transcript with rapidfuzz's
token-level edit operations, and the densest run of matches is the span. The result
(``QuoteMatch``) is one of

* ``verbatim`` — every quoted word said, in order, nothing else said in between but fillers;
* ``near_verbatim`` — at least ``near_min_recall`` of the quoted words said in order, at least
  ``near_min_precision`` of the span's words quoted (``near_min_precision_full_recall`` when at
  least ``near_full_recall`` of the quote is said: an unmarked omission), and at most
  ``near_max_missing_content`` quoted content words missing or replaced; the word-level
  ``diff`` is reported;
* ``paraphrased`` — the words are not said, but the best passage (the lexical candidates and, in
  a run, the verifier's evidence) has a MiniLM cosine of at least ``paraphrase_min_similarity``;
* ``not_found``.

Where the transcript names speakers, the span's speaker is compared with the person the page
credits: an attribution written after the quote ("— Abbeel"), otherwise the guest (the speaker
with most turns who is not the host).

``python -m harness quotes-survey MANIFEST`` runs this stage alone over a corpus manifest.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from harness.errors import ConfigError
from harness.formats.page_kinds import find_quote
from harness.formats.base import strip_markup
from harness.transcript_lookup import Speaker, evidence_from_span, guest_of, match_speaker, speaker_of, transcript_speakers
from harness.types import Evidence, QuoteMatch, Summary, SummaryUnit, Transcript, UnitVerdict, Verdict

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "quotes" / "default.yaml"

# ----------------------------------------------------------------------------------------------
# Normalised tokens
# ----------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
_ELLIPSIS = re.compile(r"\.\s*\.\s*\.|…|\[\s*\.\.\.\s*\]|\s[-–—]{2}\s")
_EDITORIAL = re.compile(r"\[[^\]]*\]")  # "[of applicants]": the summary's own words inside a quote
_PRONOUN_S = frozenset({"it", "that", "there", "here", "what", "he", "she", "who", "where", "how", "this", "let"})
_SPOKEN = {
    "gonna": ("going", "to"), "wanna": ("want", "to"), "gotta": ("got", "to"), "kinda": ("kind", "of"),
    "sorta": ("sort", "of"), "lemme": ("let", "me"), "gimme": ("give", "me"), "dunno": ("do", "not", "know"),
    "cannot": ("can", "not"), "okay": ("ok",), "alright": ("all", "right"), "ain't": ("is", "not"),
    "won't": ("will", "not"), "can't": ("can", "not"), "shan't": ("shall", "not"), "let's": ("let", "us"),
}
_NUMBERS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split()
    )
}
_SUFFIXES = (("n't", ("not",)), ("'re", ("are",)), ("'ve", ("have",)), ("'ll", ("will",)), ("'d", ("would",)), ("'m", ("am",)))


def normalise(word: str) -> tuple[str, ...]:
    """Canonical tokens of one written word: lower case, contractions and spoken forms expanded,
    possessive ``'s`` dropped, small number words as digits.

    >>> normalise("Gonna"), normalise("it's"), normalise("Abbeel's"), normalise("don't"), normalise("Ten")
    (('going', 'to'), ('it', 'is'), ('abbeel',), ('do', 'not'), ('10',))
    """
    w = word.lower().replace("’", "'")
    if w in _SPOKEN:
        return _SPOKEN[w]
    for suffix, tail in _SUFFIXES:
        if w.endswith(suffix) and len(w) > len(suffix):
            return (w[: -len(suffix)], *tail)
    if w.endswith("'s"):
        stem = w[:-2]
        return (stem, "is") if stem in _PRONOUN_S else (stem,)
    w = w.replace("'", "")
    return (_NUMBERS.get(w, w),)


def tokens_of(text: str, offset: int = 0) -> list[tuple[str, int, int]]:
    """Normalised tokens of ``text`` with the character span (shifted by ``offset``) of the word
    each comes from."""
    out = []
    for m in _TOKEN.finditer(text):
        for tok in normalise(m.group(0)):
            out.append((tok, offset + m.start(), offset + m.end()))
    return out


@dataclass
class TokenIndex:
    """The conversation as one sequence of normalised tokens, built once per transcript.

    Attributes:
        tokens: normalised tokens, in order.
        starts: character offset (in ``Transcript.text``) of each token's word.
        ends: end offset of each token's word.
        segments: index (into ``Transcript.segments``) of each token's turn.
        positions: token → its positions, for anchoring.
    """

    tokens: list[str]
    starts: np.ndarray
    ends: np.ndarray
    segments: np.ndarray
    positions: dict[str, np.ndarray]

    @classmethod
    def build(cls, transcript: Transcript) -> "TokenIndex":
        toks: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        segs: list[int] = []
        for seg in transcript.segments:
            if not seg.is_content:
                continue
            for tok, s, e in tokens_of(seg.text, seg.char_start):
                toks.append(tok)
                starts.append(s)
                ends.append(e)
                segs.append(seg.index)
        pos: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(toks):
            pos[t].append(i)
        return cls(
            tokens=toks,
            starts=np.asarray(starts, dtype=np.int64),
            ends=np.asarray(ends, dtype=np.int64),
            segments=np.asarray(segs, dtype=np.int64),
            positions={t: np.asarray(p, dtype=np.int64) for t, p in pos.items()},
        )


# ----------------------------------------------------------------------------------------------
# Settings
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteConfig:
    """The ``quotes`` config node (``configs/quotes/default.yaml``; each value explained there)."""

    enabled: bool
    near_min_recall: float
    near_min_precision: float
    near_full_recall: float
    near_min_precision_full_recall: float
    near_max_missing_content: int
    paraphrase_min_similarity: float
    max_ellipsis_gap_s: float
    max_ellipsis_gap_tokens: int
    candidates: int
    window_pad_tokens: int
    max_inner_gap_tokens: int
    fillers: frozenset[str]
    filler_phrases: tuple[tuple[str, ...], ...]
    meaning_words: frozenset[str]

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | None) -> "QuoteConfig":
        """Read and check the node; ``None`` reads the bundled default file.

        Raises:
            ConfigError: a missing or invalid setting.
        """
        if cfg is None:
            from omegaconf import OmegaConf

            cfg = OmegaConf.to_container(OmegaConf.load(DEFAULT_CONFIG), resolve=True)  # type: ignore[assignment]
        assert cfg is not None
        required = (
            "enabled", "near_min_recall", "near_min_precision", "near_full_recall", "near_min_precision_full_recall",
            "near_max_missing_content", "paraphrase_min_similarity", "max_ellipsis_gap_s",
            "max_ellipsis_gap_tokens", "candidates", "window_pad_tokens", "max_inner_gap_tokens", "fillers",
            "meaning_words",
        )
        missing = [k for k in required if k not in cfg]
        if missing:
            raise ConfigError(f"quotes: missing setting(s) {', '.join(missing)}")
        for key in ("near_min_recall", "near_min_precision", "near_full_recall", "near_min_precision_full_recall", "paraphrase_min_similarity"):
            if not 0.0 <= float(cfg[key]) <= 1.0:
                raise ConfigError(f"quotes.{key} must be in [0, 1], got {cfg[key]!r}")
        if int(cfg["candidates"]) < 1:
            raise ConfigError("quotes.candidates must be at least 1")
        single, phrases = set(), []
        for f in cfg["fillers"] or ():
            parts = tuple(t for w in str(f).split() for t in normalise(w))
            if len(parts) == 1:
                single.add(parts[0])
            elif parts:
                phrases.append(parts)
        return cls(
            enabled=bool(cfg["enabled"]),
            near_min_recall=float(cfg["near_min_recall"]),
            near_min_precision=float(cfg["near_min_precision"]),
            near_full_recall=float(cfg["near_full_recall"]),
            near_min_precision_full_recall=float(cfg["near_min_precision_full_recall"]),
            near_max_missing_content=int(cfg["near_max_missing_content"]),
            paraphrase_min_similarity=float(cfg["paraphrase_min_similarity"]),
            max_ellipsis_gap_s=float(cfg["max_ellipsis_gap_s"]),
            max_ellipsis_gap_tokens=int(cfg["max_ellipsis_gap_tokens"]),
            candidates=int(cfg["candidates"]),
            window_pad_tokens=int(cfg["window_pad_tokens"]),
            max_inner_gap_tokens=int(cfg["max_inner_gap_tokens"]),
            fillers=frozenset(single),
            filler_phrases=tuple(phrases),
            meaning_words=frozenset(t for w in cfg["meaning_words"] or () for t in normalise(str(w))),
        )


# ----------------------------------------------------------------------------------------------
# The quotation of a unit
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteText:
    """The words a ``quote`` unit quotes: the parts between ellipses, and any attribution."""

    text: str
    parts: tuple[str, ...]
    attribution: str | None


def quote_text(unit: SummaryUnit) -> QuoteText | None:
    """The quoted words of a unit (inside its quotation marks, or the whole plain text when it
    has none); ``None`` when nothing is left."""
    raw = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", unit.text.strip())
    q = find_quote(raw)
    if q is not None:
        inner = strip_markup(raw[q.inner_start : q.inner_end])
        attribution = q.attribution
    else:
        inner = unit.text_plain.strip().strip("\"“”'")
        attribution = None
    inner = re.sub(r"\s+", " ", _EDITORIAL.sub(" ", inner)).strip()
    parts = tuple(p.strip(" ,;:") for p in _ELLIPSIS.split(inner))
    parts = tuple(p for p in parts if tokens_of(p))
    if not parts:
        return None
    return QuoteText(inner, parts, attribution)


# ----------------------------------------------------------------------------------------------
# Alignment
# ----------------------------------------------------------------------------------------------


class _Rates:
    """Recall and precision of an alignment from its ``matched``, ``quote_len`` and ``extra``."""

    matched: int
    quote_len: int
    extra: int

    @property
    def recall(self) -> float:
        return self.matched / self.quote_len if self.quote_len else 0.0

    @property
    def precision(self) -> float:
        return self.matched / (self.matched + self.extra) if self.matched + self.extra else 0.0


@dataclass(frozen=True)
class _Alignment(_Rates):
    start: int  # first transcript token of the span
    end: int  # one past the last
    matched: int  # quote tokens said
    quote_len: int
    extra: int  # span tokens not quoted, fillers and repeats left out
    diff: tuple[str, ...]
    meaning: bool
    missing_content: int = 0  # quoted content words (not stop words) not said

    @property
    def exact(self) -> bool:
        return self.matched == self.quote_len and self.extra == 0


def _anchors(q: Sequence[str], index: TokenIndex, lo: int, hi: int, k: int) -> list[int]:
    """The ``k`` best alignment diagonals (transcript position of the quote's first token) whose
    span would fall in ``[lo, hi)``, voted by the quote's tokens weighted by rarity."""
    n = len(index.tokens)
    if not n or not q:
        return []
    diags, weights = [], []
    for i, tok in enumerate(q):
        pos = index.positions.get(tok)
        if pos is None:
            continue
        if lo > 0 or hi < n:
            pos = pos[(pos >= lo) & (pos < hi)]
        if not len(pos):
            continue
        diags.append(pos - i)
        weights.append(np.full(len(pos), math.log(1.0 + n / len(index.positions[tok]))))
    if not diags:
        return []
    d = np.concatenate(diags)
    w = np.concatenate(weights)
    bin_size = 4
    offset = len(q) + bin_size
    bins = np.bincount((d + offset) // bin_size, weights=w)
    # let neighbouring bins add up: a quote with an inserted filler shifts the diagonal a little
    smooth = bins + np.concatenate([[0.0], bins[:-1]]) + np.concatenate([bins[1:], [0.0]])
    order = np.argsort(-smooth, kind="stable")[:k]
    return [int(b) * bin_size - offset for b in order if smooth[b] > 0]


def _is_free(tokens: Sequence[str], cfg: QuoteConfig, before: str | None) -> bool:
    """Whether transcript tokens left out of a quote are fillers, filler phrases or stutters."""
    i = 0
    prev = before
    while i < len(tokens):
        tok = tokens[i]
        phrase = next((p for p in cfg.filler_phrases if tuple(tokens[i : i + len(p)]) == p), None)
        if phrase:
            i += len(phrase)
            continue
        if tok in cfg.fillers or tok == prev:
            prev = tok
            i += 1
            continue
        return False
    return True


def _align_at(q: Sequence[str], index: TokenIndex, diag: int, cfg: QuoteConfig) -> _Alignment | None:
    """Align the quote tokens to the transcript around one diagonal."""
    from rapidfuzz.distance import Levenshtein

    pad = max(cfg.window_pad_tokens, len(q) // 2)
    lo = max(0, diag - pad)
    hi = min(len(index.tokens), diag + len(q) + pad)
    window = index.tokens[lo:hi]
    if not window:
        return None
    run = _densest_run(q, window, cfg.max_inner_gap_tokens)
    if run is None:
        return None
    # Second pass on a window the size of the quote around the run: there a global alignment
    # is a local one, so quote words on the run's edges ("I think it's | both and …") are
    # matched where they are said, not to an earlier occurrence.
    (first_q, first_w), (last_q, last_w) = run[0], run[-1]
    lo2 = max(0, first_w - first_q - 3)
    hi2 = min(len(window), last_w + (len(q) - last_q) + 3)
    run2 = _densest_run(q, window[lo2:hi2], cfg.max_inner_gap_tokens)
    if run2 is not None and len(run2) >= len(run):
        run = [(a, b + lo2) for a, b in run2]
    first_w, last_w = run[0][1], run[-1][1]
    # The run's edges may hold a word matched too early ("a it, and it seems") or stop short of
    # one ("that default, uh, state"): try moving each edge a few words either way and keep the
    # span with the fewest differences.
    best: tuple[tuple[int, int, int], int, int, tuple] | None = None
    for a in range(max(0, first_w - 4), min(first_w + 9, last_w + 1)):
        for b in range(min(len(window) - 1, last_w + 4), max(last_w - 9, a - 1), -1):
            scored = _diff(q, window[a : b + 1], cfg)
            # fewest differences, then most quoted words, then the shortest span
            key = (scored[0] - scored[1], scored[0], a - b)
            if best is None or key > best[0]:
                best = (key, a, b, scored)
    if best is None:
        return None
    _, first_w, last_w, (matched, extra, diff, meaning, missing) = best
    return _Alignment(lo + first_w, lo + last_w + 1, matched, len(q), extra, diff, meaning, missing)


def _diff(q: Sequence[str], span: Sequence[str], cfg: QuoteConfig) -> tuple[int, int, tuple[str, ...], bool, int]:
    """Quote words said, extra span words (fillers and repeats aside), the word-level diff,
    whether a difference touches a negation or a number, and how many quoted content words
    (not stop words) are not said."""
    from rapidfuzz.distance import Levenshtein

    from harness.text import stop_words

    stop = stop_words()
    diff: list[str] = []
    matched = extra = missing = 0
    meaning = False
    # adjacent edit operations read as one difference ("timber→oak completely")
    groups: list[tuple[list[str], list[str], str | None]] = []
    pending: tuple[list[str], list[str], str | None] | None = None
    for op in Levenshtein.opcodes(list(q), list(span)):
        if op.tag == "equal":
            matched += op.src_end - op.src_start
            if pending is not None:
                groups.append(pending)
                pending = None
            continue
        if pending is None:
            before = span[op.dest_start - 1] if op.dest_start > 0 else None
            pending = ([], [], before)
        pending[0].extend(q[op.src_start : op.src_end])
        pending[1].extend(span[op.dest_start : op.dest_end])
    if pending is not None:
        groups.append(pending)
    for qs, ss, before in groups:
        missing += sum(1 for t in qs if t not in stop and t not in cfg.fillers)
        if not qs:
            if _is_free(ss, cfg, before):
                continue
            extra += len(ss)
            diff.append("+" + " ".join(ss))
        elif not ss:
            if all(t in cfg.fillers for t in qs):
                continue
            diff.append("-" + " ".join(qs))
        else:
            kept = [t for t in ss if t not in cfg.fillers]
            extra += len(kept)
            diff.append(f"{' '.join(qs)}→{' '.join(ss)}")
    if diff:
        # meaning changes when a negation or a number is in one and not the other (a restart
        # that repeats "couldn't" changes nothing)
        qset, sset = set(q), set(span)
        neg_q, neg_s = qset & cfg.meaning_words, sset & cfg.meaning_words
        num_q = {t for t in qset if t.isdigit()}
        num_s = {t for t in sset if t.isdigit()}
        meaning = neg_q != neg_s or num_q != num_s
    return matched, extra, tuple(diff), meaning, missing


def _densest_run(q: Sequence[str], window: Sequence[str], max_gap: int) -> list[tuple[int, int]] | None:
    """Matched (quote index, window index) pairs of the token alignment, cut where more than
    ``max_gap`` window tokens separate two matches; the longest piece."""
    from rapidfuzz.distance import Levenshtein

    pairs: list[tuple[int, int]] = []
    for op in Levenshtein.opcodes(list(q), list(window)):
        if op.tag == "equal":
            pairs.extend(zip(range(op.src_start, op.src_end), range(op.dest_start, op.dest_end)))
    if not pairs:
        return None
    runs: list[list[tuple[int, int]]] = [[pairs[0]]]
    for a, b in pairs[1:]:
        if b - runs[-1][-1][1] - 1 > max_gap:
            runs.append([])
        runs[-1].append((a, b))
    return max(runs, key=len)


@dataclass(frozen=True)
class _Chain(_Rates):
    parts: tuple[_Alignment, ...]

    @property
    def start(self) -> int:
        return self.parts[0].start

    @property
    def end(self) -> int:
        return self.parts[-1].end

    @property
    def matched(self) -> int:
        return sum(p.matched for p in self.parts)

    @property
    def quote_len(self) -> int:
        return sum(p.quote_len for p in self.parts)

    @property
    def extra(self) -> int:
        return sum(p.extra for p in self.parts)

    @property
    def missing_content(self) -> int:
        return sum(p.missing_content for p in self.parts)


class QuoteMatcher:
    """Matches quotations against one transcript (the token index is built once).

    Args:
        transcript: the parsed transcript.
        cfg: the quote settings.
        encoder: a sentence encoder for the paraphrase check (``None``: the cached MiniLM is
            loaded when first needed; ``False``: no paraphrase check, unmatched quotes are
            ``not_found``).
        page_title: the summary's title; a speaker it names is the person the page is about.
    """

    def __init__(
        self, transcript: Transcript, cfg: QuoteConfig, encoder: Any | None = None, page_title: str | None = None
    ) -> None:
        self.transcript = transcript
        self.page_title = page_title
        self.cfg = cfg
        self.index = TokenIndex.build(transcript)
        self._encoder = encoder
        labels = {s.speaker for s in transcript.content_segments if s.speaker}
        self.has_speakers = len(labels) >= 2
        self._people: tuple[list[Speaker], Speaker | None] | None = None  # (speakers, host)
        if self.has_speakers:
            self._people = transcript_speakers(transcript)

    # -- speakers ----------------------------------------------------------------------------

    def _person(self, label: str | None) -> str | None:
        if label is None or self._people is None:
            return label
        sp = speaker_of(label, self._people[0])
        return sp.name if sp else label

    def credited(self, attribution: str | None) -> str | None:
        """Who the page credits: the attributed name when it names a speaker, else the speaker the
        page's title names, else the guest (most turns, not the host)."""
        if self._people is None:
            return None
        for name in (attribution, self.page_title):
            sp = match_speaker(name, self._people[0]) if name else None
            if sp is not None:
                return sp.name
        guest = guest_of(*self._people)
        return guest.name if guest else None

    def _span_speakers(self, start: int, end: int) -> tuple[str | None, tuple[str, ...]]:
        """The speaker of most of a token span, and every speaker in it, in order."""
        segs = self.index.segments[start:end]
        if not len(segs):
            return None, ()
        counts: dict[str | None, int] = defaultdict(int)
        order: list[str] = []
        for si in segs:
            person = self._person(self.transcript.segments[int(si)].speaker)
            counts[person] += 1
            if person and person not in order:
                order.append(person)
        return max(counts.items(), key=lambda kv: kv[1])[0], tuple(order)

    # -- matching ----------------------------------------------------------------------------

    def _align_part(self, q: Sequence[str], lo: int, hi: int) -> list[_Alignment]:
        out = []
        for diag in _anchors(q, self.index, lo, hi, self.cfg.candidates):
            a = _align_at(q, self.index, diag, self.cfg)
            if a is not None and lo <= a.start and a.end <= hi:
                out.append(a)
        out.sort(key=lambda a: (-(a.matched - 0.5 * a.extra), a.start))
        return out

    def _span_text(self, start: int, end: int) -> str:
        """The spoken text of ``Transcript.text[start:end]``: within one turn the slice itself;
        across turns the turns' pieces joined by a space (speaker labels and timestamp links
        between them left out)."""
        pieces = []
        for seg in self.transcript.segments:
            if seg.is_content and seg.char_start < end and start < seg.char_end:
                pieces.append(self.transcript.text[max(start, seg.char_start) : min(end, seg.char_end)].strip())
        return " ".join(p for p in pieces if p) or self.transcript.text[start:end]

    def _gap_ok(self, prev_end: int, nxt_start: int) -> bool:
        if nxt_start < prev_end:
            return False
        t0 = self.transcript.time_at(int(self.index.ends[prev_end - 1]))
        t1 = self.transcript.time_at(int(self.index.starts[nxt_start]))
        if t0 is not None and t1 is not None:
            return t1 - t0 <= self.cfg.max_ellipsis_gap_s
        return nxt_start - prev_end <= self.cfg.max_ellipsis_gap_tokens

    def _chain(self, parts: Sequence[Sequence[str]]) -> _Chain | None:
        """The best in-order match of the quote's parts (each later part within the gap)."""
        firsts = self._align_part(parts[0], 0, len(self.index.tokens))
        best: _Chain | None = None
        for first in firsts[:4]:
            chain = [first]
            for q in parts[1:]:
                prev = chain[-1]
                hi = min(len(self.index.tokens), prev.end + self.cfg.max_ellipsis_gap_tokens * 2 + len(q))
                nxt = next(
                    (a for a in self._align_part(q, prev.end, hi) if a.recall >= 0.5 and self._gap_ok(prev.end, a.start)),
                    None,
                )
                if nxt is None:
                    break
                chain.append(nxt)
            if len(chain) < len(parts):
                # a part not found: score the chain as if that part's words were all missing
                missing = sum(len(q) for q in parts[len(chain) :])
                lost = "-" + " … ".join(" ".join(q) for q in parts[len(chain) :])
                chain.append(_Alignment(chain[-1].end, chain[-1].end, 0, missing, 0, (lost,), False, missing))
            cand = _Chain(tuple(chain))
            if best is None or (cand.matched - 0.5 * cand.extra) > (best.matched - 0.5 * best.extra):
                best = cand
        return best

    def match(self, unit: SummaryUnit, hints: Sequence[tuple[int, int]] = ()) -> QuoteMatch | None:
        """The ``QuoteMatch`` of one quote unit (``None`` when it quotes no words).

        Args:
            unit: a ``quote`` unit.
            hints: extra transcript spans ``(char_start, char_end)`` to compare the quote with
                for the paraphrase check (the verifier's evidence, in a run).
        """
        qt = quote_text(unit)
        if qt is None:
            return None
        parts = [[t for t, _, _ in tokens_of(p)] for p in qt.parts]
        parts = [p for p in parts if p]
        credited = self.credited(qt.attribution)
        chain = self._chain(parts) if self.index.tokens else None
        cfg = self.cfg
        if chain is not None and chain.matched:
            cs = int(self.index.starts[chain.start])
            ce = int(self.index.ends[chain.end - 1])
            exact = all(p.exact for p in chain.parts)
            near = (
                chain.recall >= cfg.near_min_recall
                and (
                    chain.precision >= cfg.near_min_precision
                    or (chain.recall >= cfg.near_full_recall and chain.precision >= cfg.near_min_precision_full_recall)
                )
                and chain.missing_content <= cfg.near_max_missing_content
            )
            if exact or near:
                diff = tuple(d for p in chain.parts for d in p.diff)
                speaker, speakers = self._span_speakers(chain.start, chain.end)
                return QuoteMatch(
                    unit_id=unit.unit_id,
                    quote=qt.text,
                    match_class="verbatim" if exact else "near_verbatim",
                    similarity=round(min(chain.recall, chain.precision), 4),
                    char_start=cs,
                    char_end=ce,
                    span=self._span_text(cs, ce),
                    start_s=self.transcript.time_at(cs),
                    end_s=self.transcript.time_at(ce),
                    speaker=speaker,
                    speakers=speakers,
                    credited=credited,
                    diff=diff,
                    parts=len(parts),
                    meaning_changed=any(p.meaning for p in chain.parts),
                )
        # not said word for word: is the gist said?
        windows = self._paraphrase_windows(parts, chain, hints)
        best_sim, best_span = 0.0, None
        if windows and self._encoder is not False:
            sims = self._cosines(qt.text, [self.transcript.text[s:e] for s, e in windows])
            j = int(np.argmax(sims))
            best_sim, best_span = float(sims[j]), windows[j]
        cls = "paraphrased" if best_span is not None and best_sim >= cfg.paraphrase_min_similarity else "not_found"
        if cls == "not_found":
            best_span = None
        cs, ce = best_span if best_span else (None, None)
        speaker = None
        if best_span is not None:
            seg_ids = self.index.segments[(self.index.starts >= cs) & (self.index.starts < ce)]
            if len(seg_ids):
                speaker = self._person(self.transcript.segments[int(seg_ids[len(seg_ids) // 2])].speaker)
        return QuoteMatch(
            unit_id=unit.unit_id,
            quote=qt.text,
            match_class=cls,
            similarity=round(best_sim, 4),
            char_start=cs,
            char_end=ce,
            span=self._span_text(cs, ce) if best_span else None,
            start_s=self.transcript.time_at(cs) if cs is not None else None,
            end_s=self.transcript.time_at(ce) if ce is not None else None,
            speaker=speaker,
            speakers=(speaker,) if speaker else (),
            credited=credited,
            diff=(),
            parts=len(parts),
        )

    def _paraphrase_windows(self, parts: Sequence[Sequence[str]], chain: _Chain | None, hints: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        """Transcript spans to compare a quote with: around the lexical candidates, plus hints."""
        n = len(self.index.tokens)
        if not n:
            return []
        q = [t for p in parts for t in p]
        length = max(len(q), 8)
        spans: set[tuple[int, int]] = set()
        diags = _anchors(q, self.index, 0, n, self.cfg.candidates)
        if chain is not None:
            diags.append(chain.start)
        for d in diags:
            for shift in (-length // 2, 0):
                a = max(0, min(n - 1, d + shift))
                b = max(a + 1, min(n, a + int(length * 1.5)))
                spans.add((int(self.index.starts[a]), int(self.index.ends[b - 1])))
        for s, e in hints:
            if 0 <= s < e <= len(self.transcript.text):
                spans.add((s, e))
        return sorted(spans)

    def _cosines(self, query: str, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            from harness.models import sentence_encoder

            self._encoder = sentence_encoder()
        vecs = self._encoder.encode([query, *texts], normalize_embeddings=True, show_progress_bar=False)
        vecs = np.asarray(vecs, dtype=np.float32)
        return vecs[1:] @ vecs[0]


def match_quotes(
    transcript: Transcript,
    summary: Summary,
    cfg: QuoteConfig | Mapping[str, Any] | None = None,
    *,
    encoder: Any | None = None,
    unit_verdicts: Iterable[UnitVerdict] = (),
) -> dict[str, QuoteMatch]:
    """The ``QuoteMatch`` of every ``quote`` unit of the summary, by unit id (empty when the stage
    is switched off or the page has no quotes).

    Args:
        transcript: the parsed transcript.
        summary: the parsed summary.
        cfg: the ``quotes`` config (``None`` = the bundled default).
        encoder: sentence encoder for the paraphrase check (see ``QuoteMatcher``).
        unit_verdicts: the alignment's verdicts; their evidence spans are also compared for the
            paraphrase check.
    """
    config = cfg if isinstance(cfg, QuoteConfig) else QuoteConfig.from_mapping(cfg)
    quotes = [u for u in summary.content_units if u.kind == "quote"]
    if not config.enabled or not quotes:
        return {}
    matcher = QuoteMatcher(transcript, config, encoder, summary.title)
    hints: dict[str, list[tuple[int, int]]] = {}
    for uv in unit_verdicts:
        for v in uv.claims:
            hints.setdefault(uv.unit_id, []).extend((e.char_start, e.char_end) for e in v.evidence)
    out = {}
    for unit in quotes:
        m = matcher.match(unit, hints.get(unit.unit_id, ()))
        if m is not None:
            out[unit.unit_id] = m
    return out


# ----------------------------------------------------------------------------------------------
# Verdicts of quote units
# ----------------------------------------------------------------------------------------------

_QUOTE_LABELS = {
    "verbatim": "supported",
    "near_verbatim": "supported",
    "paraphrased": "partially_supported",
    "not_found": "unsupported",
}


def quote_evidence(transcript: Transcript, m: QuoteMatch) -> Evidence | None:
    """The matched span as ``Evidence`` (the exact transcript text with its time and speaker)."""
    if m.char_start is None or m.char_end is None:
        return None
    return evidence_from_span(transcript, m.char_start, m.char_end, score=m.similarity, max_words=10_000)


def apply_quote_verdicts(
    unit_verdicts: Sequence[UnitVerdict], matches: Mapping[str, QuoteMatch], transcript: Transcript
) -> tuple[UnitVerdict, ...]:
    """Unit verdicts with each quote unit judged by its quote match instead of as a paraphrase:
    verbatim and near-verbatim are ``supported``, paraphrased ``partially_supported``, not found
    ``unsupported``; the matched span leads the evidence."""
    out = []
    for uv in unit_verdicts:
        m = matches.get(uv.unit_id)
        if m is None or not uv.claims:
            out.append(uv)
            continue
        label = _QUOTE_LABELS[m.match_class]
        ev = quote_evidence(transcript, m)
        score = m.similarity if m.match_class != "not_found" else min(m.similarity, 0.2)
        claims = tuple(
            Verdict(
                claim=v.claim,
                label=label,
                score=round(score, 4),
                evidence=((ev,) + v.evidence[:2]) if ev else v.evidence,
                features={**v.features, "quote_similarity": m.similarity},
            )
            for v in uv.claims
        )
        out.append(replace(uv, label=label, score=round(score, 4), claims=claims))
    return tuple(out)


def quote_record(m: QuoteMatch) -> dict[str, Any]:
    """The ``quote_match`` object of a unit in ``units.jsonl``."""
    return {
        "class": m.match_class,
        "similarity": m.similarity,
        "quote": m.quote,
        "span": None
        if m.char_start is None
        else {"char_start": m.char_start, "char_end": m.char_end, "text": m.span},
        "start_s": None if m.start_s is None else round(m.start_s, 2),
        "end_s": None if m.end_s is None else round(m.end_s, 2),
        "speaker": m.speaker,
        "speakers": list(m.speakers),
        "credited": m.credited,
        "diff": list(m.diff),
        "parts": m.parts,
        "meaning_changed": m.meaning_changed,
    }


# ----------------------------------------------------------------------------------------------
# Corpus survey: python -m harness quotes-survey MANIFEST
# ----------------------------------------------------------------------------------------------


def survey(manifest: Path, out: Path, cfg: QuoteConfig, *, limit: int | None = None) -> dict[str, Any]:
    """Match the quotes of every row of a corpus manifest (JSONL with ``transcript``, ``summary``,
    ``format``, optional ``transcript_format``); writes one JSON line per quote to ``out`` and
    returns the class counts.

    Records carry ids, line, class, similarity, offsets and times, never page or transcript
    text. Progress goes to ``<out>.partial`` page by page, so an interrupted survey resumes
    where it stopped; the finished file replaces ``out`` in one rename.
    """
    from harness.formats import FormatOptions, load_summary
    from harness.transcript import load_transcript

    rows = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        rows = rows[:limit]
    partial = out.with_name(out.name + ".partial")
    done_pages: set[str] = set()
    records: list[dict[str, Any]] = []
    if partial.exists():
        for line in partial.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                done_pages.add(rec["row"])
                if rec.get("unit_id"):
                    records.append(rec)
    out.parent.mkdir(parents=True, exist_ok=True)
    encoder = None
    with partial.open("a", encoding="utf-8") as progress:
        for i, row in enumerate(rows):
            episode = str(row.get("episode_id"))
            key = f"{episode}|{row.get('system')}"
            base = manifest.parent
            if key in done_pages:
                continue
            if not (base / str(row["summary"])).is_file() or not (base / str(row["transcript"])).is_file():
                log.warning("%s: summary or transcript given as text, not a file: skipped", key)
                continue
            transcript = load_transcript(str(base / row["transcript"]), row.get("transcript_format", "auto"))
            summary = load_summary(str(base / row["summary"]), row.get("format", "markdown"), FormatOptions())
            matcher = QuoteMatcher(transcript, cfg, encoder, summary.title)
            lines = []
            for unit in summary.content_units:
                if unit.kind != "quote":
                    continue
                m = matcher.match(unit)
                if m is None:
                    continue
                rec = {
                    "row": key,
                    "episode_id": episode,
                    "summary_sha256": summary.sha256,
                    "line": unit.line_no,
                    "unit_id": unit.unit_id,
                    "class": m.match_class,
                    "similarity": m.similarity,
                    "char_start": m.char_start,
                    "char_end": m.char_end,
                    "start_s": None if m.start_s is None else round(m.start_s, 2),
                    "end_s": None if m.end_s is None else round(m.end_s, 2),
                    "parts": m.parts,
                    "meaning_changed": m.meaning_changed,
                    "diff_count": len(m.diff),
                }
                records.append(rec)
                lines.append(json.dumps(rec) + "\n")
            encoder = matcher._encoder if matcher._encoder is not None else encoder
            # a page with no quotes still marks its episode done
            n_quotes = len(lines)
            lines = lines or [json.dumps({"row": key, "unit_id": None}) + "\n"]
            progress.write("".join(lines))
            progress.flush()
            log.info("%d/%d %s: %d quotes", i + 1, len(rows), key, n_quotes)
    counts: dict[str, int] = {c: 0 for c in ("verbatim", "near_verbatim", "paraphrased", "not_found")}
    for rec in records:
        counts[rec["class"]] += 1
    from harness.textio import atomic_write_text

    atomic_write_text(out, "".join(json.dumps(r) + "\n" for r in records))
    partial.unlink()
    return {"pages": len(rows), "quotes": len(records), "classes": counts}


def main(argv: Sequence[str]) -> int:
    """``python -m harness quotes-survey MANIFEST [--out FILE] [--limit N]``."""
    from harness.errors import HarnessError

    parser = argparse.ArgumentParser(prog="python -m harness quotes-survey", description=__doc__.split("\n\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/quotes/survey.jsonl"))
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(list(argv))
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if not args.manifest.is_file():
            raise HarnessError(f"{args.manifest}: file not found")
        result = survey(args.manifest, args.out, QuoteConfig.from_mapping(None), limit=args.limit)
    except HarnessError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0
