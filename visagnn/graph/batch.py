"""Mini-batches made of METIS parts plus their 1-hop halo."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition


@dataclass(frozen=True)
class SubgraphBatch:
    """The nodes, halo and edges of one mini-batch.

    ``n_id`` lists the in-batch nodes first (the selected parts' contiguous id ranges, in part
    order), then the halo: every node outside the batch with an edge into it, sorted. ``edge_index``
    holds, in local ids (positions in ``n_id``), every edge whose target is in the batch.

    Example: a path ``0 - 1 - 2 - 3`` in parts ``{0, 1}`` and ``{2, 3}``; the batch of part 0 has
    ``n_id = [0, 1, 2]``, ``batch_size = 2``, halo ``[2]`` and the edges ``1→0, 0→1, 2→1`` as
    ``edge_index = [[1, 0, 2], [0, 1, 1]]``.

    A batch moved to a device (:meth:`to`) keeps ``host_n_id``, the CPU ids it was moved from
    (pinned on CUDA): rows stored on the CPU are indexed with them
    (:meth:`~visagnn.history.store.History.push`, ``pull``), so that no step copies device ids
    back to the host, which would wait for the work queued on the device. ``None`` where
    ``n_id`` is on the CPU (:attr:`host_ids` is then ``n_id``).
    """

    n_id: Tensor
    batch_size: int
    edge_index: Tensor
    parts: Tensor
    host_n_id: Tensor | None = None

    @property
    def num_nodes(self) -> int:
        return self.n_id.numel()

    @property
    def batch_nodes(self) -> Tensor:
        return self.n_id[: self.batch_size]

    @property
    def halo_nodes(self) -> Tensor:
        return self.n_id[self.batch_size :]

    @property
    def host_ids(self) -> Tensor | None:
        """``n_id`` on the CPU: :attr:`host_n_id`, or ``n_id`` itself where it is on the CPU;
        ``None`` for a device batch without a host copy (:meth:`keep_halo`'s)."""
        if self.host_n_id is not None:
            return self.host_n_id
        return self.n_id if self.n_id.device.type == "cpu" else None

    @property
    def host_batch_nodes(self) -> Tensor | None:
        """:attr:`batch_nodes` on the CPU (see :attr:`host_ids`)."""
        host = self.host_ids
        return None if host is None else host[: self.batch_size]

    @property
    def host_halo_nodes(self) -> Tensor | None:
        """:attr:`halo_nodes` on the CPU (see :attr:`host_ids`)."""
        host = self.host_ids
        return None if host is None else host[self.batch_size :]

    def to(self, device: torch.device | str, non_blocking: bool = False) -> SubgraphBatch:
        """The batch on ``device``; off the CPU it keeps its CPU ids as :attr:`host_n_id`, pinned
        on CUDA (the device copy is then made from the pinned ids, so ``non_blocking`` holds).
        Back on the CPU, ``n_id`` is the host copy: the ids are not copied back."""
        device = torch.device(device)
        host = self.host_ids
        if host is not None and device.type == "cuda" and not host.is_pinned():
            host = host.pin_memory()
        source = self.n_id if host is None else host
        return replace(
            self,
            n_id=source.to(device, non_blocking=non_blocking),
            edge_index=self.edge_index.to(device, non_blocking=non_blocking),
            host_n_id=None if device.type == "cpu" else host,
        )

    def induced_edge_index(self) -> Tensor:
        """The edges whose source is in the batch too (local ids): the subgraph induced by the
        in-batch nodes, without the halo's edges (Cluster-GCN's batch)."""
        return self.edge_index[:, self.edge_index[0] < self.batch_size]

    def edges_into_halo(self) -> Tensor:
        """Edges ``i → j`` from in-batch nodes ``i`` into halo nodes ``j`` (local ids).

        ``edge_index`` holds only edges into in-batch nodes; on an undirected graph the edges
        into the halo from the batch are the reverses of the batch's edges out of the halo.
        Example: the path batch of the class docstring gives ``[[1], [2]]`` (``1 → 2``).
        """
        source, target = self.edge_index
        from_halo = source >= self.batch_size
        return torch.stack([target[from_halo], source[from_halo]])

    def keep_halo(self, keep: Tensor) -> SubgraphBatch:
        """This batch without the halo rows where ``keep`` (one entry per halo row) is False,
        nor their edges; the kept halo rows follow the in-batch nodes in their order.

        Example: the path batch of the class docstring with ``keep = [False]`` has
        ``n_id = [0, 1]`` and the edges ``1→0, 0→1``. The kept rows are known where ``keep``
        is, so a device batch comes back without :attr:`host_n_id`.
        """
        kept = keep.nonzero().flatten()
        relabel = torch.full((self.num_nodes,), -1, dtype=torch.long, device=keep.device)
        relabel[: self.batch_size] = torch.arange(self.batch_size, device=keep.device)
        relabel[self.batch_size + kept] = torch.arange(
            self.batch_size, self.batch_size + kept.numel(), device=keep.device
        )
        local = relabel[self.edge_index]
        return replace(
            self,
            n_id=torch.cat([self.batch_nodes, self.halo_nodes[kept]]),
            edge_index=local[:, local[0] >= 0],
            host_n_id=None,
        )

    def restrict(self, rows: Tensor) -> tuple[SubgraphBatch, Tensor]:
        """The batch of the in-batch nodes at positions ``rows`` only, and the positions in this
        batch's ``n_id`` of the new ``n_id`` (to gather its feature rows).

        The nodes ``rows`` (distinct, in ``[0, batch_size)``) are the new batch, in that order;
        every other node of this subgraph with an edge into them is its halo, sorted; the edges
        are this batch's edges into them. As this batch holds every edge into its in-batch
        nodes, so does the new one. ``parts`` stay the parts the nodes come from.

        Example: the path batch of the class docstring with ``rows = [1]`` has
        ``n_id = [1, 0, 2]``, ``batch_size = 1``, the edges ``0→1, 2→1`` as
        ``edge_index = [[1, 2], [0, 0]]``, and the positions ``[1, 0, 2]``.
        """
        device = self.n_id.device
        target_of = torch.zeros(self.num_nodes, dtype=torch.bool, device=device)
        target_of[rows] = True
        source, target = self.edge_index[:, target_of[self.edge_index[1]]]
        halo = torch.unique(source[~target_of[source]])
        halo = halo[torch.argsort(self.n_id[halo])]
        kept = torch.cat([rows, halo])
        relabel = torch.full((self.num_nodes,), -1, dtype=torch.long, device=device)
        relabel[kept] = torch.arange(kept.numel(), device=device)
        restricted = replace(self, n_id=self.n_id[kept], batch_size=rows.numel(),
                             edge_index=relabel[torch.stack([source, target])], host_n_id=None)
        return restricted, kept

    def halo_neighbourhood(self, graph: CSRGraph) -> tuple[Tensor, Tensor]:
        r"""The edges into the halo from inside the subgraph, and each halo node's share of them.

        Returns ``(halo_edge_index, alpha)``: every edge into a halo node from a node of the
        subgraph :math:`S` (batch plus halo), in local ids, and per halo node :math:`j` the
        share of its neighbours, its self-loop included, that lie in :math:`S`,
        :math:`\alpha_j = (|\mathcal{N}(j) \cap S| + 1) / (d_j + 1)` (1 when its neighbourhood
        is complete). ``graph`` is the partition-ordered graph the batch was cut from; the
        results are on CPU.

        Example: the path ``0 - 1 - 2 - 3`` with the batch ``{0, 1}`` has the halo ``[2]``, the
        halo edge ``1 → 2`` (``3`` is outside the subgraph) and ``alpha = [2 / 3]``.
        """
        n_id = self.n_id.cpu()
        halo = n_id[self.batch_size :]
        sources, target_positions, _ = graph.in_edges(halo)
        order = torch.argsort(n_id)
        sorted_ids = n_id[order]
        position = torch.searchsorted(sorted_ids, sources).clamp(max=n_id.numel() - 1)
        inside = sorted_ids[position] == sources
        edge_index = torch.stack(
            [order[position[inside]], target_positions[inside] + self.batch_size]
        )
        counts = torch.bincount(target_positions[inside], minlength=halo.numel())
        alpha = (counts + 1) / (graph.degree[halo] + 1)
        return edge_index, alpha.to(torch.float32)


class SubgraphBatcher:
    """Builds the :class:`SubgraphBatch` of any set of parts of a partitioned graph.

    ``graph`` must already be permuted by ``partition`` (parts are contiguous id ranges).
    """

    def __init__(self, graph: CSRGraph, partition: Partition) -> None:
        self.graph = graph
        self.partition = partition
        self.part_of_node = partition.part_of_new_ids()

    @property
    def num_parts(self) -> int:
        return self.partition.num_parts

    def batch(self, parts: Tensor) -> SubgraphBatch:
        """The batch holding ``parts`` (a 1-D tensor of distinct part indices)."""
        ptr = self.partition.part_ptr
        starts, ends = ptr[parts], ptr[parts + 1]
        sizes = ends - starts
        batch_size = int(sizes.sum())
        batch_offset = torch.cumsum(sizes, 0) - sizes
        batch_nodes = torch.repeat_interleave(starts - batch_offset, sizes) + torch.arange(
            batch_size
        )

        sources, target_local, _ = self.graph.in_edges(batch_nodes)
        selected = torch.zeros(self.num_parts, dtype=torch.bool)
        selected[parts] = True
        source_part = self.part_of_node[sources]
        in_batch = selected[source_part]

        local_offset = torch.zeros(self.num_parts, dtype=torch.long)
        local_offset[parts] = batch_offset - starts
        source_local = torch.empty_like(sources)
        source_local[in_batch] = sources[in_batch] + local_offset[source_part[in_batch]]
        halo_nodes, halo_local = torch.unique(sources[~in_batch], return_inverse=True)
        source_local[~in_batch] = halo_local + batch_size

        return SubgraphBatch(
            n_id=torch.cat([batch_nodes, halo_nodes]),
            batch_size=batch_size,
            edge_index=torch.stack([source_local, target_local]),
            parts=parts,
        )


class PartitionBatchLoader:
    """Yields the batches of one epoch: ``batch_parts`` parts each.

    With ``shuffle`` the parts are grouped anew at random every epoch (GAS, VISAGNN); without it
    the groups are fixed once, ``[0..B-1], [B..2B-1], ...``, and visited in order (layer-wise
    inference) or, with ``shuffle_fixed``, in a new random order every epoch (LMC's fixed
    clusters).
    """

    def __init__(
        self,
        batcher: SubgraphBatcher,
        batch_parts: int,
        shuffle: bool = True,
        generator: torch.Generator | None = None,
        shuffle_fixed: bool = False,
    ) -> None:
        if not 1 <= batch_parts <= batcher.num_parts:
            raise ValueError(
                f"batch_parts must be in [1, num_parts={batcher.num_parts}], got {batch_parts}"
            )
        self.batcher = batcher
        self.batch_parts = batch_parts
        self.shuffle = shuffle
        self.shuffle_fixed = shuffle_fixed
        self.generator = generator
        self._fixed: list[SubgraphBatch] | None = None

    def __len__(self) -> int:
        return -(-self.batcher.num_parts // self.batch_parts)

    def cached_tensors(self) -> list[Tensor]:
        """The node ids and edges of the batches kept without ``shuffle`` (none before the
        first epoch)."""
        return [tensor for batch in self._fixed or () for tensor in (batch.n_id, batch.edge_index)]

    def __iter__(self) -> Iterator[SubgraphBatch]:
        if not self.shuffle:
            if self._fixed is None:
                groups = torch.arange(self.batcher.num_parts).split(self.batch_parts)
                self._fixed = [self.batcher.batch(group) for group in groups]
            if not self.shuffle_fixed:
                yield from self._fixed
                return
            order = torch.randperm(len(self._fixed), generator=self.generator)
            yield from (self._fixed[index] for index in order.tolist())
            return
        for group in self.part_order().split(self.batch_parts):
            yield self.batcher.batch(torch.sort(group).values)

    def part_order(self) -> Tensor:
        """The order in which an epoch with ``shuffle`` groups the parts, ``batch_parts`` at a
        time: a uniform random permutation (a subclass may weight it)."""
        return torch.randperm(self.batcher.num_parts, generator=self.generator)
