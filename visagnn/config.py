"""Run configuration: one validated dataclass (defaults per dataset: :mod:`visagnn.defaults`)."""

from __future__ import annotations

import typing
from dataclasses import dataclass, fields
from typing import Any, Literal

import torch

from visagnn.graph.partition import PartitionerName
from visagnn.history.model import PushRows
from visagnn.history.store import HistoryDtype, HistoryPlace

BackboneName = Literal["gat", "gcn"]
BACKBONES: tuple[BackboneName, ...] = typing.get_args(BackboneName)
DeviceType = Literal["cpu", "cuda"]
DEVICE_TYPES: tuple[DeviceType, ...] = typing.get_args(DeviceType)

SettingFamily = Literal["partition", "history"]
SETTING_FAMILIES: dict[SettingFamily, tuple[str, ...]] = {
    "partition": ("num_parts", "batch_parts", "partitioner", "prefetch"),
    "history": ("history_storage", "history_dtype", "refresh_histories", "push_rows",
                "exact_halo", "measure_staleness_every"),
}
"""The :class:`RunConfig` fields that only some methods read, by family: ``partition`` the
graph's parts and their batches (the methods that train on batches of METIS parts), ``history``
how the historical embeddings are kept, written and measured (the methods that keep them).
A method lists the families it takes (:attr:`visagnn.methods.Method.setting_families`); the
other families' fields do not apply to it, are refused when a user sets them and are no part
of its run's identity. ``backbone`` applies to the methods whose layers it chooses
(:attr:`visagnn.methods.Method.backbones`), :data:`LAYER_SETTINGS` to the methods with hidden
layers (:attr:`visagnn.methods.Method.hidden_layers`)."""
LAYER_SETTINGS = ("hidden_channels", "num_layers")
"""The :class:`RunConfig` fields of a model's hidden layers."""


def device_type(device: str, name: str = "RunConfig.device") -> DeviceType:
    """``cpu``, ``cuda`` or ``cuda:N`` → its type; anything else fails naming ``name``."""
    try:
        kind = torch.device(device).type
    except RuntimeError:
        kind = None
    if kind not in DEVICE_TYPES:
        raise ValueError(f"{name} must be cpu, cuda or cuda:N, got {device!r}")
    return typing.cast(DeviceType, kind)


def check_choices(record: Any) -> None:
    """Fail unless every ``Literal`` field of the dataclass ``record`` holds one of its choices,
    naming the field as ``<Class>.<field>`` and the choices (read with ``get_args``)."""
    hints = typing.get_type_hints(type(record))
    for field in fields(record):
        if typing.get_origin(hints[field.name]) is Literal:
            choices = typing.get_args(hints[field.name])
            value = getattr(record, field.name)
            if value not in choices:
                raise ValueError(f"{type(record).__name__}.{field.name} must be one of "
                                 f"{choices}, got {value!r}")


