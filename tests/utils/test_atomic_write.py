import errno
import json
import os
import urllib.error

import pytest

from visagnn.flags import UsageError
from visagnn.utils.atomic_write import OutputError, atomic_write, check_output_folder


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / "sub" / "out.json"
    with atomic_write(path) as handle:
        json.dump({"a": 1}, handle)
    assert json.loads(path.read_text()) == {"a": 1}
    with atomic_write(path, binary=True) as handle:
        handle.write(b"xyz")
    assert path.read_bytes() == b"xyz"
    assert [p.name for p in path.parent.iterdir()] == ["out.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as handle:
        handle.write("half")
        raise RuntimeError("crash")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_an_os_error_while_writing_is_one_line_naming_the_file_and_keeps_the_old(tmp_path,
                                                                                  monkeypatch):
    path = tmp_path / "summary.json"
    path.write_text("old")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OutputError) as caught, atomic_write(path) as handle:
        handle.write("new")
    assert caught.value.strerror == f"no space left on device writing {path}"
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_check_output_folder_creates_a_missing_folder(tmp_path):
    assert check_output_folder(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    assert list((tmp_path / "a" / "b").iterdir()) == []


@pytest.mark.parametrize("case", ["empty", "file", "under_file", "no_write_bits"])
def test_check_output_folder_refuses_what_cannot_hold_outputs(tmp_path, case):
    target = tmp_path / "file"
    target.write_text("x")
    path, expected = {
        "empty": ("", "--out: an empty path is not a folder"),
        "file": (target, f"--out {target}: is a file, not a folder"),
        "under_file": (target / "sub", f"--out {target / 'sub'}: lies under the file {target}"),
        "no_write_bits": (tmp_path / "ro" / "new", f"{tmp_path / 'ro'} is not writable"),
    }[case]
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    with pytest.raises(UsageError) as caught:
        check_output_folder(path, "--out")
    assert expected in str(caught.value)
    assert not (tmp_path / "ro" / "new").exists()


def test_a_sources_error_inside_the_block_is_not_taken_for_the_files(tmp_path):
    path = tmp_path / "download.bin"
    error = urllib.error.HTTPError("http://mirror/a.bin", 404, "Not Found", None, None)
    with pytest.raises(urllib.error.HTTPError), atomic_write(path, binary=True):
        raise error
    assert list(tmp_path.iterdir()) == []


def test_a_written_file_gets_the_umasks_mode(tmp_path):
    previous = os.umask(0o027)
    try:
        with atomic_write(tmp_path / "out.txt") as handle:
            handle.write("x")
    finally:
        os.umask(previous)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == 0o640
