"""The LLM judge shared by the ``gguf`` (in-process) and ``llm`` (server) backends.

One prompt, one grading and one on-disk verdict cache, whatever runs the model:

* **Prompt order for the prefix cache.** The system prompt, then the evidence window, then the
  claim's context and the claim, then the question. Claims that share a window share the
  token prefix up to the claim, so llama.cpp (in-process or llama-server with ``cache_prompt``)
  re-uses that window's KV cache and evaluates only the claim and the question.
* **One answer token, graded by its logprobs.** The answer is constrained by a grammar to
  ``supported | contradicted | unsupported`` and only its first token is generated. The
  first token's ``top_logprobs`` (the model's distribution before the grammar) are summed per
  answer (``"contr"`` and ``" contrad"`` both count for contradicted) and normalised over the
  three answers: ``p_supported`` is the support score and ``p_contradicted`` the contradiction
  score. Probabilities are rounded to ``digits`` places so that the last-bit noise of batched
  float arithmetic (a re-used prefix is evaluated in another batch shape) cannot flip a verdict.
  A server that returns no logprobs falls back to the one-word answer (1 or 0).
* **Top-1 window first.** Pairs come from alignment claim by claim, in retrieval rank order.
  Rank 1 of every claim is judged first; the next window of a claim is judged only when the
  previous one was inconclusive (neither ``p_supported`` nor ``p_contradicted`` reaches
  ``conclusive``; with ``stop_at_supported``, nor ``p_supported`` the backend's supported cut),
  up to ``max_windows``. A window that was not judged gets support 0 and
  contradiction 0 with the feature ``judged = 0`` (it never wins chunk-and-max).
* **Verdicts cached on disk**, in SQLite under ``$HARNESS_CACHE_DIR/judge/`` (``cache_dir``),
  keyed by (model id, prompt version, window hash, claim hash). Each answer is committed as it
  arrives, so a run that fails loses nothing: the next run re-asks only what is missing.
* **Failures.** A request that fails (after the engine's own retries) is recorded and the run
  goes on with the next pair; after ``max_consecutive_failures`` failures in a row the judge
  stops asking. Either way, :class:`JudgeIncompleteError` is raised at the end, naming how many
  pairs failed, the first reason, and that every answer so far is cached. No claim is given a
  verdict that no model made. A prompt longer than the model's context is trimmed (the window's
  words cut from its end, twice at most; feature ``evidence_trimmed``) and retried.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, Sequence

from harness.backends.base import PairScore, VerifyPair, claim_groups
from harness.errors import ConfigError, HarnessError

log = logging.getLogger(__name__)

PROMPT_VERSION = "judge-3"
"""Bump whenever SYSTEM_PROMPT, USER_TEMPLATE, the evidence focus or the grading changes (part of
the cache key). judge-3: the instructions moved into the system prompt (a prefix every request
shares, so the prefix cache evaluates them once), and the request ends with the claim."""

SYSTEM_PROMPT = (
    "You check claims against a source passage from a conversation transcript. Judge only from "
    "the passage, not from what you know. Answer \"supported\" if the passage states the claim or "
    "clearly implies it, \"contradicted\" if the passage says something incompatible with it "
    "(another name, number, speaker or the opposite), and \"unsupported\" if the passage does not "
    "say. Answer with exactly one word: supported, contradicted or unsupported."
)
USER_TEMPLATE = "Passage:\n{evidence}\n\n{context}Claim: {claim}"

FEW_SHOT: tuple[tuple[str, str, str], ...] = (
    (
        "and honestly what got me into robots was my grandfather's workshop. Every summer I was there "
        "taking apart old radios and putting them back together, badly at first.",
        "The guest traces his interest in robots to summers in his grandfather's workshop.",
        "supported",
    ),
    (
        "We trained it on about forty thousand hours of audio, which at the time felt enormous, "
        "nobody had done that.",
        "They trained the model on about four thousand hours of audio.",
        "contradicted",
    ),
    (
        "The first company failed after two years. We ran out of money, and I learned more from that "
        "than from anything that worked.",
        "After the first company failed, he moved to Berlin to start again.",
        "unsupported",
    ),
    (
        "You try something, it breaks, you change one thing, you try again, and after a hundred of "
        "those you kind of know the shape of the problem.",
        "He describes learning the problem through many rounds of trial and error.",
        "supported",
    ),
    (
        "I think it could happen in the next ten years, but I'm really not sure. Nobody is.",
        "He is certain that it will happen within ten years.",
        "contradicted",
    ),
    (
        "Early on, the results were disappointing. Honestly, nothing worked for two years, and then "
        "one change to the data made all the difference.",
        "According to her, the results improved after a change to the data, following two years of failure.",
        "supported",
    ),
    (
        "Early on, the results were disappointing. Honestly, nothing worked for two years.",
        "She says the early results were encouraging.",
        "contradicted",
    ),
)
"""Worked examples sent before the pair as earlier chat turns when ``few_shot`` is on: invented
passages in the style of captions (from no episode of the benchmark), a faithful paraphrase, a
gist and a merge (supported), a changed number, a removed hedge and an opposite (contradicted),
and an unsaid fact (unsupported). They sit in the prefix every request shares, so the prefix cache
evaluates them once per process."""
ANSWERS = ("supported", "contradicted", "unsupported")
ANSWER_GRAMMAR = 'root ::= "supported" | "contradicted" | "unsupported"'
"""GBNF grammar for the answer (llama.cpp); servers that do not know ``grammar`` ignore it."""

JOINT_SEPARATOR = "\n[…]\n"
"""Between the passages of a joint judgement (``joint_windows``): a cut in the transcript."""

JUDGE_KEYS = frozenset(
    {"use_context", "max_windows", "conclusive", "digits", "cache", "cache_dir", "max_consecutive_failures",
     "progress_every_s", "top_logprobs", "seed", "max_trims", "evidence_words", "joint_windows",
     "stop_at_supported", "few_shot"}
)
"""Config keys read by :class:`JudgeSettings` (shared by the gguf and llm backends)."""


class LLMReplyError(HarnessError):
    """The LLM's reply is not one of the answers the prompt allows."""


