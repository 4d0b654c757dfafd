"""Meta-evaluation: how often does the verifier agree with human consistency labels?

Reads benchmark JSONL files (one ``{id, dataset, cut, document, claim, label}`` object per line,
``label`` 1 = consistent), scores every (claim, document) pair with the configured verifier by
chunk-and-max, and reports per dataset:

* with both a ``val`` and a ``test`` cut: the threshold that maximises balanced accuracy on val
  (candidates: val score percentiles 0, 0.2, …, 99.8; predict 1 when score > threshold; ties go
  to the later candidate, as in SummaC's and AggreFact's ``choose_best_threshold``), applied to
  test (``protocol: val_threshold_test``);
* with one cut: the same threshold search inside 5-fold cross-validation grouped by document,
  and the pooled out-of-fold balanced accuracy (``protocol: grouped_5fold_cv``);
* always: ROC AUC, the positive rate, and ``best_threshold_in_sample``, the best balanced
  accuracy of any threshold chosen on the reported records themselves (the optimistic figure
  the SummaC paper reports).

The result is written atomically to ``<out_dir>/meta_eval.json`` (and per-record scores, without
any benchmark text, to ``meta_eval_scores.jsonl``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from harness.errors import ConfigError, InputFileError
from harness.textio import read_jsonl_objects

log = logging.getLogger(__name__)

REQUIRED_FIELDS = ("id", "dataset", "cut", "document", "claim", "label")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BenchmarkRecord:
    """One human-labelled (document, claim) pair.

    Attributes:
        id: the record's id, unique within its dataset.
        dataset: dataset name; figures are reported per dataset.
        cut: ``val``, ``test`` or another split name.
        document: the source text.
        claim: the summary or summary sentence to check.
        label: 1 consistent, 0 inconsistent.
        source: the file the record came from.
        line_no: 1-based line in that file.
    """

    id: str
    dataset: str
    cut: str
    document: str
    claim: str
    label: int
    source: str
    line_no: int

    @property
    def document_key(self) -> str:
        """Hash of the document text, the group key for cross-validation."""
        return hashlib.sha256(self.document.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def resolve_benchmark_paths(spec: str | os.PathLike[str] | Sequence[Any], base: Path | None = None) -> list[Path]:
    """Expand ``benchmark.path`` (a file, a folder meaning its ``*.jsonl``, or a list of these).

    Relative paths are tried against ``base`` (the directory the user started in) and then the
    project root, so the default ``../shared/benchmarks/...`` works from either.
    """
    if spec is None or (isinstance(spec, (str, os.PathLike)) and not str(spec).strip()):
        raise ConfigError("benchmark.path is empty: give a JSONL file, a folder, or a list of them")
    items = [spec] if isinstance(spec, (str, os.PathLike)) else list(spec)
    if not items:
        raise ConfigError("benchmark.path is an empty list")
    out: list[Path] = []
    for item in items:
        path = _locate(Path(str(item)).expanduser(), base)
        if path.is_dir():
            found = sorted(path.glob("*.jsonl"))
            if not found:
                raise InputFileError(path, "folder holds no *.jsonl files")
            out.extend(found)
        else:
            out.append(path)
    unique = list(dict.fromkeys(p.resolve() for p in out))
    return unique


def _locate(path: Path, base: Path | None) -> Path:
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = [(base or Path.cwd()) / path, PROJECT_ROOT / path]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise InputFileError(candidates[0], "benchmark file or folder not found")


def load_benchmark(path: Path) -> list[BenchmarkRecord]:
    """Read and validate one benchmark JSONL file.

    Raises:
        InputFileError: unreadable file, a line that is not a JSON object, a missing or mistyped
            field, a label other than 0/1, an empty document or claim, or a repeated id.
    """
    records: list[BenchmarkRecord] = []
    seen: set[tuple[str, str]] = set()
    for line_no, obj in read_jsonl_objects(path):
        missing = [f for f in REQUIRED_FIELDS if f not in obj]
        if missing:
            raise InputFileError(path, f"line {line_no}: missing field(s) {', '.join(missing)}")
        for field in ("id", "dataset", "cut", "document", "claim"):
            if not isinstance(obj[field], str) or not obj[field].strip():
                raise InputFileError(path, f"line {line_no}: field {field!r} must be a non-empty string")
        label = obj["label"]
        if isinstance(label, bool) or label not in (0, 1):
            raise InputFileError(path, f"line {line_no}: label must be 0 or 1, got {label!r}")
        key = (obj["dataset"], obj["id"])
        if key in seen:
            raise InputFileError(path, f"line {line_no}: id {obj['id']!r} repeats in dataset {obj['dataset']!r}")
        seen.add(key)
        records.append(
            BenchmarkRecord(
                id=obj["id"],
                dataset=obj["dataset"],
                cut=obj["cut"],
                document=obj["document"],
                claim=obj["claim"],
                label=int(label),
                source=str(path),
                line_no=line_no,
            )
        )
    if not records:
        raise InputFileError(path, "no records")
    return records


# --------------------------------------------------------------------------------------------
# Threshold selection and scoring protocol
# --------------------------------------------------------------------------------------------


def balanced_accuracy(labels: Sequence[int] | np.ndarray, preds: Sequence[int] | np.ndarray) -> float:
    """Mean of the per-class recalls over the classes present in ``labels``."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(preds, dtype=bool)
    recalls = [float(np.mean(p[y])) if y.any() else None, float(np.mean(~p[~y])) if (~y).any() else None]
    present = [r for r in recalls if r is not None]
    return float(sum(present) / len(present)) if present else float("nan")


