"""What lets a test see which history rows a forward reads."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from visagnn.history.store import History


def count_pulled_rows(histories: list[History]) -> list[int]:
    """From now on, every history of ``histories`` counts the rows it pulls: the returned list
    holds the counts, one per history, as they grow."""
    counts = [0] * len(histories)

    def counting(index: int, pull: Callable[..., Tensor]) -> Callable[..., Tensor]:
        def pull_counted(n_id: Tensor, host_n_id: Tensor | None = None) -> Tensor:
            counts[index] += n_id.numel()
            return pull(n_id, host_n_id)
        return pull_counted

    for index, history in enumerate(histories):
        history.pull = counting(index, history.pull)
    return counts
