"""Training with historical embeddings for the halo (GAS and the methods built on it)."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F
from torch import Tensor

from visagnn.batch import SubgraphBatch
from visagnn.history import layer_histories
from visagnn.methods.optim import optimizer_step
from visagnn.methods.partition_batches import PartitionBatchMethod
from visagnn.nn.halo_policy import HaloPolicy
from visagnn.nn.historical_model import HistoricalModel
from visagnn.true_staleness import measure_staleness


class HistoricalMethod(PartitionBatchMethod):
    """METIS mini-batches with a halo read from per-layer histories (GNNAutoScale's scheme).

    Before the first epoch the histories are filled with exact embeddings. Each step runs
    :class:`~visagnn.nn.historical_model.HistoricalModel` with the method's halo policy
    (:meth:`build_policy`; GAS's by default) and minimises the cross-entropy of the batch's
    training nodes plus the policy's :meth:`~visagnn.nn.halo_policy.HaloPolicy.extra_loss`.
    A historical method is a halo policy, its options and a subclass that names them.
    """

    model: HistoricalModel

    def build_policy(self) -> HaloPolicy:
        """How halo rows enter each layer (GAS: as they are)."""
        return HaloPolicy()

    def build_model(self) -> HistoricalModel:
        backbone = self.build_backbone()
        histories = layer_histories(self.parted.num_nodes, backbone.hidden_dims, self.device,
                                    self.config.keep_history_on_device)
        return HistoricalModel(backbone, histories, self.build_policy())

    @property
    def policy(self) -> HaloPolicy:
        return self.model.halo_policy

    def prepare(self) -> None:
        for history, exact in zip(self.model.histories, self.exact_embeddings()[:-1], strict=True):
            history.fill(exact, iteration=0)

    def loss(self, out: Tensor, batch: SubgraphBatch, train_rows: Tensor) -> Tensor:
        """Cross-entropy over the batch's training nodes (``train_rows`` indexes ``out``), plus
        the policy's extra term."""
        labels = self.parted.y[batch.batch_nodes[train_rows].cpu()].to(self.device)
        task = F.cross_entropy(out[train_rows], labels)
        extra = self.policy.extra_loss(out, batch, self.clock)
        return task if extra is None else task + extra

    def train_step(self, batch: SubgraphBatch, train_rows: Tensor) -> float:
        x = self.x[batch.n_id].to(self.device, non_blocking=True)
        batch, train_rows = batch.to(self.device), train_rows.to(self.device)
        out = self.model(x, batch, self.clock)
        loss = self.loss(out, batch, train_rows)
        return optimizer_step(loss, self.model, self.optimizer, self.config.grad_clip)

    def train_epoch(self, epoch: int) -> float:
        self.policy.begin_epoch()
        return super().train_epoch(epoch)

    def epoch_extras(self, epoch: int) -> dict[str, Any]:
        """Every ``measure_staleness_every`` epochs the true staleness of the histories against
        exact embeddings (:func:`~visagnn.true_staleness.measure_staleness`), then the policy's
        fields."""
        every = self.config.measure_staleness_every
        record: dict[str, Any] = {}
        if every and epoch % every == 0:
            exact = self.exact_embeddings()
            record.update(measure_staleness(self.model.histories, exact[:-1],
                                            self.clock.iteration))
        return {**record, **self.policy.epoch_extras()}
