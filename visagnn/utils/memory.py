"""Memory of a run: its peak (resident set size on CPU, allocated device memory on CUDA), the
bytes of the tensors it holds, the activations a training step keeps for its backward pass, and
the working memory of a phase (every tensor its operations allocate, alive at once at most).
"""

from __future__ import annotations

import contextlib
import resource
import threading
import weakref
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

MB = 2**20


class MemoryBudgetExceeded(RuntimeError):
    """A method estimated that it needs more memory than it may use (reported as ``oom``)."""


def _status_mb(key: str) -> float | None:
    """A ``kB`` field of ``/proc/self/status`` (Linux) in MiB, ``None`` where unreadable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class PeakMemory:
    """Tracks the peak memory since :meth:`reset`, and what was added over the memory in use
    at :meth:`reset` (the process baseline: interpreter, libraries, the loaded dataset).

    On CPU the peak RSS is read from ``VmHWM`` in ``/proc/self/status`` after resetting it through
    ``/proc/self/clear_refs`` (Linux), the baseline from ``VmRSS``; where that is not possible the
    peak falls back to the process-wide ``ru_maxrss`` and the baseline to 0. On CUDA they are
    ``torch.cuda.max_memory_allocated`` and ``torch.cuda.memory_allocated``.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.baseline_mb = 0.0

    def reset(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
            self.baseline_mb = torch.cuda.memory_allocated(self.device) / 2**20
            return
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")
        self.baseline_mb = _status_mb("VmRSS") or 0.0

    def peak_mb(self) -> float:
        """The peak since :meth:`reset`: the whole process on CPU, tensors on CUDA."""
        if self.device.type == "cuda":
            return torch.cuda.max_memory_allocated(self.device) / 2**20
        peak = _status_mb("VmHWM")
        if peak is not None:
            return peak
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def added_mb(self) -> float:
        """The peak minus the baseline: what was allocated since :meth:`reset` at most."""
        return max(self.peak_mb() - self.baseline_mb, 0.0)


def available_memory_mb(device: torch.device) -> float:
    """Memory a run may still allocate, in MiB.

    On CUDA the device's free memory. On CPU ``MemAvailable`` of ``/proc/meminfo``, capped by
    the room left under a container's cgroup memory limit (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``) where there is one; ``inf`` where none of these can be read.
    """
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0] / 2**20
    available = float("inf")
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) / 1024
    except OSError:
        pass
    cgroups = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
               ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                "/sys/fs/cgroup/memory/memory.usage_in_bytes"))
    for limit_file, usage_file in cgroups:
        try:
            limit, usage = Path(limit_file).read_text().strip(), Path(usage_file).read_text()
        except OSError:
            continue
        if limit.isdigit():
            available = min(available, (int(limit) - int(usage)) / 2**20)
        break
    return available


def storage_objects(tensor: Tensor) -> list[torch.UntypedStorage]:
    """The storages behind ``tensor``: one for a dense tensor (all of its storage, for a view
    too), the indices and values of a sparse one, none for other layouts."""
    if tensor.layout == torch.sparse_coo:
        parts = [tensor._indices(), tensor._values()]
    elif tensor.layout == torch.sparse_csr:
        parts = [tensor.crow_indices(), tensor.col_indices(), tensor.values()]
    elif tensor.layout == torch.strided:
        parts = [tensor]
    else:
        return []
    try:
        return [part.untyped_storage() for part in parts]
    except (RuntimeError, NotImplementedError):  # a tensor subclass without a storage
        return []


def storages(tensor: Tensor) -> list[tuple[int, int]]:
    """``(address, bytes)`` of every storage behind ``tensor`` (:func:`storage_objects`)."""
    return [(storage.data_ptr(), storage.nbytes()) for storage in storage_objects(tensor)]


def tensors_mb(tensors: Iterable[Tensor]) -> float:
    """MiB of the storages behind ``tensors``, each storage once (views share theirs)."""
    seen = {address: size for tensor in tensors for address, size in storages(tensor)}
    return sum(seen.values()) / MB


class _Saved:
    """A tensor autograd saved for a backward pass; tells the meter when autograd drops it."""

    def __init__(self, tensor: Tensor, keys: list[tuple[int, int]],
                 meter: SavedTensorMeter) -> None:
        self.tensor, self.keys, self.meter = tensor, keys, meter

    def __del__(self) -> None:
        self.meter.release(self.keys)


