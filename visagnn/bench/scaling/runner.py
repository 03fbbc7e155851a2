"""Running the scaling benchmark: each point in a fresh process, smallest graphs first; then
its report.

For each graph size, the partition point runs first (when the store has no finished one whose
partition file is still there), then each method's point. A point is skipped, with the reason
recorded, when the store has finished it (unless forced), when its partition did not finish,
when a smaller point of its method was killed (most likely for memory: a larger one would be
too), or when its estimated peak (:mod:`~visagnn.bench.scaling.estimate`) exceeds the memory
available. A point that raises, or whose process is killed, is recorded as failed, and the
next point runs. Output in the reports folder::

    scale.ipynb, scale.html   the executed report notebook (figures and tables)
    figures/*.png             its figures
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import torch

import visagnn
from visagnn.bench import NOTEBOOKS
from visagnn.bench.provenance import provenance
from visagnn.bench.scaling.estimate import Estimate, estimate_peak
from visagnn.bench.scaling.family import ScalePoint
from visagnn.bench.scaling.store import ScaleStore
from visagnn.utils.memory import available_memory_mb

PACKAGE_PARENT = Path(visagnn.__file__).resolve().parents[1]


class PointFailed(RuntimeError):
    """A point's process raised (``killed`` False) or was killed by a signal."""

    def __init__(self, error: str, details: str = "", killed: bool = False) -> None:
        super().__init__(error)
        self.error, self.details, self.killed = error, details, killed


class PointExecutor(Protocol):
    """Measures ``point`` (a method point reads ``partition_file``) and returns its record, or
    raises :class:`PointFailed`."""

    def __call__(self, point: ScalePoint, partition_file: str | None) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SubprocessExecutor:
    """Runs :mod:`visagnn.bench.scaling.measure` in a fresh Python process with ``threads``
    torch threads (0: torch's default), on the copy of visagnn this process runs; its progress
    goes to this process's stderr. A process still running after ``timeout_s`` seconds (``None``:
    no limit) is killed, and the point fails with that reason."""

    threads: int = 1
    timeout_s: float | None = None

    def __call__(self, point: ScalePoint, partition_file: str | None) -> dict[str, Any]:
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))
        if self.threads > 0:  # the OpenMP pool is sized when torch loads
            environment["OMP_NUM_THREADS"] = str(self.threads)
        with tempfile.TemporaryDirectory(prefix="visagnn-scale-") as folder:
            output = Path(folder) / "record.json"
            command = [sys.executable, "-m", "visagnn.bench.scaling.measure",
                       "--point", json.dumps(asdict(point)), "--output", str(output),
                       "--threads", str(self.threads)]
            if partition_file is not None:
                command += ["--partition-file", partition_file]
            try:
                returncode = subprocess.run(command, env=environment, check=False,
                                            timeout=self.timeout_s).returncode
            except subprocess.TimeoutExpired:
                raise PointFailed(f"timed out after {self.timeout_s:.0f} s") from None
            record = json.loads(output.read_text()) if output.exists() else None
        if returncode < 0:
            name = signal.Signals(-returncode).name
            raise PointFailed(f"killed by {name}" + (" (out of memory?)"
                                                     if name == "SIGKILL" else ""),
                              killed=True)
        if record is None or "error" in record:
            record = record or {}
            raise PointFailed(record.get("error", f"exit code {returncode}, no record"),
                              record.get("details", ""))
        return record


def _log(line: str) -> None:
    print(line, flush=True)


def planned(points: Sequence[ScalePoint]) -> list[ScalePoint]:
    """``points`` by number of nodes, each size's partition point first, then its methods in
    the order given, each point once."""
    ordered: dict[str, ScalePoint] = {}
    for point in sorted(points, key=lambda point: (point.num_nodes, not point.is_partition)):
        partition = point.partition_point()
        ordered.setdefault(partition.key, partition)
        ordered.setdefault(point.key, point)
    return list(ordered.values())


