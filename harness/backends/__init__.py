"""Verifier backends behind the ``Verifier`` protocol, selected by the ``model`` config group.

``build_verifier(cfg.model)`` imports the backend modules on first use (so importing
``harness`` loads no model and no heavy package) and builds the one named by ``model.name``.
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from harness.backends.base import VERIFIERS, PairScore, Verifier, VerifyPair
from harness.errors import ConfigError

__all__ = ["VERIFIERS", "PairScore", "Verifier", "VerifyPair", "build_verifier", "BACKEND_MODULES"]

BACKEND_MODULES = (
    "harness.backends.offline",
    "harness.backends.hf_nli",
    "harness.backends.trained",
    "harness.backends.llm",
    "harness.backends.gguf",
    "harness.backends.cascade",
)
"""Modules that register verifier backends when imported."""


def _load_backends() -> dict[str, str]:
    """Import the backend modules; returns those that failed to import, with the reason.

    A module that cannot be imported only matters when its backend is asked for, so the
    failure is reported by ``build_verifier`` with the unknown name, not raised here.
    """
    failed: dict[str, str] = {}
    for module in BACKEND_MODULES:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            failed[module] = str(exc)
    return failed


def build_verifier(model_cfg: Mapping[str, Any] | Any) -> Verifier:
    """Build the verifier that ``model_cfg.name`` names, from the rest of ``model_cfg``.

    Args:
        model_cfg: the ``model`` config block (a mapping or an OmegaConf ``DictConfig``).

    Raises:
        ConfigError: no ``name``, or a name no backend is registered under.
        BackendUnavailableError: the backend cannot run here (missing package, weights or path).
    """
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(model_cfg):
            model_cfg = OmegaConf.to_container(model_cfg, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf ships with hydra
        pass
    if not isinstance(model_cfg, Mapping):
        raise ConfigError(f"model: expected a mapping, got {type(model_cfg).__name__}")
    name = model_cfg.get("name")
    if not name:
        raise ConfigError("model.name is missing (for example model=offline)")
    failed = _load_backends()
    if str(name) not in VERIFIERS and failed:
        reasons = "; ".join(f"{m}: {why}" for m, why in sorted(failed.items()))
        known = ", ".join(VERIFIERS.names()) or "none"
        raise ConfigError(f"unknown verifier backend {name!r} (known: {known}; failed to import: {reasons})")
    factory = VERIFIERS.get(str(name))
    return factory(dict(model_cfg))
