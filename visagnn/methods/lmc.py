"""LMC (Shi et al., ICLR 2023): local message compensation in the forward and backward passes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from visagnn.graph.batch import SubgraphBatch
from visagnn.graph.csr import CSRGraph
from visagnn.history.clock import Clock
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import DEFAULT_STORAGE, History
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import Backbone, LayerInput

Score = Literal["linear", "const", "concave", "convex", "sin"]
SCORES: tuple[Score, ...] = get_args(Score)

SCORE_FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": lambda alpha: alpha,
    "const": torch.ones_like,
    "concave": lambda alpha: alpha * (2 - alpha),
    "convex": lambda alpha: alpha * alpha,
    "sin": lambda alpha: torch.sin((alpha - 0.5) * math.pi),
}
r"""LMC's score functions :math:`\mathrm{score}(\alpha_j)` of a halo node's share of neighbours
in the subgraph, by their names in LMC's code (``pyg_autoscale/score_func.py``): ``linear``
:math:`\alpha`, ``const`` :math:`1`, ``concave`` :math:`\alpha(2 - \alpha)`, ``convex``
:math:`\alpha^2`, ``sin`` :math:`\sin((\alpha - \tfrac12)\pi)` (negative below
:math:`\alpha = \tfrac12`, as there)."""


@dataclass(frozen=True)
class LMCOptions:
    """β and the score function of LMC's compensations; defaults as in LMC's configurations
    (``conf_large/model/gcn.yaml``, ``gcn2.yaml``: β = 1 everywhere, ``linear`` everywhere but
    ogbn-arxiv, where both models use ``const``); ``score=None`` takes the dataset's value
    (:mod:`visagnn.defaults`)."""

    beta: float = field(default=1.0, metadata={
        "help": "β: a halo node's up-to-date share is β·score(α_j) (α_j: share of its "
                "neighbours in the subgraph); 0 reads the histories as GAS"})
    score: Score | None = field(default=None, metadata={
        "help": "score(α_j): linear α, const 1, concave α(2-α), convex α², sin sin((α-½)π) "
                "(default: const on ogbn-arxiv, linear elsewhere, as LMC's configs)"})

    def __post_init__(self) -> None:
        if not 0 <= self.beta <= 1:
            raise ValueError(f"LMCOptions.beta must be in [0, 1], got {self.beta}")
        if self.score is not None and self.score not in SCORES:
            raise ValueError(f"LMCOptions.score must be one of {SCORES}, got {self.score!r}")


class _LayerCall(nn.Module):
    """``backbone.layer`` as a module's forward, so that it can run with swapped parameters."""

    def __init__(self, backbone: Backbone) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, index: int, inp: LayerInput) -> Tensor:
        return self.backbone.layer(index, inp)


