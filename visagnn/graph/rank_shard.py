"""One rank's share of a partitioned graph: its nodes, the rows it lends and the rows it reads."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor

from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition


@dataclass(frozen=True)
class RankShard:
    """The layout of part ``rank`` of a graph in partition order, for full-graph training with
    one part per rank (ids are the partition's new ids).

    Every part ``q`` has a *boundary block*: its nodes with an out-edge into another part, in
    id order (``boundary[q]``), the rows it lends to the others. This rank's *halo* is the
    nodes of other parts with an edge into its own, grouped by owner in owner order; the halo
    rows from owner ``q`` are the rows ``halo_positions[q]`` of ``q``'s boundary block (empty
    for ``q == rank``). ``n_id`` holds the rank's own nodes, then its halo; ``edge_index``
    (local ids into ``n_id``) holds every edge into the rank's own nodes, so that a layer over
    ``n_id``'s rows computes the full-graph rows of the first ``num_local``.

    Example: the path ``0 - 1 - 2 - 3`` in parts ``{0, 1}`` and ``{2, 3}`` gives
    ``boundary = [[1], [2]]``; rank 0 has ``n_id = [0, 1, 2]`` and ``halo_positions = [[], [0]]``.
    """

    rank: int
    part_ptr: Tensor
    boundary: tuple[Tensor, ...]
    halo_positions: tuple[Tensor, ...]
    n_id: Tensor
    edge_index: Tensor

    @property
    def num_parts(self) -> int:
        return self.part_ptr.numel() - 1

    @property
    def start(self) -> int:
        return int(self.part_ptr[self.rank])

    @property
    def num_local(self) -> int:
        return int(self.part_ptr[self.rank + 1]) - self.start

    @property
    def local_nodes(self) -> Tensor:
        return self.n_id[: self.num_local]

    @property
    def own_boundary(self) -> Tensor:
        """Local positions (into this rank's own rows) of its boundary block."""
        return self.boundary[self.rank] - self.start

    def block_size(self, owner: int) -> int:
        return self.boundary[owner].numel()

    def to(self, device: torch.device) -> RankShard:
        """The shard with its index tensors on ``device``."""
        return replace(self, part_ptr=self.part_ptr.to(device),
                       boundary=tuple(ids.to(device) for ids in self.boundary),
                       halo_positions=tuple(ids.to(device) for ids in self.halo_positions),
                       n_id=self.n_id.to(device), edge_index=self.edge_index.to(device))

    @classmethod
    def of(cls, graph: CSRGraph, partition: Partition, rank: int) -> RankShard:
        """The shard of part ``rank`` of ``graph`` (already in ``partition``'s order)."""
        part = partition.part_of_new_ids()
        source, target = graph.edge_index
        lent = torch.unique(source[part[source] != part[target]])
        boundary = tuple(lent[part[lent] == owner] for owner in range(partition.num_parts))
        start, end = int(partition.part_ptr[rank]), int(partition.part_ptr[rank + 1])
        local = torch.arange(start, end)
        sources, targets, _ = graph.in_edges(local)
        foreign = part[sources] != rank
        halo = torch.unique(sources[foreign])
        halo_positions = tuple(
            torch.searchsorted(boundary[owner], halo[part[halo] == owner]) if owner != rank
            else torch.empty(0, dtype=torch.long) for owner in range(partition.num_parts)
        )
        local_source = torch.where(foreign, end - start + torch.searchsorted(halo, sources),
                                   sources - start)
        return cls(rank=rank, part_ptr=partition.part_ptr, boundary=boundary,
                   halo_positions=halo_positions, n_id=torch.cat([local, halo]),
                   edge_index=torch.stack([local_source, targets]))
