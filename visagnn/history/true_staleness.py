r"""True staleness of historical embeddings, and how well each criterion ranks it.

The *true staleness* of a history row is :math:`\lVert \tilde h_j - h_j \rVert`, its distance to
the exact embedding of the current parameters. :func:`measure_staleness` computes it from exact
embeddings and the Spearman correlation of each criterion of :mod:`visagnn.history.criteria`
with it.
"""

from __future__ import annotations

import math

import torch
from scipy.stats import spearmanr
from torch import Tensor

from visagnn.history.criteria import CRITERIA, raw_criterion
from visagnn.history.store import History


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

    Reads the store as it is (:attr:`History.embedding`, every push landed) on the CPU, rather
    than through :meth:`History.pull`, which would copy every row to the compute device.
    """
    return (history.embedding.cpu() - exact.cpu()).norm(dim=-1)


def measure_staleness(
    histories: list[History], exact_hidden: list[Tensor], iteration: int, rows: Tensor
) -> dict[str, float | None]:
    r"""True staleness of the history rows that batches read as halo, and how well each
    criterion ranks it.

    For layer ``l`` (0 = the first hidden layer), over ``rows`` (the boundary nodes: every
    row a halo read can return), with :math:`e_j = \lVert \tilde h_j - h_j \rVert` against the
    exact embeddings of the current weights:

    * ``true_staleness_mean_l{l}``, ``true_staleness_p95_l{l}``: its mean and 95th percentile;
    * ``true_staleness_exact_rows_l{l}``: its mean over the rows whose last write was an exact
      refresh (eval-mode rows: pure drift of the weights since), and
      ``true_staleness_pushed_rows_l{l}`` over those pushed by a training step since (train-mode
      rows: dropout noise plus drift); ``None`` where a group is empty;
    * ``spearman_{criterion}_l{l}``: the Spearman correlation between :math:`e_j` and each raw
      criterion of :mod:`visagnn.history.criteria` (``drift`` only for histories that track
      it; ``None`` where undefined, e.g. a constant criterion).

    Args:
        histories: one history per hidden layer.
        exact_hidden: exact embeddings ``[N, D_l]`` of the same layers (same node order).
        iteration: the current training iteration (clock of the persistence :math:`T_j`).
        rows: the nodes to measure (e.g. :meth:`PartitionedGraph.boundary_nodes`).
    """
    if len(histories) != len(exact_hidden):
        raise ValueError(
            f"{len(histories)} histories but {len(exact_hidden)} exact hidden embeddings"
        )
    record: dict[str, float | None] = {}
    rows = rows.cpu()
    for layer, (history, exact) in enumerate(zip(histories, exact_hidden, strict=True)):
        error = true_staleness(history, exact)[rows].double()
        record[f"true_staleness_mean_l{layer}"] = float(error.mean())
        record[f"true_staleness_p95_l{layer}"] = float(torch.quantile(error, 0.95))
        written_exactly = history.last_push.cpu()[rows] == (
            history.refreshed_at if history.refreshed_at is not None else -2)
        for group, members in (("exact_rows", written_exactly), ("pushed_rows", ~written_exactly)):
            record[f"true_staleness_{group}_l{layer}"] = (
                float(error[members].mean()) if members.any() else None)
        for criterion in CRITERIA:
            if criterion == "drift" and not history.track_drift:
                continue
            values = raw_criterion(history, iteration, criterion).cpu()[rows]
            rho = spearman(error, values)
            record[f"spearman_{criterion}_l{layer}"] = None if math.isnan(rho) else rho
    return record
