"""GraphSAGE with the mean aggregator, as a layer-by-layer backbone."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv

from visagnn.nn.backbone import Backbone, LayerInput


class SAGEBackbone(Backbone):
    r"""GraphSAGE-mean (Hamilton et al., 2017) with PyG's :class:`~torch_geometric.nn.SAGEConv`.

    .. math::
        h_i^{(l+1)} = \mathrm{ReLU}\Big(W_1^{(l)} \tilde h_i^{(l)} + W_2^{(l)}
        \frac{1}{|\mathcal{N}(i)|}\sum_{j \in \mathcal{N}(i)} \tilde h_j^{(l)}\Big),
        \qquad \tilde h^{(l)} = \mathrm{dropout}(h^{(l)})

    ``N(i)`` is the neighbourhood in the layer's input (a sampled block in training, every
    in-edge in inference). The last layer has no activation. :meth:`layer` returns only the
    ``num_targets`` target rows: targets are the first rows of ``inp.x``.

    Args:
        in_channels: input feature width.
        hidden_channels: width of the hidden layers.
        out_channels: number of classes.
        num_layers: number of SAGE layers (default 2, GraphSAGE's ``K = 2``).
        dropout: dropout on each layer's input (default 0.5).

    Shapes:
        ``inp.x [n, F]`` → ``[inp.num_targets, C]``.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 2,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.dropout = dropout
        widths = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(
            [SAGEConv(widths[i], widths[i + 1], aggr="mean") for i in range(num_layers)]
        )

    @property
    def hidden_dims(self) -> list[int]:
        return [conv.out_channels for conv in self.convs[:-1]]

    def layer(self, index: int, inp: LayerInput) -> Tensor:
        h = F.dropout(inp.x, p=self.dropout, training=self.training)
        h = self.convs[index]((h, h[: inp.num_targets]), inp.edge_index)
        return h if index == self.num_layers - 1 else F.relu(h)

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.convs[0].in_channels}, "
            f"{self.convs[-1].out_channels}, num_layers={self.num_layers})"
        )
