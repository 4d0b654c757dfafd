"""Meta-evaluation: loading, threshold selection, grouped CV, the command, and the fit script.

Benchmark-like files here are written by the tests with invented pairs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from harness.errors import ConfigError, InputFileError
from harness.meta_eval import (
    BenchmarkRecord,
    balanced_accuracy,
    choose_threshold,
    cross_validated_accuracy,
    evaluate_dataset,
    grouped_folds,
    load_benchmark,
    resolve_benchmark_paths,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SHARED_BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
needs_shared = pytest.mark.skipif(
    not SHARED_BENCHMARKS.is_dir(), reason=f"{SHARED_BENCHMARKS} is absent (shared benchmarks not mounted)"
)


def _record(i: int, label: int, cut: str = "val", doc: str | None = None, dataset: str = "toy") -> BenchmarkRecord:
    return BenchmarkRecord(f"r{i}", dataset, cut, doc or f"document {i}", "claim", label, "mem", i + 1)


# ----------------------------------------------------------------------------------------------
# Threshold selection
# ----------------------------------------------------------------------------------------------


def test_balanced_accuracy_exact() -> None:
    assert balanced_accuracy([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(0.75)
    assert balanced_accuracy([1, 1, 1, 0], [1, 1, 1, 1]) == pytest.approx(0.5)
    assert balanced_accuracy([1, 1], [1, 0]) == pytest.approx(0.5)  # one class: its recall


def test_choose_threshold_exact_and_ties_go_to_the_later_candidate() -> None:
    scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    labels = [0, 0, 1, 0, 1, 1]
    threshold, bacc = choose_threshold(scores, labels)
    # thresholds in [0.2, 0.3) and [0.4, 0.5) both give 5/6; the later wins, as in SummaC.
    # The last candidate below 0.5 is the 79.8th percentile: 0.4 + 0.99 * 0.1.
    assert bacc == pytest.approx(5 / 6)
    assert threshold == pytest.approx(0.499)
    assert balanced_accuracy(labels, [int(s > threshold) for s in scores]) == pytest.approx(5 / 6)


def test_choose_threshold_matches_reference_loop() -> None:
    """Same answer as the SummaC/AggreFact loop (sklearn balanced accuracy, >= ties)."""
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(7)
    scores = rng.random(57)
    labels = (scores + rng.normal(0, 0.3, 57) > 0.5).astype(int)
    best, best_t = 0.0, 0.0
    for t in [np.percentile(scores, p) for p in np.arange(0, 100, 0.2)]:
        b = balanced_accuracy_score(labels, [1 if s > t else 0 for s in scores])
        if b >= best:
            best, best_t = b, t
    threshold, bacc = choose_threshold(scores, labels)
    assert threshold == pytest.approx(best_t) and bacc == pytest.approx(best)


def test_grouped_folds_keep_documents_together_and_are_deterministic() -> None:
    keys = ["a", "a", "b", "c", "c", "c", "d", "e", "f", "g"]
    folds = grouped_folds(keys, 5)
    assert sorted(set(folds.tolist())) == [0, 1, 2, 3, 4]
    for key in set(keys):
        assert len({int(f) for k, f in zip(keys, folds) if k == key}) == 1
    assert grouped_folds(keys, 5).tolist() == folds.tolist()
    assert sorted(set(grouped_folds(["x", "y"], 5).tolist())) == [0, 1]  # fewer groups than folds
    with pytest.raises(ValueError):
        grouped_folds(["x", "x"], 5)


def test_cross_validated_accuracy_exact() -> None:
    # Two folds. Fold 0 holds records 0-3, fold 1 records 4-7.
    scores = np.array([0.1, 0.9, 0.2, 0.8, 0.3, 0.7, 0.6, 0.4])
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    bacc, thresholds = cross_validated_accuracy(scores, labels, folds)
    # Fold 1 (0.3/0.7/0.6/0.4 for 0/1/0/1) is best split above 0.6 or above 0.3 (both 0.75);
    # the later candidate wins: its 99.8th percentile, 0.6 + 0.994 * 0.1.
    t0 = 0.6994
    # Fold 0 (0.1/0.9/0.2/0.8) separates for any threshold in [0.2, 0.8); the last candidate
    # below 0.8 is its 66.6th percentile, 0.2 + 0.998 * 0.6.
    t1 = 0.7988
    assert thresholds == [pytest.approx(t0), pytest.approx(t1)]
    # fold 0 with t0: 0, 1, 0, 1 (all right); fold 1 with t1: 0, 0, 0, 0 (positives missed)
    assert bacc == pytest.approx(0.75)


def test_evaluate_dataset_val_test_protocol() -> None:
    records = [_record(i, lab, "val") for i, lab in enumerate([0, 0, 1, 1])]
    records += [_record(10 + i, lab, "test") for i, lab in enumerate([0, 1, 1, 0])]
    scores = [0.1, 0.2, 0.7, 0.8] + [0.3, 0.9, 0.71, 0.75]
    fig = evaluate_dataset(records, scores)
    assert fig["protocol"] == "val_threshold_test"
    assert fig["n"] == 4 and fig["n_threshold_records"] == 4
    # val separates for thresholds in [0.2, 0.7); the last candidate there is the 66.6th
    # percentile, 0.2 + 0.998 * 0.5
    assert fig["threshold"] == pytest.approx(0.699)
    assert fig["val_balanced_accuracy"] == pytest.approx(1.0)
    assert fig["balanced_accuracy"] == pytest.approx(0.75)  # test predictions 0, 1, 1, 1
    assert fig["roc_auc"] == pytest.approx(0.75)
    assert fig["best_threshold_in_sample"] == pytest.approx(0.75)
    assert fig["positive_rate"] == pytest.approx(0.5)


def test_evaluate_dataset_single_cut_uses_grouped_cv() -> None:
    labels = [0, 1] * 10
    records = [_record(i, lab, doc=f"doc {i // 2}") for i, lab in enumerate(labels)]
    # positives all at 0.9: a threshold chosen on any four folds (the last candidate below the
    # lowest positive) classifies the held-out fold perfectly
    scores = [0.9 if lab else 0.1 + 0.01 * i for i, lab in enumerate(labels)]
    fig = evaluate_dataset(records, scores)
    assert fig["protocol"] == "grouped_5fold_cv"
    assert fig["balanced_accuracy"] == pytest.approx(1.0)
    assert fig["roc_auc"] == pytest.approx(1.0) and fig["n"] == 20 and len(fig["fold_thresholds"]) == 5


# ----------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _row(i: int, **kw) -> dict:
    row = {"id": f"t-{i}", "dataset": "toy", "cut": "val", "document": "A document.", "claim": "A claim.", "label": 1}
    row.update(kw)
    return row


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object"),
        (json.dumps({"id": "x", "dataset": "toy", "cut": "val", "document": "d", "label": 1}), "line 2: missing field"),
        (json.dumps(_row(9, label=2)), "line 2: label must be 0 or 1"),
        (json.dumps(_row(9, label=True)), "line 2: label must be 0 or 1"),
        (json.dumps(_row(9, claim="  ")), "line 2: field 'claim' must be a non-empty string"),
        (json.dumps(_row(0)), "line 2: id 't-0' repeats"),
    ],
)
def test_load_benchmark_rejects_bad_records(tmp_path: Path, bad_line: str, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_row(0)) + "\n" + bad_line + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_benchmark(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_load_benchmark_empty_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no records"):
        load_benchmark(_write_jsonl(tmp_path / "empty.jsonl", []))


def test_resolve_benchmark_paths(tmp_path: Path) -> None:
    a = _write_jsonl(tmp_path / "a.jsonl", [_row(0)])
    b = _write_jsonl(tmp_path / "b.jsonl", [_row(1)])
    (tmp_path / "notes.txt").write_text("x")
    assert resolve_benchmark_paths(str(tmp_path)) == [a.resolve(), b.resolve()]
    assert resolve_benchmark_paths([str(a), str(a)]) == [a.resolve()]
    assert resolve_benchmark_paths("a.jsonl", base=tmp_path) == [a.resolve()]
    with pytest.raises(InputFileError, match="not found"):
        resolve_benchmark_paths(str(tmp_path / "missing.jsonl"))
    with pytest.raises(ConfigError):
        resolve_benchmark_paths([])
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(InputFileError, match="no \\*.jsonl"):
        resolve_benchmark_paths(str(tmp_path / "empty_dir"))


# ----------------------------------------------------------------------------------------------
# End to end with the offline backend on invented pairs
# ----------------------------------------------------------------------------------------------

_FACTS = [
    ("The bakery on Elm Street opened in 1998 and sells rye bread.", "The bakery on Elm Street opened in 1998.", "The bakery on Elm Street opened in 2005."),
    ("Captain Lena Ortiz led the rescue team through the flooded valley.", "Lena Ortiz led the rescue team.", "Marco Diaz led the rescue team."),
    ("The museum did not charge visitors during the spring festival.", "The museum did not charge visitors during the festival.", "The museum charged visitors during the festival."),
    ("The orchestra played twelve concerts in Vienna last year.", "The orchestra played twelve concerts in Vienna.", "The orchestra played forty concerts in Vienna."),
    ("A storm closed the harbour for three days in March.", "A storm closed the harbour for three days.", "An earthquake destroyed the harbour in March."),
    ("The school hired 14 new teachers for the science department.", "The school hired 14 new science teachers.", "The school fired 14 science teachers."),
]


def _toy_rows(cut_of) -> list[dict]:  # noqa: ANN001
    rows = []
    for i, (doc, good, bad) in enumerate(_FACTS):
        document = f"{doc} Local officials commented on the news. Residents were informed by letter."
        rows.append({"id": f"toy-{i}-good", "dataset": "toy", "cut": cut_of(i), "document": document, "claim": good, "label": 1})
        rows.append({"id": f"toy-{i}-bad", "dataset": "toy", "cut": cut_of(i), "document": document, "claim": bad, "label": 0})
    return rows


@pytest.mark.slow
def test_run_meta_eval_end_to_end(tmp_path: Path) -> None:
    from hydra import compose, initialize_config_dir

    from harness.meta_eval import main, run_meta_eval

    single = _write_jsonl(tmp_path / "toy.jsonl", _toy_rows(lambda i: "val"))
    split_rows = _toy_rows(lambda i: "val" if i % 2 == 0 else "test")
    for row in split_rows:
        row["dataset"] = "toy-split"
    split = _write_jsonl(tmp_path / "toy_split.jsonl", split_rows)
    out = tmp_path / "out"
    with initialize_config_dir(config_dir=str(CONFIGS), version_base=None):
        cfg = compose(config_name="meta_eval", overrides=[f"benchmark.path=[{single},{split}]", f"out_dir={out}", "conversation.enabled=false"])
    result = run_meta_eval(cfg)
    written = json.loads((out / "meta_eval.json").read_text())
    assert written["datasets"].keys() == result["datasets"].keys() == {"toy", "toy-split"}
    assert "conversation" not in written
    toy = written["datasets"]["toy"]
    for key in ("n", "balanced_accuracy", "roc_auc", "threshold", "protocol", "best_threshold_in_sample", "positive_rate"):
        assert key in toy
    assert toy["protocol"] == "grouped_5fold_cv" and toy["n"] == 12 and toy["positive_rate"] == 0.5
    assert toy["roc_auc"] > 0.7
    assert written["datasets"]["toy-split"]["protocol"] == "val_threshold_test"
    assert written["datasets"]["toy-split"]["n"] == 6
    assert written["verifier"]["name"] == "offline"
    assert written["timing_s"]["total"] > 0
    scores = [json.loads(line) for line in (out / "meta_eval_scores.jsonl").read_text().splitlines()]
    assert len(scores) == 24 and {"id", "label", "support", "best_chunks"} <= scores[0].keys()
    assert "document" not in scores[0] and "claim" not in scores[0]
    # main() prints the table and returns 0
    with initialize_config_dir(config_dir=str(CONFIGS), version_base=None):
        cfg = compose(config_name="meta_eval", overrides=[f"benchmark.path={single}", f"out_dir={out}", "write_scores=false", "conversation.enabled=false"])
    assert main(cfg) == 0


def test_run_meta_eval_without_out_dir_is_config_error(tmp_path: Path) -> None:
    from harness.meta_eval import run_meta_eval

    path = _write_jsonl(tmp_path / "toy.jsonl", [_row(0)])
    with pytest.raises(ConfigError, match="out_dir"):
        run_meta_eval({"benchmark": {"path": str(path)}, "out_dir": None, "model": {"name": "offline"}})


def test_meta_eval_config_composes() -> None:
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIGS), version_base=None):
        cfg = compose(config_name="meta_eval")
    assert cfg.model.name == "offline" and cfg.model.use_aegis is False
    assert len(cfg.benchmark.path) == 3 and not any("reserved" in p for p in cfg.benchmark.path)
    assert cfg.model.chunking.claim_aggregation in ("min", "mean")
    # the conversation dataset runs the pipeline: its config groups are composed in
    assert cfg.conversation.enabled and list(cfg.conversation.splits) == ["dev", "test"]
    assert cfg.claims.splitter and cfg.align.thresholds and cfg.flags.enabled and cfg.sponsors.rules
    assert cfg.model.thresholds.supported < cfg.align.thresholds.supported  # offline's own, fitted on dev
    with initialize_config_dir(config_dir=str(CONFIGS), version_base=None):
        cfg = compose(config_name="meta_eval", overrides=["model=hf_nli"])
    assert cfg.model.name == "hf_nli" and cfg.model.path is None


# ----------------------------------------------------------------------------------------------
# The fit script
# ----------------------------------------------------------------------------------------------


def _synthetic_table(n: int = 80):
    from harness.chunking import Chunking
    from harness.fit import FeatureTable

    rng = np.random.default_rng(0)
    labels = (rng.random(n) > 0.5).astype(int)
    names = ["cosine_max", "content_precision", "negation_mismatch"]
    rows, layout, chunk_layout = [], [], []
    for i, y in enumerate(labels):
        # two chunks per record: a distractor chunk and the one that carries the label signal
        signal = [0.5 + 0.4 * y + rng.normal(0, 0.1), 0.5 + 0.3 * y + rng.normal(0, 0.1), float(rng.random() < 0.3 * (1 - y))]
        noise = [0.2 + rng.normal(0, 0.05), 0.2 + rng.normal(0, 0.05), 0.0]
        base = len(rows)
        rows += [noise, signal]
        layout.append([[base, base + 1]])
        chunk_layout.append((["claim"], Chunking((), 0, 0), [[base, base + 1]]))
    return FeatureTable(np.array(rows), names, layout, chunk_layout), labels


def test_fit_weights_recovers_signs_and_is_deterministic() -> None:
    from harness.fit import fit_weights

    table, labels = _synthetic_table()
    idx = list(range(len(labels)))
    kw = dict(aggregation="min", C=1.0, seed=0, iterations=10)
    w1, b1, _ = fit_weights(table, labels, idx, table.names, **kw)
    w2, b2, _ = fit_weights(table, labels, idx, table.names, **kw)
    assert w1 == w2 and b1 == b2
    assert w1["cosine_max"] > 0 and w1["content_precision"] > 0
    assert "negation_mismatch" not in w1 or w1["negation_mismatch"] < 0


def test_fit_weights_drops_wrongly_signed_feature() -> None:
    from harness.fit import fit_weights

    table, labels = _synthetic_table()
    # make negation_mismatch a positive signal: a constrained fit must drop it
    col = table.names.index("negation_mismatch")
    for i, y in enumerate(labels):
        table.matrix[table.layout[i][0][1], col] = float(y)
    w, _, _ = fit_weights(table, labels, list(range(len(labels))), table.names, aggregation="min", C=1.0, seed=0, iterations=10)
    assert "negation_mismatch" not in w
    w_free, _, _ = fit_weights(
        table, labels, list(range(len(labels))), table.names, aggregation="min", C=1.0, seed=0, iterations=10, sign_constrained=False
    )
    assert w_free["negation_mismatch"] > 0


def test_fit_write_block_replaces_only_the_fitted_block(tmp_path: Path) -> None:
    from harness.fit import BEGIN_MARK, END_MARK, render_block, write_block

    config = tmp_path / "offline.yaml"
    config.write_text(f"name: offline\n{BEGIN_MARK}\nlogistic: old\n{END_MARK}\ntail: 1\n", encoding="utf-8")
    report = {
        "date": "2000-01-01", "seed": 0, "C": 1.0, "aggregation": "min", "max_words": 250, "iterations": 3,
        "features": ["cosine_max"], "dropped": [],
        "nested_cv": {"toy": {"n": 10, "nested_cv_balanced_accuracy": 0.7, "nested_cv_pooled_roc_auc": 0.8}},
    }
    write_block(config, render_block({"cosine_max": 2.5}, -1.25, report))
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(config)
    assert cfg.name == "offline" and cfg.tail == 1
    assert cfg.logistic.intercept == -1.25 and cfg.logistic.weights.cosine_max == 2.5
    assert cfg.fit_report.toy.nested_cv_balanced_accuracy == 0.7


@needs_shared
def test_tuning_records_exclude_reserved_and_test() -> None:
    from harness.fit import TUNING_FILES, load_tuning_records

    assert not any("reserved" in rel for rel, _ in TUNING_FILES)
    records = load_tuning_records(SHARED_BENCHMARKS)
    assert {r.cut for r in records} == {"val"}
    assert not any("reserved" in Path(r.source).parts for r in records)
    assert len(records) == 100 + 311 + 150


@needs_shared
def test_shared_benchmark_files_validate() -> None:
    for rel in ("summac/summeval.jsonl", "summac/factcc.jsonl", "aggrefact/xsum.jsonl"):
        records = load_benchmark(SHARED_BENCHMARKS / rel)
        assert records and all(r.label in (0, 1) for r in records)


def test_format_table_flags_reserved_and_in_sample_weights() -> None:
    from harness.meta_eval import format_table

    table = format_table(
        {
            "datasets": {
                "tuned": {
                    "n": 10, "balanced_accuracy": 0.7, "roc_auc": 0.8, "best_threshold_in_sample": 0.75,
                    "protocol": "grouped_5fold_cv", "weights_fitted_on_evaluated_records": True,
                    "nested_cv_from_fit": {"nested_cv_balanced_accuracy": 0.65},
                },
                "held": {
                    "n": 5, "balanced_accuracy": 0.6, "roc_auc": None, "best_threshold_in_sample": 0.6,
                    "protocol": "grouped_5fold_cv", "reserved": True,
                },
            }
        }
    )
    lines = table.splitlines()
    assert "nested CV 0.650" in lines[1] and "[weights fitted on these records" in lines[1]
    assert lines[2].endswith("[reserved]") and " n/a " in lines[2]
