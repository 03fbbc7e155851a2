"""The writable folder for derived files (METIS partitions, processed copies of read-only data)."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import stat
import tempfile
from pathlib import Path

CACHE_ENV = "VISAGNN_CACHE"


@functools.cache
def fallback_cache() -> Path:
    """One temporary folder per process for a cache that cannot be written, removed when the
    process exits: a folder per call (or per run) would be left behind, one per run, for
    good."""
    folder = Path(tempfile.mkdtemp(prefix="visagnn-cache-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def is_writable_folder(path: Path) -> bool:
    """Writable by us and not marked read-only.

    ``os.access`` alone says yes to root for any folder on a writable file system; a folder
    with no write permission bit at all is read-only by intent (a shared data folder), so it is
    left alone too.
    """
    return (
        path.is_dir()
        and os.access(path, os.W_OK | os.X_OK)
        and bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    )


def nearest_existing(path: Path) -> Path:
    """``path`` itself if it exists, else its closest ancestor that does: where a folder at
    ``path`` would be made."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing


def not_a_folder(path: Path) -> str | None:
    """Why no folder can be at ``path`` (``"is a file"``, ``"lies under the file F"``), or
    ``None`` where it is one or could be made."""
    existing = nearest_existing(path)
    if existing.is_dir():
        return None
    return "is a file" if existing == path else f"lies under the file {existing}"


def can_create_folder(path: Path) -> bool:
    """Whether ``path`` is a writable folder or could be made under one."""
    return is_writable_folder(nearest_existing(path))


def cache_folder(subfolder: str) -> Path:
    """``<cache>/<subfolder>``, created, where ``<cache>`` is ``$VISAGNN_CACHE``, else
    ``$XDG_CACHE_HOME/visagnn``, else ``~/.cache/visagnn``.

    It is never the data root, which may be a shared read-only folder. When the cache cannot be
    written, ``<subfolder>`` of the process's :func:`fallback_cache` is used instead: derived
    files are then made again by every process, but nothing is left behind.
    """
    base = os.environ.get(CACHE_ENV)
    if not base:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "visagnn"
    folder = Path(base).expanduser() / subfolder
    if not can_create_folder(folder):
        folder = fallback_cache() / subfolder
    folder.mkdir(parents=True, exist_ok=True)
    return folder
