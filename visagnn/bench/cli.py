"""``python -m visagnn grid`` and ``python -m visagnn report``: the benchmark's commands.

Where they write by default: the results store ``results/`` and the pages ``reports/``, both
ignored by git, so that a user's grid never changes tracked files. The committed reference
results live apart, in ``reports/reference/`` (written only by ``nox -s reference``).

Everything is checked before anything trains: the arguments, the data of every dataset (present,
or downloadable unless ``--no-download``), and the output folders (``--results`` and
``--reports`` exist or can be created and written, ``--notebooks`` holds the notebooks). A bad
one is one line per problem naming the flag, exit code 2.

Exit codes of ``grid``: 0 when every run it planned is finished in the store (``ok``, ``oom``
or ``diverged``); 1 when a run failed (a next grid tries it again); :data:`IN_FLIGHT` (3) when
runs it planned are still being trained by another process on the same store (it skipped
them: they are not in its report; its last line says how many); 2 for bad input.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from visagnn.bench import NOTEBOOKS
from visagnn.bench.cluster import ClusterExecutor, check_cluster_flags, connect
from visagnn.bench.grid import GRIDS, Grid, check_datasets, check_methods, data_problems
from visagnn.bench.runner import NotebookExecutor, render_reports, run_grid
from visagnn.bench.store import FINISHED, ResultsStore
from visagnn.datasets.download import NO_DOWNLOAD_ENV
from visagnn.flags import UsageError, flag_message
from visagnn.utils.atomic_write import check_output_folder

DEFAULT_RESULTS = Path("results")
DEFAULT_REPORTS = Path("reports")
DEFAULT_THREADS = 1
IN_FLIGHT = 3
"""``grid``'s exit code when runs it planned are still being trained by another process."""
GRID_NOTEBOOKS = ("experiment.ipynb", "report.ipynb")
REPORT_NOTEBOOKS = ("report.ipynb",)


def configure_grid(grid: argparse.ArgumentParser) -> None:
    """Add ``grid``'s arguments to its parser and set its handler."""
    grid.description = ("Run a benchmark grid, resuming where it stopped, then render its "
                        "reports. Every argument is checked before anything trains.")
    grid.add_argument("--grid", choices=sorted(GRIDS), default="demo",
                      help="demo (default): minutes on a CPU; map: the staleness map; paper: "
                           "the experiments of Tables 1-6; reference: the committed reference "
                           "results")
    grid.add_argument("--datasets", nargs="+", default=None,
                      help="datasets (names or .pt paths) instead of the grid's own")
    grid.add_argument("--methods", nargs="+", default=None,
                      help="run only the variants of these methods")
    grid.add_argument("--seeds", type=int, default=None,
                      help="seeds per setting, 0..N-1 (default: demo 2, map 3, paper 5, "
                           "reference 5, 3 on Tolokers and in its map)")
    grid.add_argument("--epochs", type=int, default=None,
                      help="epochs of every run (default: the grid's, else the dataset's)")
    grid.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    grid.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                      help=f"torch CPU threads per run (default: {DEFAULT_THREADS}, right on a "
                           "shared machine; 0: torch's default, one per core)")
    grid.add_argument("--jobs", type=int, default=1,
                      help="cells (experiment notebooks) run at a time (default 1, which shows "
                           "each run's progress bar; with more, a line per cell)")
    grid.add_argument("--scheduler", default=None, metavar="ADDRESS",
                      help="train the runs on the Dask cluster of this scheduler, e.g. "
                           "tcp://host:8786 (pip install visagnn[cluster]; see the README)")
    grid.add_argument("--devices", nargs="+", default=None, metavar="DEVICE",
                      help="train the runs on a local Dask cluster of one worker per device, "
                           "e.g. cuda:0 cuda:1 (or cpu cpu)")
    grid.add_argument("--root", default=None,
                      help="data root (default: $VISAGNN_DATA, else ~/.cache/visagnn)")
    grid.add_argument("--force", action="store_true",
                      help="train again the runs that the results store has finished")
    grid.add_argument("--no-download", action="store_true",
                      help=f"never download a dataset (as ${NO_DOWNLOAD_ENV}=1): a missing one "
                           "is an error before anything trains")
    grid.add_argument("--dry-run", action="store_true",
                      help="check the data, list the grid's cells and runs, train nothing")
    _add_folders(grid)
    grid.set_defaults(handler=grid_command)


def configure_report(report: argparse.ArgumentParser) -> None:
    """Add ``report``'s arguments to its parser and set its handler."""
    report.description = "Execute the report notebook on a results store and write its pages."
    _add_folders(report)
    report.set_defaults(handler=report_command)


def _add_folders(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help=f"the results store (default: {DEFAULT_RESULTS}, ignored by git; "
                             "the committed reference: reports/reference/results)")
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS,
                        help=f"where the HTML pages go (default: {DEFAULT_REPORTS}, ignored by "
                             "git except reports/reference)")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS,
                        help="folder of experiment.ipynb and report.ipynb (default: the "
                             "repository's notebooks/)")


