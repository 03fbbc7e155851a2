"""ReFresh / FreshGNN (Huang et al., 2023): evict stale and unstable historical embeddings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from visagnn.batch import SubgraphBatch
from visagnn.clock import Clock
from visagnn.history import History
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import Backbone, LayerInput
from visagnn.nn.halo_policy import HaloPolicy


@dataclass(frozen=True)
class ReFreshOptions:
    """The two thresholds of ReFresh's cache policy; defaults from its configurations."""

    staleness_threshold: int = field(default=200, metadata={
        "help": "evict halo histories whose persistence T_j exceeds this many iterations"})
    grad_quantile: float = field(default=0.9, metadata={
        "help": "evict halo histories whose cached gradient norm was above this quantile of "
                "the norms of the batch that pushed them"})

    def __post_init__(self) -> None:
        if self.staleness_threshold < 0:
            raise ValueError(
                f"ReFreshOptions.staleness_threshold must be >= 0, got {self.staleness_threshold}"
            )
        if not 0 < self.grad_quantile <= 1:
            raise ValueError(
                f"ReFreshOptions.grad_quantile must be in (0, 1], got {self.grad_quantile}"
            )


class ReFreshHalo(HaloPolicy):
    r"""GAS that evicts stale or unstable halo histories instead of reading them.

    Halo node :math:`j`'s row of history :math:`l` enters layer :math:`l + 1` only if

    .. math::
        T_j \le T_{max} \quad\text{and}\quad
        \lVert \nabla_{h_j} L \rVert \le
        Q_\rho\big(\{\lVert \nabla_{h_i} L \rVert\}_{i \in B_j}\big)

    where :math:`T_j` is its persistence time (:meth:`History.persistence`),
    :math:`\lVert \nabla_{h_j} L \rVert` the gradient norm recorded when it was last pushed and
    :math:`Q_\rho` the :math:`\rho`-quantile of the norms of the batch :math:`B_j` that pushed
    it. This is FreshGNN's cache policy: an embedding is admitted when its gradient is below
    the quantile of its batch's gradients and is dropped once it has stayed :math:`T_{max}`
    iterations. The admission is decided in the backward pass of the pushing step
    (:meth:`after_backward`) and kept in :attr:`admitted`; rows never pushed during training
    hold exact embeddings and are admitted. An evicted row is left out of the aggregation
    (:meth:`SubgraphBatch.keep_halo`): neither pulled nor are its edges kept. Exact inference
    is unchanged. Each epoch's record gets ``evicted_fraction``, the share of halo rows left out
    during its training.
    """

    def __init__(self, options: ReFreshOptions) -> None:
        self.options = options
        self.admitted: list[Tensor] = []
        self.halo_rows_read = 0
        self.halo_rows_evicted = 0

    def attach(self, backbone: Backbone, histories: list[History]) -> None:
        super().attach(backbone, histories)
        self.admitted = [torch.ones(history.num_nodes, dtype=torch.bool, device=history.device)
                         for history in histories]

    def evicted(self, index: int, halo: Tensor, iteration: int) -> Tensor:
        """Which rows of history ``index`` of nodes ``halo`` are too stale or unstable to read."""
        persistence = self.histories[index].persistence(iteration, halo)
        too_old = persistence > self.options.staleness_threshold
        return too_old | ~self.admitted[index][halo]

    def after_backward(self, index: int, nodes: Tensor, grad_norm: Tensor) -> None:
        """Admit the in-batch rows whose gradient norm is at most the batch's quantile."""
        admitted = self.admitted[index]
        admitted[nodes.to(admitted.device)] = grad_norm <= torch.quantile(
            grad_norm, self.options.grad_quantile)

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        evicted = self.evicted(index, batch.halo_nodes, clock.iteration)
        self.halo_rows_read += evicted.numel()
        self.halo_rows_evicted += int(evicted.sum())
        kept = batch.keep_halo(~evicted)
        return LayerInput(
            torch.cat([fresh, self.histories[index].pull(kept.halo_nodes)]),
            kept.edge_index, kept.n_id, batch.batch_size,
        )

    def begin_epoch(self) -> None:
        self.halo_rows_read = self.halo_rows_evicted = 0

    def epoch_extras(self) -> dict[str, Any]:
        return {"evicted_fraction": self.halo_rows_evicted / max(self.halo_rows_read, 1)}


@register_method
class ReFresh(HistoricalMethod):
    """ReFresh: GAS with :class:`ReFreshHalo`'s evictions."""

    name = "refresh"
    options_class = ReFreshOptions

    def build_policy(self) -> ReFreshHalo:
        return ReFreshHalo(self.options)