class ContextOverflowError(HarnessError):
    """The prompt does not fit the model's context (HTTP 400 ``exceeds the available context size``)."""


class JudgeIncompleteError(HarnessError):
    """Some judge requests failed; the answers that did arrive are cached on disk."""


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


def judge_messages(pair: VerifyPair, use_context: bool, few_shot: bool = False) -> list[dict[str, str]]:
    """The chat messages for one pair: evidence first, claim last (see the module docstring);
    with ``few_shot``, the worked examples of ``FEW_SHOT`` as earlier turns."""
    context = f"Context: {pair.context.strip()}\n" if use_context and pair.context else ""
    user = USER_TEMPLATE.format(evidence=pair.evidence.strip(), context=context, claim=pair.claim.strip())
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for passage, claim, answer in FEW_SHOT if few_shot else ():
        messages.append({"role": "user", "content": USER_TEMPLATE.format(evidence=passage, context="", claim=claim)})
        messages.append({"role": "assistant", "content": answer})
    return [*messages, {"role": "user", "content": user}]


def prompt_version(few_shot: bool) -> str:
    """The prompt's version as the cache key and the run signature name it."""
    return f"{PROMPT_VERSION}+few-shot" if few_shot else PROMPT_VERSION


def focus_evidence(claim: str, evidence: str, max_words: int) -> str:
    """The run of ``evidence``'s sentences that best matches ``claim``, at most ``max_words`` words.

    Each sentence is scored by the claim's content words (stemmed) it contains; the run starts at
    the best sentence (the earliest on ties) and grows to the better-scoring neighbour (the earlier
    on ties) while it fits. A first sentence longer than the budget is cut to it. ``max_words``
    ``0``, or evidence already within budget, returns ``evidence`` unchanged.
    """
    words = evidence.split()
    if max_words <= 0 or len(words) <= max_words:
        return evidence
    from harness.text import content_words, split_sentences, stem

    spans = split_sentences(evidence)
    if not spans:
        return " ".join(words[:max_words])
    sentences = [evidence[a:b] for a, b in spans]
    wanted = {stem(w) for w in content_words(claim)}
    hits = [len(wanted & {stem(w) for w in content_words(s)}) for s in sentences]
    sizes = [len(s.split()) for s in sentences]
    best = max(range(len(sentences)), key=lambda i: (hits[i], -i))
    if sizes[best] >= max_words:
        return " ".join(sentences[best].split()[:max_words])
    lo = hi = best
    total = sizes[best]
    while True:
        options = [j for j in (lo - 1, hi + 1) if 0 <= j < len(sentences) and total + sizes[j] <= max_words]
        if not options:
            break
        j = max(options, key=lambda k: (hits[k], -k))
        total += sizes[j]
        lo, hi = min(lo, j), max(hi, j)
    return " ".join(sentences[lo : hi + 1])


