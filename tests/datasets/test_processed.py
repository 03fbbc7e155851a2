"""Tests of visagnn/datasets/processed.py: the cache key and the lock that serialises processing."""

from __future__ import annotations

import threading
from pathlib import Path

from filelock import FileLock

from visagnn.datasets.processed import processed_folder, processing_in


class _Recorder:
    """Stands in for a PyG dataset class: records that it was built and where it processes."""

    built: list[str] = []

    def __init__(self, tag: str) -> None:
        _Recorder.built.append(f"{tag}:{self.processed_dir}")  # type: ignore[attr-defined]


def test_processing_waits_for_a_process_that_holds_the_lock(tmp_path: Path) -> None:
    processed = tmp_path / "key" / "Cora"
    _Recorder.built = []
    holder = FileLock(processed.with_name("Cora.lock"))
    holder.acquire()
    loader = threading.Thread(target=processing_in, args=(_Recorder, processed, "second"))
    loader.start()
    loader.join(timeout=0.5)
    assert loader.is_alive() and _Recorder.built == []
    holder.release()
    loader.join(timeout=10)
    assert not loader.is_alive()
    assert _Recorder.built == [f"second:{processed}"]


def test_the_key_changes_with_a_replaced_file(tmp_path: Path) -> None:
    folder = tmp_path / "Cora"
    folder.mkdir()
    (folder / "a.bin").write_bytes(b"one")
    before = processed_folder(folder, ["a.bin"])
    assert processed_folder(folder, ["a.bin"]) == before
    (folder / "a.bin").write_bytes(b"three")
    assert processed_folder(folder, ["a.bin"]) != before
    assert before.name == "Cora"
