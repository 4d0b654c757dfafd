"""The ``llm`` verifier against a fake OpenAI-compatible server on loopback (never a real model).

The prompt, grading and cache are shared with ``gguf`` (tests/test_gguf_backend.py); these tests
cover what the server adds: requests, retries, busy slots, context overflow, model names.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from harness.backends import VerifyPair, build_verifier
from harness.backends.judge import JudgeIncompleteError
from harness.backends.llm import classify_answer
from harness.errors import BackendUnavailableError, ConfigError

from conftest import compose


class FakeServer:
    """A loopback ``/v1/chat/completions`` that judges by word overlap, and records requests.

    ``reply`` overrides the answer text; ``fail_first`` HTTP-500s that many requests first;
    ``logprobs`` adds top_logprobs (P(supported) = ``p_supported``) when the request asks.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.reply: str | None = None
        self.fail_first = 0
        self.logprobs = False
        self.p_supported = 0.8
        self.models: list[str] | None = ["judge", "env-judge"]
        self.overflow_over: int | None = None
        self.sleep_first_s = 0.0
        self.busy_until = 0.0
        self.events: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, obj: Any) -> None:
                payload = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                if self.path == "/v1/models" and server.models is not None:
                    self._send(200, {"object": "list", "data": [{"id": m} for m in server.models]})
                elif self.path == "/slots":
                    busy = time.monotonic() < server.busy_until
                    server.events.append(f"slots busy={busy}")
                    self._send(200, [{"id": 0, "is_processing": busy}])
                else:
                    self.send_error(404)

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                server.events.append("post")
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                if server.sleep_first_s:
                    delay, server.sleep_first_s = server.sleep_first_s, 0.0
                    server.busy_until = time.monotonic() + delay + 1.0
                    time.sleep(delay)
                    return
                if server.fail_first > 0:
                    server.fail_first -= 1
                    self.send_error(500, "overloaded")
                    return
                user = body["messages"][-1]["content"]
                passage = re.search(r"Passage:\n(.*?)\n\n", user, re.S).group(1)
                if server.overflow_over is not None and len(passage.split()) > server.overflow_over:
                    self._send(400, {"error": {"code": 400, "type": "exceed_context_size_error",
                                               "message": "request (6105 tokens) exceeds the available context size (4096 tokens)"}})
                    return
                payload = json.dumps(server.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        user = body["messages"][-1]["content"]
        passage = re.search(r"Passage:\n(.*?)\n\n", user, re.S).group(1).lower()
        claim = re.search(r"Claim: (.*)\Z", user, re.S).group(1).strip().lower()
        words = set(re.findall(r"[a-z]+", claim))
        if self.reply is not None:
            text = self.reply
        elif " not " in f" {claim} " and " not " not in f" {passage} ":
            text = "Contradicted"
        elif words <= set(re.findall(r"[a-z]+", passage)):
            text = "supported"
        else:
            text = "unsupported."
        choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": text}}
        if self.logprobs and body.get("logprobs"):
            p = self.p_supported
            choice["logprobs"] = {
                "content": [
                    {"token": " ", "logprob": -0.01, "top_logprobs": []},
                    {
                        "token": "support",
                        "logprob": math.log(p),
                        "top_logprobs": [
                            {"token": "support", "logprob": math.log(p)},
                            {"token": "un", "logprob": math.log((1 - p) * 0.75)},
                            {"token": "contr", "logprob": math.log((1 - p) * 0.25)},
                            {"token": "The", "logprob": math.log(0.5)},  # not an answer: ignored
                        ],
                    },
                ]
            }
        return {"id": "x", "object": "chat.completion", "model": "fake-judge-1", "choices": [choice]}

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def _verifier(url: str, tmp_path: Path, **extra: Any):
    cfg = {"name": "llm", "base_url": url, "model": "judge", "max_retries": 1, "cache_dir": str(tmp_path / "cache"),
           "busy_wait_s": 10, **extra}
    return build_verifier(cfg)


EVIDENCE = "Ilya Sutskever co-founded OpenAI and worked on AlexNet with Alex Krizhevsky."


def test_one_word_answers_become_support_and_contradiction(server: FakeServer, tmp_path: Path) -> None:
    verifier = _verifier(server.url, tmp_path, max_windows=1)
    scores = verifier.score(
        [
            VerifyPair("Ilya Sutskever co-founded OpenAI.", EVIDENCE),
            VerifyPair("Ilya Sutskever founded DeepMind.", EVIDENCE),
            VerifyPair("Ilya Sutskever did not co-found OpenAI.", EVIDENCE),
        ]
    )
    assert [(s.support, s.contradiction) for s in scores] == [(1.0, 0.0), (0.0, 0.0), (0.0, 1.0)]
    assert scores[0].features["graded"] == 0.0
    assert verifier.describe()["pairs"]["text_only"] == 3


def test_request_is_the_shared_judge_prompt_at_temperature_zero(server: FakeServer, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HARNESS_LLM_API_KEY", "sk-test-123")
    verifier = _verifier(server.url, tmp_path)
    verifier.score([VerifyPair("OpenAI was co-founded by Ilya.", EVIDENCE, context="Founding OpenAI")])
    (body,) = server.requests
    assert body["model"] == "judge"
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0.0, 0, 1)
    assert body["logprobs"] is True and body["top_logprobs"] == 20 and body["cache_prompt"] is True
    assert body["grammar"] == 'root ::= "supported" | "contradicted" | "unsupported"'
    user = body["messages"][-1]["content"]
    assert user.startswith(f"Passage:\n{EVIDENCE}\n\n")
    assert "Context: Founding OpenAI\nClaim: OpenAI was co-founded by Ilya." in user
    assert body["messages"][0]["role"] == "system"
    assert server.headers[0]["Authorization"] == "Bearer sk-test-123"
    described = verifier.describe()
    assert "sk-test-123" not in json.dumps(described)
    assert described["served_model"] == "fake-judge-1"


def test_logprobs_give_a_graded_support_saved_per_pair(server: FakeServer, tmp_path: Path) -> None:
    server.logprobs = True
    server.p_supported = 0.8
    verifier = _verifier(server.url, tmp_path)
    (score,) = verifier.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    # mass over the answers only: supported 0.8, unsupported 0.15, contradicted 0.05
    assert (score.support, score.contradiction) == (0.8, 0.05)
    assert (score.features["p_supported"], score.features["p_contradicted"], score.features["p_unsupported"]) == (0.8, 0.05, 0.15)
    assert verifier.describe()["pairs"]["graded"] == 1


def test_scores_are_rounded_so_last_bit_noise_cannot_flip_a_verdict(server: FakeServer, tmp_path: Path) -> None:
    server.logprobs = True
    server.p_supported = 0.80004
    (a,) = _verifier(server.url, tmp_path, cache=False).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    server.p_supported = 0.79996
    (b,) = _verifier(server.url, tmp_path, cache=False).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    assert a.support == b.support == 0.8


def test_answers_are_cached_on_disk_across_runs(server: FakeServer, tmp_path: Path) -> None:
    pair = VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)
    first = _verifier(server.url, tmp_path).score([pair, pair])
    assert len(server.requests) == 1
    second = _verifier(server.url, tmp_path).score([pair])
    assert len(server.requests) == 1 and second == first[:1]


