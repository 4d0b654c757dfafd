"""Typed records that flow through the pipeline: parse → claims → align → metrics → flags → report.

Every record is a frozen dataclass so a stage can never mutate what an earlier stage produced.
Times are seconds from the start of the episode (``None`` where the source gives no time);
character offsets index into the text of the record that owns them (``Transcript.text`` for
transcript records, ``SummaryUnit.text_plain`` for claims).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

# ----------------------------------------------------------------------------------------------
# Closed vocabularies
# ----------------------------------------------------------------------------------------------


class StrEnum(str, Enum):
    """A ``str``-valued enum whose members are their values wherever text is made of them:
    ``json.dumps``, ``str()``, f-strings and ``==`` with a plain string all see ``"supported"``,
    so records holding members serialize exactly as records holding strings."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The members' values, in declaration order."""
        return tuple(str(m.value) for m in cls)


class VerdictLabel(StrEnum):
    """The label of a claim verdict (the first four) or a unit verdict (any of the five)."""

    SUPPORTED = "supported"
    PARTIALLY_SUPPORTED = "partially_supported"
    UNSUPPORTED = "unsupported"
    CONTRADICTED = "contradicted"
    NOT_CHECKABLE = "not_checkable"  # units only: no claim of the unit could be checked


class Severity(StrEnum):
    """How bad a flag is: ``major`` changes what a reader takes away, ``minor`` misleads less;
    ``info`` is a note that counts as neither (e.g. a name the transcript itself misspells)."""

    MAJOR = "major"
    MINOR = "minor"
    INFO = "info"


class UnitKind(StrEnum):
    """What a summary presents a unit as (the formats in ``harness/formats/`` assign these)."""

    OVERVIEW = "overview"
    KEY_INSIGHT = "key_insight"
    SECTION_SENTENCE = "section_sentence"
    QA_ANSWER = "qa_answer"
    GLOSS = "gloss"
    TLDR = "tldr"
    TAKEAWAY = "takeaway"
    WIKI_SENTENCE = "wiki_sentence"
    SUMMARY_SENTENCE = "summary_sentence"
    TRANSCRIPT_EXCERPT = "transcript_excerpt"
    SENTENCE = "sentence"
    BOILERPLATE = "boilerplate"
    # generic pages (summary=markdown, harness/formats/page_kinds.py)
    BACKGROUND = "background"
    QUOTE = "quote"
    QUOTE_GLOSS = "quote_gloss"
    ARGUMENT = "argument"
    COMMENTARY = "commentary"
    HEADING = "heading"


class LineRoleKind(StrEnum):
    """What a non-empty line of a summary file was taken as (``LineRole.role``)."""

    UNIT = "unit"
    HEADING = "heading"
    QUESTION = "question"
    FRONT_MATTER = "front_matter"
    MARKUP = "markup"


# ----------------------------------------------------------------------------------------------
# Transcript side
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chapter:
    """A chapter of the episode, from a ``## `` heading of the transcript.

    Attributes:
        index: 0-based position among the chapters.
        title: heading text as written.
        start_s: start time (the first timestamp under the heading), ``None`` if it has none.
        end_s: start of the next chapter, or the end of the episode for the last one.
        line_no: 1-based line of the heading in the transcript file.
        char_start: offset of the heading in ``Transcript.text``.
        char_end: offset where the next chapter starts (or the end of the text).
    """

    index: int
    title: str
    start_s: float | None
    end_s: float | None
    line_no: int
    char_start: int
    char_end: int


@dataclass(frozen=True)
class TimestampBlock:
    """A run of transcript text that starts at one written timestamp (``[m:ss](url?t=N)``).

    Attributes:
        index: 0-based position among the blocks.
        start_s: time the timestamp points at (the ``t=`` parameter, else the label).
        end_s: start of the next block (``None`` for the last block, whose end is unknown).
        label: the timestamp exactly as written, e.g. ``"1:02:30"``.
        url: the link target, if any (used to link evidence back to the video).
        chapter_index: chapter the block lies in, ``None`` before the first heading.
        line_no: 1-based line of the timestamp.
        char_start: offset where the block's text starts (just after the timestamp line).
        char_end: offset where the next block starts.
    """

    index: int
    start_s: float
    end_s: float | None
    label: str
    url: str | None
    chapter_index: int | None
    line_no: int
    char_start: int
    char_end: int


