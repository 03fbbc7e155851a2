"""Command line: ``python -m visagnn {run,grid,report,scale} ...``.

``run`` trains one method on one dataset (:mod:`visagnn.run.command`); ``grid`` and ``report``
run the benchmark suite (:mod:`visagnn.bench.cli`, which needs the ``notebooks`` extra), and
``scale`` the scaling benchmark (:mod:`visagnn.bench.scaling.cli`, the same extra). Each
subcommand's module is imported only when that subcommand is chosen, so ``import visagnn.cli``
and ``python -m visagnn --help`` load neither torch nor the benchmark's notebook stack, and
``python -m visagnn run`` never imports :mod:`visagnn.bench`.

A bad input ends with one line on stderr, ``python -m visagnn <command>: error: ...``, naming
the flag and the valid choices, and exit code 2; an output that cannot be written once work has
started (a full disk) ends with one line naming the file, and exit code 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from visagnn.flags import UsageError
from visagnn.utils.atomic_write import OutputError

PROG = "python -m visagnn"


@dataclass(frozen=True)
class Command:
    """A subcommand: ``configure`` (``"module:function"``) adds its arguments to its parser and
    sets ``handler``; ``extra`` is the pip extra its module needs beyond the package's own
    dependencies."""

    configure: str
    help: str
    extra: str | None = None


COMMANDS: dict[str, Command] = {
    "run": Command("visagnn.run.command:configure", "train one method on one dataset"),
    "grid": Command("visagnn.bench.cli:configure_grid",
                    "run a benchmark grid (one experiment notebook per dataset and batch size), "
                    "then render its reports", extra="notebooks"),
    "report": Command("visagnn.bench.cli:configure_report",
                      "render the reports of a results store, without training",
                      extra="notebooks"),
    "scale": Command("visagnn.bench.scaling.cli:configure",
                     "the scaling benchmark: cost against graph size, and against plain PyG "
                     "at equal work, then its report", extra="notebooks"),
    "gpu-check": Command("visagnn.bench.gpu_check:configure",
                         "the prepared GPU check: scale point, CUDA tests, Table 5, targets"),
}


class CommandParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``--help`` shows the usage)."""

    def error(self, message: str) -> typing.NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def missing_extra_message(name: str, command: Command, missing: str) -> str:
    """The error for a subcommand whose extra's module ``missing`` is not installed."""
    return (f"{PROG} {name} needs the {command.extra!r} extra (no module named {missing!r}): "
            f"pip install 'visagnn[{command.extra}]', or from a checkout "
            f"pip install -e '.[{command.extra}]'")


def _configurer(name: str, command: Command) -> Callable[[argparse.ArgumentParser], None]:
    module_name, function = command.configure.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if command.extra is None or missing in ("", "visagnn"):
            raise
        raise UsageError(missing_extra_message(name, command, missing)) from None
    return getattr(module, function)


def build_parser(command: str | None = "run") -> argparse.ArgumentParser:
    """The parser of ``python -m visagnn`` with every subcommand listed and ``command``'s
    arguments added (only its module is imported).

    Raises:
        UsageError: when ``command`` needs an extra that is not installed.
    """
    parser = CommandParser(prog=PROG, description=__doc__.split("\n\n")[1])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, spec in COMMANDS.items():
        subparser = subparsers.add_parser(name, help=spec.help, description=spec.help)
        if name == command:
            _configurer(name, spec)(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the chosen subcommand, return its exit
    code; bad input exits with code 2 and a one-line error."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    chosen = arguments[0] if arguments and arguments[0] in COMMANDS else None
    try:
        parser = build_parser(chosen)
        args = parser.parse_args(arguments)
        return args.handler(args)
    except (UsageError, OutputError) as exc:
        detail = exc.strerror if isinstance(exc, OutputError) else exc
        print(f"{PROG}{f' {chosen}' if chosen else ''}: error: {detail}", file=sys.stderr)
        raise SystemExit(2 if isinstance(exc, UsageError) else 1) from None