class SavedTensorMeter:
    """The peak bytes of the tensors that autograd keeps for backward passes: a training
    step's activations (its batch's inputs, every intermediate a backward needs, pulled
    history rows), parameters excluded.

    While :meth:`measuring`, every tensor a forward saves is counted (each storage once) until
    autograd frees it, which happens in the backward pass; :attr:`peak_mb` is the most that
    was alive at once, so the largest step's. The tensors themselves are untouched, so results
    do not change.

    Args:
        exclude: tensors not to count (the model's parameters, which backward passes save).
    """

    def __init__(self, exclude: Iterable[Tensor] = ()) -> None:
        self.exclude = {address for tensor in exclude for address, _ in storages(tensor)}
        self.counts: dict[int, int] = {}
        self.live_bytes = 0
        self.peak_bytes = 0
        self._lock = threading.Lock()  # backward passes on CUDA free tensors in their threads

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / MB

    def pack(self, tensor: Tensor) -> _Saved:
        keys = [(address, size) for address, size in storages(tensor)
                if address not in self.exclude]
        with self._lock:
            for address, size in keys:
                self.counts[address] = self.counts.get(address, 0) + 1
                if self.counts[address] == 1:
                    self.live_bytes += size
            self.peak_bytes = max(self.peak_bytes, self.live_bytes)
        return _Saved(tensor, keys, self)

    @staticmethod
    def unpack(saved: _Saved) -> Tensor:
        return saved.tensor

    def release(self, keys: list[tuple[int, int]]) -> None:
        with self._lock:
            for address, size in keys:
                self.counts[address] -= 1
                if self.counts[address] == 0:
                    del self.counts[address]
                    self.live_bytes -= size

    @contextlib.contextmanager
    def measuring(self) -> Iterator[SavedTensorMeter]:
        """Count what the forward passes in the block save."""
        with torch.autograd.graph.saved_tensors_hooks(self.pack, self.unpack):
            yield self


class WorkspaceMeter(TorchDispatchMode):
    """The peak bytes, per device type, of the tensors that the operations of a block allocate
    and that are alive at once: its working memory beyond what it found (a training step's
    inputs, intermediates, saved activations, gradients and backward temporaries; an inference
    batch's rows and messages, and the outputs it returns).

    Used as a context manager, it sees every operation dispatched in this thread (autograd's
    backward passes on CPU run in it). An output whose storage is none of the operation's
    inputs' (not a view, not in place, not an ``out=`` argument) is counted from its creation
    until its storage is freed, wherever that happens. Storages that exist before the block,
    and what other threads allocate (a prefetching loader's), are not counted; a storage
    resized in place keeps its first size. The tensors are untouched, so results do not change;
    the price is one Python call per operation, small beside the kernels of a large batch.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live_bytes: dict[str, int] = {}
        self.peak_bytes: dict[str, int] = {}
        self._alive: dict[int, weakref.ref] = {}  # id of a counted storage -> its weak reference
        self._lock = threading.Lock()  # a storage may be freed in another thread

    def peak_mb(self, device_type: str = "cpu") -> float:
        """The most that was alive at once on ``device_type`` (``cpu``, ``cuda``)."""
        return self.peak_bytes.get(device_type, 0) / MB

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        inputs = {id(storage) for tensor in tree_leaves((args, kwargs))
                  if isinstance(tensor, Tensor) for storage in storage_objects(tensor)}
        for tensor in tree_leaves(out):
            if isinstance(tensor, Tensor):
                for storage in storage_objects(tensor):
                    if id(storage) not in inputs:
                        self._count(storage, tensor.device.type)
        return out

    def _count(self, storage: torch.UntypedStorage, device_type: str) -> None:
        size = storage.nbytes()
        key = id(storage)
        with self._lock:
            if size == 0 or key in self._alive:
                return
            self._alive[key] = weakref.ref(storage, partial(self._release, key, size,
                                                            device_type))
            live = self.live_bytes.get(device_type, 0) + size
            self.live_bytes[device_type] = live
            self.peak_bytes[device_type] = max(self.peak_bytes.get(device_type, 0), live)

    def _release(self, key: int, size: int, device_type: str, _: weakref.ref) -> None:
        with self._lock:
            del self._alive[key]
            self.live_bytes[device_type] -= size

