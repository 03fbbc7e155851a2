"""A grid's runs on a Dask cluster: ``grid --scheduler ADDRESS`` and ``grid --devices ...``.

The engine is Dask distributed, not Ray: it is pure Python (``pip install visagnn[cluster]``),
its ``dask scheduler`` and ``dask worker ADDRESS --nworkers 1 --nthreads 1`` commands are what
users already run on their machines and schedulers (SLURM, Kubernetes via dask-jobqueue and
dask-kubernetes), it reschedules a task whose worker died (up to
``distributed.scheduler.allowed-failures`` deaths, then the task fails with ``KilledWorker``),
and its ``LocalCluster`` is the one-machine case with the same code path.

One task per run: a worker trains the run in its own process, as a notebook kernel does
(:func:`~visagnn.bench.experiment.train_and_record`, into a temporary store of its own: no
shared filesystem is assumed; the worker has the package and the data, or downloads it), and
returns the run's line and epoch records (:class:`StoredRun`). The submitting machine writes
each into its one store as it arrives (:meth:`~visagnn.bench.store.ResultsStore.add`), so a
crash of the submitter loses only the runs in flight. A worker that dies loses its run in
flight, which the scheduler runs again elsewhere; a run whose every try killed its worker is
recorded as failed with that error, as a run that raised is. After a cell's runs are back its
experiment notebook is executed here, training nothing (``train=False``), as a grid without
a cluster executes it.

``--devices cpu cpu`` or ``--devices cuda:0 cuda:1`` starts a ``LocalCluster`` of one worker
process per device (one thread each). Worker ``i`` is named ``i``, a name Dask keeps when it
restarts a dead worker, and :func:`train_on_worker` maps it to ``devices[i]``: on CUDA it makes
that GPU the worker's current device, so that the runs' device ``cuda`` is it. The runs are
those of ``--device cuda`` (the same keys and records); on remote workers, each started with
``CUDA_VISIBLE_DEVICES`` set to its GPU, ``cuda`` is likewise the worker's GPU.
"""

from __future__ import annotations

import contextlib
import gc
import json
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from visagnn.bench.grid import Cell
from visagnn.bench.spec import RunSpec
from visagnn.bench.store import ResultsStore
from visagnn.flags import UsageError

if TYPE_CHECKING:  # distributed is an optional extra, imported when a cluster is asked for
    from distributed import Client

INSTALL_HINT = "pip install visagnn[cluster]"
CONNECT_TIMEOUT_S = 10
"""How long ``--scheduler`` waits for the scheduler to answer before it is an error."""

LOCAL_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                       "distributed.worker.profile.enabled": False}
"""Dask settings of ``--devices``' workers. A worker's nanny sets ``MALLOC_TRIM_THRESHOLD_``
in its process to return freed memory early; that also fixes glibc's mmap threshold, so that
every large tensor torch allocates on the CPU is a fresh mapping, faulted in page by page:
unset. The statistical profiler samples the task thread every 10 ms; a run is
one long task whose profile nobody reads: off. Remote workers get both from the environment
of ``dask worker`` (the README's commands)."""

_datasets: dict[tuple[str, str | None], Any] = {}
"""The datasets a worker process has loaded, each loaded once for all its runs."""


@dataclass(frozen=True)
class StoredRun:
    """What a worker returns for a run: its line of ``runs.jsonl`` and its epoch records
    (``None`` for a failed run), as its own store holds them."""

    row: dict[str, Any]
    records: list[dict[str, Any]] | None


def check_devices(devices: Sequence[str]) -> str:
    """The grid's device for ``--devices`` (``cpu`` or ``cuda``): each one ``cpu`` or
    ``cuda:N`` of a GPU here, all of one kind.

    Raises:
        UsageError: naming ``--devices`` and what is wrong.
    """
    import torch

    kinds = set()
    for device in devices:
        kind, _, index = device.partition(":")
        if device != "cpu" and not (kind == "cuda" and index.isdigit()):
            raise UsageError(f"--devices: {device!r} is not cpu or cuda:N")
        if kind == "cuda" and int(index) >= torch.cuda.device_count():
            raise UsageError(f"--devices: no {device} here ({torch.cuda.device_count()} GPUs)")
        kinds.add(kind)
    if len(kinds) > 1:
        raise UsageError(f"--devices: all cpu or all cuda:N, got {' '.join(devices)}")
    return kinds.pop()


def check_cluster_flags(scheduler: str | None, devices: Sequence[str] | None,
                        device: str) -> str:
    """The grid's device once ``--scheduler``, ``--devices`` and ``--device`` are checked:
    ``--devices``' kind, else ``device``.

    Raises:
        UsageError: for both ``--scheduler`` and ``--devices``, ``--devices`` with a
            ``--device`` other than cpu, bad devices, or Dask distributed not installed.
    """
    if scheduler is not None and devices is not None:
        raise UsageError("--scheduler and --devices: give one (--devices starts a local "
                         "cluster; the workers of a --scheduler use their own devices)")
    if devices is not None and device != "cpu":
        raise UsageError(f"--devices sets the devices: drop --device {device}")
    if scheduler is None and devices is None:
        return device
    try:
        import distributed  # noqa: F401
    except ImportError:
        flag = "--scheduler" if scheduler is not None else "--devices"
        raise UsageError(f"{flag} needs Dask distributed, which is not installed: "
                         f"{INSTALL_HINT}") from None
    return device if devices is None else check_devices(devices)


