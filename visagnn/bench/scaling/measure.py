"""Measuring one point of the scaling benchmark, in the process that runs this module.

``python -m visagnn.bench.scaling.measure --point JSON --output FILE`` measures one
:class:`~visagnn.bench.scaling.family.ScalePoint` and writes its record to ``FILE`` as JSON (or
``{"error": ..., "details": ...}`` when it raises); :mod:`visagnn.bench.scaling.runner` starts
one such process per point, so that every peak memory is that point's alone.

A method point goes through these phases, each timed (wall seconds ``<phase>_s`` and CPU
seconds ``<phase>_cpu_s`` of the process) and with its own peak resident set size
``<phase>_peak_mb`` (:class:`~visagnn.utils.memory.PeakMemory`, reset at the start of each phase)
and working memory ``<phase>_workspace_mb`` (:class:`Phases`); on CUDA a phase ends when the
device has finished its work, and its peak of allocated device memory is
``<phase>_gpu_peak_mb``:

===========  ==========================================================================
generate     the products-shaped synthetic graph
build        the method: the partition read from the cache (the partition point wrote
             it), the graph and features in partition order, histories, model
fill         the histories filled with exact embeddings (``prepare``)
epoch        one training epoch, its activations measured
             (:class:`~visagnn.utils.memory.SavedTensorMeter`)
inference    exact layer-wise inference of every node (``predict``, which also refreshes the
             histories, as every evaluation of a training run does)
pyg_epoch    the same batches, in the same order, through plain PyG ``GATConv`` layers
             (:mod:`visagnn.bench.scaling.baseline`), measured the same way
pyg_forward  those layers over the whole graph at once (eval mode, no autograd), the
             yardstick of fill and inference; only where it fits (:func:`forward_fits`),
             else ``pyg_forward_skipped`` says why
===========  ==========================================================================

Both epochs run under a saved-tensor meter (a Python hook per tensor autograd saves, as the
first epoch of every training run does) and, as every phase, the working-memory meter (a
Python call per operation), so the two are timed the same way; the method's epoch
starts and the baseline's restarts the loader's random generator from the same state, so the
baseline replays the method's batches exactly. On CUDA each of the two is preceded by an
untimed epoch over the same batches (``warmup_epochs``: the first steps load kernels and grow
the caching allocator), so that both measure the steady state, and the whole-graph forward by
an untimed one. A partition point has
``generate`` and ``partition`` (METIS from scratch, its cache file replaced).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from statistics import fmean
from typing import Any

import torch

from visagnn.bench.provenance import provenance
from visagnn.bench.scaling.baseline import (
    StepGeometry,
    equal_work_epoch,
    full_graph_forward,
    plain_gat,
)
from visagnn.bench.scaling.family import ScalePoint
from visagnn.datasets.synthetic import load_synthetic
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import partition_cache_file, partition_graph
from visagnn.methods import create_method
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.partition_batches import inference_parts
from visagnn.run.records import write_json_atomic
from visagnn.run.train import seed_everything
from visagnn.utils.cache import cache_folder
from visagnn.utils.memory import (
    MB,
    PeakMemory,
    SavedTensorMeter,
    WorkspaceMeter,
    available_memory_mb,
)

METHOD_PHASES = ("generate", "build", "fill", "epoch", "inference", "pyg_epoch")
PARTITION_PHASES = ("generate", "partition")
CPU = torch.device("cpu")
TRAINING_PHASES = ("build", "fill", "epoch", "inference")
"""The phases whose peak is the breakdown's ``peak_mb``: a training run's, from building the
method to its evaluation (as :func:`visagnn.run.train.run` measures it)."""
FORWARD_PHASE = "pyg_forward"
"""The whole-graph forward, apart from :data:`METHOD_PHASES`: it is measured only where it fits,
so no estimate of a point's peak extrapolates it."""
FORWARD_BYTES_PER_EDGE = 2.4e3
"""What ``GATConv``'s forward holds per edge while it runs, at the family's 4 × 64 (measured:
:mod:`~visagnn.bench.scaling.family`)."""
FORWARD_SHARE = 0.75
"""The share of the available memory the whole-graph forward may take, the rest left for what
the process holds beside it (the margin of ``--history-storage auto`` on CUDA)."""