def _check(flag: str, check: Callable[[Sequence[str]], None], values: Sequence[str] | None
           ) -> None:
    if values is None:
        return
    try:
        check(values)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def make_grid(args: argparse.Namespace) -> Grid:
    """The grid ``args`` ask for, every argument validated.

    Raises:
        UsageError: naming the flag of a bad argument and its valid choices.
    """
    if args.threads < 0:
        raise UsageError(f"--threads must be >= 0 (0: one per core), got {args.threads}")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be >= 1, got {args.jobs}")
    if args.seeds is not None and args.seeds < 1:
        raise UsageError(f"--seeds must be >= 1, got {args.seeds}")
    _check("--datasets", check_datasets, args.datasets)
    _check("--methods", check_methods, args.methods)
    device = check_cluster_flags(args.scheduler, args.devices, args.device)
    options = {"datasets": args.datasets, "epochs": args.epochs, "device": device,
               "root": args.root, "methods": args.methods}
    if args.seeds is not None:
        options["seeds"] = args.seeds
    if args.grid == "reference":  # its heavy cells: those of the map in the store it fills
        options["heavy_from"] = args.results
    try:
        return GRIDS[args.grid](**options)
    except (ValueError, TypeError) as exc:
        raise UsageError(flag_message(str(exc), ("epochs", "device", "root"))) from None


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


def check_notebooks(folder: Path, names: Sequence[str]) -> None:
    """Raise UsageError naming ``--notebooks`` unless ``folder`` holds the notebooks ``names``."""
    if not folder.is_dir():
        raise UsageError(f"--notebooks {folder}: no such folder (it must hold "
                         f"{', '.join(names)})")
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise UsageError(f"--notebooks {folder}: no {', '.join(missing)} there")


def check_store(results: Path) -> ResultsStore:
    """The store in ``results``, read once: a ``runs.jsonl`` that is a folder is a one-line
    :class:`~visagnn.bench.store.StoreError`, lines that are not runs are reported now."""
    store = ResultsStore(results)
    store.latest()
    return store


def check_data(grid: Grid) -> None:
    """Raise UsageError, one line per dataset, unless every dataset's data is there or can be
    downloaded (:func:`~visagnn.bench.grid.data_problems`)."""
    problems = data_problems(grid)
    if problems:
        raise UsageError("\n".join(problems))


def grid_command(args: argparse.Namespace) -> int:
    """Run the grid ``args`` ask for, then render its reports; the exit code is in the module
    docstring."""
    grid = make_grid(args)
    if args.no_download:  # this process's loads and the kernels' (they inherit it)
        os.environ[NO_DOWNLOAD_ENV] = "1"
    check_data(grid)
    runs = grid.runs()
    header = f"grid {grid.name!r}: {len(grid.cells)} cells, {len(runs)} runs"
    if args.dry_run:
        print(header)
        for cell in grid.cells:
            print(f"  {cell.name}: {len(cell.runs())} runs = {len(cell.methods)} variants × "
                  f"{len(cell.seeds)} seeds: {', '.join(cell.methods)}")
        return 0
    check_notebooks(args.notebooks, GRID_NOTEBOOKS)
    results = check_output_folder(args.results, "--results").resolve()
    reports = check_output_folder(args.reports, "--reports").resolve()
    store = check_store(results)
    print(header, flush=True)
    threads = args.threads or None
    if args.scheduler is None and args.devices is None:
        executor = NotebookExecutor(args.notebooks, reports, echo=args.jobs == 1,
                                    threads=threads)
        outcomes = run_grid(grid, results, executor, force=args.force, jobs=args.jobs,
                            replan=lambda: make_grid(args))
    else:
        with connect(args.scheduler, args.devices) as client:
            show = NotebookExecutor(args.notebooks, reports, echo=False, train=False)
            executor = ClusterExecutor(client, show, threads, args.devices, args.jobs)
            outcomes = run_grid(grid, results, executor, force=args.force,
                                jobs=max(1, len(grid.cells)), replan=lambda: make_grid(args))
    index = render_reports(results, reports, args.notebooks)
    runs = [spec for outcome in outcomes for spec in outcome.cell.runs()]  # replanned ones too
    stopped = sum(outcome.status == "failed" for outcome in outcomes)
    latest = store.latest()
    failed = sum(latest[spec.key]["status"] not in FINISHED for spec in runs
                 if spec.key in latest)
    elsewhere = sum(spec.key not in latest for spec in runs)
    notes = []
    if failed:
        notes.append(f"{_count(failed, 'run')} failed, {_count(stopped, 'notebook')} stopped; "
                     f"see the report")
    if elsewhere:
        notes.append(f"{_count(elsewhere, 'run')} still being trained by another process on "
                     f"this store, not in this report: run the grid again when it ends")
    print(f"reports: {index}" + (f" ({'; '.join(notes)})" if notes else ""))
    return 1 if failed else IN_FLIGHT if elsewhere else 0


def report_command(args: argparse.Namespace) -> int:
    """Render the pages of the store in ``args.results`` into ``args.reports``."""
    if not args.results.is_dir():
        raise UsageError(f"--results {args.results}: " + ("is a file, not a folder"
                                                          if args.results.exists()
                                                          else "no such folder"))
    check_notebooks(args.notebooks, REPORT_NOTEBOOKS)
    reports = check_output_folder(args.reports, "--reports")
    check_store(args.results)
    print(f"reports: {render_reports(args.results, reports, args.notebooks)}")
    return 0
