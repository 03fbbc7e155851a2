"""A training step of a historical method waits for the device only where its backbone and its
loss value do: no device-to-host synchronisation in its history work (counted here on the CPU
with a stand-in for device tensors, and under CUDA's sync debug mode where a GPU is present),
and where ``--history-storage auto`` put the histories, as the run summary says."""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
from torch import Tensor

import visagnn
from tests.devices import CUDA, needs_cuda
from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.graph.batch import SubgraphBatch
from visagnn.history.store import History, HistoryStorage
from visagnn.methods import create_method, resolve_config
from visagnn.methods import historical_method as historical_method_module
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.run.train import run

PACKAGE = Path(visagnn.__file__).parent
SETTINGS = dict(num_parts=8, batch_parts=2, hidden_channels=4, heads=2, num_layers=3, epochs=1)
HOT_PATH_METHODS = ("gas", "visagnn-sum")

HOST_READS: frozenset[Callable[..., Any]] = frozenset({
    Tensor.item, Tensor.tolist, Tensor.cpu, Tensor.numpy, Tensor.__bool__, Tensor.__int__,
    Tensor.__float__, Tensor.__index__, Tensor.nonzero, torch.nonzero, Tensor.argwhere,
    torch.argwhere, Tensor.masked_select, torch.masked_select, Tensor.unique, torch.unique,
    Tensor.unique_consecutive, torch.unique_consecutive, Tensor.repeat_interleave,
    torch.repeat_interleave,
})
"""What reads a CUDA tensor's values or its data-dependent size on the host, so waits for the
device: scalars, copies to the host, and the ops whose output size depends on the values."""
INDEXING: frozenset[Callable[..., Any]] = frozenset({
    Tensor.__getitem__, Tensor.__setitem__, Tensor.index_put_, Tensor.index_put})
"""Indexing, which waits for the device when an index is a boolean mask (its nonzero)."""


def has_mask_index(args: tuple[Any, ...]) -> bool:
    """Whether the index argument of an indexing call holds a boolean tensor."""
    index = args[1] if len(args) > 1 else ()
    indices = index if isinstance(index, tuple | list) else (index,)
    return any(isinstance(part, Tensor) and part.dtype == torch.bool for part in indices)


def caller_in_package() -> str:
    """The innermost ``visagnn/`` module on the stack: where a wait is issued from."""
    for frame in reversed(traceback.extract_stack()):
        path = Path(frame.filename)
        if path.is_relative_to(PACKAGE):
            return f"visagnn/{path.relative_to(PACKAGE).as_posix()}"
    return "?"


class DeviceTensor(Tensor):
    """A CPU tensor standing in for a tensor on a CUDA device: what is computed from it is one
    too, it says it is on CUDA (``is_cuda``), and every call that would make the host wait for
    the device is recorded in :attr:`waits`, with the module it came from."""

    waits: ClassVar[list[tuple[str, str]]] = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func == Tensor.is_cuda.__get__:
            return True
        if func in HOST_READS or (func in INDEXING and has_mask_index(args)):
            cls.waits.append((func.__name__, caller_in_package()))
        return super().__torch_function__(func, types, args, kwargs or {})


def on_device(tensor: Tensor | None) -> Tensor | None:
    return None if tensor is None else tensor.as_subclass(DeviceTensor)


def to_stand_in_device(batch: SubgraphBatch, device: torch.device | str,
                       non_blocking: bool = False) -> SubgraphBatch:
    """:meth:`SubgraphBatch.to` a CUDA device, with the stand-in: device ids, host ids kept."""
    return replace(batch, n_id=on_device(batch.n_id), edge_index=on_device(batch.edge_index),
                   host_n_id=batch.n_id)


def put_state_on_device(history: History) -> None:
    """The per-node state a history keeps on the compute device, as stand-in device tensors."""
    history.last_push = on_device(history.last_push)
    history.grad_norm = on_device(history.grad_norm)
    history.grad_seen = on_device(history.grad_seen)
    history._drift_rate = on_device(history._drift_rate)
    history.drift_velocity = on_device(history.drift_velocity)


def index_on_host(history: History) -> None:
    """Every index into ``history``'s stored rows (on the CPU) that is a device tensor is a copy
    of device ids to the host: record it in :attr:`DeviceTensor.waits`."""
    transfers = history.transfers
    for name in ("pull", "push"):
        move = getattr(transfers, name)

        def checked(index: Tensor, *args: Tensor, move=move, name=name) -> Tensor | None:
            if isinstance(index, DeviceTensor):
                DeviceTensor.waits.append((f"{name} with device ids", caller_in_package()))
            return move(index.as_subclass(Tensor), *args)

        setattr(transfers, name, checked)