def choose_threshold(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> tuple[float, float]:
    """The SummaC / AggreFact threshold search; returns ``(threshold, balanced accuracy)``.

    Candidates are the ``scores``' percentiles 0, 0.2, …, 99.8 (numpy's linear interpolation);
    a record is predicted consistent when its score is greater than the threshold; the
    candidate with the highest balanced accuracy wins, the later one on ties.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=bool)
    if s.size == 0:
        raise ValueError("no scores to choose a threshold from")
    candidates = np.percentile(s, np.arange(0, 100, 0.2))
    preds = s[None, :] > candidates[:, None]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    parts = []
    if n_pos:
        parts.append((preds & y).sum(axis=1) / n_pos)
    if n_neg:
        parts.append((~preds & ~y).sum(axis=1) / n_neg)
    bacc = sum(parts) / len(parts)
    best = len(bacc) - 1 - int(np.argmax(bacc[::-1]))
    return float(candidates[best]), float(bacc[best])


def grouped_folds(group_keys: Sequence[str], n_splits: int = 5) -> np.ndarray:
    """Deterministic fold number per record, keeping each group (document) in one fold.

    Uses scikit-learn's ``GroupKFold`` (largest groups first, each to the emptiest fold) on the
    groups ordered by key; fewer groups than ``n_splits`` gives one fold per group.
    """
    from sklearn.model_selection import GroupKFold

    keys = np.asarray(list(group_keys))
    n_groups = len(set(keys.tolist()))
    if n_groups < 2:
        raise ValueError("grouped cross-validation needs at least two groups")
    folds = np.full(len(keys), -1, dtype=int)
    splitter = GroupKFold(n_splits=min(n_splits, n_groups))
    for k, (_, test_idx) in enumerate(splitter.split(np.zeros(len(keys)), groups=keys)):
        folds[test_idx] = k
    return folds


def cross_validated_accuracy(
    scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray, folds: np.ndarray
) -> tuple[float, list[float]]:
    """Pooled out-of-fold balanced accuracy with a threshold chosen on the other folds.

    Returns the pooled balanced accuracy and the threshold used for each fold.
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    preds = np.zeros(len(s), dtype=int)
    thresholds = []
    for k in sorted(set(folds.tolist())):
        held = folds == k
        threshold, _ = choose_threshold(s[~held], y[~held])
        thresholds.append(threshold)
        preds[held] = (s[held] > threshold).astype(int)
    return balanced_accuracy(y, preds), thresholds


def roc_auc(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float | None:
    """ROC AUC, ``None`` when only one class is present."""
    y = np.asarray(labels, dtype=int)
    if y.min() == y.max():
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, np.asarray(scores, dtype=float)))


