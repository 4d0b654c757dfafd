"""The ``llm`` verifier: the LLM judge behind any OpenAI-compatible chat endpoint.

For users who run a model server (llama-server / xllamacpp, vLLM, Ollama, a hosted API). The
prompt, the one-token answer graded by its logprobs, the top-1-window-first order and the
on-disk verdict cache are those of the in-process ``gguf`` backend (:mod:`harness.backends.judge`);
this module only sends the requests:

* ``temperature`` 0 and a fixed ``seed`` in every request, ``cache_prompt`` for llama-server's
  prefix cache and a GBNF ``grammar`` for the answer (servers that do not know them ignore them).
* The model name is checked once against ``GET /models``: a name the server does not serve is a
  :class:`~harness.errors.ConfigError` naming the models it does serve (``check_model: false``
  skips it; a server without ``/models`` is not checked).
* Retries (with backoff) after a timeout, a refused connection, HTTP 408/409/429 or 5xx. After a
  timeout the server may still be busy with the abandoned request (llama-server has one slot by
  default), so the retry waits until ``GET /slots`` shows no slot processing (up to
  ``busy_wait_s``), or, on a server without ``/slots``, one more ``timeout_s``.
* HTTP 400 "exceeds the available context size" is a
  :class:`~harness.backends.judge.ContextOverflowError`: the judge trims the window and retries.
* What still fails is reported at the end of the run, with every answer so far kept in the
  verdict cache (:class:`~harness.backends.judge.JudgeIncompleteError`).

The API key is read from the environment variable named by ``api_key_env`` and never written to
the run signature. Endpoint and model come from config or from ``HARNESS_LLM_BASE_URL`` /
``HARNESS_LLM_MODEL`` (see ``configs/model/llm.yaml``).
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Mapping, Sequence

from harness.backends.base import PIPELINE_KEYS, VERIFIERS, PairScore, VerifyPair
from harness.backends.judge import (
    ANSWERS,
    JUDGE_KEYS,
    SYSTEM_PROMPT,
    USER_TEMPLATE,
    ContextOverflowError,
    Judge,
    JudgeSettings,
    LLMReplyError,
    classify_answer,
    judge_messages,
)
from harness.errors import BackendUnavailableError, ConfigError

__all__ = ["ANSWERS", "SYSTEM_PROMPT", "USER_TEMPLATE", "LLMReplyError", "LLMVerifier", "classify_answer"]

log = logging.getLogger(__name__)

_OVERFLOW_MARKERS = ("exceeds the available context size", "context length", "maximum context", "too long")


def _public_url(url: str) -> str:
    """``url`` without user name, password or query string (for logs and the signature)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class HTTPEngine:
    """Sends judge requests to ``{base_url}/chat/completions``."""

    def __init__(self, base_url: str, model: str, api_key_env: str, timeout_s: float, max_retries: int,
                 busy_wait_s: float, check_model: bool) -> None:
        self.base_url = base_url
        self.endpoint = base_url + "/chat/completions"
        self.model = model
        self.model_id = f"llm:{model}@{_public_url(base_url)}"
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.busy_wait_s = busy_wait_s
        self.check_model = check_model
        self.checked = False
        self.served_models: list[str] | None = None
        self.served_model: str | None = None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _get_json(self, url: str, timeout: float) -> Any | None:
        """GET ``url`` as JSON; ``None`` on any error (these probes are optional)."""
        request = urllib.request.Request(url, headers=self._headers(), method="GET")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            return None

    def verify_model(self) -> None:
        """Check ``model`` against ``GET /models`` once (see the module docstring)."""
        if self.checked or not self.check_model:
            return
        self.checked = True
        listing = self._get_json(self.base_url + "/models", min(self.timeout_s, 10.0))
        data = listing.get("data") if isinstance(listing, Mapping) else None
        if not isinstance(data, list):
            log.info("llm endpoint %s has no /models list; model name %r not checked", _public_url(self.base_url), self.model)
            return
        ids = [str(m.get("id")) for m in data if isinstance(m, Mapping) and m.get("id")]
        self.served_models = ids
        if ids and self.model not in ids:
            raise ConfigError(
                f"model.model {self.model!r} is not served by {_public_url(self.base_url)} "
                f"(it serves: {', '.join(ids)}); set model.model to one of them, or model.check_model=false"
            )

    def wait_until_idle(self) -> None:
        """After a timeout: wait while the server's slots still process the abandoned request."""
        root = self.base_url[: -len("/v1")] if self.base_url.endswith("/v1") else self.base_url
        deadline = time.monotonic() + self.busy_wait_s
        delay = 1.0
        while time.monotonic() < deadline:
            slots = self._get_json(root + "/slots", 5.0)
            if not isinstance(slots, list):
                time.sleep(min(self.timeout_s, max(0.0, deadline - time.monotonic())))
                return
            if not any(isinstance(s, Mapping) and s.get("is_processing") for s in slots):
                return
            log.info("llm endpoint %s: a slot is still busy; waiting %.0f s", _public_url(root), delay)
            time.sleep(delay)
            delay = min(delay * 2, 15.0)

    def complete(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        self.verify_model()
        data = json.dumps({"model": self.model, **body}).encode("utf-8")
        where = _public_url(self.endpoint)
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
            request = urllib.request.Request(self.endpoint, data=data, headers=self._headers(), method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    raw = response.read()
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:300].decode("utf-8", "replace").strip()
                last = f"HTTP {exc.code} {detail}".strip()
                if exc.code == 400 and any(m in detail.lower() for m in _OVERFLOW_MARKERS):
                    raise ContextOverflowError(f"llm endpoint {where}: {last}") from exc
                if exc.code in (408, 409, 429) or exc.code >= 500:
                    log.warning("llm endpoint %s: %s (attempt %d)", where, last, attempt + 1)
                    continue
                break
            except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = str(reason)
                log.warning("llm endpoint %s: %s (attempt %d)", where, last, attempt + 1)
                if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError) or "timed out" in last:
                    self.wait_until_idle()
                continue
            try:
                reply = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise LLMReplyError(f"llm endpoint {where}: reply is not JSON ({exc})") from exc
            if self.served_model is None and isinstance(reply, Mapping) and isinstance(reply.get("model"), str):
                self.served_model = reply["model"]
            return reply
        raise BackendUnavailableError(f"llm endpoint {where}: {last or 'no reply'}")


