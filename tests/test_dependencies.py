"""The install contract: every runtime dependency is bounded, and what is installed is within the bounds.

A fresh install (CI's `.ci/run` builds a new venv every time) takes the newest release each bound
allows. transformers 5.25 once broke the trained backend on a fresh install only, because the
bound was open; these tests make an open bound, or an environment outside the bounds, a failure
instead of a surprise.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

packaging_requirements = pytest.importorskip("packaging.requirements")

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    if sys.version_info < (3, 11):
        pytest.skip("tomllib needs Python 3.11+")
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements(group: str | None = None) -> list:
    project = _pyproject()["project"]
    raw = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [packaging_requirements.Requirement(r) for r in raw]


def _has_upper_bound(req) -> bool:
    return any(spec.operator in {"<", "<=", "==", "~=", "==="} for spec in req.specifier)


def test_every_runtime_dependency_has_an_upper_bound():
    open_ended = [str(r) for r in _requirements() if not _has_upper_bound(r)]
    assert open_ended == [], f"dependencies a fresh install could jump a major version on: {open_ended}"


def test_dev_dependencies_have_an_upper_bound():
    open_ended = [str(r) for r in _requirements("dev") if not _has_upper_bound(r)]
    assert open_ended == []


@pytest.mark.parametrize("req", _requirements() if sys.version_info >= (3, 11) else [], ids=str)
def test_installed_version_is_within_the_bounds(req):
    try:
        installed = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{req.name} is a dependency but is not installed; run the README install command")
    # local version labels (torch's "+cpu") are not part of the comparison
    public = installed.split("+", 1)[0]
    assert req.specifier.contains(public, prereleases=True), (
        f"{req.name} {installed} is outside {req.specifier}: the environment was not installed from the bounds"
    )


def test_a_bound_that_excludes_the_installed_version_is_caught():
    """The check above can fail: a bound below what is installed is reported as outside."""
    installed = metadata.version("numpy").split("+", 1)[0]
    req = packaging_requirements.Requirement(f"numpy<{installed}")
    assert not req.specifier.contains(installed, prereleases=True)