def evaluate_dataset(
    records: Sequence[BenchmarkRecord], scores: Sequence[float], n_splits: int = 5
) -> dict[str, Any]:
    """The figures for one dataset (see the module docstring for the protocols)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray([r.label for r in records], dtype=int)
    cuts = np.asarray([r.cut for r in records])
    result: dict[str, Any] = {"cuts": {c: int((cuts == c).sum()) for c in sorted(set(cuts.tolist()))}}
    if "val" in result["cuts"] and "test" in result["cuts"]:
        val, test = cuts == "val", cuts == "test"
        threshold, val_bacc = choose_threshold(s[val], y[val])
        preds = (s[test] > threshold).astype(int)
        result.update(
            protocol="val_threshold_test",
            n=int(test.sum()),
            n_threshold_records=int(val.sum()),
            balanced_accuracy=balanced_accuracy(y[test], preds),
            threshold=threshold,
            val_balanced_accuracy=val_bacc,
            roc_auc=roc_auc(s[test], y[test]),
            best_threshold_in_sample=choose_threshold(s[test], y[test])[1],
            positive_rate=float(y[test].mean()),
        )
        return result
    groups = [r.document_key for r in records]
    threshold, in_sample = choose_threshold(s, y)
    if len(set(groups)) < 2:
        result.update(protocol="in_sample_only", balanced_accuracy=in_sample, fold_thresholds=[])
    else:
        folds = grouped_folds(groups, n_splits)
        bacc, fold_thresholds = cross_validated_accuracy(s, y, folds)
        result.update(
            protocol=f"grouped_{len(fold_thresholds)}fold_cv",
            balanced_accuracy=bacc,
            fold_thresholds=fold_thresholds,
        )
    result.update(
        n=len(records),
        threshold=threshold,
        roc_auc=roc_auc(s, y),
        best_threshold_in_sample=in_sample,
        positive_rate=float(y.mean()),
    )
    return result


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def _container(cfg: Any) -> dict[str, Any]:
    from omegaconf import OmegaConf

    if OmegaConf.is_config(cfg):
        return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
    return dict(cfg)


def _start_dir() -> Path:
    try:
        from hydra.core.hydra_config import HydraConfig

        if HydraConfig.initialized():
            return Path(HydraConfig.get().runtime.cwd)
    except Exception:  # noqa: BLE001 - Hydra absent or not running: use the process cwd
        pass
    return Path.cwd()


def _out_dir(value: Any) -> Path:
    if value:
        return Path(str(value)).expanduser()
    try:
        from hydra.core.hydra_config import HydraConfig

        if HydraConfig.initialized():
            return Path(HydraConfig.get().runtime.output_dir)
    except Exception:  # noqa: BLE001
        pass
    raise ConfigError("out_dir is not set (pass out_dir=... or run through the harness CLI)")


def _fitted_on(description: Mapping[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for item in description.get("fitted_on") or []:
        for cut in item.get("cuts", []):
            out.add((str(item.get("dataset")), str(cut)))
    return out


def run_meta_eval(cfg: Any) -> dict[str, Any]:
    """Score the configured benchmark files with the configured verifier and write the figures.

    Args:
        cfg: the composed ``meta_eval`` config (``model``, ``benchmark.path``, ``out_dir``,
            ``cv_folds``, ``write_scores``).

    Returns:
        ``{"datasets": {name: figures}, "verifier": describe(), "timing_s": {...}, ...}``.
    """
    from harness.backends import VerifyPair, build_verifier
    from harness.chunking import ChunkingOptions, score_chunked
    from harness.textio import atomic_write_json, atomic_write_jsonl, sha256_file

    conf = _container(cfg)
    started = time.perf_counter()
    bench = conf.get("benchmark") or {}
    conversation = conf.get("conversation") or {}
    news = bool(bench.get("path")) or not conversation.get("enabled")
    paths = resolve_benchmark_paths(bench.get("path"), _start_dir()) if news else []
    out_dir = _out_dir(conf.get("out_dir"))
    n_splits = int(conf.get("cv_folds", 5))
    if n_splits < 2:
        raise ConfigError(f"cv_folds must be at least 2, got {n_splits}")
    model_cfg = conf.get("model") or {}
    options = ChunkingOptions.from_config(model_cfg.get("chunking"))

    by_dataset: dict[str, list[BenchmarkRecord]] = defaultdict(list)
    files = []
    for path in paths:
        records = load_benchmark(path)
        files.append({"path": str(path), "sha256": sha256_file(path), "records": len(records), "reserved": "reserved" in path.parts})
        for record in records:
            by_dataset[record.dataset].append(record)

    t0 = time.perf_counter()
    verifier = build_verifier(model_cfg)
    load_s = time.perf_counter() - t0
    description = dict(verifier.describe())
    fitted_on = _fitted_on(description)

    datasets: dict[str, Any] = {}
    scoring_s: dict[str, float] = {}
    score_rows: list[dict[str, Any]] = []
    for name, records in by_dataset.items():
        t0 = time.perf_counter()
        pairs = [VerifyPair(claim=r.claim, evidence=r.document) for r in records]
        results = score_chunked(verifier, pairs, options)
        scoring_s[name] = round(time.perf_counter() - t0, 3)
        supports = [res.score.support for res in results]
        figures = evaluate_dataset(records, supports, n_splits)
        evaluated_cuts = {"test"} if figures["protocol"] == "val_threshold_test" else set(figures["cuts"])
        figures["source_files"] = sorted({r.source for r in records})
        figures["reserved"] = any("reserved" in Path(r.source).parts for r in records)
        if fitted_on:
            seen = any((name, c) in fitted_on for c in evaluated_cuts)
            figures["weights_fitted_on_evaluated_records"] = seen
            nested = (description.get("fit_report") or {}).get(name)
            if seen and nested:
                # the honest figure for these records: weights and threshold fitted without them
                figures["nested_cv_from_fit"] = dict(nested)
        figures["truncated_pairs"] = int(sum(res.score.features.get("truncated", 0.0) > 0 for res in results))
        figures["mean_chunks_per_document"] = float(np.mean([res.chunking.n_chunks for res in results]))
        datasets[name] = figures
        log.info(
            "meta-eval %s: %d pairs scored in %.1f s; balanced accuracy %.3f (%s), ROC AUC %s",
            name, len(records), scoring_s[name], figures["balanced_accuracy"], figures["protocol"],
            "n/a" if figures["roc_auc"] is None else f"{figures['roc_auc']:.3f}",
        )
        for record, res in zip(records, results):
            score_rows.append(
                {
                    "id": record.id,
                    "dataset": record.dataset,
                    "cut": record.cut,
                    "label": record.label,
                    "support": res.score.support,
                    "contradiction": res.score.contradiction,
                    "best_chunks": [s.best_chunk for s in res.sentences],
                    "n_chunks": res.chunking.n_chunks,
                    "truncated": res.score.features.get("truncated", 0.0),
                }
            )

    conversation_result = None
    if conversation.get("enabled"):
        t0 = time.perf_counter()
        conversation_result, conversation_rows = run_conversation(conf, verifier)
        scoring_s["conversation"] = round(time.perf_counter() - t0, 3)

    result = {
        "datasets": datasets,
        **({"conversation": conversation_result} if conversation_result is not None else {}),
        # described again after scoring: an LLM judge's pair counts and seconds are known now
        "verifier": dict(verifier.describe()),
        "chunking": {
            "max_words": options.max_words,
            "overlap_sentences": options.overlap_sentences,
            "claim_aggregation": options.claim_aggregation,
            "min_claim_sentence_words": options.min_claim_sentence_words,
        },
        "files": files,
        "cv_folds": n_splits,
        "timing_s": {
            "load_verifier": round(load_s, 3),
            "scoring": scoring_s,
            "total": round(time.perf_counter() - started, 3),
        },
    }
    atomic_write_json(out_dir / "meta_eval.json", result)
    if conf.get("write_scores", True):
        atomic_write_jsonl(out_dir / "meta_eval_scores.jsonl", score_rows)
        if conversation_result is not None:
            atomic_write_jsonl(out_dir / "meta_eval_conversation_scores.jsonl", conversation_rows)
    return result


def run_conversation(conf: Mapping[str, Any], verifier: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``conversation`` dataset: the project's own benchmark (``benchmarks/conversation``),
    scored by the real pipeline (``harness.benchmarks.conversation_eval``)."""
    from harness.benchmarks.conversation import check_sources, load_benchmark
    from harness.benchmarks.conversation_eval import DEFAULT_PROBLEM_FLAGS, evaluate_conversation

    settings = conf.get("conversation") or {}
    root = settings.get("path") or "benchmarks/conversation"
    root_path = Path(str(root))
    if not root_path.is_absolute():
        root_path = PROJECT_ROOT / root_path
    bench = load_benchmark(root_path)
    splits = list(settings.get("splits") or ["dev", "test"])
    only = set(settings.get("episodes") or ())
    records = set(settings.get("records") or ("claims", "units"))
    if not records <= {"claims", "units"}:
        raise ConfigError(f"conversation.records: {sorted(records)}: use claims, units or both")
    wanted = {e.episode_id for e in bench.episodes if e.split in splits and (not only or e.episode_id in only)}
    problems = check_sources(bench, wanted)
    if problems:
        raise InputFileError(root_path, "; ".join(problems))
    bench = type(bench)(
        root=bench.root,
        episodes=tuple(e for e in bench.episodes if e.episode_id in wanted),
        units=tuple(u for u in bench.units if u.episode_id in wanted and "units" in records),
        claims=tuple(c for c in bench.claims if c.episode_id in wanted and "claims" in records),
        files=bench.files,
    )
    run_cfg = {k: conf[k] for k in ("claims", "align", "flags", "sponsors", "model") if k in conf}
    missing = [k for k in ("claims", "align", "flags", "sponsors") if k not in run_cfg]
    if missing:
        raise ConfigError(f"meta-eval conversation needs the config groups {', '.join(missing)}")
    flags = settings.get("problem_flags") or list(DEFAULT_PROBLEM_FLAGS)
    result, rows = evaluate_conversation(bench, run_cfg, verifier, problem_flags=flags)
    result["files"] = [dict(f) for f in bench.files]
    return result, rows


