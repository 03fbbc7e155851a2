"""ReFresh / FreshGNN (Huang et al., 2023): evict stale and unstable historical embeddings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from visagnn.graph.batch import SubgraphBatch
from visagnn.graph.csr import CSRGraph
from visagnn.history.clock import Clock
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import History
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import Backbone, LayerInput


@dataclass(frozen=True)
class ReFreshOptions:
    """The two thresholds of ReFresh's cache policy, defaults from its configurations, and
    what becomes of an evicted row: recomputed (FreshGNN's behaviour, the default) or, with
    ``--no-recompute``, left out (this package's earlier ReFresh, kept for comparison)."""

    staleness_threshold: int = field(default=200, metadata={
        "help": "evict halo histories whose persistence T_j exceeds this many iterations"})
    grad_quantile: float = field(default=0.9, metadata={
        "help": "evict halo histories whose cached gradient norm was above this quantile of "
                "the norms of the batch that pushed them"})
    recompute: bool = field(default=True, metadata={
        "help": "recompute an evicted halo row from its neighbours in the subgraph (FreshGNN); "
                "--no-recompute leaves every evicted row out"})

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
    r"""GAS that evicts stale or unstable halo histories and recomputes the evicted rows.

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
    hold exact embeddings and are admitted.

    **Evicted rows.** FreshGNN never leaves a node out: a node without a cached embedding is
    computed from its (sampled) neighbours, like any node of its mini-batch. Here a batch holds
    only the 1-hop halo, so an evicted row is recomputed from the neighbours it has *inside the
    subgraph* :math:`S` (batch plus halo, :meth:`SubgraphBatch.halo_neighbourhood`):

    .. math::
        h_j^{(l+1)} = g_\theta^{(l+1)}\big(h_j^{(l)}, \{h_k^{(l)}\}_{k \in \mathcal{N}(j) \cap
        S_l}\big)

    with :math:`S_l` the rows of layer :math:`l`'s input (fresh in-batch rows, read or
    recomputed halo rows), i.e. LMC's incomplete embedding without its compensation. The
    gradient flows through it into the parameters and the neighbours' rows, as through any
    computed node in FreshGNN (only cached embeddings are constants there). Where the batch does
    not allow it (no neighbour in :math:`S_l`, possible on directed graphs, or :math:`j`'s own
    row missing from layer :math:`l`'s input because it was left out there) the row is left out
    of the aggregation (:meth:`SubgraphBatch.keep_halo`): neither pulled nor are its edges kept.
    Recomputed rows are not pushed to the history: they miss the neighbours outside :math:`S`.
    With ``recompute=False`` every evicted row is left out. Exact inference is unchanged.

    Each epoch's record gets ``evicted_fraction``, the share of halo rows whose history was not
    read during its training, and ``recomputed_fraction``, the share recomputed instead; the
    difference was left out.

    Args:
        graph: the (partition-ordered) graph, whose edges into the halo a recomputation needs.
        options: the thresholds and ``recompute`` (:class:`ReFreshOptions`).
    """

    def __init__(self, graph: CSRGraph, options: ReFreshOptions) -> None:
        self.graph = graph
        self.options = options
        self.admitted: list[Tensor] = []
        self.halo_rows_read = 0
        self.halo_rows_evicted = 0
        self.halo_rows_recomputed = 0
        self._halo_edges: tuple[tuple[int, ...], Tensor] | None = None

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

    def halo_edges(self, batch: SubgraphBatch) -> Tensor:
        """``batch``'s edges into its halo from inside the subgraph (local ids, on its device);
        the last batch's are kept, as every hidden layer of a step asks for them."""
        key = tuple(batch.parts.tolist())
        if self._halo_edges is None or self._halo_edges[0] != key:
            edge_index, _ = batch.halo_neighbourhood(self.graph)
            self._halo_edges = (key, edge_index.to(batch.n_id.device))
        return self._halo_edges[1]

    def recompute(
        self, index: int, inp: LayerInput, batch: SubgraphBatch, evicted: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Which ``evicted`` halo rows can be recomputed by layer ``index`` from the rows of its
        input ``inp``, and those rows (in halo order)."""
        batch_size = batch.batch_size
        present = torch.ones(batch.num_nodes, dtype=torch.bool, device=evicted.device)
        present[batch_size:] = torch.isin(batch.halo_nodes, inp.n_id[batch_size:])
        source, target = self.halo_edges(batch)
        usable = present[source] & present[target] & evicted[target - batch_size]
        recomputed = torch.zeros_like(evicted)
        recomputed[target[usable] - batch_size] = True
        if not recomputed.any():
            return recomputed, inp.x.new_empty(0, self.histories[index].dim)
        row_of = torch.cumsum(present, 0) - 1  # batch-local id → row of inp
        edges = row_of[torch.stack([source[usable], target[usable]])]
        rows = self.backbone.layer(index, LayerInput(inp.x, edges, inp.n_id, inp.x.size(0)))
        return recomputed, rows[row_of[recomputed.nonzero().flatten() + batch_size]]

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        halo = batch.halo_nodes
        read = ~self.evicted(index, halo, clock.iteration)
        recomputed, recomputed_rows = torch.zeros_like(read), fresh.new_empty(0, fresh.size(1))
        if self.options.recompute and not read.all():
            recomputed, recomputed_rows = self.recompute(index, inp, batch, ~read)
        self.halo_rows_read += read.numel()
        self.halo_rows_evicted += int((~read).sum())
        self.halo_rows_recomputed += int(recomputed.sum())
        stored = self.histories[index].pull(halo[read])
        kept = batch.keep_halo(read | recomputed)
        if recomputed.any():
            slot = torch.cumsum(read | recomputed, 0) - 1  # halo row → row among the kept
            halo_rows = fresh.new_zeros(kept.num_nodes - batch.batch_size, fresh.size(1))
            halo_rows = halo_rows.index_put((slot[read],), stored)
            stored = halo_rows.index_put((slot[recomputed],), recomputed_rows)
        return LayerInput(torch.cat([fresh, stored]), kept.edge_index, kept.n_id,
                          batch.batch_size)

    def begin_epoch(self) -> None:
        self.halo_rows_read = self.halo_rows_evicted = self.halo_rows_recomputed = 0

    def epoch_extras(self) -> dict[str, Any]:
        rows = max(self.halo_rows_read, 1)
        return {"evicted_fraction": self.halo_rows_evicted / rows,
                "recomputed_fraction": self.halo_rows_recomputed / rows}


@register_method
class ReFresh(HistoricalMethod):
    """ReFresh: GAS with :class:`ReFreshHalo`'s evictions and recomputations."""

    name = "refresh"
    options_class = ReFreshOptions

    def build_policy(self) -> ReFreshHalo:
        return ReFreshHalo(self.parted.graph, self.options)
