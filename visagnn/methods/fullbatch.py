"""Full-batch baselines: GCN, GAT and APPNP trained on the whole graph at every step.

Before anything is allocated, each method estimates the memory of one training step
(:meth:`FullBatchMethod.estimate_mb`) and stops with
:class:`~visagnn.utils.memory.MemoryBudgetExceeded` (a run with ``status = "oom"``) when it exceeds
the budget: ``--memory-budget-mb``, by default the free device memory on CUDA or ``MemAvailable`` on
CPU. Where the estimate is too low, the CUDA allocator's ``OutOfMemoryError`` still ends the run as
``oom`` in :func:`visagnn.run.train.run`.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.methods.base import Method
from visagnn.methods.optim import build_optimizer, optimizer_step
from visagnn.methods.registry import register_method
from visagnn.nn.appnp import APPNP
from visagnn.nn.backbone import GATBackbone
from visagnn.nn.full_graph import FullGraphModel
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.utils.memory import MemoryBudgetExceeded, available_memory_mb

SAFETY_FACTOR = 1.5
"""Margin on the activation estimate (allocator fragmentation, temporaries of the backward)."""


@dataclass(frozen=True)
class FullBatchOptions:
    """Options of the full-batch methods."""

    memory_budget_mb: float | None = field(default=None, metadata={
        "help": "memory a full-batch method may use, in MiB; a larger estimate ends the run "
                "with status 'oom' (default: free device memory, or MemAvailable on CPU)"})


@dataclass(frozen=True)
class APPNPOptions(FullBatchOptions):
    """Options of APPNP (defaults: Gasteiger et al., 2019)."""

    propagation_steps: int = field(default=10, metadata={
        "help": "APPNP power-iteration steps K"})
    alpha: float = field(default=0.1, metadata={"help": "APPNP teleport probability alpha"})

    def __post_init__(self) -> None:
        if self.propagation_steps < 1:
            raise ValueError("APPNPOptions.propagation_steps must be >= 1, got "
                             f"{self.propagation_steps}")
        if not 0 < self.alpha <= 1:
            raise ValueError(f"APPNPOptions.alpha must be in (0, 1], got {self.alpha}")


class FullBatchMethod(Method):
    r"""One optimizer step per epoch on the whole graph; evaluation is a full forward pass.

    The memory of a step is estimated, in float32 values, as

    .. math::
        4\,\mathrm{B} \cdot s \cdot \Big(2 N F + \sum_l \big(4 N d_l + E' e_l\big)
        + 4 P\Big)

    for ``N`` nodes with ``F`` features, ``E' = E + N`` edges with self-loops, ``d_l`` the
    output width (all heads) of layer ``l`` and ``e_l`` the values it keeps per edge, ``P``
    parameters (with gradient and two Adam moments) and the safety factor
    ``s`` = :data:`SAFETY_FACTOR`. Node terms count a layer's dropout input, output, activation
    and gradient. Per edge, a GCN layer materialises the gathered and the weighted message
    (and their gradients in the backward pass) plus the edge list with self-loops and its
    weights (``e_l = 2 d_l + 8``); a GAT layer with ``h_l`` heads keeps the gathered messages
    for the attention gradient and about 16 temporaries per head for the scores' LeakyReLU,
    softmax and dropout (``e_l = 4 d_l + 16 h_l + 4``); a sparse APPNP step keeps its dropped
    edge weights and the transposed matrix of its backward pass (``e_l = 4``). The constants
    were fitted on CPU measurements of the peak RSS of two training steps (20,000 nodes, 0.4M
    and 1M edges, GCN, GAT and APPNP of several widths): without the safety factor the estimate
    was 1.0 to 1.4 times the measured peak.
    Subclasses list their layers in :meth:`layer_shapes`.
    """

    options_class = FullBatchOptions

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: Any) -> None:
        super().__init__(dataset, config, options)
        data = dataset.data
        self.model = self.build_model()
        self.budget_mb = (options.memory_budget_mb if options.memory_budget_mb is not None
                          else available_memory_mb(self.device))
        self.estimated_mb = self.estimate_mb(data.num_nodes, data.edge_index.size(1))
        if self.estimated_mb > self.budget_mb:
            raise MemoryBudgetExceeded(
                f"full-batch {self.name} on {dataset.name} needs an estimated "
                f"{self.estimated_mb:.0f} MiB, more than the budget of {self.budget_mb:.0f} MiB"
            )
        self.model = self.model.to(self.device)
        self.x = data.x.to(self.device, torch.float32)
        self.edge_index = data.edge_index.to(self.device)
        self.y = data.y.to(self.device)
        self.train_mask = data.train_mask.to(self.device)
        self.optimizer = build_optimizer(self.model, self.model.regularized_parameters(),
                                         config.lr, config.weight_decay)

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """Also the features and edges on the device (the dataset's own on CPU)."""
        held = super().memory_tensors()
        held["features"].append(self.x)
        held["graph"].append(self.edge_index)
        return held

    @property
    def in_channels(self) -> int:
        return self.dataset.data.x.size(1)

    @abstractmethod
    def build_model(self) -> nn.Module:
        """The model, ``model(x, edge_index) -> logits [N, C]``."""

    @abstractmethod
    def layer_shapes(self) -> list[tuple[int, int]]:
        """``(d_l, e_l)`` of every layer for the memory estimate: its output width and the
        values it keeps per edge (0 for a layer without message passing)."""

    def estimate_mb(self, num_nodes: int, num_edges: int) -> float:
        """Estimated peak memory of one training step in MiB (formula in the class docstring)."""
        edges = num_edges + num_nodes
        floats = 2 * num_nodes * self.in_channels
        for width, per_edge in self.layer_shapes():
            floats += 4 * num_nodes * width + edges * per_edge
        floats += 4 * sum(p.numel() for p in self.model.parameters())
        return SAFETY_FACTOR * 4 * floats / 2**20

    def train_epoch(self, epoch: int) -> float:
        self.model.train()
        out = self.model(self.x, self.edge_index)
        loss = F.cross_entropy(out[self.train_mask], self.y[self.train_mask])
        return optimizer_step(loss, self.model, self.optimizer, self.config.grad_clip)

    @torch.no_grad()
    def predict(self) -> Tensor:
        self.model.eval()
        return self.model(self.x, self.edge_index).cpu()

    def describe(self) -> dict[str, Any]:
        return {**asdict(self.options), "estimated_mb": self.estimated_mb,
                "budget_mb": self.budget_mb}


@register_method
class FullBatchGCN(FullBatchMethod):
    """GCN (Kipf & Welling, 2017) on the whole graph.

    Planetoid defaults from the paper: 2 layers, 16 hidden units, dropout 0.5, Adam with
    lr 0.01, L2 5e-4 on the first layer only, 200 epochs (the paper's early stopping on the
    validation loss is replaced by the shared best-validation selection). Elsewhere the width
    is the dataset's GAT width (:mod:`visagnn.defaults`) and the
    rest the dataset's defaults.
    """

    name = "gcn"

    def build_model(self) -> FullGraphModel:
        config, data = self.config, self.dataset.data
        degree = torch.bincount(data.edge_index[1], minlength=data.num_nodes)
        return FullGraphModel(GCNBackbone(
            self.in_channels, config.hidden_channels, self.dataset.num_classes, degree,
            num_layers=config.num_layers, dropout=config.dropout, regularized="first",
        ))

    def layer_shapes(self) -> list[tuple[int, int]]:
        return [(conv.out_channels, 2 * conv.out_channels + 8)
                for conv in self.model.backbone.convs]


@register_method
class FullBatchGAT(FullBatchMethod):
    """GAT (Veličković et al., 2018) on the whole graph, the backbone of the mini-batch methods.

    The dataset defaults of the Planetoid graphs already are the GAT paper's (8 heads of 8
    units, dropout 0.6 on inputs and attention, lr 0.005, L2 5e-4; PubMed: 8 output heads,
    lr 0.01, L2 1e-3); only GAS's gradient clipping is switched off, as in the paper.
    """

    name = "gat"
    per_head_width = True

    def build_model(self) -> FullGraphModel:
        config = self.config
        return FullGraphModel(GATBackbone(
            self.in_channels, config.hidden_channels, self.dataset.num_classes,
            num_layers=config.num_layers, heads=config.heads, out_heads=config.out_heads,
            dropout=config.dropout,
        ))

    def layer_shapes(self) -> list[tuple[int, int]]:
        convs = self.model.backbone.convs
        return [(conv.heads * conv.out_channels, 4 * conv.heads * conv.out_channels
                 + 16 * conv.heads + 4) for conv in convs]


@register_method
class FullBatchAPPNP(FullBatchMethod):
    """APPNP (Gasteiger et al., 2019) on the whole graph.

    Planetoid defaults from the paper: a 2-layer MLP with 64 hidden units, K = 10,
    alpha = 0.1, dropout 0.5 on both layers and on the adjacency, Adam with lr 0.01, L2 5e-3
    on the first layer only. The paper trains up to 10,000 epochs with patience 100; here a
    fixed 1,000 epochs with best-validation selection. Elsewhere the width is the dataset's GAT
    width and the rest the dataset's defaults.
    """

    name = "appnp"
    options_class = APPNPOptions

    def build_model(self) -> APPNP:
        config, options = self.config, self.options
        return APPNP(self.in_channels, config.hidden_channels, self.dataset.num_classes,
                     num_layers=config.num_layers, propagation_steps=options.propagation_steps,
                     alpha=options.alpha, dropout=config.dropout)

    def layer_shapes(self) -> list[tuple[int, int]]:
        mlp = [(lin.out_features, 0) for lin in self.model.lins]
        return mlp + [(self.dataset.num_classes, 4)] * self.options.propagation_steps
