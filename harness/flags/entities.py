"""Names and numbers checked against the transcript: ``misspelled_entity``, ``extrinsic_entity``,
``extrinsic_fact``.

*Names.* Candidate names in a content unit are spaCy entities (labels in
``flags.misspelled_entity.entity_labels``), proper-noun tokens, CamelCase words and model names
("AlexNet", "GPT-2"). A name token that the conversation never says is looked up among the
transcript's own name-like tokens:

* a close variant (edit similarity, the phonetic ``skeleton``, and the name tokens next to it:
  "Alex Krazewski" vs "Alex Krizhevsky") → ``misspelled_entity`` with a suggestion. When the
  transcript's spelling occurs fewer than ``confident_min_occurrences`` times it may itself be a
  caption error (the reference transcript has "McCollum" for McCulloch, "Jeffrey"/"Jeff Hinton"
  for Geoffrey Hinton), so the message says to check which spelling is right instead of
  suggesting one;
* no variant, and the name is a named entity → ``extrinsic_entity``.

A misspelling is minor by default (``flags.misspelled_entity.severity``): it does not change what
was said, but it misleads a reader who looks the name up.

Units of the kinds in ``garble_kinds`` (the page's auto-caption excerpt) are lower-case caption
text; there, a run of 1–3 words whose phonetic skeleton equals a transcript name's ("elias
discover" ~ "Ilya Sutskever") is reported as a caption garble.

*Numbers.* ``extrinsic_fact`` reports numbers, years and quantities (normalised: "1.5 billion"
= "one and a half billion") that the conversation never says.

Severity of ``extrinsic_*``: major only when the unit states what was said
(``flags.attributed_kinds``) *and* the claim holding it has a verdict of unsupported or
contradicted; otherwise minor (background such as a gloss's "The 16th U.S. President").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from harness.flags.base import (
    FLAGS,
    FlagContext,
    Params,
    TranscriptIndex,
    is_name_like,
    phrase_key,
    severity,
    strip_possessive,
)
from harness.flags.numbers import extract_numbers, same_value
from harness.flags.text import quoted, skeleton
from harness.text import WORD, edit_similarity, format_clock
from harness.transcript_lookup import evidence_from_span
from harness.types import Evidence, Flag, SummaryUnit

_ACRONYM = re.compile(r"^[A-Z]{2,6}s?$")
_CAMEL = re.compile(r"[a-z][A-Z]")
_MODEL = re.compile(r"^[A-Za-z]+-?\d")
NOT_SUPPORTED = ("unsupported", "contradicted")


@dataclass(frozen=True)
class _Mention:
    text: str
    start: int
    end: int
    label: str | None  # spaCy entity label, None for a proper-noun token outside entities
    tokens: tuple[tuple[str, int, int], ...]  # name-like tokens (possessive stripped)


_BOLD_LABEL = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?(?:\*\*|__)([^*_\n]{1,120}?)(?::(?:\*\*|__)|(?:\*\*|__)\s*:)")
NOT_CLAIM_KINDS = frozenset({"heading"})


def label_end(unit: SummaryUnit) -> int:
    """Where a bold title that opens the unit ("**AI Safety and Ethics**: …") ends in its
    ``text_plain`` (0 when it has none): a title names a topic, it is not an entity claim."""
    m = _BOLD_LABEL.match(unit.text)
    if not m:
        return 0
    label = m.group(1).strip()
    pos = unit.text_plain.find(label)
    return pos + len(label) + 1 if 0 <= pos <= 2 else 0


def _mentions(unit: SummaryUnit, doc: Any, labels: frozenset[str]) -> list[_Mention]:
    """Name candidates of a unit, left to right, without overlaps (a bold title excluded)."""
    text = unit.text_plain
    skip = label_end(unit)
    spans: list[tuple[int, int, str | None]] = []
    for ent in doc.ents:
        if ent.label_ in labels:
            spans.append((ent.start_char, ent.end_char, ent.label_))
    covered = [(s, e) for s, e, _ in spans]
    for tok in doc:
        s, e = tok.idx, tok.idx + len(tok.text)
        if any(cs <= s < ce for cs, ce in covered):
            continue
        word = tok.text
        if (tok.pos_ == "PROPN" and not tok.is_sent_start) or _CAMEL.search(word) or _MODEL.match(word):
            spans.append((s, e, None))
    # spaCy splits "GPT-2" into three tokens; widen spans to whole regex tokens
    out: list[_Mention] = []
    for s, e, label in sorted(spans):
        if s < skip:
            continue
        toks = []
        for m in WORD.finditer(text):
            if m.end() <= s or m.start() >= e:
                continue
            word = strip_possessive(m.group(0))
            if is_name_like(word):
                toks.append((word, m.start(), m.start() + len(word)))
        if not toks:
            continue
        start, end = min(s, toks[0][1]), max(e, toks[-1][2])
        if out and start < out[-1].end:
            continue
        shown = re.sub(r"^(?:the|a|an)\s+", "", strip_possessive(text[start:end]).strip(), flags=re.I)
        out.append(_Mention(shown, start, end, label, tuple(toks)))
    return out


def _neighbours(text: str, start: int) -> set[str]:
    """Name-like tokens within two words of the token at ``start`` (lower-cased)."""
    toks = [(m.start(), strip_possessive(m.group(0))) for m in WORD.finditer(text)]
    pos = next((i for i, (s, _) in enumerate(toks) if s == start), None)
    if pos is None:
        return set()
    return {w.lower() for i, (_, w) in enumerate(toks) if i != pos and abs(i - pos) <= 2 and is_name_like(w)}


_GENERIC_ORG_WORDS = frozenset(
    "university college institute institution school lab laboratory laboratories center centre "
    "company corporation corp inc ltd llc foundation group department".split()
)
_JOINERS = frozenset({"of", "the", "and", "for", "at", "in", "de", "&"})


def short_forms(name: str) -> list[str]:
    """Common short forms of an organisation's name, to match what a speaker says: the acronym
    ("New York University" → "NYU"), a partial acronym with the rest ("University of
    California, Berkeley" → "UC Berkeley", "UCB"), the name without its generic words
    ("Stanford University" → "Stanford"), and for an acronym nothing (it is matched as said).

    >>> short_forms("University of California, Berkeley")[:3]
    ['UCB', 'UC Berkeley', 'Berkeley']
    >>> short_forms("New York University")[0]
    'NYU'
    """
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’\-]*", name)]
    caps = [w for w in words if w.lower() not in _JOINERS]
    if len(caps) < 2 or not all(w[0].isupper() for w in caps):
        return []
    out = ["".join(w[0] for w in caps).upper()]
    # a comma splits "University of California" from "Berkeley": initials of the first part
    head, _, tail = name.partition(",")
    head_caps = [w for w in re.findall(r"[A-Za-z][A-Za-z'’\-]*", head) if w.lower() not in _JOINERS]
    if tail.strip() and len(head_caps) >= 2:
        out.append("".join(w[0] for w in head_caps).upper() + " " + tail.strip())
        out.append(tail.strip())
    else:
        for k in range(2, len(caps)):
            out.append("".join(w[0] for w in caps[:k]).upper() + " " + " ".join(caps[k:]))
    rest = [w for w in caps if w.lower() not in _GENERIC_ORG_WORDS]
    if rest and len(rest) < len(caps):
        out.append(" ".join(rest))
    seen: list[str] = []
    for form in out:
        if form not in seen and form.lower() != name.lower():
            seen.append(form)
    return seen


@dataclass(frozen=True)
class _Variant:
    token: str
    score: float
    lev: float
    sound: float
    context: bool


def find_variant(token: str, near: set[str], idx: TranscriptIndex, params: Mapping[str, Any]) -> _Variant | None:
    """The transcript name-like token that ``token`` most plausibly misspells, if any.

    A candidate is accepted when

    * its edit similarity to ``token`` is at least ``min_similarity``; or
    * both have the same phonetic skeleton, of at least ``min_skeleton_same_sound`` consonants
      (shorter keys collide: "Legion" and "LeCun" are both ``lkn``), and the edit similarity is
      at least ``min_similarity_same_sound``; or
    * a name token next to it in the summary also sits next to the candidate in the transcript
      ("Alex", "Pitts", "Hinton") and either the edit similarity is at least
      ``min_similarity_with_context`` or one skeleton starts the other and is at least half as
      long (a short form of the same name: Jeff / Geoffrey, Alex / Alexander).

    Among accepted candidates the highest ``similarity + skeleton similarity / 2 + context / 2``
    wins.
    """
    lev_min = float(params["min_similarity"])
    lev_sound = float(params["min_similarity_same_sound"])
    sound_len = int(params["min_skeleton_same_sound"])
    ctx_min = float(params["min_similarity_with_context"])
    sk_t = skeleton(token)
    best: _Variant | None = None
    for cand, occs in idx.names.items():
        if len(cand) < 3 or cand.lower() == token.lower() or cand.lower() in near or _ACRONYM.match(cand):
            continue  # a neighbour is another part of the same name ("New" in "New York University")
        lev = edit_similarity(token, cand)
        sk_c = skeleton(cand)
        sound = edit_similarity(sk_t, sk_c) if sk_t and sk_c else 0.0
        context = bool(near) and any(near & o.neighbours for o in occs)
        shorter, longer = sorted((sk_t, sk_c), key=len)
        short_form = len(shorter) >= 2 and 2 * len(shorter) >= len(longer) and longer.startswith(shorter)
        ok = (
            lev >= lev_min
            or (sk_t == sk_c and len(sk_t) >= sound_len and lev >= lev_sound)
            or (context and (lev >= ctx_min or short_form))
        )
        if not ok:
            continue
        score = lev + 0.5 * sound + 0.5 * context
        if best is None or score > best.score:
            best = _Variant(cand, score, lev, sound, context)
    return best


def _occurrence_evidence(ctx: FlagContext, token: str) -> tuple[Evidence, ...]:
    occs = ctx.index.occurrences(token)
    if not occs:
        return ()
    o = occs[0]
    return (evidence_from_span(ctx.transcript, o.sentence_start, o.sentence_end, score=1.0),)


def _extrinsic_severity(ctx: FlagContext, unit: SummaryUnit, start: int, end: int, params: Mapping[str, Any]) -> tuple[str, str]:
    """(severity, extra message) for an extrinsic name or number at ``[start, end)``."""
    minor = severity(params, "severity")
    major = severity(params, "severity_unsupported")
    if unit.kind not in ctx.attributed_kinds:
        return minor, ""
    v = ctx.claim_at(unit.unit_id, start, end)
    if v is not None and v.label in NOT_SUPPORTED:
        return major, f", and the claim holding it is {v.label} by the transcript"
    return minor, ""


def _name_units(ctx: FlagContext, params: Mapping[str, Any]) -> list[SummaryUnit]:
    units = ctx.content_units()
    if params["check_boilerplate_units"]:
        units = list(ctx.summary.units)
    return [u for u in units if u.kind not in NOT_CLAIM_KINDS]


@FLAGS.register("misspelled_entity")
def detect_misspelled_entity(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Names not in the transcript that are close variants of names that are (module docstring)."""
    sev = severity(params, "severity")
    labels = frozenset(params["entity_labels"] or ())
    min_occ = int(params["confident_min_occurrences"])
    idx = ctx.index
    units = _name_units(ctx, params)
    docs = ctx.docs(units)
    for unit in units:
        text = unit.text_plain
        seen: set[str] = set()
        for mention in _mentions(unit, docs[unit.unit_id], labels):
            for word, s, e in mention.tokens:
                if word in seen or len(word) < 3 or _ACRONYM.match(word) or idx.has_word(word):
                    continue
                if _MODEL.match(word) and idx.has_phrase(word):
                    continue
                variant = find_variant(word, _neighbours(text, s), idx, params)
                if variant is None:
                    continue
                seen.add(word)
                fixed = mention.text.replace(word, variant.token)
                n_occ = len(idx.occurrences(variant.token))
                evidence = _occurrence_evidence(ctx, variant.token)
                at = f" ({format_clock(evidence[0].start_s, missing='?')})" if evidence and evidence[0].start_s is not None else ""
                confirmed = _summary_spelling_confirmed(ctx, word, variant.token)
                if confirmed is not None and _short_form(word, variant.token):
                    continue  # "Jeff" for the page's "Geoffrey": a short form the speaker uses, no error
                if confirmed is not None:
                    times = {0: "as a speaker name", 1: "once"}.get(n_occ, f"{n_occ} times")
                    at = f", first at {format_clock(evidence[0].start_s, missing='?')}" if evidence and evidence[0].start_s is not None else ""
                    yield Flag(
                        tag="transcript_spelling",
                        severity=severity(params, "transcript_spelling_severity"),
                        unit_id=unit.unit_id,
                        claim_index=_claim_index(ctx, unit, s, e),
                        message=(
                            f"The transcript writes “{fixed}” ({times}{at}) where the summary has “{mention.text}”, "
                            f"as {confirmed} also spells it and the transcript's spelling appears nowhere in the "
                            "summary: a transcription error, not the summary's."
                        ),
                        evidence=evidence,
                    )
                    continue
                if n_occ >= min_occ:
                    message = f"“{mention.text}” is not in the transcript; did you mean “{fixed}”{at}?"
                else:
                    times = {0: "as a speaker name", 1: "once"}.get(n_occ, f"{n_occ} times")
                    message = (
                        f"“{mention.text}” is not in the transcript, which has the similar “{fixed}” "
                        f"{times}{at}; transcripts often garble names, so check which spelling is right."
                    )
                yield Flag(
                    tag="misspelled_entity",
                    severity=sev,
                    unit_id=unit.unit_id,
                    claim_index=_claim_index(ctx, unit, s, e),
                    message=message,
                    evidence=evidence,
                )
    yield from _caption_garbles(ctx, params)


def _short_form(a: str, b: str) -> bool:
    """Whether one name is a short form of the other (Jeff / Geoffrey): the shorter phonetic
    skeleton starts the longer one."""
    sa, sb = skeleton(a), skeleton(b)
    shorter, longer = sorted((sa, sb), key=len)
    return 2 <= len(shorter) < len(longer) and longer.startswith(shorter)


def _spelled(word: str, text: str) -> bool:
    """Whether ``word`` occurs in ``text`` as a word (also inside a URL: "Pieter_Abbeel")."""
    return re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![a-z])", text, re.I) is not None


