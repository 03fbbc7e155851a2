"""Reused CPU buffers for moving history rows to and from a CUDA device (GNNAutoScale's pool).

A pull gathers the rows into a buffer and copies them to the device; a push copies device rows
into a buffer and scatters them into the store. Allocating pinned memory for every transfer is
slow (``cudaHostAlloc`` synchronises the device), so :class:`StagingBuffer` keeps one buffer and
grows it when a transfer needs more rows. On CUDA the buffer is pinned and the copies run on the
buffer's own stream, so a pull overlaps the work already queued on the compute stream. Without
CUDA the same code runs stream-free and every pull returns a fresh tensor.
"""

from __future__ import annotations

import torch
from torch import Tensor

GROWTH = 1.25
"""A buffer that is too small grows to this many times its size, or to the rows needed."""


class StagingBuffer:
    """A ``[capacity, dim]`` CPU buffer of ``dtype`` reused by every transfer to ``device``.

    Pinned, with its own stream, when ``device`` is a CUDA device; before the buffer is written
    again, the last copy out of it is waited for.

    Args:
        dim: row width.
        dtype: dtype of the rows (the store's).
        device: the compute device.
    """

    def __init__(self, dim: int, dtype: torch.dtype, device: torch.device) -> None:
        self.device = device
        self.on_cuda = device.type == "cuda"
        self.stream = torch.cuda.Stream(device) if self.on_cuda else None
        self.buffer = torch.empty((0, dim), dtype=dtype, pin_memory=self.on_cuda)
        self._copied: torch.cuda.Event | None = None

    @property
    def capacity(self) -> int:
        return self.buffer.size(0)

    def rows(self, count: int) -> Tensor:
        """The buffer's first ``count`` rows, free to write: the last copy out of the buffer is
        done, and the buffer has grown to ``count`` rows at least."""
        if self._copied is not None:
            self._copied.synchronize()
            self._copied = None
        if count > self.capacity:
            capacity = max(count, int(self.capacity * GROWTH))
            self.buffer = torch.empty((capacity, self.buffer.size(1)), dtype=self.buffer.dtype,
                                      pin_memory=self.on_cuda)
        return self.buffer[:count]

    def gather(self, store: Tensor, index: Tensor) -> Tensor:
        """``store[index]`` (``store`` and ``index`` on CPU) on the device, as float32.

        On CUDA the copy is queued on the buffer's stream, which the current stream then waits
        for; the CPU does not wait. Without CUDA it is a copy of the buffer's rows."""
        rows = self.rows(index.numel())
        torch.index_select(store, 0, index, out=rows)
        if self.stream is None:
            return rows.to(torch.float32, copy=True)
        current = torch.cuda.current_stream(self.device)
        with torch.cuda.stream(self.stream):
            out = rows.to(self.device, non_blocking=True)
            self._copied = torch.cuda.Event()
            self._copied.record(self.stream)
        current.wait_stream(self.stream)
        out.record_stream(current)
        return out.to(torch.float32)

    def scatter(self, store: Tensor, index: Tensor, values: Tensor) -> None:
        """``store[index] = values``: device ``values`` through the buffer into the CPU
        ``store`` (its dtype). The copy waits for the work that produced ``values``."""
        rows = self.rows(index.numel())
        if self.stream is None:
            rows.copy_(values)
        else:
            self.stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(self.stream):
                rows.copy_(values.to(rows.dtype), non_blocking=True)
            self.stream.synchronize()
        store[index] = rows
