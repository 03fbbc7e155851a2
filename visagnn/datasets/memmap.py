"""Feature matrices too large for memory, as tensors over memory-mapped ``.npy`` files.

A ``.npy`` file is mapped read-only (``np.load(path, mmap_mode='r')``, ``PROT_READ`` and
``MAP_SHARED``): nothing is read when it is opened, the operating system pages rows in when they
are indexed and keeps them in its page cache, shared between processes and dropped under memory
pressure, so a process's memory follows the rows it touches, not the file's size. A read-only
mapping is the one that works for files far larger than memory: a copy-on-write mapping
(``mmap_mode='c'``) is charged in full against the kernel's commit limit and fails there.

``torch.from_numpy`` keeps the mapping alive and warns that the array is not writable; writing
would indeed crash (SIGSEGV). Every consumer only indexes the features (``x[index]``, which
copies the selected rows into ordinary memory), so the warning is silenced here, once, and the
tensors are documented as read-only.
"""

from __future__ import annotations

import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from visagnn.utils.atomic_write import atomic_write


def mapped_tensor(path: Path) -> Tensor:
    """A read-only tensor over the array of the ``.npy`` file at ``path``; never write to it."""
    array = np.load(path, mmap_mode="r")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)


def npz_member_as_npy(archive: Path, key: str, target: Path) -> Path:
    """``target``: array ``key`` of the ``.npz`` file ``archive``, as a ``.npy`` file of its own.

    ``np.load`` cannot memory-map an array inside an ``.npz``: it is a zip member, compressed in
    OGB's files (``np.savez_compressed``). Each member is a complete ``.npy`` file, so it is
    streamed out as it is, in constant memory, once; later calls find ``target`` in place.
    """
    if not target.is_file():
        with (
            zipfile.ZipFile(archive) as npz,
            npz.open(f"{key}.npy") as member,
            atomic_write(target, binary=True) as handle,
        ):
            shutil.copyfileobj(member, handle, 1 << 20)
    return target
