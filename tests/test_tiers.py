"""The two test tiers: ``python -m pytest`` (everything, what CI runs) and ``-m "not slow"`` (fast).

The slow tier is listed by name in ``tests/conftest.py``. A renamed or deleted test would leave a
stale entry behind and quietly move its successor into the fast tier, so every entry must name a
test (or fixture, or file) that exists.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import conftest

TESTS = Path(__file__).resolve().parent


def _defined_tests(path: Path) -> set[str]:
    """``test_x`` and ``TestClass::test_x`` for every test function a file defines."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names |= {f"{node.name}::{f.name}" for f in node.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test")}
    return names


def _defined_fixtures() -> set[str]:
    names = set()
    for path in TESTS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and any("fixture" in ast.unparse(d) for d in node.decorator_list):
                names.add(node.name)
    return names


def test_every_slow_file_exists():
    missing = sorted(f for f in conftest.SLOW_FILES if not (TESTS / f).is_file())
    assert not missing, f"tests/conftest.py SLOW_FILES names files that do not exist: {missing}"


def test_every_slow_test_exists():
    stale = []
    for entry in conftest.SLOW_TESTS:
        file_name, _, test_path = entry.partition("::")
        path = TESTS / file_name
        if not path.is_file() or test_path not in _defined_tests(path):
            stale.append(entry)
    assert not stale, f"tests/conftest.py SLOW_TESTS names tests that do not exist (renamed?): {stale}"


def test_every_slow_fixture_exists():
    stale = sorted(set(conftest.SLOW_FIXTURES) - _defined_fixtures())
    assert not stale, f"tests/conftest.py SLOW_FIXTURES names fixtures that do not exist: {stale}"


@pytest.mark.parametrize(
    "file_name, test_path, fixtures, slow",
    [
        ("test_reference_runs.py", "test_anything", (), True),  # a whole file
        ("test_cli.py", "test_run_writes_the_three_files", ("tmp_path",), True),  # a test, all parameters
        ("test_cli.py", "test_unknown_command", ("tmp_path",), False),
        ("test_flags.py", "test_some_new_test", ("ref_flags",), True),  # by fixture
        ("test_flags.py", "test_some_new_test", ("synth",), False),
    ],
)
def test_slow_reason(file_name, test_path, fixtures, slow):
    assert (conftest.slow_reason(file_name, test_path, fixtures) is not None) is slow


def test_the_fast_tier_leaves_the_listed_tests_out(request):
    """The marker lands on the collected items (this file is in the fast tier itself)."""
    assert request.node.get_closest_marker("slow") is None
    assert conftest.slow_reason("test_tiers.py", request.node.name, request.node.fixturenames) is None