def test_server_errors_are_retried(server: FakeServer, tmp_path: Path) -> None:
    server.fail_first = 1
    (score,) = _verifier(server.url, tmp_path).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    assert score.support == 1.0
    assert len(server.requests) == 2


def test_one_failed_request_does_not_abort_the_run(server: FakeServer, tmp_path: Path) -> None:
    server.fail_first = 2  # the first pair's try and its one retry
    pairs = [VerifyPair("Ilya co-founded OpenAI.", EVIDENCE), VerifyPair("Alex worked on AlexNet.", "Alex worked on AlexNet.")]
    with pytest.raises(JudgeIncompleteError) as info:
        _verifier(server.url, tmp_path, max_windows=1).score(pairs)
    message = str(info.value)
    assert re.search(r"llm judge: 1 of 2 pairs not judged \(pair \d: llm endpoint http://127\.0\.0\.1:\d+/v1/chat/completions: HTTP 500", message)
    assert "cached in" in message and "rerun to resume" in message
    asked = len(server.requests)
    scores = _verifier(server.url, tmp_path, max_windows=1).score(pairs)  # resume: only the failed pair is asked
    assert len(server.requests) == asked + 1 and [s.support for s in scores] == [1.0, 1.0]


def test_context_overflow_is_its_own_error_and_the_window_is_trimmed(server: FakeServer, tmp_path: Path) -> None:
    server.overflow_over = 20
    long_window = " ".join([EVIDENCE] * 3)  # 33 words -> 22 -> 14
    (score,) = _verifier(server.url, tmp_path).score([VerifyPair("Ilya co-founded OpenAI.", long_window)])
    assert score.support == 1.0 and score.features["evidence_trimmed"] == 2.0
    assert len(server.requests) == 3  # no blind retries of a request that cannot fit
    server.overflow_over = 1
    with pytest.raises(JudgeIncompleteError, match=r"exceeds the available context size"):
        _verifier(server.url, tmp_path, cache=False).score([VerifyPair("Ilya co-founded OpenAI.", long_window)])


