r"""Staleness criteria: cheap proxies of how stale a history row is.

The *criterion* :math:`s_j` (section 3.1 of the VISAGNN paper) is read from a
:class:`~visagnn.history.store.History`: the gradient norm :math:`\lVert \nabla L(h_j) \rVert`
cached in the last backward pass (the paper's), the persistence time :math:`T_j` (the paper's
alternative), or the drift estimate :math:`r_j T_j` (ours). How well each ranks the true
staleness is measured by :mod:`visagnn.history.true_staleness`.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from visagnn.history.store import History

Criterion = Literal["grad", "persistence", "drift"]
CRITERIA: tuple[Criterion, ...] = ("grad", "persistence", "drift")


def masked_mean(values: Tensor, mask: Tensor, empty: float) -> Tensor:
    """The mean of ``values[mask]`` as a 0-dim tensor, ``empty`` where ``mask`` selects nothing.

    Selecting ``values[mask]`` needs the count of selected entries on the host: on a CUDA tensor
    that waits for the device, every layer and step. There the mean is the masked sum over the
    masked count, which stays on the device; on the CPU the entries are selected first, the
    summation order of every recorded CPU run (the two sum in different orders, so they differ
    in the last bits, as any two summation orders do).
    """
    if values.is_cuda:
        count = mask.sum()
        return torch.where(count > 0, torch.where(mask, values, 0).sum() / count, empty)
    selected = values[mask]
    return selected.mean() if selected.numel() else values.new_tensor(empty)


def raw_criterion(history: History, iteration: int, criterion: Criterion) -> Tensor:
    r"""The criterion :math:`r_j` of all ``N`` nodes at ``iteration``.

    * ``grad``: the recorded :math:`\lVert \nabla L(h_j) \rVert`. A row whose gradient was never
      recorded (its part has no training node, or it has not been in a batch yet) gets the
      largest recorded norm: an unobserved row is not known to be fresh, so it is counted with
      the stalest, never as 0; while no norm is recorded every row gets 1.
    * ``persistence``: :math:`T_j`, iterations since the row was written.
    * ``drift``: :math:`\hat\delta_j = \rho_j T_j`, an estimate of Theorem 1's
      :math:`\lVert \tilde h_j - h_j \rVert`: how fast the node's exact embedding moved between
      the last two refreshes (:attr:`History.drift_rate`) times how long its row has not been
      written. A node whose rate is unknown (fewer than two refreshes) gets the mean rate of
      the others, and every node rate 1 while none is known, which is ``persistence``. Needs a
      history made with ``track_drift``.
    """
    if criterion == "grad":  # a masked maximum: exact in any order, and no host wait
        seen = history.grad_seen
        largest = torch.where(seen, history.grad_norm, float("-inf")).max()
        unseen = torch.where(seen.any(), largest, 1.0)
        return torch.where(seen, history.grad_norm, unseen)
    persistence = history.persistence(iteration).to(history.grad_norm.dtype)
    if criterion == "persistence":
        return persistence
    if criterion == "drift":
        if not history.track_drift:
            raise ValueError("the drift criterion needs a History made with track_drift=True")
        rate = history.drift_rate
        fallback = masked_mean(rate, ~rate.isnan(), 1.0)
        return torch.where(rate.isnan(), fallback, rate) * persistence
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
    :math:`r_j` is (a row written at this very iteration, for ``persistence`` and ``drift``),
    and every :math:`s_j` is 0 while no node has a positive value.
    """
    raw = raw_criterion(history, iteration, criterion)
    positive = raw > 0
    values = raw[n_id.to(raw.device)]
    scale = masked_mean(raw, positive, float("nan"))
    return torch.where(positive.any(), torch.log1p(values / scale), 0)
