r"""Staleness criteria: cheap proxies of how stale a history row is.

The *criterion* :math:`s_j` (section 3.1 of the VISAGNN paper) is read from a
:class:`~visagnn.history.History`: the gradient norm :math:`\lVert \nabla L(h_j) \rVert` cached in
the last backward pass, or the persistence time :math:`T_j`. How well each ranks the true
staleness is measured by :mod:`visagnn.true_staleness`.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from visagnn.history import History

Criterion = Literal["grad", "persistence"]
CRITERIA: tuple[Criterion, ...] = ("grad", "persistence")


def raw_criterion(history: History, iteration: int, criterion: Criterion) -> Tensor:
    """The criterion of all ``N`` nodes: cached ``‖∇L(h_j)‖`` or ``T_j`` at ``iteration``."""
    if criterion == "grad":
        return history.grad_norm
    if criterion == "persistence":
        return history.persistence(iteration).to(history.grad_norm.dtype)
    raise ValueError(f"criterion must be one of {CRITERIA}, got {criterion!r}")


def staleness_criterion(
    history: History, n_id: Tensor, iteration: int, criterion: Criterion
) -> Tensor:
    r"""Scale-free, log-normalised :math:`s_j` of nodes ``n_id`` from the raw criterion :math:`r`.

    .. math::
        s_j = \log\Big(1 + \frac{r_j}{\operatorname{mean}_{k : r_k > 0} r_k}\Big)

    Gradient norms scale with the loss (its reduction, the batch's share of training nodes) and
    persistence with the number of batches per epoch; dividing by the mean over the nodes with a
    positive value makes the criterion scale-free, so one :math:`\beta` initialisation and one
    augmentation scale fit every graph. The logarithm (the log normalisation the paper applies
    for VISAGNN-Cat, here applied once for every use of :math:`s_j`) tames the heavy tail: the
    gradient norms of training nodes are tens of times the mean. :math:`s_j` is 0 exactly when
    :math:`r_j` is, and every :math:`s_j` is 0 while no node has a positive value (e.g. before
    the first backward pass).
    """
    raw = raw_criterion(history, iteration, criterion)
    positive = raw[raw > 0]
    values = raw[n_id.to(raw.device)]
    if positive.numel() == 0:
        return torch.zeros_like(values)
    return torch.log1p(values / positive.mean())
