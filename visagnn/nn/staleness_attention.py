"""Graph attention that down-weights stale historical neighbours (VISAGNN, section 3.2)."""

from __future__ import annotations

from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn.conv import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import glorot, zeros
from torch_geometric.utils import add_self_loops, remove_self_loops, scatter, softmax

SoftmaxForm = Literal["joint", "split"]
SOFTMAX_FORMS: tuple[SoftmaxForm, ...] = get_args(SoftmaxForm)


class StalenessAttentionConv(MessagePassing):
    r"""Dynamic staleness attention of VISAGNN (eqs. 5-7 and 26 of the paper).

    GAT attention (Veličković et al., 2018) with a penalty subtracted from the score of every
    neighbour :math:`j` whose embedding came from the history, before the softmax:

    .. math::
        e_{ij} = \mathrm{LeakyReLU}\big(\mathbf{a}_{s}^{\top} \mathbf{W} h_j
        + \mathbf{a}_{d}^{\top} \mathbf{W} h_i\big)
        - \gamma(t)\, s_j\, \sigma(c_j - c_{avg}), \qquad \gamma(t) = \frac{\beta}{t}

    with :math:`s_j` the staleness criterion of :math:`j` (0 for fresh, in-batch rows),
    :math:`c_j - c_{avg}` its degree minus the graph's mean degree, :math:`t` the epoch (from 1)
    and :math:`\beta` learnable, one per head. Two normalisations are offered:

    * ``softmax="joint"`` (default), eq. 26 (the form of the convergence proof): one softmax
      over all neighbours, :math:`h_i' = \sum_{j \in \mathcal{N}(i) \cup \{i\}}
      \mathrm{softmax}_j(e_{ij})\, \mathbf{W} h_j`; a penalty on a stale neighbour moves
      attention mass from it to the others, the fresh ones included.
    * ``softmax="split"``, eqs. 5-7: separate softmaxes over the fresh (:math:`B`) and the
      historical (:math:`\bar B`) neighbours, joined as a convex combination weighted by each
      branch's share of the neighbours,

      .. math::
          h_i' = \frac{|\mathcal{N}_B(i)|}{|\mathcal{N}(i)|} \sum_{j \in \mathcal{N}_B(i)}
          \alpha^{in}_{ij} \mathbf{W} h_j + \frac{|\mathcal{N}_{\bar B}(i)|}{|\mathcal{N}(i)|}
          \sum_{j \in \mathcal{N}_{\bar B}(i)} \alpha^{out}_{ij} \mathbf{W} \bar h_j

      (self-loops count as fresh). Each branch keeps a fixed share, its share of the edges, so
      the penalty only re-weights stale neighbours among themselves: equal penalties change
      nothing, a target with one stale neighbour is unaffected, and with historical rows it is
      not GAT even when every :math:`s_j = 0` (a mini-batch forward with exact histories is not
      exact inference).

    ``joint`` is the default: it can move mass between fresh and stale neighbours and is exact
    with exact histories, which ``split`` is not. How the two forms compare is measured in the
    staleness study (README, "Reference results"; the paper form uses ``split``).

    With ``staleness=None`` (no historical row), or every :math:`s_j = 0` in the joint form, the
    layer computes exactly what :class:`torch_geometric.nn.GATConv` computes with the same
    weights; the parameters have GATConv's names (``lin``, ``att_src``, ``att_dst``, ``bias``)
    plus ``beta``.

    Args:
        in_channels: input width :math:`F`.
        out_channels: channels per head :math:`F'`.
        heads: attention heads :math:`H` (default 1).
        concat: concatenate the heads (True) or average them (default True).
        negative_slope: LeakyReLU slope (default 0.2).
        dropout: dropout on the attention coefficients (default 0.0).
        add_self_loops: add a self-loop to every node, as GATConv (default True).
        bias: learn an additive bias (default True).
        softmax: ``"joint"`` (eq. 26) or ``"split"`` (eqs. 5-7) (default ``"joint"``).
        beta: initial value of every head's :math:`\beta` (default 1.0).

    Shapes:
        - **input:** node features :math:`(N, F)`, edge indices :math:`(2, E)`, staleness
          :math:`(N)` *(optional)*, centrality :math:`c_j - c_{avg}` :math:`(N)` *(with
          staleness)*, historical mask :math:`(N)` bool *(optional, needed by ``split``)*
        - **output:** :math:`(N, H F')` if ``concat`` else :math:`(N, F')`
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        heads: int = 1,
        concat: bool = True,
        negative_slope: float = 0.2,
        dropout: float = 0.0,
        add_self_loops: bool = True,
        bias: bool = True,
        softmax: SoftmaxForm = "joint",
        beta: float = 1.0,
    ) -> None:
        super().__init__(aggr="add", node_dim=0)
        if softmax not in SOFTMAX_FORMS:
            raise ValueError(f"softmax must be one of {SOFTMAX_FORMS}, got {softmax!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.add_self_loops = add_self_loops
        self.softmax = softmax
        self.beta_init = beta
        self.lin = Linear(in_channels, heads * out_channels, bias=False,
                          weight_initializer="glorot")
        self.att_src = Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = Parameter(torch.empty(1, heads, out_channels))
        self.beta = Parameter(torch.empty(heads))
        if bias:
            self.bias = Parameter(torch.empty(heads * out_channels if concat else out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        self.lin.reset_parameters()
        glorot(self.att_src)
        glorot(self.att_dst)
        torch.nn.init.constant_(self.beta, self.beta_init)
        zeros(self.bias)

    def forward(
        self,
        x: Tensor,
        edge_index: Tensor,
        staleness: Tensor | None = None,
        centrality: Tensor | None = None,
        historical: Tensor | None = None,
        epoch: int = 1,
    ) -> Tensor:
        """Aggregate with staleness-penalised attention.

        Args:
            x: node features ``[N, F]``.
            edge_index: edges ``[2, E]`` (source, target).
            staleness: :math:`s_j` of every node ``[N]``, 0 for fresh rows; ``None``: no penalty.
            centrality: :math:`c_j - c_{avg}` of every node ``[N]``; required with ``staleness``.
            historical: ``[N]`` bool, True where the row came from the history; ``None``: every
                row is fresh. Only the ``split`` form reads it.
            epoch: the epoch :math:`t \\geq 1` of :math:`\\gamma(t) = \\beta / t`.
        """
        H, C = self.heads, self.out_channels
        h = self.lin(x).view(-1, H, C)
        alpha = ((h * self.att_src).sum(dim=-1), (h * self.att_dst).sum(dim=-1))
        penalty = None
        if staleness is not None:
            if centrality is None:
                raise ValueError("staleness needs the centrality c_j - c_avg of every node")
            if epoch < 1:
                raise ValueError(f"epoch counts from 1, got {epoch}")
            weight = staleness * torch.sigmoid(centrality)
            penalty = weight.unsqueeze(-1) * self.beta / epoch
        if self.add_self_loops:
            edge_index, _ = remove_self_loops(edge_index)
            edge_index, _ = add_self_loops(edge_index, num_nodes=x.size(0))
        alpha = self.edge_updater(
            edge_index, alpha=alpha, penalty=penalty,
            historical=historical if self.softmax == "split" else None,
        )
        out = self.propagate(edge_index, x=h, alpha=alpha)
        out = out.view(-1, H * C) if self.concat else out.mean(dim=1)
        return out if self.bias is None else out + self.bias

    def edge_update(
        self,
        alpha_j: Tensor,
        alpha_i: Tensor,
        penalty_j: Tensor | None,
        historical_j: Tensor | None,
        index: Tensor,
        ptr: Tensor | None,
        dim_size: int | None,
    ) -> Tensor:
        alpha = F.leaky_relu(alpha_j + alpha_i, self.negative_slope)
        if penalty_j is not None:
            alpha = alpha - penalty_j
        if historical_j is None:
            alpha = softmax(alpha, index, ptr, dim_size)
        else:
            alpha = self.split_softmax(alpha, index, historical_j, dim_size)
        return F.dropout(alpha, p=self.dropout, training=self.training)

    @staticmethod
    def split_softmax(
        score: Tensor, index: Tensor, historical: Tensor, dim_size: int | None
    ) -> Tensor:
        """Softmax within each target's fresh and historical edges, each branch scaled by its
        share of the target's edges (eqs. 5-7 joined as a convex combination)."""
        num_targets = dim_size if dim_size is not None else int(index.max()) + 1
        branch = index + num_targets * historical.long()
        ones = torch.ones_like(index, dtype=score.dtype)
        branch_size = scatter(ones, branch, dim_size=2 * num_targets, reduce="sum")
        target_size = scatter(ones, index, dim_size=num_targets, reduce="sum")
        share = branch_size[branch] / target_size[index]
        return softmax(score, branch, num_nodes=2 * num_targets) * share.unsqueeze(-1)

    def message(self, x_j: Tensor, alpha: Tensor) -> Tensor:
        return alpha.unsqueeze(-1) * x_j

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, "
                f"heads={self.heads})")