def skip_reason(point: ScalePoint, latest: dict[str, dict[str, Any]], available_mb: float,
                estimate: Estimate) -> str | None:
    """Why ``point`` should not run now (see the module docstring), ``None`` if it should."""
    if not point.is_partition:
        partition = latest.get(point.partition_point().key)
        if partition is None or partition["status"] != "ok":
            return f"its partition {point.partition_point().key} did not finish"
    for record in latest.values():
        if (record.get("killed") and record["num_nodes"] < point.num_nodes
                and ScalePoint(point.num_nodes, record["method"], record["history_dtype"],
                               record["history_storage"], record.get("device", "cpu")) == point):
            return f"the smaller point {record['key']} was killed ({record['error']})"
    if estimate.peak_mb > available_mb:
        return (f"estimated peak {estimate.peak_mb:.0f} MiB (from {estimate.reference}) "
                f"exceeds the {available_mb:.0f} MiB available")
    return None


def run_scale(points: Sequence[ScalePoint], store: ScaleStore, executor: PointExecutor,
              force: bool = False, memory_mb: float | None = None, note: str | None = None,
              log: Callable[[str], None] = _log) -> list[dict[str, Any]]:
    """Measure the :func:`planned` points that ``store`` has not finished (all of them with
    ``force``), each recorded as soon as it ends; ``memory_mb`` is the memory a point may use
    (default: what the machine has available before each point), ``note`` what else the
    machine runs, in words, kept with every point. Skipped and failed points carry this
    process's provenance, measured ones their own. Returns the lines recorded now."""
    recorded = []
    plan = planned(points)
    for index, point in enumerate(plan, 1):
        header = f"[{index}/{len(plan)}] {point.key}"
        finished = store.finished(point)
        if finished is not None and not force and (
                not point.is_partition or Path(finished["partition_file"]).exists()):
            log(f"{header}: finished before, skipped")
            continue
        latest = store.latest()
        available = memory_mb if memory_mb is not None else available_memory_mb(
            torch.device("cpu"))
        estimate = estimate_peak(point, latest.values())
        context = {"available_mb": available, "note": note,
                   "estimated_peak_mb": estimate.peak_mb, "estimated_from": estimate.reference}
        reason = skip_reason(point, latest, available, estimate)
        if reason is not None:
            log(f"{header}: skipped: {reason}")
            recorded.append(store.record(point, "skipped", reason=reason, **context,
                                         **provenance("cpu")))
            continue
        log(f"{header}: measuring")
        partition_file = (None if point.is_partition
                          else latest[point.partition_point().key]["partition_file"])
        try:
            record = executor(point, partition_file)
        except PointFailed as exc:
            log(f"{header}: failed: {exc.error}")
            recorded.append(store.record(point, "failed", error=exc.error, details=exc.details,
                                         killed=exc.killed, **context, **provenance("cpu")))
            continue
        recorded.append(store.record(point, "ok", **context, **record))
    return recorded


def render_report(results: Path, reports: Path, notebooks: Path = NOTEBOOKS) -> Path:
    """Execute ``notebooks/scale.ipynb`` on the store in ``results`` into ``reports`` and
    convert it to ``scale.html`` (also when a cell fails, to show where; the error is raised
    after)."""
    from visagnn.bench.execute import execute_notebook  # papermill: the notebooks extra
    from visagnn.bench.html import notebook_to_html

    results, reports = Path(results).resolve(), Path(reports).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    figures = reports / "figures"
    shutil.rmtree(figures, ignore_errors=True)  # figures of points that are gone must go
    executed = reports / "scale.ipynb"
    try:
        execute_notebook(notebooks / "scale.ipynb", executed,
                         {"results": str(results), "save_figures": str(figures)})
    finally:
        if executed.exists():
            notebook_to_html(executed, reports / "scale.html", hide_input=True)
    return reports / "scale.html"
