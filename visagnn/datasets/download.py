"""Downloading a dataset's published files: streamed, checked, written atomically.

A file is streamed over ``urllib`` (stdlib) with a ``tqdm`` progress bar on standard error. A
plain file goes straight to a temporary file beside its destination and is renamed into place
when complete (:func:`visagnn.utils.atomic_write.atomic_write`). A ``.zip`` is streamed to an
anonymous temporary file beside its destination, then every member is unpacked the same way, so
an interrupted download or unpacking never leaves a half-written file under its final name.

What arrives is checked: the byte count against the server's ``Content-Length`` (a cut
connection fails instead of leaving a truncated file), every zip member against its CRC-32
(``zipfile`` checks it as the member is read), and member paths against escaping the
destination folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

from tqdm import tqdm

from visagnn.datasets.sources import RemoteFile
from visagnn.utils.atomic_write import atomic_write

NO_DOWNLOAD_ENV = "VISAGNN_NO_DOWNLOAD"
TIMEOUT_S = 30.0
"""Seconds without an answer after which a host counts as unreachable."""

_CHUNK = 1 << 20
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def downloads_allowed(download: bool | None) -> bool:
    """``download`` when given, else whether ``$VISAGNN_NO_DOWNLOAD`` is unset or false.

    Raises:
        ValueError: if ``$VISAGNN_NO_DOWNLOAD`` is neither true (``1``, ``true``, ``yes``,
            ``on``) nor false (unset, empty, ``0``, ``false``, ``no``, ``off``).
    """
    if download is not None:
        return download
    value = os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower()
    if value not in _TRUE + _FALSE:
        raise ValueError(f"${NO_DOWNLOAD_ENV} must be one of {_TRUE + _FALSE[1:]}, got {value!r}")
    return value in _FALSE


def fetch(remote: RemoteFile, root: Path) -> None:
    """Download ``remote`` into ``root / remote.destination`` (unpacking a zip there).

    Raises:
        urllib.error.URLError: the host is unreachable or answers with an HTTP error.
        OSError: the connection broke, timed out or delivered fewer bytes than announced.
        zipfile.BadZipFile: the archive is corrupt.
    """
    destination = root / remote.destination
    if not remote.is_zip:
        with atomic_write(destination, binary=True) as handle:
            _stream(remote.url, handle)
        return
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=destination) as archive:
        _stream(remote.url, archive)
        _unpack(zipfile.ZipFile(archive), remote.strip, destination)


def _stream(url: str, handle: IO[bytes]) -> None:
    """Copy the body of ``url`` to ``handle``, checking its length against Content-Length."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length is not None else None
        received = 0
        name = url.rsplit("/", 1)[-1]
        with tqdm(total=expected, unit="B", unit_scale=True, desc=f"Downloading {name}") as bar:
            while chunk := response.read(_CHUNK):
                handle.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is not None and received != expected:
        raise OSError(f"{url} delivered {received} of {expected} bytes")


def _unpack(archive: zipfile.ZipFile, strip: str, destination: Path) -> None:
    """Write every file member under ``strip`` in ``archive``, less that prefix, under
    ``destination``; members elsewhere are not part of the dataset and are skipped."""
    for member in archive.infolist():
        if member.is_dir() or not member.filename.startswith(strip):
            continue
        relative = PurePosixPath(member.filename[len(strip) :])
        if relative.is_absolute() or ".." in relative.parts:
            raise zipfile.BadZipFile(f"member {member.filename!r} points outside the archive")
        target = destination.joinpath(*relative.parts)
        with archive.open(member) as source, atomic_write(target, binary=True) as handle:
            shutil.copyfileobj(source, handle, _CHUNK)