@dataclass(frozen=True)
class Segment:
    """One speaker turn, the unit of transcript text the later stages retrieve from.

    A turn is cut where a new speaker label or a new timestamp starts, so each segment lies in
    one timestamp block. Speaker labels are kept exactly as the source gives them (they can be
    wrong; the harness never invents or corrects one).

    Attributes:
        index: 0-based position among the segments.
        speaker: speaker label as written, ``None`` where the source names nobody.
        text: the spoken text, markup removed, paragraphs joined by a newline.
        start_s: estimated start time: the block's start, moved forward in proportion to the
            characters of the block that come before this turn.
        end_s: estimated end time, computed the same way.
        timestamp: label of the block the turn lies in (what a reader finds in the file).
        chapter_index: chapter the turn lies in.
        line_no: 1-based line where the turn starts.
        char_start: offset of ``text``'s first character in ``Transcript.text``.
        char_end: offset just past the turn's last character in ``Transcript.text``.
        is_content: False for text that is not the conversation (a preface in another language,
            a post's front matter); such text is kept but never scored.
    """

    index: int
    speaker: str | None
    text: str
    start_s: float | None
    end_s: float | None
    timestamp: str | None
    chapter_index: int | None
    line_no: int
    char_start: int
    char_end: int
    is_content: bool = True


#: Kinds of the parts of a sponsor segment: a sponsor read, or the show's self-promotion attached
#: to it (``sponsors.self_promo.attach_adjacent``).
SPONSOR_PART_KINDS = ("read", "self_promo")


@dataclass(frozen=True)
class SponsorPart:
    """One stretch of consecutive sentences of a sponsor segment, all of one kind.

    Attributes:
        kind: ``read`` (sponsor-read sentences: ad copy, a sponsor list, its pointer) or
            ``self_promo`` (the show promoting itself: subscribe, review, Patreon), one of
            ``SPONSOR_PART_KINDS``.
        char_start: offset of the part's first sentence in ``Transcript.text``.
        char_end: offset just past its last sentence.
        start_s: estimated start time (interpolated like the segment's).
        end_s: estimated end time.
    """

    kind: str
    char_start: int
    char_end: int
    start_s: float | None
    end_s: float | None


@dataclass(frozen=True)
class SponsorSegment:
    """A sponsor read, with the show's self-promotion attached to it, found in the transcript.

    Attributes:
        index: 0-based position among the sponsor segments.
        char_start: offset of the first sponsor sentence in ``Transcript.text``.
        char_end: offset just past the last sponsor sentence.
        start_s: estimated start time (see ``time_estimated``).
        end_s: estimated end time.
        time_estimated: True when the times were interpolated inside a timestamp block rather
            than read from a timestamp at the span's edge.
        segment_indices: the speaker turns the span overlaps.
        rules: names of the detection rules that fired inside the span, sorted.
        text: the span's text.
        parts: the segment's sponsor-read and self-promotion stretches, in order, covering its
            sentences (the text between two parts is white space); empty when the segment was
            built without them, and then the whole segment counts as read (``read_parts``).
    """

    index: int
    char_start: int
    char_end: int
    start_s: float | None
    end_s: float | None
    time_estimated: bool
    segment_indices: tuple[int, ...]
    rules: tuple[str, ...]
    text: str
    parts: tuple[SponsorPart, ...] = ()

    @property
    def read_parts(self) -> tuple[SponsorPart, ...]:
        """The parts that are sponsor reads (the whole segment when ``parts`` is empty)."""
        if not self.parts:
            return (SponsorPart("read", self.char_start, self.char_end, self.start_s, self.end_s),)
        return tuple(p for p in self.parts if p.kind == "read")


