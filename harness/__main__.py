"""``python -m harness <command> [overrides…]``.

Commands:
  run          score a summary against the transcript (Hydra app; ``-m`` for multirun)
  meta-eval    measure the verifier on human-labelled consistency benchmarks
  leaderboard  one row per summary from run directories (default: latest run of each summary)
  check        regression gate: compare a run's metrics and major flags with a baseline file
  bench        speed and memory: per-stage times, verifier pairs vs exhaustive, 1x/4x/16x transcripts
  train-verifier  rebuild the ``trained`` backend's weights from scratch (fixed seed; see --help)
  quotes-survey   match the quotes of every page of a corpus manifest word for word (no verifier)
  sponsor-eval precision and recall of sponsor detection on hand-annotated episodes

``python -m harness leaderboard --help`` and ``python -m harness check --help`` list their options.
"""

from __future__ import annotations

import sys

USAGE = __doc__ or ""


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE.strip())
        return 0
    command, rest = args[0], args[1:]
    if command == "run":
        from harness.cli import run_app
        from harness.config import validate_cli_overrides
        from harness.errors import ConfigError

        # corpus=FILE (the first form of corpus mode) is corpus.manifest=FILE
        rest = [f"corpus.manifest={a[7:]}" if a.startswith("corpus=") else a for a in rest]
        try:  # Hydra would print a mistyped override as several lines and exit 1
            validate_cli_overrides(rest)
        except ConfigError as exc:
            print(f"harness: error: {exc}", file=sys.stderr)
            return 2
        except Exception:  # noqa: BLE001 - an override this check does not understand: Hydra decides
            pass
        sys.argv = [sys.argv[0], *rest]
        run_app()
        return 0
    if command == "meta-eval":
        from harness.cli import meta_eval_app
        from harness.config import validate_cli_overrides
        from harness.errors import ConfigError

        try:  # the same one-line error as `run` for a mistyped override (harness/schema.py)
            validate_cli_overrides(rest, config_name="meta_eval")
        except ConfigError as exc:
            print(f"harness: error: {exc}", file=sys.stderr)
            return 2
        except Exception:  # noqa: BLE001 - an override this check does not understand: Hydra decides
            pass
        sys.argv = [sys.argv[0], *rest]
        meta_eval_app()
        return 0
    if command == "leaderboard":
        from harness.leaderboard import main as leaderboard_main

        return leaderboard_main(rest)
    if command == "check":
        from harness.check import main as check_main

        return check_main(rest)
    if command == "bench":
        from harness.bench import main as bench_main

        return bench_main(rest)
    if command == "train-verifier":
        from harness.train_verifier import main as train_main

        return train_main(rest)
    if command == "quotes-survey":
        from harness.quotes import main as quotes_main

        return quotes_main(rest)

    if command == "sponsor-eval":
        from harness.sponsor_eval import main as sponsor_eval_main

        return sponsor_eval_main(rest)
    print(f"harness: error: unknown command {command!r}\n\n{USAGE.strip()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
