"""GraphFM-OB (Yu et al., ICML 2022): feature momentum for the halo's historical embeddings."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from visagnn.graph.batch import SubgraphBatch
from visagnn.history.clock import Clock
from visagnn.history.policy import HaloPolicy
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import LayerInput


@dataclass(frozen=True)
class GraphFMOptions:
    """The momentum γ of GraphFM-OB; ``None`` takes GraphFM's value for the dataset
    (:mod:`visagnn.defaults`)."""

    momentum: float | None = field(default=None, metadata={
        "help": "momentum γ of the halo update hist ← γ·h̄ + (1-γ)·hist "
                "(default: 0.5 on reddit and ogbn-products, 0.1 elsewhere, as GraphFM's configs)"})

    def __post_init__(self) -> None:
        if self.momentum is not None and not 0 <= self.momentum <= 1:
            raise ValueError(f"GraphFMOptions.momentum must be in [0, 1], got {self.momentum}")


class GraphFMHalo(HaloPolicy):
    r"""GAS whose halo histories are first moved toward an estimate from the batch (GraphFM-OB).

    Before layer :math:`l + 1` reads the halo rows of history :math:`l`, each halo node
    :math:`j` gets the momentum update

    .. math::
        \tilde h_j^{(l+1)} \leftarrow \gamma\, \bar h_j^{(l+1)} + (1 - \gamma)\, \tilde h_j^{(l+1)},
        \qquad
        \bar h_j^{(l+1)} = g_\theta^{(l+1)}\big(h_j^{(l)},\ \{h_i^{(l)}\}_{i \in \mathcal{N}(j)
        \cap B}\big)

    :math:`\bar h_j` is layer :math:`l`'s transformation of the messages that :math:`j` receives
    from in-batch nodes, computed without gradient by the backbone's own layer on the edges
    :meth:`SubgraphBatch.edges_into_halo` plus :math:`j`'s self-loop (which both GAT and GCN
    have). For a GAT layer this is attention restricted to those sources:

    .. math::
        \bar h_j = \mathrm{ELU}\Big(\big\Vert_{k} \sum_{i \in (\mathcal{N}(j) \cap B) \cup \{j\}}
        \hat\alpha_{ji}^{k} W^{k} h_i + b\Big), \qquad
        \hat\alpha_{ji}^{k} = \operatorname{softmax}_{i \in (\mathcal{N}(j) \cap B) \cup \{j\}}
        \mathrm{LeakyReLU}\big(a_{dst}^{k\top} W^{k} h_j + a_{src}^{k\top} W^{k} h_i\big)

    so the softmax renormalises over the in-batch sources and :math:`j` itself: a full-size
    estimate rather than a partial sum. The self-loop is kept because it is part of the layer's
    transformation (GATConv adds it for every node) and :math:`j`'s own row is needed anyway
    for the destination term of its attention logits. :math:`h_i` are the fresh in-batch rows of
    layer :math:`l`'s input; :math:`h_j` is :math:`j`'s row of that input (features at layer 0,
    its history afterwards). For the GCN backbone the same call gives
    :math:`\bar h_j = \mathrm{ReLU}(W \sum_{i} \hat A_{ji} h_i + b)` over the same sources with
    global normalisation, i.e. GraphFM's own GCN estimate (a partial sum) plus :math:`j`'s
    self-loop term. The layer runs in the model's mode, as the in-batch rows pushed next to it.
    The moved rows are the halo rows the next layer reads, and the model pushes them
    (:attr:`writes_halo`), so the update counts as a write for the persistence time
    :math:`T_j`.

    Args:
        momentum: :math:`\gamma \in [0, 1]`; 0 is GAS.
    """

    writes_halo = True

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum

    @torch.no_grad()
    def halo_estimate(self, index: int, inp: LayerInput, batch: SubgraphBatch) -> Tensor:
        r""":math:`\bar h_j` of every halo node from layer ``index``'s input (no gradient)."""
        rows = self.backbone.layer(
            index, LayerInput(inp.x, batch.edges_into_halo(), inp.n_id, inp.x.size(0))
        )
        return rows[batch.batch_size :]

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        moved = self.momentum * self.halo_estimate(index, inp, batch) + (
            1 - self.momentum
        ) * self.histories[index].pull(batch.halo_nodes)
        return LayerInput(torch.cat([fresh, moved]), batch.edge_index, batch.n_id,
                          batch.batch_size)


@register_method
class GraphFM(HistoricalMethod):
    """GraphFM-OB: GAS with :class:`GraphFMHalo`; same batches, loop and exact evaluation."""

    name = "graphfm"
    options_class = GraphFMOptions

    def build_policy(self) -> GraphFMHalo:
        return GraphFMHalo(self.options.momentum)