def grade_alternatives(alternatives: Iterable[tuple[str, float]]) -> dict[str, float] | None:
    """P(answer) from (token, logprob) alternatives of the first answer token, normalised over
    the three answers; ``None`` when no alternative is the start of an answer."""
    mass = dict.fromkeys(ANSWERS, 0.0)
    for token, logprob in alternatives:
        answer = classify_answer(token, min_prefix=2)
        if answer is not None and logprob is not None and math.isfinite(float(logprob)):
            mass[answer] += math.exp(float(logprob))
    total = sum(mass.values())
    if total <= 0:
        return None
    return {a: m / total for a, m in mass.items()}


def grade_choice(choice: Mapping[str, Any]) -> dict[str, float] | None:
    """Grade an OpenAI-style ``choices[0]`` by the ``top_logprobs`` of its first answer token
    (leading whitespace or quote tokens are skipped); ``None`` without logprobs."""
    try:
        tokens = choice["logprobs"]["content"]
    except (KeyError, TypeError):
        return None
    for token in tokens or []:
        if not str(token.get("token", "")).strip(" \t\n\"'`*"):
            continue
        alternatives = token.get("top_logprobs") or [token]
        return grade_alternatives((str(a.get("token", "")), a.get("logprob")) for a in alternatives)
    return None


def sha256_text(text: str) -> str:
    """Hex sha256 of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------------------------------
# Settings, cache, engine protocol
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JudgeSettings:
    """How the judge asks and grades (keys of ``configs/model/gguf.yaml`` and ``llm.yaml``).

    Attributes:
        use_context: give the model the claim's context (section title, question) before it.
        max_windows: windows judged per claim at most (rank order; see ``conclusive``).
        conclusive: a window whose ``p_supported`` or ``p_contradicted`` reaches this ends the
            claim; below it, the next window is judged.
        stop_at_supported: a window whose ``p_supported`` reaches the backend's supported cut
            also ends the claim. Its verdict is its best window's, so it is supported whatever a
            later window says: no verdict changes and a request is saved, but the evidence shown
            is the first supporting window, not the best one.
        few_shot: send the worked examples of ``FEW_SHOT`` before each pair (prompt version
            ``judge-3+few-shot``; cached apart from the plain prompt's answers).
        supported_cut: the backend's own ``thresholds.supported`` (read from the same config
            block), or ``None`` (then ``stop_at_supported`` has no effect).
        digits: decimals the probabilities are rounded to.
        cache: keep verdicts on disk.
        cache_dir: ``None``: ``$HARNESS_CACHE_DIR``, else ``~/.cache/harness`` (as alignment).
        max_consecutive_failures: stop asking after this many failed requests in a row.
        progress_every_s: seconds between progress lines in the log.
        top_logprobs: alternatives asked for the answer token.
        seed: sampling seed sent with every request (temperature is 0 anyway).
        max_trims: times a prompt that overflows the context is trimmed and retried.
        evidence_words: the judge reads only the window's sentences around the claim's best
            match, at most this many words (:func:`focus_evidence`); ``0``: the whole window.
            Fewer prompt tokens is what makes a CPU judge fast (prompt evaluation dominates).
        joint_windows: a later window is judged together with the earlier ones (their focused
            sentences first, best window first), so a claim that merges two moments of the
            conversation can be supported by both at once; ``False``: each window alone.
    """

    use_context: bool = True
    max_windows: int = 2
    conclusive: float = 0.8
    digits: int = 3
    cache: bool = True
    cache_dir: str | None = None
    max_consecutive_failures: int = 3
    progress_every_s: float = 30.0
    top_logprobs: int = 20
    seed: int = 0
    max_trims: int = 2
    evidence_words: int = 0
    joint_windows: bool = False
    stop_at_supported: bool = False
    few_shot: bool = False
    supported_cut: float | None = None

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> JudgeSettings:
        """Settings from a backend's config block (other keys are ignored here)."""
        kwargs = {k: cfg[k] for k in JUDGE_KEYS if k in cfg and cfg[k] is not None}
        thresholds = cfg.get("thresholds")
        if isinstance(thresholds, Mapping) and thresholds.get("supported") is not None:
            kwargs["supported_cut"] = float(thresholds["supported"])
        settings = cls(**kwargs)
        if settings.max_windows < 1 or not 0 < settings.conclusive <= 1 or settings.digits < 1:
            raise ConfigError("model: need max_windows >= 1, 0 < conclusive <= 1, digits >= 1")
        if settings.evidence_words < 0 or 0 < settings.evidence_words < 10:
            raise ConfigError(f"model: evidence_words={settings.evidence_words}: use 0 (whole window) or >= 10")
        if settings.max_consecutive_failures < 1 or settings.top_logprobs < 1 or settings.max_trims < 0:
            raise ConfigError("model: need max_consecutive_failures >= 1, top_logprobs >= 1, max_trims >= 0")
        return settings


