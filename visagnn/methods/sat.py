"""SAT (Bai et al., 2023, "Staleness-Alleviated Distributed GNN Training via Online
Dynamic-Embedding Prediction"): halo rows predicted from each cached row's recent history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph.batch import SubgraphBatch
from visagnn.history.clock import Clock
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import History
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.optim import reduce_gradients
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import Backbone, LayerInput
from visagnn.utils.distributed import current_world


@dataclass(frozen=True)
class SATOptions:
    """The window of past rows SAT's predictors read, their learning rate, and whether the
    halo rows are their predictions."""

    window: int = field(default=3, metadata={
        "help": "W: rows per node and layer the predictor reads, the newest W pushes (W x D "
                "floats per node and layer, W - 1 of them besides the layer's history)"})
    predictor_lr: float = field(default=1e-3, metadata={
        "help": "Adam learning rate of the per-layer predictors, trained online on every "
                "step's pushes"})
    predict: bool = field(default=True, metadata={
        "help": "halo rows are the predictors' output; --no-predict reads them as GAS does "
                "(the windows and predictors are still kept and trained)"})

    def __post_init__(self) -> None:
        if self.window < 2:
            raise ValueError(f"SATOptions.window must be >= 2, got {self.window}")
        if not self.predictor_lr > 0:
            raise ValueError(f"SATOptions.predictor_lr must be > 0, got {self.predictor_lr}")


class WindowPredictor:
    r"""One layer's predictor of a row's next pushed value from its last :math:`W` pushes.

    .. math::
        \hat h_j^{(t+1)} = \sum_{k=0}^{W-1} a_k\, h_j^{(t-k)} + b,
        \qquad a \in \mathbb{R}^W,\ b \in \mathbb{R}^D

    one weight per lag shared by every node and channel, and a bias per channel. It starts as
    linear extrapolation, :math:`a = (2, -1, 0, \dots)`, :math:`b = 0`
    (:math:`\hat h^{(t+1)} = h^{(t)} + (h^{(t)} - h^{(t-1)})`), which is exact on a row that
    moves by the same step between pushes, and equals :math:`h^{(t)}` on a constant window
    (e.g. right after an exact refresh). :meth:`fit` takes one Adam step on the mean squared
    error of (window, next pushed row) pairs.

    Args:
        window: :math:`W \ge 2`.
        dim: :math:`D`.
        lr: Adam's learning rate.
        device: where the parameters are.
    """

    def __init__(self, window: int, dim: int, lr: float, device: torch.device) -> None:
        lags = torch.zeros(window, device=device)
        lags[:2] = torch.tensor([2.0, -1.0])
        self.lags = lags.requires_grad_()
        self.bias = torch.zeros(dim, device=device, requires_grad=True)
        self.optimizer = torch.optim.Adam([self.lags, self.bias], lr=lr)

    def __call__(self, rows: Tensor) -> Tensor:
        """The prediction from ``rows`` ``[W, n, D]``, the newest first."""
        return torch.einsum("k,knd->nd", self.lags, rows) + self.bias

    def fit(self, rows: Tensor, target: Tensor) -> float:
        """One step on the pairs ``rows`` ``[W, n, D]`` → ``target`` ``[n, D]`` (both
        detached); returns the squared error before it (mean over rows and channels)."""
        with torch.enable_grad():
            loss = F.mse_loss(self(rows.detach()), target.detach())
            self.optimizer.zero_grad()
            loss.backward()
        if current_world().is_distributed:  # one predictor on every rank, as the model
            reduce_gradients([self.lags, self.bias])
        self.optimizer.step()
        return loss.item()


class SATHalo(HaloPolicy):
    r"""GAS whose halo rows are predicted from their last pushes by a per-layer
    :class:`WindowPredictor` trained online (SAT).

    **Window.** For each hidden layer the newest row of node :math:`j` is the layer's history
    :math:`\tilde h_j`; :attr:`windows` holds the :math:`W - 1` rows pushed before it, newest
    first, as histories of the same storage (so the run summary's ``histories_mb`` counts
    them: :meth:`own_histories`). SAT's extra memory is therefore :math:`(W - 1) \cdot D` rows
    (plus :class:`History`'s 13 bytes of per-node state per window slot) per node and layer,
    :math:`W \cdot D` with the layer's history. Before a step's fresh rows overwrite their
    history (:meth:`before_push`), every in-batch node's window moves back by one. An exact
    refresh (the fill before training, every evaluation's refresh) writes the exact rows into
    every slot: exact rows are eval-mode rows, and their difference from the train-mode
    (dropout) rows pushed before them is noise, not movement, so a window starts afresh; our
    choice.

    **Online training, alternating with the GNN.** In each step, as soon as layer :math:`l`'s
    in-batch rows are pushed, predictor :math:`l` takes one Adam step (:meth:`WindowPredictor.fit`)
    on the pairs (the in-batch nodes' windows before the push → the rows just pushed), on
    detached tensors, so the GNN's gradient is untouched; then it predicts the halo rows the
    next layer reads, without gradient, as the raw rows of GAS are read. The predictions are
    not written into the histories: a window holds computed rows only.

    **What the paper leaves open, and what we chose.** SAT models the embeddings' evolution as
    a temporal graph and predicts with a temporal-graph model; we read the paper's text only
    (its abstract and introduction; the released code, a single-process GAS fork, was not
    read) and chose the simplest predictor that can represent linear extrapolation, linear in
    the window (:class:`WindowPredictor`), per layer and shared by all nodes, with no message
    passing between windows. It predicts the *next pushed* row, one push ahead: in one process
    a halo row is read between two pushes of its node, so one push ahead is the nearest target
    that training pairs exist for.

    Args:
        window: :math:`W \ge 2`.
        lr: the predictors' Adam learning rate.
        predict: whether halo rows are the predictions (``False``: GAS's rows, while the
            windows and predictors are still kept and trained).
    """

    def __init__(self, window: int, lr: float, predict: bool = True) -> None:
        self.window = window
        self.lr = lr
        self.predict = predict
        self.windows: list[list[History]] = []
        self.predictors: list[WindowPredictor] = []
        self.before: list[Tensor | None] = []
        self.errors: list[list[float]] = []

    def attach(self, backbone: Backbone, histories: list[History]) -> None:
        super().attach(backbone, histories)
        self.windows = [[History(h.num_nodes, h.dim, h.device, h.storage, placement=h.placement)
                         for _ in range(self.window - 1)] for h in histories]
        self.predictors = [WindowPredictor(self.window, h.dim, self.lr, h.device)
                           for h in histories]
        self.before = [None] * len(histories)
        self.errors = [[] for _ in histories]

    def rows(self, index: int, nodes: Tensor, host_nodes: Tensor | None) -> Tensor:
        """The window ``[W, n, D]`` of ``nodes`` at layer ``index``, the newest row first."""
        stored = [self.histories[index], *self.windows[index]]
        return torch.stack([history.pull(nodes, host_nodes) for history in stored])

    def before_push(self, index: int, batch: SubgraphBatch) -> None:
        """Keep the in-batch nodes' windows for :meth:`next_input`'s fit, then move them back by
        one: slot ``k`` takes slot ``k - 1``'s rows, slot 0 the history's."""
        nodes, host = batch.batch_nodes, batch.host_batch_nodes
        rows = self.rows(index, nodes, host)
        self.before[index] = rows
        for slot, older in zip(self.windows[index], rows[:-1], strict=True):
            slot.push(nodes, older, -1, host)

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        before, self.before[index] = self.before[index], None
        predictor = self.predictors[index]
        if before is not None and fresh.size(0):
            self.errors[index].append(predictor.fit(before, fresh))
        if self.predict:
            with torch.no_grad():
                halo = predictor(self.rows(index, batch.halo_nodes, batch.host_halo_nodes))
        else:
            halo = self.histories[index].pull(batch.halo_nodes, batch.host_halo_nodes)
        return LayerInput(torch.cat([fresh, halo]), batch.edge_index, batch.n_id,
                          batch.batch_size)

    def after_refresh(self, exact: list[Tensor], clock: Clock) -> None:
        """Every window slot takes the exact rows: each window starts afresh."""
        for slots, rows in zip(self.windows, exact[:-1], strict=True):
            for slot in slots:
                slot.refresh(rows, clock.iteration)

    def own_histories(self) -> list[History]:
        return [slot for slots in self.windows for slot in slots]

    def begin_epoch(self) -> None:
        self.errors = [[] for _ in self.histories]

    def epoch_extras(self) -> dict[str, Any]:
        """Per layer, the predictor's mean squared error on the epoch's pushes (before each of
        its steps)."""
        return {f"predictor_mse_l{index}": sum(errors) / len(errors)
                for index, errors in enumerate(self.errors) if errors}


@register_method
class SAT(HistoricalMethod):
    """SAT: GAS with :class:`SATHalo`; same batches, loop and exact evaluation. A step's rows
    must be its own training rows (``push_rows="train"``): the windows move when they are
    pushed."""

    name = "sat"
    options_class = SATOptions

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: Any) -> None:
        if config.push_rows != "train":
            raise ValueError(f"--method sat needs --push-rows train, got {config.push_rows}")
        super().__init__(dataset, config, options)

    def build_policy(self) -> SATHalo:
        return SATHalo(self.options.window, self.options.predictor_lr, self.options.predict)
