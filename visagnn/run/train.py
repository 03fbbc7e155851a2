"""The run loop every method shares: seeding, timing, memory, evaluation and model selection."""

from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from tqdm.auto import tqdm

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset, load_dataset
from visagnn.history.sharded import EXCHANGED
from visagnn.methods import Method, create_method
from visagnn.run.records import RunWriter
from visagnn.run.summary import run_summary
from visagnn.utils.distributed import current_world
from visagnn.utils.memory import MemoryBudgetExceeded, PeakMemory, SavedTensorMeter


@dataclass(frozen=True)
class RunResult:
    """The JSON ``summary`` of a run and its per-epoch ``records``."""

    summary: dict[str, Any]
    records: list[dict[str, Any]]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def load_run_dataset(config: RunConfig) -> GraphDataset:
    """``config.dataset`` from ``config.root``; downloaded if missing unless ``config.download``
    is off (or ``$VISAGNN_NO_DOWNLOAD`` forbids it)."""
    return load_dataset(config.dataset, config.root, download=None if config.download else False)


def evaluate(method: Method, dataset: GraphDataset, device: torch.device) -> dict[str, float]:
    """The train, validation and test scores of the method's exact inference, and its time."""
    start = time.perf_counter()
    logits = method.predict()
    synchronize(device)
    data = dataset.data
    return {"train": dataset.score(logits, data.train_mask),
            "val": dataset.score(logits, data.val_mask),
            "test": dataset.score(logits, data.test_mask),
            "eval_s": time.perf_counter() - start}


def run(
    config: RunConfig,
    method_options: dict[str, Any] | None = None,
    dataset: GraphDataset | None = None,
    out_dir: str | Path | None = None,
    progress: bool = True,
) -> RunResult:
    """Train ``config.method`` on ``config.dataset`` and select the test score at the best epoch.

    Each epoch is timed (``epoch_s``, training only); every ``config.eval_every`` epochs and
    after the last one it is evaluated by the method's exact inference (``eval_s``; the other
    epochs' records have no scores). The reported ``test`` is the test metric of the first
    evaluated epoch with the highest validation metric. A method that runs out of memory (its
    own estimate, or the CUDA allocator) ends the run with ``status = "oom"`` instead of raising;
    one whose training loss stops being finite ends it with ``status = "diverged"`` at that
    epoch (its record has the non-finite loss, written ``null``, and no scores), the summary's
    ``divergence`` giving the epoch and the last finite loss: more epochs would only train on
    NaN weights and score at chance.
    The summary's ``memory`` breaks the memory down (:func:`~visagnn.run.summary.run_summary`);
    the activations are measured during the first epoch only, which visits every part
    (:class:`~visagnn.utils.memory.SavedTensorMeter`: a Python hook per saved tensor, which slows
    the steps it watches, so no later epoch pays it).

    Under ``torchrun`` (a process group joined, :func:`~visagnn.utils.distributed.join_world`)
    every rank runs this with the same seed and returns rank 0's summary and records (the same
    but for the timings), which add the world (:func:`world_fields`); only rank 0 writes
    ``out_dir`` and shows progress.
    """
    seed_everything(config.seed)
    dataset = dataset if dataset is not None else load_run_dataset(config)
    device = config.torch_device
    world = current_world()
    writer = RunWriter(out_dir) if out_dir is not None and world.is_main else None
    progress = progress and world.is_main
    memory = PeakMemory(device)
    memory.reset()
    records: list[dict[str, Any]] = []
    best: dict[str, Any] = {"val": float("-inf"), "test": float("nan"), "epoch": 0}
    status, error, method = "ok", None, None
    divergence: dict[str, Any] | None = None
    last_finite_loss: float | None = None
    activations = SavedTensorMeter()
    try:
        method = create_method(dataset, config, method_options)
        activations = SavedTensorMeter(exclude=method.model.parameters())
        method.prepare()
        bar = tqdm(range(1, config.epochs + 1), desc=f"{config.method} · {dataset.name}",
                   disable=not progress, leave=False)
        for epoch in bar:
            synchronize(device)
            start = time.perf_counter()
            with activations.measuring() if epoch == 1 else contextlib.nullcontext():
                loss = method.train_epoch(epoch)
            synchronize(device)
            epoch_s = time.perf_counter() - start
            record: dict[str, Any] = {"epoch": epoch, "loss": loss, "epoch_s": epoch_s}
            if not math.isfinite(loss):
                status, divergence = "diverged", {"epoch": epoch,
                                                  "last_finite_loss": last_finite_loss}
                error = (f"the training loss became {loss} at epoch {epoch} (last finite loss: "
                         f"{last_finite_loss}); try a lower --lr or a --grad-clip")
            elif epoch % config.eval_every == 0 or epoch == config.epochs:
                record.update(evaluate(method, dataset, device))
                if record["val"] > best["val"]:
                    best = {"val": record["val"], "test": record["test"], "epoch": epoch}
            record.update(peak_mem_mb=memory.peak_mb(), **method.epoch_extras(epoch))
            records.append(record)
            if writer is not None:
                writer.epoch(record)
            if divergence is not None:
                break
            last_finite_loss = loss
            bar.set_postfix(loss=f"{loss:.3f}", val=f"{best['val']:.4f}",
                            test=f"{best['test']:.4f}")
    except (MemoryBudgetExceeded, torch.cuda.OutOfMemoryError) as exc:
        status, error = "oom", str(exc)
    breakdown = None
    if method is not None:
        breakdown = {**method.memory_breakdown(), "activations_mb": activations.peak_mb,
                     "peak_mb": memory.peak_mb()}
    summary = run_summary(
        dataset.name, config,
        method.describe() if method is not None else dict(method_options or {}),
        status, records, best if best["epoch"] else None, dataset.metric,
        peak_mem_mb=memory.peak_mb(), added_mem_mb=memory.added_mb(), memory=breakdown,
        error=error, divergence=divergence,
        history_storage=method.history_placement() if method is not None else None,
        world=world_fields(breakdown) if world.is_distributed else None)
    if world.is_distributed:  # rank 0's timings, so that every rank returns the same summary
        shared = [summary, records]
        dist.broadcast_object_list(shared, src=0)
        summary, records = shared
    if writer is not None:
        writer.summary(summary)
    return RunResult(summary=summary, records=records)


def world_fields(memory: dict[str, float] | None) -> dict[str, Any]:
    """What a distributed run adds to its summary, the same on every rank: ``world_size``,
    ``backend``, ``memory_per_rank`` (each rank's memory breakdown, ``histories_mb`` included:
    its shard of the rows and its replica of the per-node state) and ``exchanged_per_rank``
    (each rank's bytes sent per lockstep step: history exchanges, gradient all-reduce;
    :class:`~visagnn.history.sharded.ExchangeCounter`). A collective: every rank calls it."""
    world = current_world()
    mine = {"memory": memory, "exchanged": EXCHANGED.per_step()}
    every: list[Any] = [None] * world.size
    dist.all_gather_object(every, mine)
    return {"world_size": world.size, "backend": world.backend,
            "memory_per_rank": [rank["memory"] for rank in every],
            "exchanged_per_rank": [rank["exchanged"] for rank in every]}
