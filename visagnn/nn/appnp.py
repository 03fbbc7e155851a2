"""APPNP: an MLP followed by approximate personalised-PageRank propagation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visagnn.graph.normalization import normalized_adjacency


class APPNP(nn.Module):
    r"""APPNP (Gasteiger et al., "Predict then Propagate", ICLR 2019).

    .. math::
        H = f_\theta(X), \qquad Z^{(0)} = H, \qquad
        Z^{(k+1)} = (1 - \alpha)\, \mathrm{dropout}(\hat A)\, Z^{(k)} + \alpha H, \qquad
        \text{logits} = Z^{(K)}

    :math:`f_\theta` is an MLP (dropout → linear → ReLU, no activation on the last layer) and
    :math:`\hat A = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}`. In training, each of the ``K``
    steps drops the entries of :math:`\hat A` independently with probability ``dropout``
    (rescaling the rest), as the paper's "dropout on the adjacency matrix". (PyG 2.8's
    ``APPNP`` re-drops the already dropped weights at every step, pyg-team/pytorch_geometric
    #10783, hence this implementation.) :math:`\hat A` is built on the first call and cached:
    full-batch training always sees the same graph; :meth:`reset_parameters` clears it.

    Args:
        in_channels: input feature width.
        hidden_channels: width of the MLP's hidden layers (paper: 64).
        out_channels: number of classes.
        num_layers: linear layers of the MLP (default 2).
        propagation_steps: power-iteration steps ``K`` (default 10).
        alpha: teleport probability :math:`\alpha` (default 0.1).
        dropout: dropout on the MLP layers' inputs and on :math:`\hat A` (default 0.5).

    Shapes:
        ``x [N, F]``, ``edge_index [2, E]`` → ``[N, C]``.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        num_layers: int = 2,
        propagation_steps: int = 10,
        alpha: float = 0.1,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.num_layers = num_layers
        self.propagation_steps = propagation_steps
        self.alpha = alpha
        self.dropout = dropout
        widths = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.lins = nn.ModuleList([nn.Linear(widths[i], widths[i + 1]) for i in range(num_layers)])
        self._adjacency: Tensor | None = None

    def predict(self, x: Tensor) -> Tensor:
        r"""The MLP :math:`H = f_\theta(X)`, before propagation."""
        h = x
        for index, lin in enumerate(self.lins):
            h = lin(F.dropout(h, p=self.dropout, training=self.training))
            if index < self.num_layers - 1:
                h = F.relu(h)
        return h

    def propagate(self, h: Tensor, adjacency: Tensor) -> Tensor:
        r"""``K`` steps of :math:`Z \leftarrow (1 - \alpha)\hat A Z + \alpha H`."""
        z = h
        for _ in range(self.propagation_steps):
            step = adjacency
            if self.training and self.dropout > 0:
                step = torch.sparse_coo_tensor(
                    adjacency.indices(), F.dropout(adjacency.values(), p=self.dropout),
                    adjacency.shape, is_coalesced=True, check_invariants=False,
                )
            z = (1 - self.alpha) * torch.sparse.mm(step, z) + self.alpha * h
        return z

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        if self._adjacency is None:
            self._adjacency = normalized_adjacency(edge_index, x.size(0))
        return self.propagate(self.predict(x), self._adjacency)

    def regularized_parameters(self) -> list[nn.Parameter]:
        """The first linear layer's parameters: the paper's L2 term regularises only them."""
        return list(self.lins[0].parameters())

    def reset_parameters(self) -> None:
        for lin in self.lins:
            lin.reset_parameters()
        self._adjacency = None

    def __repr__(self) -> str:
        return (
            f"{self.__class__.__name__}({self.lins[0].in_features}, "
            f"{self.lins[-1].out_features}, K={self.propagation_steps}, alpha={self.alpha})"
        )
