"""Writing a file so that readers see either the old content or the whole new one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: Path, binary: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path``; on a clean exit, fsync it and rename it to ``path``.

    A crash (or an exception in the block) leaves ``path`` as it was and removes the temporary
    file, so a reader never sees a half-written file. The folder is created if missing.

    Example::

        with atomic_write(folder / "summary.json") as handle:
            json.dump(summary, handle)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "wb" if binary else "w", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as handle:
        try:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        except BaseException:
            Path(handle.name).unlink(missing_ok=True)
            raise
    os.replace(handle.name, path)
