"""Where dataset files live: the data root, and finding (or downloading) a dataset's files.

A loader names the files it reads and the published files they come from
(:class:`DatasetFiles`); :func:`find_dataset` returns the folder that holds them. It looks under
the data root, then under the download folder of the cache (``cache_folder("data")``), and
otherwise downloads them, when downloads are allowed, into the data root, or into the cache's
download folder when the data root cannot be written (a shared read-only folder). Loaders only
read from the folder they get: derived files go to the cache (:mod:`visagnn.datasets.processed`).
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import zipfile
from dataclasses import dataclass
from pathlib import Path

from visagnn.datasets.download import NO_DOWNLOAD_ENV, downloads_allowed, fetch
from visagnn.datasets.sources import RemoteFile, base_url, mirror_env
from visagnn.utils.cache import cache_folder, can_create_folder, not_a_folder

DATA_ROOT_ENV = "VISAGNN_DATA"
DOWNLOAD_CACHE = "data"
"""Subfolder of the cache that receives downloads when the data root is read-only."""


def resolve_root(root: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds the datasets.

    ``root`` when given, else ``$VISAGNN_DATA`` when set, else ``$XDG_CACHE_HOME/visagnn``
    (``~/.cache/visagnn`` when ``XDG_CACHE_HOME`` is unset). The folder need not exist.
    """
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get(DATA_ROOT_ENV):
        return Path(os.environ[DATA_ROOT_ENV]).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_home).expanduser() / "visagnn"


@dataclass(frozen=True)
class DatasetFiles:
    """The files a loader reads, and the published files that provide them.

    Attributes:
        dataset: visagnn's name of the dataset, for messages.
        folder: the dataset's folder under a data root, e.g. ``'Cora'``.
        files: every file the loader reads, relative to ``folder``.
        remotes: what to download so that ``files`` exist; their destinations are relative to
            the data root.
    """

    dataset: str
    folder: str
    files: tuple[str, ...]
    remotes: tuple[RemoteFile, ...]

    def missing(self, root: Path) -> list[str]:
        """The entries of :attr:`files` that are not files under ``root / folder``."""
        return [name for name in self.files if not (root / self.folder / name).is_file()]


def check_root(root: Path) -> None:
    """Raise FileNotFoundError when the data root ``root`` is a file or lies under one (before
    any download is tried)."""
    where = not_a_folder(root)
    if where is not None:
        raise FileNotFoundError(f"the data root {root} {where}, not a folder")


def _locate(spec: DatasetFiles, root: Path) -> Path | None:
    """``root / spec.folder`` or the same folder under the cache's download folder, where it
    holds every file of ``spec``; ``None`` where neither does."""
    check_root(root)
    if not spec.missing(root):
        return root / spec.folder
    fallback = cache_folder(DOWNLOAD_CACHE)
    return None if spec.missing(fallback) else fallback / spec.folder


def _not_there(spec: DatasetFiles, root: Path) -> tuple[str, str]:
    """What is missing where, and the URL it comes from, for messages."""
    where = f"{spec.dataset}: missing under {root / spec.folder}: {', '.join(spec.missing(root))}"
    family = spec.remotes[0].family
    source = spec.remotes[0].url if len(spec.remotes) == 1 else f"{base_url(family)}/<file name>"
    return where, source


def _downloads_off(spec: DatasetFiles, root: Path) -> FileNotFoundError:
    where, source = _not_there(spec, root)
    return FileNotFoundError(
        f"{where}; they come from {source}; downloading is off (download=False or "
        f"${NO_DOWNLOAD_ENV}=1): pass download=True or unset ${NO_DOWNLOAD_ENV} to "
        f"download them, or put the files there"
    )


def check_dataset_files(spec: DatasetFiles, root: Path, download: bool | None) -> None:
    """Raise what :func:`find_dataset` would raise before downloading: the files of ``spec`` are
    found, or may be downloaded (nothing is fetched here).

    Raises:
        FileNotFoundError: when the data root is a file, or the files are missing and
            downloads are off.
    """
    if _locate(spec, root) is None and not downloads_allowed(download):
        raise _downloads_off(spec, root)


def find_dataset(spec: DatasetFiles, root: Path, download: bool | None) -> Path:
    """The folder holding every file of ``spec``: ``root / spec.folder``, else the same folder
    under the cache's download folder, else a fresh download.

    Args:
        spec: the dataset's files.
        root: the data root (:func:`resolve_root`).
        download: ``True`` or ``False`` to allow or forbid downloading; ``None`` allows it
            unless ``$VISAGNN_NO_DOWNLOAD`` is true.

    Raises:
        FileNotFoundError: one line naming the missing files, where they were expected, the
            URL they come from, and why they could not be fetched: downloads forbidden, host
            unreachable, or a download that did not provide them; or saying that the data
            root is a file (before any download is tried).
    """
    found = _locate(spec, root)
    if found is not None:
        return found
    if not downloads_allowed(download):
        raise _downloads_off(spec, root)
    where, source = _not_there(spec, root)
    fallback = cache_folder(DOWNLOAD_CACHE)
    target = root if can_create_folder(root / spec.folder) else fallback
    try:
        for remote in spec.remotes:
            fetch(remote, target)
    # URLError and timeouts are OSErrors; a connection cut mid-body is an HTTPException.
    except (OSError, http.client.HTTPException, zipfile.BadZipFile) as error:
        raise FileNotFoundError(
            f"{where}; downloading them from {source} failed ({_reason(error)}): check the "
            f"connection "
            f"or set ${mirror_env(spec.remotes[0].family)} to a mirror's base URL, put the "
            f"files there, or set ${NO_DOWNLOAD_ENV}=1 to never download"
        ) from error
    still_missing = spec.missing(target)
    if still_missing:
        raise FileNotFoundError(
            f"{spec.dataset}: the download from {source} lacks {', '.join(still_missing)} "
            f"(expected under {target / spec.folder})"
        )
    return target / spec.folder


def _reason(error: BaseException) -> str:
    """``[Errno 111] Connection refused`` rather than ``<urlopen error [Errno 111] ...>``; HTTP
    errors keep their status code."""
    if type(error) is urllib.error.URLError:
        return str(error.reason)
    return str(error)
