"""The work of the experiment notebook: train the planned runs that are not finished, record all."""

from __future__ import annotations

import gc
import traceback
from collections.abc import Sequence

import pandas as pd
import torch

from visagnn.bench.spec import RunSpec
from visagnn.bench.store import ResultsStore
from visagnn.datasets import GraphDataset, load_dataset
from visagnn.run.train import run

SHOWN_COLUMNS = ("variant", "batch_parts", "seed", "status", "test", "best_epoch", "epochs",
                 "mean_epoch_s", "peak_mem_mb", "error")
"""The columns :func:`run_experiment` returns, one row per run."""


def describe(row: dict) -> str:
    """One line on a stored run: its outcome, test score, epochs, time and memory."""
    where = f"{row['variant']} B={row['batch_parts']} seed={row['seed']}"
    if row["status"] == "failed":
        return f"failed  {where}: {row['error']}"
    if row["test"] is None:
        return f"{row['status']:<6}  {where}: no epoch finished ({row.get('error', '')})"
    return (f"{row['status']:<6}  {where}: test {row['test']:.4f} at epoch {row['best_epoch']}"
            f"/{row['epochs']}, {row['train_s']:.1f} s training, {row['peak_mem_mb']:.0f} MB")


def _release_memory(device: torch.device) -> None:
    """Free the GPU memory the last run left (e.g. in reference cycles of an OOM's traceback),
    so that the next run's peak memory is its own. (On CPU the peak is the process's, and a
    full collection costs about a second.)"""
    if device.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()


def train_and_record(spec: RunSpec, store: ResultsStore,
           datasets: dict[tuple[str, str | None], GraphDataset | Exception],
           progress: bool) -> dict:
    """Train ``spec`` (its dataset loaded once into ``datasets``) and record the outcome: the
    one way a run is trained, in a notebook kernel or on a cluster worker."""
    source = (spec.config.dataset, spec.config.root)
    try:
        if source not in datasets:
            try:
                datasets[source] = load_dataset(*source)
            except Exception as exc:  # every run on this dataset fails alike
                datasets[source] = exc
        dataset = datasets[source]
        if isinstance(dataset, Exception):
            raise dataset
        result = run(spec.config, spec.options, dataset=dataset, progress=progress)
        return store.record(spec, result)
    except Exception as exc:
        details = "".join(traceback.format_exception(exc))
        return store.record_failure(spec, f"{type(exc).__name__}: {exc}", details)


def run_experiment(
    specs: Sequence[RunSpec], store: ResultsStore, force: bool = False, progress: bool = True,
    threads: int | None = None, train: bool = True,
) -> pd.DataFrame:
    """Train every run of ``specs`` that ``store`` has not finished (every run with ``force``)
    and record each in ``store``; return the stored rows of all ``specs``.

    Each run is claimed in the store first (:meth:`ResultsStore.claim`): a run that another
    process is training, or finished while this one waited, is skipped. Each dataset is loaded
    once. A run that raises (the dataset cannot be loaded included) is
    recorded as ``failed`` with the error and its traceback, and the next run goes on; running out
    of memory is recorded by :func:`visagnn.run.train.run` as ``oom``. A line per run is printed,
    and ``progress`` shows each run's epochs as a progress bar. ``threads`` sets torch's CPU
    threads (``None``: torch's default, one per core). Without ``train`` nothing trains
    and the stored rows are returned: the runs were trained elsewhere (a cluster's workers,
    :mod:`visagnn.bench.cluster`).
    """
    if not train:
        print(f"{len(specs)} runs planned, trained on a cluster: shown from the store",
              flush=True)
        return _stored_rows(specs, store)
    if threads is not None:
        torch.set_num_threads(threads)
    finished = set() if force else store.finished_keys()
    todo = [spec for spec in specs if spec.key not in finished]
    print(f"{len(specs)} runs planned, {len(specs) - len(todo)} finished before, "
          f"{len(todo)} to train", flush=True)
    datasets: dict[tuple[str, str | None], GraphDataset | Exception] = {}
    for index, spec in enumerate(todo, 1):
        print(f"[{index}/{len(todo)}] {spec.dataset} · {spec.variant.spec} · "
              f"B={spec.config.batch_parts} · seed {spec.config.seed}", flush=True)
        with store.claim(spec.key) as claimed:
            if not claimed or (not force and spec.key in store.finished_keys()):
                print("   skipped: " + ("another process is training it" if not claimed
                                        else "another process finished it"), flush=True)
                continue
            row = train_and_record(spec, store, datasets, progress)
        print("   " + describe(row), flush=True)
        _release_memory(spec.config.torch_device)
    return _stored_rows(specs, store)


def _stored_rows(specs: Sequence[RunSpec], store: ResultsStore) -> pd.DataFrame:
    latest = store.latest()
    rows = [latest[spec.key] for spec in specs if spec.key in latest]
    return pd.DataFrame(rows).reindex(columns=list(SHOWN_COLUMNS))
