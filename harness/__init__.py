"""harness: how good is a summary of a long transcript?

Pipeline (one module per stage): ``transcript`` (parse) → ``sponsors`` → ``formats`` (summary
units) → ``claims`` → ``align`` (retrieve + verify) → metrics → flags → ``report``.
"""

__version__ = "0.1.0"
