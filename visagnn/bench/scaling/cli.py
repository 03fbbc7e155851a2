"""``python -m visagnn scale``: the scaling benchmark's command.

By default it measures every size of :data:`~visagnn.bench.scaling.family.SCALE_NODES` for GAS
and VISAGNN-Sum into the store ``results/scale`` and writes ``reports/scale/scale.html``, both
ignored by git; ``--reference`` writes the committed reference, ``reports/reference/scale/``.
"""

from __future__ import annotations

import argparse
import typing
from pathlib import Path

import torch

from visagnn.bench import NOTEBOOKS
from visagnn.bench.scaling.estimate import estimate_peak, lower_bound_mb, nodes_that_fit
from visagnn.bench.scaling.family import (
    DEFAULT_METHODS,
    MIN_NODES,
    SCALE_NODES,
    ScalePoint,
    num_parts,
)
from visagnn.bench.scaling.runner import SubprocessExecutor, planned, render_report, run_scale
from visagnn.bench.scaling.store import ScaleStore
from visagnn.config import device_type
from visagnn.flags import UsageError
from visagnn.history.store import HistoryDtype, HistoryPlace
from visagnn.methods import METHODS
from visagnn.utils.atomic_write import check_output_folder
from visagnn.utils.memory import available_memory_mb

DEFAULT_RESULTS = Path("results/scale")
DEFAULT_REPORTS = Path("reports/scale")
REFERENCE = Path("reports/reference/scale")
"""``--reference``: the pages here, the store in ``results/`` below."""
SCALE_METHODS = tuple(sorted(name for name, method in METHODS.items()
                             if "history" in method.setting_families))
"""The methods a point can measure: those with histories, whose batches the PyG baseline
replays."""
CUDA_STORAGE: tuple[HistoryPlace, ...] = typing.get_args(HistoryPlace)
CPU_STORAGE = tuple(place for place in CUDA_STORAGE if place not in ("pinned", "device"))
"""History storage on a CPU (pinned and device memory are CUDA's)."""


def configure(scale: argparse.ArgumentParser) -> None:
    """Add ``scale``'s arguments to its parser and set its handler."""
    scale.description = (
        "Measure GAS and VISAGNN-Sum on products-shaped synthetic graphs of growing size "
        "(partition, history fill, one epoch, exact inference, the same batches in plain PyG "
        "GATConv, peak RSS and the memory breakdown), each point in a fresh process, then "
        "render the report. Resumes where it stopped: finished points are not measured again.")
    scale.add_argument("--nodes", type=int, nargs="+", default=list(SCALE_NODES),
                       help="graph sizes N (default: " + " ".join(map(str, SCALE_NODES)) + ")")
    scale.add_argument("--methods", nargs="+", default=list(DEFAULT_METHODS),
                       help=f"methods to measure (default: {' '.join(DEFAULT_METHODS)}; "
                            f"valid: {', '.join(SCALE_METHODS)})")
    scale.add_argument("--history-dtype", choices=typing.get_args(HistoryDtype), default="float32",
                       help="storage dtype of the histories (default: float32)")
    scale.add_argument("--history-storage", choices=CUDA_STORAGE, default="auto",
                       help="where the histories live: auto (RAM on CPU, pinned RAM on CUDA), "
                            "ram, mmap (a file in the cache folder), and on CUDA pinned or "
                            "device (default: auto)")
    scale.add_argument("--device", default="cpu",
                       help="where the methods train: cpu (default), cuda or cuda:N (METIS "
                            "and the graph's generation run on the CPU)")
    scale.add_argument("--threads", type=int, default=1,
                       help="torch CPU threads per point (default: 1; 0: one per core)")
    scale.add_argument("--memory-mb", type=float, default=None,
                       help="memory a point may use, in MiB: a point whose estimated peak is "
                            "larger is skipped (default: the machine's available memory "
                            "before each point)")
    scale.add_argument("--note", default=None,
                       help="what else the machine runs, in words (e.g. 'another benchmark on "
                            "one core'), kept with every point beside the measured load")
    scale.add_argument("--force", action="store_true",
                       help="measure again the points the store has finished")
    scale.add_argument("--dry-run", action="store_true",
                       help="list the points, their parts and estimated peaks; measure nothing")
    scale.add_argument("--reference", action="store_true",
                       help=f"write the committed reference: the store {REFERENCE}/results "
                            f"and the pages in {REFERENCE} (instead of --results, --reports)")
    scale.add_argument("--results", type=Path, default=None,
                       help=f"the store (default: {DEFAULT_RESULTS}, ignored by git)")
    scale.add_argument("--reports", type=Path, default=None,
                       help=f"where scale.html goes (default: {DEFAULT_REPORTS}, ignored by git)")
    scale.add_argument("--notebooks", type=Path, default=NOTEBOOKS,
                       help="folder of scale.ipynb (default: the repository's notebooks/)")
    scale.set_defaults(handler=scale_command)


