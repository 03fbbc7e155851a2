from visagnn.utils.cache import cache_folder, can_create_folder


def test_cache_folder_honours_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("VISAGNN_CACHE", str(tmp_path / "cache"))
    folder = cache_folder("partitions")
    assert folder == tmp_path / "cache" / "partitions" and folder.is_dir()


def test_cache_folder_is_never_the_data_root(tmp_path, monkeypatch):
    monkeypatch.delenv("VISAGNN_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("VISAGNN_DATA", str(tmp_path / "data"))
    assert cache_folder("partitions") == tmp_path / "xdg" / "visagnn" / "partitions"


def test_read_only_cache_falls_back_to_a_temporary_folder(tmp_path, monkeypatch):
    read_only = tmp_path / "shared"
    read_only.mkdir()
    read_only.chmod(0o555)
    monkeypatch.setenv("VISAGNN_CACHE", str(read_only))
    folder = cache_folder("partitions")
    assert not (read_only / "partitions").exists()
    assert folder.is_dir() and folder.name == "partitions"
    assert folder.parent.name.startswith("visagnn-cache-")


def test_a_folder_without_write_bits_counts_as_read_only(tmp_path):
    read_only = tmp_path / "shared"
    read_only.mkdir()
    read_only.chmod(0o555)
    assert can_create_folder(tmp_path / "new" / "deeper")
    assert not can_create_folder(read_only / "new")