@dataclass(frozen=True)
class Transcript:
    """A parsed transcript: chapters, timestamp blocks, speaker turns and sponsor segments.

    Attributes:
        path: the file it was read from, as given.
        sha256: hex digest of the file's bytes.
        text: the decoded file text; every offset in the transcript records indexes into it.
        format: name of the reader that parsed it.
        title: title from front matter or first heading, if any.
        video_url: base URL of the video when the timestamps link to one.
        chapters: chapters in order.
        blocks: timestamp blocks in order.
        segments: speaker turns in order, non-content ones included (``is_content`` False).
        sponsor_segments: sponsor reads, in order (empty until sponsor detection has run).
        duration_s: the last known time in the transcript (start of its last block).
        warnings: problems found while parsing that did not stop it (e.g. a timestamp that goes
            back in time), shown in the report.
        chapter_source: where ``chapters`` came from: ``headings`` (the transcript's own headings
            or table of contents), ``file`` (a chapter list given with ``transcript.chapters``),
            ``auto`` (found by topic segmentation) or ``none``; ``None`` when not recorded.
    """

    path: str
    sha256: str
    text: str
    format: str
    title: str | None
    video_url: str | None
    chapters: tuple[Chapter, ...]
    blocks: tuple[TimestampBlock, ...]
    segments: tuple[Segment, ...]
    sponsor_segments: tuple[SponsorSegment, ...] = ()
    duration_s: float | None = None
    warnings: tuple[str, ...] = ()
    chapter_source: str | None = None

    @property
    def content_segments(self) -> tuple[Segment, ...]:
        """The turns that belong to the conversation (preface and front matter left out)."""
        return tuple(s for s in self.segments if s.is_content)

    def sponsor_overlap(self, char_start: int, char_end: int) -> float:
        """Share of ``[char_start, char_end)`` that lies inside sponsor segments, in [0, 1]."""
        length = char_end - char_start
        if length <= 0:
            return 0.0
        covered = sum(
            max(0, min(char_end, sp.char_end) - max(char_start, sp.char_start))
            for sp in self.sponsor_segments
        )
        return min(1.0, covered / length)

    def time_at(self, char_offset: int) -> float | None:
        """Estimated time of a character offset, interpolated inside its timestamp block."""
        for block in reversed(self.blocks):
            if block.char_start <= char_offset:
                if block.end_s is None or block.char_end <= block.char_start:
                    return block.start_s
                frac = min(1.0, (char_offset - block.char_start) / (block.char_end - block.char_start))
                return block.start_s + frac * (block.end_s - block.start_s)
        return self.blocks[0].start_s if self.blocks else None

    def block_at(self, char_offset: int) -> TimestampBlock | None:
        """The timestamp block containing a character offset (``None`` before the first one)."""
        for block in reversed(self.blocks):
            if block.char_start <= char_offset:
                return block
        return None


# ----------------------------------------------------------------------------------------------
# Summary side
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SummaryUnit:
    """One scorable piece of a summary (a sentence, bullet, answer or gloss), in document order.

    Attributes:
        unit_id: stable id, ``u001``, ``u002``… in document order.
        index: 0-based position among the units.
        section: heading path joined with `` > ``; for a Q&A answer, the question.
        kind: what the summary presents the unit as, a ``UnitKind`` value: ``overview``,
            ``key_insight``, ``section_sentence``, ``qa_answer``, ``gloss``, ``tldr``,
            ``takeaway``, ``wiki_sentence``, ``summary_sentence``, ``transcript_excerpt``,
            ``sentence``, ``boilerplate``; on generic pages also ``background``, ``quote``,
            ``quote_gloss``, ``argument``, ``commentary``, ``heading``.
        text: the unit's text exactly as in the file (a sentence may be part of a line).
        text_plain: ``text`` with markup removed (links, emphasis, emoji bullets, HTML tags).
        line_no: 1-based line of the file where the unit starts.
        cited_timestamp_s: a time the summary itself cites for this unit, in seconds.
        boilerplate: True for site chrome that is not summary content.
        boilerplate_reason: why it was judged boilerplate (``None`` when it is content).
    """

    unit_id: str
    index: int
    section: str | None
    kind: str
    text: str
    text_plain: str
    line_no: int
    cited_timestamp_s: int | None = None
    boilerplate: bool = False
    boilerplate_reason: str | None = None


