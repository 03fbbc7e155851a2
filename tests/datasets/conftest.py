"""Fixtures for the dataset tests: the shared data folder, an isolated cache, a local mirror
of the dataset hosts, graph checks."""

from __future__ import annotations

import builtins
import functools
import os
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from visagnn.datasets.sources import BASE_URLS, mirror_env

# Read before any test runs: the autouse fixture below hides the variable from the library.
_SHARED_DATA = Path(
    os.environ.get("VISAGNN_DATA") or Path(__file__).parents[2] / ".." / "shared" / "data"
).resolve()


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def isolated_cache(_session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the library's default root and cache at a per-session temporary folder, and
    forbid downloads (no test reaches the real hosts; download tests use :func:`mirror`)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(_session_cache))
    monkeypatch.delenv("VISAGNN_DATA", raising=False)
    monkeypatch.delenv("VISAGNN_CACHE", raising=False)
    monkeypatch.setenv("VISAGNN_NO_DOWNLOAD", "1")
    for family in BASE_URLS:
        monkeypatch.delenv(mirror_env(family), raising=False)
    yield _session_cache / "visagnn"


@dataclass
class Mirror:
    """A local HTTP server publishing the files under :attr:`folder` at :attr:`url`."""

    folder: Path
    url: str
    requests: list[str] = field(default_factory=list)

    def serve(self, family: str, monkeypatch: pytest.MonkeyPatch) -> Path:
        """Make this server ``family``'s mirror and allow downloads; returns the folder whose
        files it publishes under the family's base URL."""
        monkeypatch.setenv(mirror_env(family), f"{self.url}/{family}")
        monkeypatch.delenv("VISAGNN_NO_DOWNLOAD")
        folder = self.folder / family
        folder.mkdir(exist_ok=True)
        return folder


@pytest.fixture
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mirror]:
    """A stdlib HTTP server on 127.0.0.1 (a free port) in a thread, logging request paths."""
    folder = tmp_path_factory.mktemp("mirror")
    requests: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            requests.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Mirror(folder, f"http://127.0.0.1:{server.server_address[1]}", requests)
    server.shutdown()
    server.server_close()


@pytest.fixture
def shared_data() -> Path:
    """The read-only folder of real datasets ($VISAGNN_DATA, else ../shared/data)."""
    if not _SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {_SHARED_DATA} (set VISAGNN_DATA)")
    return _SHARED_DATA


@pytest.fixture
def make_read_only() -> Iterator[Callable[[Path], None]]:
    """Removes every write bit under a folder; restores them at teardown for cleanup."""
    folders: list[Path] = []

    def make(folder: Path) -> None:
        folders.append(folder)
        for path in [*folder.rglob("*"), folder]:
            path.chmod(0o555 if path.is_dir() else 0o444)

    yield make
    for folder in folders:
        for path in [folder, *folder.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


def _check_canonical(data: Data) -> None:
    num_nodes = data.num_nodes
    assert data.x.dtype == torch.float32 and data.x.dim() == 2 and data.x.size(0) == num_nodes
    assert data.y.dtype == torch.int64 and data.y.shape == (num_nodes,)
    for mask in (data.train_mask, data.val_mask, data.test_mask):
        assert mask.dtype == torch.bool and mask.shape == (num_nodes,)
    edge_index = data.edge_index
    assert edge_index.dtype == torch.int64 and edge_index.size(0) == 2
    source, target = edge_index
    assert not bool((source == target).any()), "self-loop"
    key = source * num_nodes + target
    assert bool((key[1:] > key[:-1]).all()), "not sorted by (source, target) or duplicated"
    reverse_key = (target * num_nodes + source).sort().values
    assert torch.equal(key, reverse_key), "not undirected"


@pytest.fixture
def check_canonical() -> Callable[[Data], None]:
    """Asserts that a graph is in the canonical layout of ``GraphDataset.data``."""
    return _check_canonical


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> None:
    """Zip every file under ``folder`` into ``archive``, each member named ``prefix`` + its path
    relative to ``folder`` (OGB's zips put everything under ``<download name>/``)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                handle.write(path, prefix + path.relative_to(folder).as_posix())


LINUX_ONLY = pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="needs /proc")


def mapping_of(address: int) -> str:
    """The file the process's memory at ``address`` is mapped from (Linux's /proc/self/maps)."""
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        start, end = (int(bound, 16) for bound in fields[0].split("-"))
        if start <= address < end:
            return fields[5] if len(fields) == 6 else ""
    return ""


@pytest.fixture(autouse=True)
def _no_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    """ogb must never ask anything on standard input (it does where a release file is
    missing): every dataset test fails instead of hanging."""

    def refuse(*args: object) -> str:
        raise AssertionError(f"ogb called input{args}")

    monkeypatch.setattr(builtins, "input", refuse)
