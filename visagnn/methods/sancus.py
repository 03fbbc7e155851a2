r"""SANCUS (Peng et al., VLDB 2022): full-graph decentralized GCN training, one graph part per
rank, where a rank skips broadcasting its boundary embeddings while they are fresh enough.

Each of the ``W`` ranks of the run (:func:`~visagnn.utils.distributed.current_world`) holds one
METIS part of the graph (:class:`~visagnn.graph.rank_shard.RankShard`): its nodes' features,
labels and in-edges. Layer :math:`l` of rank :math:`p` computes its own rows

.. math::
    H_p^{(l+1)} = \sigma\Big(\hat A_{p,p} H_p^{(l)} W + \sum_{q \ne p} \hat A_{p,q}
    \tilde B_q^{(l)} W + b\Big)

with :math:`\tilde B_q^{(l)}` the boundary block of rank :math:`q` (its rows with an edge into
another part) as :math:`p` last received it. Rank :math:`q` broadcasts its block
:math:`B_q^{(l)}` at epoch :math:`t` unless (:func:`should_broadcast`) it has skipped fewer
than ``staleness_epochs`` epochs in a row since its last broadcast :math:`\bar B_q^{(l)}` and,
with ``staleness_drift`` set, :math:`\lVert B_q^{(l)} - \bar B_q^{(l)} \rVert_F /
\lVert \bar B_q^{(l)} \rVert_F \le` ``staleness_drift``; the others then read their cached copy
(the historical embedding). The epoch bound is the official code's rule
(``chenzhao/light-dist-gnn``, ``models/cached_gcn.py``: its second layer's broadcast from a
source is served from the cache on every other epoch once that source has broadcast 50 times,
so a cached block is at most one epoch old); the bound on the relative change is our reading
of the paper's "bounded embedding staleness metrics" (its abstract; the rule in its text is not
reproduced here). Each decision is one flag per rank, summed over the ranks before the
broadcasts, so every rank knows which blocks come. The input features never change: they are
exchanged once, before the first epoch, as the official code serves its first layer's
broadcast from the cache after the first. Unlike the official code, which broadcasts a rank's
whole part (CAGNET's scheme), only the boundary rows travel.

The backward pass is exact for what the forward read: the gradient of every halo row goes
back to its owner (:class:`HaloGradient`, one reduce per boundary block), also for a cached
row (the official code never caches the backward broadcast), where it is applied to the
owner's current rows. The loss is summed over the rank's training nodes and divided by the
whole graph's number of training nodes, and the parameters' gradients are summed over the
ranks before clipping and Adam's step, so that every rank takes the same step and, with
``staleness_epochs = 0``, it is the full-batch GCN's (:class:`~visagnn.methods.fullbatch.
FullBatchGCN`, same initialisation, layers and optimizer) step for step. Dropout is drawn by
each rank on the rows it reads, so a boundary row is dropped independently by its owner and
its readers (without dropout the forward is exactly full batch). With one process there is no
boundary and this is full-batch training.

Evaluation is exact: a fresh exchange at every layer (no skipping, caches untouched), and the
logits of every rank gathered on all ranks.

Bytes are counted as payload (float32 rows): a broadcast of :math:`b` rows of width
:math:`d` sends :math:`4 b d` bytes to each of the :math:`W - 1` other ranks, and so does each
of them in the reduce of that block's gradient; the per-epoch records give the totals over the
ranks (every rank knows every block's size and every flag, so it counts them all); the flags
(one integer per rank and layer) are not counted.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph.partitioned import PartitionedGraph
from visagnn.graph.rank_shard import RankShard
from visagnn.methods.base import Method
from visagnn.methods.optim import build_optimizer, optimizer_step
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.utils.distributed import World, current_world

FLOAT_BYTES = 4


@dataclass(frozen=True)
class SancusOptions:
    """The staleness bounds of SANCUS's skipped broadcasts."""

    staleness_epochs: int = field(default=1, metadata={
        "help": "most consecutive epochs a rank may skip broadcasting a layer's boundary "
                "embeddings (0: broadcast at every epoch, exact full-batch training)"})
    staleness_drift: float | None = field(default=None, metadata={
        "help": "also broadcast when the boundary embeddings changed by more than this "
                "fraction (Frobenius norm) since their last broadcast (default: no such bound)"})

    def __post_init__(self) -> None:
        if self.staleness_epochs < 0:
            raise ValueError(f"SancusOptions.staleness_epochs must be >= 0, got "
                             f"{self.staleness_epochs}")
        if self.staleness_drift is not None and self.staleness_drift < 0:
            raise ValueError(f"SancusOptions.staleness_drift must be >= 0, got "
                             f"{self.staleness_drift}")


