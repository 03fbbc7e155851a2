"""A backbone applied to one whole graph: full-batch training, or a Cluster-GCN subgraph."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from visagnn.nn.backbone import Backbone, LayerInput


class FullGraphModel(nn.Module):
    r"""Every layer of ``backbone`` over all nodes of the graph it is given.

    .. math::
        H^{(l+1)} = \text{layer}_l\big(H^{(l)}, E\big), \qquad H^{(0)} = X

    There is no halo: a node reads only neighbours inside the graph passed to :meth:`forward`.
    On the whole graph this is full-batch training; on the subgraph induced by a mini-batch's
    nodes it is Cluster-GCN (Chiang et al., 2019). ``n_id`` gives the global id of every row
    for backbones that look nodes up (e.g. the global degrees of
    :class:`~visagnn.nn.gcn_backbone.GCNBackbone`); it defaults to ``0..N-1``, the whole graph.
    ``edge_weight`` is every layer's :attr:`LayerInput.edge_weight` (GraphSAINT's normalised
    aggregation, self-loops included).

    Args:
        backbone: the layer stack.

    Shapes:
        ``x [N, F]``, ``edge_index [2, E]`` (local ids), ``n_id [N]``, ``edge_weight [E]`` →
        ``[N, C]``.
    """

    def __init__(self, backbone: Backbone) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        n_id: Tensor | None = None,
        edge_weight: Tensor | None = None,
    ) -> Tensor:
        if n_id is None:
            n_id = torch.arange(x.size(0), device=x.device)
        h = x
        for index in range(self.backbone.num_layers):
            inp = LayerInput(h, edge_index, n_id, x.size(0), edge_weight=edge_weight)
            h = self.backbone.layer(index, inp)
        return h

    def regularized_parameters(self) -> list[nn.Parameter]:
        """The backbone's (:meth:`Backbone.regularized_parameters`): it holds every parameter."""
        return self.backbone.regularized_parameters()

    def reset_parameters(self) -> None:
        self.backbone.reset_parameters()

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.backbone!r})"