@dataclass(frozen=True)
class RunConfig:
    """Everything one training run needs besides the method's own options.

    Args:
        dataset: dataset name or path to a ``.pt`` graph (default ``synthetic``).
        method: training method, a name in :data:`visagnn.methods.METHODS` (default ``gas``).
        seed: seed of the model initialisation, dropout and batch order (default 0).
        epochs: training epochs (default 100).
        lr: Adam learning rate (default 0.005).
        weight_decay: Adam weight decay (default 5e-4).
        grad_clip: max gradient norm, ``None`` for no clipping (default ``None``).
        backbone: layers of the historical-embedding methods: ``gat`` (default) or ``gcn``
            (GCN normalised with global degrees; ``heads`` and ``out_heads`` are then unused).
        hidden_channels: channels per head of GAT hidden layers, the whole width of other
            layers (default 64; see :class:`visagnn.methods.Method`).
        heads: attention heads of the hidden layers (default 4).
        out_heads: attention heads of the output layer, averaged (default 1).
        num_layers: message-passing layers (default 2).
        dropout: dropout rate on layer inputs and attention weights (default 0.5).
        num_parts: parts ``P`` of the graph (default 40).
        batch_parts: parts per mini-batch ``B`` (default 10).
        partitioner: how the graph is cut into parts (see :mod:`visagnn.graph.partition`):
            ``metis`` (default; minimal edge cut, memory-hungry on huge graphs) or ``ranges``
            (balanced contiguous node-id ranges, for graphs METIS cannot hold whose ids carry
            locality).
        device: ``cpu``, ``cuda`` or ``cuda:N`` (default ``cpu``).
        root: data root; ``None`` means ``$VISAGNN_DATA`` or the cache folder (default ``None``).
        download: download a named dataset whose files are missing (default True, unless
            ``$VISAGNN_NO_DOWNLOAD`` is set; see :func:`visagnn.datasets.load_dataset`).
        history_storage: where the historical methods keep their histories (see
            :class:`~visagnn.history.store.HistoryStorage`): ``auto`` (default: RAM on CPU; on
            CUDA device memory where the histories fit, else pinned RAM), ``ram``, ``pinned``
            (CUDA only), ``device`` (device memory) or ``mmap`` (a memory-mapped file in the cache
            folder, gone when the run ends).
        history_dtype: the histories' storage dtype: ``float32`` (default), ``float16`` or
            ``bfloat16`` (half the memory; pulls return float32).
        eval_every: evaluate (exact inference, model selection) every this many epochs and
            after the last one (default 1).
        refresh_histories: each evaluation's exact inference also writes every history row
            (persistence back to 0), as the official GAS, GraphFM and LMC codes do (default True).
        push_rows: what a training step writes into the histories: its own rows (``train``,
            GAS's, with dropout noise), the rows of an extra eval-mode forward of the batch
            (``clean``) or nothing (``none``: only evaluations' refreshes write them).
        exact_halo: the oracle of the historical methods: before every step, the halo rows it
            reads are rewritten with exact embeddings of the current weights, so the halo is
            never stale, at the cost of the halo's receptive field per step (default False).
        measure_staleness_every: every this many epochs, measure the true staleness of the
            histories against exact embeddings (0: never; default 0, as it costs a full
            inference).
        prefetch: build the next mini-batch (subgraph, feature rows) in a background thread
            while a step trains (:func:`visagnn.graph.prefetch.prefetch`); the same steps in the
            same order, so the same results (default False: one thread, the simplest path;
            worth it on a GPU or with a spare core).
    """

    dataset: str = "synthetic"
    method: str = "gas"
    seed: int = 0
    epochs: int = 100
    lr: float = 0.005
    weight_decay: float = 5e-4
    grad_clip: float | None = None
    backbone: BackboneName = "gat"
    hidden_channels: int = 64
    heads: int = 4
    out_heads: int = 1
    num_layers: int = 2
    dropout: float = 0.5
    num_parts: int = 40
    batch_parts: int = 10
    partitioner: PartitionerName = "metis"
    device: str = "cpu"
    root: str | None = None
    download: bool = True
    history_storage: HistoryPlace = "auto"
    history_dtype: HistoryDtype = "float32"
    eval_every: int = 1
    refresh_histories: bool = True
    push_rows: PushRows = "train"
    exact_halo: bool = False
    measure_staleness_every: int = 0
    prefetch: bool = False

    def __post_init__(self) -> None:
        positive = ("epochs", "hidden_channels", "heads", "out_heads", "num_layers",
                    "num_parts", "batch_parts", "eval_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"RunConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.measure_staleness_every < 0:
            raise ValueError("RunConfig.measure_staleness_every must be >= 0, "
                             f"got {self.measure_staleness_every}")
        if self.lr <= 0:
            raise ValueError(f"RunConfig.lr must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"RunConfig.weight_decay must be >= 0, got {self.weight_decay}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"RunConfig.dropout must be in [0, 1), got {self.dropout}")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ValueError(f"RunConfig.grad_clip must be > 0 or None, got {self.grad_clip}")
        if self.batch_parts > self.num_parts:
            raise ValueError(
                f"RunConfig.batch_parts ({self.batch_parts}) must not exceed "
                f"num_parts ({self.num_parts})"
            )
        check_choices(self)
        kind = device_type(self.device)
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"RunConfig.device is {self.device!r} but CUDA is not available")
        if self.history_storage == "pinned" and kind != "cuda":
            raise ValueError("RunConfig.history_storage 'pinned' needs a CUDA device, "
                             f"got {self.device!r}")

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)


RUN_CONFIG_FIELDS = tuple(field.name for field in fields(RunConfig))
