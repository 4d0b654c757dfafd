"""The Jinja2 templates of the HTML pages (``report.html``, the leaderboards' ``leaderboard.html``)
and of HTML tables.

They ship inside the package (``[tool.setuptools.package-data]`` in pyproject.toml) and are
rendered with autoescape on: every value a template prints is HTML-escaped unless it is
``markupsafe.Markup`` (markup this project built from escaped parts). Printed values are
escaped by ``escape`` (the standard library's ``html.escape``, quotes included, so values are
safe in attribute values; ``None`` prints as nothing), which spells entities as the pages
always have (``&#x27;``, ``&quot;``).
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup


def escape(value: Any) -> Markup:
    """``value`` as safe HTML: ``Markup`` as it is, ``None`` as '', anything else as its text
    with ``& < > " '`` escaped."""
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    if value is None:
        return Markup("")
    return Markup(html.escape(str(value), quote=True))


def code_spans(text: str) -> Markup:
    """Escaped text with its Markdown `code` spans as ``<code>`` (the only markup the
    leaderboards' notes use)."""
    parts = str(text).split("`")
    return Markup("").join(Markup("<code>%s</code>") % escape(p) if i % 2 else escape(p) for i, p in enumerate(parts))


def static_text(name: str) -> str:
    """The text of a static file in this folder (a style sheet, a script) to inline into a page."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def environment() -> jinja2.Environment:
    """A Jinja2 environment over this folder: autoescape on (through ``escape``), undefined
    names an error, block tags leave no blank lines (``trim_blocks``, ``lstrip_blocks``); the
    filter ``code_spans``."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness", "templates"),
        autoescape=True,
        finalize=escape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["code_spans"] = code_spans
    return env
