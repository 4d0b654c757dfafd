"""The transcript ⇄ readers cycle is gone: ``harness.transcript`` imports ``harness.readers`` to
dispatch, and no reader imports ``harness.transcript`` (issue #18)."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import ROOT

READERS = ROOT / "harness" / "readers"


def _imported_modules(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):  # function-level imports too
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", sorted(READERS.glob("*.py")), ids=lambda p: p.name)
def test_no_reader_imports_the_transcript_module(path):
    assert not {m for m in _imported_modules(path) if m == "harness.transcript" or m.startswith("harness.transcript.")}


def test_the_scan_sees_a_function_level_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from harness.transcript import load_transcript\n")
    assert "harness.transcript" in _imported_modules(probe)


@pytest.mark.parametrize("module", ["harness.readers", "harness.readers.markdown_blog", "harness.readers.page", "harness.transcript"])
def test_each_module_imports_alone(module):
    """A fresh interpreter imports the module first; the readers load without the transcript module."""
    code = (
        f"import sys, {module}\n"
        "from harness.readers.base import TRANSCRIPT_READERS\n"
        "loaded = 'harness.transcript' in sys.modules\n"
        f"print(loaded, sorted(TRANSCRIPT_READERS.names()) if {module!r} != 'harness.readers.markdown_blog' else '')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    loaded, _, names = proc.stdout.strip().partition(" ")
    assert loaded == str(module == "harness.transcript")
    if module in ("harness.readers", "harness.transcript"):
        assert names == str(["markdown_blog", "srt", "text", "transcript_page", "webvtt", "whisper_json"])
