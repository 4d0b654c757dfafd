"""Exceptions raised at the pipeline's boundaries.

Each carries a message meant for the user's terminal: one line naming the file (or config key)
and what is wrong with it. The CLI prints it and exits non-zero, without a traceback.
"""

from __future__ import annotations


class HarnessError(Exception):
    """Base class for errors the CLI reports as one line and exit code 2."""


class InputFileError(HarnessError):
    """An input file is missing, empty, binary, undecodable, too large or not in its format."""

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(HarnessError):
    """A configuration value is missing or invalid (unknown format, backend, metric…)."""


class BackendUnavailableError(HarnessError):
    """A configured model or backend cannot be loaded here (missing package or weights)."""
