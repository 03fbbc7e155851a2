"""Run a test body on several ``gloo`` ranks on 127.0.0.1, as ``torchrun`` would start them."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rank_main(rank: int, world_size: int, port: int, body: Callable[..., Any],
               args: tuple[Any, ...], results: Any) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1")
    import torch

    from visagnn.utils.distributed import join_world, leave_world

    torch.set_num_threads(1)
    join_world(torch.device("cpu"))
    try:
        results[rank] = body(rank, world_size, *args)
    finally:
        leave_world()


def run_ranks(body: Callable[..., Any], world_size: int = 2, *args: Any) -> list[Any]:
    """``body(rank, world_size, *args)`` in ``world_size`` spawned processes joined in one
    ``gloo`` group (the ``torchrun`` environment); their return values by rank. ``body`` must be
    a module-level function (it is pickled) and its return value picklable."""
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(_rank_main, args=(world_size, free_port(), body, args, results),
                 nprocs=world_size, join=True)
        return [results[rank] for rank in range(world_size)]
