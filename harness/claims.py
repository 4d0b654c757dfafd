"""Claims: split summary units into atomic, stand-alone statements that can be checked one by one.

A splitter is registered by name in ``CLAIM_SPLITTERS`` and picked by ``claims.splitter`` in the
config:

* ``sentence``: one claim per spaCy sentence, verbatim.
* ``clause``: sentences, then a sentence that carries several facts is cut where spaCy's parse
  makes the cut safe: at semicolons between full clauses, between coordinated independent
  clauses ("X did A, and Y did B"), between conjoined predicates of one subject (the subject is
  repeated: "X did A and did B" → "X did A." / "X did B."), and between parallel objects of the
  main verb when every item is itself a substantial phrase. Anything else stays whole: "X, Y
  and Z were key" is one claim. A piece with too few content words is never cut off on its own.

Every claim records the span of ``SummaryUnit.text_plain`` it comes from. A unit that starts with
a short label ("Deep learning revolution: The conversation highlights…") keeps the label as
context and checks only the text after the colon.

Boilerplate units and units with too few content words yield no claims; ``is_checkable`` says
why, so the aligner can mark them ``not_checkable``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Protocol, Sequence

from harness.errors import ConfigError
from harness.registry import Registry
from harness.text import content_words as _content_words
from harness.types import Claim, SummaryUnit

# Finite verb tags: a label prefix ("Key insight:") has none, a clause ("The idea was this:") has.
_FINITE_TAGS = frozenset({"VBD", "VBZ", "VBP", "MD"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"})
_OBJECT_DEPS = frozenset({"dobj", "attr", "dative", "oprd"})
_CLAUSAL_DEPS = frozenset({"ccomp", "xcomp", "advcl"})
_TRAILING_JOINERS = frozenset(
    {",", ";", ":", "-", "–", "—", "and", "but", "or", "nor", "yet", "so", "while", "whereas"}
)
_LEADING_JOINERS = frozenset({",", ";", ":", "and", "but", "or", "nor", "yet", "then", "also"})
# A label is a short heading, not a sentence: 8 words covers every label in the reference
# summaries ("Search for small circuits and programs"); tokens count hyphens and the like too.
_LABEL_MAX_WORDS = 8
_LABEL_MAX_TOKENS = 14


@dataclass(frozen=True)
class Checkability:
    """Whether a unit can be checked against the transcript.

    Attributes:
        checkable: True when the unit is summary content with enough substance to verify.
        reason: why it is not checkable (``None`` when it is).
    """

    checkable: bool
    reason: str | None = None


def is_checkable(unit: SummaryUnit, min_content_words: int) -> Checkability:
    """Whether ``unit`` yields claims: boilerplate and vague units do not.

    Args:
        unit: the summary unit.
        min_content_words: fewest non-stop-words a checkable unit has (``claims.min_content_words``).
    """
    if unit.boilerplate:
        detail = f": {unit.boilerplate_reason}" if unit.boilerplate_reason else ""
        return Checkability(False, f"boilerplate{detail}")
    _label, body_start = _label_prefix_by_regex(unit.text_plain)
    n = len(_content_words(unit.text_plain[body_start:], normalise=False))
    if n < min_content_words:
        return Checkability(
            False,
            f"too vague to check: {n} content word{'s' if n != 1 else ''} (fewer than {min_content_words})",
        )
    return Checkability(True, None)


# ----------------------------------------------------------------------------------------------
# Claim spans and splitters
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSpan:
    """A claim before it is numbered: stand-alone text plus its source span in ``text_plain``."""

    text: str
    char_start: int
    char_end: int


class ClaimSplitter(Protocol):
    """Cuts one sentence (a spaCy ``Span``) into claim spans."""

    name: str

    def split(self, sentence: Any) -> list[ClaimSpan]:
        """Claims of ``sentence``, in order; offsets index the ``Doc`` text (the unit's ``text_plain``)."""
        ...


CLAIM_SPLITTERS: Registry[type] = Registry("claim splitter")


@CLAIM_SPLITTERS.register("sentence")
class SentenceSplitter:
    """One claim per sentence, verbatim."""

    name = "sentence"

    def __init__(self, **_options: Any) -> None:
        pass

    def split(self, sentence: Any) -> list[ClaimSpan]:
        span = _strip_space(sentence)
        if span is None:
            return []
        return [ClaimSpan(span.text, span.start_char, span.end_char)]


@CLAIM_SPLITTERS.register("clause")
class ClauseSplitter:
    """Cuts a sentence at clause and predicate coordination and at semicolons (see module doc).

    Args:
        min_claim_content_words: a piece with fewer content words is not cut off on its own.
        min_item_content_words: each item of an object list must have this many content words
            for the list to be split (so "reasoning, language, and AGI" stays together).
        split_object_lists: whether parallel objects of the main verb are split at all.
    """

    name = "clause"

    def __init__(
        self,
        *,
        min_claim_content_words: int,
        min_item_content_words: int,
        split_object_lists: bool = True,
        **_options: Any,
    ) -> None:
        self.min_claim_content_words = int(min_claim_content_words)
        self.min_item_content_words = int(min_item_content_words)
        self.split_object_lists = bool(split_object_lists)

    def split(self, sentence: Any) -> list[ClaimSpan]:
        span = _trim(sentence)
        if span is None:
            return []
        out: list[ClaimSpan] = []
        for part in self._semicolon_parts(span):
            out.extend(self._split_clause(part))
        return out

    # -- semicolons ---------------------------------------------------------------------------

    def _semicolon_parts(self, span: Any) -> list[Any]:
        doc = span.doc
        cuts = [t.i for t in span if t.text == ";"]
        if not cuts:
            return [span]
        parts: list[Any] = []
        start = span.start
        for cut in cuts + [span.end]:
            piece = _trim(doc[start:cut])
            start = cut + 1
            if piece is None:
                continue
            if parts and not (self._is_clause(piece) and self._is_clause(parts[-1])):
                parts[-1] = doc[parts[-1].start : piece.end]
            else:
                parts.append(piece)
        # A first piece that is not a clause on its own joins the next one.
        if len(parts) > 1 and not self._is_clause(parts[0]):
            parts[0:2] = [doc[parts[0].start : parts[1].end]]
        return parts

    def _is_clause(self, span: Any) -> bool:
        has_verb = any(t.pos_ in ("VERB", "AUX") for t in span)
        has_subject = any(t.dep_ in _SUBJECT_DEPS for t in span)
        return has_verb and has_subject and self._substantial(span.text)

    def _substantial(self, text: str) -> bool:
        return len(_content_words(text, normalise=False)) >= self.min_claim_content_words

    # -- coordination ------------------------------------------------------------------------

    def _split_clause(self, span: Any) -> list[ClaimSpan]:
        root = _span_root(span)
        whole = [ClaimSpan(_as_sentence(span.text), span.start_char, span.end_char)]
        if root is None or root.pos_ not in ("VERB", "AUX"):
            return whole
        conjuncts = _conj_chain(root, span)
        clause_heads = [c for c in conjuncts if c.pos_ in ("VERB", "AUX") and _has_subject(c)]
        if any(_opens_subordinate(c) for c in clause_heads):
            # "…, and how X could Y" is an embedded question, not a stand-alone clause.
            clause_heads = []
        if clause_heads:
            pieces = self._cut_at(span, [c.left_edge.i for c in clause_heads])
            if pieces is not None:
                return pieces
        predicate_heads = [c for c in conjuncts if c.pos_ in ("VERB", "AUX") and not _has_subject(c)]
        if predicate_heads:
            pieces = self._predicates(span, root, predicate_heads)
            if pieces is not None:
                return pieces
        if self.split_object_lists:
            pieces = self._object_list(span, root)
            if pieces is not None:
                return pieces
        return whole

    def _cut_at(self, span: Any, starts: Sequence[int]) -> list[ClaimSpan] | None:
        """Cut ``span`` before each token index in ``starts``; ``None`` if a piece is too thin."""
        doc = span.doc
        bounds = [span.start] + sorted(i for i in set(starts) if span.start < i < span.end) + [span.end]
        pieces = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            piece = _trim(doc[a:b])
            if piece is None or not self._substantial(piece.text):
                return None
            pieces.append(ClaimSpan(_as_sentence(piece.text), piece.start_char, piece.end_char))
        return pieces if len(pieces) > 1 else None

    def _predicates(self, span: Any, root: Any, heads: Sequence[Any]) -> list[ClaimSpan] | None:
        """ "X did A and did B" → "X did A." / "X did B." when the subject opens the sentence."""
        subjects = [c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")]
        if len(subjects) != 1:
            return None
        subject = subjects[0]
        # Only a subject that opens the clause and precedes its verb is repeated; anything else
        # is a parse too unusual to rewrite safely.
        if subject.i > root.i or subject.left_edge.i != span.start or subject.right_edge.i >= root.i:
            return None
        doc = span.doc
        starts = [h.left_edge.i for h in heads]
        if any(s <= root.i or s >= span.end for s in starts) or starts != sorted(set(starts)):
            return None
        # A clausal complement before the conjoined verb ("It shows that performance improves,
        # then decreases") usually means the parser hung the conjunct on the wrong verb.
        if any(c.dep_ in _CLAUSAL_DEPS and root.i < c.i < starts[0] for c in root.children):
            return None
        cut = self._cut_at(span, starts)
        if cut is None:
            return None
        subject_text = doc[subject.left_edge.i : subject.right_edge.i + 1].text
        # Auxiliaries the conjuncts share ("is analyzed and explained" → "is explained").
        shared_aux = [c.text for c in root.children if c.dep_ in ("aux", "auxpass", "neg") and c.i < root.i]
        out = [cut[0]]
        for head, piece in zip(heads, cut[1:], strict=True):
            body = _strip_leading_joiners(doc.text[piece.char_start : piece.char_end])
            own_aux = any(c.dep_ in ("aux", "auxpass") for c in head.children)
            words = [subject_text, *([] if own_aux else shared_aux), body]
            out.append(ClaimSpan(_as_sentence(" ".join(words)), piece.char_start, piece.char_end))
        return out

    def _object_list(self, span: Any, root: Any) -> list[ClaimSpan] | None:
        """Parallel objects of the main verb, each a substantial phrase: one claim per item.

        The items are the verb's objects and everything coordinated with them (the parser
        attaches a list either as ``conj`` chains or as sibling objects).
        """
        doc = span.doc
        objects = [c for c in root.children if c.dep_ in _OBJECT_DEPS and c.i > root.i]
        items = sorted(
            {t.i: t for o in objects for t in [o, *_conj_chain(o, span)]}.values(), key=lambda t: t.i
        )
        if len(items) < 2:
            return None
        item_spans = []
        for k, item in enumerate(items):
            # An item's subtree may contain the items after it; it ends where the next begins.
            end = items[k + 1].left_edge.i if k + 1 < len(items) else item.right_edge.i + 1
            piece = _trim(doc[item.left_edge.i : end])
            if piece is None or len(_content_words(piece.text, normalise=False)) < self.min_item_content_words:
                return None
            item_spans.append(piece)
        prefix = doc[span.start : items[0].left_edge.i].text
        suffix = _trim(doc[items[-1].right_edge.i + 1 : span.end])
        suffix_text = f" {suffix.text}" if suffix is not None else ""
        return [
            ClaimSpan(
                _as_sentence(f"{prefix} {piece.text}{suffix_text}".strip()), piece.start_char, piece.end_char
            )
            for piece in item_spans
        ]


def _span_root(span: Any) -> Any | None:
    """The token of ``span`` whose head lies outside it (or is itself); the first if several."""
    for token in span:
        if token.head == token or not (span.start <= token.head.i < span.end):
            return token
    return None


def _conj_chain(head: Any, span: Any) -> list[Any]:
    """Tokens coordinated with ``head`` (``conj`` children, followed transitively), in order."""
    out: list[Any] = []
    stack = [head]
    while stack:
        token = stack.pop()
        for child in token.children:
            if child.dep_ == "conj" and span.start <= child.i < span.end:
                out.append(child)
                stack.append(child)
    return sorted(out, key=lambda t: t.i)


def _opens_subordinate(head: Any) -> bool:
    """Whether the clause headed by ``head`` opens with a subordinator (how, whether, that, if…)."""
    first = head.left_edge
    while first.i < head.i and (first.is_punct or first.dep_ == "cc"):
        first = first.doc[first.i + 1]
    return first.tag_ in ("WRB", "WP", "WDT", "IN") or first.dep_ == "mark"


def _has_subject(token: Any) -> bool:
    return any(c.dep_ in _SUBJECT_DEPS for c in token.children)


def _strip_space(span: Any) -> Any | None:
    """``span`` without leading/trailing whitespace tokens; ``None`` if nothing is left."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    return doc[start:end] if end > start else None


def _trim(span: Any) -> Any | None:
    """``span`` without leading/trailing joiners, punctuation and whitespace; ``None`` if empty."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and (
        doc[start].is_space
        or doc[start].lower_ in _LEADING_JOINERS
        or (doc[start].is_punct and doc[start].text not in "\"'“‘([")
    ):
        start += 1
    while end > start and (doc[end - 1].is_space or doc[end - 1].lower_ in _TRAILING_JOINERS):
        end -= 1
    if end <= start:
        return None
    return doc[start:end]


def _strip_leading_joiners(text: str) -> str:
    words = text.split()
    while words and words[0].lower().strip(",;:") in _LEADING_JOINERS:
        words.pop(0)
    return " ".join(words)


def _as_sentence(text: str) -> str:
    """Capitalised, with a final period when it has no sentence-final punctuation."""
    text = " ".join(text.split())
    text = text.rstrip(",;:-–— ")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?\"'”’)":
        text += "."
    return text


# ----------------------------------------------------------------------------------------------
# Label prefixes ("Deep learning revolution: …")
# ----------------------------------------------------------------------------------------------

_LABEL = re.compile(r"^\s*([^:.!?;\n]{1,80}?)\s*:\s+(?=[\"'“‘(]?[A-Z0-9])")


def _label_prefix_by_regex(text: str) -> tuple[str | None, int]:
    """A candidate label and the offset where the body starts (0 when there is no label)."""
    match = _LABEL.match(text)
    if not match:
        return None, 0
    label = match.group(1).strip()
    if not label or len(label.split()) > _LABEL_MAX_WORDS:
        return None, 0
    return label, match.end()


def _label_prefix(doc: Any) -> tuple[str | None, int]:
    """The label of a unit and where its body starts, confirmed by the parse: a label has no
    finite verb ("The realization was this: …" is a clause, not a label)."""
    label, body_start = _label_prefix_by_regex(doc.text)
    if label is None:
        return None, 0
    head = [t for t in doc if t.idx < body_start]
    if len(head) > _LABEL_MAX_TOKENS or any(t.tag_ in _FINITE_TAGS for t in head if t.text != ":"):
        return None, 0
    return label, body_start


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------


def build_splitter(name: str, **options: Any) -> ClaimSplitter:
    """The splitter registered as ``name``, built with its options from the ``claims`` config."""
    cls = CLAIM_SPLITTERS.get(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise ConfigError(f"claims: bad options for splitter {name!r}: {exc}") from None


def split_claims(
    units: Iterable[SummaryUnit],
    splitter_name: str,
    *,
    min_content_words: int,
    min_claim_content_words: int,
    nlp: Any | None = None,
    batch_size: int = 64,
    **options: Any,
) -> tuple[Claim, ...]:
    """Split the checkable units into claims, in unit order.

    Args:
        units: summary units (boilerplate and vague ones are skipped; see ``is_checkable``).
        splitter_name: a name registered in ``CLAIM_SPLITTERS`` (``sentence``, ``clause``).
        min_content_words: fewest content words of a checkable unit (``claims.min_content_words``).
        min_claim_content_words: a sentence or clause with fewer content words is attached to
            its neighbour instead of standing alone (``claims.min_claim_content_words``).
        nlp: a spaCy pipeline; the cached ``models.spacy_nlp()`` when ``None``.
        batch_size: units per ``nlp.pipe`` batch.
        **options: the splitter's own options (``min_item_content_words``…).

    Returns:
        Claims with ids ``<unit_id>.c<k>`` (k from 1), offsets into the unit's ``text_plain`` and
        the unit's section (plus its label, if any) as context.
    """
    splitter = build_splitter(splitter_name, min_claim_content_words=min_claim_content_words, **options)
    checkable = [u for u in units if is_checkable(u, min_content_words).checkable]
    if not checkable:
        return ()
    if nlp is None:
        from harness.models import spacy_nlp

        nlp = spacy_nlp()
    claims: list[Claim] = []
    docs = nlp.pipe([u.text_plain for u in checkable], batch_size=batch_size)
    for unit, doc in zip(checkable, docs, strict=True):
        label, body_start = _label_prefix(doc)
        context = unit.section
        if label is not None:
            context = f"{unit.section} > {label}" if unit.section else label
        spans: list[ClaimSpan] = []
        for sent in doc.sents:
            if sent.end_char <= body_start:
                continue
            if sent.start_char < body_start:
                sent = doc.char_span(body_start, sent.end_char, alignment_mode="expand")
                if sent is None:
                    continue
            spans.extend(splitter.split(sent))
        spans = _attach_fragments(spans, unit.text_plain, min_claim_content_words)
        for k, span in enumerate(spans):
            claims.append(
                Claim(
                    claim_id=f"{unit.unit_id}.c{k + 1}",
                    unit_id=unit.unit_id,
                    index=k,
                    text=span.text,
                    char_start=span.char_start,
                    char_end=span.char_end,
                    context=context,
                )
            )
    return tuple(claims)


def split_claims_from_config(
    units: Iterable[SummaryUnit], cfg: Mapping[str, Any], *, nlp: Any | None = None
) -> tuple[Claim, ...]:
    """``split_claims`` with the options of a ``claims`` config node (``configs/claims/*.yaml``).

    Raises:
        ConfigError: ``splitter``, ``min_content_words`` or ``min_claim_content_words`` is missing.
    """
    options = dict(cfg)
    try:
        name = options.pop("splitter")
        min_content = int(options.pop("min_content_words"))
        min_claim = int(options.pop("min_claim_content_words"))
    except KeyError as exc:
        raise ConfigError(f"claims: missing config key {exc.args[0]!r}") from None
    options.pop("name", None)
    return split_claims(
        units, name, min_content_words=min_content, min_claim_content_words=min_claim, nlp=nlp, **options
    )


def _attach_fragments(spans: list[ClaimSpan], text: str, min_words: int) -> list[ClaimSpan]:
    """Join a claim with too few content words ("This is it.") to its neighbour."""
    if min_words <= 0 or len(spans) < 2:
        return spans
    out: list[ClaimSpan] = []
    pending: ClaimSpan | None = None
    for span in spans:
        if pending is not None:
            span = _join(pending, span, text)
            pending = None
        if len(_content_words(span.text, normalise=False)) < min_words:
            if out:
                out[-1] = _join(out[-1], span, text)
            else:
                pending = span
            continue
        out.append(span)
    if pending is not None:
        out.append(pending)
    return out


def _join(a: ClaimSpan, b: ClaimSpan, text: str) -> ClaimSpan:
    start, end = min(a.char_start, b.char_start), max(a.char_end, b.char_end)
    if a.text == text[a.char_start : a.char_end] and b.text == text[b.char_start : b.char_end]:
        # Both pieces are verbatim (sentence claims): keep the source text between them.
        joined = text[start:end]
    else:
        joined = f"{a.text} {b.text}"
    return ClaimSpan(" ".join(joined.split()), start, end)
