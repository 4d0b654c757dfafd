"""The ``cascade`` verifier: the offline verifier decides what it is sure of, the judge the rest.

Every pair is scored by the ``offline`` backend first (lexical and MiniLM features, fast). A
claim is then decided by the offline tier when one of its windows meets a rule from
``configs/model/cascade.yaml`` (``rules``), and by the LLM judge (``gguf`` by default, or
``llm``) otherwise:

* **supported**: a window says nearly the same words: MiniLM cosine and the share of the claim's
  content words found in the window's best sentences both very high, every name and number of
  the claim in the window, no number conflict and no negation mismatch.
* **contradicted**: a window that says nearly the same thing (high cosine and content overlap)
  has a number that disagrees with the claim's (``number_conflict``).

A claim decided by the offline tier gets, on every one of its windows, support 1 (supported:
on the deciding window, 0 on the others) or contradiction 1 and support 0 (contradicted; on
all its windows, so the label does not depend on which window ranks first), with the feature
``cascade_tier`` = 0 and the offline features under ``offline.``. A judged claim carries the
judge's own scores and ``cascade_tier`` = 1. ``describe()`` (the run signature's
``models.verifier``) counts the claims each tier decided.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from harness.backends.base import VERIFIERS, PairScore, VerifyPair, claim_groups
from harness.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CascadeRules:
    """When the offline tier decides (``rules`` in ``configs/model/cascade.yaml``)."""

    supported_min_cosine: float
    supported_min_content: float
    contradicted_min_cosine: float
    contradicted_min_content: float
    contradicted_min_number_conflict: float

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> CascadeRules:
        try:
            s, c = cfg["supported"], cfg["contradicted"]
            return cls(
                supported_min_cosine=float(s["min_cosine"]),
                supported_min_content=float(s["min_content_precision_local"]),
                contradicted_min_cosine=float(c["min_cosine"]),
                contradicted_min_content=float(c["min_content_precision_local"]),
                contradicted_min_number_conflict=float(c["min_number_conflict"]),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"model (cascade): rules need supported/contradicted thresholds ({exc})") from exc

    def decide(self, features: Mapping[str, float]) -> str | None:
        """``supported``, ``contradicted`` or ``None`` (leave it to the judge) for one pair."""
        cosine = float(features.get("cosine_max", 0.0))
        content = float(features.get("content_precision_local", 0.0))
        conflict = float(features.get("number_conflict", 0.0))
        if (
            cosine >= self.supported_min_cosine
            and content >= self.supported_min_content
            and float(features.get("entity_precision", 0.0)) >= 1.0
            and float(features.get("number_precision", 0.0)) >= 1.0
            and conflict == 0.0
            and float(features.get("negation_mismatch", 0.0)) == 0.0
        ):
            return "supported"
        if (
            cosine >= self.contradicted_min_cosine
            and content >= self.contradicted_min_content
            and conflict >= self.contradicted_min_number_conflict
        ):
            return "contradicted"
        return None


@VERIFIERS.register("cascade")
class CascadeVerifier:
    """Offline tier for the sure cases, LLM judge for the rest (``configs/model/cascade.yaml``).

    Args:
        cfg: the ``model`` block: ``offline`` (an offline backend config), ``judge`` (a gguf or
            llm backend config) and ``rules``.
        offline: a ready offline verifier (tests); built from ``cfg.offline`` when ``None``.
        judge: a ready judge verifier (tests); built from ``cfg.judge`` when ``None``.
    """

    name = "cascade"
    CONFIG_KEYS = frozenset({"name", "offline", "judge", "rules", "thresholds", "chunking"})

    def __init__(self, cfg: Mapping[str, Any], *, offline: Any | None = None, judge: Any | None = None) -> None:
        from harness.backends import build_verifier

        cfg = dict(cfg)
        unknown = set(cfg) - self.CONFIG_KEYS
        if unknown:
            raise ConfigError(f"model (cascade): unknown key(s) {sorted(unknown)}")
        self.rules = CascadeRules.from_mapping(cfg.get("rules") or {})
        if offline is None:
            offline = build_verifier({**dict(cfg.get("offline") or {}), "name": "offline"})
        if judge is None:
            judge_cfg = dict(cfg.get("judge") or {})
            if judge_cfg.get("name") not in ("gguf", "llm"):
                raise ConfigError("model (cascade): model.judge.name must be gguf or llm")
            judge = build_verifier(judge_cfg)
        self.offline = offline
        self.judge = judge
        self.claims_by_tier = {"offline_supported": 0, "offline_contradicted": 0, "judge": 0}

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """Offline scores for every pair, then the judge for the claims no rule decided."""
        offline_scores = list(self.offline.score(pairs))
        groups = claim_groups(pairs)
        results: list[PairScore | None] = [None] * len(pairs)
        to_judge: list[int] = []
        for group in groups:
            decisions = [(i, self.rules.decide(offline_scores[i].features)) for i in group]
            supported = next((i for i, d in decisions if d == "supported"), None)
            contradicted = next((i for i, d in decisions if d == "contradicted"), None)
            if supported is not None:
                self.claims_by_tier["offline_supported"] += 1
                for i in group:
                    results[i] = self._offline_score(offline_scores[i], float(i == supported), 0.0, i == supported)
            elif contradicted is not None:
                self.claims_by_tier["offline_contradicted"] += 1
                for i in group:
                    results[i] = self._offline_score(offline_scores[i], 0.0, 1.0, i == contradicted)
            else:
                self.claims_by_tier["judge"] += 1
                to_judge.extend(group)
        log.info(
            "cascade: %d claims decided offline (%d supported, %d contradicted), %d go to the judge",
            self.claims_by_tier["offline_supported"] + self.claims_by_tier["offline_contradicted"],
            self.claims_by_tier["offline_supported"], self.claims_by_tier["offline_contradicted"],
            len(groups) - self.claims_by_tier["offline_supported"] - self.claims_by_tier["offline_contradicted"],
        )
        if to_judge:
            judged = self.judge.score([pairs[i] for i in to_judge])
            for i, score in zip(to_judge, judged, strict=True):
                results[i] = PairScore(score.support, score.contradiction, {**score.features, "cascade_tier": 1.0})
        return [r for r in results if r is not None]

    @staticmethod
    def _offline_score(score: PairScore, support: float, contradiction: float, deciding: bool) -> PairScore:
        features = {f"offline.{k}": float(v) for k, v in score.features.items()}
        features.update({"cascade_tier": 0.0, "cascade_deciding_window": float(deciding),
                         "offline.support": float(score.support)})
        return PairScore(support=support, contradiction=contradiction, features=features)

    def describe(self) -> Mapping[str, Any]:
        return {
            "name": self.name,
            "claims_by_tier": dict(self.claims_by_tier),
            "offline": dict(self.offline.describe()),
            "judge": dict(self.judge.describe()),
        }
