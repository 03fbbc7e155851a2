"""The process group a run belongs to: one process, or one rank of a ``torchrun`` launch.

``torchrun --nproc-per-node N -m visagnn run ...`` starts ``N`` processes and gives each the
environment of the ``env://`` rendezvous (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``, ``MASTER_PORT``); across machines its ``--nnodes`` and ``--rdzv-*`` flags set
the same variables. :func:`join_world` joins that group with the backend the device needs
(:func:`backend_for`: ``nccl`` for CUDA, ``gloo`` for CPU, as ``torch.distributed`` documents);
without those variables it is one process and nothing is initialised.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
"""The ``env://`` rendezvous variables ``torchrun`` sets in every process it starts."""


@dataclass(frozen=True)
class World:
    """This process's place in the run: ``rank`` of ``size`` processes over ``backend``
    (``None``: a single process, no process group)."""

    rank: int = 0
    size: int = 1
    backend: str | None = None

    @property
    def is_main(self) -> bool:
        """Whether this process writes the run's outputs (rank 0)."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.backend is not None


SINGLE_PROCESS = World()


def backend_for(device: torch.device) -> str:
    """``nccl`` on CUDA, ``gloo`` on CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def launched_by_torchrun() -> bool:
    """Whether the environment holds a ``torchrun`` (``env://``) rendezvous."""
    return all(name in os.environ for name in TORCHRUN_VARIABLES)


def current_world() -> World:
    """The initialised process group as a :class:`World`, or :data:`SINGLE_PROCESS`."""
    if not (dist.is_available() and dist.is_initialized()):
        return SINGLE_PROCESS
    return World(dist.get_rank(), dist.get_world_size(), str(dist.get_backend()))


def local_device(device: torch.device) -> torch.device:
    """The device this rank computes on: ``cuda:LOCAL_RANK`` for a CUDA device without an index
    under ``torchrun`` (one GPU per process), else ``device``."""
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        return torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device


def join_world(device: torch.device) -> World:
    """Join the ``torchrun`` process group (once; later calls return it) with
    :func:`backend_for` ``device``, or return :data:`SINGLE_PROCESS` outside ``torchrun``."""
    if dist.is_available() and dist.is_initialized():
        return current_world()
    if not launched_by_torchrun():
        return SINGLE_PROCESS
    if device.type == "cuda":
        torch.cuda.set_device(local_device(device))
    dist.init_process_group(backend_for(device))
    return current_world()


def leave_world() -> None:
    """Destroy the process group :func:`join_world` joined, if any."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
