"""Score the conversation benchmark's labelled claims with offline + a GGUF judge (not in CI).

    python results/gguf/measure_claims.py --model FILE.gguf --episodes lex-fridman-94 lex-fridman-60 \
        --claims-dir ../wt-bench/benchmarks/conversation --out results/gguf/claim_scores.jsonl

Each claim is retrieved against the episode's transcript windows exactly as ``align`` does
(configs/align/default.yaml windows and fusion, top_k windows), then every (claim, window) pair is
scored by the offline verifier and by the gguf judge (top-1 window first, the 2nd only when the
1st is inconclusive). One JSON line per claim: ids, label, kind, split, and the scores per
window (no transcript text). ``analyse_claims.py`` turns them into figures.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from harness.align import RetrievalConfig, WindowIndex, _encode, build_windows, embed_windows
from harness.backends import VerifyPair, build_verifier
from harness.models import sentence_encoder
from harness.pipeline import PROJECT_ROOT
from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
from harness.transcript import load_transcript

log = logging.getLogger("measure_claims")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--episodes", nargs="+", required=True)
    ap.add_argument("--claims-dir", required=True)
    ap.add_argument("--shared", default=str(PROJECT_ROOT.parent / "shared"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="claims per episode (0: all)")
    ap.add_argument("--every", type=int, default=1, help="every n-th claim of each episode (a spread sample)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--poll", type=int, default=50)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    import yaml

    align_cfg = yaml.safe_load((PROJECT_ROOT / "configs/align/default.yaml").read_text())
    sponsors_cfg = yaml.safe_load((PROJECT_ROOT / "configs/sponsors/default.yaml").read_text())
    w, r = align_cfg["window"], align_cfg["retrieval"]
    rc = RetrievalConfig(top_k=args.top_k, fusion=r["fusion"], bm25_weight=r["bm25_weight"],
                         dense_weight=r["dense_weight"], rrf_k=r["rrf_k"])
    episodes = {}
    for line in (Path(args.claims_dir) / "episodes.jsonl").read_text().splitlines():
        if line.strip():
            e = json.loads(line)
            episodes[e["episode_id"]] = e
    offline = build_verifier({**yaml.safe_load((PROJECT_ROOT / "configs/model/offline.yaml").read_text())})
    gguf_cfg = yaml.safe_load((PROJECT_ROOT / "configs/model/gguf.yaml").read_text())
    judge = build_verifier({**gguf_cfg, "path": args.model, "threads": args.threads, "poll": args.poll})
    encoder = sentence_encoder()
    out = Path(args.out)
    done = set()
    if out.exists():
        done = {json.loads(x)["claim_id"] for x in out.read_text().splitlines() if x.strip()}
    with out.open("a", encoding="utf-8") as sink:
        for episode_id in args.episodes:
            ep = episodes[episode_id]
            tpath = ep["transcript"]
            path = PROJECT_ROOT / tpath.split(":", 1)[1] if tpath.startswith("project:") else Path(args.shared) / tpath
            transcript = mark_sponsors(load_transcript(path, ep["transcript_format"]),
                                       sponsor_config_from_mapping(sponsors_cfg))
            windows = build_windows(transcript, w["size_turns"], w["stride_turns"], w["max_words"])
            emb = embed_windows(windows, encoder=encoder, batch_size=64, config_key=json.dumps(w, sort_keys=True))
            index = WindowIndex(windows, emb.matrix, rc)
            claims = [json.loads(x) for x in (Path(args.claims_dir) / f"claims_{episode_id}.jsonl").read_text().splitlines() if x.strip()]
            claims = claims[:: args.every]
            if args.limit:
                claims = claims[: args.limit]
            claims = [c for c in claims if c["claim_id"] not in done]
            if not claims:
                continue
            qm = _encode(encoder, [c["text"] for c in claims], 64)
            hits = index.search([c["text"] for c in claims], qm, rc.top_k)
            for claim, hs in zip(claims, hits):
                pairs = [VerifyPair(claim["text"], windows[h.window_index].text) for h in hs]
                t0 = time.perf_counter()
                off = offline.score(pairs)
                t1 = time.perf_counter()
                jud = judge.score(pairs)
                t2 = time.perf_counter()
                row = {
                    "claim_id": claim["claim_id"], "episode_id": episode_id, "split": claim["split"],
                    "label": claim["label"], "kind": claim["kind"],
                    "windows": [
                        {"rank": h.rank, "window_index": h.window_index, "start_s": windows[h.window_index].start_s,
                         "offline_support": round(o.support, 4), "offline_contradiction": o.contradiction,
                         "offline_features": {k: round(float(v), 4) for k, v in o.features.items()},
                         "judge": dict(j.features)}
                        for h, o, j in zip(hs, off, jud)
                    ],
                    "offline_s": round(t1 - t0, 3), "judge_s": round(t2 - t1, 3),
                }
                sink.write(json.dumps(row) + "\n")
                sink.flush()
                log.info("%s %s judge %.1f s", claim["claim_id"], claim["label"], t2 - t1)


if __name__ == "__main__":
    main()
