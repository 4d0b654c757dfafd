"""Scale-out: the Ray executor on a local Ray instance (2 CPUs) gives the local executor's
results except timings; the submitit launchers run and compose Hydra multirun sweeps.

Ray and submitit are optional extras (``pip install -e ".[ray,slurm]"``, installed in CI); each
test skips with the reason when its extra is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, compose
from harness.cli import plain_config
from harness.corpus import RUN_FIELDS, comparable, run_corpus

SMALL = ROOT / "tests" / "data" / "corpus_small"
LIGHT = ["stages.flags=false", "stages.timeline=false", "metrics=[units,consistency,coverage]",
         "corpus.progress=false", "corpus.controls=[lead,mismatched]"]


def test_ray_executor_matches_the_local_executor(tmp_path):
    ray = pytest.importorskip("ray", reason='corpus.executor=ray needs the ray extra: pip install -e ".[ray]"')
    local = run_corpus(plain_config(compose([f"corpus.manifest={SMALL / 'manifest.jsonl'}", *LIGHT])), tmp_path / "local")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=100 * 1024 * 1024)
    try:
        remote = run_corpus(
            plain_config(compose([f"corpus.manifest={SMALL / 'manifest.jsonl'}", *LIGHT, "corpus.executor=ray"])),
            tmp_path / "ray",
        )
        workers = {r["worker"] for r in remote["rows"]}
    finally:
        ray.shutdown()
    assert local["failed"] == remote["failed"] == 0
    assert [r["system"] for r in remote["rows"]] == ["notes", "notes", "lead", "mismatched", "lead", "mismatched"]
    assert comparable(remote["rows"]) == comparable(local["rows"])
    # the rows really ran elsewhere: in Ray worker processes, not in this one
    assert str(os.getpid()) not in {w.rsplit(":", 1)[1] for w in workers}
    for name in ("units.jsonl", "report.json"):
        local_units = (tmp_path / "local" / "rows" / "bees__notes" / name).read_text(encoding="utf-8")
        ray_units = (tmp_path / "ray" / "rows" / "bees__notes" / name).read_text(encoding="utf-8")
        if name == "units.jsonl":
            assert ray_units == local_units
        else:
            assert json.loads(ray_units)["metrics"] == json.loads(local_units)["metrics"]
    assert set(RUN_FIELDS) <= set(remote["rows"][0])


def _launcher_installed() -> bool:
    try:
        import hydra_plugins.hydra_submitit_launcher  # noqa: F401
    except ImportError:
        return False
    return True


needs_submitit = pytest.mark.skipif(
    not _launcher_installed(), reason='the submitit launchers need the slurm extra: pip install -e ".[slurm]"'
)


@needs_submitit
def test_multirun_with_the_submitit_local_launcher(tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "-m", "summary=summify,wiki", "hydra/launcher=submitit_local",
         "hydra.launcher.timeout_min=10", "hydra.launcher.cpus_per_task=1", "stages.align=false",
         "stages.flags=false", "stages.timeline=false", "metrics=[units]", f"hydra.sweep.dir={tmp_path}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Submitit 'local' sweep output dir" in proc.stdout + proc.stderr
    for name in ("summify", "wiki"):
        report = json.loads((tmp_path / name / "report.json").read_text())
        assert report["summary"]["format"] == name and report["metrics"]["units.content"]["value"] > 0
    assert (tmp_path / ".submitit").is_dir()  # the jobs went through submitit


@needs_submitit
def test_the_slurm_example_config_composes_to_a_slurm_launcher():
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(ROOT / "configs")):
        cfg = hydra_compose(config_name="config", overrides=["hydra/launcher=slurm_cpu", "hydra.launcher.partition=cpu"],
                            return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_ == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert (launcher.partition, launcher.cpus_per_task, launcher.mem_gb) == ("cpu", 2, 8)
    assert list(launcher.setup) == ["export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1"]
