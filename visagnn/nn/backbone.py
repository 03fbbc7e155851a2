"""Layer stacks that run one layer at a time, as the historical-embedding scheme needs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GATConv


@dataclass(frozen=True)
class LayerInput:
    """What one message-passing layer reads.

    ``x`` holds the rows of the nodes ``n_id`` (global ids): the ``num_targets`` target nodes
    first, then the other sources (the halo). ``edge_index`` (local ids) holds the edges into the
    targets. ``staleness`` is the staleness criterion ``s_j`` of every row (0 for fresh rows), set
    by staleness-aware methods and ``None`` otherwise; ``epoch`` is the training epoch ``t``
    (from 1) of VISAGNN's attention decay ``γ(t) = β / t``, read only with ``staleness``.
    ``edge_weight`` is the weight of every edge of ``edge_index`` in the aggregation, set by
    layer-wise samplers (:mod:`visagnn.sampling.layerwise`, whose edges hold the self-loops they
    keep) and read by :class:`~visagnn.nn.gcn_backbone.GCNBackbone`; ``None`` (the default)
    lets the backbone normalise the edges itself.
    """

    x: Tensor
    edge_index: Tensor
    n_id: Tensor
    num_targets: int
    staleness: Tensor | None = None
    epoch: int = 1
    edge_weight: Tensor | None = None


class Backbone(nn.Module, ABC):
    """A stack of message-passing layers; ``layer(l, inp)`` returns the rows of ``inp.x``'s nodes
    (at least the first ``inp.num_targets``, which are the ones callers keep)."""

    num_layers: int
    convs: nn.ModuleList
    """One convolution per layer."""

    @property
    @abstractmethod
    def hidden_dims(self) -> list[int]:
        """Output width of each hidden layer (the width of its history)."""

    @abstractmethod
    def layer(self, index: int, inp: LayerInput) -> Tensor:
        """Apply layer ``index`` (dropout, convolution, activation except on the last layer)."""

    def regularized_parameters(self) -> list[nn.Parameter]:
        """The parameters that take weight decay
        (:func:`~visagnn.methods.optim.build_optimizer`): every one by default, as GAT and
        GNNAutoScale regularise them."""
        return list(self.parameters())

    def reset_parameters(self) -> None:
        """Re-initialise every layer's parameters."""
        for conv in self.convs:
            conv.reset_parameters()


class GATBackbone(Backbone):
    r"""GAT (Veličković et al., 2018) with PyG's :class:`~torch_geometric.nn.GATConv` layers.

    .. math::
        h_i^{(l+1)} = \mathrm{ELU}\Big(\big\Vert_{k=1}^{K}\sum_{j \in \mathcal{N}(i) \cup \{i\}}
        \alpha_{ij}^{k} W^{k} \mathrm{dropout}(h_j^{(l)})\Big), \quad
        \alpha_{ij}^k = \mathrm{softmax}_j\big(\mathrm{LeakyReLU}
        (a^{k\top}[W^k h_i \Vert W^k h_j])\big)

    The last layer averages its ``out_heads`` heads and has no activation.

    Args:
        in_channels: input feature width.
        hidden_channels: channels per head of the hidden layers.
        out_channels: number of classes.
        num_layers: number of GAT layers (default 2).
        heads: heads of the hidden layers, concatenated (default 1).
        out_heads: heads of the output layer, averaged (default 1).
        dropout: dropout on each layer's input and on the attention weights (default 0.5).
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 2,
        heads: int = 1,
        out_heads: int = 1,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.dropout = dropout
        hidden = hidden_channels * heads
        self.convs = nn.ModuleList(
            [
                GATConv(in_channels if i == 0 else hidden, hidden_channels, heads, dropout=dropout)
                for i in range(num_layers - 1)
            ]
        )
        self.convs.append(
            GATConv(
                in_channels if num_layers == 1 else hidden,
                out_channels,
                out_heads,
                concat=False,
                dropout=dropout,
            )
        )
        self._hidden_dims = [hidden] * (num_layers - 1)

    @property
    def hidden_dims(self) -> list[int]:
        return list(self._hidden_dims)

    def layer(self, index: int, inp: LayerInput) -> Tensor:
        h = F.dropout(inp.x, p=self.dropout, training=self.training)
        h = self.convs[index](h, inp.edge_index)
        return h if index == self.num_layers - 1 else F.elu(h)

    def __repr__(self) -> str:
        first, last = self.convs[0], self.convs[-1]
        return (
            f"{self.__class__.__name__}({first.in_channels}, {last.out_channels}, "
            f"num_layers={self.num_layers}, heads={first.heads}, out_heads={last.heads})"
        )
