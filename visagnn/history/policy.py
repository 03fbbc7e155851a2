"""How the halo rows of a historical-embedding method enter each layer."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.graph.batch import SubgraphBatch
from visagnn.history.clock import Clock
from visagnn.history.store import History
from visagnn.nn.backbone import Backbone, LayerInput


class HaloPolicy:
    r"""GNNAutoScale's policy: halo rows are read from the histories as they are (eq. 4).

    .. math::
        h^{(l+1)}\text{'s input} = \big[h_B^{(l+1)} \,\Vert\, \tilde h_{\bar B}^{(l+1)}\big]

    :class:`~visagnn.history.model.HistoricalModel` pushes the fresh in-batch rows of
    every hidden layer into its history and asks the policy for the next layer's input. A
    method that treats its halo rows differently (moves, evicts, compensates or re-weights
    them) subclasses this and overrides :meth:`next_input`, and where it needs to, the other
    hooks: :meth:`step_batch` (chooses the nodes a step computes, e.g. MVS-GNN's sample),
    :meth:`after_backward` (sees the in-batch gradient norms), :meth:`after_refresh`
    (sees exact embeddings), :meth:`loss` (the batch's loss: the task's cross-entropy here),
    :meth:`epoch_extras` (adds fields to the epoch's record). The policy owns its state (e.g.
    ReFresh's admission masks, LMC's gradient histories); the model's histories are the model's
    to write: a policy reads them and returns what is written (the halo rows of its next input
    with :attr:`writes_halo`, the norms of :meth:`recorded_grad_norm`).
    """

    writes_halo = False
    """Whether the model pushes the halo rows of :meth:`next_input` into the history they were
    read from (GraphFM's momentum-moved rows), so that they count as a write."""
    tracks_drift = False
    """Whether the policy reads :attr:`History.drift_rate` (the histories then keep it)."""
    keeps_velocity = False
    """Whether it reads :attr:`History.drift_velocity` (the histories then keep it too)."""
    backbone: Backbone
    histories: list[History]

    def attach(self, backbone: Backbone, histories: list[History]) -> None:
        """Called once by the model: the layers and the per-layer histories the policy reads."""
        self.backbone = backbone
        self.histories = histories

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        """Input of layer ``index + 1``: the ``fresh`` in-batch rows of layer ``index``'s output,
        then the halo's rows. ``inp`` is layer ``index``'s own input, which policies that
        compute halo rows from it (GraphFM's momentum, LMC's incomplete embeddings) read.
        History ``index`` already holds ``fresh`` (with ``push_rows="train"``)."""
        halo = self.histories[index].pull(batch.halo_nodes, batch.host_halo_nodes)
        return LayerInput(torch.cat([fresh, halo]), batch.edge_index, batch.n_id,
                          batch.batch_size)

    def before_push(self, index: int, batch: SubgraphBatch) -> None:
        """Called before the step's fresh in-batch rows of layer ``index`` overwrite their rows
        of history ``index`` (VR-GCN reads the rows they replace)."""

    def step_batch(
        self, batch: SubgraphBatch, train_rows: Tensor
    ) -> tuple[SubgraphBatch, Tensor, Tensor | None]:
        """The batch a training step computes, the positions of its training nodes among its
        in-batch nodes, and the positions in ``batch.n_id`` of its ``n_id`` (``None``: the
        same nodes). GAS computes ``batch`` as it is (``train_rows`` index its in-batch
        nodes)."""
        return batch, train_rows, None

    def recorded_grad_norm(self, index: int, grad_norm: Tensor) -> Tensor:
        """The norms history ``index`` records for the in-batch nodes whose ``‖∂L/∂h_i‖`` is
        ``grad_norm`` (GAS: these)."""
        return grad_norm

    def after_backward(self, index: int, nodes: Tensor, grad_norm: Tensor) -> None:
        """Called in the backward pass, after history ``index`` recorded the norms of
        ``grad_norm`` (``‖∂L/∂h_i‖`` of the in-batch ``nodes``)."""

    def after_refresh(self, exact: list[Tensor], clock: Clock) -> None:
        """Called after every history was rewritten with ``exact`` (every layer's exact
        embeddings of all nodes in partition order, the logits last) at ``clock``."""

    def loss(self, out: Tensor, batch: SubgraphBatch, train_rows: Tensor, labels: Tensor,
             clock: Clock) -> Tensor:
        """The loss of the batch whose in-batch output rows are ``out``: the cross-entropy of its
        training nodes (``train_rows`` index ``out``; ``labels`` are theirs)."""
        return F.cross_entropy(out[train_rows], labels)

    def own_histories(self) -> list[History]:
        """The histories the policy keeps besides the model's (e.g. LMC's gradients)."""
        return []

    def begin_epoch(self) -> None:
        """Called before each training epoch (e.g. to reset per-epoch counters)."""

    def epoch_extras(self) -> dict[str, Any]:
        """Fields for the epoch's record (e.g. the share of evicted halo rows)."""
        return {}
