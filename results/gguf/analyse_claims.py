"""Figures from ``measure_claims.py`` output (not in CI).

    python results/gguf/analyse_claims.py /tmp/claim_scores.jsonl --out results/gguf/claims_eval.json

A claim is a *problem* when its label is not ``supported``; a verifier flags it when its best
window's support is below the ``supported`` threshold (chunk-and-max, as ``align`` labels). The
threshold of each verifier is chosen on the dev split only (the one that maximises balanced
accuracy; ties to the lower threshold) and then applied to the test split. ``cascade`` is
simulated from the same scores: the offline rules of configs/model/cascade.yaml first, then the
gguf judge's scores.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
FLAG_KINDS = ("speaker_swap", "sponsor_as_insight", "wrong_citation")


def best_window(row: dict, key: str) -> tuple[float, float]:
    """(support, contradiction) of the best window by ``key`` (offline / gguf)."""
    best = (-1.0, 0.0)
    for w in row["windows"]:
        if key == "offline":
            s, c = w["offline_support"], w["offline_contradiction"] or 0.0
        else:
            if not w["judge"].get("judged"):
                continue
            s, c = w["judge"]["p_supported"], w["judge"]["p_contradicted"]
        if s > best[0]:
            best = (s, c)
    return best


def cascade(row: dict, rules: dict) -> tuple[float, float, str]:
    from harness.backends.cascade import CascadeRules

    r = CascadeRules.from_mapping(rules)
    decisions = [r.decide(w["offline_features"]) for w in row["windows"]]
    if "supported" in decisions:
        return 1.0, 0.0, "offline_supported"
    if "contradicted" in decisions:
        return 0.0, 1.0, "offline_contradicted"
    s, c = best_window(row, "gguf")
    return s, c, "judge"


def rates(problem: np.ndarray, flagged: np.ndarray) -> dict:
    tpr = float(flagged[problem].mean()) if problem.any() else float("nan")
    tnr = float((~flagged[~problem]).mean()) if (~problem).any() else float("nan")
    return {"errors_caught": round(tpr, 3), "true_kept": round(tnr, 3), "balanced_accuracy": round((tpr + tnr) / 2, 3)}


def auc(problem: np.ndarray, support: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(~problem, support)), 3) if 0 < problem.sum() < len(problem) else float("nan")


def choose(problem: np.ndarray, support: np.ndarray) -> float:
    cands = sorted(set(np.round(support, 3).tolist()) | {0.0, 1.0})
    best_t, best_b = 0.0, -1.0
    for t in cands:  # flagged when support < t
        b = rates(problem, support < t)["balanced_accuracy"]
        if b > best_b:
            best_t, best_b = t, b
    return best_t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scores")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rows = [json.loads(x) for x in Path(args.scores).read_text().splitlines() if x.strip()]
    rules = yaml.safe_load((ROOT / "configs/model/cascade.yaml").read_text())["rules"]
    offline_thr = yaml.safe_load((ROOT / "configs/align/default.yaml").read_text())["thresholds"]["supported"]
    out: dict = {"claims": {}, "verifiers": {}}
    for split in ("dev", "test"):
        sub = [r for r in rows if r["split"] == split]
        out["claims"][split] = {"n": len(sub), "episodes": sorted({r["episode_id"] for r in sub}),
                                "problems": sum(r["label"] != "supported" for r in sub)}
    scores = {
        "offline": [best_window(r, "offline") for r in rows],
        "gguf": [best_window(r, "gguf") for r in rows],
    }
    casc = [cascade(r, rules) for r in rows]
    scores["cascade"] = [(s, c) for s, c, _ in casc]
    problem = np.array([r["label"] != "supported" for r in rows])
    split = np.array([r["split"] for r in rows])
    for name, sc in scores.items():
        support = np.array([s for s, _ in sc])
        dev, test = split == "dev", split == "test"
        thr = choose(problem[dev], support[dev]) if dev.any() else None
        entry = {"threshold_chosen_on_dev": thr}
        if name == "offline":
            entry["shipped_threshold"] = offline_thr
            entry["dev_at_shipped_threshold"] = rates(problem[dev], support[dev] < offline_thr)
            entry["test_at_shipped_threshold"] = rates(problem[test], support[test] < offline_thr) if test.any() else None
        entry["dev"] = {**rates(problem[dev], support[dev] < thr), "roc_auc": auc(problem[dev], support[dev])} if dev.any() else None
        entry["test"] = {**rates(problem[test], support[test] < thr), "roc_auc": auc(problem[test], support[test])} if test.any() else None
        # Kinds a claim-vs-window verifier cannot see by design (the flag detectors' job:
        # misattribution, ad_content, wrong_timestamp) left out:
        addressable = np.array([r["kind"] not in FLAG_KINDS for r in rows])
        for part, mask in (("dev", dev), ("test", test)):
            m = mask & addressable
            if m.any() and thr is not None:
                entry[f"{part}_without_flag_kinds"] = {**rates(problem[m], support[m] < thr), "n": int(m.sum())}
        contradicted = np.array([c for _, c in sc]) >= 0.5
        entry["said_contradicted"] = int((contradicted & (support < (thr or 0.5))).sum())
        out["verifiers"][name] = entry
    tiers: dict = {}
    for (s, c, tier), r in zip(casc, rows):
        t = tiers.setdefault(tier, {"claims": 0, "label_supported": 0})
        t["claims"] += 1
        t["label_supported"] += r["label"] == "supported"
    out["cascade_tiers"] = tiers
    judged = [sum(1 for w in r["windows"] if w["judge"].get("judged")) for r in rows]
    out["timing"] = {
        "note": "2 shared CPU cores, load average 7-13 from other agents during the run: contended; "
                "medians over claims the judge actually asked (cache hits excluded)",
        "judge_s_per_claim_median": round(statistics.median(r["judge_s"] for r in rows if r["judge_s"] > 0.1), 2),
        "judge_s_per_claim_mean": round(statistics.mean(r["judge_s"] for r in rows if r["judge_s"] > 0.1), 2),
        "offline_s_per_claim_median": round(statistics.median(r["offline_s"] for r in rows), 3),
        "judged_windows_per_claim_mean": round(statistics.mean(judged), 2),
        "cascade_judge_share": round(tiers.get("judge", {}).get("claims", 0) / len(rows), 3),
    }
    by_kind: dict = {}
    thr = out["verifiers"]["gguf"]["threshold_chosen_on_dev"]
    for r, (s, _) in zip(rows, scores["gguf"]):
        k = by_kind.setdefault(r["kind"], {"n": 0, "gguf_correct": 0})
        k["n"] += 1
        k["gguf_correct"] += (s < thr) == (r["label"] != "supported")
    out["gguf_by_kind"] = by_kind
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
