r"""The equal-work baseline: a historical method's batches through a plain PyG ``GATConv`` stack.

Each step takes the same subgraph (the batch's parts and their 1-hop halo), the same feature
rows and the same layer sizes as the method's step, and runs every layer over the whole
subgraph, as a plain PyG model does with a sampled subgraph:

.. math::
    h^{(0)} = x_{n\_id}, \qquad
    h^{(l+1)} = \mathrm{GAT}_l\big(h^{(l)},\ E_B\big)\ \text{for every row of } n\_id,
    \qquad \text{loss} = \mathrm{CE}\big(h^{(L)}_{B \cap \text{train}},\ y\big)

where a historical method runs the same layers on the same rows and edges, but replaces the
halo rows of each hidden layer's output with rows pulled from its history (and pushes the batch's
rows). The work of the convolutions is therefore equal, row for row and edge for edge; what
the baseline lacks is the histories' reads and writes, the gradient-norm hooks and the halo
policy. (Its backward pass also carries the gradients of the halo rows' own outputs through
their self-loops, a sliver more work than the method's.) Forward, backward and the optimizer
step are timed as the method's are.

:func:`full_graph_forward` is the yardstick of the methods' exact inference (history fill and
evaluation, which visit the graph part by part): the same layers over the whole graph at once,

.. math::
    h^{(l+1)} = \mathrm{GAT}_l\big(h^{(l)},\ E\big)\ \text{for every node}, \qquad
    h^{(0)} = x,

in eval mode without autograd.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.config import RunConfig
from visagnn.graph.batch import SubgraphBatch
from visagnn.methods.optim import optimizer_step
from visagnn.nn.backbone import GATBackbone, LayerInput


@dataclass(frozen=True)
class StepGeometry:
    """The size of one training step: in-batch nodes, all its nodes (batch and halo), and the
    edges into the batch."""

    batch_size: int
    num_nodes: int
    num_edges: int

    @classmethod
    def of(cls, batch: SubgraphBatch) -> StepGeometry:
        return cls(batch.batch_size, batch.num_nodes, batch.edge_index.size(1))


def plain_gat(config: RunConfig, in_channels: int, num_classes: int) -> GATBackbone:
    """PyG ``GATConv`` layers of ``config``'s sizes (those of the methods' GAT backbone)."""
    return GATBackbone(in_channels, config.hidden_channels, num_classes,
                       num_layers=config.num_layers, heads=config.heads,
                       out_heads=config.out_heads, dropout=config.dropout)


def subgraph_forward(model: GATBackbone, x: Tensor, batch: SubgraphBatch) -> Tensor:
    """Every layer over all rows of the subgraph; the output rows of the in-batch nodes."""
    h = x
    for index in range(model.num_layers):
        h = model.layer(index, LayerInput(h, batch.edge_index, batch.n_id, batch.batch_size))
    return h[: batch.batch_size]


def full_graph_forward(model: GATBackbone, x: Tensor, edge_index: Tensor) -> Tensor:
    """Every layer of ``model`` over every node and edge of the graph at once (eval mode, no
    autograd); the output of every node."""
    model.eval()
    n_id = torch.arange(x.size(0), device=x.device)
    h = x
    with torch.no_grad():
        for index in range(model.num_layers):
            h = model.layer(index, LayerInput(h, edge_index, n_id, x.size(0)))
    return h


def equal_work_epoch(model: GATBackbone, optimizer: torch.optim.Optimizer,
                     steps: Iterable[tuple[SubgraphBatch, Tensor, Tensor]], labels: Tensor,
                     grad_clip: float | None = None) -> list[StepGeometry]:
    """One optimizer step per ``(batch, train_rows, x)`` of ``steps`` (what a
    :class:`~visagnn.methods.partition_batches.PartitionBatchMethod` trains on: the training
    rows among the in-batch nodes and the feature rows of ``batch.n_id``, on the CPU),
    ``labels`` in the batches' node order, on the model's device. Returns each step's
    geometry."""
    model.train()
    device = next(model.parameters()).device
    geometry = []
    for batch, train_rows, x in steps:
        target = labels[batch.batch_nodes[train_rows]].to(device, non_blocking=True)
        out = subgraph_forward(model, x.to(device, non_blocking=True),
                               batch.to(device, non_blocking=True))
        loss = F.cross_entropy(out[train_rows.to(device, non_blocking=True)], target)
        optimizer_step(loss, model, optimizer, grad_clip)
        geometry.append(StepGeometry.of(batch))
    return geometry
