import os

import torch
import torch.distributed as dist

from tests.ranks import run_ranks
from visagnn.utils.distributed import (
    SINGLE_PROCESS,
    World,
    backend_for,
    current_world,
    join_world,
    launched_by_torchrun,
    local_device,
)


def test_the_backend_follows_the_device():
    assert backend_for(torch.device("cpu")) == "gloo"
    assert backend_for(torch.device("cuda", 0)) == "nccl"


def test_outside_torchrun_a_run_is_one_process(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert not launched_by_torchrun()
    assert join_world(torch.device("cpu")) == SINGLE_PROCESS
    assert not dist.is_initialized()
    assert SINGLE_PROCESS.is_main and not SINGLE_PROCESS.is_distributed


def test_a_cuda_rank_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert local_device(torch.device("cuda")) == torch.device("cuda", 3)
    assert local_device(torch.device("cuda", 1)) == torch.device("cuda", 1)
    assert local_device(torch.device("cpu")) == torch.device("cpu")


def _world_and_sum(rank: int, world_size: int) -> tuple[World, float]:
    total = torch.tensor([float(rank + 1)])
    dist.all_reduce(total)
    return current_world(), float(total)


def test_two_gloo_ranks_join_one_group():
    results = run_ranks(_world_and_sum, 2)
    assert [world for world, _ in results] == [World(0, 2, "gloo"), World(1, 2, "gloo")]
    assert [total for _, total in results] == [3.0, 3.0]
    assert "RANK" not in os.environ
