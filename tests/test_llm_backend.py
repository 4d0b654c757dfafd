"""The ``llm`` verifier against a fake OpenAI-compatible server on loopback (never a real model)."""

from __future__ import annotations

import json
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from harness.backends import VerifyPair, build_verifier
from harness.backends.llm import LLMReplyError, classify_answer
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
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                if self.path != "/v1/chat/completions":
                    self.send_error(404)
                    return
                if server.fail_first > 0:
                    server.fail_first -= 1
                    self.send_error(500, "overloaded")
                    return
                payload = json.dumps(server.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        user = body["messages"][-1]["content"]
        passage = re.search(r"Passage:\n(.*?)\n\n", user, re.S).group(1).lower()
        claim = re.search(r"Claim: (.*?)\n", user).group(1).lower()
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


def _verifier(url: str, **extra: Any):
    return build_verifier({"name": "llm", "base_url": url, "model": "judge", "max_retries": 1, **extra})


EVIDENCE = "Ilya Sutskever co-founded OpenAI and worked on AlexNet with Alex Krizhevsky."


def test_one_word_answers_become_support_and_contradiction(server: FakeServer) -> None:
    verifier = _verifier(server.url, use_logprobs=False)
    scores = verifier.score(
        [
            VerifyPair("Ilya Sutskever co-founded OpenAI.", EVIDENCE),
            VerifyPair("Ilya Sutskever founded DeepMind.", EVIDENCE),
            VerifyPair("Ilya Sutskever did not co-found OpenAI.", EVIDENCE),
        ]
    )
    assert [(s.support, s.contradiction) for s in scores] == [(1.0, 0.0), (0.0, 0.0), (0.0, 1.0)]
    assert scores[0].features["graded"] == 0.0
    assert verifier.describe()["text_only_pairs"] == 3


def test_request_is_a_factscore_style_chat_with_the_pair_in_it(server: FakeServer, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_LLM_API_KEY", "sk-test-123")
    verifier = _verifier(server.url, use_logprobs=False)
    verifier.score([VerifyPair("OpenAI was co-founded by Ilya.", EVIDENCE, context="Founding OpenAI")])
    (body,) = server.requests
    assert body["model"] == "judge"
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 4
    assert "logprobs" not in body
    user = body["messages"][-1]["content"]
    assert f"Passage:\n{EVIDENCE}\n" in user
    assert "Context: Founding OpenAI\nClaim: OpenAI was co-founded by Ilya.\n" in user
    assert body["messages"][0]["role"] == "system"
    assert server.headers[0]["Authorization"] == "Bearer sk-test-123"
    described = verifier.describe()
    assert "sk-test-123" not in json.dumps(described)
    assert described["served_model"] == "fake-judge-1"


def test_logprobs_give_a_graded_support(server: FakeServer) -> None:
    server.logprobs = True
    server.p_supported = 0.8
    verifier = _verifier(server.url)
    (score,) = verifier.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    # mass over the answers only: supported 0.8, unsupported 0.15, contradicted 0.05
    assert score.support == pytest.approx(0.8, abs=1e-9)
    assert score.contradiction == pytest.approx(0.05, abs=1e-9)
    assert score.features["p_unsupported"] == pytest.approx(0.15, abs=1e-9)
    assert server.requests[0]["logprobs"] is True and server.requests[0]["top_logprobs"] == 10
    assert verifier.describe()["graded_pairs"] == 1


def test_identical_pairs_are_asked_once(server: FakeServer) -> None:
    verifier = _verifier(server.url, concurrency=2)
    pair = VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)
    scores = verifier.score([pair, pair, VerifyPair("Alex Krizhevsky worked on AlexNet.", EVIDENCE)])
    scores += verifier.score([pair])
    assert [s.support for s in scores] == [1.0, 1.0, 1.0, 1.0]
    assert 2 <= len(server.requests) <= 3  # the two in the first batch may race; the later one is cached


def test_server_errors_are_retried(server: FakeServer) -> None:
    server.fail_first = 1
    (score,) = _verifier(server.url, use_logprobs=False).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])
    assert score.support == 1.0
    assert len(server.requests) == 2


def test_persistent_server_error_names_the_endpoint(server: FakeServer) -> None:
    server.fail_first = 10
    with pytest.raises(BackendUnavailableError, match=r"llm endpoint http://127\.0\.0\.1:\d+/v1/chat/completions: HTTP 500"):
        _verifier(server.url).score([VerifyPair("x y z", EVIDENCE)])
    assert len(server.requests) == 2  # one try plus max_retries=1


def test_an_answer_outside_the_three_words_is_an_error_not_a_guess(server: FakeServer) -> None:
    server.reply = "Maybe, it depends."
    with pytest.raises(LLMReplyError, match=r"answered 'Maybe, it depends\.'"):
        _verifier(server.url).score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])


def test_unreachable_endpoint_is_a_clear_error() -> None:
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = _verifier(f"http://user:secret@127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(BackendUnavailableError) as info:
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


def test_endpoint_and_model_from_the_environment(server: FakeServer, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_LLM_BASE_URL", server.url)
    monkeypatch.setenv("HARNESS_LLM_MODEL", "env-judge")
    cfg = compose(["model=llm"])
    verifier = build_verifier(cfg.model)
    assert verifier.score([VerifyPair("Ilya co-founded OpenAI.", EVIDENCE)])[0].support == pytest.approx(1.0)
    assert server.requests[0]["model"] == "env-judge"


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
