"""Peak memory of a run: resident set size on CPU, allocated device memory on CUDA."""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path

import torch


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
