"""SGC (Wu et al., ICML 2019): a linear classifier on precomputed propagated features."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph.normalization import normalized_adjacency
from visagnn.methods.base import Method
from visagnn.methods.optim import build_optimizer, optimizer_step
from visagnn.methods.registry import register_method

PREDICT_ROWS = 2**16
"""Rows per forward pass in :meth:`SGC.predict`, so large graphs need not fit on the device."""


def sgc_features(x: Tensor, edge_index: Tensor, hops: int) -> Tensor:
    r""":math:`\hat A^K X` with :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`, by ``K``
    sparse products (no dense ``N x N`` matrix)."""
    adjacency = normalized_adjacency(edge_index, x.size(0))
    for _ in range(hops):
        x = torch.sparse.mm(adjacency, x)
    return x


@dataclass(frozen=True)
class SGCOptions:
    """Options of SGC (defaults: Wu et al., 2019)."""

    hops: int = field(default=2, metadata={"help": "SGC propagation steps K in A^K X"})

    def __post_init__(self) -> None:
        if self.hops < 0:
            raise ValueError(f"SGCOptions.hops must be >= 0, got {self.hops}")


@register_method
class SGC(Method):
    r"""SGC: :math:`\mathrm{softmax}(\hat A^K X W)`, the propagation done once before training.

    :meth:`prepare` (untimed, reported as ``precompute_s``) computes :math:`\hat A^K X`; each
    epoch is one full-batch step of a linear layer on the training rows. Defaults from the paper
    and its official code, on every dataset: ``K = 2``, Adam with lr 0.2, 100 epochs, no
    dropout; L2 tuned per dataset on Planetoid, elsewhere the dataset's default (all in
    :mod:`visagnn.defaults`).
    """

    name = "sgc"
    options_class = SGCOptions
    hidden_layers = False  # one linear layer on the propagated features

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: SGCOptions) -> None:
        super().__init__(dataset, config, options)
        data = dataset.data
        self.model = nn.Linear(data.x.size(1), dataset.num_classes).to(self.device)
        # SGC's one linear layer is all it regularises (the official code's Adam weight decay).
        self.optimizer = build_optimizer(self.model, self.model.parameters(), config.lr,
                                         config.weight_decay)
        self.features: Tensor | None = None  # Â^K X, computed by prepare()
        self.train_x: Tensor | None = None
        self.train_y: Tensor | None = None
        self.precompute_s: float | None = None

    def prepare(self) -> None:
        data = self.dataset.data
        start = time.perf_counter()
        self.features = sgc_features(data.x, data.edge_index, self.options.hops)
        self.precompute_s = time.perf_counter() - start
        self.train_x = self.features[data.train_mask].to(self.device)
        self.train_y = data.y[data.train_mask].to(self.device)

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """Also the propagated features and their training rows."""
        held = super().memory_tensors()
        held["features"] += [self.features, self.train_x]
        return held

    def train_epoch(self, epoch: int) -> float:
        self.model.train()
        x = F.dropout(self.train_x, p=self.config.dropout, training=self.model.training)
        out = self.model(x)
        loss = F.cross_entropy(out, self.train_y)
        return optimizer_step(loss, self.model, self.optimizer, self.config.grad_clip)

    @torch.no_grad()
    def predict(self) -> Tensor:
        self.model.eval()
        return torch.cat([self.model(rows.to(self.device)).cpu()
                          for rows in self.features.split(PREDICT_ROWS)])

    def describe(self) -> dict[str, Any]:
        return {"hops": self.options.hops, "precompute_s": self.precompute_s}