def _summary_spelling_confirmed(ctx: FlagContext, word: str, variant: str) -> str | None:
    """Where the summary's spelling of a name is confirmed, when the direction of a misspelling
    is decided from evidence rather than by trusting the transcript: the summary's spelling is
    in its title, a source link or its background box (text from outside the conversation), and
    the transcript's spelling appears nowhere in the summary. ``None`` otherwise (the summary's
    spelling is then the suspect)."""
    summary = ctx.summary
    texts = [summary.title or ""] + [u.text for u in summary.units]
    if any(_spelled(variant, t) for t in texts):
        return None  # both documents have the transcript's spelling
    if summary.title and _spelled(word, summary.title):
        return "the page's title"
    for u in summary.units:
        if u.boilerplate and _spelled(word, u.text) and re.search(r"https?://", u.text):
            return "its source link"
    for u in summary.units:
        if u.kind == "background" and _spelled(word, u.text):
            return "its background box"
    return None


def _caption_garbles(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    kinds = frozenset(params["garble_kinds"] or ())
    if not kinds:
        return
    sev = severity(params, "garble_severity")
    min_len = int(params["garble_min_skeleton"])
    idx = ctx.index
    names = {n: skeleton(n) for n in idx.full_names}
    names = {n: k for n, k in names.items() if len(k) >= min_len}
    for unit in ctx.summary.units:
        if unit.kind not in kinds:
            continue
        toks = list(WORD.finditer(unit.text_plain))
        reported: set[str] = set()
        for size in (2, 1, 3):
            for i in range(len(toks) - size + 1):
                s, e = toks[i].start(), toks[i + size - 1].end()
                phrase = unit.text_plain[s:e]
                key = skeleton(phrase)
                if len(key) < min_len:
                    continue
                for name, nk in names.items():
                    if nk == key and phrase_key(phrase) != phrase_key(name) and name not in reported:
                        reported.add(name)
                        yield Flag(
                            tag="misspelled_entity",
                            severity=sev,
                            unit_id=unit.unit_id,
                            claim_index=None,
                            message=f"“{phrase}” in this caption text is a garbled “{name}”.",
                            evidence=_occurrence_evidence(ctx, name.split()[-1]),
                        )


def _claim_index(ctx: FlagContext, unit: SummaryUnit, start: int, end: int) -> int | None:
    v = ctx.claim_at(unit.unit_id, start, end)
    return v.claim.index if v is not None else None


@FLAGS.register("extrinsic_entity")
def detect_extrinsic_entity(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Named entities that appear nowhere in the transcript and are no misspelling of a name
    that does."""
    labels = frozenset(params["entity_labels"] or ())
    spell = Params("misspelled_entity", ctx.cfg.get("misspelled_entity") or {})
    idx = ctx.index
    units = [u for u in ctx.content_units() if u.kind not in NOT_CLAIM_KINDS]
    docs = ctx.docs(units)
    for unit in units:
        text = unit.text_plain
        reported: set[str] = set()
        for mention in _mentions(unit, docs[unit.unit_id], labels):
            if mention.label is None and not any(_CAMEL.search(w) or _MODEL.match(w) for w, _, _ in mention.tokens):
                continue  # a proper-noun token outside an entity: a capitalised concept, not a name
            if idx.has_phrase(mention.text):
                continue
            missing = [
                (w, s) for w, s, _ in mention.tokens
                if not _ACRONYM.match(w) and not idx.has_word(w) and not (_MODEL.match(w) and idx.has_phrase(w))
            ]
            if not missing or mention.text in reported:
                continue
            if any(idx.has_phrase(form) for form in short_forms(mention.text)):
                continue  # "New York University" where the transcript says "NYU"
            if any(find_variant(w, _neighbours(text, s), idx, spell) for w, s in missing):
                continue  # misspelled_entity reports it
            reported.add(mention.text)
            sev, extra = _extrinsic_severity(ctx, unit, mention.start, mention.end, params)
            yield Flag(
                tag="extrinsic_entity",
                severity=sev,
                unit_id=unit.unit_id,
                claim_index=_claim_index(ctx, unit, mention.start, mention.end),
                message=f"“{mention.text}” is never mentioned in the transcript{extra}.",
            )


@FLAGS.register("extrinsic_fact")
def detect_extrinsic_fact(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Numbers, years and quantities that the conversation never says."""
    idx = ctx.index
    values = [n.value for n in idx.numbers]
    years = sorted(n.value for n in idx.numbers if n.kind == "year")
    skip_kinds = frozenset(params["skip_kinds"] or ())
    for unit in ctx.content_units():
        text = unit.text_plain
        reported: set[str] = set()
        for n in extract_numbers(text):
            if n.kind in skip_kinds or (n.kind == "ordinal" and not n.text[:1].isdigit()):
                continue
            if any(same_value(n.value, v) for v in values):
                continue
            if n.kind == "decade" and any(n.value <= y < n.value + 10 for y in years):
                continue
            if n.text in reported:
                continue
            reported.add(n.text)
            sev, extra = _extrinsic_severity(ctx, unit, n.start, n.end, params)
            left = text.rfind(" ", 0, max(0, n.start - 25)) + 1
            snippet = text[left : n.end + 30]
            yield Flag(
                tag="extrinsic_fact",
                severity=sev,
                unit_id=unit.unit_id,
                claim_index=_claim_index(ctx, unit, n.start, n.end),
                message=(
                    f"The number “{n.text}” ({quoted(snippet, 10)}) is never said in the transcript{extra}."
                ),
            )
