"""Typed schemas of the run config (Hydra structured configs), checked when the app starts.

One dataclass per config node, stored in Hydra's ``ConfigStore``:

- ``config_schema`` and ``meta_eval_schema`` type the primary configs: ``configs/config.yaml``
  lists ``config_schema`` first in its defaults, so every group node merged into it (``align``,
  ``flags``, ``coverage``, ``lexical``, ``report``…) is checked against its dataclass here.
- Groups whose options have different keys (``model``: one schema per backend; ``claims``: one
  per splitter) store one schema per option, ``<group>/<option>_schema``, which the option's
  YAML extends through its own defaults list (``defaults: [offline_schema, _self_]``).

A mistyped value (``align.retrieval.top_k=five``) or an unknown key (``summary.pth=x``) is then a
composition error, which ``harness.config`` turns into one ``harness: error:`` line; a key added
with ``+key=VALUE`` that no schema declares is refused there too (``unknown_keys``).

Where the values live: **the YAML files are the one place for values** (each threshold sits next
to the comment on how it was chosen); these dataclasses declare the keys and their types only,
every field ``MISSING``, so a YAML option that leaves a key out fails at start ("… is missing")
instead of running on a default written somewhere else. Types follow the YAML literals (an
integer stays an integer) so the resolved config, and with it every ``config_sha256``, is the
same as before the schemas; ``Any`` marks a node whose shape is open (per-position overrides,
fitted weights) or a number that may be an integer or a fraction. Field order is the YAML's key
order (the order of the resolved config).

``stage_config(config, "report")`` gives a stage its node as a typed dataclass instance, taking
a key the given config lacks from the group's default YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, TypeVar

from omegaconf import MISSING

from harness.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"

T = TypeVar("T")


def _required() -> Any:
    """A field without a default: its value must come from a YAML option (or an override)."""
    return field(default=MISSING)


# ----------------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------------


@dataclass
class TranscriptConfig:
    """``transcript``: the episode transcript (``configs/transcript/``)."""

    name: str = _required()
    path: str = _required()
    format: str = _required()
    chapters: Optional[str] = _required()
    auto_chapters: bool = _required()
    video_url: Optional[str] = _required()


@dataclass
class SummaryConfig:
    """``summary``: the summary page under test (``configs/summary/``)."""

    name: str = _required()
    path: str = _required()
    format: str = _required()
    split: str = _required()
    boilerplate_patterns: List[str] = _required()


@dataclass
class ReferenceConfig:
    """``reference``: an optional human reference summary (lexical.reference.* metrics)."""

    path: Optional[str] = _required()
    format: str = _required()


# ----------------------------------------------------------------------------------------------
# sponsors
# ----------------------------------------------------------------------------------------------


@dataclass
class SponsorRule:
    name: str = _required()
    kind: str = _required()
    weight: Any = _required()  # int or float
    pattern: str = _required()


@dataclass
class NamedPattern:
    name: str = _required()
    pattern: str = _required()


@dataclass
class SponsorBrands:
    cues: List[str] = _required()
    domain_pattern: str = _required()
    weight: Any = _required()
    max_words: int = _required()
    stop_words: List[str] = _required()
    code_cue: str = _required()
    code_min_chars: int = _required()


@dataclass
class SponsorCohesion:
    min_shared_words: int = _required()
    weight: Any = _required()


@dataclass
class SponsorStyle:
    min_features: int = _required()
    weight: Any = _required()
    features: List[NamedPattern] = _required()


@dataclass
class SponsorPosition:
    intro_fraction: float = _required()
    outro_fraction: float = _required()
    conversation_starts: List[str] = _required()
    # each position may set its own min_score, max_gap_sentences, require_kinds, extend_back
    intro: Dict[str, Any] = _required()
    mid_roll: Dict[str, Any] = _required()
    outro: Dict[str, Any] = _required()


@dataclass
class SponsorAnnouncement:
    max_sentences: int = _required()
    max_gap_sentences: int = _required()


@dataclass
class SponsorBridge:
    max_gap_sentences: int = _required()


@dataclass
class SponsorAccept:
    require_kinds: List[str] = _required()
    require_together: List[List[str]] = _required()


@dataclass
class SponsorSelfPromo:
    attach_adjacent: bool = _required()


@dataclass
class SponsorsConfig:
    """``sponsors``: sponsor-read detection (``harness/sponsors.py``)."""

    rules: List[SponsorRule] = _required()
    end_rules: List[str] = _required()
    clause_breaks: List[str] = _required()
    brands: SponsorBrands = _required()
    cohesion: SponsorCohesion = _required()
    style: SponsorStyle = _required()
    position: SponsorPosition = _required()
    max_gap_sentences: int = _required()
    short_sentence_words: int = _required()
    announcement: SponsorAnnouncement = _required()
    bridge: SponsorBridge = _required()
    accept: SponsorAccept = _required()
    self_promo: SponsorSelfPromo = _required()
    across_turns: bool = _required()


# ----------------------------------------------------------------------------------------------
# claims
# ----------------------------------------------------------------------------------------------


@dataclass
class SentenceClaimsConfig:
    """``claims=sentence``: one claim per sentence of a unit (``harness/claims.py``)."""

    splitter: str = _required()
    min_content_words: int = _required()
    min_claim_content_words: int = _required()


@dataclass
class ClauseClaimsConfig(SentenceClaimsConfig):
    """``claims=clause``: sentences cut further at clauses and object lists."""

    min_item_content_words: int = _required()
    split_object_lists: bool = _required()


# ----------------------------------------------------------------------------------------------
# model (verifier backends)
# ----------------------------------------------------------------------------------------------


@dataclass
class Thresholds:
    """Label thresholds on the verifier's support / contradiction scores, in [0, 1]."""

    supported: float = _required()
    partial: float = _required()
    contradicted: float = _required()


