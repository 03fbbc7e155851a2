"""Training with historical embeddings for the halo (GAS and the methods built on it)."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from visagnn.graph.batch import SubgraphBatch
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.sharded import EXCHANGED, RowOwners
from visagnn.history.store import HistoryStorage, layer_histories
from visagnn.history.true_staleness import measure_staleness
from visagnn.methods.optim import optimizer_step
from visagnn.methods.partition_batches import PartitionBatchMethod
from visagnn.nn.inference import exact_rows
from visagnn.sampling.neighbor import neighbourhood_blocks


class HistoricalMethod(PartitionBatchMethod):
    """METIS mini-batches with a halo read from per-layer histories (GNNAutoScale's scheme).

    Before the first epoch the histories are filled with exact embeddings. Each step runs
    :class:`~visagnn.history.model.HistoricalModel` with the method's halo policy
    (:meth:`build_policy`; GAS's by default) and minimises the cross-entropy of the batch's
    training nodes, or the policy's own :meth:`~visagnn.history.policy.HaloPolicy.loss`.
    A historical method is a halo policy, its options and a subclass that names them.

    The exact inference of each evaluation also rewrites every history row
    (``refresh_histories``, as the official GAS, GraphFM and LMC codes do: rows of parts without
    training nodes would otherwise keep the untrained model's embeddings for the whole run).
    With ``exact_halo`` every step first rewrites the halo rows it reads with the current
    weights (:meth:`write_exact_halo`): the oracle that no staleness fix can beat.
    """

    setting_families = ("partition", "history")
    model: HistoricalModel

    def build_policy(self) -> HaloPolicy:
        """How halo rows enter each layer (GAS: as they are)."""
        return HaloPolicy()

    def build_model(self) -> HistoricalModel:
        backbone = self.build_backbone()
        policy = self.build_policy()
        track_drift = policy.tracks_drift or self.config.measure_staleness_every > 0
        world = self.world
        owners = (RowOwners.by_parts(self.parted.partition.part_ptr, world)
                  if world.is_distributed else None)
        histories = layer_histories(self.parted.num_nodes, backbone.hidden_dims, self.device,
                                    self.history_storage, track_drift, policy.keeps_velocity,
                                    owners=owners)
        EXCHANGED.reset()
        return HistoricalModel(backbone, histories, policy, self.config.push_rows)

    @property
    def history_storage(self) -> HistoryStorage:
        """Where and in which dtype every history keeps its rows (``--history-storage``,
        ``--history-dtype``)."""
        return HistoryStorage(self.config.history_storage, self.config.history_dtype)

    @property
    def policy(self) -> HaloPolicy:
        return self.model.halo_policy

    def prepare(self) -> None:
        self.model.fill_histories(self.exact_embeddings(), self.clock)
        self.boundary_nodes = self.parted.boundary_nodes()
        self.measurement: dict[str, Any] = {}

    def write_exact_halo(self, batch: SubgraphBatch) -> None:
        """The oracle (``exact_halo``): the batch's halo rows of every history rewritten (at
        the current iteration, so their persistence is 0) with the exact eval-mode embeddings of
        the current weights, computed over the halo's receptive field only
        (:func:`~visagnn.sampling.neighbor.neighbourhood_blocks`), which is what the step reads."""
        halo = batch.halo_nodes.cpu()
        if halo.numel() == 0:
            return
        self.model.eval()
        blocks = neighbourhood_blocks(self.parted.graph, halo, len(self.model.histories))
        self.model.write_halo(halo, exact_rows(self.backbone, self.x, blocks), self.clock)
        self.model.train()

    def train_step(self, batch: SubgraphBatch, train_rows: Tensor, x: Tensor) -> float:
        """One step on the nodes the policy chooses (:meth:`HaloPolicy.step_batch`: the whole
        batch but for MVS-GNN's sample), minimising the policy's loss
        (:meth:`HaloPolicy.loss`); a choice of no node is a step whose loss is 0, so it changes
        nothing.

        Everything the step reads on the host (the labels, the ids that index rows stored on
        the CPU: :attr:`SubgraphBatch.host_n_id`) is taken from the CPU batch before it moves,
        and every copy to the device is non-blocking, so that reading and writing the
        histories never waits for the device. What still does: PyG's attention layers in the
        backbone (``remove_self_loops``, a boolean mask over the edges) and the loss value the
        step returns."""
        batch, train_rows, kept = self.policy.step_batch(batch, train_rows)
        if batch.batch_size == 0:
            return 0.0
        if kept is not None:
            x = x[kept]
        if self.config.exact_halo:
            self.write_exact_halo(batch)
        labels = self.parted.y[batch.batch_nodes[train_rows]].to(self.device, non_blocking=True)
        x = x.to(self.device, non_blocking=True)
        batch = batch.to(self.device, non_blocking=True)
        train_rows = train_rows.to(self.device, non_blocking=True)
        out = self.model(x, batch, self.clock)
        loss = self.policy.loss(out, batch, train_rows, labels, self.clock)
        return optimizer_step(loss, self.model, self.optimizer, self.config.grad_clip)

    def end_step(self) -> None:
        """Deliver the step's pushes to their owners and make the replicated state agree
        (:meth:`HistoricalModel.end_step`)."""
        self.model.end_step()
        EXCHANGED.steps += 1

    def train_epoch(self, epoch: int) -> float:
        self.policy.begin_epoch()
        self.measurement = {}
        return super().train_epoch(epoch)

    def measuring(self, epoch: int) -> bool:
        every = self.config.measure_staleness_every
        return every > 0 and epoch % every == 0

    def measure(self, exact: list[Tensor]) -> dict[str, Any]:
        """The true staleness of the rows read as halo (:func:`measure_staleness`)."""
        return measure_staleness(self.model.histories, exact[:-1], self.clock.iteration,
                                 self.boundary_nodes)

    def predict(self) -> Tensor:
        """Exact logits; on a measuring epoch the staleness is measured first, then (with
        ``refresh_histories``) the histories are rewritten."""
        exact = self.exact_embeddings()
        if self.measuring(self.clock.epoch):
            self.measurement = self.measure(exact)
        if self.config.refresh_histories:
            self.model.refresh_histories(exact, self.clock)
        return self.parted.to_original_order(exact[-1])

    def history_placement(self) -> str:
        """Where the histories are and why (:class:`~visagnn.history.store.StoragePlacement`,
        e.g. ``device (histories 2,431 MiB of 120,000 MiB free)``: ``auto`` chose device
        memory)."""
        histories = self.model.histories
        return str(histories[0].placement) if histories else "none (no hidden layer)"

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """Also every history the model and its policy hold (the layers', LMC's gradients and
        logits, VISAGNN's previous logits) with its per-node state."""
        held = super().memory_tensors()
        histories = [*self.model.histories, *self.policy.own_histories()]
        held["histories"] += [tensor for history in histories for tensor in history.tensors()]
        return held

    def epoch_extras(self, epoch: int) -> dict[str, Any]:
        """Every ``measure_staleness_every`` epochs the true staleness of the halo rows against
        exact embeddings (measured before the evaluation refreshed them, or now on an epoch
        without evaluation), then the policy's fields."""
        if self.measuring(epoch) and not self.measurement:
            self.measurement = self.measure(self.exact_embeddings())
        return {**self.measurement, **self.policy.epoch_extras()}
