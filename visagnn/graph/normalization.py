r"""GCN's normalised adjacency :math:`\hat A = \tilde D^{-1/2} (A + I) \tilde D^{-1/2}`, the one
home of its weights for layers and samplers alike.

Node :math:`i` with in-degree :math:`d_i` (self-loop not counted) has
:math:`\tilde D_{ii} = d_i + 1`, so that

.. math::
    \hat A_{ij} = \frac{1}{\sqrt{(d_i + 1)(d_j + 1)}}, \qquad \hat A_{ii} = \frac{1}{d_i + 1}

(Kipf & Welling, ICLR 2017; PyG's ``gcn_norm``). Every weight is the product of the two float32
factors :math:`(d + 1)^{-1/2}` of :func:`inverse_sqrt_degree`, whichever view of :math:`\hat A`
asks for it: edge weights of a subgraph (:func:`symmetric_normalization`, with the whole graph's
degrees, as GNNAutoScale normalises mini-batches), the sparse matrix
(:func:`normalized_adjacency`) or rows read from a CSR graph (:class:`NormalizedAdjacency`). One
precision for all keeps the layers, the layer-wise samplers and exact inference on the same
numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from visagnn.graph.csr import CSRGraph


def inverse_sqrt_degree(degree: Tensor) -> Tensor:
    r""":math:`(d_i + 1)^{-1/2}` of every node (float32): the factor of :math:`\hat A` that node
    :math:`i` contributes to each of its edges, its degree counting the self-loop."""
    return (degree.to(torch.float32) + 1).rsqrt()


def normalized_edge_weight(source: Tensor, target: Tensor, inv_sqrt_degree: Tensor) -> Tensor:
    r""":math:`\hat A_{ts} = (d_t + 1)^{-1/2} (d_s + 1)^{-1/2}` of the edges ``source → target``
    (ids into ``inv_sqrt_degree``, :func:`inverse_sqrt_degree`); a self-loop gets
    :math:`1 / (d_t + 1)`."""
    return inv_sqrt_degree[source] * inv_sqrt_degree[target]


def symmetric_normalization(edge_index: Tensor, inv_sqrt_degree: Tensor) -> tuple[Tensor, Tensor]:
    r"""The edges of :math:`\hat A` among some rows of a graph.

    ``inv_sqrt_degree`` holds :math:`(d_i + 1)^{-1/2}` of every row (local id) with :math:`d_i`
    the degree in the whole graph, so that the weight of an edge does not depend on which
    subgraph it is seen from (GNNAutoScale's normalisation).

    Returns ``edge_index`` (local ids) followed by a self-loop on every row, and the weight of
    each of those edges.

    Example: a full-batch GCN on an undirected graph passes its ``edge_index`` and
    ``inverse_sqrt_degree(degree)``, which gives exactly what PyG's ``gcn_norm`` computes.
    """
    num_rows = inv_sqrt_degree.numel()
    loops = torch.arange(num_rows, device=edge_index.device)
    edge_index = torch.cat([edge_index, torch.stack([loops, loops])], dim=1)
    source, target = edge_index
    return edge_index, normalized_edge_weight(source, target, inv_sqrt_degree)


def normalized_adjacency(edge_index: Tensor, num_nodes: int) -> Tensor:
    r"""Sparse COO :math:`\hat A` (float32), rows indexed by target.

    ``edge_index`` (source, target) must not hold self-loops (one is added per node);
    :math:`d_i` is the in-degree of ``i``, so ``hat_a @ h`` aggregates into each node from its
    in-neighbours and itself, as PyG's ``gcn_norm``. The result is built coalesced (row-major)
    on ``edge_index``'s device.
    """
    loops = torch.arange(num_nodes, device=edge_index.device).repeat(2, 1)
    graph = CSRGraph.from_edge_index(torch.cat([edge_index, loops], dim=1).cpu(), num_nodes)
    target, source = graph.edge_index.flip(0)
    values = normalized_edge_weight(source, target, inverse_sqrt_degree(graph.degree - 1))
    # The indices come sorted by (target, source) from the CSR, i.e. already coalesced.
    return torch.sparse_coo_tensor(
        torch.stack([target, source]), values, (num_nodes, num_nodes),
        is_coalesced=True, check_invariants=False,
    ).to(edge_index.device)


@dataclass(frozen=True)
class NormalizedAdjacency:
    r"""Rows of :math:`\hat A` read from a CSR graph of in-edges, for layer-wise samplers.

    Row :math:`v` holds :math:`\hat A_{vu}` for every in-neighbour :math:`u` of :math:`v` and
    :math:`\hat A_{vv}`, with :math:`d` the in-degree: the weights a GCN layer aggregates with.
    """

    graph: CSRGraph
    inv_sqrt_degree: Tensor

    @classmethod
    def of(cls, graph: CSRGraph) -> NormalizedAdjacency:
        return cls(graph, inverse_sqrt_degree(graph.degree))

    def rows(self, targets: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r"""The nonzero entries of the rows ``targets`` of :math:`\hat A`: every in-edge of every
        target, then every target's self-loop.

        Returns ``(columns, target_positions, values)``: the global id of each entry's column
        (the edge's source), the position in ``targets`` of its row, and its value (the float32
        weight, held in float64 for the samplers' sums of squares).
        """
        sources, target_positions, _ = self.graph.in_edges(targets)
        columns = torch.cat([sources, targets])
        target_positions = torch.cat([target_positions, torch.arange(targets.numel())])
        values = normalized_edge_weight(columns, targets[target_positions], self.inv_sqrt_degree)
        return columns, target_positions, values.to(torch.float64)

    def column_norms(self) -> Tensor:
        r""":math:`\lVert \hat A_{:, u} \rVert^2 = \sum_v \hat A_{vu}^2` of every column
        ``[N]`` (float64)."""
        columns, _, values = self.rows(torch.arange(self.graph.num_nodes))
        return torch.zeros(self.graph.num_nodes, dtype=torch.float64).index_add_(
            0, columns, values.square()
        )
