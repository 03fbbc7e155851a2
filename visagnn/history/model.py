"""A backbone run in the historical-embedding scheme of GNNAutoScale (Fey et al., 2021)."""

from __future__ import annotations

from typing import Literal, get_args

import torch
from torch import Tensor, nn

from visagnn.graph.batch import SubgraphBatch
from visagnn.history.clock import Clock
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import History
from visagnn.nn.backbone import Backbone, LayerInput

PushRows = Literal["train", "clean", "none"]
PUSH_ROWS: tuple[PushRows, ...] = get_args(PushRows)


class HistoricalModel(nn.Module):
    r"""Mini-batch forward with historical embeddings for the halo (eq. 4 of the VISAGNN paper).

    .. math::
        h_i^{(l+1)} = g^{(l+1)}_\theta\big(h_i^{(l)},\ [h_j^{(l)}]_{j \in \mathcal{N}(i) \cap B}
        \cup [\tilde h_j^{(l)}]_{j \in \mathcal{N}(i) \setminus B}\big),
        \qquad \tilde h_i^{(l+1)} \leftarrow h_i^{(l+1)}\ \ (i \in B)

    Layer 0 reads exact features for the batch and its halo. After every hidden layer the
    in-batch rows are pushed to that layer's :class:`~visagnn.history.store.History` (the policy
    sees the rows they replace first, :meth:`HaloPolicy.before_push`), then the policy builds
    the next layer's input from the fresh rows and the halo (and where it moves the halo rows,
    :attr:`HaloPolicy.writes_halo`, they are pushed too); in the backward pass their gradient
    norms :math:`\lVert \partial L / \partial h_i \rVert` are recorded in the history (as
    :meth:`HaloPolicy.recorded_grad_norm` gives them) and then shown to the policy
    (:meth:`HaloPolicy.after_backward`), in that order.

    The model is the only writer of its histories: the steps above, the exact rows of every
    node (:meth:`fill_histories`, :meth:`refresh_histories`) and of a batch's halo
    (:meth:`write_halo`). A policy reads them and returns what is to be written.

    What is pushed (``push_rows``): ``"train"`` (GAS) pushes the rows of the training forward,
    dropout noise included; ``"clean"`` pushes the rows of a second, gradient-free forward of
    the batch in eval mode over the same inputs (the rows exact inference would give with these
    halo rows), at the cost of that forward; ``"none"`` pushes nothing, so only exact refreshes
    (e.g. at every evaluation) write the histories.

    Args:
        backbone: the message-passing layers.
        histories: one history per hidden layer (``backbone.hidden_dims`` wide).
        halo_policy: how halo rows enter a layer (:class:`HaloPolicy`: GAS).
        push_rows: ``"train"`` (default), ``"clean"`` or ``"none"``.
    """

    def __init__(
        self, backbone: Backbone, histories: list[History], halo_policy: HaloPolicy,
        push_rows: PushRows = "train",
    ) -> None:
        super().__init__()
        dims = [history.dim for history in histories]
        if dims != backbone.hidden_dims:
            raise ValueError(f"histories of widths {dims} for hidden layers of widths "
                             f"{backbone.hidden_dims}")
        if push_rows not in PUSH_ROWS:
            raise ValueError(f"push_rows must be one of {PUSH_ROWS}, got {push_rows!r}")
        self.backbone = backbone
        self.histories = histories
        self.halo_policy = halo_policy
        self.push_rows = push_rows
        halo_policy.attach(backbone, histories)

    @property
    def num_layers(self) -> int:
        return self.backbone.num_layers

    def forward(self, x: Tensor, batch: SubgraphBatch, clock: Clock) -> Tensor:
        """Output rows of the in-batch nodes; ``x`` holds the features of ``batch.n_id``."""
        if self.push_rows == "clean":
            self.push_clean_rows(x, batch, clock)
        inp = LayerInput(x, batch.edge_index, batch.n_id, batch.batch_size)
        for index in range(self.num_layers):
            out = self.backbone.layer(index, inp)[: batch.batch_size]
            if index == self.num_layers - 1:
                return out
            self.halo_policy.before_push(index, batch)
            if self.push_rows == "train":
                self.histories[index].push(batch.batch_nodes, out, clock.iteration,
                                           batch.host_batch_nodes)
            self.capture_grad_norm(index, batch.batch_nodes, out)
            inp = self.halo_policy.next_input(index, inp, out, batch, clock)
            if self.halo_policy.writes_halo:
                self.histories[index].push(batch.halo_nodes, inp.x[batch.batch_size :],
                                           clock.iteration, batch.host_halo_nodes)
        raise AssertionError("unreachable: a backbone has at least one layer")

    @torch.no_grad()
    def push_clean_rows(self, x: Tensor, batch: SubgraphBatch, clock: Clock) -> None:
        """Push the batch's hidden rows of an eval-mode forward whose halo rows are read as
        they are (no policy, so no policy state changes)."""
        training = self.backbone.training
        self.backbone.eval()
        inp = LayerInput(x, batch.edge_index, batch.n_id, batch.batch_size)
        for index, history in enumerate(self.histories):
            out = self.backbone.layer(index, inp)[: batch.batch_size]
            history.push(batch.batch_nodes, out, clock.iteration, batch.host_batch_nodes)
            halo = history.pull(batch.halo_nodes, batch.host_halo_nodes)
            inp = LayerInput(torch.cat([out, halo]), batch.edge_index, batch.n_id,
                             batch.batch_size)
        self.backbone.train(training)

    def capture_grad_norm(self, index: int, nodes: Tensor, fresh: Tensor) -> None:
        """In the backward pass: record ``‖∂L/∂h_i‖`` of the ``fresh`` rows of ``nodes`` in
        history ``index`` (as the policy's :meth:`HaloPolicy.recorded_grad_norm`), then show
        them to the policy."""
        if not fresh.requires_grad:
            return

        def record(grad: Tensor) -> None:
            norms = grad.detach().norm(dim=-1)
            recorded = self.halo_policy.recorded_grad_norm(index, norms)
            self.histories[index].record_grad_norm(nodes, recorded)
            self.halo_policy.after_backward(index, nodes, norms)

        fresh.register_hook(record)

    def fill_histories(self, exact: list[Tensor], clock: Clock) -> None:
        """Start every history afresh (:meth:`History.fill`, iteration 0) from the exact
        embeddings ``exact`` (every layer's of all nodes, the logits last), then show them to
        the policy."""
        for history, rows in zip(self.histories, exact[:-1], strict=True):
            history.fill(rows, iteration=0)
        self.halo_policy.after_refresh(exact, clock)

    def refresh_histories(self, exact: list[Tensor], clock: Clock) -> None:
        """Write the exact embeddings ``exact`` (every layer's, the logits last) into every
        history at ``clock``'s iteration (:meth:`History.refresh`), then show them to the
        policy."""
        for history, rows in zip(self.histories, exact[:-1], strict=True):
            history.refresh(rows, clock.iteration)
        self.halo_policy.after_refresh(exact, clock)

    def end_step(self) -> None:
        """At the end of a lockstep step, every history's :meth:`History.end_step` (the
        layers', then the policy's own), in the same order on every rank."""
        for history in [*self.histories, *self.halo_policy.own_histories()]:
            history.end_step()

    def write_halo(self, halo: Tensor, rows: list[Tensor], clock: Clock) -> None:
        """Push ``rows`` (one ``[len(halo), D_l]`` tensor per history) as the rows of the nodes
        ``halo`` at ``clock``'s iteration."""
        for history, values in zip(self.histories, rows, strict=True):
            history.push(halo, values, clock.iteration)
