"""Executing a notebook: the executed copy appears whole, and the kernel's connection file
lives in a folder that is removed afterwards (also after a killed grid, by the next one)."""

import os
from pathlib import Path

import pytest

from visagnn.bench import execute


class FakePapermill:
    """Writes the output notebook in two steps, as papermill does after each cell, and checks
    that the target is absent meanwhile; raises after writing when ``fail``."""

    def __init__(self, target: Path, fail: bool = False) -> None:
        self.target, self.fail, self.folders = target, fail, []

    def __call__(self, template, output, kernel_manager_class, **kwargs) -> None:
        folder = kernel_manager_class.connection_folder
        assert folder.is_dir() and folder.name.startswith(f"visagnn-kernel-{os.getpid()}-")
        self.folders.append(folder)
        Path(output).write_text('{"cells": [')
        assert not self.target.exists()  # a reader sees no half-written notebook
        Path(output).write_text('{"cells": []}')
        if self.fail:
            raise RuntimeError("a cell raised")


@pytest.mark.parametrize("fail", [False, True])
def test_the_executed_notebook_is_renamed_into_place_and_the_kernel_folder_removed(
        fail, tmp_path, monkeypatch):
    target = tmp_path / "experiments" / "cell.ipynb"
    fake = FakePapermill(target, fail)
    monkeypatch.setattr(execute.papermill, "execute_notebook", fake)
    if fail:
        with pytest.raises(RuntimeError, match="a cell raised"):
            execute.execute_notebook(tmp_path / "t.ipynb", target, {})
    else:
        execute.execute_notebook(tmp_path / "t.ipynb", target, {})
    assert target.read_text() == '{"cells": []}'  # also when a cell failed, to show where
    assert os.listdir(target.parent) == ["cell.ipynb"]  # no temporary copy left
    assert not fake.folders[0].exists()


def test_kernel_folders_of_processes_that_are_gone_are_removed(tmp_path):
    gone = tmp_path / "visagnn-kernel-999999999-abc"
    mine = tmp_path / f"visagnn-kernel-{os.getpid()}-def"
    other = tmp_path / "someone-else"
    for folder in (gone, mine, other):
        folder.mkdir()
        (folder / "kernel.json").write_text("{}")
    execute.remove_stale_kernel_folders(tmp_path)
    assert not gone.exists() and mine.exists() and other.exists()


def test_the_kernel_manager_writes_its_connection_file_in_its_folder(tmp_path):
    manager = execute._manager_in(tmp_path)()
    manager.write_connection_file()
    assert Path(manager.connection_file) == tmp_path / "kernel.json"
    assert (tmp_path / "kernel.json").is_file()
    manager.cleanup_connection_file()
    assert not (tmp_path / "kernel.json").exists()
