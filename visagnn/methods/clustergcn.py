"""Cluster-GCN (Chiang et al., KDD 2019): METIS mini-batches without their halo."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from visagnn.graph.batch import SubgraphBatch
from visagnn.methods.optim import optimizer_step
from visagnn.methods.partition_batches import PartitionBatchMethod
from visagnn.methods.registry import register_method
from visagnn.nn.full_graph import FullGraphModel


@register_method
class ClusterGCN(PartitionBatchMethod):
    """Cluster-GCN: each step trains on the subgraph induced by ``batch_parts`` METIS parts.

    The batches are those of GAS (the same partition, the same random grouping of parts per
    epoch, batches without training nodes skipped), but a node only aggregates over neighbours
    inside its batch (:meth:`SubgraphBatch.induced_edge_index`): no halo and no history, so
    edges between batches are ignored in training. The backbone is that of the historical
    methods (``--backbone``: GAT by default, or GCN normalised by global degrees) with the
    dataset's defaults; evaluation is exact layer-wise inference over all edges, as for every
    method.
    """

    name = "clustergcn"

    def build_model(self) -> FullGraphModel:
        return FullGraphModel(self.build_backbone())

    def feature_nodes(self, batch: SubgraphBatch) -> Tensor:
        """The in-batch nodes: Cluster-GCN reads no halo."""
        return batch.batch_nodes

    def train_step(self, batch: SubgraphBatch, train_rows: Tensor, x: Tensor) -> float:
        x = x.to(self.device, non_blocking=True)
        out = self.model(x, batch.induced_edge_index().to(self.device),
                         batch.batch_nodes.to(self.device))
        labels = self.parted.y[batch.batch_nodes[train_rows]].to(self.device)
        loss = F.cross_entropy(out[train_rows.to(self.device)], labels)
        return optimizer_step(loss, self.model, self.optimizer, self.config.grad_clip)
