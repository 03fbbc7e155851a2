"""The CUDA device of the tests that need one (they are skipped where torch sees none), and
what lets the tests of its code paths run without one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch

from visagnn.history import store as history
from visagnn.history.staging import push_thread

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
CUDA = torch.device("cuda")


def stage_transfers_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, histories move their rows through :class:`StagingBuffer` as they do on
    CUDA (stream-free here): buffer reuse and background pushes run without a device."""
    monkeypatch.setattr(history, "stages_transfers", lambda device, storage_device: True)


@contextmanager
def push_thread_held() -> Iterator[threading.Event]:
    """The push thread busy until the block ends or the yielded event is set: scatters queued
    meanwhile wait."""
    gate = threading.Event()
    push_thread().submit(gate.wait)
    try:
        yield gate
    finally:
        gate.set()