@dataclass
class ChunkingConfig:
    max_words: int = _required()
    overlap_sentences: int = _required()
    claim_aggregation: str = _required()
    min_claim_sentence_words: int = _required()


@dataclass
class OfflineFeatures:
    top_k_sentences: int = _required()
    max_evidence_sentence_words: int = _required()


@dataclass
class OfflineBertScore:
    num_layers: int = _required()


@dataclass
class OfflineContradiction:
    similarity_low: float = _required()
    similarity_high: float = _required()
    negation_min_overlap: float = _required()


@dataclass
class LogisticModel:
    intercept: float = _required()
    weights: Dict[str, float] = _required()


@dataclass
class OfflineModelConfig:
    """``model=offline``: the fitted logistic verifier (``harness/backends/offline.py``)."""

    name: str = _required()
    use_aegis: bool = _required()
    batch_pairs: int = _required()
    encode_batch_size: int = _required()
    features: OfflineFeatures = _required()
    bertscore: OfflineBertScore = _required()
    contradiction: OfflineContradiction = _required()
    chunking: ChunkingConfig = _required()
    logistic: LogisticModel = _required()
    fitted_on: List[Any] = _required()
    fit_report: Dict[str, Any] = _required()
    thresholds: Thresholds = _required()


@dataclass
class HfNliModelConfig:
    """``model=hf_nli``: a local Hugging Face NLI cross-encoder."""

    name: str = _required()
    path: Optional[str] = _required()
    allow_download: bool = _required()
    label_map: Optional[Dict[str, Any]] = _required()
    max_length: int = _required()
    batch_size: int = _required()
    use_context: bool = _required()
    chunking: ChunkingConfig = _required()


@dataclass
class JudgeModelConfig:
    """The keys the LLM judge backends share (``harness.backends.judge.JudgeSettings`` reads them,
    ``JUDGE_KEYS``), with the backend's thresholds and chunking."""

    use_context: bool = _required()
    max_windows: int = _required()
    conclusive: float = _required()
    digits: int = _required()
    top_logprobs: int = _required()
    seed: int = _required()
    cache: bool = _required()
    cache_dir: Optional[str] = _required()
    max_consecutive_failures: int = _required()
    max_trims: int = _required()
    evidence_words: int = _required()
    joint_windows: bool = _required()
    stop_at_supported: bool = _required()
    few_shot: bool = _required()
    progress_every_s: Any = _required()
    thresholds: Thresholds = _required()
    chunking: ChunkingConfig = _required()