def relative_change(block: Tensor, sent: Tensor) -> float:
    r""":math:`\lVert B - \bar B \rVert_F / \lVert \bar B \rVert_F` of a block ``B`` against
    its last broadcast ``\bar B`` (0 for equal blocks, infinite from a zero block)."""
    difference = float(torch.linalg.vector_norm(block - sent))
    if difference == 0:
        return 0.0
    reference = float(torch.linalg.vector_norm(sent))
    return difference / reference if reference > 0 else math.inf


def should_broadcast(skipped: int | None, change: float, options: SancusOptions) -> bool:
    """Whether a rank broadcasts a layer's boundary block: always the first time
    (``skipped is None``), after ``staleness_epochs`` skipped epochs in a row, or when the
    block's :func:`relative_change` since its last broadcast exceeds ``staleness_drift``."""
    if skipped is None or skipped >= options.staleness_epochs:
        return True
    return options.staleness_drift is not None and change > options.staleness_drift


class BoundaryExchange:
    """The collectives of one rank: boundary blocks broadcast by their owners, their gradients
    reduced back to them, the caches of the blocks last sent and received, and the bytes."""

    def __init__(self, shard: RankShard, world: World, options: SancusOptions) -> None:
        self.shard = shard
        self.world = world
        self.options = options
        self.sent: dict[int, Tensor] = {}
        self.skipped: dict[int, int] = {}
        self.received: dict[int, dict[int, Tensor]] = {}
        self.counts = {"bytes_forward": 0, "bytes_backward": 0, "skipped_broadcasts": 0}

    def broadcast(self, block: Tensor, senders: list[bool]) -> dict[int, Tensor]:
        """Each owner ``q`` with ``senders[q]`` broadcasts its boundary block (this rank's is
        ``block``); returns the blocks received from the others, by owner."""
        received: dict[int, Tensor] = {}
        for owner in range(self.world.size):
            rows = self.shard.block_size(owner)
            if not senders[owner] or rows == 0:
                continue
            buffer = (block.contiguous() if owner == self.world.rank
                      else block.new_empty(rows, block.size(1)))
            dist.broadcast(buffer, src=owner)
            if owner != self.world.rank:
                received[owner] = buffer
        return received

    def payload(self, owner: int, width: int) -> int:
        """Bytes one transfer of ``owner``'s block sends to all other ranks."""
        return FLOAT_BYTES * self.shard.block_size(owner) * width * (self.world.size - 1)

    def assemble(self, blocks: dict[int, Tensor], width: int, like: Tensor) -> Tensor:
        """This rank's halo rows ``[n_halo, width]`` from the owners' blocks."""
        parts = [blocks[owner][positions] for owner, positions
                 in enumerate(self.shard.halo_positions) if positions.numel()]
        return torch.cat(parts) if parts else like.new_empty(0, width)

    def fresh_halo(self, h: Tensor) -> Tensor:
        """The halo of ``h`` (this rank's rows) with every block broadcast anew."""
        if not self.world.is_distributed:
            return h.new_empty(0, h.size(1))
        blocks = self.broadcast(h[self.shard.own_boundary], [True] * self.world.size)
        return self.assemble(blocks, h.size(1), h)

    def training_halo(self, h: Tensor, layer: int) -> Tensor:
        """The halo of layer ``layer``'s input ``h``: each block fresh or cached by
        :func:`should_broadcast`, its gradient routed back to its owner."""
        if not self.world.is_distributed:
            return h.new_empty(0, h.size(1))
        block = h[self.shard.own_boundary].detach()
        sent = self.sent.get(layer)
        change = relative_change(block, sent) if sent is not None else math.inf
        skipped = self.skipped.get(layer) if sent is not None else None
        flags = torch.zeros(self.world.size, dtype=torch.int32, device=h.device)
        flags[self.world.rank] = int(should_broadcast(skipped, change, self.options))
        dist.all_reduce(flags)
        senders = [bool(flag) for flag in flags.tolist()]
        cache = self.received.setdefault(layer, {})
        cache.update(self.broadcast(block, senders))
        if senders[self.world.rank]:
            self.sent[layer], self.skipped[layer] = block.clone(), 0
        else:
            self.skipped[layer] += 1
        for owner in range(self.world.size):
            if self.shard.block_size(owner) == 0:
                continue
            if senders[owner]:
                self.counts["bytes_forward"] += self.payload(owner, h.size(1))
            else:
                self.counts["skipped_broadcasts"] += 1
        halo = self.assemble(cache, h.size(1), h)
        return HaloGradient.apply(h, halo, self)

    def return_gradients(self, grad_halo: Tensor, num_local: int) -> Tensor:
        """The gradient of this rank's rows from the halo gradients of all ranks: each block's
        rows summed over its readers and reduced to its owner."""
        width = grad_halo.size(1)
        grad_local = grad_halo.new_zeros(num_local, width)
        offset = 0
        for owner, positions in enumerate(self.shard.halo_positions):
            rows = self.shard.block_size(owner)
            if rows == 0:
                continue
            block = grad_halo.new_zeros(rows, width)
            block.index_add_(0, positions, grad_halo[offset:offset + positions.numel()])
            offset += positions.numel()
            dist.reduce(block, dst=owner)
            if owner == self.world.rank:
                grad_local.index_add_(0, self.shard.own_boundary, block)
            self.counts["bytes_backward"] += self.payload(owner, width)
        return grad_local

    def tensors(self) -> list[Tensor]:
        """The cached blocks (the historical embeddings) and the blocks last sent."""
        return [*self.sent.values(),
                *(block for blocks in self.received.values() for block in blocks.values())]


