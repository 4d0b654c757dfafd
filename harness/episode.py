"""The Episode: the transcript read, split and embedded once, for every later stage.

``build_episode`` runs right after parsing and sponsor detection. It cuts the conversation into
sentences (``harness.segmentation.transcript_sentences``) and into retrieval windows
(``harness.align``), finds chapters by topic shift when the transcript has none (here and
nowhere else), and gives access to the MiniLM embeddings of sentences, windows and evidence
sentences and to the BM25 index of the windows. Alignment, coverage, lexical metrics and flag
detectors take the ``Episode`` as an argument instead of re-deriving any of it.

Embeddings are computed on first use through the one cache (``harness.cache``): a run that does
not align never embeds windows, and a second summary of the same transcript in the same process
(a Hydra multirun, repeated ``harness.evaluate`` calls, a corpus worker) gets the same
``Episode`` back from the cache, so each transcript sentence is encoded once per process.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from harness.cache import EmbeddingCache, default_cache, encoder_model_id
from harness.errors import ConfigError
from harness.stage_config import AlignConfig, CoverageConfig
from harness.types import Chapter, Transcript, Window
from harness.windows import bm25_index, build_windows_and_members

if TYPE_CHECKING:  # pragma: no cover
    from harness.segmentation import TranscriptSentence

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvidenceSentences:
    """Every sentence of every window piece, numbered once (where evidence quotes come from).

    Attributes:
        texts: the sentences' verbatim texts, one row of ``Episode.evidence_sentence_embeddings`` each.
        piece_ids: ``id(piece)`` → piece number.
        rows: (piece number, sentence index in the piece) → row.
    """

    texts: tuple[str, ...]
    piece_ids: Mapping[int, int]
    rows: Mapping[tuple[int, int], int]


@dataclass(frozen=True)
class Episode:
    """One transcript, read once: what every stage after parsing takes.

    Attributes:
        transcript: the parsed transcript, sponsor segments marked (and automatic chapters set
            when ``transcript.auto_chapters`` asked for them).
        sentences: the conversation's sentences (``TranscriptSentence``: character offsets, time,
            speaker, sponsor flag and the index of their chapter in ``chapters``).
        chapters: the chapters coverage scores: the transcript's own, or found by topic shift
            (``segmentation`` says which).
        segmentation: ``chapters`` or ``auto``.
        chapter_of: per sentence, the index of its chapter in ``chapters`` (-1 before the first).
        windows: the retrieval windows (``align.window``); empty without an align config.
        window_members: per window, the pieces it is made of (internal to alignment).
        window_key: the window settings the windows were cut with.
        sentence_words: the ``max_sentence_words`` the sentences were cut with.
        source_key: the coverage settings that shaped ``sentences`` and ``chapters`` (``None``:
            built without a coverage config, so no automatic chapters were looked for).
        encoder: the sentence encoder (``None``: the bundled MiniLM).
        cache: the embedding cache the embeddings come from.
        cache_dir: the disk cache folder (``None``: ``$HARNESS_CACHE_DIR`` or ``~/.cache/harness``).
        use_disk: read and write embeddings on disk.
        batch_size: texts per encoder batch.
    """

    transcript: Transcript
    sentences: tuple[TranscriptSentence, ...]
    chapters: tuple[Chapter, ...]
    segmentation: str
    chapter_of: np.ndarray
    windows: tuple[Window, ...]
    window_members: tuple[tuple[Any, ...], ...]
    window_key: str | None
    sentence_words: int
    source_key: str | None
    encoder: Any | None
    cache: EmbeddingCache
    cache_dir: str | None = None
    use_disk: bool = True
    batch_size: int = 64
    _lazy: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # ---- embeddings (computed once, on first use) --------------------------------------------

    @property
    def sentence_embeddings(self) -> np.ndarray:
        """``(len(sentences), dim)`` L2-normalised MiniLM rows, sponsor sentences included."""
        if "sentences" not in self._lazy:
            self._lazy["sentences"] = self.cache.embed(
                [s.text for s in self.sentences],
                kind="coverage-sentences",
                file_prefix="coverage",
                encoder=self.encoder,
                cache_dir=self.cache_dir,
                use_disk=self.use_disk,
                batch_size=self.batch_size,
            ).matrix
        return self._lazy["sentences"]

    def embed_windows(self, show_progress: bool = False) -> Any:
        """The windows' embeddings (``harness.cache.Embedded``: matrix, hit, path), once."""
        if "windows" not in self._lazy:
            self._lazy["windows"] = self.cache.embed(
                [w.text for w in self.windows],
                kind="windows",
                encoder=self.encoder,
                config_key=self.window_key,
                cache_dir=self.cache_dir,
                use_disk=self.use_disk,
                batch_size=self.batch_size,
                show_progress=show_progress,
            )
        return self._lazy["windows"]

    @property
    def evidence_sentences(self) -> EvidenceSentences:
        """The window pieces' sentences, numbered once (see ``EvidenceSentences``)."""
        if "evidence" not in self._lazy:
            piece_ids: dict[int, int] = {}
            rows: dict[tuple[int, int], int] = {}
            texts: list[str] = []
            text = self.transcript.text
            for window_pieces in self.window_members:
                for piece in window_pieces:
                    if id(piece) in piece_ids:
                        continue
                    pid = piece_ids[id(piece)] = len(piece_ids)
                    for si, (a, b) in enumerate(piece.sentences):
                        rows[(pid, si)] = len(texts)
                        texts.append(text[piece.words[a][0] : piece.words[b - 1][1]])
            self._lazy["evidence"] = EvidenceSentences(tuple(texts), piece_ids, rows)
        return self._lazy["evidence"]

    def embed_evidence_sentences(self) -> Any:
        """Embeddings of ``evidence_sentences`` (``harness.cache.Embedded``), once."""
        if "evidence_emb" not in self._lazy:
            self._lazy["evidence_emb"] = self.cache.embed(
                list(self.evidence_sentences.texts),
                kind="sentences",
                encoder=self.encoder,
                config_key=self.window_key,
                cache_dir=self.cache_dir,
                use_disk=self.use_disk,
                batch_size=self.batch_size,
            )
        return self._lazy["evidence_emb"]

    # ---- indexes -----------------------------------------------------------------------------

    @property
    def bm25(self) -> Any:
        """The BM25 index of the windows (``bm25s.BM25``; ``None`` without windows)."""
        if "bm25" not in self._lazy:
            self._lazy["bm25"] = bm25_index(self.windows)
        return self._lazy["bm25"]

    def derived(self, name: str, build: Any) -> Any:
        """A value derived from the transcript alone (a detector's index), built once per episode."""
        if name not in self._lazy:
            self._lazy[name] = build()
        return self._lazy[name]

    @property
    def content_mask(self) -> np.ndarray:
        """Per sentence: not part of a sponsor read."""
        return np.array([not s.is_sponsor for s in self.sentences], dtype=bool)


