"""The typed config of the align and coverage stages (``align`` and ``coverage`` config groups),
validated when built.

They live below both stages because the ``Episode`` (``harness.episode``), built before either
runs, reads them too: the windows and the disk cache from ``AlignConfig``, the sentences and
the chapters from ``CoverageConfig``. ``harness.align`` and ``harness.coverage`` import them
from here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from harness.errors import ConfigError
from harness.segmentation import SegmentationConfig

# ----------------------------------------------------------------------------------------------
# align
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowConfig:
    """How the transcript is cut into retrieval windows (``align.window``).

    Attributes:
        size_turns: turns (or pieces of a long turn) per window.
        stride_turns: turns between the starts of consecutive windows.
        max_words: hard cap on a window's words; longer turns are cut at sentence ends.
        break_at_chapters: windows never span two chapters.
        break_at_sponsors: windows never mix sponsor-read text with conversation.
    """

    size_turns: int
    stride_turns: int
    max_words: int
    break_at_chapters: bool = True
    break_at_sponsors: bool = True


@dataclass(frozen=True)
class RetrievalConfig:
    """Hybrid retrieval settings (``align.retrieval``).

    Attributes:
        top_k: windows verified per claim.
        fusion: ``weighted`` (sum of min-max normalised scores) or ``rrf`` (reciprocal rank).
        bm25_weight: weight of the lexical score in the fusion.
        dense_weight: weight of the MiniLM cosine in the fusion.
        rrf_k: the constant of reciprocal-rank fusion.
        query_with_context: append the claim's context (section, question) to the query.
        encode_batch_size: texts per encoder batch.
    """

    top_k: int
    fusion: str
    bm25_weight: float
    dense_weight: float
    rrf_k: int = 60
    query_with_context: bool = False
    encode_batch_size: int = 64


@dataclass(frozen=True)
class Thresholds:
    """Score thresholds that turn verifier scores into labels (``align.thresholds``)."""

    supported: float
    partial: float
    contradicted: float


@dataclass(frozen=True)
class EvidenceConfig:
    """What evidence is kept per claim (``align.evidence``).

    Attributes:
        max_items: passages per claim, best first, from distinct windows.
        quote_max_words: longest quote, in words.
        quote_max_sentences: most consecutive sentences in one quote.
    """

    max_items: int
    quote_max_words: int
    quote_max_sentences: int


@dataclass(frozen=True)
class AlignConfig:
    """The ``align`` config group (``configs/align/default.yaml``), validated.

    Attributes:
        window: windowing.
        retrieval: retrieval and fusion.
        thresholds: label thresholds.
        evidence: evidence selection.
        cache_dir: where window embeddings are cached; ``None`` means ``$HARNESS_CACHE_DIR``,
            else ``~/.cache/harness``.
        use_cache: read and write the embedding cache.
    """

    window: WindowConfig
    retrieval: RetrievalConfig
    thresholds: Thresholds
    evidence: EvidenceConfig
    cache_dir: str | None = None
    use_cache: bool = True

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | AlignConfig) -> AlignConfig:
        """Build from a config mapping (plain dict or ``DictConfig``).

        Raises:
            ConfigError: a key is missing or a value is out of range, naming the key.
        """
        if isinstance(cfg, AlignConfig):
            return cfg
        try:
            window = WindowConfig(**_section(cfg, "window"))
            retrieval = RetrievalConfig(**_section(cfg, "retrieval"))
            thresholds = Thresholds(**_section(cfg, "thresholds"))
            evidence = EvidenceConfig(**_section(cfg, "evidence"))
        except TypeError as exc:
            raise ConfigError(f"align: {exc}") from None
        built = cls(
            window=window,
            retrieval=retrieval,
            thresholds=thresholds,
            evidence=evidence,
            cache_dir=cfg.get("cache_dir"),
            use_cache=bool(cfg.get("use_cache", True)),
        )
        built.validate()
        return built

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first out-of-range value."""
        w, r, t, e = self.window, self.retrieval, self.thresholds, self.evidence
        checks = [
            (w.size_turns >= 1, "align.window.size_turns must be >= 1"),
            (1 <= w.stride_turns, "align.window.stride_turns must be >= 1"),
            (w.max_words >= 1, "align.window.max_words must be >= 1"),
            (r.top_k >= 1, "align.retrieval.top_k must be >= 1"),
            (
                r.fusion in ("weighted", "rrf"),
                f"align.retrieval.fusion must be 'weighted' or 'rrf', not {r.fusion!r}",
            ),
            (r.bm25_weight >= 0 and r.dense_weight >= 0, "align.retrieval weights must be >= 0"),
            (r.bm25_weight + r.dense_weight > 0, "align.retrieval: bm25_weight + dense_weight must be > 0"),
            (0 <= t.partial <= t.supported <= 1, "align.thresholds: need 0 <= partial <= supported <= 1"),
            (0 <= t.contradicted <= 1, "align.thresholds.contradicted must be in [0, 1]"),
            (
                e.max_items >= 1 and e.quote_max_words >= 1 and e.quote_max_sentences >= 1,
                "align.evidence values must be >= 1",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def window_key(self) -> str:
        """The window settings as a stable string (part of the embedding cache key)."""
        return json.dumps(asdict(self.window), sort_keys=True)


def _section(cfg: Mapping[str, Any], key: str) -> dict[str, Any]:
    if key not in cfg or cfg[key] is None:
        raise ConfigError(f"align: missing config section {key!r}")
    return dict(cfg[key])


# ----------------------------------------------------------------------------------------------
# coverage
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPointConfig:
    """How key points are chosen (``coverage.key_points``); see ``configs/coverage/default.yaml``."""

    min_words: int = 8
    exclude_questions: bool = True
    per_minute: float = 0.5
    min_per_chapter: int = 1
    max_per_chapter: int = 6
    centrality: str = "centroid"
    center: bool = True
    degree_threshold: float = 0.35
    dedup_threshold: float = 0.8


@dataclass(frozen=True)
class CoverageConfig:
    """The ``coverage`` config group, validated. Field meanings: ``configs/coverage/default.yaml``."""

    segmentation: str = "chapters"
    auto_segmentation: SegmentationConfig = field(default_factory=SegmentationConfig)
    max_sentence_words: int = 80
    key_points: KeyPointConfig = field(default_factory=KeyPointConfig)
    match_threshold: float = 0.5
    exclude_contradicted: bool = True
    evidence_weight: float = 0.5
    evidence_full_claims: float = 2.0
    full_threshold: float = 0.6
    partial_threshold: float = 0.1
    max_sponsor_share: float = 0.8
    redundancy_threshold: float = 0.8
    redundancy_same_unit: bool = False
    max_pairs_reported: int = 50
    cache_dir: str | None = None
    use_cache: bool = True

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | "CoverageConfig" | None) -> "CoverageConfig":
        """Build from a mapping (plain dict or ``DictConfig``); ``None`` gives the defaults. A
        ``lexical`` key (the same group's lexical settings) is ignored here.

        Raises:
            ConfigError: an unknown key or an out-of-range value, naming it.
        """
        if isinstance(cfg, CoverageConfig):
            return cfg
        data = dict(cfg or {})
        data.pop("lexical", None)  # the same config group's lexical settings (harness/lexical.py)
        try:
            kp = KeyPointConfig(**dict(data.pop("key_points", None) or {}))
            seg = SegmentationConfig.from_mapping(data.pop("auto_segmentation", None))
            built = cls(key_points=kp, auto_segmentation=seg, **data)
        except TypeError as exc:
            raise ConfigError(f"coverage: {exc}") from None
        built.validate()
        return built

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first out-of-range value."""
        k = self.key_points
        checks = [
            (self.segmentation in ("chapters", "auto"), f"coverage.segmentation must be 'chapters' or 'auto', not {self.segmentation!r}"),
            (self.max_sentence_words >= 5, "coverage.max_sentence_words must be >= 5"),
            (k.min_words >= 1, "coverage.key_points.min_words must be >= 1"),
            (k.per_minute > 0, "coverage.key_points.per_minute must be > 0"),
            (1 <= k.min_per_chapter <= k.max_per_chapter, "coverage.key_points: need 1 <= min_per_chapter <= max_per_chapter"),
            (k.centrality in ("centroid", "degree"), f"coverage.key_points.centrality must be 'centroid' or 'degree', not {k.centrality!r}"),
            (-1 <= k.degree_threshold <= 1 and -1 <= k.dedup_threshold <= 1, "coverage.key_points thresholds must be cosines in [-1, 1]"),
            (-1 <= self.match_threshold <= 1, "coverage.match_threshold must be a cosine in [-1, 1]"),
            (0 <= self.evidence_weight <= 1, "coverage.evidence_weight must be in [0, 1]"),
            (self.evidence_full_claims > 0, "coverage.evidence_full_claims must be > 0"),
            (0 <= self.partial_threshold <= self.full_threshold <= 1, "coverage: need 0 <= partial_threshold <= full_threshold <= 1"),
            (0 < self.max_sponsor_share <= 1, "coverage.max_sponsor_share must be in (0, 1]"),
            (-1 <= self.redundancy_threshold <= 1, "coverage.redundancy_threshold must be a cosine in [-1, 1]"),
            (self.max_pairs_reported >= 0, "coverage.max_pairs_reported must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def key(self) -> str:
        """The settings as a stable string (part of in-process cache keys)."""
        return json.dumps(asdict(self), sort_keys=True, default=str)
