"""Fit the ``offline`` verifier's logistic regression on the shared tuning sets.

    python -m harness.fit                       # fit, report, rewrite configs/model/offline.yaml
    python -m harness.fit --dry-run             # fit and report only

Tuning data (and nothing else: ``reserved/`` is refused, AggreFact ``test`` is never read):
SummaC summeval and factcc (val only) and AggreFact-XSum/CLIFF ``cut=val``, from
``../shared/benchmarks``.

Procedure (deterministic; ``--seed`` is passed to scikit-learn):

1. Every claim is cut into sentences and every document into chunks exactly as meta-eval does
   (the ``chunking`` block of the model config); the backend computes the features of every
   (claim sentence, chunk) pair.
2. A claim's label belongs to one (sentence, chunk) pair that is not known in advance: the
   sentence's best chunk, then the claim's weakest sentence. So the fit alternates (hard EM,
   as in multiple-instance learning): pick that pair with the current weights, fit
   ``StandardScaler`` + ``LogisticRegression(class_weight="balanced")`` on the picked pairs,
   repeat until the picks stop changing or repeat (at most ``--iterations``). The first picks
   use equal weights on the standardised features (negative on the two mismatch features).
3. Sign constraint: a feature whose weight comes out with the wrong sign (a precision or
   similarity weighted negatively, a mismatch positively — an artefact of collinear features)
   is dropped and the fit repeated. The dropped ones are listed in the YAML comment.
4. The standardisation is folded into the weights, so the YAML holds weights for raw features.
5. Honest held-out figures: for each tuning dataset, 5-fold cross-validation grouped by
   document in which both the weights (steps 1–4 on all tuning records outside the held-out
   documents) and the threshold (on the same dataset's other folds) are chosen without the
   held-out fold ("nested"). The meta-eval figures on these files with the final weights are
   in-sample for the weights; quote the nested ones. The few settings in the YAML (chunk size,
   claim aggregation, C) were compared on these same nested figures, which is not nested.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import pickle
import re
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.meta_eval import (
    PROJECT_ROOT,
    BenchmarkRecord,
    balanced_accuracy,
    choose_threshold,
    evaluate_dataset,
    grouped_folds,
    load_benchmark,
    roc_auc,
)

log = logging.getLogger(__name__)

TUNING_FILES = (
    ("summac/summeval.jsonl", ("val",)),
    ("summac/factcc.jsonl", ("val",)),
    ("aggrefact/xsum.jsonl", ("val",)),
)
"""(file under the benchmarks folder, cuts used). Reserved files and test cuts never appear."""

NEGATIVE_FEATURES = frozenset({"number_conflict", "negation_mismatch"})
"""Features whose weight must be negative (more mismatch, less support); all others positive."""
BEGIN_MARK = "# >>> fitted by harness.fit"
END_MARK = "# <<< fitted by harness.fit"


def load_tuning_records(benchmarks: Path) -> list[BenchmarkRecord]:
    """The tuning records: the files and cuts of ``TUNING_FILES`` only."""
    records: list[BenchmarkRecord] = []
    for rel, cuts in TUNING_FILES:
        path = (benchmarks / rel).resolve()
        if "reserved" in path.parts:
            raise SystemExit(f"refusing to fit on a reserved benchmark: {path}")
        records.extend(r for r in load_benchmark(path) if r.cut in cuts)
    return records


class FeatureTable:
    """Features of every (claim sentence, chunk) sub-pair and where each sub-pair belongs."""

    def __init__(self, matrix: np.ndarray, names: Sequence[str], layout: list[list[list[int]]], chunk_layout: Any):
        self.matrix = matrix
        self.names = list(names)
        self.layout = layout  # per record: per claim sentence: sub-pair rows
        self.chunk_layout = chunk_layout  # harness.chunking layout, for aggregate()


def compute_features(records: Sequence[BenchmarkRecord], model_cfg: dict[str, Any]) -> FeatureTable:
    from harness.backends import VerifyPair, build_verifier
    from harness.backends.offline import FEATURES
    from harness.chunking import ChunkingOptions, expand_pairs

    options = ChunkingOptions.from_config(model_cfg.get("chunking"))
    verifier = build_verifier(model_cfg)
    pairs = [VerifyPair(r.claim, r.document) for r in records]
    flat, layout = expand_pairs(pairs, options)
    log.info("computing features of %d sub-pairs (%d records)", len(flat), len(records))
    t0, c0 = time.perf_counter(), time.process_time()
    rows = verifier.features(flat)  # type: ignore[attr-defined]
    log.info("features done in %.1f s (%.1f s CPU)", time.perf_counter() - t0, time.process_time() - c0)
    matrix = np.array([[row[name] for name in FEATURES] for row in rows], dtype=float)
    return FeatureTable(matrix, FEATURES, [positions for _, _, positions in layout], layout)


def _pick(table: FeatureTable, cols: np.ndarray, w: np.ndarray, b: float, idx: Sequence[int], aggregation: str) -> np.ndarray:
    """Per record: the features of the (sentence, chunk) pair that decides its support."""
    z = table.matrix[:, cols] @ w + b
    picked = []
    for i in idx:
        winners = [row[int(np.argmax(z[row]))] for row in table.layout[i]]
        if aggregation == "min":
            picked.append(table.matrix[winners[int(np.argmin(z[winners]))], cols])
        else:
            picked.append(table.matrix[winners, :][:, cols].mean(axis=0))
    return np.array(picked)


def fit_weights(
    table: FeatureTable,
    labels: np.ndarray,
    idx: Sequence[int],
    features: Sequence[str],
    *,
    aggregation: str,
    C: float,
    seed: int,
    iterations: int,
    sign_constrained: bool = True,
) -> tuple[dict[str, float], float, int]:
    """Hard-EM logistic regression on the records ``idx``; returns raw weights, intercept, iterations.

    With ``sign_constrained``, a feature whose fitted weight has the wrong sign (a precision
    weighted negatively, a mismatch positively: an artefact of collinear features) is dropped
    and the rest refitted, until every weight has its expected sign.
    """
    active = list(features)
    while True:
        weights, intercept, n_iter = _fit_hard_em(
            table, labels, idx, active, aggregation=aggregation, C=C, seed=seed, iterations=iterations
        )
        wrong = [f for f, w in weights.items() if (w > 0) == (f in NEGATIVE_FEATURES) and w != 0]
        if not sign_constrained or not wrong or len(active) == 1:
            return weights, intercept, n_iter
        # drop the most wrongly signed one (largest standardised magnitude) and refit
        cols = {f: table.matrix[:, table.names.index(f)].std() or 1.0 for f in wrong}
        active.remove(max(wrong, key=lambda f: abs(weights[f]) * cols[f]))


def _fit_hard_em(
    table: FeatureTable,
    labels: np.ndarray,
    idx: Sequence[int],
    features: Sequence[str],
    *,
    aggregation: str,
    C: float,
    seed: int,
    iterations: int,
) -> tuple[dict[str, float], float, int]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    cols = np.array([table.names.index(f) for f in features])
    sub = table.matrix[:, cols]
    scale = sub.std(axis=0)
    scale[scale == 0] = 1.0
    w = np.array([-1.0 if f in NEGATIVE_FEATURES else 1.0 for f in features]) / scale
    b = 0.0
    seen: set[bytes] = set()
    y = labels[np.asarray(idx)]
    done = 0
    for done in range(1, iterations + 1):
        X = _pick(table, cols, w, b, idx, aggregation)
        # Stop at a fixed point, or when the picks repeat an earlier iteration's (a cycle of
        # near-identical solutions); the weights are those fitted on the previous picks.
        key = X.tobytes()
        if key in seen:
            break
        seen.add(key)
        scaler = StandardScaler().fit(X)
        std = np.where(scaler.scale_ == 0, 1.0, scaler.scale_)
        model = LogisticRegression(C=C, class_weight="balanced", random_state=seed, max_iter=5000)
        model.fit((X - scaler.mean_) / std, y)
        coef = model.coef_[0] / std
        w = coef
        b = float(model.intercept_[0] - np.sum(model.coef_[0] * scaler.mean_ / std))
    return {f: float(v) for f, v in zip(features, w)}, b, done


def supports(table: FeatureTable, weights: dict[str, float], intercept: float, idx: Sequence[int], options: Any) -> np.ndarray:
    """Claim supports exactly as meta-eval computes them (sigmoid per pair, max, then min/mean)."""
    from harness.backends.base import PairScore
    from harness.chunking import aggregate

    z = intercept + sum(table.matrix[:, table.names.index(f)] * w for f, w in weights.items())
    sub = [PairScore(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, float(v)))))) for v in z]
    chunked = aggregate([table.chunk_layout[i] for i in idx], sub, options)
    return np.array([c.score.support for c in chunked])


def nested_cv(
    records: Sequence[BenchmarkRecord], table: FeatureTable, labels: np.ndarray, features: Sequence[str], options: Any, **fit_kw: Any
) -> dict[str, dict[str, float]]:
    """Per dataset: grouped 5-fold CV with weights and threshold both chosen outside the held-out fold."""
    keys = np.array([r.document_key for r in records])
    out: dict[str, dict[str, float]] = {}
    for dataset in dict.fromkeys(r.dataset for r in records):
        members = np.array([i for i, r in enumerate(records) if r.dataset == dataset])
        folds = grouped_folds(keys[members].tolist(), 5)
        preds = np.zeros(len(members), dtype=int)
        oof = np.zeros(len(members))
        for k in sorted(set(folds.tolist())):
            held = members[folds == k]
            held_docs = set(keys[held].tolist())
            train = [i for i in range(len(records)) if keys[i] not in held_docs]
            weights, intercept, _ = fit_weights(table, labels, train, features, **fit_kw)
            s = supports(table, weights, intercept, members, options)
            inside = folds != k
            threshold, _ = choose_threshold(s[inside], labels[members][inside])
            preds[folds == k] = (s[folds == k] > threshold).astype(int)
            oof[folds == k] = s[folds == k]
        y = labels[members]
        out[dataset] = {
            "n": int(len(members)),
            "nested_cv_balanced_accuracy": round(balanced_accuracy(y, preds), 4),
            "nested_cv_pooled_roc_auc": round(roc_auc(oof, y) or float("nan"), 4),
        }
    return out


def render_block(weights: dict[str, float], intercept: float, report: dict[str, Any]) -> str:
    """The YAML lines between the fit markers in ``configs/model/offline.yaml``."""
    lines = [
        BEGIN_MARK + " (do not edit by hand; rerun `python -m harness.fit`)",
        f"# Fitted {report['date']} by harness/fit.py (python -m harness.fit --seed {report['seed']} --C {report['C']}):",
        "#   data: ../shared/benchmarks summac/summeval.jsonl (val, 100), summac/factcc.jsonl (val, 311),",
        "#         aggrefact/xsum.jsonl (cut=val only, 150); never reserved/, never AggreFact test.",
        "#   hard-EM logistic regression on the deciding (claim sentence, chunk) pair, StandardScaler",
        f"#   folded into the raw weights, class_weight=balanced, C={report['C']}, seed={report['seed']},",
        f"#   chunking max_words={report['max_words']}, claim aggregation {report['aggregation']}, {report['iterations']} EM iterations.",
        f"#   Features offered: {', '.join(report['features'])}.",
        f"#   Dropped for a wrongly signed weight (collinear with the others): {', '.join(report['dropped']) or 'none'}.",
        "#   Held-out figures (weights AND threshold chosen without the held-out fold; grouped 5-fold by document):",
    ]
    for name, fig in report["nested_cv"].items():
        lines.append(
            f"#     {name}: balanced accuracy {fig['nested_cv_balanced_accuracy']:.3f}, pooled ROC AUC {fig['nested_cv_pooled_roc_auc']:.3f} (n={fig['n']})"
        )
    lines += [
        "logistic:",
        f"  intercept: {intercept:.6f}",
        "  weights:",
    ]
    lines += [f"    {name}: {value:.6f}" for name, value in weights.items()]
    lines += [
        "fitted_on:",
        "  - {dataset: summeval, cuts: [val]}",
        "  - {dataset: factcc, cuts: [val]}",
        "  - {dataset: AggreFact-XSum/CLIFF, cuts: [val]}",
        "fit_report:",
    ]
    for name, fig in report["nested_cv"].items():
        lines.append(
            f"  {json.dumps(name)}: {{nested_cv_balanced_accuracy: {fig['nested_cv_balanced_accuracy']}, nested_cv_pooled_roc_auc: {fig['nested_cv_pooled_roc_auc']}, n: {fig['n']}}}"
        )
    lines.append(END_MARK)
    return "\n".join(lines) + "\n"


def write_block(config_path: Path, block: str) -> None:
    from harness.textio import atomic_write_text

    text = config_path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN_MARK) + r".*?" + re.escape(END_MARK) + r"[^\n]*\n", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{config_path}: no '{BEGIN_MARK}' … '{END_MARK}' block to replace")
    atomic_write_text(config_path, pattern.sub(lambda _: block, text, count=1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.fit", description=__doc__.split("\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=PROJECT_ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "configs" / "model" / "offline.yaml")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--features", default=None, help="comma-separated subset of the features to fit")
    parser.add_argument("--aggregation", default=None, help="override chunking.claim_aggregation (min/mean)")
    parser.add_argument("--max-words", type=int, default=None, help="override chunking.max_words")
    parser.add_argument("--feature-cache", type=Path, default=None, help="pickle of computed features (development)")
    parser.add_argument("--report", type=Path, default=None, help="also write the fit report as JSON here")
    parser.add_argument("--dry-run", action="store_true", help="do not rewrite the config")
    args = parser.parse_args(argv)
    if (args.aggregation or args.max_words) and not args.dry_run:
        parser.error("--aggregation/--max-words are for experiments: use them with --dry-run, or edit the chunking block of the config")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    from omegaconf import OmegaConf

    from harness.backends.offline import FEATURES
    from harness.chunking import ChunkingOptions

    model_cfg = OmegaConf.to_container(OmegaConf.load(args.config), resolve=True)
    assert isinstance(model_cfg, dict)
    model_cfg.pop("defaults", None)  # the schema line (harness/schema.py), not a backend setting
    chunking = dict(model_cfg.get("chunking") or {})
    if args.aggregation:
        chunking["claim_aggregation"] = args.aggregation
    if args.max_words:
        chunking["max_words"] = args.max_words
    model_cfg["chunking"] = chunking
    options = ChunkingOptions.from_config(chunking)

    records = load_tuning_records(args.benchmarks)
    labels = np.array([r.label for r in records])
    cache_key = (options.max_words, options.overlap_sentences, options.min_claim_sentence_words, tuple(r.id for r in records))
    table = None
    if args.feature_cache and args.feature_cache.exists():
        cached = pickle.loads(args.feature_cache.read_bytes())
        if cached.get("key") == cache_key and cached.get("names") == list(FEATURES):
            table = FeatureTable(cached["matrix"], cached["names"], cached["layout"], cached["chunk_layout"])
            log.info("features loaded from %s", args.feature_cache)
    if table is None:
        table = compute_features(records, model_cfg)
        if args.feature_cache:
            args.feature_cache.write_bytes(
                pickle.dumps(
                    {
                        "key": cache_key,
                        "names": list(FEATURES),
                        "matrix": table.matrix,
                        "layout": table.layout,
                        "chunk_layout": table.chunk_layout,
                    }
                )
            )

    features = [f.strip() for f in args.features.split(",")] if args.features else list(FEATURES)
    fit_kw = dict(aggregation=options.claim_aggregation, C=args.C, seed=args.seed, iterations=args.iterations)
    t0 = time.perf_counter()
    nested = nested_cv(records, table, labels, features, options, **fit_kw)
    all_idx = list(range(len(records)))
    weights, intercept, n_iter = fit_weights(table, labels, all_idx, features, **fit_kw)
    s = supports(table, weights, intercept, all_idx, options)
    in_sample = {}
    for dataset in dict.fromkeys(r.dataset for r in records):
        members = [i for i, r in enumerate(records) if r.dataset == dataset]
        fig = evaluate_dataset([records[i] for i in members], s[members].tolist())
        in_sample[dataset] = {
            "weights_in_sample_cv_balanced_accuracy": round(fig["balanced_accuracy"], 4),
            "roc_auc": round(fig["roc_auc"], 4),
        }
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "seed": args.seed,
        "C": args.C,
        "aggregation": options.claim_aggregation,
        "max_words": options.max_words,
        "iterations": n_iter,
        "features": features,
        "dropped": [f for f in features if f not in weights],
        "nested_cv": nested,
        "in_sample": in_sample,
        "weights": weights,
        "intercept": intercept,
        "fit_seconds": round(time.perf_counter() - t0, 1),
    }
    mean_nested = float(np.mean([v["nested_cv_balanced_accuracy"] for v in nested.values()]))
    report["mean_nested_cv_balanced_accuracy"] = round(mean_nested, 4)
    print(json.dumps(report, indent=2))
    if args.report:
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if not args.dry_run:
        write_block(args.config, render_block(weights, intercept, report))
        print(f"wrote the fitted block of {args.config}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
