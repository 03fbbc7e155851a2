"""REST (Xue et al., ICML 2025, "Haste Makes Waste"): histories refreshed by forward-only passes
more often than the parameters are updated."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph.batch import SubgraphBatch
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method

SWEEP_SEED_OFFSET = 7919
"""The refresh sweep's generator is seeded with ``seed + SWEEP_SEED_OFFSET``: seeded with
``seed`` itself it would draw the training loader's permutations, and every refresh pass would
cover the very parts its step then trains."""


@dataclass(frozen=True)
class RESTOptions:
    """How often REST's forward-only refresh passes run and how many parts each covers."""

    refresh_every: int = field(default=1, metadata={
        "help": "a forward-only refresh pass before every k-th training step (1: before every "
                "step, so histories are written twice as often as with GAS; 0: never, i.e. GAS)"})
    refresh_parts: int = field(default=0, metadata={
        "help": "METIS parts a refresh pass covers (0: --batch-parts, one batch's worth; "
                "--num-parts: the whole graph, i.e. exact histories before the step)"})

    def __post_init__(self) -> None:
        if self.refresh_every < 0:
            raise ValueError(f"RESTOptions.refresh_every must be >= 0, got {self.refresh_every}")
        if self.refresh_parts < 0:
            raise ValueError(f"RESTOptions.refresh_parts must be >= 0, got {self.refresh_parts}")


@register_method
class REST(HistoricalMethod):
    r"""GAS with forward-only refresh passes between the training steps (REST).

    REST's paper traces the staleness of historical embeddings to the gap between how often the
    parameters change (every step) and how often a node's history is rewritten (once an epoch,
    when its batch is trained), and closes it by decoupling the forward pass from the backward
    pass and running forward passes more often: a forward pass without backward writes the
    histories of its batch at a fraction of a step's cost. Here, before every
    ``refresh_every``-th training step, one refresh pass runs: ``refresh_parts`` METIS parts
    (the next ones of a random sweep over the parts, a new permutation per sweep; a sweep's
    last incomplete group is skipped) form one batch, which runs forward in eval mode without
    gradient, its halo read from the histories as they are, and pushes every hidden layer's
    in-batch rows at the step's iteration (:meth:`HistoricalModel.push_clean_rows`). With
    ``refresh_every=1`` and one batch's parts, histories are written twice per step instead of
    once: two forward passes per backward pass. The sweep draws from its own random
    generator (:data:`SWEEP_SEED_OFFSET`), so the training batches are GAS's: with
    ``refresh_every=0`` the run is GAS's step for step. With ``refresh_parts = num_parts`` the
    pass is an exact full-graph forward, so every step reads exact halo rows (the oracle's).

    Only the paper's abstract and summaries were available to us, not its algorithm: the
    frequency (``refresh_every``), the parts a pass covers and their sweep are our choices.
    REST-IS (the paper's variant that also weighs nodes by importance) is not built, for the
    same reason.
    """

    name = "rest"
    options_class = RESTOptions

    def __init__(self, dataset: GraphDataset, config: RunConfig, options: Any) -> None:
        super().__init__(dataset, config, options)
        parts, num_parts = options.refresh_parts or config.batch_parts, config.num_parts
        if parts > num_parts:
            raise ValueError(f"--refresh-parts must be in [0, --num-parts={num_parts}], got "
                             f"{parts}")
        self.refresh_parts = parts
        self.sweep_generator = torch.Generator().manual_seed(config.seed + SWEEP_SEED_OFFSET)
        self.sweep = torch.empty(0, dtype=torch.long)

    def next_refresh_parts(self) -> Tensor:
        """The next :attr:`refresh_parts` parts of the sweep (sorted), starting a new random
        sweep when fewer remain."""
        if self.sweep.numel() < self.refresh_parts:
            self.sweep = torch.randperm(self.config.num_parts, generator=self.sweep_generator)
        parts, self.sweep = self.sweep[: self.refresh_parts], self.sweep[self.refresh_parts :]
        return torch.sort(parts).values

    def refresh_pass(self) -> None:
        """One forward-only pass over the next parts, pushing their hidden rows."""
        batch = self.loader.batcher.batch(self.next_refresh_parts())
        x = self.feature_rows(batch.n_id).to(self.device, non_blocking=True)
        self.model.push_clean_rows(x, batch.to(self.device), self.clock)

    def train_step(self, batch: SubgraphBatch, train_rows: Tensor, x: Tensor) -> float:
        every = self.options.refresh_every
        if every and self.clock.iteration % every == 0:
            self.refresh_pass()
        return super().train_step(batch, train_rows, x)
