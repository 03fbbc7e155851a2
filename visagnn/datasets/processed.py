"""The cache folder of a dataset's derived files, and PyG datasets that process into it.

PyG and OGB write ``processed/`` next to ``raw/``. visagnn sends every derived file to
``cache_folder("processed")/<key>/<dataset folder>/`` instead
(:func:`visagnn.utils.cache.cache_folder`), whether or not the data folder is writable, so a data
folder only ever holds the published files. The key hashes the data folder's absolute path and the
size and modification time of the files read from it: a replaced file is processed afresh, an
unchanged one is processed once.

Processes that load the same dataset at once (the ranks of a ``torchrun`` job on a fresh cache)
take turns on a file lock beside the folder: PyG writes ``processed/`` in place, so a second
process would otherwise read a half-written file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock

from visagnn.utils.cache import cache_folder

DatasetClass = TypeVar("DatasetClass")


def processed_folder(folder: Path, files: Sequence[str]) -> Path:
    """The cache folder for what is derived from ``files`` (relative to ``folder``)."""
    digest = hashlib.sha256(str(folder.resolve()).encode())
    for name in files:
        status = (folder / name).stat()
        digest.update(f"\0{name}\0{status.st_size}\0{status.st_mtime_ns}".encode())
    return cache_folder("processed") / digest.hexdigest()[:16] / folder.name


def processing_in(
    dataset_class: type[DatasetClass], processed_dir: Path, *args: Any, **kwargs: Any
) -> DatasetClass:
    """``dataset_class(*args, **kwargs)`` for a PyG dataset class (``InMemoryDataset``), with
    its ``processed_dir`` moved to ``processed_dir``; its ``raw_dir`` is left where it was.

    Made under the lock ``<processed_dir>.lock``: the first process processes, the others wait
    and then read the finished files."""
    subclass = type(
        dataset_class.__name__,
        (dataset_class,),
        {"processed_dir": property(lambda self: str(processed_dir))},
    )
    processed_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(processed_dir.with_name(processed_dir.name + ".lock")):
        return subclass(*args, **kwargs)
