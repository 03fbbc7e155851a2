"""Staleness-augmented embeddings (VISAGNN, section 3.4): concatenation or learned summation."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class StalenessConcat(nn.Module):
    r"""VISAGNN-Cat (eq. 11): append the log-normalised staleness as one more channel.

    .. math::
        \bar h_j' = \big[\bar h_j \,\Vert\, s_j\big], \qquad
        s_j = \log\big(1 + r_j / \bar r\big)

    The log normalisation of eq. 11 is applied once, where the criterion :math:`r_j` is read
    (:func:`visagnn.history.criteria.staleness_criterion`), so this module appends
    :math:`s_j` as it comes. Fresh rows have :math:`s_j = 0`, so their extra channel is 0 and
    every row of a layer's input has the same width :math:`D + 1`.

    Shapes:
        - **input:** rows :math:`(N, D)`, staleness :math:`(N)` (non-negative)
        - **output:** :math:`(N, D + 1)`
    """

    extra_channels = 1

    def forward(self, x: Tensor, staleness: Tensor) -> Tensor:
        return torch.cat([x, staleness.unsqueeze(-1).to(x.dtype)], dim=-1)

    def reset_parameters(self) -> None:
        """No parameters."""

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}()"


class StalenessSum(nn.Module):
    r"""VISAGNN-Sum (eq. 12): add a learned, bounded function of the staleness to every row.

    .. math::
        \bar h_j' = \bar h_j + \tanh(\mathbf{W}_s\, s_j), \qquad \mathbf{W}_s \in \mathbb{R}^{D
        \times 1}

    :math:`\phi = \tanh` because it is 0 at 0 (fresh rows, :math:`s_j = 0`, stay unchanged, so
    exact inference is untouched) and bounded (an extreme :math:`s_j` moves a row by at most 1
    per channel). :math:`\mathbf{W}_s` has no bias for the same reason.

    Args:
        channels: row width :math:`D`.

    Shapes:
        - **input:** rows :math:`(N, D)`, staleness :math:`(N)`
        - **output:** :math:`(N, D)`
    """

    extra_channels = 0

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.weight = nn.Linear(1, channels, bias=False)
        self.reset_parameters()

    def forward(self, x: Tensor, staleness: Tensor) -> Tensor:
        return x + torch.tanh(self.weight(staleness.unsqueeze(-1).to(x.dtype)))

    def reset_parameters(self) -> None:
        torch.nn.init.zeros_(self.weight.weight)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.channels})"
