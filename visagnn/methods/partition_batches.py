"""Training on METIS mini-batches: the base of Cluster-GCN and the historical methods."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatch, SubgraphBatcher
from visagnn.graph.partitioned import PartitionedGraph
from visagnn.graph.prefetch import prefetch
from visagnn.history.clock import Clock
from visagnn.methods.base import Method
from visagnn.methods.optim import build_optimizer
from visagnn.nn.backbone import Backbone, GATBackbone
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.nn.inference import layerwise_inference
from visagnn.utils.distributed import World, current_world

INFERENCE_BATCHES = 8
"""Exact inference visits the parts in at most this many batches per layer."""
INFERENCE_EDGES = 2_000_000
"""Unless a batch would then hold more edges than this: exact inference's memory grows with its
batch's edges (about 2.4 kB per edge for a GAT of 4 heads × 64 on CPU)."""


def inference_parts(num_parts: int, batch_parts: int, num_edges: int) -> int:
    """Parts per batch of exact inference: the training batch's ``B``, or more where that
    leaves more than :data:`INFERENCE_BATCHES` batches per layer, but no more than hold about
    :data:`INFERENCE_EDGES` of the graph's ``num_edges`` edges (never fewer than ``B``).

    An inference batch keeps no activation for a backward pass, so a few more parts than a
    training batch fit where the training batch fits; with few parts per batch (heavy
    staleness, ``B = 1``) the per-batch overhead would otherwise dominate every evaluation. On
    a large graph the edge bound keeps exact inference within a few GB.
    """
    by_count = -(-num_parts // INFERENCE_BATCHES)
    by_edges = max(1, INFERENCE_EDGES * num_parts // max(num_edges, 1))
    return min(num_parts, max(batch_parts, min(by_count, by_edges)))


def lockstep_positions(count: int, world: World) -> list[int]:
    """The positions in an epoch's list of ``count`` steps that ``world.rank`` takes: ``r, r +
    N, ...`` of the list padded to ``⌈count / N⌉ · N`` steps with its first steps, as
    ``torch.utils.data.DistributedSampler`` (``drop_last=False``) pads, so that every rank takes
    ``⌈count / N⌉`` steps and no step is dropped (the first ones are taken twice instead)."""
    total = -(-count // world.size) * world.size
    return [position % count for position in range(world.rank, total, world.size)]


class PartitionBatchMethod(Method):
    """Mini-batches of ``batch_parts`` METIS parts, exact layer-wise evaluation.

    Every epoch the parts are grouped at random into batches (with ``shuffle_batches`` False,
    groups fixed once and visited in a new random order every epoch). Batches without training
    nodes are skipped, as in GAS (:meth:`trains_on`); each other batch is one optimizer step
    (:meth:`train_step`) and advances :attr:`clock`. With ``prefetch`` the next step's batch
    is built (:meth:`training_batches`) in a background thread while a step trains; the steps
    are the same, in the same order.
    Evaluation runs the backbone exactly, one layer at a time over the same parts.
    Subclasses build the model (:meth:`build_model`) and take the step.

    Under ``torchrun`` (:attr:`world` distributed) the ranks train in lockstep: every rank
    draws the same list of steps (the same seed), takes its share of it
    (:func:`lockstep_positions`), and every step averages the ranks' gradients
    (:func:`~visagnn.methods.optim.optimizer_step`) and ends with :meth:`end_step` on every
    rank; the clock advances once per lockstep step, and the epoch's loss is the mean over
    every rank's steps. ``prefetch`` is not used there.
    """

    shuffle_batches = True
    distributed = True
    setting_families = ("partition",)
    backbones = ("gat", "gcn")
    model: nn.Module

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: Any) -> None:
        super().__init__(dataset, config, options)
        self.parted = PartitionedGraph.from_dataset(dataset, config.num_parts,
                                                    config.partitioner)
        self.x = self.parted.x
        self.train_mask = self.parted.train_mask
        batcher = SubgraphBatcher(self.parted.graph, self.parted.partition)
        self.loader = self.build_loader(batcher, torch.Generator().manual_seed(config.seed))
        self.inference_loader = PartitionBatchLoader(
            batcher, inference_parts(config.num_parts, config.batch_parts,
                                     self.parted.graph.num_edges), shuffle=False)
        self.model = self.build_model().to(self.device)
        self.optimizer = build_optimizer(self.model, self.backbone.regularized_parameters(),
                                         config.lr, config.weight_decay)
        self.clock = Clock()

    @property
    def world(self) -> World:
        """The process group the run trains in (one process outside ``torchrun``)."""
        return current_world()

    @property
    def backbone(self) -> Backbone:
        return self.model.backbone

    def build_loader(self, batcher: SubgraphBatcher,
                     generator: torch.Generator) -> PartitionBatchLoader:
        """The training batches: ``batch_parts`` parts each, grouped anew every epoch (fixed
        groups in a new order without :attr:`shuffle_batches`), drawn from ``generator``. Built
        before the model, so a loader that reads the model must do it lazily."""
        return PartitionBatchLoader(batcher, self.config.batch_parts,
                                    shuffle=self.shuffle_batches, generator=generator,
                                    shuffle_fixed=True)

    def build_backbone(self) -> Backbone:
        """``--backbone``: GAT (``heads`` × ``hidden_channels`` wide), or GCN normalised by the
        whole graph's degrees (``hidden_channels`` wide)."""
        config, degree = self.config, self.parted.graph.degree
        in_channels, num_classes = self.x.num_features, self.dataset.num_classes
        if config.backbone == "gcn":
            return GCNBackbone(in_channels, config.hidden_channels, num_classes, degree,
                               num_layers=config.num_layers, dropout=config.dropout)
        return GATBackbone(in_channels, config.hidden_channels, num_classes,
                           num_layers=config.num_layers, heads=config.heads,
                           out_heads=config.out_heads, dropout=config.dropout)

    @abstractmethod
    def build_model(self) -> nn.Module:
        """The model trained on the batches; it has the layers as ``.backbone``."""

    @abstractmethod
    def train_step(self, batch: SubgraphBatch, train_rows: Tensor, x: Tensor) -> float:
        """One optimizer step on ``batch``; ``train_rows`` are the positions of its training
        nodes among the in-batch nodes and ``x`` the features of :meth:`feature_nodes` (all on
        CPU; ``x`` pinned on CUDA). Returns the loss."""

    def feature_nodes(self, batch: SubgraphBatch) -> Tensor:
        """The nodes whose features a step on ``batch`` reads: the batch and its halo."""
        return batch.n_id

    def training_batches(self) -> Iterator[tuple[SubgraphBatch, Tensor, Tensor]]:
        """The epoch's steps: every batch of :attr:`loader` that :meth:`trains_on`, with its
        training rows and feature rows (the arguments of :meth:`train_step`).

        With ``prefetch`` this runs in a background thread: it reads nothing that steps
        change, and only it draws from the loader's random generator."""
        for batch, train_rows in self.epoch_steps():
            yield batch, train_rows, self.feature_rows(self.feature_nodes(batch))

    def epoch_steps(self) -> Iterator[tuple[SubgraphBatch, Tensor]]:
        """Every batch of :attr:`loader` that :meth:`trains_on`, with its training rows."""
        for batch in self.loader:
            train_rows = self.train_mask[batch.batch_nodes].nonzero().flatten()
            if self.trains_on(batch, train_rows):
                yield batch, train_rows

    def feature_rows(self, nodes: Tensor) -> Tensor:
        """``x[nodes]`` (float32) on CPU; gathered into pinned memory on CUDA, so that the copy
        to the device does not wait for the CPU."""
        return self.x.gather(nodes, pin_memory=self.device.type == "cuda")

    def train_epoch(self, epoch: int) -> float:
        if self.world.is_distributed:
            return self.train_epoch_in_lockstep(epoch)
        self.model.train()
        total, steps = 0.0, 0
        batches = self.training_batches()
        with closing(prefetch(batches) if self.config.prefetch else batches) as batches:
            for batch, train_rows, x in batches:
                self.clock = Clock(self.clock.iteration + 1, epoch)
                total += self.train_step(batch, train_rows, x)
                steps += 1
        return total / max(steps, 1)

    def train_epoch_in_lockstep(self, epoch: int) -> float:
        """The epoch of this rank (:class:`PartitionBatchMethod` under ``torchrun``). Every
        rank builds the epoch's whole list of batches, so that all agree on it, and trains on
        its share."""
        self.model.train()
        steps = list(self.epoch_steps())
        total = torch.zeros(2, dtype=torch.float64)
        for position in lockstep_positions(len(steps), self.world):
            batch, train_rows = steps[position]
            self.clock = Clock(self.clock.iteration + 1, epoch)
            total[0] += self.train_step(batch, train_rows,
                                        self.feature_rows(self.feature_nodes(batch)))
            total[1] += 1
            self.end_step()
        dist.all_reduce(total)
        return float(total[0] / max(float(total[1]), 1.0))

    def end_step(self) -> None:  # noqa: B027  (optional hook, nothing to do by default)
        """What every rank does at the end of each lockstep step (the histories' exchange)."""

    def trains_on(self, batch: SubgraphBatch, train_rows: Tensor) -> bool:
        """Whether ``batch`` is a step: it has training nodes (``train_rows``). With
        ``prefetch`` it is called in the background thread."""
        return train_rows.numel() > 0

    def exact_embeddings(self) -> list[Tensor]:
        """Exact embeddings of every layer (partition order, CPU), by layer-wise inference."""
        self.model.eval()
        return layerwise_inference(self.backbone, self.x, self.inference_loader)

    def predict(self) -> Tensor:
        return self.parted.to_original_order(self.exact_embeddings()[-1])

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """Also the partition order the features are read in, the partitioned CSR graph, the
        part of every node and the batches the loaders keep (exact inference's, LMC's fixed
        groups)."""
        held = super().memory_tensors()
        graph = self.parted.graph
        held["features"] += self.x.tensors()
        held["graph"] += [graph.rowptr, graph.col, self.loader.batcher.part_of_node,
                          *self.loader.cached_tensors(), *self.inference_loader.cached_tensors()]
        return held
