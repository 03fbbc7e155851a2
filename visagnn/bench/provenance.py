"""Where a result comes from: the hardware, the code's commit, the date and the versions."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

import visagnn

REPOSITORY = Path(visagnn.__file__).resolve().parents[1]


@functools.cache
def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device: str, threads: int | None = None) -> str:
    """E.g. ``"NVIDIA H100 80GB HBM3"`` on CUDA, ``"Intel(R) Xeon(R) ... (2 CPUs, 1 torch
    thread)"`` on CPU, where the number of threads changes the timings: ``threads``, the run's
    when it ran in another process (a kernel), else this process's."""
    torch_device = torch.device(device)
    if torch_device.type == "cuda":
        return torch.cuda.get_device_name(torch_device)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = threads or torch.get_num_threads()
    return f"{cpu_name()} ({cpus} CPUs, {threads} torch thread{'s' * (threads > 1)})"


@functools.cache
def commit() -> str:
    """Short hash of the checkout visagnn runs from, ``+dirty`` with uncommitted changes to
    tracked files; ``uncommitted`` in a repository without commits; the package version
    outside a git checkout."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True,
                              text=True, check=False)

    try:
        head = git("rev-parse", "--short=10", "HEAD")
        if head.returncode != 0:
            inside = git("rev-parse", "--is-inside-work-tree").stdout.strip() == "true"
            return "uncommitted" if inside else f"visagnn {visagnn.__version__}"
        dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    except OSError:  # no git executable
        return f"visagnn {visagnn.__version__}"
    return head.stdout.strip() + ("+dirty" if dirty else "")


def provenance(device: str, threads: int | None = None) -> dict[str, Any]:
    """The fields every stored run carries: ``hardware`` (with ``threads``, see
    :func:`hardware`), ``host``, ``commit``, ``date`` (UTC, ISO 8601) and the versions of
    Python and torch."""
    return {
        "hardware": hardware(device, threads),
        "host": platform.node(),
        "commit": commit(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
