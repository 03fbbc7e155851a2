"""The oracle's check, shared by every method that claims exact halo rows at each step."""

from __future__ import annotations

import torch

from visagnn.methods.historical_method import HistoricalMethod


def assert_exact_halo_rows_at_every_step(method: HistoricalMethod, epochs: int = 2) -> None:
    """Train ``method`` (prepared) for ``epochs`` epochs, checking before every step's forward
    pass that the halo rows it reads equal the exact embeddings of the current weights (1e-5),
    with persistence 0."""
    forward = method.model.forward
    checked = []

    def check_then_forward(x, batch, clock):
        exact = method.exact_embeddings()
        method.model.train()
        halo = batch.halo_nodes.cpu()
        for history, rows in zip(method.model.histories, exact[:-1], strict=True):
            assert torch.allclose(history.pull(halo), rows[halo], atol=1e-5)
            assert history.persistence(clock.iteration, halo).eq(0).all()
        checked.append(clock.iteration)
        return forward(x, batch, clock)

    method.model.forward = check_then_forward
    for epoch in range(1, epochs + 1):
        method.train_epoch(epoch)
    assert checked == list(range(1, method.clock.iteration + 1)) and len(checked) > 4