@dataclass
class GgufModelConfig(JudgeModelConfig):
    """``model=gguf``: a local GGUF judge through llama.cpp."""

    name: str = _required()
    path: Optional[str] = _required()
    hf_repo: Optional[str] = _required()
    hf_file: Optional[str] = _required()
    hf_revision: Optional[str] = _required()
    hf_cache_dir: Optional[str] = _required()
    n_ctx: int = _required()
    n_batch: int = _required()
    threads: Optional[int] = _required()
    n_gpu_layers: int = _required()
    poll: int = _required()


@dataclass
class LlmModelConfig(JudgeModelConfig):
    """``model=llm``: an OpenAI-compatible server as judge."""

    name: str = _required()
    base_url: Optional[str] = _required()
    model: Optional[str] = _required()
    api_key_env: str = _required()
    timeout_s: Any = _required()
    max_retries: int = _required()
    busy_wait_s: Any = _required()
    check_model: bool = _required()


@dataclass
class CascadeRule:
    min_cosine: float = _required()
    min_content_precision_local: float = _required()


@dataclass
class CascadeContradictedRule(CascadeRule):
    min_number_conflict: float = _required()


@dataclass
class CascadeRules:
    supported: CascadeRule = _required()
    contradicted: CascadeContradictedRule = _required()


@dataclass
class CascadeModelConfig:
    """``model=cascade``: the offline verifier, and the GGUF judge where it is unsure."""

    # offline and judge are full backend nodes, typed by their own options' schemas
    offline: Any = _required()
    judge: Any = _required()
    name: str = _required()
    rules: CascadeRules = _required()
    thresholds: Any = _required()  # an interpolation of judge.thresholds


@dataclass
class TrainedModelConfig:
    """``model=trained``: the project's own trained cross-encoder."""

    name: str = _required()
    weights: str = _required()
    max_length: int = _required()
    batch_size: int = _required()
    threads: int = _required()
    chunking: ChunkingConfig = _required()


# ----------------------------------------------------------------------------------------------
# align, quotes, flags
# ----------------------------------------------------------------------------------------------


@dataclass
class WindowConfig:
    size_turns: int = _required()
    stride_turns: int = _required()
    max_words: int = _required()
    break_at_chapters: bool = _required()
    break_at_sponsors: bool = _required()


@dataclass
class RetrievalConfig:
    top_k: int = _required()
    fusion: str = _required()
    bm25_weight: float = _required()
    dense_weight: float = _required()
    rrf_k: int = _required()
    query_with_context: bool = _required()
    encode_batch_size: int = _required()


@dataclass
class EvidenceConfig:
    max_items: int = _required()
    quote_max_words: int = _required()
    quote_max_sentences: int = _required()


@dataclass
class AlignConfig:
    """``align``: windows, retrieval, evidence and label thresholds (``harness/align.py``)."""

    window: WindowConfig = _required()
    retrieval: RetrievalConfig = _required()
    evidence: EvidenceConfig = _required()
    cache_dir: Optional[str] = _required()
    use_cache: bool = _required()
    thresholds: Thresholds = _required()
    claim_checks: List[str] = _required()  # harness/align_checks.py


@dataclass
class QuotesConfig:
    """``quotes``: word-for-word quote matching (``harness/quotes.py``)."""

    enabled: bool = _required()
    near_min_recall: float = _required()
    near_min_precision: float = _required()
    near_full_recall: float = _required()
    near_min_precision_full_recall: float = _required()
    near_max_missing_content: int = _required()
    paraphrase_min_similarity: float = _required()
    max_ellipsis_gap_s: Any = _required()
    max_ellipsis_gap_tokens: int = _required()
    candidates: int = _required()
    window_pad_tokens: int = _required()
    max_inner_gap_tokens: int = _required()
    fillers: List[str] = _required()
    meaning_words: List[str] = _required()


