"""Writing outputs safely: output folders checked before any work, files replaced whole.

Two rules every command follows. An output folder is checked when the command starts
(:func:`check_output_folder`): it exists or can be created, is a folder, and can be written, so a
bad ``--out`` or ``--results`` is a one-line usage error before anything trains. Every file is
then written through :func:`atomic_write`: a reader sees the old content or the whole new one,
and a full disk or a vanished folder ends in :class:`OutputError`, one line naming the file,
with the previous file intact. A log that grows line by line (a run's ``epochs.jsonl``) is
extended with :func:`append_line`, which never leaves a cut line behind. Files are created with
the mode the umask gives an ordinary file (``0644`` under the usual ``022``), whichever of the
two writes them.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from visagnn.flags import UsageError
from visagnn.utils.cache import is_writable_folder, nearest_existing, not_a_folder


class OutputError(OSError):
    """An output file could not be written (full disk, folder gone, I/O error): a runtime
    fault, which ``python -m visagnn`` prints as one line and exits with 1."""


def output_error(exc: OSError, path: Path) -> OutputError:
    """``exc`` as one line naming ``path``: ``no space left on device writing out/summary.json``."""
    reason = (exc.strerror or str(exc)).lower()
    return OutputError(exc.errno, f"{reason} writing {path}")


def is_file_system_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the file system's (a full disk, a read-only or vanished folder), not
    a source's that the block was copying from: a download's ``HTTPError`` and ``URLError``
    carry no errno, and a dropped connection is a ``ConnectionError`` or ``TimeoutError``."""
    return (isinstance(exc, OSError) and exc.errno is not None
            and not isinstance(exc, OutputError | ConnectionError | TimeoutError))


def check_output_folder(path: str | Path, flag: str) -> Path:
    """``path`` as a folder that exists (created here if missing) and can be written.

    Raises:
        UsageError: naming ``flag`` when ``path`` is empty, is a file or lies under one, or is
            in a folder that cannot be written (no permission, no write bit at all, a
            read-only file system).
    """
    if str(path).strip() == "":
        raise UsageError(f"{flag}: an empty path is not a folder")
    folder = Path(path).expanduser()
    where = not_a_folder(folder)
    if where is not None:
        raise UsageError(f"{flag} {path}: {where}, not a folder")
    existing = nearest_existing(folder)
    if not is_writable_folder(existing):
        raise UsageError(f"{flag} {path}: {existing} is not writable")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot write there "
                         f"({(exc.strerror or str(exc)).lower()})") from None
    return folder


def file_mode() -> int:
    """The mode ``open`` gives a new file: ``0o666`` less the process's umask.

    ``tempfile`` creates its files ``0600`` whatever the umask, so a file written through a
    temporary one would otherwise be private while its neighbours are not. The umask can only
    be read by setting it, so it is set back at once.
    """
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def append_line(path: Path, line: str) -> None:
    """Append ``line`` and a newline to ``path`` (created if missing), all of it or nothing.

    The line goes out in ``os.write`` calls on a file opened for appending; if one fails (a full
    disk), the file is cut back to its length before the call, so the lines already there stay
    whole and no half line follows them, and :class:`OutputError` names ``path``.
    """
    path = Path(path)
    data = (line + "\n").encode()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        start = os.fstat(descriptor).st_size
        try:
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
        except OSError as exc:
            os.ftruncate(descriptor, start)
            raise output_error(exc, path) from None
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_write(path: Path, binary: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit, fsync it and rename it to ``path``.

    A crash (or an exception in the block) leaves ``path`` as it was and removes the temporary
    file, so a reader never sees a half-written file. The folder is created if missing. An
    ``OSError`` of the file system (``ENOSPC``, ``EROFS``, ``EIO``, ...) is raised as
    :class:`OutputError` naming ``path``. The file gets :func:`file_mode`.

    Example::

        with atomic_write(folder / "summary.json") as handle:
            json.dump(summary, handle)
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (the with below closes it)
            "wb" if binary else "w", dir=path.parent, prefix=f".{path.name}.", delete=False)
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        with handle:
            os.fchmod(handle.fileno(), file_mode())
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException as exc:
        Path(handle.name).unlink(missing_ok=True)
        if is_file_system_error(exc):
            raise output_error(exc, path) from None
        raise
