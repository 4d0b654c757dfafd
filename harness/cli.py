"""Hydra entry points. Thin: compose the config, call library code, turn errors into one line.

``python -m harness run summary=summify`` → ``run_app``; other subcommands are dispatched by
``harness.__main__``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from harness.errors import ConfigError, HarnessError
from harness.schema import register_schemas

register_schemas()  # before @hydra.main composes: configs/ extends these schemas

log = logging.getLogger("harness")

CONFIG_DIR = str(Path(__file__).resolve().parent.parent / "configs")


def _run_dir(summary_name: str, manifest: Any, corpus_name: Any, resume: Any, now: str) -> str:
    """``hydra.run.dir`` below ``results/``: ``runs/<summary>/<time>``, or in corpus mode
    ``corpus/<name>/<time>`` (with ``corpus.resume=true``: the latest existing one of that name)."""
    if not manifest:
        return f"runs/{summary_name}/{now}"
    from harness.corpus import corpus_dir

    return corpus_dir(str(manifest), corpus_name, bool(resume), now)


OmegaConf.register_new_resolver("harness_run_dir", _run_dir, replace=True)


def fail(message: str, code: int = 2) -> None:
    """Print one error line to stderr and exit with ``code`` (no traceback)."""
    print(f"harness: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def plain_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as plain containers (what signatures and reports record)."""
    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)  # type: ignore[return-value]
    except Exception as exc:  # omegaconf raises several unrelated types here
        raise ConfigError(f"config: {exc}".splitlines()[0]) from None


def execute_run(cfg: DictConfig, out_dir: str | Path) -> dict[str, Any]:
    """Run the pipeline for ``cfg`` and write the run directory; returns the report dict."""
    from harness.pipeline import run_pipeline
    from harness.report import write_run

    config = plain_config(cfg)
    result = run_pipeline(config)
    return write_run(result, out_dir, config)  # the files it writes: config's report node


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def run_app(cfg: DictConfig) -> None:
    """``python -m harness run``: score one summary against the transcript."""
    from hydra.core.hydra_config import HydraConfig

    out_dir = HydraConfig.get().runtime.output_dir
    if (cfg.get("corpus") or {}).get("manifest"):
        _run_corpus(cfg, out_dir)
        return
    try:
        report = execute_run(cfg, out_dir)
    except HarnessError as exc:
        _discard_unfinished_run_dir(out_dir)
        fail(str(exc))
    except KeyboardInterrupt:
        if _discard_unfinished_run_dir(out_dir):
            fail(f"interrupted; nothing was written ({out_dir} removed)", 130)
        fail(f"interrupted; {out_dir} still holds the previous run, unchanged (a run's files are replaced together)", 130)
    s = report["summary"]
    log.info(
        "%s: %d units (%d boilerplate) → %s",
        s["format"],
        s["units"],
        s["boilerplate_units"],
        out_dir,
    )


# What Hydra puts into a run directory before the run starts.
_HYDRA_FILES = {".hydra", "harness_run.log"}


def _discard_unfinished_run_dir(out_dir: str | Path) -> bool:
    """Remove a run directory that holds nothing but Hydra's own files (its config copy and the
    log of the run that just failed): a failed run leaves no folder behind. A directory holding
    a previous run (or anything else) is kept. Returns whether it was removed."""
    import shutil

    from harness.report.writer import STAGING_SUFFIX

    out = Path(out_dir)
    if not out.is_dir():
        return False
    names = {p.name for p in out.iterdir() if not p.name.endswith(STAGING_SUFFIX)}
    if not names <= _HYDRA_FILES:
        return False
    root = logging.getLogger()
    for handler in list(root.handlers):  # Hydra's handler on harness_run.log goes with its folder
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename).parent == out.resolve():
            root.removeHandler(handler)
            handler.close()
    shutil.rmtree(out, ignore_errors=True)
    return not out.exists()


def _run_corpus(cfg: DictConfig, out_dir: str) -> None:
    from harness.corpus import run_corpus

    try:
        result = run_corpus(plain_config(cfg), out_dir)
    except HarnessError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail(f"interrupted; finished rows are complete under {out_dir}/rows, results.jsonl was not written", 130)
    log.info("corpus: %d rows, %d failed → %s", len(result["rows"]), result["failed"], out_dir)
    if result["failed"]:
        fail(f"{result['failed']} corpus row(s) failed; see {out_dir}/results.jsonl")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="meta_eval")
def meta_eval_app(cfg: DictConfig) -> None:
    """``python -m harness meta-eval``: verifier agreement with human consistency labels."""
    from harness.meta_eval import main as meta_eval_main

    try:
        code = meta_eval_main(cfg)
    except HarnessError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; meta_eval.json was not written (a previous one is unchanged)", 130)
    if code:
        raise SystemExit(code)