@dataclass
class AdContentFlag:
    severity_insight: str = _required()
    severity_other: str = _required()
    use_embeddings: bool = _required()
    window_sentences: int = _required()
    min_sponsor_similarity: float = _required()
    min_similarity_margin: float = _required()
    min_sponsor_only_words: int = _required()
    min_sponsor_only_share: float = _required()
    embed_min_sponsor_only_words: int = _required()
    conversation_candidates: int = _required()
    evidence_conversation_margin: float = _required()


@dataclass
class BoilerplateFlag:
    severity: str = _required()
    check_content_units: bool = _required()
    max_words: int = _required()
    patterns: List[NamedPattern] = _required()


@dataclass
class MisspelledEntityFlag:
    severity: str = _required()
    entity_labels: List[str] = _required()
    min_similarity: float = _required()
    min_similarity_same_sound: float = _required()
    min_skeleton_same_sound: int = _required()
    min_similarity_with_context: float = _required()
    confident_min_occurrences: int = _required()
    transcript_spelling_severity: str = _required()
    check_boilerplate_units: bool = _required()
    garble_kinds: List[str] = _required()
    garble_min_skeleton: int = _required()
    garble_severity: str = _required()


@dataclass
class ExtrinsicEntityFlag:
    severity: str = _required()
    severity_unsupported: str = _required()
    entity_labels: List[str] = _required()


@dataclass
class ExtrinsicFactFlag:
    severity: str = _required()
    severity_unsupported: str = _required()
    skip_kinds: List[str] = _required()


@dataclass
class NumberMismatchFlag:
    severity: str = _required()
    min_evidence_score: float = _required()
    window_chars: int = _required()


@dataclass
class WrongTimestampFlag:
    tolerance_s: Any = _required()
    major_after_s: Any = _required()
    end_grace_s: Any = _required()
    severity_invalid: str = _required()
    require_supported: bool = _required()
    min_evidence_score: float = _required()
    cited_text_overlap_ratio: float = _required()


@dataclass
class MisattributionHostFraming:
    enabled: bool = _required()
    openings: List[str] = _required()
    conversation_starts: List[str] = _required()
    outros: List[str] = _required()
    intro_max_share: float = _required()
    outro_min_share: float = _required()
    min_shared_words: int = _required()
    min_shared_share: float = _required()
    severity_intro: str = _required()
    severity_outro: str = _required()


@dataclass
class MisattributionFlag:
    severity: str = _required()
    min_evidence_score: float = _required()
    same_speaker_margin: float = _required()
    question_answered_by_next_turn: bool = _required()
    verbs: List[str] = _required()
    host_framing: MisattributionHostFraming = _required()


@dataclass
class UnsupportedClaimFlag:
    severity: str = _required()
    kinds: List[str] = _required()


@dataclass
class SeverityOnlyFlag:
    severity: str = _required()


@dataclass
class MisattributedQuoteFlag:
    severity: str = _required()
    classes: List[str] = _required()


@dataclass
class FlagsConfig:
    """``flags``: which detectors run, with their thresholds and severities (``harness/flags/``)."""

    enabled: List[str] = _required()
    insight_kinds: List[str] = _required()
    attributed_kinds: List[str] = _required()
    background_kinds: List[str] = _required()
    background_max_severity: str = _required()
    ad_content: AdContentFlag = _required()
    boilerplate: BoilerplateFlag = _required()
    misspelled_entity: MisspelledEntityFlag = _required()
    extrinsic_entity: ExtrinsicEntityFlag = _required()
    extrinsic_fact: ExtrinsicFactFlag = _required()
    number_mismatch: NumberMismatchFlag = _required()
    wrong_timestamp: WrongTimestampFlag = _required()
    misattribution: MisattributionFlag = _required()
    unsupported_claim: UnsupportedClaimFlag = _required()
    contradicted_claim: SeverityOnlyFlag = _required()
    misquote: SeverityOnlyFlag = _required()
    quote_paraphrased: SeverityOnlyFlag = _required()
    misattributed_quote: MisattributedQuoteFlag = _required()


# ----------------------------------------------------------------------------------------------
# coverage, lexical, report
# ----------------------------------------------------------------------------------------------


