"""Mini-batches of training nodes, each step on the blocks a sampler draws for them (GraphSAGE,
FastGCN, LADIES), evaluated exactly layer by layer."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.features import FeatureRows
from visagnn.graph.partition import range_partition
from visagnn.methods.base import Method
from visagnn.methods.optim import build_optimizer, optimizer_step
from visagnn.nn.backbone import Backbone
from visagnn.nn.inference import Block, forward_blocks, layerwise_inference


class BlockSampler(Protocol):
    def sample(self, seeds: Tensor) -> Sequence[Block]:
        """The blocks of the mini-batch whose output nodes are ``seeds``, input layer first."""
        ...


class SeedBatchMethod(Method):
    r"""Each epoch shuffles the training nodes into batches of ``options.batch_size`` seeds; a
    step runs the backbone over the blocks the sampler (:meth:`build_sampler`, drawing from
    :attr:`generator`, seeded with ``RunConfig.seed``) draws for its seeds and minimises their
    cross-entropy:

    .. math::
        h^{(l+1)}_{\text{targets}(l)} = \text{layer}_l\big(h^{(l)}_{n\_id(l)},\ E_l\big),
        \qquad L = \frac{1}{|S|} \sum_{i \in S} \ell\big(h^{(L)}_i, y_i\big)

    Evaluation is exact layer-wise inference with every neighbour, in balanced batches of at
    most ``batch_size`` consecutive nodes. Subclasses build the sampler and the backbone
    (:meth:`build_backbone`).
    """

    model: Backbone

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: Any) -> None:
        super().__init__(dataset, config, options)
        data = dataset.data
        self.graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.sampler = self.build_sampler()
        self.x = FeatureRows(data.x)
        self.y = data.y
        self.train_nodes = data.train_mask.nonzero().flatten()
        num_batches = -(-data.num_nodes // options.batch_size)
        batcher = SubgraphBatcher(self.graph, range_partition(data.num_nodes, num_batches))
        self.inference_loader = PartitionBatchLoader(batcher, 1, shuffle=False)
        self.model = self.build_backbone().to(self.device)
        self.optimizer = build_optimizer(self.model, self.model.regularized_parameters(),
                                         config.lr, config.weight_decay)

    @abstractmethod
    def build_sampler(self) -> BlockSampler:
        """The method's sampler on :attr:`graph`, drawing from :attr:`generator`."""

    @abstractmethod
    def build_backbone(self) -> Backbone:
        """The layers the blocks run through."""

    def train_step(self, seeds: Tensor) -> float:
        """One optimizer step on the sampled blocks of ``seeds`` (CPU ids)."""
        blocks = self.sampler.sample(seeds)
        x = self.x.gather(blocks[0].n_id, pin_memory=self.device.type == "cuda").to(
            self.device, non_blocking=True)
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
        """Also the features read by steps and the CSR graph the sampler draws from."""
        held = super().memory_tensors()
        held["features"] += self.x.tensors()
        held["graph"] += [self.graph.rowptr, self.graph.col]
        return held
