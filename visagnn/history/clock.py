"""The training clock: which optimizer step and which epoch a forward pass belongs to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    """Where training is.

    Args:
        iteration: optimizer steps taken so far, this one included (counts from 1; 0 before
            training). It is the clock of the persistence time ``T_j = iteration - last_push[j]``.
        epoch: the current epoch (counts from 1), the ``t`` of VISAGNN's ``γ(t) = β / t`` and
            the clock of its staleness loss.
    """

    iteration: int = 0
    epoch: int = 1

    def __post_init__(self) -> None:
        if self.iteration < 0:
            raise ValueError(f"Clock.iteration counts from 0, got {self.iteration}")
        if self.epoch < 1:
            raise ValueError(f"Clock.epoch counts from 1, got {self.epoch}")