@dataclass
class AutoSegmentationConfig:
    block_s: Any = _required()
    min_block_sentences: int = _required()
    min_chapter_s: Any = _required()
    max_chapter_s: Any = _required()
    depth_std: float = _required()
    smoothing: int = _required()
    words_per_minute: Any = _required()
    title_terms: int = _required()
    title_stop_words: List[str] = _required()


@dataclass
class KeyPointsConfig:
    min_words: int = _required()
    exclude_questions: bool = _required()
    per_minute: float = _required()
    min_per_chapter: int = _required()
    max_per_chapter: int = _required()
    centrality: str = _required()
    center: bool = _required()
    degree_threshold: float = _required()
    dedup_threshold: float = _required()


@dataclass
class CoverageConfig:
    """``coverage``: chapters, key points, coverage labels and redundancy (``harness/coverage.py``)."""

    segmentation: str = _required()
    auto_segmentation: AutoSegmentationConfig = _required()
    max_sentence_words: int = _required()
    key_points: KeyPointsConfig = _required()
    match_threshold: float = _required()
    exclude_contradicted: bool = _required()
    evidence_weight: float = _required()
    evidence_full_claims: Any = _required()
    full_threshold: float = _required()
    partial_threshold: float = _required()
    max_sponsor_share: float = _required()
    redundancy_threshold: float = _required()
    redundancy_same_unit: bool = _required()
    max_pairs_reported: int = _required()
    cache_dir: Optional[str] = _required()
    use_cache: bool = _required()


@dataclass
class LexicalConfig:
    """``lexical``: ROUGE and BERTScore against the transcript (``harness/lexical.py``)."""

    rouge_stemmer: bool = _required()
    bertscore: bool = _required()
    bertscore_max_tokens: int = _required()
    bertscore_num_layers: Optional[int] = _required()
    bertscore_model_type: Optional[str] = _required()
    bertscore_batch_size: int = _required()


@dataclass
class ReportConfig:
    """``report``: which files a run writes, and progress bars (``harness/report/writer.py``)."""

    write_markdown: bool = _required()
    write_html: bool = _required()
    progress: bool = _required()


# ----------------------------------------------------------------------------------------------
# the primary configs
# ----------------------------------------------------------------------------------------------


@dataclass
class StagesConfig:
    align: bool = _required()
    flags: bool = _required()
    timeline: bool = _required()


@dataclass
class RayConfig:
    address: Optional[str] = _required()
    num_cpus: int = _required()
    cpus_per_row: Any = _required()


@dataclass
class CorpusConfig:
    """``corpus``: corpus mode, a manifest evaluated row by row (``harness/corpus.py``)."""

    manifest: Optional[str] = _required()
    name: Optional[str] = _required()
    resume: bool = _required()
    executor: str = _required()
    ray: RayConfig = _required()
    sample: Optional[int] = _required()
    controls: List[str] = _required()
    seed: int = _required()
    bootstrap: int = _required()
    worst: int = _required()
    progress: bool = _required()


@dataclass
class RunConfig:
    """``configs/config.yaml``: one run of ``python -m harness run``. Field order is the order
    of the resolved config's keys (groups in defaults-list order, then the file's own keys)."""

    transcript: TranscriptConfig = _required()
    summary: SummaryConfig = _required()
    sponsors: SponsorsConfig = _required()
    claims: Any = _required()  # SentenceClaimsConfig or ClauseClaimsConfig, by option
    model: Any = _required()  # one backend's schema, by option
    align: AlignConfig = _required()
    quotes: QuotesConfig = _required()
    flags: FlagsConfig = _required()
    coverage: CoverageConfig = _required()
    lexical: LexicalConfig = _required()
    report: ReportConfig = _required()
    system: Optional[str] = _required()
    reference: ReferenceConfig = _required()
    stages: StagesConfig = _required()
    metrics: List[str] = _required()
    corpus: CorpusConfig = _required()
    max_input_bytes: int = _required()


@dataclass
class ConversationBenchmarkConfig:
    enabled: bool = _required()
    path: str = _required()
    splits: List[str] = _required()
    episodes: List[str] = _required()
    records: List[str] = _required()
    problem_flags: List[str] = _required()


