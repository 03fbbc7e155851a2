"""The JSON summary of a run: one definition of its keys, for every way a run can end.

:func:`visagnn.run.train.run` builds the summary of a run that finished or ran out of memory, and
the benchmark's results store (:mod:`visagnn.bench.store`) that of a run that raised; both call
:func:`run_summary`, so the keys cannot diverge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:  # the results store reads summaries without importing torch
    from visagnn.config import RunConfig

Status = Literal["ok", "oom", "diverged", "failed"]

def _mean(records: Sequence[Mapping[str, Any]], key: str) -> float | None:
    """The mean of ``key`` over the records that have it (not ``None``)."""
    values = [record[key] for record in records if record.get(key) is not None]
    return float(np.mean(values)) if values else None


def run_summary(
    dataset: str,
    config: RunConfig,
    options: Mapping[str, Any],
    status: Status,
    records: Sequence[Mapping[str, Any]] = (),
    best: Mapping[str, Any] | None = None,
    metric: str | None = None,
    peak_mem_mb: float | None = None,
    added_mem_mb: float | None = None,
    memory: Mapping[str, float] | None = None,
    error: str | None = None,
    divergence: Mapping[str, Any] | None = None,
    history_storage: str | None = None,
    world: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The summary of a run of ``config`` with method ``options`` on ``dataset`` (its label).

    Args:
        records: the per-epoch records (``epoch_s``, ``eval_s``, …); none for a failed run.
        best: the selected epoch's record (``val``, ``test``, ``epoch``), ``None`` if none.
        peak_mem_mb: the peak memory of the process (CPU) or of tensors (CUDA).
        added_mem_mb: what the run added over the memory in use before its method was built.
        memory: what a run of this graph needs, in MiB (``None`` where no method was built),
            from the sizes of the tensors held at the end of the run, each storage once:

            * ``features_mb``: the dataset's features and the method's copies (partition
              order, device copies) or transforms (SGC's propagated features) of them;
            * ``graph_mb``: the dataset's edge list and the method's graph structures (CSR
              graphs, the part of every node, the batches the loaders keep);
            * ``histories_mb``: every history's rows, per-node state and CUDA staging
              buffers (0 for methods without histories);
            * ``model_mb``: parameters, buffers and the optimizer's state;
            * ``activations_mb``: measured in the first epoch, the most that the tensors
              autograd keeps for a backward pass took at once (the largest step: its inputs,
              pulled history rows and intermediates; parameters excluded);
            * ``peak_mb``: the measured peak, as ``peak_mem_mb`` (the process on CPU, tensors
              on CUDA).

            Labels, split masks and the interpreter are not counted; the dataset's tensors
            are, as the run holds them.
        error: why the run did not finish (status ``oom``, ``diverged`` or ``failed``).
        divergence: for status ``diverged``, the ``epoch`` whose training loss was not finite
            and the ``last_finite_loss`` before it (``None`` if the first epoch's was not).
        history_storage: where a historical method kept its histories and why, e.g. ``device
            (histories 2,431 MiB of 120,000 MiB free)``
            (:meth:`~visagnn.history.store.HistoryStorage.choose`); ``None`` for other methods
            and where no method was built.
        world: a ``torchrun`` run's ``world_size``, ``backend``, ``memory_per_rank`` and
            ``exchanged_per_rank`` (:func:`visagnn.run.train.world_fields`), added as keys;
            ``None`` (no such keys) for a run in one process.

    Summaries are written as strict JSON (:func:`visagnn.run.records.to_json`): a non-finite
    number (a loss or score of a diverged run) appears as ``null``.
    """
    summary = {
        "dataset": dataset, "method": config.method, "seed": config.seed, "metric": metric,
        "status": status,
        "best_val": best["val"] if best is not None else None,
        "test": best["test"] if best is not None else None,
        "best_epoch": best["epoch"] if best is not None else 0,
        "epochs": len(records),
        "mean_epoch_s": _mean(records, "epoch_s"), "mean_eval_s": _mean(records, "eval_s"),
        "peak_mem_mb": peak_mem_mb, "added_mem_mb": added_mem_mb,
        "memory": dict(memory) if memory is not None else None,
        "history_storage": history_storage,
        "device": config.device, "num_parts": config.num_parts,
        "batch_parts": config.batch_parts, "config": asdict(config), "options": dict(options),
    }
    if world is not None:
        summary.update(world)
    if error is not None:
        summary["error"] = error
    if divergence is not None:
        summary["divergence"] = dict(divergence)
    return summary