def format_table(result: Mapping[str, Any]) -> str:
    """A plain-text table of the per-dataset figures."""
    lines = [f"{'dataset':<24} {'n':>5} {'bal.acc':>8} {'ROC AUC':>8} {'in-sample':>9}  protocol"]
    for name, fig in result["datasets"].items():
        auc = "n/a" if fig["roc_auc"] is None else f"{fig['roc_auc']:.3f}"
        tag = "  [reserved]" if fig.get("reserved") else ""
        if fig.get("weights_fitted_on_evaluated_records"):
            nested = fig.get("nested_cv_from_fit") or {}
            honest = nested.get("nested_cv_balanced_accuracy")
            tag += "  [weights fitted on these records" + (f"; nested CV {honest:.3f}]" if honest is not None else "]")
        lines.append(
            f"{name:<24} {fig['n']:>5} {fig['balanced_accuracy']:>8.3f} {auc:>8} "
            f"{fig['best_threshold_in_sample']:>9.3f}  {fig['protocol']}{tag}"
        )
    return "\n".join(lines)


def format_conversation_table(conv: Mapping[str, Any]) -> str:
    """Plain-text rows of the conversation figures: units and claims per split."""
    lines = [f"{'conversation':<24} {'n':>5} {'bal.acc':>8} {'ROC AUC':>8} {'false al.':>9} {'at moment':>9}  recall per kind"]
    for split, fig in conv["splits"].items():
        for part in ("units", "claims"):
            f = fig[part]
            if not f.get("n"):
                continue
            auc = "n/a" if f.get("roc_auc") is None else f"{f['roc_auc']:.3f}"
            fa = f.get("false_alarms_on_faithful", f.get("false_alarm_rate"))
            by = f.get("by_error_kind") if part == "units" else f.get("by_kind")
            kinds = ", ".join(f"{k} {v['flagged']:.2f}" for k, v in (by or {}).items() if not k.startswith("faithful") and k != "supported")
            fa_text = "n/a" if fa is None else f"{fa:.3f}"
            # share of records (with labelled moments) whose deciding evidence lies at the moment
            at = (f.get("evidence_at_moment") or {}).get("share")
            at_text = "n/a" if at is None else f"{at:.3f}"
            lines.append(
                f"{split + ' ' + part:<24} {f['n']:>5} {f['balanced_accuracy']:>8.3f} {auc:>8} {fa_text:>9} {at_text:>9}  {kinds}"
            )
    return "\n".join(lines)


def main(cfg: Any) -> int:
    """Entry point for ``python -m harness meta-eval``: run, print the table, return 0."""
    result = run_meta_eval(cfg)
    if result["datasets"]:
        print(format_table(result))
    if result.get("conversation"):
        print(format_conversation_table(result["conversation"]))
    print(f"wrote {Path(_out_dir(_container(cfg).get('out_dir'))) / 'meta_eval.json'}")
    return 0
