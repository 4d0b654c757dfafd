"""The ``llm`` verifier: an LLM judge behind any OpenAI-compatible chat endpoint.

For users who run a model server (llama.cpp / xllamacpp, vLLM, Ollama, a hosted API): each
(claim, evidence) pair becomes one chat request in the FActScore manner: the passage, then the
claim, then the question whether the passage supports it, answered with one word:
``supported``, ``contradicted`` or ``unsupported``.

* With ``use_logprobs: true`` and a server that returns ``top_logprobs`` for the first answer
  token, ``support`` is the probability mass on "supported" over the mass on the three answers,
  and ``contradiction`` the mass on "contradicted": graded scores, so ROC AUC and thresholds
  mean something.
* Otherwise the one-word answer gives ``support`` 1 or 0 and ``contradiction`` 1 or 0.

Nothing is guessed: an answer that is none of the three words raises :class:`LLMReplyError`
(naming the reply), and an endpoint that cannot be reached or answers with an HTTP error after
``max_retries`` retries raises :class:`BackendUnavailableError` naming the URL. The API key is
read from the environment variable named by ``api_key_env`` and never written to the run
signature. Identical requests are asked once per process.

The endpoint and model come from config or from the environment
(``HARNESS_LLM_BASE_URL``, ``HARNESS_LLM_MODEL``; see ``configs/model/llm.yaml``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Mapping, Sequence

from harness.backends.base import PIPELINE_KEYS, VERIFIERS, PairScore, VerifyPair
from harness.errors import BackendUnavailableError, ConfigError, HarnessError

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You check claims against a source passage. Judge only from the passage, not from what you "
    "know. Answer with exactly one word: supported, contradicted or unsupported."
)
USER_TEMPLATE = (
    "Passage:\n{evidence}\n\n{context}Claim: {claim}\n\n"
    "Does the passage support the claim? Answer \"supported\" if the passage states it or clearly "
    "implies it, \"contradicted\" if the passage says something incompatible with it, and "
    "\"unsupported\" if the passage does not say. Answer with one word."
)
ANSWERS = ("supported", "contradicted", "unsupported")


class LLMReplyError(HarnessError):
    """The LLM's reply is not one of the answers the prompt allows."""


def classify_answer(text: str, min_prefix: int = 4) -> str | None:
    """Map a reply (or one reply token) to ``supported``/``contradicted``/``unsupported``.

    Only the first word counts, compared lower-cased without punctuation or quotes. A prefix of
    at least ``min_prefix`` letters is enough ("supp", "contra"; a token such as "un" with
    ``min_prefix=2``); yes/true mean supported and no/false/not unsupported. ``None`` when it is
    none of them.
    """
    words = text.strip().split()
    if not words:
        return None
    word = words[0].strip(" \t\n\"'`*.,:;!()[]").lower()
    if word in ("yes", "true"):
        return "supported"
    if word in ("no", "false", "not"):
        return "unsupported"
    if len(word) < min_prefix:
        return None
    for answer in ANSWERS:
        if answer.startswith(word) or word.startswith(answer):
            return answer
    return None