@VERIFIERS.register("llm")
class LLMVerifier:
    """LLM-judge verifier over an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        cfg: the ``model`` config block (``configs/model/llm.yaml``).

    Raises:
        BackendUnavailableError: no endpoint URL or no model name configured.
        ConfigError: an unknown key or an invalid value.
    """

    name = "llm"

    CONFIG_KEYS = JUDGE_KEYS | frozenset(
        {"name", "base_url", "model", "api_key_env", "timeout_s", "max_retries", "busy_wait_s", "check_model",
         "thresholds", "chunking"}
    )

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        cfg = dict(cfg)
        unknown = set(cfg) - self.CONFIG_KEYS - PIPELINE_KEYS
        if unknown:
            raise ConfigError(f"model (llm): unknown key(s) {sorted(unknown)}")
        base_url = cfg.get("base_url") or os.environ.get("HARNESS_LLM_BASE_URL")
        model = cfg.get("model") or os.environ.get("HARNESS_LLM_MODEL")
        if not base_url:
            raise BackendUnavailableError(
                "the llm backend has no endpoint: set model.base_url (or HARNESS_LLM_BASE_URL) to an "
                "OpenAI-compatible URL such as http://127.0.0.1:8080/v1"
            )
        if not model:
            raise BackendUnavailableError("the llm backend has no model name: set model.model (or HARNESS_LLM_MODEL)")
        scheme = urllib.parse.urlsplit(str(base_url)).scheme
        if scheme not in ("http", "https"):
            raise ConfigError(f"model.base_url {base_url!r}: expected an http:// or https:// URL")
        timeout_s = float(cfg.get("timeout_s", 120))
        max_retries = int(cfg.get("max_retries", 2))
        busy_wait_s = float(cfg.get("busy_wait_s", 300))
        if timeout_s <= 0 or max_retries < 0 or busy_wait_s < 0:
            raise ConfigError("model (llm): timeout_s must be > 0, max_retries and busy_wait_s >= 0")
        self.settings = JudgeSettings.from_mapping(cfg)
        self.engine = HTTPEngine(
            str(base_url).rstrip("/"), str(model), str(cfg.get("api_key_env") or "HARNESS_LLM_API_KEY"),
            timeout_s, max_retries, busy_wait_s, bool(cfg.get("check_model", True)),
        )
        self.base_url = self.engine.base_url
        self.endpoint = self.engine.endpoint
        self.model = self.engine.model
        self.judge = Judge(self.engine, self.settings, self.name)

    def messages(self, pair: VerifyPair) -> list[dict[str, str]]:
        """The chat messages for one pair."""
        return judge_messages(pair, self.settings.use_context, self.settings.few_shot)

    def request_body(self, pair: VerifyPair) -> dict[str, Any]:
        """The JSON body sent to ``/chat/completions`` for one pair."""
        return {"model": self.model, **self.judge.request_body(pair)}

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """One ``PairScore`` per pair: ``support`` = p_supported, ``contradiction`` = p_contradicted."""
        return self.judge.score(pairs)

    def describe(self) -> Mapping[str, Any]:
        return {
            "name": self.name,
            "endpoint": _public_url(self.endpoint),
            "model": self.model,
            "served_model": self.engine.served_model,
            **self.judge.describe(),
        }
