"""Fit a backend's label thresholds on the conversation benchmark's dev split.

    python -m harness.fit_conversation                 # offline backend; rewrites its config block
    python -m harness.fit_conversation --dry-run       # report only

What is fitted, on the **dev** episodes of ``benchmarks/conversation`` only (the test split is
never loaded):

1. The pipeline runs on every dev episode (written claims and labelled summary units) without
   the backend's own thresholds, exactly as ``meta-eval`` runs it; each record keeps the verdict
   features of its weakest claim and the problem flags that fired on it.
2. A logistic regression (``class_weight=balanced``, StandardScaler folded into raw weights;
   claims and units weighted equally as sets) of "supported" on ``--features`` — by default the
   verifier's support alone (as a logit), because nothing added to it held on dev (see
   ``FEATURES``). A feature with a wrongly signed weight is dropped and the fit repeated.
3. ``thresholds.supported``: the cut that maximises the mean of the claims' and the units'
   balanced accuracy, where a record that a problem flag or a claim check
   (``harness.align_checks``, recorded as ``check.<name>`` features) fired on counts as a
   predicted problem whatever its score; ``partial`` is half of it. With the support alone the regression is a
   monotone map, so the cut is written back on the raw support scale.
4. Honest dev figures: leave-one-episode-out, threshold chosen without the held-out episode.

The flags were computed with the old labels; the supported-gated detectors (misattribution,
ad_content's verdict path) fire more once more claims are supported, which this search does not
see (``meta-eval`` measures the real pipeline with the written thresholds).

The news benchmarks are not refitted: the verifier's weights (``logistic``, fitted by
``harness.fit`` on SummEval/FactCC/CLIFF) are unchanged, and news meta-eval does not use the
label thresholds, so the news figures are unchanged too.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.meta_eval import PROJECT_ROOT, balanced_accuracy

log = logging.getLogger(__name__)

FEATURES = ("support_logit",)
"""Offered by default. Measured on dev (leave-one-episode-out balanced accuracy, claims/units):
support alone 0.626/0.570; + the per-claim retrieval baselines dense_z and bm25_z (the best
window's cosine and BM25 as z-scores against all windows, computed by a trial revision of the
alignment stage): both dropped for a wrong sign, i.e. they did not hold; + bm25: 0.543/0.533;
+ bm25, content_precision, bertscore_precision: 0.547/0.528; + bm25_z, bertscore_precision,
cosine_max: 0.600/0.441."""
POSITIVE = frozenset({"support_logit", "dense_z", "bm25_z", "bm25", "dense"}) | {
    f"verifier.{n}" for n in ("cosine_max", "content_precision", "content_precision_local", "entity_precision", "number_precision", "bertscore_precision")
}
BEGIN_MARK = "# >>> fitted by harness.fit_conversation"
END_MARK = "# <<< fitted by harness.fit_conversation"


def _compose(backend: str) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.schema import register_schemas

    register_schemas()  # configs/ extends the structured schemas
    with initialize_config_dir(version_base="1.3", config_dir=str(PROJECT_ROOT / "configs")):
        cfg = compose(config_name="meta_eval", overrides=[f"model={backend}"])
    conf = OmegaConf.to_container(cfg, resolve=True)
    conf.pop("hydra", None)
    model = dict(conf["model"])
    model.pop("calibration", None)
    model.pop("thresholds", None)
    conf["model"] = model
    return conf


def _value(features: dict[str, float] | None, name: str) -> float:
    f = features or {}
    if name == "support_logit":
        p = min(max(float(f.get("support", 0.0)), 1e-6), 1 - 1e-6)
        return float(np.log(p / (1 - p)))
    return float(f.get(name, 0.0))


def matrix(rows: Sequence[Any], features: Sequence[str]) -> np.ndarray:
    """Feature matrix of scored records (records without claims get the empty-evidence values)."""
    return np.array([[_value(r.features, n) for n in features] for r in rows], dtype=float)


def fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, features: Sequence[str], C: float, seed: int) -> tuple[dict[str, float], float]:
    """Sign-constrained weighted logistic regression; raw weights and intercept."""
    from sklearn.linear_model import LogisticRegression

    active = list(range(len(features)))
    while True:
        sub = X[:, active]
        mean, std = sub.mean(axis=0), sub.std(axis=0)
        std[std == 0] = 1.0
        model = LogisticRegression(C=C, class_weight="balanced", random_state=seed, max_iter=5000)
        model.fit((sub - mean) / std, y, sample_weight=w)
        coef = model.coef_[0] / std
        intercept = float(model.intercept_[0] - np.sum(model.coef_[0] * mean / std))
        wrong = [i for i, c in zip(active, coef) if c < 0 and features[i] in POSITIVE]
        if not wrong or len(active) == 1:
            return {features[i]: float(c) for i, c in zip(active, coef)}, intercept
        active.remove(wrong[0])


def scores(X: np.ndarray, features: Sequence[str], weights: dict[str, float], intercept: float) -> np.ndarray:
    z = intercept + sum(X[:, features.index(f)] * v for f, v in weights.items())
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def choose_supported_threshold(s: np.ndarray, y: np.ndarray, flagged: np.ndarray, is_claim: np.ndarray) -> tuple[float, float]:
    """The cut maximising the mean of the claims' and units' balanced accuracy (flagged records
    predicted problems); the later candidate on ties, as in ``meta_eval.choose_threshold``."""
    candidates = np.unique(np.round(np.concatenate([np.percentile(s, np.arange(0, 100, 0.5)), [0.5]]), 4))
    best_t, best = 0.5, -1.0
    for t in candidates:
        pred_ok = (s >= t) & ~flagged
        parts = [balanced_accuracy(y[m], pred_ok[m]) for m in (is_claim, ~is_claim) if m.any()]
        value = float(np.mean(parts))
        if value >= best:
            best_t, best = float(t), value
    return best_t, best


def render_block(report: dict[str, Any]) -> str:
    """The YAML lines between the markers: the calibration and thresholds, or (when only the
    support itself is weighted, a monotone map) the thresholds on the raw support alone."""
    weights = report["weights"]
    monotone = set(weights) == {"support_logit"} and weights["support_logit"] > 0
    threshold = report["threshold"]
    if monotone:
        z = float(np.log(threshold / (1 - threshold)))
        raw = (z - report["intercept"]) / weights["support_logit"]
        threshold = float(1.0 / (1.0 + np.exp(-raw)))
    head = [
        BEGIN_MARK + " (do not edit by hand; rerun `python -m harness.fit_conversation`)",
        f"# Fitted {report['date']} on the conversation benchmark's DEV split only ({', '.join(report['episodes'])}):",
        f"#   {report['n_claims']} written claims and {report['n_units']} labelled summary units (claims and units weighted",
        f"#   equally). thresholds.supported maximises the mean of the claims' and units' dev balanced accuracy",
        "#   (a record a problem flag or a claim check (align.claim_checks) fired on counts as a predicted",
        "#   problem whatever its score).",
        f"#   Leave-one-episode-out on dev (threshold chosen without the held-out episode): claims balanced",
        f"#   accuracy {report['loeo']['claims']:.3f}, units {report['loeo']['units']:.3f}. In-sample: claims {report['in_sample']['claims']:.3f}, units {report['in_sample']['units']:.3f}.",
    ]
    tail = [
        "thresholds:",
        f"  supported: {threshold:.4f}",
        f"  partial: {threshold / 2:.4f}",
        "  contradicted: 0.5",
        END_MARK,
    ]
    if not monotone:
        raise SystemExit(
            "the fitted model weights more than the support; the alignment stage applies thresholds to the "
            "support only, so such a fit cannot be written (use --dry-run to measure it)"
        )
    return "\n".join(head + ["#   Features offered: support only (others did not hold on dev; see harness/fit_conversation.py)."] + tail) + "\n"


def write_block(path: Path, block: str) -> None:
    from harness.textio import atomic_write_text

    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN_MARK) + r".*?" + re.escape(END_MARK) + r"[^\n]*\n", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    atomic_write_text(path, text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.fit_conversation", description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default="offline")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--features", default=",".join(FEATURES))
    parser.add_argument("--rows-cache", type=Path, default=None, help="pickle of the scored dev records (development)")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    import pickle

    from harness.backends import build_verifier
    from harness.benchmarks.conversation import load_benchmark
    from harness.benchmarks.conversation_eval import DEFAULT_PROBLEM_FLAGS, score_benchmark

    conf = _compose(args.backend)
    dev = load_benchmark(PROJECT_ROOT / "benchmarks" / "conversation").dev
    if args.rows_cache and args.rows_cache.exists():
        claims, units = pickle.loads(args.rows_cache.read_bytes())
    else:
        verifier = build_verifier(conf["model"])
        flags = (conf.get("conversation") or {}).get("problem_flags") or DEFAULT_PROBLEM_FLAGS
        claims, units, _, _ = score_benchmark(dev, conf, verifier, problem_flags=flags)
        if args.rows_cache:
            args.rows_cache.write_bytes(pickle.dumps((claims, units)))
    rows = [*claims, *units]
    features = [f.strip() for f in args.features.split(",") if f.strip()]
    X = matrix(rows, features)
    y = np.array([not r.problem for r in rows], dtype=int)
    is_claim = np.array([r.page is None for r in rows])
    # a problem flag or a claim check (harness.align_checks) makes a predicted problem whatever the score
    flagged = np.array([bool(r.flags) or bool(getattr(r, "checks", ())) for r in rows])
    w = np.where(is_claim, 0.5 / max(1, is_claim.sum()), 0.5 / max(1, (~is_claim).sum())) * len(rows)
    episodes = np.array([r.episode_id for r in rows])

    # leave one episode out: weights and threshold without the held-out episode
    pred_ok = np.zeros(len(rows), dtype=bool)
    for ep in sorted(set(episodes.tolist())):
        held = episodes == ep
        if held.all():
            continue
        weights, intercept = fit(X[~held], y[~held], w[~held], features, args.C, args.seed)
        s_train = scores(X[~held], features, weights, intercept)
        t, _ = choose_supported_threshold(s_train, y[~held], flagged[~held], is_claim[~held])
        pred_ok[held] = (scores(X[held], features, weights, intercept) >= t) & ~flagged[held]
    loeo = {
        "claims": balanced_accuracy(y[is_claim], pred_ok[is_claim]),
        "units": balanced_accuracy(y[~is_claim], pred_ok[~is_claim]),
    }
    weights, intercept = fit(X, y, w, features, args.C, args.seed)
    s = scores(X, features, weights, intercept)
    threshold, _ = choose_supported_threshold(s, y, flagged, is_claim)
    ok = (s >= threshold) & ~flagged
    report = {
        "date": time.strftime("%Y-%m-%d"),
        "episodes": sorted({e.episode_id for e in dev.episodes if any(r.episode_id == e.episode_id for r in rows)}),
        "n_claims": int(is_claim.sum()),
        "n_units": int((~is_claim).sum()),
        "C": args.C,
        "seed": args.seed,
        "features": features,
        "dropped": [f for f in features if f not in weights],
        "weights": weights,
        "intercept": intercept,
        "threshold": threshold,
        "loeo": loeo,
        "in_sample": {
            "claims": balanced_accuracy(y[is_claim], ok[is_claim]),
            "units": balanced_accuracy(y[~is_claim], ok[~is_claim]),
        },
    }
    print(json.dumps(report, indent=2))
    if not args.dry_run:
        path = PROJECT_ROOT / "configs" / "model" / f"{args.backend}.yaml"
        write_block(path, render_block(report))
        print(f"wrote the calibration block of {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