class HaloGradient(torch.autograd.Function):
    """Identity on the halo rows in the forward pass; in the backward pass their gradient goes
    to the ranks that own them and this rank's own rows get what the others send
    (:meth:`BoundaryExchange.return_gradients`)."""

    @staticmethod
    def forward(ctx: Any, h: Tensor, halo: Tensor, exchange: BoundaryExchange) -> Tensor:
        ctx.exchange, ctx.num_local = exchange, h.size(0)
        return halo.clone()

    @staticmethod
    def backward(ctx: Any, grad_halo: Tensor) -> tuple[Tensor, None, None]:
        return ctx.exchange.return_gradients(grad_halo.contiguous(), ctx.num_local), None, None


@register_method
class Sancus(Method):
    """SANCUS (module docstring) with the GCN backbone of its paper and of
    :class:`~visagnn.methods.fullbatch.FullBatchGCN` (its settings on every dataset)."""

    distributed = True

    name = "sancus"
    options_class = SancusOptions

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: SancusOptions) -> None:
        super().__init__(dataset, config, options)
        self.world = current_world()
        self.graph = PartitionedGraph.from_dataset(dataset, self.world.size)
        self.model = GCNBackbone(
            dataset.data.x.size(1), config.hidden_channels, dataset.num_classes,
            self.graph.graph.degree, num_layers=config.num_layers, dropout=config.dropout,
            regularized="first",
        ).to(self.device)
        self.shard = RankShard.of(self.graph.graph, self.graph.partition, self.world.rank)
        local = self.shard.local_nodes
        self.x = self.graph.x[local].to(self.device)
        self.y = self.graph.y[local].to(self.device)
        self.train_mask = self.graph.train_mask[local].to(self.device)
        self.num_train = int(dataset.data.train_mask.sum())
        self.edge_index = self.shard.edge_index.to(self.device)
        self.n_id = self.shard.n_id.to(self.device)
        self.exchange = BoundaryExchange(self.shard.to(self.device), self.world, options)
        self.x_halo = self.x.new_empty(0, self.x.size(1))
        self.feature_bytes = 0
        self.totals = dict.fromkeys(self.exchange.counts, 0)
        self.optimizer = build_optimizer(self.model, self.model.regularized_parameters(),
                                         config.lr, config.weight_decay)

    def prepare(self) -> None:
        """Exchange the halo's input features, once: they never change."""
        self.x_halo = self.exchange.fresh_halo(self.x)
        self.feature_bytes = sum(self.exchange.payload(owner, self.x.size(1))
                                 for owner in range(self.world.size))

    def forward(self, training: bool) -> Tensor:
        """This rank's logits ``[n_local, C]``; the halo of every hidden layer's input from
        :meth:`BoundaryExchange.training_halo` (``training``) or fresh."""
        h, num_local = self.x, self.x.size(0)
        for index in range(self.model.num_layers):
            if index == 0:
                halo = self.x_halo
            elif training:
                halo = self.exchange.training_halo(h, index)
            else:
                halo = self.exchange.fresh_halo(h)
            inp = LayerInput(torch.cat([h, halo]), self.edge_index, self.n_id, num_local)
            h = self.model.layer(index, inp)[:num_local]
        return h

    def train_epoch(self, epoch: int) -> float:
        self.model.train()
        self.exchange.counts = dict.fromkeys(self.exchange.counts, 0)
        out = self.forward(training=True)
        loss = F.cross_entropy(out[self.train_mask], self.y[self.train_mask],
                               reduction="sum") / self.num_train
        distributed = self.world.is_distributed
        local = optimizer_step(loss, self.model, self.optimizer, self.config.grad_clip,
                               gradient_reduction="sum")
        for key, value in self.exchange.counts.items():
            self.totals[key] += value
        if not distributed:
            return local
        total = torch.tensor([local], dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return float(total)

    @torch.no_grad()
    def predict(self) -> Tensor:
        self.model.eval()
        logits = self.forward(training=False)
        if self.world.is_distributed:
            sizes = (self.shard.part_ptr[1:] - self.shard.part_ptr[:-1]).tolist()
            padded = logits.new_zeros(max(sizes), logits.size(1))
            padded[: logits.size(0)] = logits
            gathered = [torch.empty_like(padded) for _ in sizes]
            dist.all_gather(gathered, padded)
            logits = torch.cat([rows[:size] for rows, size in zip(gathered, sizes, strict=True)])
        return self.graph.to_original_order(logits.cpu())

    def epoch_extras(self, epoch: int) -> dict[str, Any]:
        """The epoch's bytes sent over all ranks by the forward broadcasts and the backward
        reduces, and the broadcasts skipped."""
        return dict(self.exchange.counts)

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """The rank's features (own and halo), its edges and its cached boundary blocks."""
        held = super().memory_tensors()
        held["features"] = [self.x, self.x_halo]
        held["graph"] = [self.edge_index, self.n_id]
        held["histories"] = self.exchange.tensors()
        return held

    def describe(self) -> dict[str, Any]:
        return {**asdict(self.options), "world_size": self.world.size,
                "boundary_rows": [self.shard.block_size(q) for q in range(self.world.size)],
                "feature_bytes": self.feature_bytes,
                **{f"total_{key}": value for key, value in self.totals.items()}}
