r"""True staleness of historical embeddings, and how well each criterion ranks it.

The *true staleness* of a history row is :math:`\lVert \tilde h_j - h_j \rVert`, its distance to
the exact embedding of the current parameters. :func:`measure_staleness` computes it from exact
embeddings and the Spearman correlation of each criterion of :mod:`visagnn.staleness_criteria`
with it.
"""

from __future__ import annotations

import math

import torch
from scipy.stats import spearmanr
from torch import Tensor

from visagnn.history import History
from visagnn.staleness_criteria import CRITERIA, raw_criterion


def spearman(x: Tensor, y: Tensor) -> float:
    """Spearman rank correlation of two 1-D tensors (scipy's; NaN when either is constant)."""
    if x.shape != y.shape or x.dim() != 1:
        raise ValueError(f"spearman needs two 1-D tensors of one shape, got {x.shape}, {y.shape}")
    x, y = x.detach().cpu().double().numpy(), y.detach().cpu().double().numpy()
    if (x == x[0]).all() or (y == y[0]).all():
        return math.nan
    return float(spearmanr(x, y).statistic)


def true_staleness(history: History, exact: Tensor) -> Tensor:
    r""":math:`\lVert \tilde h_j - h_j \rVert` of every row of ``history`` against ``exact``.

    Reads the store directly, not through :meth:`History.pull`, so that measuring does not
    count as halo traffic (``rows_pulled``).
    """
    return (history.embedding.cpu() - exact.cpu()).norm(dim=-1)


def measure_staleness(
    histories: list[History], exact_hidden: list[Tensor], iteration: int
) -> dict[str, float | None]:
    r"""True staleness of every hidden layer's history and how well each criterion ranks it.

    For layer ``l`` (0 = the first hidden layer) over all ``N`` history rows (every row is what a
    halo read would return): ``true_staleness_mean_l{l}`` and ``true_staleness_p95_l{l}`` of
    :math:`\lVert \tilde h_j - h_j \rVert`, and ``spearman_grad_l{l}`` /
    ``spearman_persistence_l{l}``, the Spearman correlation between that error and the raw
    criterion (``None`` where undefined: a constant criterion, e.g. no backward pass yet).

    Args:
        histories: one history per hidden layer.
        exact_hidden: exact embeddings ``[N, D_l]`` of the same layers (same node order).
        iteration: the current training iteration (clock of the persistence :math:`T_j`).
    """
    if len(histories) != len(exact_hidden):
        raise ValueError(
            f"{len(histories)} histories but {len(exact_hidden)} exact hidden embeddings"
        )
    record: dict[str, float | None] = {}
    for layer, (history, exact) in enumerate(zip(histories, exact_hidden, strict=True)):
        error = true_staleness(history, exact)
        record[f"true_staleness_mean_l{layer}"] = float(error.mean())
        record[f"true_staleness_p95_l{layer}"] = float(torch.quantile(error.double(), 0.95))
        for criterion in CRITERIA:
            rho = spearman(error, raw_criterion(history, iteration, criterion).cpu())
            record[f"spearman_{criterion}_l{layer}"] = None if math.isnan(rho) else rho
    return record
