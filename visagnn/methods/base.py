"""The interface every training method implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from visagnn.config import BackboneName, RunConfig, SettingFamily
from visagnn.datasets import GraphDataset
from visagnn.utils.memory import tensors_mb


@dataclass(frozen=True)
class NoOptions:
    """A method without options of its own."""


class Method(ABC):
    """One training method (GAS, VISAGNN, a peer) run by :func:`visagnn.run.train.run`.

    The trainer calls :meth:`prepare` once (not timed), then per epoch :meth:`train_epoch`
    (timed) and :meth:`predict` (exact inference, timed apart) and :meth:`epoch_extras`.
    Method-specific options are a frozen dataclass ``options_class``; its fields become
    command-line flags (``--field-name``; ``--no-field-name`` for booleans that default to True),
    and each field's ``metadata["help"]`` is the flag's help text.

    A method declares the run settings it reads beyond the common ones: the families of
    :data:`~visagnn.config.SETTING_FAMILIES` (``setting_families``) and the layers
    ``RunConfig.backbone`` may choose (``backbones``, the first the default); the other settings
    do not apply to it (:func:`visagnn.methods.applicable_settings`), nor do the
    :data:`~visagnn.config.LAYER_SETTINGS` to a method without ``hidden_layers``.
    ``hidden_channels`` is a
    width per attention head where the layers built are GAT layers (``backbone`` ``gat``, or
    ``per_head_width`` for a method whose layers ``--backbone`` does not choose) and a layer's
    whole width otherwise (:func:`visagnn.defaults.method_defaults`).
    """

    name: ClassVar[str]
    options_class: ClassVar[type] = NoOptions
    setting_families: ClassVar[tuple[SettingFamily, ...]] = ()
    backbones: ClassVar[tuple[BackboneName, ...]] = ()
    per_head_width: ClassVar[bool] = False
    hidden_layers: ClassVar[bool] = True
    distributed: ClassVar[bool] = False
    """Whether the method trains under ``torchrun`` (over the ranks of
    :func:`~visagnn.utils.distributed.current_world`); the others run in one process only."""
    model: nn.Module
    optimizer: torch.optim.Optimizer

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: Any) -> None:
        if self.backbones and config.backbone not in self.backbones:
            raise ValueError(f"RunConfig.backbone must be one of {self.backbones} for method "
                             f"{self.name!r}, got {config.backbone!r}")
        self.dataset = dataset
        self.config = config
        self.options = options
        self.device = config.torch_device

    def prepare(self) -> None:  # noqa: B027  (optional hook, nothing to do by default)
        """Work before the first epoch, e.g. filling histories or precomputing features."""

    @abstractmethod
    def train_epoch(self, epoch: int) -> float:
        """Train one epoch (``epoch`` counts from 1); return the mean training loss."""

    @abstractmethod
    def predict(self) -> Tensor:
        """Logits ``[N, C]`` of every node, in the dataset's node order, on CPU."""

    def epoch_extras(self, epoch: int) -> dict[str, Any]:
        """Extra per-epoch fields for the records (e.g. measured staleness)."""
        return {}

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """The tensors the method holds, by kind: ``features`` (the dataset's features and
        the method's copies or transforms of them), ``graph`` (the dataset's edge list and the
        method's graph structures), ``histories`` (historical embeddings and their per-node
        state), ``model`` (parameters, buffers and the optimizer's state). Subclasses add
        what they hold; labels and split masks are not counted."""
        data = self.dataset.data
        optimizer_state = [value for state in self.optimizer.state.values()
                           for value in state.values() if isinstance(value, Tensor)]
        return {"features": [data.x], "graph": [data.edge_index], "histories": [],
                "model": [*self.model.parameters(), *self.model.buffers(), *optimizer_state]}

    def memory_breakdown(self) -> dict[str, float]:
        """MiB of each kind of :meth:`memory_tensors` (``features_mb``, ``graph_mb``,
        ``histories_mb``, ``model_mb``), each storage counted once."""
        return {f"{kind}_mb": tensors_mb(tensor for tensor in tensors if tensor is not None)
                for kind, tensors in self.memory_tensors().items()}

    def describe(self) -> dict[str, Any]:
        """Method-specific settings for the run summary."""
        return asdict(self.options)

    def history_placement(self) -> str | None:
        """Where the method's histories are and why, for the run summary (``None``: it keeps
        none)."""
        return None