def _source_key(sentence_words: int, segmentation: str, auto_cfg: Any) -> str:
    from dataclasses import asdict

    return json.dumps({"max_sentence_words": sentence_words, "segmentation": segmentation, "auto": asdict(auto_cfg)}, sort_keys=True, default=str)


def source_key(coverage: CoverageConfig) -> str:
    """The coverage settings an Episode's sentences and chapters depend on."""
    return _source_key(coverage.max_sentence_words, coverage.segmentation, coverage.auto_segmentation)


def build_episode(
    transcript: Transcript,
    *,
    align: AlignConfig | Mapping[str, Any] | None = None,
    coverage: CoverageConfig | Mapping[str, Any] | None = None,
    score_chapters: bool = True,
    auto_chapters: bool = False,
    encoder: Any | None = None,
    cache: EmbeddingCache | None = None,
) -> Episode:
    """The ``Episode`` of ``transcript`` (sponsor segments already marked).

    Args:
        transcript: the parsed transcript.
        align: the ``align`` config: its windows settings cut the retrieval windows, its
            ``cache_dir``/``use_cache`` place the disk cache; ``None``: no windows.
        coverage: the ``coverage`` config: ``max_sentence_words`` cuts the sentences,
            ``segmentation``/``auto_segmentation`` decide the chapters coverage scores; ``None``:
            default sentences and the transcript's own chapters (no topic segmentation).
        score_chapters: find the chapters coverage scores (by topic shift when the transcript
            has none or ``segmentation: auto``); False (coverage and lexical metrics off): the
            transcript's own chapters only.
        auto_chapters: give a transcript without chapters automatic ones (``transcript.auto_chapters``);
            they then become the transcript's chapters (windows break at them, reports show them).
        encoder: a ``SentenceTransformer``-like encoder; the bundled MiniLM when ``None``.
        cache: the embedding cache; the process-wide ``default_cache()`` when ``None``. An episode
            already built from the same transcript and settings in this cache is returned as is.

    Raises:
        ConfigError: an invalid align or coverage setting.
    """
    cache = cache if cache is not None else default_cache()
    align_conf = AlignConfig.from_mapping(align) if align is not None else None
    cov_conf = CoverageConfig.from_mapping(coverage)
    wants_chapters = coverage is not None and score_chapters
    key = (
        transcript.sha256,
        transcript.path,
        transcript.format,
        transcript.video_url,
        len(transcript.text),
        tuple((c.title, c.start_s, c.end_s, c.char_start, c.char_end) for c in transcript.chapters),
        tuple((s.char_start, s.char_end, s.start_s, s.end_s) for s in transcript.sponsor_segments),
        align_conf.window_key() if align_conf else None,
        align_conf.cache_dir if align_conf else None,
        align_conf.use_cache if align_conf else None,
        source_key(cov_conf) if wants_chapters else cov_conf.max_sentence_words,
        bool(auto_chapters),
        encoder_model_id(encoder),
        id(encoder) if encoder is not None else None,
    )
    return cache.store("episodes", 4).get_or_build(
        key, functools.partial(_build, transcript, align_conf, cov_conf, wants_chapters, auto_chapters, encoder, cache)
    )


