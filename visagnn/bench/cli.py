"""``python -m visagnn grid`` and ``python -m visagnn report``: the benchmark's commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from visagnn.bench import NOTEBOOKS
from visagnn.bench.grid import GRIDS, Grid


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the ``grid`` and ``report`` subcommands to ``python -m visagnn``."""
    grid = commands.add_parser(
        "grid",
        help="run a benchmark grid (one experiment notebook per dataset and batch size), "
             "then render the reports",
        description="Run a benchmark grid, resuming where it stopped, then render reports/.")
    grid.add_argument("--grid", choices=sorted(GRIDS), default="demo",
                      help="demo (default): minutes on a CPU; paper: the experiments of Tables 1-6")
    grid.add_argument("--datasets", nargs="+", default=None,
                      help="datasets (names or .pt paths) instead of the grid's own")
    grid.add_argument("--methods", nargs="+", default=None,
                      help="run only the variants of these methods")
    grid.add_argument("--seeds", type=int, default=None,
                      help="seeds per setting (0..N-1; default: demo 2, paper 5)")
    grid.add_argument("--epochs", type=int, default=None,
                      help="epochs of every run (default: the grid's, else the dataset's)")
    grid.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    grid.add_argument("--threads", type=int, default=None,
                      help="torch CPU threads per run (default: torch's, one per core; the "
                           "demo session uses 1, which does not slow down on a busy machine)")
    grid.add_argument("--jobs", type=int, default=1,
                      help="cells (experiment notebooks) run at a time (default 1, which shows "
                           "each run's progress bar; with more, a line per cell)")
    grid.add_argument("--root", default=None,
                      help="data root (default: $VISAGNN_DATA, else ~/.cache/visagnn)")
    grid.add_argument("--force", action="store_true",
                      help="train again the runs that the results store has finished")
    grid.add_argument("--dry-run", action="store_true",
                      help="list the grid's cells and runs, train nothing")
    _add_folders(grid)
    grid.set_defaults(handler=grid_command)

    report = commands.add_parser(
        "report",
        help="render the reports from the results store, without training",
        description="Execute the report notebook on the results store and write reports/.")
    _add_folders(report)
    report.set_defaults(handler=report_command)


def _add_folders(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="the results store (default: results)")
    parser.add_argument("--reports", type=Path, default=Path("reports"),
                        help="where the HTML reports go (default: reports)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS,
                        help=f"folder of experiment.ipynb and report.ipynb (default: {NOTEBOOKS})")


def make_grid(args: argparse.Namespace) -> Grid:
    options = {"datasets": args.datasets, "epochs": args.epochs, "device": args.device,
               "root": args.root, "methods": args.methods}
    if args.seeds is not None:
        options["seeds"] = args.seeds
    return GRIDS[args.grid](**options)


def grid_command(args: argparse.Namespace) -> int:
    from visagnn.bench.runner import NotebookExecutor, render_reports, run_grid
    from visagnn.bench.store import ResultsStore

    try:
        if args.threads is not None and args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        if args.jobs < 1:
            raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
        grid = make_grid(args)
    except (ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    runs = grid.runs()
    print(f"grid {grid.name!r}: {len(grid.cells)} cells, {len(runs)} runs", flush=True)
    if args.dry_run:
        for cell in grid.cells:
            print(f"  {cell.name}: {len(cell.runs())} runs = {len(cell.methods)} variants × "
                  f"{len(cell.seeds)} seeds: {', '.join(cell.methods)}")
        return 0
    executor = NotebookExecutor(args.notebooks, args.reports.resolve(), echo=args.jobs == 1,
                                threads=args.threads)
    outcomes = run_grid(grid, args.results.resolve(), executor, force=args.force,
                        jobs=args.jobs)
    index = render_reports(args.results, args.reports, args.notebooks)
    failed = [outcome for outcome in outcomes if outcome.status == "failed"]
    latest = ResultsStore(args.results).latest()
    failed_runs = sum(latest[spec.key]["status"] == "failed" for spec in runs
                      if spec.key in latest)
    print(f"reports: {index}" + (f" ({failed_runs} runs failed, {len(failed)} notebooks "
                                 f"stopped; see the report)" if failed_runs else ""))
    return 1 if failed_runs else 0


def report_command(args: argparse.Namespace) -> int:
    from visagnn.bench.runner import render_reports

    print(f"reports: {render_reports(args.results, args.reports, args.notebooks)}")
    return 0
