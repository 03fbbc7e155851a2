import sys

import pytest
import torch

from visagnn.memory import PeakMemory, available_memory_mb


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_allocation_shows_in_the_peak_and_in_what_was_added():
    memory = PeakMemory(torch.device("cpu"))
    memory.reset()
    before = memory.added_mb()
    block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
    assert float(block.sum()) == block.numel()
    assert memory.added_mb() >= before + 60
    assert memory.peak_mb() >= memory.baseline_mb + 60
    del block
    memory.reset()
    assert memory.added_mb() < 60  # the peak starts again from what is resident now


def test_available_memory_is_positive_on_cpu():
    assert available_memory_mb(torch.device("cpu")) > 0
