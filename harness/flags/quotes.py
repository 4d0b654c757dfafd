"""Quotation flags from the quote stage (``harness.quotes``): ``misquote``, ``quote_paraphrased``,
``misattributed_quote``.

* ``misquote`` (major by default) — the quoted words are not in the transcript and no passage says
  the same (``not_found``), or they are nearly said but a difference touches a negation or a
  number, which changes what was said.
* ``quote_paraphrased`` (minor) — the words are not said, but a passage says the same thing in
  other words: the page presents a paraphrase as a quotation.
* ``misattributed_quote`` (major) — the words are said, but by someone other than the person the
  page credits (an attribution after the quote, else the person the page is about). With
  speaker labels, any quote; without them (captions), a quote the page gives the guest that the
  host says in the introduction or closing words (``flags.misattribution.host_framing``), unless
  he is reading or reporting the guest's words there ("as Scott says, …").

Each flag's evidence is the exact transcript span the quote matched, with its time and speaker.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from harness.flags.base import FLAGS, FlagContext, severity
from harness.flags.text import quoted
from harness.quotes import quote_evidence
from harness.text import format_clock
from harness.types import Flag, QuoteMatch


def _evidence(ctx: FlagContext, m: QuoteMatch) -> tuple:
    ev = quote_evidence(ctx.transcript, m)
    return (ev,) if ev is not None else ()


def _quote_flag(tag: str, sev: str, uid: str, message: str, ctx: FlagContext, m: QuoteMatch) -> Flag:
    """A unit-level quote flag whose evidence is the span the quote matched."""
    return Flag(tag=tag, severity=sev, unit_id=uid, claim_index=None, message=message, evidence=_evidence(ctx, m))


def _where(m: QuoteMatch) -> str:
    return format_clock(m.start_s, missing="?") if m.start_s is not None else "the matched passage"


@FLAGS.register("misquote")
def detect_misquote(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Quotes that are not said, or whose small difference changes the meaning."""
    sev = severity(params, "severity")
    for uid, m in ctx.quotes.items():
        if m.match_class == "not_found":
            message = (
                f"The quote {quoted(m.quote, 12)} is not in the transcript, and no passage says the same "
                f"(best passage similarity {m.similarity:.2f})."
            )
        elif m.match_class == "near_verbatim" and m.meaning_changed:
            message = (
                f"The quote differs from what was said at {_where(m)} in a way that changes its meaning "
                f"({'; '.join(m.diff)}): {quoted(m.span or '', 20)}."
            )
        else:
            continue
        yield _quote_flag("misquote", sev, uid, message, ctx, m)


@FLAGS.register("quote_paraphrased")
def detect_quote_paraphrased(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Quotes whose words are not said although their gist is: a paraphrase in quotation marks."""
    sev = severity(params, "severity")
    for uid, m in ctx.quotes.items():
        if m.match_class != "paraphrased":
            continue
        message = (
            f"These words are not said as quoted; the transcript says it in other words at {_where(m)} "
            f"(similarity {m.similarity:.2f}): {quoted(m.span or '', 20)}."
        )
        yield _quote_flag("quote_paraphrased", sev, uid, message, ctx, m)


@FLAGS.register("misattributed_quote")
def detect_misattributed_quote(ctx: FlagContext, params: Mapping[str, Any]) -> Iterable[Flag]:
    """Quotes said (word for word or nearly) by someone other than the person the page credits."""
    sev = severity(params, "severity")
    classes = frozenset(params["classes"] or ())
    if not ctx.index.speakers:
        yield from _host_quotes(ctx, sev, classes)
        return
    for uid, m in ctx.quotes.items():
        if m.match_class not in classes or not m.speaker_differs:
            continue
        others = [s for s in m.speakers if s != m.credited]
        said_by = " and ".join(m.speakers) if len(m.speakers) > 1 else others[0]
        message = (
            f"The page credits this quote to {m.credited}, but in the transcript it is said by {said_by} "
            f"({_where(m)}): {quoted(m.span or '', 20)}."
        )
        yield _quote_flag("misattributed_quote", sev, uid, message, ctx, m)


def _host_quotes(ctx: FlagContext, sev: str, classes: frozenset[str]) -> Iterable[Flag]:
    """Quotes of a transcript without speaker labels that the host says in the framing (see
    ``misattribution``'s ``host_framing``), while the page gives them to the guest: no
    attribution after the quote, or one that names the guest."""
    from harness.quotes import quote_text
    from harness.transcript_lookup import same_person

    framing = ctx.framing
    if not framing.spans or not framing.guests:
        return
    for uid, m in ctx.quotes.items():
        if m.match_class not in classes or m.char_start is None or m.char_end is None:
            continue
        span = framing.span_at(m.char_start, m.char_end)
        if span is None or framing.credits_guest(ctx.transcript.text, m.char_start, m.char_end):
            continue
        unit = ctx.units.get(uid)
        qt = quote_text(unit) if unit is not None else None
        credited = qt.attribution if qt is not None and qt.attribution else framing.guests[0]
        if not any(same_person(credited, g) for g in framing.guests):
            continue  # the page credits someone else (the author the host quotes, say)
        message = (
            f"The page gives this quote to {credited}, but the host says it in the {span.label} "
            f"({_where(m)}): {quoted(m.span or '', 20)}."
        )
        yield _quote_flag("misattributed_quote", sev, uid, message, ctx, m)
