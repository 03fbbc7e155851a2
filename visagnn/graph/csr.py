"""Compressed sparse row (CSR) view of a graph, indexed by target node."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class CSRGraph:
    """Incoming adjacency of a graph in CSR form.

    The sources of the edges into node ``i`` are ``col[rowptr[i]:rowptr[i + 1]]`` and those edges
    sit at positions ``rowptr[i]:rowptr[i + 1]`` of the target-sorted edge list, which is also the
    order of ``edge_index`` after :meth:`from_edge_index`. For an undirected graph the in-degree
    equals the degree.

    Example: edges ``0→1, 2→1, 1→0`` give ``rowptr = [0, 1, 3, 3]`` and ``col = [1, 0, 2]``.
    """

    rowptr: Tensor
    col: Tensor

    @property
    def num_nodes(self) -> int:
        return self.rowptr.numel() - 1

    @property
    def num_edges(self) -> int:
        return self.col.numel()

    @property
    def degree(self) -> Tensor:
        """In-degree of every node, ``rowptr[i + 1] - rowptr[i]``."""
        return self.rowptr[1:] - self.rowptr[:-1]

    @property
    def edge_index(self) -> Tensor:
        """``[2, E]`` edge list (source, target), sorted by target."""
        target = torch.repeat_interleave(torch.arange(self.num_nodes), self.degree)
        return torch.stack([self.col, target])

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: int) -> CSRGraph:
        """Sort ``edge_index`` (source, target) by target, then source, and compress the targets."""
        source, target = edge_index
        order = torch.argsort(target * num_nodes + source)
        counts = torch.bincount(target, minlength=num_nodes)
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        torch.cumsum(counts, dim=0, out=rowptr[1:])
        return cls(rowptr=rowptr, col=source[order].contiguous())

    def in_edges(self, targets: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """All edges into ``targets``, vectorised.

        Returns ``(sources, target_positions, edge_ids)``: the global source of every edge, the
        position in ``targets`` of its target, and its position in the CSR edge order.
        """
        starts = self.rowptr[targets]
        counts = self.rowptr[targets + 1] - starts
        target_positions = torch.repeat_interleave(torch.arange(targets.numel()), counts)
        offsets = torch.arange(int(counts.sum())) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts
        )
        edge_ids = starts[target_positions] + offsets
        return self.col[edge_ids], target_positions, edge_ids

    def permute(self, perm: Tensor) -> CSRGraph:
        """Relabel nodes so that new node ``k`` is old node ``perm[k]``."""
        inverse = torch.empty_like(perm)
        inverse[perm] = torch.arange(perm.numel())
        source, target = self.edge_index
        return CSRGraph.from_edge_index(
            torch.stack([inverse[source], inverse[target]]), self.num_nodes
        )