def trained_method(path, method: str) -> HistoricalMethod:
    """``method`` on a small graph after one epoch and an evaluation, so that every history
    has its drift rate (two refreshes)."""
    dataset = load_dataset(write_community_graph(path))
    torch.manual_seed(0)
    built = create_method(dataset, resolve_config(str(path), method, **SETTINGS))
    built.prepare()
    built.train_epoch(1)
    built.predict()
    return built


GAT_LAYERS = {"gas": "visagnn/nn/backbone.py", "visagnn-sum": "visagnn/nn/staleness_attention.py"}
"""Where each method's attention layers call PyG's ``remove_self_loops``."""


@pytest.mark.parametrize("method", HOT_PATH_METHODS)
def test_a_step_waits_for_the_device_only_for_its_loss_and_the_self_loops(
        tmp_path, monkeypatch, method):
    """The waits left are outside the histories: ``optimizer_step``'s ``float(loss)`` (the
    epoch's mean loss is made of it) and, in every attention layer, PyG's ``remove_self_loops``
    (a boolean mask over the edges)."""
    built = trained_method(tmp_path / "graph.pt", method)
    for history in built.model.histories:
        assert history.drift_rate.isfinite().any() or method == "gas"
        put_state_on_device(history)
        index_on_host(history)
    monkeypatch.setattr(SubgraphBatch, "to", to_stand_in_device)
    steps = list(built.training_batches())
    DeviceTensor.waits.clear()
    for batch, train_rows, x in steps:
        built.clock = replace(built.clock, iteration=built.clock.iteration + 1)
        loss = built.train_step(batch, train_rows, on_device(x))
        assert loss > 0
    layers = built.model.num_layers
    assert Counter(DeviceTensor.waits) == {
        ("__float__", "visagnn/methods/optim.py"): len(steps),
        ("__getitem__", GAT_LAYERS[method]): len(steps) * layers}


def test_the_stand_in_counts_what_waits_for_the_device():
    DeviceTensor.waits.clear()
    ids = on_device(torch.tensor([3, 0, 5]))
    assert ids.is_cuda and isinstance(ids + 1, DeviceTensor)
    ids[ids > 2].sum().item()
    ids.cpu()
    here = "?"  # tests/ is not the package
    assert DeviceTensor.waits == [("__getitem__", here), ("item", here), ("cpu", here)]


def test_the_summary_says_where_auto_put_the_histories_and_why(tmp_path, monkeypatch):
    path = write_community_graph(tmp_path / "graph.pt")
    config = resolve_config(str(path), "gas", **SETTINGS)
    assert run(config, progress=False).summary["history_storage"] == "ram (CPU device)"
    choose = HistoryStorage.choose

    def on_cuda_with_free_memory(self, device, nbytes, free_memory):
        """As on a CUDA device with 1 GiB free: device memory (a CPU tensor here)."""
        return choose(self, CUDA, nbytes, lambda device: 2**30)

    monkeypatch.setattr(HistoryStorage, "choose", on_cuda_with_free_memory)
    summary = run(config, progress=False).summary
    nbytes = sum(history.nbytes for history in create_method(
        load_dataset(path), config).model.histories)
    assert summary["history_storage"] == (
        f"device (histories {nbytes / 2**20:,.0f} MiB of 1,024 MiB free)")
    assert summary["status"] == "ok"
    full_batch = resolve_config(str(path), "gcn", epochs=1)
    assert run(full_batch, progress=False).summary["history_storage"] is None


@needs_cuda
@pytest.mark.parametrize("method", HOT_PATH_METHODS)
def test_on_cuda_a_step_without_its_loss_value_never_synchronises(tmp_path, monkeypatch, method):
    """Under ``torch.cuda.set_sync_debug_mode("error")`` but for the backbone's layers (PyG's
    ``remove_self_loops``, as counted above) and the loss value (the optimizer step is taken
    without it), with histories in pinned and in device memory."""
    dataset = load_dataset(write_community_graph(tmp_path / "graph.pt"))

    def step_without_loss_value(loss, model, optimizer, grad_clip):
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return 0.0

    monkeypatch.setattr(historical_method_module, "optimizer_step", step_without_loss_value)
    for history_storage in ("pinned", "device"):
        torch.manual_seed(0)
        built = create_method(dataset, resolve_config(
            str(tmp_path / "graph.pt"), method, device="cuda", history_storage=history_storage,
            **SETTINGS))
        built.prepare()
        built.train_epoch(1)
        built.predict()
        layer = built.model.backbone.layer

        def layer_left_to_synchronise(index: int, inp, layer=layer) -> Tensor:
            torch.cuda.set_sync_debug_mode("default")
            try:
                return layer(index, inp)
            finally:
                torch.cuda.set_sync_debug_mode("error")

        monkeypatch.setattr(built.model.backbone, "layer", layer_left_to_synchronise)
        steps = list(built.training_batches())
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            for batch, train_rows, x in steps:
                built.train_step(batch, train_rows, x)
        finally:
            torch.cuda.set_sync_debug_mode("default")
