"""Shared fixtures: reference paths, Hydra composition, and an offline guard.

Tests never reach the network: model hubs are switched off and any outbound socket connection
(other than loopback) fails the test that makes it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
REFS = ROOT / "references" / "lex-fridman-94"
TRANSCRIPT = REFS / "transcript.md"
SUMMARIES = {name: REFS / "summaries" / f"{name}.md" for name in ("summify", "tldr_qa", "wiki")}
CONFIG_DIR = ROOT / "configs"
SHARED = ROOT.parent / "shared"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")):
            return real_connect(self, address)
        if self.family == socket.AF_UNIX:
            return real_connect(self, address)
        raise RuntimeError(f"test tried to open a network connection to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded)


def pytest_configure(config):
    """configs/ extends the structured schemas of harness/schema.py (issue #18): store them in
    Hydra's ConfigStore before any test composes with Hydra directly."""
    from harness.schema import register_schemas

    register_schemas()


def compose(overrides: list[str] | None = None, config_name: str = "config"):
    """Compose the app config with Hydra the way the CLI does (without running it)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(version_base="1.3", config_dir=str(CONFIG_DIR)):
        return hydra_compose(config_name=config_name, overrides=overrides or [])


@pytest.fixture(scope="session")
def reference_transcript():
    """The reference transcript, parsed and with sponsor segments marked (default config)."""
    from omegaconf import OmegaConf

    from harness.sponsors import mark_sponsors, sponsor_config_from_mapping
    from harness.transcript import load_transcript

    cfg = OmegaConf.to_container(compose().sponsors)
    return mark_sponsors(load_transcript(TRANSCRIPT), sponsor_config_from_mapping(cfg))


@pytest.fixture(scope="session")
def reference_runs(tmp_path_factory) -> dict[str, dict]:
    """The whole pipeline (real models, default config) on the three reference summaries, once
    per test session: ``{name: {"dir", "report", "units"}}``."""
    import json

    from harness.cli import execute_run

    runs = {}
    for name in ("summify", "tldr_qa", "wiki"):
        out = tmp_path_factory.mktemp(name)
        report = execute_run(compose([f"summary={name}"]), out)
        units = [json.loads(line) for line in (out / "units.jsonl").read_text(encoding="utf-8").splitlines()]
        runs[name] = {"dir": out, "report": report, "units": units}
    return runs
