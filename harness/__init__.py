"""harness: how good is a summary of a long transcript?

Pipeline (one module per stage): ``transcript`` (parse) → ``sponsors`` → ``formats`` (summary
units) → ``claims`` → ``align`` (retrieve + verify) → metrics → flags → ``report``.
"""

__version__ = "0.1.0"

__all__ = ["evaluate", "load_run", "Evaluator", "RunResult", "RunView", "__version__"]


def __getattr__(name: str):  # nothing heavy at import: the API loads on first use
    if name in ("evaluate", "load_run", "Evaluator", "RunView"):
        from harness import api

        return getattr(api, name)
    if name == "RunResult":
        from harness.pipeline import RunResult

        return RunResult
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
