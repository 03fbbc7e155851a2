"""Tests of visagnn/datasets/root.py: the data root, finding and downloading a dataset's files."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.datasets.conftest import Mirror
from visagnn.datasets import resolve_root
from visagnn.datasets.root import DatasetFiles, check_dataset_files, find_dataset
from visagnn.datasets.sources import RemoteFile

TOY = DatasetFiles(
    "toy",
    "Toy",
    ("raw/a.bin", "raw/b.bin"),
    tuple(RemoteFile("planetoid", name, f"Toy/raw/{name}") for name in ("a.bin", "b.bin")),
)


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own: its download folder starts empty."""
    monkeypatch.setenv("VISAGNN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_resolve_root_prefers_argument_then_env_then_xdg_then_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert resolve_root() == tmp_path / "home" / ".cache" / "visagnn"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert resolve_root(None) == tmp_path / "xdg" / "visagnn"
    monkeypatch.setenv("VISAGNN_DATA", str(tmp_path / "env"))
    assert resolve_root() == tmp_path / "env"
    assert resolve_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_root("~/data") == tmp_path / "home" / "data"


def publish_toy(mirror: Mirror, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = mirror.serve("planetoid", monkeypatch)
    (folder / "a.bin").write_bytes(b"a" * 1000)
    (folder / "b.bin").write_bytes(b"b")


def test_present_files_are_found_without_download(tmp_path: Path) -> None:
    for name in TOY.files:
        (tmp_path / "Toy" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "Toy" / name).write_bytes(b"")
    assert find_dataset(TOY, tmp_path, download=False) == tmp_path / "Toy"


def test_forbidden_download_fails_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "Toy" / "raw").mkdir(parents=True)
    (tmp_path / "Toy" / "raw" / "a.bin").write_bytes(b"")
    with pytest.raises(FileNotFoundError) as error:
        find_dataset(TOY, tmp_path, download=None)  # VISAGNN_NO_DOWNLOAD=1 (conftest)
    message = str(error.value)
    assert "\n" not in message
    assert f"toy: missing under {tmp_path / 'Toy'}: raw/b.bin;" in message
    assert "raw/a.bin" not in message
    assert "https://github.com/kimiyoung/planetoid/raw/master/data/<file name>" in message
    assert "download=True" in message and "VISAGNN_NO_DOWNLOAD" in message


def test_download_false_wins_over_the_environment(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_toy(mirror, monkeypatch)
    with pytest.raises(FileNotFoundError, match="downloading is off"):
        find_dataset(TOY, tmp_path, download=False)
    assert mirror.requests == []


def test_missing_files_are_downloaded_once(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_toy(mirror, monkeypatch)
    assert find_dataset(TOY, tmp_path, download=None) == tmp_path / "Toy"
    assert (tmp_path / "Toy" / "raw" / "a.bin").read_bytes() == b"a" * 1000
    assert sorted(mirror.requests) == ["/planetoid/a.bin", "/planetoid/b.bin"]
    assert sorted(path.name for path in (tmp_path / "Toy" / "raw").iterdir()) == ["a.bin", "b.bin"]
    find_dataset(TOY, tmp_path, download=True)
    assert len(mirror.requests) == 2


def test_read_only_root_downloads_into_the_cache(
    tmp_path: Path,
    mirror: Mirror,
    monkeypatch: pytest.MonkeyPatch,
    cache: Path,
    make_read_only: Callable[[Path], None],
) -> None:
    publish_toy(mirror, monkeypatch)
    root = tmp_path / "shared"
    root.mkdir()
    make_read_only(root)
    folder = find_dataset(TOY, root, download=True)
    assert folder == cache / "data" / "Toy" and (folder / "raw" / "b.bin").is_file()
    assert list(root.iterdir()) == []
    assert find_dataset(TOY, root, download=False) == folder


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_host_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}/planetoid"
    monkeypatch.setenv("VISAGNN_MIRROR_PLANETOID", url)
    with pytest.raises(FileNotFoundError) as error:
        find_dataset(TOY, tmp_path, download=True)
    message = str(error.value)
    assert "\n" not in message
    assert f"toy: missing under {tmp_path / 'Toy'}: raw/a.bin, raw/b.bin;" in message
    assert f"downloading them from {url}/<file name> failed (" in message
    assert "Connection refused" in message
    assert "VISAGNN_MIRROR_PLANETOID" in message and "VISAGNN_NO_DOWNLOAD=1" in message
    assert not [path for path in tmp_path.rglob("*") if path.is_file()], "partial files left"


def test_http_error_is_reported_with_its_status(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror.serve("planetoid", monkeypatch)  # publishes nothing
    with pytest.raises(FileNotFoundError, match="HTTP Error 404"):
        find_dataset(TOY, tmp_path, download=True)


def test_invalid_no_download_value_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VISAGNN_NO_DOWNLOAD", "maybe")
    with pytest.raises(ValueError, match="VISAGNN_NO_DOWNLOAD"):
        find_dataset(TOY, tmp_path, download=None)


@pytest.mark.parametrize("below", ["", "sub"])
def test_a_data_root_that_is_a_file_is_said_before_any_download(
    below: str, tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_toy(mirror, monkeypatch)
    (tmp_path / "FILE").write_text("a file")
    root = tmp_path / "FILE" / below if below else tmp_path / "FILE"
    where = "is a file" if not below else f"lies under the file {tmp_path / 'FILE'}"
    for check in (find_dataset, check_dataset_files):
        with pytest.raises(FileNotFoundError) as error:
            check(TOY, root, download=True)
        assert str(error.value) == f"the data root {root} {where}, not a folder"
    assert mirror.requests == []


def test_checking_files_fetches_nothing_and_fails_only_without_downloads(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_toy(mirror, monkeypatch)
    check_dataset_files(TOY, tmp_path, download=True)  # downloadable: fine, not fetched
    assert mirror.requests == [] and not (tmp_path / "Toy").exists()
    with pytest.raises(FileNotFoundError, match="toy: missing under .*downloading is off"):
        check_dataset_files(TOY, tmp_path, download=False)