def test_after_a_timeout_the_retry_waits_for_the_busy_slot(server: FakeServer, tmp_path: Path) -> None:
    server.sleep_first_s = 1.5
    (score,) = _verifier(server.url, tmp_path, timeout_s=0.5).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    assert score.support == 1.0
    posts = [i for i, e in enumerate(server.events) if e == "post"]
    assert len(posts) == 2
    between = server.events[posts[0] + 1 : posts[1]]
    assert between and between[0] == "slots busy=True" and between[-1] == "slots busy=False"


def test_a_model_name_the_server_does_not_serve_is_reported(server: FakeServer, tmp_path: Path) -> None:
    verifier = _verifier(server.url, tmp_path, model="qwen-typo")
    with pytest.raises(ConfigError, match=r"model.model 'qwen-typo' is not served by .*\(it serves: judge, env-judge\)"):
        verifier.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    assert server.requests == []
    server.models = None  # a server without /models: not checked
    assert _verifier(server.url, tmp_path, model="anything").score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])[0].support == 1.0


def test_persistent_server_error_names_the_endpoint(server: FakeServer, tmp_path: Path) -> None:
    server.fail_first = 10
    with pytest.raises(JudgeIncompleteError, match=r"llm endpoint http://127\.0\.0\.1:\d+/v1/chat/completions: HTTP 500"):
        _verifier(server.url, tmp_path).score([VerifyPair("x y z", EVIDENCE)])
    assert len(server.requests) == 2  # one try plus max_retries=1


def test_an_answer_outside_the_three_words_is_an_error_not_a_guess(server: FakeServer, tmp_path: Path) -> None:
    server.reply = "Maybe, it depends."
    with pytest.raises(JudgeIncompleteError, match=r"answered 'Maybe, it depends\.'"):
        _verifier(server.url, tmp_path).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = _verifier(f"http://user:secret@127.0.0.1:{port}/v1", tmp_path, max_retries=0)
    with pytest.raises(JudgeIncompleteError) as info:
        verifier.score([VerifyPair("a claim", "a passage")])
    message = str(info.value)
    assert f"llm endpoint http://127.0.0.1:{port}/v1/chat/completions" in message
    assert "secret" not in message


def test_missing_endpoint_or_model_fails_at_build(monkeypatch) -> None:
    monkeypatch.delenv("HARNESS_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("HARNESS_LLM_MODEL", raising=False)
    with pytest.raises(BackendUnavailableError, match="no endpoint"):
        build_verifier({"name": "llm"})
    with pytest.raises(BackendUnavailableError, match="no model name"):
        build_verifier({"name": "llm", "base_url": "http://127.0.0.1:1/v1"})
    with pytest.raises(ConfigError, match="expected an http"):
        build_verifier({"name": "llm", "base_url": "ftp://host/v1", "model": "m"})
    with pytest.raises(ConfigError, match="unknown key"):
        build_verifier({"name": "llm", "base_url": "http://127.0.0.1:1/v1", "model": "m", "temp": 0})


def test_endpoint_and_model_from_the_environment(server: FakeServer, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HARNESS_LLM_BASE_URL", server.url)
    monkeypatch.setenv("HARNESS_LLM_MODEL", "env-judge")
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    cfg = compose(["model=llm"])
    verifier = build_verifier(cfg.model)
    assert verifier.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])[0].support == pytest.approx(1.0)
    assert server.requests[0]["model"] == "env-judge"
    assert (tmp_path / "judge" / "verdicts.sqlite").is_file()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("supported", "supported"),
        ("**Supported**", "supported"),
        ("Unsupported.", "unsupported"),
        ("contradicted — the passage says 2015", "contradicted"),
        ("Yes", "supported"),
        ("no", "unsupported"),
        ("I think so", None),
        ("", None),
    ],
)
def test_classify_answer(text: str, expected: str | None) -> None:
    assert classify_answer(text) == expected


def test_classify_answer_tokens() -> None:
    assert classify_answer("un", min_prefix=2) == "unsupported"
    assert classify_answer("un") is None
    assert classify_answer("Supp") == "supported"
