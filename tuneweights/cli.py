"""The ``tuneweights`` command.

``tuneweights report DIR/PROJECT [--out DIR] [--no-plots] [--objective NAME[:min|max] ...]``
prints the table of trials and the best configuration of a search, and
writes the figures, ``trials.csv`` and ``report.html`` (see
`tuneweights.report`, from `tuneweights.reporting`).

Exit codes: 0 on success; 2 for a wrong argument (a path that is not a project
directory, an objective that was not recorded); 1 when matplotlib is missing
(pass ``--no-plots``).

``tuneweights check DIR/PROJECT`` lists each damaged or missing state file of a
project and what the next ``search(overwrite=False)`` does about it, changing
nothing (`tuneweights.reporting.check`). Exit codes: 0 when the project is
clean, 1 when the next search repairs or works around something, 2 when it
cannot resume (or the path is not a project directory).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import keras_tuner as kt

from tuneweights._validation import ConfigurationError, ConfigurationTypeError
from tuneweights.reporting import check, report

PROG = "tuneweights"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Search the loss weights of multi-loss Keras models with Keras Tuner."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    report = commands.add_parser(
        "report",
        help="table, best configuration, plots and an HTML page of a search",
        description="Report on a search from its project directory (finished or still running).",
    )
    report.add_argument("path", metavar="PATH", help="the search's project directory, DIR/PROJECT")
    report.add_argument("--out", metavar="DIR", help="where to write the files (default: PATH/report)")
    report.add_argument("--no-plots", action="store_true", help="no figures (matplotlib not needed)")
    report.add_argument(
        "--objective",
        metavar="NAME[:min|max]",
        action="append",
        help="the objective to show instead of the search's own; repeat it for several objectives",
    )
    report.add_argument("--top", type=int, default=3, help="best trials whose schedules are drawn (3)")
    checking = commands.add_parser(
        "check",
        help="what is damaged in a project directory and what the next search does about it",
        description=(
            "List each damaged or missing state file of a search's project directory and what the next "
            "`search(overwrite=False)` does about it, changing nothing. Exit code 0: clean; 1: the search "
            "resumes and repairs something; 2: it cannot resume."
        ),
    )
    checking.add_argument("path", metavar="PATH", help="the search's project directory, DIR/PROJECT")
    return parser


def parse_objective(texts: Sequence[str] | None) -> Any:
    """``--objective`` values as `report` takes them.

    Example:
        >>> parse_objective(["val_a_loss"])
        'val_a_loss'
        >>> [str(o) for o in parse_objective(["val_a_loss", "val_acc:max"])]
        ['val_a_loss', 'Objective(name="val_acc", direction="max")']
    """
    if not texts:
        return None
    parsed: list[Any] = []
    for text in texts:
        name, _, direction = text.rpartition(":")
        parsed.append(kt.Objective(name, direction) if name and direction in ("min", "max") else text)
    return parsed[0] if len(parsed) == 1 else parsed


def _report(args: argparse.Namespace) -> int:
    result = report(
        args.path,
        args.out,
        plots=not args.no_plots,
        objective=parse_objective(args.objective),
        top=args.top,
    )
    print(result.to_text())
    print()
    print("Written:")
    for path in result.files.values():
        print(f"  {path}")
    return 0


def _check(args: argparse.Namespace) -> int:
    result = check(args.path)
    print(result.to_text())
    return result.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Example:
        >>> main(["report", "runs/sources", "--no-plots"])  # doctest: +SKIP
        0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return _check(args) if args.command == "check" else _report(args)
    except (ConfigurationError, ConfigurationTypeError) as error:
        return _fail(args.command, error, 2)
    except ImportError as error:
        return _fail(args.command, error, 1)


def _fail(command: str, error: Exception, code: int) -> int:
    message = " ".join(str(error).splitlines())
    print(f"{PROG} {command}: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