@dataclass(frozen=True)
class LineRole:
    """What a non-empty line of a summary file was taken as, so no line is silently dropped.

    Attributes:
        line_no: 1-based line number.
        role: a ``LineRoleKind`` value: ``unit`` (content or boilerplate unit), ``heading``,
            ``question``, ``front_matter`` or ``markup`` (a line of pure markup such as a
            callout marker).
        unit_ids: units that start or continue on this line (empty for context lines).
    """

    line_no: int
    role: str
    unit_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    """A parsed summary file.

    Attributes:
        path: the file it was read from, as given.
        sha256: hex digest of the file's bytes.
        format: name of the registered format that parsed it.
        title: the page title, if the format has one.
        units: the units in document order.
        line_roles: one entry for every non-empty line of the file.
    """

    path: str
    sha256: str
    format: str
    title: str | None
    units: tuple[SummaryUnit, ...]
    line_roles: tuple[LineRole, ...]

    @property
    def content_units(self) -> tuple[SummaryUnit, ...]:
        """Units that are summary content (boilerplate left out)."""
        return tuple(u for u in self.units if not u.boilerplate)


# ----------------------------------------------------------------------------------------------
# Claims, evidence, verdicts
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """An atomic statement taken from a summary unit.

    Attributes:
        claim_id: ``<unit_id>.c<k>``.
        unit_id: the unit it came from.
        index: 0-based position among the unit's claims.
        text: the claim as a stand-alone sentence.
        char_start: offset of the claim's source span in the unit's ``text_plain``.
        char_end: end of that span.
        context: text that helps resolve "he"/"this": section title or Q&A question.
    """

    claim_id: str
    unit_id: str
    index: int
    text: str
    char_start: int
    char_end: int
    context: str | None = None


@dataclass(frozen=True)
class Window:
    """A retrieval window: a few consecutive speaker turns of the transcript.

    Attributes:
        index: 0-based position among the windows.
        text: the turns' text joined with newlines.
        segment_indices: the turns it holds.
        start_s: start time of its first turn.
        end_s: end time of its last turn.
        timestamp: label of the block its first turn lies in.
        chapter_index: chapter of its first turn.
        speakers: distinct speakers, in order of appearance.
        char_start: offset of its first character in ``Transcript.text``.
        char_end: offset past its last character.
        is_sponsor: True when most of the window lies in sponsor segments.
    """

    index: int
    text: str
    segment_indices: tuple[int, ...]
    start_s: float | None
    end_s: float | None
    timestamp: str | None
    chapter_index: int | None
    speakers: tuple[str, ...]
    char_start: int
    char_end: int
    is_sponsor: bool


@dataclass(frozen=True)
class Evidence:
    """A transcript passage offered to justify a verdict.

    Attributes:
        start_s: estimated time of the quote.
        end_s: estimated end time of the quote.
        timestamp: the transcript's own label of the block holding the quote (``"m:ss"``).
        url: link to that moment of the video, when the transcript gives one.
        speaker: who says it, as labelled in the transcript.
        chapter: chapter title.
        quote: verbatim transcript text, at most 40 words.
        score: how strongly this passage supports the claim, in [0, 1].
        is_sponsor: True when the passage lies in a sponsor segment.
        char_start: offset of the quote in ``Transcript.text``.
        char_end: end of the quote.
    """

    start_s: float | None
    end_s: float | None
    timestamp: str | None
    url: str | None
    speaker: str | None
    chapter: str | None
    quote: str
    score: float
    is_sponsor: bool
    char_start: int
    char_end: int


# Claim verdict labels, best first, and unit verdict labels (derived from ``VerdictLabel``).
VERDICTS: tuple[str, ...] = VerdictLabel.values()[:4]
UNIT_VERDICTS: tuple[str, ...] = VerdictLabel.values()
SEVERITIES: tuple[str, ...] = Severity.values()
UNIT_KINDS: tuple[str, ...] = UnitKind.values()
LINE_ROLES: tuple[str, ...] = LineRoleKind.values()