def _public_url(url: str) -> str:
    """``url`` without user name, password or query string (for logs and the signature)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


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

    CONFIG_KEYS = frozenset(
        {
            "name", "base_url", "model", "api_key_env", "timeout_s", "max_retries", "temperature",
            "max_tokens", "use_logprobs", "top_logprobs", "use_context", "concurrency", "chunking",
        }
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
        self.base_url = str(base_url).rstrip("/")
        self.endpoint = self.base_url + "/chat/completions"
        self.model = str(model)
        self.api_key_env = str(cfg.get("api_key_env") or "HARNESS_LLM_API_KEY")
        self.timeout_s = float(cfg.get("timeout_s", 60))
        self.max_retries = int(cfg.get("max_retries", 2))
        self.temperature = float(cfg.get("temperature", 0.0))
        self.max_tokens = int(cfg.get("max_tokens", 4))
        self.use_logprobs = bool(cfg.get("use_logprobs", True))
        self.top_logprobs = int(cfg.get("top_logprobs", 10))
        self.use_context = bool(cfg.get("use_context", True))
        self.concurrency = int(cfg.get("concurrency", 1))
        if self.timeout_s <= 0 or self.max_retries < 0 or self.max_tokens < 1 or self.concurrency < 1:
            raise ConfigError("model (llm): timeout_s must be > 0, max_retries >= 0, max_tokens and concurrency >= 1")
        self._cache: dict[str, PairScore] = {}
        self._lock = threading.Lock()
        self._served_model: str | None = None
        self.graded = 0
        self.answered_by_text = 0

    # ---------------------------------------------------------------------------------------
    def messages(self, pair: VerifyPair) -> list[dict[str, str]]:
        """The chat messages for one pair."""
        context = f"Context: {pair.context}\n" if self.use_context and pair.context else ""
        user = USER_TEMPLATE.format(evidence=pair.evidence.strip(), context=context, claim=pair.claim.strip())
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def request_body(self, pair: VerifyPair) -> dict[str, Any]:
        """The JSON body sent to ``/chat/completions`` for one pair."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self.messages(pair),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.use_logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = self.top_logprobs
        return body

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """One request per distinct pair (``concurrency`` at a time), in order."""
        if self.concurrency == 1 or len(pairs) < 2:
            return [self._score_one(p) for p in pairs]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._score_one, pairs))

    def _score_one(self, pair: VerifyPair) -> PairScore:
        body = self.request_body(pair)
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        reply = self._post(body)
        result = self._parse(reply)
        with self._lock:
            self._cache[key] = result
        return result

    def _post(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        where = _public_url(self.endpoint)
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)))
            request = urllib.request.Request(self.endpoint, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    raw = response.read()
            except urllib.error.HTTPError as exc:
                detail = exc.read()[:200].decode("utf-8", "replace").strip()
                last = f"HTTP {exc.code} {detail}".strip()
                if exc.code in (408, 409, 429) or exc.code >= 500:
                    log.warning("llm endpoint %s: %s (attempt %d)", where, last, attempt + 1)
                    continue
                break
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                last = str(getattr(exc, "reason", exc))
                log.warning("llm endpoint %s: %s (attempt %d)", where, last, attempt + 1)
                continue
            try:
                return json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise LLMReplyError(f"llm endpoint {where}: reply is not JSON ({exc})") from exc
        raise BackendUnavailableError(f"llm endpoint {where}: {last or 'no reply'}")

    def _parse(self, reply: Mapping[str, Any]) -> PairScore:
        try:
            choice = reply["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMReplyError(f"llm endpoint {_public_url(self.endpoint)}: reply has no choices[0].message.content") from exc
        if self._served_model is None and isinstance(reply.get("model"), str):
            self._served_model = reply["model"]
        answer = classify_answer(text)
        if answer is None:
            raise LLMReplyError(
                f"llm model {self.model!r} answered {text[:80]!r}, not one of {', '.join(ANSWERS)}"
            )
        probs = self._answer_probs(choice) if self.use_logprobs else None
        features = {f"llm_{a}": float(a == answer) for a in ANSWERS}
        if probs is None:
            self.answered_by_text += 1
            features["graded"] = 0.0
            return PairScore(
                support=float(answer == "supported"),
                contradiction=float(answer == "contradicted"),
                features=features,
            )
        self.graded += 1
        features.update({f"p_{a}": p for a, p in probs.items()})
        features["graded"] = 1.0
        return PairScore(support=probs["supported"], contradiction=probs["contradicted"], features=features)

    @staticmethod
    def _answer_probs(choice: Mapping[str, Any]) -> dict[str, float] | None:
        """P(answer) from the first answer token's ``top_logprobs``, normalised over the three."""
        try:
            tokens = choice["logprobs"]["content"]
        except (KeyError, TypeError):
            return None
        for token in tokens or []:
            if not str(token.get("token", "")).strip(" \t\n\"'`*"):
                continue  # leading whitespace or a quote: the answer starts at the next token
            mass = dict.fromkeys(ANSWERS, 0.0)
            for alt in token.get("top_logprobs") or [token]:
                answer = classify_answer(str(alt.get("token", "")), min_prefix=2)
                if answer is not None and alt.get("logprob") is not None:
                    mass[answer] += math.exp(float(alt["logprob"]))
            total = sum(mass.values())
            if total <= 0:
                return None
            return {a: m / total for a, m in mass.items()}
        return None

    def describe(self) -> Mapping[str, Any]:
        prompt = hashlib.sha256((SYSTEM_PROMPT + "\n" + USER_TEMPLATE).encode("utf-8")).hexdigest()
        return {
            "name": self.name,
            "endpoint": _public_url(self.endpoint),
            "model": self.model,
            "served_model": self._served_model,
            "prompt_sha256": prompt[:16],
            "temperature": self.temperature,
            "use_logprobs": self.use_logprobs,
            "graded_pairs": self.graded,
            "text_only_pairs": self.answered_by_text,
        }
