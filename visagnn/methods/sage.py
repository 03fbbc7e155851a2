"""GraphSAGE (Hamilton et al., NeurIPS 2017) trained on uniformly sampled neighbourhoods."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph import CSRGraph
from visagnn.methods.base import Method
from visagnn.methods.optim import optimizer_step
from visagnn.methods.registry import register_method
from visagnn.nn.blocks import forward_blocks, layerwise_inference
from visagnn.nn.sage import SAGEBackbone
from visagnn.partitioners import Partition
from visagnn.sampler import NeighborSampler

DEFAULT_FANOUTS: dict[int, tuple[int, ...]] = {2: (25, 10), 3: (15, 10, 5)}
"""Fan-outs by depth: GraphSAGE's ``S1 = 25, S2 = 10``; PyG's ogbn-products example for 3."""


@dataclass(frozen=True)
class SAGEOptions:
    """Options of GraphSAGE (defaults: Hamilton et al., 2017, and its official code)."""

    fanouts: str | None = field(default=None, metadata={
        "help": "GraphSAGE neighbours sampled per node at each hop, nearest first, e.g. 25,10 "
                "(default: 25,10 for 2 layers, 15,10,5 for 3)"})
    batch_size: int = field(default=512, metadata={
        "help": "GraphSAGE target nodes per mini-batch (also per inference batch)"})

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"SAGEOptions.batch_size must be >= 1, got {self.batch_size}")

    def fanout_list(self, num_layers: int) -> list[int]:
        """The fan-out of each hop for a model of ``num_layers`` layers."""
        if self.fanouts is None:
            if num_layers not in DEFAULT_FANOUTS:
                raise ValueError(f"no default fan-outs for {num_layers} layers; pass --fanouts "
                                 f"with {num_layers} comma-separated values")
            return list(DEFAULT_FANOUTS[num_layers])
        try:
            fanouts = [int(value) for value in self.fanouts.split(",")]
        except ValueError:
            raise ValueError(
                f"SAGEOptions.fanouts must be comma-separated ints, got {self.fanouts!r}"
            ) from None
        if len(fanouts) != num_layers or min(fanouts) < 1:
            raise ValueError(f"SAGEOptions.fanouts {self.fanouts!r} must give one positive value "
                             f"per layer (num_layers = {num_layers})")
        return fanouts


def chunk_partition(num_nodes: int, size: int) -> Partition:
    """Consecutive node ranges of ``size`` nodes as the parts of an identity partition."""
    ptr = torch.arange(0, num_nodes, size)
    part_ptr = torch.cat([ptr, torch.tensor([num_nodes])])
    return Partition(perm=torch.arange(num_nodes), part_ptr=part_ptr)


@register_method
class GraphSAGE(Method):
    """GraphSAGE-mean with a fresh uniform sample of neighbours at every layer of every batch.

    Each epoch shuffles the training nodes into batches of ``batch_size`` seeds; a seed's
    ``L``-hop computation graph is sampled by :class:`~visagnn.sampler.NeighborSampler` with
    ``fanouts``. Evaluation is exact layer-wise inference with every neighbour.

    Defaults: ``K = 2`` layers, fan-outs 25 and 10, 256 hidden units (the official code's 128
    per half of the concatenation), batches of 512, Adam with lr 0.01 (the paper's and the
    official code's). GraphSAGE has no Planetoid setting; there the regularisation of the GCN
    paper is used (dropout 0.5, L2 5e-4, 200 epochs). Elsewhere the width is the dataset's GAT
    width (256 on Reddit and the OGB graphs, the published GraphSAGE width) and the rest the
    dataset's defaults.
    """

    name = "sage"
    options_class = SAGEOptions

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: SAGEOptions) -> None:
        super().__init__(dataset, config, options)
        data = dataset.data
        graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.sampler = NeighborSampler(
            graph, options.fanout_list(config.num_layers), self.generator
        )
        self.x = data.x.pin_memory() if self.device.type == "cuda" else data.x
        self.y = data.y
        self.train_nodes = data.train_mask.nonzero().flatten()
        batcher = SubgraphBatcher(graph, chunk_partition(data.num_nodes, options.batch_size))
        self.inference_loader = PartitionBatchLoader(batcher, 1, shuffle=False)
        self.model = SAGEBackbone(
            data.x.size(1), config.hidden_channels, dataset.num_classes,
            num_layers=config.num_layers, dropout=config.dropout,
        ).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )

    def train_step(self, seeds: Tensor) -> float:
        """One optimizer step on the sampled computation graph of ``seeds`` (CPU ids)."""
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
        """Also the features read by steps and the sampler's CSR graph."""
        held = super().memory_tensors()
        held["features"].append(self.x)
        held["graph"] += [self.sampler.graph.rowptr, self.sampler.graph.col]
        return held

    def describe(self) -> dict[str, Any]:
        return {"fanouts": self.sampler.fanouts, "batch_size": self.options.batch_size}
