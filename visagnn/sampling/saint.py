"""GraphSAINT's random-walk subgraph sampler (Zeng et al., ICLR 2020) on a CSR graph, vectorised.

PyG's ``GraphSAINTRandomWalkSampler`` needs ``torch-sparse``; this module does the same job in
plain PyTorch: all walks take each hop together (one gather per hop), and the subgraph induced
by the visited nodes is cut from their in-edges by one sorted search.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from visagnn.graph.csr import CSRGraph


@dataclass(frozen=True)
class SaintSubgraph:
    """The subgraph induced by a set of nodes: every edge of the graph between two of them.

    ``n_id`` lists the nodes (global ids, sorted). ``edge_index`` holds the induced edges in
    local ids (positions in ``n_id``), grouped by target; ``edge_id`` is each edge's position in
    the graph's CSR edge order, where per-edge values (GraphSAINT's normalisation) are looked up.

    Example: on the path ``0 - 1 - 2 - 3`` (CSR edges ``1→0, 0→1, 2→1, 1→2, 3→2, 2→3``) the
    nodes ``[1, 2]`` give ``edge_index = [[1, 0], [0, 1]]`` (``2→1, 1→2``) and
    ``edge_id = [2, 3]``.
    """

    n_id: Tensor
    edge_index: Tensor
    edge_id: Tensor

    @property
    def num_nodes(self) -> int:
        return self.n_id.numel()

    @property
    def num_edges(self) -> int:
        return self.edge_id.numel()


def random_walks(
    graph: CSRGraph, roots: Tensor, walk_length: int, generator: torch.Generator | None = None
) -> Tensor:
    """One random walk of ``walk_length`` hops from each root, all walks advanced together.

    At each hop a walker at node ``v`` moves to one of ``v``'s in-neighbours ``u`` (an edge
    ``u → v``, so the walk gathers what ``v`` aggregates), uniformly at random; a walker at a
    node without neighbours stays (GraphSAINT's official sampler). Cost ``O(R L)`` for ``R``
    roots and ``L`` hops.

    Returns:
        ``[len(roots), walk_length + 1]`` global ids: column 0 holds the roots, column ``h``
        where each walk is after ``h`` hops.
    """
    if walk_length < 0:
        raise ValueError(f"walk_length must be >= 0, got {walk_length}")
    steps = [roots]
    for _ in range(walk_length):
        current = steps[-1]
        degree = graph.degree[current]
        # a float64 r < 1 keeps floor(r d) < d for every degree d below 2^52
        offset = (torch.rand(current.numel(), generator=generator, dtype=torch.float64)
                  * degree).long()
        moves = degree > 0
        step = current.clone()
        step[moves] = graph.col[graph.rowptr[current[moves]] + offset[moves]]
        steps.append(step)
    return torch.stack(steps, dim=1)


def induced_subgraph(graph: CSRGraph, nodes: Tensor) -> SaintSubgraph:
    """The :class:`SaintSubgraph` of ``nodes`` (distinct, sorted global ids).

    Every in-edge of every node is listed (:meth:`CSRGraph.in_edges`) and kept where its source
    is one of ``nodes`` too, found by binary search: cost ``O(D log n)`` for ``D`` the total
    degree of the ``n`` nodes.
    """
    if nodes.numel() == 0:
        raise ValueError("induced_subgraph needs at least one node")
    sources, target_positions, edge_ids = graph.in_edges(nodes)
    slot = torch.searchsorted(nodes, sources).clamp(max=nodes.numel() - 1)
    inside = nodes[slot].eq(sources)
    return SaintSubgraph(
        n_id=nodes,
        edge_index=torch.stack([slot[inside], target_positions[inside]]),
        edge_id=edge_ids[inside],
    )


class RandomWalkSampler:
    """GraphSAINT-RW's sampler: the subgraph induced by random walks from training nodes.

    Each sample draws ``num_roots`` roots uniformly from ``train_nodes`` (with replacement, as
    the official sampler), walks ``walk_length`` hops from each (:func:`random_walks`) and
    returns the subgraph induced by every node visited (:func:`induced_subgraph`): at most
    ``num_roots × (walk_length + 1)`` nodes.

    Args:
        graph: incoming adjacency to walk on.
        train_nodes: the nodes roots are drawn from (global ids, distinct).
        num_roots: walks per subgraph.
        walk_length: hops of each walk.
        generator: random source (default: torch's global generator).
    """

    def __init__(
        self,
        graph: CSRGraph,
        train_nodes: Tensor,
        num_roots: int,
        walk_length: int,
        generator: torch.Generator | None = None,
    ) -> None:
        if train_nodes.numel() == 0:
            raise ValueError("RandomWalkSampler needs at least one training node")
        if num_roots < 1:
            raise ValueError(f"num_roots must be >= 1, got {num_roots}")
        if walk_length < 0:
            raise ValueError(f"walk_length must be >= 0, got {walk_length}")
        self.graph = graph
        self.train_nodes = train_nodes
        self.num_roots = num_roots
        self.walk_length = walk_length
        self.generator = generator

    def sample_walks(self) -> Tensor:
        """``[num_roots, walk_length + 1]``: fresh walks from fresh roots (column 0)."""
        picks = torch.randint(self.train_nodes.numel(), (self.num_roots,),
                              generator=self.generator)
        return random_walks(self.graph, self.train_nodes[picks], self.walk_length,
                            self.generator)

    def sample(self) -> SaintSubgraph:
        """The subgraph induced by the nodes of fresh walks."""
        return induced_subgraph(self.graph, torch.unique(self.sample_walks()))

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.graph.num_nodes}, "
                f"num_roots={self.num_roots}, walk_length={self.walk_length})")