def _build(
    transcript: Transcript,
    align_conf: AlignConfig | None,
    cov_conf: CoverageConfig,
    wants_chapters: bool,
    auto_chapters: bool,
    encoder: Any | None,
    cache: EmbeddingCache,
) -> Episode:
    from harness.segmentation import auto_chapters as find_chapters
    from harness.segmentation import transcript_sentences
    from harness.readers.chapters import with_chapters

    cache_dir = align_conf.cache_dir if align_conf else cov_conf.cache_dir
    use_disk = align_conf.use_cache if align_conf else cov_conf.use_cache
    batch = align_conf.retrieval.encode_batch_size if align_conf else 64
    sentences = transcript_sentences(transcript, cov_conf.max_sentence_words)
    draft = Episode(
        transcript=transcript,
        sentences=sentences,
        chapters=transcript.chapters,
        segmentation="chapters",
        chapter_of=np.zeros(0, dtype=int),
        windows=(),
        window_members=(),
        window_key=None,
        sentence_words=cov_conf.max_sentence_words,
        source_key=source_key(cov_conf),
        encoder=encoder,
        cache=cache,
        cache_dir=cache_dir,
        use_disk=use_disk,
        batch_size=batch,
    )
    found: tuple[Chapter, ...] | None = None

    def topic_chapters() -> tuple[Chapter, ...]:
        emb = draft.sentence_embeddings
        mask = draft.content_mask
        return find_chapters(
            transcript, cov_conf.auto_segmentation, sentences=sentences, embeddings=emb[mask] if len(sentences) else emb
        )

    if auto_chapters and not transcript.chapters:
        found = topic_chapters()
        if found:
            transcript = with_chapters(transcript, found, "auto")
            log.info("automatic chapters: %d", len(found))
    if wants_chapters and (cov_conf.segmentation == "auto" or not transcript.chapters):
        chapters, segmentation = (found if found is not None else topic_chapters()), "auto"
    else:
        chapters, segmentation = transcript.chapters, "chapters"
    chapter_of = np.full(len(sentences), -1, dtype=int)
    starts = [(ch.char_start, ch.index) for ch in chapters]
    for i, s in enumerate(sentences):
        for start, index in reversed(starts):
            if start <= s.char_start:
                chapter_of[i] = index
                break
    sentences = tuple(
        replace(s, chapter_index=int(c) if c >= 0 else None) for s, c in zip(sentences, chapter_of)
    )
    windows: tuple[Window, ...] = ()
    members: tuple[tuple[Any, ...], ...] = ()
    if align_conf is not None:
        windows, members = build_windows_and_members(transcript, align_conf.window)
    episode = Episode(
        transcript=transcript,
        sentences=sentences,
        chapters=tuple(chapters),
        segmentation=segmentation,
        chapter_of=chapter_of,
        windows=windows,
        window_members=members,
        window_key=align_conf.window_key() if align_conf else None,
        sentence_words=cov_conf.max_sentence_words,
        source_key=source_key(cov_conf) if wants_chapters else None,
        encoder=encoder,
        cache=cache,
        cache_dir=cache_dir,
        use_disk=use_disk,
        batch_size=batch,
    )
    if "sentences" in draft._lazy:
        episode._lazy["sentences"] = draft._lazy["sentences"]
    return episode


def as_episode(
    source: Episode | Transcript,
    coverage: CoverageConfig | None = None,
    encoder: Any | None = None,
    *,
    align: AlignConfig | None = None,
) -> Episode:
    """The one way a stage given an ``Episode`` or a bare ``Transcript`` gets its ``Episode``:
    ``source`` itself when it is one (checked against the settings given), else the transcript's
    Episode built with them (``build_episode``, through the process-wide cache).

    Raises:
        ConfigError: an Episode whose windows (``align``) or sentences and chapters
            (``coverage``) were built with other settings.
    """
    if isinstance(source, Episode):
        if align is not None:
            require_windows(source, align)
        if coverage is not None:
            require_source(source, coverage)
        return source
    return build_episode(source, align=align, coverage=coverage, encoder=encoder)


def require_windows(episode: Episode, align: AlignConfig) -> None:
    """Raise ``ConfigError`` when ``episode``'s windows were cut with other settings than ``align``'s."""
    if episode.window_key != align.window_key():
        raise ConfigError("align: the episode's windows were built with other align.window settings")


def require_source(episode: Episode, coverage: CoverageConfig) -> None:
    """Raise ``ConfigError`` when ``episode``'s sentences and chapters were not built for ``coverage``."""
    if episode.source_key != source_key(coverage):
        raise ConfigError(
            "coverage: the episode was built without these coverage settings "
            "(build_episode(..., coverage=<the coverage config>))"
        )
