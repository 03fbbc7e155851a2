"""A dataset relabelled so that each part (METIS's by default) is a contiguous range of ids."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from visagnn.datasets import GraphDataset
from visagnn.graph.csr import CSRGraph
from visagnn.graph.features import FeatureRows
from visagnn.graph.partition import Partition, PartitionerName, partition_graph
from visagnn.utils.cache import cache_folder


@dataclass(frozen=True)
class PartitionedGraph:
    """Graph structure, features, labels and masks of a dataset in partition order.

    Row ``k`` of every tensor here belongs to original node ``partition.perm[k]``; the
    features are read through ``perm`` from the dataset's own matrix
    (:class:`~visagnn.graph.features.FeatureRows`), never copied.
    """

    graph: CSRGraph
    partition: Partition
    x: FeatureRows
    y: Tensor
    train_mask: Tensor
    val_mask: Tensor
    test_mask: Tensor

    @property
    def num_nodes(self) -> int:
        return self.graph.num_nodes

    @classmethod
    def from_dataset(cls, dataset: GraphDataset, num_parts: int,
                     partitioner: PartitionerName = "metis") -> PartitionedGraph:
        """Partition ``dataset`` into ``num_parts`` parts with ``partitioner`` (METIS's are
        cached in the cache folder; see :func:`~visagnn.graph.partition.partition_graph`)."""
        data = dataset.data
        graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
        partition = partition_graph(graph, num_parts, cache_folder("partitions"), partitioner)
        perm = partition.perm
        return cls(
            graph=graph.permute(perm),
            partition=partition,
            x=FeatureRows(data.x, perm),
            y=data.y[perm],
            train_mask=data.train_mask[perm],
            val_mask=data.val_mask[perm],
            test_mask=data.test_mask[perm],
        )

    def boundary_nodes(self) -> Tensor:
        """The nodes with a neighbour in another part: every row a batch can read as halo."""
        part = self.partition.part_of_new_ids()
        source, target = self.graph.edge_index
        crossing = part[source] != part[target]
        return torch.unique(source[crossing])

    def to_original_order(self, rows: Tensor) -> Tensor:
        """Rows in partition order → rows in the dataset's node order."""
        out = rows.new_empty(rows.shape)
        out[self.partition.perm] = rows
        return out
