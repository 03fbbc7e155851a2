"""Executing a notebook with papermill on this interpreter and this copy of visagnn.

A kernel found by name (``python3``) can be another Python: a user-level kernelspec wins over
the virtual environment's, and a kernelspec that names ``python`` runs whatever ``python`` is on
the ``PATH``. The grid instead starts its kernels with :data:`sys.executable` and puts the folder
that holds the running ``visagnn`` package first on the kernel's ``PYTHONPATH``, so a notebook
runs the same code as the command that executes it, installed or not.

Each kernel's connection file goes to a folder of its own (``visagnn-kernel-<pid>-*`` in the
temporary folder), removed when the execution ends, however it ends; folders that a killed
process left (its pid gone) are removed by the next execution. The executed notebook is written
beside its target and renamed into place, so that a reader (a concurrent grid's render) never
sees a half-written or empty notebook.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import papermill
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpec

import visagnn
from visagnn.utils.atomic_write import file_mode

PACKAGE_PARENT = Path(visagnn.__file__).resolve().parents[1]
KERNEL_FOLDER_PREFIX = "visagnn-kernel-"


def kernel_spec() -> KernelSpec:
    python_path = os.pathsep.join(filter(None, [str(PACKAGE_PARENT),
                                                os.environ.get("PYTHONPATH")]))
    return KernelSpec(
        argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
              "--log-level=ERROR"],  # the kernel's own log is noise in a grid's output
        display_name=f"Python ({sys.executable})",
        language="python",
        env={
            "PYTHONPATH": python_path,
            # tqdm falls back to text progress bars without ipywidgets, which is what an
            # executed notebook can store; its warning about the fallback is not for this use
            "PYTHONWARNINGS": "ignore:IProgress not found",
        },
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale_kernel_folders(parent: Path | None = None) -> None:
    """Remove the kernel folders (:data:`KERNEL_FOLDER_PREFIX`) whose process is gone."""
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{KERNEL_FOLDER_PREFIX}*-*"):
        pid = folder.name[len(KERNEL_FOLDER_PREFIX):].split("-")[0]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def kernel_folder() -> Iterator[Path]:
    """A fresh folder for one kernel's connection file, removed when the block ends."""
    remove_stale_kernel_folders()
    folder = Path(tempfile.mkdtemp(prefix=f"{KERNEL_FOLDER_PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class CurrentPythonKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel is :func:`kernel_spec`, whatever the kernel name, and
    whose connection file is in :attr:`connection_folder` (set per execution)."""

    connection_folder: Path | None = None

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            self._kernel_spec = kernel_spec()
        return self._kernel_spec

    def write_connection_file(self, **kwargs: Any) -> None:
        if not self.connection_file and self.connection_folder is not None:
            self.connection_file = str(self.connection_folder / "kernel.json")
        super().write_connection_file(**kwargs)


def _manager_in(folder: Path) -> type[CurrentPythonKernelManager]:
    """:class:`CurrentPythonKernelManager` writing its connection file in ``folder`` (a class:
    papermill instantiates it)."""
    return type("KernelManagerIn", (CurrentPythonKernelManager,), {"connection_folder": folder})


def execute_notebook(template: Path, output: Path, parameters: dict[str, Any],
                     echo: bool = False) -> None:
    """Execute ``template`` with ``parameters`` into ``output`` (written also when a cell fails).

    ``echo`` copies the notebook's printed output (stdout and stderr) to this process's as it
    comes. Raises :class:`papermill.PapermillExecutionError` when a cell raises and
    :class:`nbclient.exceptions.DeadKernelError` when the kernel dies (e.g. killed for memory).
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=output.parent, prefix=f".{output.stem}.",
                                    suffix=output.suffix)
    os.close(handle)
    partial = Path(name)
    try:
        with kernel_folder() as folder:
            papermill.execute_notebook(
                str(template), str(partial), parameters=parameters, kernel_name="python3",
                kernel_manager_class=_manager_in(folder), progress_bar=False,
                stdout_file=sys.stdout if echo else None,
                stderr_file=sys.stderr if echo else None, coalesce_streams=True,
            )
    finally:
        if partial.exists() and partial.stat().st_size > 0:  # also when a cell failed
            partial.chmod(file_mode())
            os.replace(partial, output)
        else:
            partial.unlink(missing_ok=True)
