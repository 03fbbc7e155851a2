"""Uniform neighbour sampling on a CSR graph (GraphSAGE, Hamilton et al., 2017), vectorised.

PyG's ``NeighborLoader`` needs ``pyg-lib`` or ``torch-sparse``; this module does the same job in
plain PyTorch: one random permutation per target's neighbour list, drawn for all targets at
once by a single sort, then the first ``fanout`` entries of every list are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from visagnn.graph.csr import CSRGraph


@dataclass(frozen=True)
class SampledBlock:
    """One layer's bipartite graph: sampled edges from sources into targets.

    ``n_id`` (global ids) lists the ``batch_size`` targets first, then the sources that are not
    targets, sorted. ``edge_index`` holds the sampled edges in local ids (positions in ``n_id``),
    targets in ``[0, batch_size)``. The layout is that of
    :class:`visagnn.graph.batch.SubgraphBatch`, so a :class:`~visagnn.nn.backbone.LayerInput` is
    built from a block the same way. ``edge_weight``, where set, is the weight of each edge in the
    layer's aggregation (the importance weights of :mod:`visagnn.sampling.layerwise`); ``None``
    (neighbour sampling) leaves the normalisation to the backbone.

    Example: targets ``[4, 0]`` with sampled edges ``7→4, 0→4, 2→0`` give
    ``n_id = [4, 0, 2, 7]``, ``batch_size = 2`` and ``edge_index = [[3, 1, 2], [0, 0, 1]]``.
    """

    n_id: Tensor
    batch_size: int
    edge_index: Tensor
    edge_weight: Tensor | None = None

    def to(self, device: torch.device | str, non_blocking: bool = False) -> SampledBlock:
        return SampledBlock(
            self.n_id.to(device, non_blocking=non_blocking),
            self.batch_size,
            self.edge_index.to(device, non_blocking=non_blocking),
            None if self.edge_weight is None
            else self.edge_weight.to(device, non_blocking=non_blocking),
        )


def sample_neighbors(
    graph: CSRGraph, targets: Tensor, fanout: int, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Up to ``fanout`` distinct in-neighbours of every target, uniformly without replacement.

    A target with degree ``d <= fanout`` keeps all its neighbours; otherwise every
    ``fanout``-subset of its neighbours is equally likely (so each neighbour is kept with
    probability ``fanout / d``). All targets are sampled at once: each edge gets a uniform key,
    edges are sorted by ``target position + key`` (a random permutation inside each target's
    list) and the first ``fanout`` of each list are kept. Cost ``O(D log D)`` for ``D`` the
    total degree of ``targets``.

    Returns:
        ``(sources, target_positions)``: the global id of each sampled neighbour and the position
        in ``targets`` of the target it was sampled for, grouped by target.
    """
    if fanout < 1:
        raise ValueError(f"fanout must be >= 1, got {fanout}")
    sources, target_positions, _ = graph.in_edges(targets)
    keys = torch.rand(sources.numel(), generator=generator, dtype=torch.float64)
    order = torch.argsort(target_positions.to(torch.float64) + keys)
    counts = torch.bincount(target_positions, minlength=targets.numel())
    rank = torch.arange(sources.numel()) - torch.repeat_interleave(
        torch.cumsum(counts, 0) - counts, counts
    )
    kept = order[rank < fanout]
    return sources[kept], target_positions[kept]


def relabel(targets: Tensor, sources: Tensor, target_positions: Tensor) -> SampledBlock:
    """The :class:`SampledBlock` of edges ``sources[k] → targets[target_positions[k]]``.

    Sources that are also targets take the target's position; the others are appended, sorted
    and deduplicated. ``targets`` must be distinct and non-empty.
    """
    if targets.numel() == 0:
        raise ValueError("relabel needs at least one target")
    new_nodes, inverse = torch.unique(sources, return_inverse=True)
    sorted_targets, target_order = torch.sort(targets)
    slot = torch.searchsorted(sorted_targets, new_nodes).clamp(max=targets.numel() - 1)
    is_target = sorted_targets[slot].eq(new_nodes)
    local = torch.where(
        is_target,
        target_order[slot],
        targets.numel() + torch.cumsum(~is_target, 0) - 1,
    )
    return SampledBlock(
        n_id=torch.cat([targets, new_nodes[~is_target]]),
        batch_size=targets.numel(),
        edge_index=torch.stack([local[inverse], target_positions]),
    )


def neighbourhood_blocks(graph: CSRGraph, seeds: Tensor, hops: int) -> list[SampledBlock]:
    """The blocks of ``seeds``' full ``hops``-hop in-neighbourhood, input layer first: every
    in-edge of every node of each hop (no sampling), so that a forward over them is the exact
    full-graph computation at ``seeds`` (:func:`visagnn.nn.inference.exact_rows`).

    Block ``l``'s targets are block ``l + 1``'s ``n_id`` and start with ``seeds``, so the first
    ``len(seeds)`` output rows of every layer are the seeds'.
    """
    if hops < 1:
        raise ValueError(f"hops must be >= 1, got {hops}")
    blocks = []
    targets = seeds
    for _ in range(hops):
        sources, target_positions, _ = graph.in_edges(targets)
        block = relabel(targets, sources, target_positions)
        blocks.append(block)
        targets = block.n_id
    return blocks[::-1]


class NeighborSampler:
    """GraphSAGE's per-layer sampling: a fresh sample of neighbours at every layer.

    ``fanouts[h]`` neighbours are drawn for every node at hop ``h`` from the seeds (PyG's
    ``num_neighbors`` order: ``[25, 10]`` samples 25 neighbours of each seed, then 10 of each
    node of the first block). :meth:`sample` returns the blocks input layer first, so block
    ``l`` feeds layer ``l``; block ``l``'s targets are block ``l + 1``'s ``n_id``.

    Args:
        graph: incoming adjacency to sample from.
        fanouts: neighbours per node at each hop, nearest hop first.
        generator: random source (default: torch's global generator).
    """

    def __init__(
        self, graph: CSRGraph, fanouts: Sequence[int], generator: torch.Generator | None = None
    ) -> None:
        if not fanouts or min(fanouts) < 1:
            raise ValueError(f"fanouts must be a non-empty list of positive ints, got {fanouts}")
        self.graph = graph
        self.fanouts = list(fanouts)
        self.generator = generator

    def sample(self, seeds: Tensor) -> list[SampledBlock]:
        """The blocks of a mini-batch whose output nodes are ``seeds`` (distinct global ids)."""
        blocks = []
        targets = seeds
        for fanout in self.fanouts:
            sources, target_positions = sample_neighbors(
                self.graph, targets, fanout, self.generator
            )
            block = relabel(targets, sources, target_positions)
            blocks.append(block)
            targets = block.n_id
        return blocks[::-1]

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.graph.num_nodes}, fanouts={self.fanouts})"
