"""What FastGCN and LADIES share: GCN trained on layer-wise samples, evaluated exactly."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, fields
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph import CSRGraph
from visagnn.layer_sampler import LayerSampler, NormalizedAdjacency
from visagnn.methods.base import Method
from visagnn.methods.optim import optimizer_step
from visagnn.methods.sage import chunk_partition
from visagnn.nn.blocks import forward_blocks, layerwise_inference
from visagnn.nn.gcn_backbone import GCNBackbone


@dataclass(frozen=True)
class LayerSamplingOptions:
    """Base of the layer-wise samplers' options, whose fields are all counts (``batch_size``,
    ``layer_size``): each must be >= 1, and a bad one is named ``<OptionsClass>.<field>``."""

    def __post_init__(self) -> None:
        for option in fields(self):
            value = getattr(self, option.name)
            if value < 1:
                raise ValueError(f"{type(self).__name__}.{option.name} must be >= 1, got {value}")


class LayerwiseSamplingMethod(Method):
    """A GCN (:class:`~visagnn.nn.gcn_backbone.GCNBackbone`) trained on layer-wise samples.

    Each epoch shuffles the training nodes into batches of ``batch_size`` output nodes; the
    subclass's :class:`~visagnn.layer_sampler.LayerSampler` draws ``layer_size`` nodes per layer
    and weights the sampled edges, and the backbone aggregates with those weights. Evaluation is
    exact layer-wise inference with every edge and GCN's symmetric normalisation, in batches of
    ``batch_size`` nodes, as for GraphSAGE.
    """

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: Any) -> None:
        super().__init__(dataset, config, options)
        data = dataset.data
        graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.sampler = self.build_sampler(NormalizedAdjacency.of(graph))
        self.x = data.x.pin_memory() if self.device.type == "cuda" else data.x
        self.y = data.y
        self.train_nodes = data.train_mask.nonzero().flatten()
        batcher = SubgraphBatcher(graph, chunk_partition(data.num_nodes, options.batch_size))
        self.inference_loader = PartitionBatchLoader(batcher, 1, shuffle=False)
        self.model = GCNBackbone(
            data.x.size(1), config.hidden_channels, dataset.num_classes, graph.degree,
            num_layers=config.num_layers, dropout=config.dropout,
        ).to(self.device)
        self.optimizer = torch.optim.Adam(self.parameter_groups(), lr=config.lr)

    @abstractmethod
    def build_sampler(self, adjacency: NormalizedAdjacency) -> LayerSampler:
        """The sampler of the method on the graph's :math:`\\hat A`, drawing from
        ``self.generator``."""

    def parameter_groups(self) -> list[dict[str, Any]]:
        """The optimizer's parameter groups: weight decay on every parameter by default."""
        return [{"params": list(self.model.parameters()),
                 "weight_decay": self.config.weight_decay}]

    def train_step(self, seeds: Tensor) -> float:
        """One optimizer step on the layer-wise sample of ``seeds`` (CPU ids)."""
        blocks = self.sampler.sample(seeds)
        x = self.x[blocks[0].n_id].to(self.device, non_blocking=True)
        out = forward_blocks(self.model, x, [block.to(self.device) for block in blocks])
        loss = F.cross_entropy(out, self.y[seeds].to(self.device))
        return optimizer_step(loss, self.model, self.optimizer, self.config.grad_clip)

    def train_epoch(self, epoch: int) -> float:
        self.model.train()
        order = torch.randperm(self.train_nodes.numel(), generator=self.generator)
        losses = [self.train_step(seeds)
                  for seeds in self.train_nodes[order].split(self.options.batch_size)]
        return sum(losses) / max(len(losses), 1)

    def predict(self) -> Tensor:
        self.model.eval()
        return layerwise_inference(self.model, self.x, self.inference_loader)[-1]

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """Also the features read by steps and the sampler's CSR graph and degree factors."""
        held = super().memory_tensors()
        held["features"].append(self.x)
        adjacency = self.sampler.adjacency
        held["graph"] += [adjacency.graph.rowptr, adjacency.graph.col, adjacency.inv_sqrt_degree]
        return held
