import json

import pytest

from visagnn.utils.atomic_write import atomic_write


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