def resolve_judge_cache_dir(value: str | None) -> Path:
    """``value``, else ``$HARNESS_CACHE_DIR``, else ``~/.cache/harness``; plus ``/judge``."""
    from harness.cache import resolve_cache_dir

    return resolve_cache_dir(value) / "judge"


class VerdictCache:
    """Judge answers on disk (SQLite), one row per (model, prompt version, window, claim).

    Each ``put`` is committed at once, so answers survive a crash or a failed run.
    """

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "verdicts.sqlite"
        self._db = sqlite3.connect(str(self.path), timeout=30.0, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()

    @staticmethod
    def key(model_id: str, window: str, claim: str, version: str = PROMPT_VERSION) -> str:
        """The cache key: sha256 over model id, prompt version and the window and claim hashes."""
        parts = (model_id, version, sha256_text(window), sha256_text(claim))
        return sha256_text("\x1f".join(parts))

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT value FROM verdicts WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, value: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO verdicts (key, value) VALUES (?, ?)", (key, json.dumps(dict(value), sort_keys=True))
        )
        self._db.commit()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0])


class JudgeEngine(Protocol):
    """Runs the model: one chat request in, an OpenAI-style chat completion out."""

    model_id: str
    """Names the model's weights (part of the verdict cache key)."""

    def complete(self, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """Answer one ``/chat/completions`` body. Raises ``ContextOverflowError`` when the
        prompt does not fit, a ``HarnessError`` for any other failure."""
        ...


# ----------------------------------------------------------------------------------------------
# The judge
# ----------------------------------------------------------------------------------------------


class Judge:
    """Scores (claim, window) pairs with an engine: cache, window order, grading, failures."""

    def __init__(self, engine: JudgeEngine, settings: JudgeSettings, backend: str) -> None:
        self.engine = engine
        self.settings = settings
        self.backend = backend
        self.cache = VerdictCache(resolve_judge_cache_dir(settings.cache_dir)) if settings.cache else None
        self.counts = {"judged": 0, "cache_hits": 0, "skipped_windows": 0, "graded": 0, "text_only": 0,
                       "trimmed": 0, "failed": 0}
        self.seconds_judging = 0.0

    # ---------------------------------------------------------------------------------------
    def request_body(self, pair: VerifyPair, max_tokens: int = 1) -> dict[str, Any]:
        """The ``/chat/completions`` body for one pair (the engine may add its model name)."""
        return {
            "messages": judge_messages(pair, self.settings.use_context, self.settings.few_shot),
            "temperature": 0.0,
            "seed": self.settings.seed,
            "max_tokens": max_tokens,
            "logprobs": True,
            "top_logprobs": self.settings.top_logprobs,
            "grammar": ANSWER_GRAMMAR,
            "cache_prompt": True,
        }

    def score(self, pairs: Sequence[VerifyPair]) -> list[PairScore]:
        """One ``PairScore`` per pair, in order (see the module docstring for what is asked)."""
        groups = claim_groups(pairs)
        results: list[PairScore | None] = [None] * len(pairs)
        progress = _Progress(sum(min(len(g), self.settings.max_windows) for g in groups), self.backend,
                             self.settings.progress_every_s)
        failures: list[str] = []
        consecutive = 0
        open_groups = groups
        for rank in range(self.settings.max_windows):
            todo = [(g[rank], g[:rank] if self.settings.joint_windows else []) for g in open_groups if rank < len(g)]
            # Same window next to each other: the engine's prefix cache re-uses its tokens.
            todo.sort(key=lambda item: (sha256_text(pairs[item[0]].evidence), item[0]))
            for i, earlier in todo:
                if consecutive >= self.settings.max_consecutive_failures:
                    failures.append(f"pair {i}: not asked after {consecutive} failures in a row")
                    continue
                try:
                    results[i] = self._score_one(pairs[i], [pairs[j].evidence for j in earlier])
                    consecutive = 0
                except ConfigError:
                    raise  # a wrong setting (e.g. a model name the server does not serve) fails every pair
                except ContextOverflowError as exc:
                    failures.append(f"pair {i}: {exc}")
                except HarnessError as exc:
                    consecutive += 1
                    failures.append(f"pair {i}: {exc}")
                    log.warning("%s judge: pair %d failed: %s", self.backend, i, exc)
                progress.step()
            open_groups = [g for g in open_groups if rank + 1 < len(g) and not self._conclusive(results[g[rank]])]
        progress.done()
        if failures:
            self.counts["failed"] = len(failures)
            where = f"; the {self.counts['judged']} answers that arrived are cached in {self.cache.path}, " \
                    "rerun to resume" if self.cache else ""
            raise JudgeIncompleteError(
                f"{self.backend} judge: {len(failures)} of {len(pairs)} pairs not judged ({failures[0]}){where}"
            )
        out: list[PairScore] = []
        for score in results:
            if score is None:
                self.counts["skipped_windows"] += 1
                score = PairScore(support=0.0, contradiction=0.0, features={"judged": 0.0})
            out.append(score)
        return out

    def _conclusive(self, score: PairScore | None) -> bool:
        if score is None:
            return True  # failed: the run raises anyway
        c = self.settings.conclusive
        cut = self.settings.supported_cut
        support_ends = min(c, cut) if self.settings.stop_at_supported and cut is not None else c
        return score.support >= support_ends or (score.contradiction or 0.0) >= c

    def _score_one(self, pair: VerifyPair, earlier: Sequence[str] = ()) -> PairScore:
        """Judge one pair; ``earlier``: the claim's better-ranked windows, judged with it
        (``joint_windows``), each focused as the pair's own."""
        texts = [*earlier, pair.evidence]
        if self.settings.evidence_words:
            texts = [focus_evidence(pair.claim, t, self.settings.evidence_words) for t in texts]
        if len(texts) > 1 or self.settings.evidence_words:
            pair = VerifyPair(pair.claim, JOINT_SEPARATOR.join(texts), pair.context)
        claim_key = json.dumps([pair.claim, pair.context if self.settings.use_context else None])
        key = VerdictCache.key(self.engine.model_id, pair.evidence, claim_key, prompt_version(self.settings.few_shot))
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.counts["cache_hits"] += 1
                return self._pair_score(hit)
        start = time.perf_counter()
        answer = self._ask(pair)
        self.seconds_judging += time.perf_counter() - start
        self.counts["judged"] += 1
        if self.cache is not None:
            self.cache.put(key, answer)
        return self._pair_score(answer)

    def _ask(self, pair: VerifyPair) -> dict[str, Any]:
        trimmed = 0
        while True:
            try:
                reply = self.engine.complete(self.request_body(pair))
                break
            except ContextOverflowError:
                words = pair.evidence.split()
                if trimmed >= self.settings.max_trims or len(words) < 20:
                    raise
                trimmed += 1
                self.counts["trimmed"] += 1
                pair = VerifyPair(pair.claim, " ".join(words[: (2 * len(words)) // 3]), pair.context)
        answer = self.parse(reply)
        answer["evidence_trimmed"] = trimmed
        return answer

    def parse(self, reply: Mapping[str, Any]) -> dict[str, Any]:
        """The cached record of one reply: the answer word and the graded probabilities."""
        try:
            choice = reply["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMReplyError(f"{self.backend} judge: reply has no choices[0].message.content") from exc
        answer = classify_answer(text, min_prefix=2)
        probs = grade_choice(choice)
        if answer is None and probs is None:
            raise LLMReplyError(f"{self.backend} judge answered {text[:80]!r}, not one of {', '.join(ANSWERS)}")
        if probs is None:
            return {"answer": answer, "graded": False}
        d = self.settings.digits
        return {"answer": answer or max(probs, key=probs.__getitem__), "graded": True,
                **{f"p_{a}": round(p, d) for a, p in probs.items()}}

    def _pair_score(self, answer: Mapping[str, Any]) -> PairScore:
        features: dict[str, float] = {"judged": 1.0, "evidence_trimmed": float(answer.get("evidence_trimmed", 0))}
        if answer.get("graded"):
            self.counts["graded"] += 1
            features.update({f"p_{a}": float(answer[f"p_{a}"]) for a in ANSWERS})
            features["graded"] = 1.0
            return PairScore(support=features["p_supported"], contradiction=features["p_contradicted"],
                             features=features)
        self.counts["text_only"] += 1
        features.update({f"llm_{a}": float(answer["answer"] == a) for a in ANSWERS})
        features["graded"] = 0.0
        return PairScore(support=float(answer["answer"] == "supported"),
                         contradiction=float(answer["answer"] == "contradicted"), features=features)

    def describe(self) -> dict[str, Any]:
        """Prompt version and hash, grading settings and this process's counts (run signature)."""
        s = self.settings
        return {
            "prompt_version": prompt_version(s.few_shot),
            "prompt_sha256": sha256_text(
                "\n".join([SYSTEM_PROMPT, USER_TEMPLATE, ANSWER_GRAMMAR, *(
                    "\x1f".join(example) for example in (FEW_SHOT if s.few_shot else ()))])
            )[:16],
            "max_windows": s.max_windows,
            "evidence_words": s.evidence_words,
            "conclusive": s.conclusive,
            "stop_at_supported": s.stop_at_supported,
            "digits": s.digits,
            "seed": s.seed,
            "verdict_cache": str(self.cache.path) if self.cache else None,
            "pairs": dict(self.counts),
            "judge_seconds": round(self.seconds_judging, 2),
        }


class _Progress:
    """Logs ``done/total`` with rate and ETA at most every ``every_s`` seconds."""

    def __init__(self, total: int, backend: str, every_s: float) -> None:
        self.total, self.backend, self.every_s = total, backend, every_s
        self.done_n = 0
        self.start = self.last = time.monotonic()

    def step(self) -> None:
        self.done_n += 1
        now = time.monotonic()
        if now - self.last >= self.every_s:
            self.last = now
            rate = (now - self.start) / self.done_n
            log.info("%s judge: %d/%d pairs, %.2f s/pair, about %.0f s left", self.backend, self.done_n,
                     self.total, rate, rate * max(0, self.total - self.done_n))

    def done(self) -> None:
        if self.done_n:
            log.info("%s judge: %d pairs in %.1f s", self.backend, self.done_n, time.monotonic() - self.start)


def env_flag(name: str) -> bool:
    """True when the environment variable ``name`` is set to a true-ish value."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
