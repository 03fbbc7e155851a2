"""Staleness-aware regulariser of VISAGNN (section 3.3, eqs. 8-9)."""

from __future__ import annotations

import torch
from torch import Tensor

from visagnn.history.store import DEFAULT_STORAGE, History, HistoryStorage


def staleness_loss(current: Tensor, previous: Tensor) -> Tensor:
    r"""Mean over rows and channels of :math:`(h_{i,k}^{(L)} - h_{i,k-1}^{(L)})^2` (eq. 8).

    ``previous`` is treated as a constant (no gradient flows into it). An empty batch gives 0.
    """
    if current.size(0) == 0:
        return current.sum() * 0
    return (current - previous.detach()).pow(2).mean()


class StalenessLoss:
    r"""The term :math:`\mathcal{L}_{stale}` of :math:`\mathcal{L} = \mathcal{L}_{task} + \lambda
    \mathcal{L}_{stale}` (eq. 9), with the store of the previous epoch's final-layer rows.

    .. math::
        \mathcal{L}_{stale} = \frac{1}{|B_k|\, C} \sum_{i \in B_k}
        \big\lVert h_{i,k}^{(L)} - h_{i,k-1}^{(L)} \big\rVert^2

    :math:`B_k` is the batch's in-batch nodes that have a record from epoch :math:`k - 1` (the
    others are skipped) and :math:`C` the width of the final layer. The paper's eq. 8 sums over
    the batch; we average over nodes and channels, so that :math:`\lambda` means the same
    whatever the batch size and the number of classes (2 to 172 in our benchmark): a sum grows
    with both and swamps the mean cross-entropy of :math:`\mathcal{L}_{task}`. Even averaged,
    the term is large early in training, when the logits move most (a squared distance between
    logits, against a cross-entropy of order :math:`\log C`).

    The store is a :class:`~visagnn.history.store.History` of the final layer whose clock is the
    epoch: :meth:`__call__` reads the rows written in epoch ``k - 1`` and writes this epoch's
    (detached) rows.

    Args:
        num_nodes: nodes of the graph.
        channels: width of the final layer (the logits).
        device: compute device.
        storage: where and in which dtype the store keeps its rows (see
            :class:`~visagnn.history.store.HistoryStorage`; default: RAM on CPU; on CUDA device
            memory where it fits, else pinned RAM).
    """

    def __init__(
        self,
        num_nodes: int,
        channels: int,
        device: torch.device | str = "cpu",
        storage: HistoryStorage = DEFAULT_STORAGE,
    ) -> None:
        self.previous = History(num_nodes, channels, device, storage)

    def __call__(self, out: Tensor, n_id: Tensor, epoch: int) -> Tensor:
        """:math:`\\mathcal{L}_{stale}` of the rows ``out`` of nodes ``n_id`` at ``epoch``, then
        record ``out`` as those nodes' rows of ``epoch``."""
        recorded = self.previous.last_push[n_id.to(self.previous.device)] == epoch - 1
        rows = recorded.nonzero().flatten()
        loss = staleness_loss(out[rows], self.previous.pull(n_id[rows]))
        self.previous.push(n_id, out, epoch)
        return loss

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.previous.num_nodes}, {self.previous.dim})"
