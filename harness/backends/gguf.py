"""The ``gguf`` verifier: an LLM judge that runs in-process through llama.cpp (``xllamacpp``).

No server to start: the model file is loaded once per process (``load_gguf_server``) and every
(claim, window) pair is one in-process chat completion with the shared judge prompt, a grammar
that allows only ``supported | contradicted | unsupported``, one generated token and its
``top_logprobs`` (see :mod:`harness.backends.judge` for the prompt, the grading, the window
order and the on-disk verdict cache).

The model: ``model.path=FILE.gguf``, or ``model.hf_repo`` + ``model.hf_file``, fetched once with
``huggingface_hub`` into its cache. With ``HF_HUB_OFFLINE=1`` only a file already in the cache is
used; anything else is refused with :class:`~harness.errors.BackendUnavailableError`.

``xllamacpp`` (MIT, prebuilt CPU wheels) is the optional extra ``judge``:
``pip install -e ".[judge]"``. It is imported only when this backend is built.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.backends.base import VERIFIERS, PairScore, VerifyPair
from harness.backends.judge import JUDGE_KEYS, ContextOverflowError, Judge, JudgeSettings, LLMReplyError, env_flag
from harness.errors import BackendUnavailableError, ConfigError

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
EXTRA_HINT = 'the gguf backend needs the optional extra "judge": pip install -e ".[judge]" (installs xllamacpp)'


def _import_xllamacpp() -> Any:
    try:
        import xllamacpp
    except ImportError as exc:
        raise BackendUnavailableError(f"{EXTRA_HINT} ({exc})") from exc
    return xllamacpp


def resolve_model_file(cfg: Mapping[str, Any]) -> Path:
    """The GGUF file named by ``path``, or by ``hf_repo``/``hf_file`` through the Hugging Face cache.

    Raises:
        ConfigError: neither or both of ``path`` and ``hf_repo`` are set, or ``hf_file`` is missing.
        BackendUnavailableError: the file is missing or not GGUF; offline and not in the cache.
    """
    path, repo, filename = cfg.get("path"), cfg.get("hf_repo"), cfg.get("hf_file")
    if bool(path) == bool(repo):
        raise ConfigError("model (gguf): set exactly one of model.path=FILE.gguf or model.hf_repo (+ model.hf_file)")
    if repo:
        if not filename:
            raise ConfigError("model (gguf): model.hf_repo needs model.hf_file (the .gguf file in the repository)")
        file = _hf_download(str(repo), str(filename), cfg.get("hf_revision"), cfg.get("hf_cache_dir"))
    else:
        file = Path(os.path.expanduser(str(path)))
    if not file.is_file():
        raise BackendUnavailableError(f"{file}: GGUF model file not found (model.path)")
    with file.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise BackendUnavailableError(f"{file}: not a GGUF file (no GGUF magic at its start)")
    return file


def _hf_download(repo: str, filename: str, revision: str | None, cache_dir: str | None) -> Path:
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - a dependency of transformers
        raise BackendUnavailableError(f"model.hf_repo needs huggingface_hub ({exc})") from exc
    offline = env_flag("HF_HUB_OFFLINE")
    try:
        return Path(
            hf_hub_download(repo, filename, revision=revision, cache_dir=cache_dir, local_files_only=offline)
        )
    except LocalEntryNotFoundError as exc:
        if offline:
            raise BackendUnavailableError(
                f"{repo}/{filename} is not in the Hugging Face cache and HF_HUB_OFFLINE=1 forbids fetching it: "
                "unset HF_HUB_OFFLINE once to download it, or pass model.path=FILE.gguf"
            ) from exc
        raise BackendUnavailableError(f"{repo}/{filename}: cannot be fetched ({exc})") from exc
    except Exception as exc:  # network, 404, gated repository: all end the same way
        raise BackendUnavailableError(f"{repo}/{filename}: cannot be fetched ({type(exc).__name__}: {exc})") from exc


def model_fingerprint(file: Path) -> str:
    """``name:size:sha256(first 4 MiB)`` of a GGUF file (cheap; the header holds the metadata
    and the first tensors, so another quantisation or model gives another id)."""
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        digest.update(handle.read(4 * 2**20))
    return f"{file.name}:{file.stat().st_size}:{digest.hexdigest()[:16]}"


@functools.lru_cache(maxsize=2)
def load_gguf_server(path: str, n_ctx: int, threads: int, n_batch: int, n_gpu_layers: int, poll: int) -> Any:
    """The in-process llama.cpp server for one model and settings, loaded once per process."""
    xllamacpp = _import_xllamacpp()
    params = xllamacpp.CommonParams()
    params.model.path = path
    params.n_ctx = n_ctx
    params.n_batch = n_batch
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    # 0: threads sleep instead of spinning while they wait for work (kinder to shared cores).
    params.cpuparams.poll = poll
    params.cpuparams_batch.poll = poll
    params.n_gpu_layers = n_gpu_layers
    params.warmup = False
    params.verbosity = -1
    log.info("loading GGUF model %s (n_ctx %d, %d threads)", path, n_ctx, threads)
    try:
        return xllamacpp.Server(params)
    except Exception as exc:  # the binding raises RuntimeError / generic errors on a bad file
        raise BackendUnavailableError(f"{path}: llama.cpp could not load the model ({exc})") from exc


class GGUFEngine:
    """Runs judge requests on an in-process ``xllamacpp.Server``."""

    def __init__(self, server: Any, model_id: str) -> None:
        self.server = server
        self.model_id = model_id

    def complete(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            reply = self.server.handle_chat_completions(dict(body))
        except Exception as exc:  # the binding's errors carry the server's message
            reply = {"error": {"message": str(exc)}}
        if not isinstance(reply, Mapping):
            raise LLMReplyError(f"gguf judge: unexpected reply of type {type(reply).__name__}")
        error = reply.get("error")
        if error:
            message = str(error.get("message", error) if isinstance(error, Mapping) else error)
            if "context" in message and ("exceed" in message or "too long" in message):
                raise ContextOverflowError(f"gguf judge: {message}")
            raise LLMReplyError(f"gguf judge: {message}")
        return reply


@VERIFIERS.register("gguf")
class GGUFVerifier:
    """LLM-judge verifier on a local GGUF model (``configs/model/gguf.yaml``).

    Raises:
        BackendUnavailableError: xllamacpp is not installed, the model file is missing or not
            GGUF, or it must be fetched while offline.
        ConfigError: an unknown key or an invalid value.
    """

    name = "gguf"
    CONFIG_KEYS = JUDGE_KEYS | frozenset(
        {"name", "path", "hf_repo", "hf_file", "hf_revision", "hf_cache_dir", "n_ctx", "threads", "n_batch",
         "n_gpu_layers", "poll", "thresholds", "chunking"}
    )

    def __init__(self, cfg: Mapping[str, Any], *, engine: Any | None = None) -> None:
        cfg = dict(cfg)
        unknown = set(cfg) - self.CONFIG_KEYS
        if unknown:
            raise ConfigError(f"model (gguf): unknown key(s) {sorted(unknown)}")
        self.settings = JudgeSettings.from_mapping(cfg)
        self.n_ctx = int(cfg.get("n_ctx") or 2048)
        self.threads = int(cfg.get("threads") or min(4, os.cpu_count() or 1))
        if engine is None:
            _import_xllamacpp()  # the missing extra is named before anything else
            file = resolve_model_file(cfg)
            self.model_file: str | None = str(file)
            server = load_gguf_server(
                str(file), self.n_ctx, self.threads, int(cfg.get("n_batch") or 512), int(cfg.get("n_gpu_layers") or 0),
                int(cfg.get("poll", 50)),
            )
            engine = GGUFEngine(server, model_fingerprint(file))
        else:
            self.model_file = None
        self.engine = engine
        self.judge = Judge(engine, self.settings, self.name)

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """One ``PairScore`` per pair: ``support`` = p_supported, ``contradiction`` = p_contradicted."""
        return self.judge.score(pairs)

    def describe(self) -> Mapping[str, Any]:
        try:
            from importlib.metadata import version

            binding = f"xllamacpp {version('xllamacpp')}"
        except Exception:  # not installed (a fake engine in tests)
            binding = None
        return {
            "name": self.name,
            "model": self.engine.model_id,
            "binding": binding,
            "n_ctx": self.n_ctx,
            "threads": self.threads,
            **self.judge.describe(),
        }
