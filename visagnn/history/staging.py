"""How history rows move between their store and the compute device (GNNAutoScale's pool).

:class:`DirectTransfers` reads and writes a store the device can index (rows on the device, or
a CPU store with a CPU device). :class:`StagedTransfers` moves the rows of a CPU store to and from
a CUDA device through reused buffers, with the push protocol: a push returns before its rows are
in the store, and a pull waits for it only if it reads one of its rows.

A pull gathers the rows into a buffer and copies them to the device; a push copies device rows
into a buffer and scatters them into the store. Allocating pinned memory for every transfer is
slow (``cudaHostAlloc`` synchronises the device), so :class:`StagingBuffer` keeps one buffer and
grows it when a transfer needs more rows. On CUDA the buffer is pinned and the copies run on the
buffer's own stream, so a pull overlaps the work already queued on the compute stream, and a
push returns at once: the scatter into the store waits for its copy in a background thread
(one for the process, as GNNAutoScale's push thread), so it overlaps what the caller does next
(the halo's pull, the next layer). Without CUDA the same code runs stream-free:
every pull returns a fresh tensor, and a push's scatter still runs in the background thread.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import torch
from torch import Tensor

GROWTH = 1.25
"""A buffer that is too small grows to this many times its size, or to the rows needed."""


@functools.cache
def push_thread() -> ThreadPoolExecutor:
    """The one background thread that scatters pushed rows into their stores, in push order."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="visagnn-push")


def write_rows(store: Tensor, index: Tensor, rows: Tensor, copied: torch.cuda.Event | None
               ) -> None:
    """``store[index] = rows`` once the copy that fills ``rows`` (``copied``, if any) is done."""
    if copied is not None:
        copied.synchronize()
    store[index] = rows


class StagingBuffer:
    """A ``[capacity, dim]`` CPU buffer of ``dtype`` reused by every transfer to ``device``.

    Pinned, with its own stream, when ``device`` is a CUDA device. Before the buffer is written
    again, the last transfer through it is waited for: the copy to the device of a pull, or the
    copy and the scatter of a push (:meth:`wait`).

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
        self._scattered: Future[None] | None = None

    @property
    def capacity(self) -> int:
        return self.buffer.size(0)

    @property
    def scattering(self) -> bool:
        """Whether the last push's scatter may still be writing into its store."""
        return self._scattered is not None and not self._scattered.done()

    def wait(self) -> None:
        """Block until the last transfer through the buffer is done: a pull's copy to the
        device, a push's copy and scatter. An error of the scatter is raised here."""
        if self._copied is not None:
            self._copied.synchronize()
            self._copied = None
        if self._scattered is not None:
            scattered, self._scattered = self._scattered, None
            scattered.result()

    def rows(self, count: int) -> Tensor:
        """The buffer's first ``count`` rows, free to write: the last transfer through the
        buffer is done (:meth:`wait`), and the buffer has grown to ``count`` rows at least."""
        self.wait()
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
        """Queue ``store[index] = values``: ``values`` (on the device) through the buffer into
        the CPU ``store`` (its dtype), and return. The copy waits for the work that produced
        ``values``; the scatter runs in :func:`push_thread` once the copy is done, so ``store``
        holds the rows after :meth:`wait` (or the next transfer through this buffer). ``index``
        must not change until then."""
        rows = self.rows(index.numel())
        copied = None
        if self.stream is None:
            rows.copy_(values)
        else:
            self.stream.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(self.stream):
                rows.copy_(values.to(rows.dtype), non_blocking=True)
                copied = torch.cuda.Event()
                copied.record(self.stream)
            values.record_stream(self.stream)  # its memory is not reused before the copy ran
        self._scattered = push_thread().submit(write_rows, store, index, rows, copied)


class RowTransfers(Protocol):
    """Pulls from and pushes into one ``[N, D]`` store of history rows."""

    @property
    def push_in_flight(self) -> bool:
        """Whether the rows of the last push may not be in the store yet."""

    def pull(self, index: Tensor) -> Tensor:
        """``store[index]`` (``index`` on the store's device) as float32 on the compute device,
        every earlier push of these rows included."""

    def push(self, index: Tensor, values: Tensor) -> None:
        """``store[index] = values`` (detached; ``index`` on the store's device) in the store's
        dtype."""

    def land(self) -> None:
        """Wait until every push is in the store (raising a failed push's error)."""

    def tensors(self) -> list[Tensor]:
        """The tensors the transfers hold besides the store."""


class DirectTransfers:
    """Plain index copies between ``store`` and ``device``: every push is in the store when it
    returns.

    Args:
        store: the ``[N, D]`` rows.
        device: the compute device pulls return their rows on.
    """

    push_in_flight = False

    def __init__(self, store: Tensor, device: torch.device) -> None:
        self.store = store
        self.device = device

    def pull(self, index: Tensor) -> Tensor:
        return self.store.index_select(0, index).to(self.device, torch.float32)

    def push(self, index: Tensor, values: Tensor) -> None:
        self.store[index] = values.to(self.store.device, self.store.dtype)

    def land(self) -> None:
        """Nothing to wait for."""

    def tensors(self) -> list[Tensor]:
        return []


class StagedTransfers:
    """Pulls and pushes of a CPU ``store`` through one :class:`StagingBuffer` each.

    A push returns before its rows are in the store (:meth:`StagingBuffer.scatter`); until
    they are, a mask marks them, so that a pull waits for the push only if it reads one of its
    rows (the rows of a batch are pushed, then its halo, disjoint from them, is pulled), and the
    next push waits for it before it reuses the buffer.

    Args:
        store: the ``[N, D]`` rows, on the CPU.
        device: the compute device (CUDA; a CPU device runs the same protocol stream-free).
    """

    def __init__(self, store: Tensor, device: torch.device) -> None:
        self.store = store
        self._pulls = StagingBuffer(store.size(1), store.dtype, device)
        self._pushes = StagingBuffer(store.size(1), store.dtype, device)
        # the ids of the push in flight, and the same as a mask a pull is tested against
        self._in_flight: Tensor | None = None
        self._pending = torch.zeros(store.size(0), dtype=torch.bool)

    @property
    def push_in_flight(self) -> bool:
        return self._in_flight is not None and self._pushes.scattering

    def pull(self, index: Tensor) -> Tensor:
        if self._reads_push_in_flight(index):
            self.land()
        return self._pulls.gather(self.store, index)

    def push(self, index: Tensor, values: Tensor) -> None:
        self.land()
        self._pushes.scatter(self.store, index, values)
        self._in_flight = index
        self._pending[index] = True

    def _reads_push_in_flight(self, index: Tensor) -> bool:
        """Whether a row of ``index`` is one the push in flight has yet to write."""
        if not self.push_in_flight:
            self.land()
            return False
        return bool(self._pending[index].any())

    def land(self) -> None:
        if self._in_flight is None:
            return
        self._pushes.wait()
        self._pending[self._in_flight] = False
        self._in_flight = None

    def tensors(self) -> list[Tensor]:
        """The mask of the rows in flight and both buffers."""
        return [self._pending, self._pulls.buffer, self._pushes.buffer]
