"""The Jinja2 templates of the HTML pages (``report.html``, ``leaderboard.html``) and tables.

They ship inside the package (``[tool.setuptools.package-data]`` in pyproject.toml) and are
rendered with autoescape on: every value a template prints is HTML-escaped unless it is
``markupsafe.Markup`` (markup this project built, from escaped parts).
"""

from __future__ import annotations

import jinja2


def environment() -> jinja2.Environment:
    """A Jinja2 environment over this folder: autoescape on, undefined names an error, block tags
    leave no blank lines (``trim_blocks``, ``lstrip_blocks``)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("harness", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