def folders(args: argparse.Namespace) -> tuple[Path, Path]:
    """The store and the reports folder ``args`` ask for.

    Raises:
        UsageError: for ``--reference`` with ``--results`` or ``--reports``.
    """
    if args.reference:
        if args.results is not None or args.reports is not None:
            raise UsageError("--reference sets the folders: give neither --results nor "
                             "--reports with it")
        return REFERENCE / "results", REFERENCE
    return args.results or DEFAULT_RESULTS, args.reports or DEFAULT_REPORTS


def make_points(args: argparse.Namespace) -> list[ScalePoint]:
    """The points ``args`` ask for, every argument validated.

    Raises:
        UsageError: naming the flag of a bad argument and its valid values.
    """
    small = sorted(nodes for nodes in args.nodes if nodes < MIN_NODES)
    if small:
        raise UsageError(f"--nodes must be >= {MIN_NODES}, got {small}")
    unknown = sorted(set(args.methods) - set(SCALE_METHODS))
    if unknown:
        raise UsageError(f"--methods: unknown or without histories: {unknown}; valid methods: "
                         f"{', '.join(SCALE_METHODS)}")
    try:
        device_type(args.device, "--device")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.device != "cpu" and not torch.cuda.is_available():
        raise UsageError(f"--device {args.device}: torch sees no CUDA device here; valid: cpu")
    if args.device == "cpu" and args.history_storage not in CPU_STORAGE:
        raise UsageError(f"--history-storage {args.history_storage} needs --device cuda; "
                         f"valid on cpu: {', '.join(CPU_STORAGE)}")
    if args.threads < 0:
        raise UsageError(f"--threads must be >= 0 (0: one per core), got {args.threads}")
    if args.memory_mb is not None and args.memory_mb <= 0:
        raise UsageError(f"--memory-mb must be > 0, got {args.memory_mb:g}")
    check_fits(args.nodes, args.memory_mb)
    return [ScalePoint(nodes, method, args.history_dtype, args.history_storage, args.device)
            for nodes in args.nodes for method in args.methods]


def check_fits(nodes: list[int], memory_mb: float | None) -> None:
    """Raise UsageError naming ``--nodes`` for sizes whose graph alone
    (:func:`~visagnn.bench.scaling.estimate.lower_bound_mb`) exceeds ``memory_mb`` (default:
    the memory available now), saying how many nodes fit."""
    limit = memory_mb if memory_mb is not None else available_memory_mb(torch.device("cpu"))
    large = sorted({size for size in nodes if lower_bound_mb(size) > limit})
    if large:
        where = "of --memory-mb" if memory_mb is not None else "available"
        fit = nodes_that_fit(limit)
        fits = (f"at most {fit} nodes fit" if fit >= MIN_NODES
                else f"no point fits (the smallest, {MIN_NODES} nodes, needs "
                     f"{lower_bound_mb(MIN_NODES):.0f} MiB)")
        raise UsageError(
            f"--nodes {' '.join(map(str, large))}: the graph alone needs at least "
            f"{lower_bound_mb(large[0]):.0f} MiB, more than the {limit:.0f} MiB {where}; "
            f"{fits}")


def scale_command(args: argparse.Namespace) -> int:
    """Measure the points ``args`` ask for, then render the report; 1 if a point failed."""
    points = make_points(args)
    results, reports = folders(args)
    store = ScaleStore(results)
    if args.dry_run:
        latest = store.latest()
        for point in planned(points):
            estimate = estimate_peak(point, latest.values())
            state = latest[point.key]["status"] if point.key in latest else "not measured"
            print(f"{point.key}: P={num_parts(point.num_nodes)}, {state}, estimated peak "
                  f"{estimate.peak_mb:.0f} MiB (from {estimate.reference})")
        return 0
    results_flag, reports_flag = (("--reference", "--reference") if args.reference
                                  else ("--results", "--reports"))
    check_output_folder(results, results_flag)
    check_output_folder(reports, reports_flag)
    if not (args.notebooks / "scale.ipynb").is_file():
        raise UsageError(f"--notebooks {args.notebooks}: no scale.ipynb there")
    store.latest()  # a points.jsonl that is a folder: one line, before anything runs
    if args.threads > 0:  # the provenance of skipped and failed points names it
        torch.set_num_threads(args.threads)
    recorded = run_scale(points, store, SubprocessExecutor(args.threads), force=args.force,
                         memory_mb=args.memory_mb, note=args.note)
    print(f"report: {render_report(results, reports, args.notebooks)}")
    return 1 if any(row["status"] == "failed" for row in recorded) else 0