@dataclass(frozen=True)
class Verdict:
    """The verifier's decision about one claim.

    Attributes:
        claim: the claim judged.
        label: one of ``VERDICTS`` (a ``VerdictLabel`` value).
        score: support score in [0, 1] (1 = fully supported).
        evidence: up to three passages, best first.
        features: the named signals the decision was made from (for the report and debugging).
    """

    claim: Claim
    label: str
    score: float
    evidence: tuple[Evidence, ...]
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class UnitVerdict:
    """The aggregate decision about one summary unit.

    Attributes:
        unit_id: the unit judged.
        label: one of ``UNIT_VERDICTS`` (a ``VerdictLabel`` value).
        score: mean support of its claims, weighted by claim length (``None`` if not checkable).
        claims: the claim verdicts it aggregates.
        reason: one line saying why the unit got its verdict (best evidence, score and the
            threshold it passed or missed), or why it is ``not_checkable``.
    """

    unit_id: str
    label: str
    score: float | None
    claims: tuple[Verdict, ...]
    reason: str | None = None


QUOTE_CLASSES = ("verbatim", "near_verbatim", "paraphrased", "not_found")


@dataclass(frozen=True)
class QuoteMatch:
    """Where a quotation of the summary was found in the transcript, and how exactly.

    A quotation claims exact words: it is matched word for word (punctuation, casing, filler
    words, contractions and "gonna"/"going to" ignored; an ellipsis a gap of bounded time), not
    judged as a paraphrase.

    Attributes:
        unit_id: the ``quote`` unit.
        quote: the quoted words as the page gives them (marks and attribution removed).
        match_class: one of ``QUOTE_CLASSES``: ``verbatim`` (every word said, in order),
            ``near_verbatim`` (most words said in order; ``diff`` lists the rest),
            ``paraphrased`` (the words are not said but a passage says the same: ``similarity``
            is then the sentence-embedding cosine), ``not_found``.
        similarity: word-level agreement in [0, 1] for (near-)verbatim matches (the lower of
            the share of quoted words said and the share of the span's words quoted), else the
            embedding cosine of the best passage.
        char_start: offset of the matched span in ``Transcript.text`` (``None`` when not found).
        char_end: end of the matched span.
        span: the transcript text of the span, verbatim (across turns, the turns' pieces joined
            by a space, without the speaker labels between them).
        start_s: time of the span's start (``None`` without timestamps or when not found).
        end_s: time of the span's end.
        speaker: who says most of the span (``None`` where the transcript names nobody).
        speakers: everyone who says part of the span, in order (a quote may join two turns).
        credited: who the page credits (an attribution after the quote, else the guest);
            ``None`` where the transcript names no speakers.
        diff: word-level differences, ``-word`` (quoted, not said), ``+word`` (said inside the
            span, not quoted), ``word→said`` (replaced); fillers and repeats are left out.
        parts: pieces of the quote between ellipses, each matched in order.
        meaning_changed: a difference touches a negation or a number.
    """

    unit_id: str
    quote: str
    match_class: str
    similarity: float
    char_start: int | None = None
    char_end: int | None = None
    span: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    speaker: str | None = None
    speakers: tuple[str, ...] = ()
    credited: str | None = None
    diff: tuple[str, ...] = ()
    parts: int = 1
    meaning_changed: bool = False

    @property
    def speaker_differs(self) -> bool:
        """Whether some of the span is said by someone other than the person the page credits."""
        return bool(self.credited) and any(s != self.credited for s in self.speakers)


@dataclass(frozen=True)
class Flag:
    """An error a careful reader would catch, with severity and checkable evidence.

    Attributes:
        tag: detector name, e.g. ``ad_content``, ``misspelled_entity``.
        severity: ``major`` or ``minor`` (a ``Severity`` value).
        unit_id: the unit flagged.
        claim_index: the claim within the unit, or ``None`` for a unit-level flag.
        message: one plain sentence a user understands.
        evidence: passages a user can check.
    """

    tag: str
    severity: str
    unit_id: str
    claim_index: int | None
    message: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class MetricResult:
    """One number in the report, with what it means and which way is better.

    Attributes:
        name: registered metric name, e.g. ``consistency.score``.
        value: the number (``None`` when it could not be computed; ``note`` says why).
        higher_is_better: direction, for leaderboards and the regression gate; ``None`` for a
            size or count that is neither (``harness.metrics.Direction.NONE``).
        description: one sentence on what it measures.
        note: caveats such as chunking or an unavailable input.
        ci_low: lower end of a bootstrap 95% interval of ``value`` (``harness.bootstrap``), when
            the metric has one.
        ci_high: upper end of that interval.
    """

    name: str
    value: float | None
    higher_is_better: bool | None
    description: str
    note: str | None = None
    ci_low: float | None = None
    ci_high: float | None = None