@dataclass
class BenchmarkConfig:
    path: Any = _required()  # a path, a list of paths, or null


@dataclass
class MetaEvalConfig:
    """``configs/meta_eval.yaml``: ``python -m harness meta-eval``."""

    model: Any = _required()
    claims: Any = _required()
    align: AlignConfig = _required()
    flags: FlagsConfig = _required()
    sponsors: SponsorsConfig = _required()
    benchmark: BenchmarkConfig = _required()
    conversation: ConversationBenchmarkConfig = _required()
    out_dir: Optional[str] = _required()
    cv_folds: int = _required()
    write_scores: bool = _required()


# Group → its node's schema: the typed view ``stage_config`` returns (checked at compose through
# ``RunConfig``'s field of that name).
GROUP_SCHEMAS: dict[str, type] = {
    "transcript": TranscriptConfig,
    "summary": SummaryConfig,
    "sponsors": SponsorsConfig,
    "align": AlignConfig,
    "quotes": QuotesConfig,
    "flags": FlagsConfig,
    "coverage": CoverageConfig,
    "lexical": LexicalConfig,
    "report": ReportConfig,
}

# Groups whose options extend different schemas: group → {ConfigStore name: schema}. Each
# option's YAML lists ``<option>_schema`` first in its defaults.
OPTION_SCHEMAS: dict[str, dict[str, type]] = {
    "claims": {"sentence_schema": SentenceClaimsConfig, "clause_schema": ClauseClaimsConfig},
    "model": {
        "offline_schema": OfflineModelConfig,
        "hf_nli_schema": HfNliModelConfig,
        "gguf_schema": GgufModelConfig,
        "llm_schema": LlmModelConfig,
        "cascade_schema": CascadeModelConfig,
        "trained_schema": TrainedModelConfig,
    },
}

# Primary configs: ``configs/<name>.yaml`` lists ``<name>_schema`` first in its defaults.
PRIMARY_SCHEMAS: dict[str, type] = {"config": RunConfig, "meta_eval": MetaEvalConfig}


def register_schemas() -> None:
    """Store the schemas in Hydra's ``ConfigStore`` (idempotent: storing again replaces). Called
    by whoever composes (``harness.config.compose_config``, ``harness.cli``), not at import, so
    importing this module stays light."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    for group, options in OPTION_SCHEMAS.items():
        for name, node in options.items():
            cs.store(group=group, name=name, node=node)
    for name, node in PRIMARY_SCHEMAS.items():
        cs.store(name=f"{name}_schema", node=node)


# ----------------------------------------------------------------------------------------------
# typed nodes for the stages
# ----------------------------------------------------------------------------------------------


def group_defaults(group: str, option: str = "default") -> dict[str, Any]:
    """The values of ``configs/<group>/<option>.yaml`` (its ``defaults`` list left out)."""
    from omegaconf import OmegaConf

    path = CONFIG_DIR / group / f"{option}.yaml"
    if not path.is_file():
        raise ConfigError(f"config: {group}={option}: no such option ({path})")
    data = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    if not isinstance(data, dict):
        raise ConfigError(f"config: {path}: not a mapping of keys to values")
    data.pop("defaults", None)
    return data


def stage_config(config: Mapping[str, Any] | None, group: str, schema: type[T] | None = None) -> T:
    """The ``group`` node of a run config as its schema's dataclass, type-checked.

    Keys the config lacks (a partial config built in code or by a test) come from the group's
    ``default.yaml``, the one place its values are written; an unknown key or a wrong type is a
    ``ConfigError`` naming it.
    """
    from omegaconf import OmegaConf

    node_type = schema or GROUP_SCHEMAS[group]
    given = (config or {}).get(group)
    try:
        merged = OmegaConf.merge(OmegaConf.structured(node_type), group_defaults(group), given or {})
        return OmegaConf.to_object(merged)  # type: ignore[return-value]
    except Exception as exc:  # omegaconf raises several unrelated types
        raise ConfigError(f"config: {group}: {str(exc).splitlines()[0]}") from None