class Phases:
    """Wall time, CPU time, peak RSS and working memory of named phases, as the flat fields of
    a record; with a CUDA ``device`` also each phase's peak of allocated device memory.

    The working memory ``<phase>_workspace_mb`` (``<phase>_gpu_workspace_mb`` on the device) is
    the most that the tensors the phase's operations allocated took at once
    (:class:`~visagnn.utils.memory.WorkspaceMeter`), so that the phase's peak can be told apart into
    what the process held before it and what the phase itself needed."""

    def __init__(self, device: torch.device = CPU) -> None:
        self.fields: dict[str, float] = {}
        self.device = device

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        memory = PeakMemory(CPU)
        device_memory = PeakMemory(self.device) if self.device.type == "cuda" else None
        if device_memory is not None:
            torch.cuda.synchronize(self.device)
            device_memory.reset()
        memory.reset()
        workspace = WorkspaceMeter()
        wall, cpu = time.perf_counter(), time.process_time()
        with workspace:
            yield
        if device_memory is not None:
            torch.cuda.synchronize(self.device)
            self.fields.update({f"{name}_gpu_peak_mb": device_memory.peak_mb(),
                                f"{name}_gpu_workspace_mb": workspace.peak_mb("cuda")})
        self.fields.update({f"{name}_s": time.perf_counter() - wall,
                            f"{name}_cpu_s": time.process_time() - cpu,
                            f"{name}_peak_mb": memory.peak_mb(),
                            f"{name}_workspace_mb": workspace.peak_mb("cpu")})
        print(f"  {name}: {self.fields[f'{name}_s']:.1f} s, peak "
              f"{self.fields[f'{name}_peak_mb']:.0f} MiB", file=sys.stderr, flush=True)

    def peak_mb(self, names: Sequence[str]) -> float:
        return max(self.fields[f"{name}_peak_mb"] for name in names)


def load_average() -> float | None:
    """The 1-minute load average (runnable processes, this one included), where known."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def geometry_fields(steps: Sequence[StepGeometry]) -> dict[str, float]:
    """Steps per epoch and the mean and largest in-batch nodes, halo nodes and edges per step."""
    columns = {"batch_nodes": [step.batch_size for step in steps],
               "halo_nodes": [step.num_nodes - step.batch_size for step in steps],
               "batch_edges": [step.num_edges for step in steps]}
    fields: dict[str, float] = {"steps": len(steps)}
    for name, values in columns.items():
        fields[f"{name}_mean"] = fmean(values) if values else 0.0
        fields[f"{name}_max"] = max(values, default=0)
    return fields


def forward_fits(num_edges: int, device: torch.device) -> str | None:
    """Why the whole-graph forward of ``num_edges`` edges would not fit in
    :data:`FORWARD_SHARE` of the memory ``device`` has available; ``None`` when it fits."""
    needed = num_edges * FORWARD_BYTES_PER_EDGE / MB
    room = FORWARD_SHARE * available_memory_mb(device)
    if needed > room:
        return (f"the whole-graph forward needs about {needed:.0f} MiB, more than "
                f"{FORWARD_SHARE:.0%} of the {room / FORWARD_SHARE:.0f} MiB available")
    return None


def measure_partition(point: ScalePoint) -> dict[str, Any]:
    """METIS on the point's graph, its cache file rewritten (the method points read it)."""
    phases = Phases()
    with phases.phase("generate"):
        data = load_synthetic(point.synthetic_config()).data
    folder = cache_folder("partitions")
    with phases.phase("partition"):
        graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
        cache_file = partition_cache_file(graph, point.num_parts, folder)
        cache_file.unlink(missing_ok=True)
        partition = partition_graph(graph, point.num_parts, folder)
    part = torch.empty_like(partition.perm)
    part[partition.perm] = partition.part_of_new_ids()
    source, target = data.edge_index
    return {**phases.fields, "num_edges": data.num_edges, "num_parts": point.num_parts,
            "edge_cut": float((part[source] != part[target]).double().mean()),
            "partition_file": str(cache_file)}


