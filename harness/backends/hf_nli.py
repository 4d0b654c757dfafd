"""The ``hf_nli`` verifier: a local NLI / fact-checking sequence-classification checkpoint.

Any ``AutoModelForSequenceClassification`` checkpoint works: a three-way NLI model
(``label_map: {entailment: 0, neutral: 1, contradiction: 2}``) or a binary fact checker
(``label_map: {supported: 1}``). The evidence is the premise and the claim the hypothesis;
``support`` is P(entailment) (or P(supported)), ``contradiction`` is P(contradiction) when the
label map has one and ``None`` otherwise.

``model.path`` is a local directory. A hub id is accepted only with ``allow_download: true``
(for users who are online); otherwise a path that does not exist is a
``BackendUnavailableError`` at build time, as is a missing ``transformers``/``torch``.
Evidence longer than ``max_length`` is cut from its end and the pair's features say
``truncated=1``; use chunk-and-max (``model.chunking``) to avoid that.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.backends.base import PIPELINE_KEYS, VERIFIERS, PairScore, VerifyPair
from harness.errors import BackendUnavailableError, ConfigError
from harness.models import package_version

log = logging.getLogger(__name__)

_SUPPORT_NAMES = ("entailment", "supported", "support", "consistent", "entails")
_CONTRADICTION_NAMES = ("contradiction", "contradicted", "refuted", "contradicts")


def _label_map_from_model(id2label: Mapping[Any, str]) -> dict[str, int]:
    """Guess ``{entailment: i, contradiction: j}`` from a checkpoint's ``id2label``."""
    found: dict[str, int] = {}
    for idx, label in id2label.items():
        low = str(label).lower()
        if any(low.startswith(n) for n in _SUPPORT_NAMES):
            found["entailment"] = int(idx)
        elif any(low.startswith(n) for n in _CONTRADICTION_NAMES):
            found["contradiction"] = int(idx)
        elif low.startswith("neutral"):
            found["neutral"] = int(idx)
    return found


@VERIFIERS.register("hf_nli")
class HFNLIVerifier:
    """NLI-checkpoint verifier; see the module docstring.

    Args:
        cfg: the ``model`` config block (``configs/model/hf_nli.yaml``).
    """

    name = "hf_nli"

    CONFIG_KEYS = frozenset(
        {"name", "path", "allow_download", "label_map", "max_length", "batch_size", "use_context", "chunking"}
    )

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        cfg = dict(cfg)
        unknown_keys = set(cfg) - self.CONFIG_KEYS - PIPELINE_KEYS
        if unknown_keys:
            raise ConfigError(f"model (hf_nli): unknown key(s) {sorted(unknown_keys)}")
        path = cfg.get("path")
        if not path:
            raise BackendUnavailableError(
                "model.path is not set: point it at a local NLI checkpoint directory (model=hf_nli model.path=/path/to/checkpoint)"
            )
        self.path = str(path)
        allow_download = bool(cfg.get("allow_download", False))
        if not Path(self.path).expanduser().is_dir() and not allow_download:
            raise BackendUnavailableError(
                f"model.path {self.path}: no such checkpoint directory (set model.allow_download=true to fetch a hub id when online)"
            )
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise BackendUnavailableError(
                "the hf_nli backend needs transformers and torch: pip install transformers torch"
            ) from exc
        if not allow_download:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        location = str(Path(self.path).expanduser()) if Path(self.path).expanduser().is_dir() else self.path
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(location, local_files_only=not allow_download)
            self._model = AutoModelForSequenceClassification.from_pretrained(
                location, local_files_only=not allow_download
            )
        except (OSError, ValueError) as exc:
            raise BackendUnavailableError(f"model.path {self.path}: cannot load the checkpoint ({exc})") from exc
        self._model.eval()
        self._torch = torch
        n_labels = int(self._model.config.num_labels)
        label_map = cfg.get("label_map") or _label_map_from_model(self._model.config.id2label)
        label_map = {str(k): int(v) for k, v in dict(label_map).items()}
        support_key = next((k for k in label_map if k.lower() in _SUPPORT_NAMES), None)
        if support_key is None:
            raise ConfigError(
                f"model.label_map {label_map} names no support label (one of {', '.join(_SUPPORT_NAMES)})"
            )
        bad = {k: v for k, v in label_map.items() if not 0 <= v < n_labels}
        if bad:
            raise ConfigError(f"model.label_map {bad}: index outside the checkpoint's {n_labels} labels")
        self.label_map = label_map
        self._support_idx = label_map[support_key]
        contra_key = next((k for k in label_map if k.lower() in _CONTRADICTION_NAMES), None)
        self._contra_idx = label_map[contra_key] if contra_key else None
        self.batch_size = int(cfg.get("batch_size", 16))
        limit = int(cfg.get("max_length", 512))
        model_limit = int(getattr(self._model.config, "max_position_embeddings", limit) or limit)
        self.max_length = min(limit, model_limit)
        self.use_context = bool(cfg.get("use_context", False))

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """P(entailment) and P(contradiction) per pair, computed in batches of ``batch_size``."""
        out: list[PairScore] = []
        for lo in range(0, len(pairs), self.batch_size):
            out.extend(self._score_batch(pairs[lo : lo + self.batch_size]))
        return out

    def _score_batch(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        torch = self._torch
        premises = [p.evidence for p in pairs]
        hypotheses = [
            f"{p.context} {p.claim}" if self.use_context and p.context else p.claim for p in pairs
        ]
        full = self._tokenizer(premises, hypotheses, truncation=False, verbose=False)["input_ids"]
        truncated = [len(ids) > self.max_length for ids in full]
        strategy = "only_first"
        if any(
            len(self._tokenizer(h, add_special_tokens=False)["input_ids"]) + 4 > self.max_length for h in hypotheses
        ):
            strategy = "longest_first"  # a hypothesis alone is too long: cut both
        enc = self._tokenizer(
            premises, hypotheses, truncation=strategy, max_length=self.max_length, padding=True, return_tensors="pt"
        )
        with torch.inference_mode():
            probs = torch.softmax(self._model(**enc).logits.float(), dim=-1).tolist()
        scores = []
        for row, cut in zip(probs, truncated):
            features = {f"p_{name}": float(row[idx]) for name, idx in self.label_map.items()}
            features["truncated"] = float(cut)
            scores.append(
                PairScore(
                    support=float(row[self._support_idx]),
                    contradiction=float(row[self._contra_idx]) if self._contra_idx is not None else None,
                    features=features,
                )
            )
        return scores

    def describe(self) -> Mapping[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "model_type": getattr(self._model.config, "model_type", None),
            "label_map": dict(self.label_map),
            "max_length": self.max_length,
            "versions": {p: package_version(p) for p in ("transformers", "torch")},
        }
