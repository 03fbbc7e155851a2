"""GCN layers normalised with the whole graph's degrees, so that subgraphs compute exact rows."""

from __future__ import annotations

from typing import Literal, get_args

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import GCNConv

from visagnn.graph.normalization import inverse_sqrt_degree, symmetric_normalization
from visagnn.nn.backbone import Backbone, LayerInput

RegularizedLayers = Literal["all", "first"]
"""Which layers of a :class:`GCNBackbone` take weight decay: every one, or the first only (the
GCN paper's L2 term and the official FastGCN code's)."""


class GCNBackbone(Backbone):
    r"""GCN (Kipf & Welling, ICLR 2017) whose propagation uses global degrees.

    .. math::
        h_i^{(l+1)} = \mathrm{ReLU}\Big(\sum_{j \in \mathcal{N}(i) \cup \{i\}}
        \frac{1}{\sqrt{(d_i + 1)(d_j + 1)}}\, W\, \mathrm{dropout}(h_j^{(l)}) + b\Big)

    with :math:`d_i` the degree of node :math:`i` in the whole graph: a mini-batch whose halo
    rows are exact computes the full-batch rows of its targets (GNNAutoScale's normalisation).
    The last layer has no activation. Each layer is a PyG :class:`~torch_geometric.nn.GCNConv`
    fed with :func:`~visagnn.graph.normalization.symmetric_normalization`'s weights; every row of
    the input gets a self-loop, so the rows of all nodes are returned, as :class:`Backbone`
    asks. An input with
    :attr:`~visagnn.nn.backbone.LayerInput.edge_weight` (a layer-wise sample of
    :math:`\hat A`, :mod:`visagnn.sampling.layerwise`) is aggregated with those weights over its
    edges alone, :math:`\sum_{(j, i)} w_{ji}\, W\, \mathrm{dropout}(h_j^{(l)}) + b` before the
    activation.

    Args:
        in_channels: input feature width.
        hidden_channels: width of the hidden layers.
        out_channels: number of classes.
        degree: degree of every node of the graph ``[N]``, indexed by :attr:`LayerInput.n_id`.
        num_layers: number of GCN layers (default 2).
        dropout: dropout on each layer's input (default 0.5).
        regularized: the layers whose parameters take weight decay, :data:`RegularizedLayers`
            (default ``"all"``; ``"first"``: Kipf & Welling's L2 on the first layer only).

    Shapes:
        ``layer(l, inp)``: ``inp.x`` ``[n, F_l]`` → ``[n, F_{l+1}]``.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        degree: Tensor,
        num_layers: int = 2,
        dropout: float = 0.5,
        regularized: RegularizedLayers = "all",
    ) -> None:
        super().__init__()
        if regularized not in get_args(RegularizedLayers):
            raise ValueError(f"regularized must be one of {get_args(RegularizedLayers)}, "
                             f"got {regularized!r}")
        self.num_layers = num_layers
        self.dropout = dropout
        self.regularized = regularized
        widths = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(
            [GCNConv(widths[i], widths[i + 1], normalize=False) for i in range(num_layers)]
        )
        self.register_buffer("inv_sqrt_degree", inverse_sqrt_degree(degree), persistent=False)
        self._hidden_dims = widths[1:-1]

    @property
    def hidden_dims(self) -> list[int]:
        return list(self._hidden_dims)

    def regularized_parameters(self) -> list[nn.Parameter]:
        """Every parameter, or the first layer's only (``regularized="first"``)."""
        layers = self.convs if self.regularized == "all" else self.convs[:1]
        return list(layers.parameters())

    def layer(self, index: int, inp: LayerInput) -> Tensor:
        if inp.edge_weight is None:
            edge_index, edge_weight = symmetric_normalization(
                inp.edge_index, self.inv_sqrt_degree[inp.n_id]
            )
        else:
            edge_index, edge_weight = inp.edge_index, inp.edge_weight
        h = F.dropout(inp.x, p=self.dropout, training=self.training)
        h = self.convs[index](h, edge_index, edge_weight)
        return h if index == self.num_layers - 1 else F.relu(h)

    def __repr__(self) -> str:
        first, last = self.convs[0], self.convs[-1]
        return (
            f"{self.__class__.__name__}({first.in_channels}, {last.out_channels}, "
            f"num_layers={self.num_layers}, hidden_dims={self.hidden_dims})"
        )