@contextlib.contextmanager
def connect(scheduler: str | None = None, devices: Sequence[str] | None = None
            ) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, or of a ``LocalCluster`` with one worker
    process (one thread) per device of ``devices``, closed when the block ends.

    Raises:
        UsageError: naming ``--scheduler`` when its scheduler does not answer.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except Exception as exc:  # OSError, TimeoutError, ValueError for a bad address
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(f"--scheduler {scheduler}: cannot connect ({reason})") from None
        with client:
            yield client
        return
    assert devices is not None, "connect needs a scheduler or devices"
    with dask.config.set(LOCAL_WORKER_CONFIG), \
            LocalCluster(n_workers=len(devices), threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def train_on_worker(spec: RunSpec, devices: Mapping[str, str] | None = None,
                    threads: int | None = None) -> StoredRun:
    """Train ``spec`` in this worker's process into a temporary store and return what it
    recorded. ``devices`` maps worker names to their devices (``--devices``); ``threads``
    sets torch's CPU threads (``None``: left as they are)."""
    import torch
    from distributed import get_worker

    from visagnn.bench.experiment import train_and_record

    if devices is not None:
        device = torch.device(devices[str(get_worker().name)])
        if device.type == "cuda":
            torch.cuda.set_device(device)
    if threads is not None:
        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="visagnn-run-") as folder:
        store = ResultsStore(folder)
        row = train_and_record(spec, store, _datasets, progress=False)
        epochs = store.epochs_folder / f"{spec.key}.jsonl"
        records = ([json.loads(line) for line in epochs.read_text().splitlines() if line.strip()]
                   if epochs.exists() else None)
    if spec.config.torch_device.type == "cuda":  # the next run's peak memory is its own
        gc.collect()
        torch.cuda.empty_cache()
    return StoredRun(row, records)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


@dataclass
class ClusterExecutor:
    """A :class:`~visagnn.bench.runner.CellExecutor` that trains a cell's unfinished runs on
    the cluster of ``client`` (one task per run, each claimed in the store while in flight),
    stores each as it arrives, then executes the cell's notebook with ``show`` (a
    :class:`~visagnn.bench.runner.NotebookExecutor` that does not train), at most ``jobs``
    notebooks at a time. Cells run at once (``run_grid(..., jobs=len(grid.cells))``) put all
    their runs on the cluster together.

    ``task`` is what a worker runs (:func:`train_on_worker`; tests give one that kills its
    worker); ``devices`` is ``--devices``' list, worker ``i`` on ``devices[i]``.
    """

    client: Client
    show: Callable[[Cell, Path, bool], None]
    threads: int | None = None
    devices: Sequence[str] | None = None
    jobs: int = 1
    log: Callable[[str], None] = print
    task: Callable[..., StoredRun] = train_on_worker
    _notebooks: threading.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self._notebooks = threading.Semaphore(self.jobs)

    def __call__(self, cell: Cell, results: Path, force: bool) -> None:
        self.train(cell.runs(), ResultsStore(results), force)
        with self._notebooks:
            self.show(cell, results, force)

    def train(self, specs: Sequence[RunSpec], store: ResultsStore, force: bool = False) -> None:
        """Train the runs of ``specs`` that ``store`` has not finished (all with ``force``) and
        that no other process has claimed, storing each as it comes back."""
        from distributed import as_completed

        devices = (None if self.devices is None
                   else {str(index): device for index, device in enumerate(self.devices)})
        with contextlib.ExitStack() as claims:
            finished = set() if force else store.finished_keys()
            mine = [spec for spec in specs if spec.key not in finished
                    and claims.enter_context(store.claim(spec.key))]
            finished = set() if force else store.finished_keys()  # finished while we claimed
            futures = {self.client.submit(self.task, spec, devices, self.threads, pure=False):
                       spec for spec in mine if spec.key not in finished}
            for future in as_completed(futures):
                spec = futures[future]
                try:
                    stored = future.result()
                except Exception as exc:  # every try killed its worker, or the task broke
                    row = store.record_failure(
                        spec, f"the run's cluster task failed: {_one_line(exc)}",
                        "".join(traceback.format_exception(exc)), threads=self.threads)
                else:
                    row = store.add(stored.row, stored.records)
                self.log(f"   {_outcome(row)}")


def _outcome(row: dict[str, Any]) -> str:
    from visagnn.bench.experiment import describe  # imports torch and the methods

    return f"{row.get('dataset')} · {describe(row)} (on {row.get('host')})"