class LMCHalo(HaloPolicy):
    r"""LMC's compensated halo embeddings forward, compensated halo gradients backward, and its
    loss over the training nodes of the whole subgraph.

    **Forward.** For every layer the halo rows are LMC's compensated embeddings

    .. math::
        h_j^{(l+1)} = h_j^{inc} + (1 - \lambda_j)\big(\tilde h_j^{(l+1)} -
        \mathrm{sg}(h_j^{inc})\big), \qquad
        \lambda_j = \begin{cases} 1 & \alpha_j = 1 \\ \beta\, \mathrm{score}(\alpha_j) &
        \alpha_j < 1 \end{cases}

    where :math:`h_j^{inc} = g_\theta^{(l+1)}(h_j^{(l)}, \{h_k^{(l)}\}_{k \in \mathcal{N}(j)
    \cap S})` is the *incomplete up-to-date* embedding, layer :math:`l` applied to :math:`j` with
    only its neighbours in the subgraph :math:`S` = batch plus halo (rows of layer :math:`l`'s
    input: fresh in-batch rows, compensated halo rows), :math:`\alpha_j` the share of its
    neighbours in :math:`S` (:meth:`SubgraphBatch.halo_neighbourhood`), ``score`` one of
    :data:`SCORE_FUNCTIONS`, :math:`\tilde h_j` its history and ``sg`` stop-gradient: the value
    is :math:`\lambda_j h^{inc} + (1 - \lambda_j) \tilde h`, the gradient flows through
    :math:`h^{inc}` only. Halo nodes with a complete neighbourhood are computed exactly and
    their history is not read, as in LMC's code. As in LMC's code (its ``MaskGCNConv``),
    :math:`h^{inc}` is computed with the layer's parameters detached: the parameter gradient
    of a layer sums over in-batch nodes only, the halo rows only carry backward messages.

    The last layer's halo rows are compensated the same way, with a history of the outputs
    (:attr:`output_history`, LMC's ``emb_histories_final``); the model returns only in-batch
    rows, so :meth:`loss` computes them from the last hidden layer's input that
    :meth:`next_input` kept for the batch.

    **Backward.** Each hidden layer also has a history of gradients :math:`\bar V_j^{(l+1)}`: the
    backward pass pushes the in-batch rows' gradients :math:`V_i = \partial L / \partial
    h_i^{(l+1)}` and replaces the halo rows' incomplete gradients by

    .. math::
        V_j \leftarrow \lambda_j V_j + (1 - \lambda_j) \bar V_j

    before they flow into :math:`h_j^{inc}`. The output layer has no gradient history: a halo
    output row's gradient is the loss's own. LMC's code divides the gradients by the number of
    batches before storing and multiplies them back after mixing; with fixed batches that factor
    is constant and cancels, so the raw gradients of the batch loss are stored.

    **Loss.** As LMC's training loop (``main_large.py``, ``mini_train``), the loss of a batch
    covers the training nodes :math:`T` among all rows of the subgraph :math:`S`, halo included
    (through their compensated outputs :math:`\hat y_j`), scaled by their share of all
    :math:`|T_V|` training nodes times the number of batches :math:`K` of an epoch:

    .. math::
        L_B = \frac{|S \cap T|}{|T_V|}\, K \cdot
        \frac{1}{|S \cap T|} \sum_{i \in S \cap T} \mathrm{CE}(\hat y_i, y_i)
        = \frac{K}{|T_V|} \sum_{i \in S \cap T} \mathrm{CE}(\hat y_i, y_i)

    (the mean over an epoch's :math:`K` batches of the in-batch part is the full-graph mean
    loss). The model's loss is this, not the in-batch mean of :class:`HistoricalMethod`, so a
    batch's record ``loss`` is on this scale. A backbone with no hidden layer keeps no input for
    the last layer, and its loss covers the in-batch rows only.

    The neighbourhood of each batch is computed once and cached by its parts: LMC's batches are
    fixed groups of parts, and LMC's code pre-processes their subgraphs the same way.

    Args:
        graph: the (partition-ordered) graph, whose edges into the halo LMC needs.
        labels: every node's class (partition order).
        train_mask: every node's membership of the training set (partition order).
        num_classes: width of the outputs (of :attr:`output_history`).
        num_batches: :math:`K`, the batches of an epoch (default 1).
        beta: :math:`\beta \in [0, 1]` (default 1; 0 reads histories as GAS does for every
            incomplete halo node).
        score: the score function of :math:`\alpha_j` (default ``"linear"``).
    """

    def __init__(
        self,
        graph: CSRGraph,
        labels: Tensor,
        train_mask: Tensor,
        num_classes: int,
        num_batches: int = 1,
        beta: float = 1.0,
        score: Score = "linear",
    ) -> None:
        self.graph = graph
        self.labels = labels
        self.train_mask = train_mask
        self.num_classes = num_classes
        self.loss_scale = num_batches / max(int(train_mask.sum()), 1)
        self.beta = beta
        self.score = SCORE_FUNCTIONS[score]
        self.grad_histories: list[History] = []
        self._neighbourhoods: dict[tuple[int, ...], tuple[Tensor, Tensor]] = {}
        self._last_input: tuple[SubgraphBatch, LayerInput] | None = None

    def attach(self, backbone: Backbone, histories: list[History]) -> None:
        super().attach(backbone, histories)
        self.grad_histories = [history.empty_like() for history in histories]
        num_nodes = self.labels.numel()
        device = histories[0].device if histories else torch.device("cpu")
        storage = histories[0].storage if histories else DEFAULT_STORAGE
        self.output_history = History(num_nodes, self.num_classes, device, storage)

    def own_histories(self) -> list[History]:
        return [*self.grad_histories, self.output_history]

    def neighbourhood(self, batch: SubgraphBatch) -> tuple[Tensor, Tensor]:
        """``batch.halo_neighbourhood`` on ``batch``'s device, cached by its parts."""
        key = tuple(batch.parts.tolist())
        if key not in self._neighbourhoods:
            device = batch.n_id.device
            edge_index, alpha = batch.halo_neighbourhood(self.graph)
            self._neighbourhoods[key] = (edge_index.to(device), alpha.to(device))
        return self._neighbourhoods[key]

    def mixing_weight(self, alpha: Tensor) -> Tensor:
        r""":math:`\lambda_j`: 1 for complete neighbourhoods, :math:`\beta\,
        \mathrm{score}(\alpha_j)` otherwise."""
        return torch.where(alpha < 1, self.beta * self.score(alpha), torch.ones_like(alpha))

    def incomplete_embeddings(
        self, index: int, inp: LayerInput, halo_edge_index: Tensor, batch_size: int
    ) -> Tensor:
        """Layer ``index``'s halo rows from the subgraph's neighbours, parameters detached."""
        halo_input = LayerInput(inp.x, halo_edge_index, inp.n_id, inp.x.size(0))
        detached = {f"backbone.{name}": p.detach() for name, p in self.backbone.named_parameters()}
        rows = torch.func.functional_call(_LayerCall(self.backbone), detached, (index, halo_input))
        return rows[batch_size:]

    def compensated_halo(
        self, index: int, inp: LayerInput, batch: SubgraphBatch, history: History
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Layer ``index``'s compensated halo rows from its input ``inp`` and the ``history`` of
        its outputs; also the positions of the incomplete halo rows and their :math:`\\lambda`."""
        halo_edge_index, alpha = self.neighbourhood(batch)
        incomplete = self.incomplete_embeddings(index, inp, halo_edge_index, batch.batch_size)
        weight = self.mixing_weight(alpha)
        stale = (alpha < 1).nonzero().flatten()
        up_to_date = incomplete[stale]
        compensated = up_to_date + (1 - weight[stale]).unsqueeze(-1) * (
            history.pull(batch.halo_nodes[stale]) - up_to_date.detach()
        )
        return incomplete.index_put((stale,), compensated), stale, weight[stale]

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        halo, stale, weight = self.compensated_halo(index, inp, batch, self.histories[index])
        rows = torch.cat([fresh, halo])
        self.compensate_backward(index, rows, batch, stale, weight, clock.iteration)
        next_inp = LayerInput(rows, batch.edge_index, batch.n_id, batch.batch_size)
        if index == len(self.histories) - 1:
            self._last_input = (batch, next_inp)
        return next_inp

    def compensate_backward(
        self,
        index: int,
        rows: Tensor,
        batch: SubgraphBatch,
        stale: Tensor,
        weight: Tensor,
        iteration: int,
    ) -> None:
        """Push the in-batch rows' gradients; mix the ``stale`` halo rows' with their history."""
        if not rows.requires_grad:
            return
        grad_history = self.grad_histories[index]
        batch_size = batch.batch_size
        stale_nodes, stale_rows = batch.halo_nodes[stale], stale + batch_size
        weight = weight.unsqueeze(-1)

        def compensate(grad: Tensor) -> Tensor:
            grad_history.push(batch.batch_nodes, grad[:batch_size], iteration)
            mixed = grad.clone()
            mixed[stale_rows] = weight * grad[stale_rows] + (1 - weight) * grad_history.pull(
                stale_nodes
            )
            return mixed

        rows.register_hook(compensate)

    def subgraph_outputs(self, out: Tensor, batch: SubgraphBatch, clock: Clock) -> Tensor:
        """The outputs of every row of the subgraph: ``out`` (the in-batch rows, pushed to
        :attr:`output_history`), then the compensated halo rows of the last layer."""
        cached, self._last_input = self._last_input, None
        halo = out.new_empty(0, out.size(1))
        if cached is not None:
            cached_batch, inp = cached
            if cached_batch is not batch:
                raise RuntimeError("LMCHalo.loss: the batch is not the one last forwarded")
            last = self.backbone.num_layers - 1
            halo, _, _ = self.compensated_halo(last, inp, batch, self.output_history)
        self.output_history.push(batch.batch_nodes, out, clock.iteration)
        return torch.cat([out, halo])

    def after_refresh(self, exact: list[Tensor], clock: Clock) -> None:
        """The output history is rewritten with the exact logits too, as LMC's code fills it by
        an inference pass before training and at every evaluation."""
        self.output_history.refresh(exact[-1], clock.iteration)

    def loss(self, out: Tensor, batch: SubgraphBatch, train_rows: Tensor, labels: Tensor,
             clock: Clock) -> Tensor:
        """LMC's loss of the batch whose in-batch outputs are ``out`` (class docstring); the
        training nodes come from the whole subgraph, not only ``train_rows``."""
        outputs = self.subgraph_outputs(out, batch, clock)
        n_id = batch.n_id[: outputs.size(0)].cpu()
        train = self.train_mask[n_id].nonzero().flatten()
        labels = self.labels[n_id[train]].to(out.device)
        total = F.cross_entropy(outputs[train.to(out.device)], labels, reduction="sum")
        return self.loss_scale * total


@register_method
class LMC(HistoricalMethod):
    """LMC: GAS with :class:`LMCHalo`'s compensations and loss, over fixed groups of parts
    visited in a new random order every epoch, as LMC's code merges its clusters once and
    shuffles their order."""

    name = "lmc"
    options_class = LMCOptions
    shuffle_batches = False

    def build_policy(self) -> LMCHalo:
        return LMCHalo(self.parted.graph, self.parted.y, self.parted.train_mask,
                       self.dataset.num_classes, len(self.loader), self.options.beta,
                       self.options.score)

    def trains_on(self, batch: SubgraphBatch, train_rows: Tensor) -> bool:
        """A batch whose training nodes are all in its halo trains too, as LMC's loss covers
        the halo's."""
        return bool(self.train_mask[batch.n_id].any())
