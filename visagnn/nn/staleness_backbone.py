"""The VISAGNN backbone: GAT layers with staleness attention and staleness-augmented inputs."""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visagnn.nn.backbone import Backbone, LayerInput
from visagnn.nn.staleness_attention import SoftmaxForm, StalenessAttentionConv
from visagnn.nn.staleness_augment import StalenessConcat, StalenessSum

Augmentation = Literal["cat", "sum"]


class StalenessGATBackbone(Backbone):
    r"""GAT whose layers read the staleness of their input rows (VISAGNN, section 3).

    Layer :math:`l` computes

    .. math::
        h_i^{(l+1)} = \mathrm{ELU}\Big(\big\Vert_{k=1}^{K} \sum_{j} \alpha_{ij}^{k}(t)\,
        \mathbf{W}^{k} \bar h_j'\Big), \qquad
        \bar h_j' = \mathrm{aug}\big(\mathrm{dropout}(h_j^{(l)}), s_j\big)

    with :math:`\alpha(t)` the staleness attention of :class:`StalenessAttentionConv` and
    ``aug`` VISAGNN-Cat (:class:`StalenessConcat`) or VISAGNN-Sum (:class:`StalenessSum`).
    The last layer averages its heads and has no activation.

    The staleness :math:`s_j` comes from :attr:`LayerInput.staleness` (0 for fresh rows; rows
    after the first ``num_targets`` are the history's), the epoch :math:`t` from
    :attr:`LayerInput.epoch`. An input without staleness (layer 0,
    whose rows are exact features, and every layer of exact inference) is all fresh: no penalty,
    and the augmentation sees :math:`s = 0`, so exact inference runs the very layers that
    training runs. Layer 0 gets no augmentation: its staleness is 0 by construction, and a
    constant channel would only add a dead weight column. The augmentation is applied after
    dropout so that the single staleness channel is never dropped.

    Both augmentations start as the identity: :math:`\mathbf{W}_s = 0` (Sum) and a zero weight
    column for Cat's channel, so training starts as GAS and learns how much of the staleness to
    use. A random start shifts every training halo row by a term exact inference (:math:`s = 0`)
    never sees, so the model evaluated would differ from the model trained from the first
    step on.

    Args:
        in_channels: input feature width.
        hidden_channels: channels per head of the hidden layers.
        out_channels: number of classes.
        degree: degree :math:`c_j` of every node of the graph ``[N]`` (centrality of eq. 5).
        num_layers: number of layers (default 2).
        heads: heads of the hidden layers, concatenated (default 1).
        out_heads: heads of the output layer, averaged (default 1).
        dropout: dropout on each layer's input and on the attention weights (default 0.5).
        attention: penalise stale neighbours in the attention (default True); False gives
            GAT attention (the "w/o att" ablation).
        augment: ``"cat"``, ``"sum"`` or ``None`` for no augmentation (default ``"sum"``).
        softmax: ``"joint"`` or ``"split"`` attention normalisation (default ``"joint"``).
        beta: initial :math:`\beta` of every head (default 1.0).
        beta_decay: whether weight decay reaches the attention's :math:`\beta` too (default
            True); False exempts them, every other parameter still decayed.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        out_channels: int,
        degree: Tensor,
        num_layers: int = 2,
        heads: int = 1,
        out_heads: int = 1,
        dropout: float = 0.5,
        attention: bool = True,
        augment: Augmentation | None = "sum",
        softmax: SoftmaxForm = "joint",
        beta: float = 1.0,
        beta_decay: bool = True,
    ) -> None:
        super().__init__()
        if augment not in ("cat", "sum", None):
            raise ValueError(f"augment must be 'cat', 'sum' or None, got {augment!r}")
        self.num_layers = num_layers
        self.dropout = dropout
        self.attention = attention
        self.augment = augment
        self.beta_decay = beta_decay
        hidden = hidden_channels * heads
        self._hidden_dims = [hidden] * (num_layers - 1)
        self.augments = nn.ModuleList(
            [StalenessConcat() if augment == "cat" else StalenessSum(hidden)
             for _ in self._hidden_dims] if augment is not None else []
        )
        extra = self.augments[0].extra_channels if len(self.augments) else 0
        widths = [in_channels] + [hidden + extra] * (num_layers - 1)
        self.convs = nn.ModuleList(
            [
                StalenessAttentionConv(
                    widths[i],
                    out_channels if i == num_layers - 1 else hidden_channels,
                    out_heads if i == num_layers - 1 else heads,
                    concat=i < num_layers - 1,
                    dropout=dropout,
                    softmax=softmax,
                    beta=beta,
                )
                for i in range(num_layers)
            ]
        )
        degree = degree.to(torch.float)
        self.register_buffer("centrality", degree - degree.mean(), persistent=False)
        self.reset_parameters()

    @property
    def hidden_dims(self) -> list[int]:
        return list(self._hidden_dims)

    def layer(self, index: int, inp: LayerInput) -> Tensor:
        h = F.dropout(inp.x, p=self.dropout, training=self.training)
        if index > 0 and self.augment is not None:
            staleness = inp.staleness if inp.staleness is not None else h.new_zeros(h.size(0))
            h = self.augments[index - 1](h, staleness)
        conv = self.convs[index]
        if self.attention and inp.staleness is not None:
            rows = torch.arange(h.size(0), device=h.device)
            h = conv(h, inp.edge_index, staleness=inp.staleness,
                     centrality=self.centrality[inp.n_id], historical=rows >= inp.num_targets,
                     epoch=inp.epoch)
        else:
            h = conv(h, inp.edge_index)
        return h if index == self.num_layers - 1 else F.elu(h)

    def regularized_parameters(self) -> list[nn.Parameter]:
        """Every parameter, less the attention's :math:`\beta` without ``beta_decay``."""
        if self.beta_decay:
            return super().regularized_parameters()
        betas = {id(conv.beta) for conv in self.convs}
        return [p for p in self.parameters() if id(p) not in betas]

    def reset_parameters(self) -> None:
        for module in [*self.augments, *self.convs]:
            module.reset_parameters()
        if self.augment == "cat":
            with torch.no_grad():
                for conv in self.convs[1:]:
                    conv.lin.weight[:, -1] = 0

    def __repr__(self) -> str:
        first, last = self.convs[0], self.convs[-1]
        return (
            f"{self.__class__.__name__}({first.in_channels}, {last.out_channels}, "
            f"num_layers={self.num_layers}, heads={first.heads}, out_heads={last.heads}, "
            f"attention={self.attention}, augment={self.augment!r}, "
            f"softmax={first.softmax!r})"
        )