def measure_method(point: ScalePoint, partition_file: Path) -> dict[str, Any]:
    """The phases of a method point (see the module docstring) and its memory breakdown."""
    if not partition_file.exists():
        raise FileNotFoundError(f"the partition {partition_file} is missing: measure the "
                                f"partition point {point.partition_point().key} first")
    config = point.run_config()
    phases = Phases(config.torch_device)
    with phases.phase("generate"):
        dataset = load_synthetic(point.synthetic_config())
    seed_everything(config.seed)
    with phases.phase("build"):
        method = create_method(dataset, config)
    if not isinstance(method, HistoricalMethod):
        raise TypeError(f"{point.method} is not a historical method")
    with phases.phase("fill"):
        method.prepare()
    warmup = method.device.type == "cuda"
    batch_order = method.loader.generator.get_state()
    if warmup:
        method.train_epoch(1)
        method.loader.generator.set_state(batch_order)
    activations = SavedTensorMeter(exclude=method.model.parameters())
    with phases.phase("epoch"), activations.measuring():
        loss = method.train_epoch(1)
    with phases.phase("inference"):
        method.predict()
    memory = {**method.memory_breakdown(), "activations_mb": activations.peak_mb,
              "peak_mb": phases.peak_mb(TRAINING_PHASES)}

    model = plain_gat(config, dataset.data.num_features, dataset.num_classes).to(method.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr,
                                 weight_decay=config.weight_decay)
    if warmup:
        method.loader.generator.set_state(batch_order)
        equal_work_epoch(model, optimizer, method.training_batches(), method.parted.y,
                         config.grad_clip)
    method.loader.generator.set_state(batch_order)  # the epoch's batches again, in its order
    baseline_activations = SavedTensorMeter(exclude=model.parameters())
    with phases.phase("pyg_epoch"), baseline_activations.measuring():
        steps = equal_work_epoch(model, optimizer, method.training_batches(), method.parted.y,
                                 config.grad_clip)

    if method.device.type == "cuda":  # the epochs' cached blocks are free for the forward
        torch.cuda.empty_cache()
    forward_skipped = forward_fits(dataset.data.num_edges, method.device)
    if forward_skipped is None:
        x = dataset.data.x.to(method.device)
        edge_index = dataset.data.edge_index.to(method.device)
        if warmup:
            full_graph_forward(model, x, edge_index)
        with phases.phase(FORWARD_PHASE):
            full_graph_forward(model, x, edge_index)
        del x, edge_index

    widths = [*method.backbone.hidden_dims, dataset.num_classes]
    return {
        **phases.fields, "loss": loss, "memory": memory, "warmup_epochs": int(warmup),
        f"{FORWARD_PHASE}_skipped": forward_skipped,
        "pyg_activations_mb": baseline_activations.peak_mb,
        # what layer-wise inference returns, held beside the histories while it runs
        "exact_outputs_mb": dataset.data.num_nodes * sum(widths) * 4 / MB,
        "num_edges": dataset.data.num_edges, "num_parts": config.num_parts,
        "batch_parts": config.batch_parts,
        "inference_parts": inference_parts(config.num_parts, config.batch_parts,
                                           dataset.data.num_edges),
        "config": asdict(config),
        **geometry_fields(steps),
    }


def measure(point: ScalePoint, partition_file: Path | None = None) -> dict[str, Any]:
    """The record of ``point``: its phases, where it ran (provenance, threads, the machine's
    load before and after, the memory available at the start) and the process's memory at
    the start (``base_mb``: the interpreter and its libraries)."""
    memory = PeakMemory(torch.device("cpu"))
    memory.reset()
    start = {"base_mb": memory.baseline_mb, "load_start": load_average(),
             "threads": torch.get_num_threads()}
    if point.is_partition:
        fields = measure_partition(point)
    else:
        if partition_file is None:
            raise ValueError(f"{point.key} needs the file of its partition")
        fields = measure_method(point, partition_file)
    device = "cpu" if point.is_partition else point.device
    return {**start, **fields, "load_end": load_average(), **provenance(device)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--point", required=True, help="the ScalePoint's fields as JSON")
    parser.add_argument("--output", type=Path, required=True, help="where the record goes")
    parser.add_argument("--partition-file", type=Path, default=None,
                        help="the partition point's cache file (method points)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        point = ScalePoint(**json.loads(args.point))
        print(f"{point.key}:", file=sys.stderr, flush=True)
        record = measure(point, args.partition_file)
    except Exception as exc:
        write_json_atomic(args.output, {"error": f"{type(exc).__name__}: {exc}",
                                        "details": "".join(traceback.format_exception(exc))})
        return 1
    write_json_atomic(args.output, record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
