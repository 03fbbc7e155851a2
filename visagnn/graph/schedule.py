"""Epoch schedules that visit the METIS parts in a weighted random order."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher


def weighted_permutation(weights: Tensor, generator: torch.Generator | None = None) -> Tensor:
    r"""A random permutation of ``range(len(weights))`` drawn without replacement with
    probability proportional to ``weights`` at every draw (Efraimidis and Spirakis, 2006).

    Each item gets the key :math:`k_p = E_p / w_p` with :math:`E_p \sim \mathrm{Exp}(1)`
    i.i.d.; sorting the keys in increasing order picks item :math:`p` first with probability
    :math:`w_p / \sum_q w_q`, and so on among the rest. The keys are i.i.d. when the weights
    are equal, so the permutation is then uniform. Weights must be positive and finite.
    """
    if weights.numel() and not (torch.isfinite(weights).all() and weights.gt(0).all()):
        raise ValueError("weighted_permutation needs positive finite weights")
    exponential = -torch.log1p(-torch.rand(weights.numel(), generator=generator,
                                           dtype=torch.float64))
    return torch.argsort(exponential / weights.to(torch.float64), stable=True)


class WeightedPartitionBatchLoader(PartitionBatchLoader):
    """A shuffled :class:`PartitionBatchLoader` whose epoch order is
    :func:`weighted_permutation` of the weights ``part_weights()`` returns at the start of the
    epoch (one positive weight per part); the parts are then grouped ``batch_parts`` at a time,
    as in the uniform schedule, so an epoch has the same batches count and visits every part
    once. The weights are read once per epoch, before its first batch is built, so a
    prefetching thread reads them before any step of the epoch changes them.
    """

    def __init__(self, batcher: SubgraphBatcher, batch_parts: int,
                 part_weights: Callable[[], Tensor], generator: torch.Generator) -> None:
        super().__init__(batcher, batch_parts, shuffle=True, generator=generator)
        self.part_weights = part_weights

    def part_order(self) -> Tensor:
        weights = self.part_weights()
        if weights.shape != (self.batcher.num_parts,):
            raise ValueError(f"part_weights() must give {self.batcher.num_parts} weights, got "
                             f"shape {tuple(weights.shape)}")
        return weighted_permutation(weights.cpu(), self.generator)