# ----------------------------------------------------------------------------------------------
# Verifier input and output (``harness.backends``; also ``harness.chunking``)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyPair:
    """One (claim, evidence passage) pair to score.

    Attributes:
        claim: the statement to check, as a stand-alone sentence.
        evidence: the source passage (a transcript window or a document chunk).
        context: optional text that resolves pronouns in the claim (section title, question).
    """

    claim: str
    evidence: str
    context: str | None = None


@dataclass(frozen=True)
class PairScore:
    """A backend's judgement of one pair.

    Attributes:
        support: probability-like score in [0, 1] that the evidence supports the claim.
        contradiction: score in [0, 1] that the evidence contradicts it, ``None`` when the
            backend cannot tell contradiction from mere absence.
        features: the named signals behind the score (reported, never required).
    """

    support: float
    contradiction: float | None = None
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced, before it is written to the run directory.

    ``run_pipeline`` (and so ``harness.evaluate``) returns its subclass ``harness.pipeline.RunResult``,
    which adds ``to_pandas()`` and ``save(dir)``: they need the report stage, and a record here
    imports no stage.

    Attributes:
        signature: input hashes, resolved config, package and model versions.
        transcript: the parsed transcript.
        summary: the parsed summary.
        unit_verdicts: per-unit verdicts (empty when alignment did not run).
        flags: error flags.
        metrics: named metrics.
        timings_s: wall time of each stage in seconds.
        extra: further report sections keyed by name (JSON-serialisable).
        coverage: the ``harness.coverage.CoverageResult`` when coverage ran (for the timeline).
        config: the resolved run config (plain containers) the run was made with; the report
            records it in ``report.json``.
        quote_matches: the ``QuoteMatch`` of each ``quote`` unit, by unit id.
    """

    signature: Mapping[str, Any]
    transcript: Transcript
    summary: Summary
    unit_verdicts: tuple[UnitVerdict, ...] = ()
    flags: tuple[Flag, ...] = ()
    metrics: tuple[MetricResult, ...] = ()
    timings_s: Mapping[str, float] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    coverage: Any | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    quote_matches: Mapping[str, QuoteMatch] = field(default_factory=dict)

    @property
    def units(self) -> tuple[UnitResult, ...]:
        """Every summary unit with its verdict (``None`` when alignment did not run) and flags."""
        verdicts = {v.unit_id: v for v in self.unit_verdicts}
        return tuple(
            UnitResult(
                unit=u,
                verdict=verdicts.get(u.unit_id),
                flags=tuple(f for f in self.flags if f.unit_id == u.unit_id),
            )
            for u in self.summary.units
        )

    @property
    def metric_values(self) -> dict[str, float | None]:
        """``{metric name: value}``, e.g. ``result.metric_values["consistency.score"]``."""
        return {m.name: m.value for m in self.metrics}


@dataclass(frozen=True)
class UnitResult:
    """One summary unit of a run, as ``RunResult.units`` gives it.

    Attributes:
        unit: the parsed unit (text, kind, section, line, boilerplate).
        verdict: its verdict with the claims and their evidence (``None`` when alignment did not
            run).
        flags: the flags raised on this unit.
    """

    unit: SummaryUnit
    verdict: UnitVerdict | None
    flags: tuple[Flag, ...] = ()


def asdict_flag(flag: Flag) -> dict[str, Any]:
    """A flag as the JSON record ``report.json`` holds."""
    from dataclasses import asdict

    return asdict(flag)
