"""Graph partitioners: METIS (through ``pymetis``, cached on disk) and node-id ranges.

Both give a :class:`Partition` whose parts are contiguous id ranges. METIS minimises the edges
cut between parts, which keeps the halos small, but ``pymetis`` needs about 12 GB for 2.4M nodes
and 62M edges and more than most machines have for ogbn-papers100M. ``ranges`` cuts the node
ids into balanced contiguous ranges in O(N) time and memory: good where the ids already carry
locality (papers100M's ids follow time, a crawl's follow its order), poor on shuffled ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pymetis
import torch
from torch import Tensor

from visagnn.graph.csr import CSRGraph
from visagnn.utils.atomic_write import atomic_write

METIS_SEED = 0
PartitionerName = Literal["metis", "ranges"]
PARTITIONERS: tuple[PartitionerName, ...] = ("metis", "ranges")


@dataclass(frozen=True)
class Partition:
    """A node permutation that makes every part a contiguous id range.

    New node ``k`` is old node ``perm[k]``; part ``p`` holds the new ids
    ``part_ptr[p] .. part_ptr[p + 1] - 1``.

    Example: parts ``[1, 0, 1, 0]`` of four nodes give ``perm = [1, 3, 0, 2]`` and
    ``part_ptr = [0, 2, 4]``.
    """

    perm: Tensor
    part_ptr: Tensor

    @property
    def num_parts(self) -> int:
        return self.part_ptr.numel() - 1

    def part_of_new_ids(self) -> Tensor:
        """Part index of every node, in the new (permuted) numbering."""
        sizes = self.part_ptr[1:] - self.part_ptr[:-1]
        return torch.repeat_interleave(torch.arange(self.num_parts), sizes)


def metis_membership(graph: CSRGraph, num_parts: int) -> Tensor:
    """Part index of every node from METIS k-way partitioning, with a fixed seed."""
    if num_parts == 1:
        return torch.zeros(graph.num_nodes, dtype=torch.long)
    adjacency = pymetis.CSRAdjacency(graph.rowptr.numpy(), graph.col.numpy())
    result = pymetis.part_graph(
        num_parts, adjacency=adjacency, options=pymetis.Options(seed=METIS_SEED)
    )
    return torch.from_numpy(np.asarray(result.vertex_part, dtype=np.int64))


def partition_from_membership(membership: Tensor, num_parts: int) -> Partition:
    """Stable sort of the nodes by part, so that each part keeps its nodes' relative order."""
    perm = torch.sort(membership, stable=True).indices
    sizes = torch.bincount(membership, minlength=num_parts)
    part_ptr = torch.zeros(num_parts + 1, dtype=torch.long)
    torch.cumsum(sizes, dim=0, out=part_ptr[1:])
    return Partition(perm=perm, part_ptr=part_ptr)


def graph_fingerprint(graph: CSRGraph) -> str:
    """Content hash of the graph's structure, the key of the partition cache."""
    digest = hashlib.sha256()
    digest.update(graph.rowptr.numpy().tobytes())
    digest.update(graph.col.numpy().tobytes())
    return digest.hexdigest()[:20]


def partition_cache_file(graph: CSRGraph, num_parts: int, cache_dir: Path) -> Path:
    """Where :func:`partition_graph` keeps METIS's partition of ``graph`` into ``num_parts``
    parts: ``<cache_dir>/partition-<fingerprint>-<num_parts>.pt``."""
    return Path(cache_dir) / f"partition-{graph_fingerprint(graph)}-{num_parts}.pt"


def range_partition(num_nodes: int, num_parts: int) -> Partition:
    """The node ids cut into ``num_parts`` contiguous ranges whose sizes differ by one at most,
    the larger ones last; no node moves (``perm`` is the identity).

    Example: 10 nodes in 3 parts give ``part_ptr = [0, 3, 6, 10]``.
    """
    part_ptr = torch.arange(num_parts + 1) * num_nodes // num_parts
    return Partition(perm=torch.arange(num_nodes), part_ptr=part_ptr)


def partition_graph(graph: CSRGraph, num_parts: int, cache_dir: Path | None = None,
                    partitioner: PartitionerName = "metis") -> Partition:
    """Partition ``graph`` into ``num_parts`` contiguous parts with ``partitioner``.

    ``metis`` (default): METIS k-way with a fixed seed; with ``cache_dir`` the result is stored
    in :func:`partition_cache_file` and read back on later calls for the same graph and
    ``num_parts``. ``ranges``: :func:`range_partition`, never cached, as the cache key (a hash
    of the graph) would cost more than the partition.
    """
    if not 1 <= num_parts <= graph.num_nodes:
        raise ValueError(f"num_parts must be in [1, {graph.num_nodes}] (at most one part per "
                         f"node of the graph), got {num_parts}")
    if partitioner == "ranges":
        return range_partition(graph.num_nodes, num_parts)
    if partitioner != "metis":
        raise ValueError(f"partitioner must be one of {PARTITIONERS}, got {partitioner!r}")
    cache_file = None
    if cache_dir is not None:
        cache_file = partition_cache_file(graph, num_parts, cache_dir)
        if cache_file.exists():
            stored = torch.load(cache_file)
            return Partition(perm=stored["perm"], part_ptr=stored["part_ptr"])
    partition = partition_from_membership(metis_membership(graph, num_parts), num_parts)
    if cache_file is not None:
        with atomic_write(cache_file, binary=True) as handle:
            torch.save({"perm": partition.perm, "part_ptr": partition.part_ptr}, handle)
    return partition
