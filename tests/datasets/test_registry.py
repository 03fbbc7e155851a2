"""Tests of visagnn/datasets/registry.py: names, dispatch and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from visagnn.datasets import DATASET_NAMES, load_dataset


def test_dataset_names() -> None:
    assert set(DATASET_NAMES) == {
        "synthetic",
        "cora",
        "citeseer",
        "pubmed",
        "roman-empire",
        "amazon-ratings",
        "minesweeper",
        "tolokers",
        "questions",
        "coauthor-cs",
        "coauthor-physics",
        "amazon-computers",
        "amazon-photo",
        "coauthor-cs-sparse",
        "coauthor-physics-sparse",
        "amazon-computers-sparse",
        "amazon-photo-sparse",
        "reddit",
        "ogbn-arxiv",
        "ogbn-products",
        "ogbn-papers100m",
        "mag240m",
    }
    assert all(name == name.lower() for name in DATASET_NAMES)


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown dataset 'kora'") as error:
        load_dataset("kora")
    assert all(name in str(error.value) for name in DATASET_NAMES)


def test_synthetic_takes_config_keywords_in_any_case() -> None:
    dataset = load_dataset("Synthetic", num_nodes=500, num_classes=3, seed=1)
    assert dataset.data.num_nodes == 500 and dataset.num_classes == 3


def test_keywords_are_refused_for_other_datasets() -> None:
    with pytest.raises(TypeError, match="apply to 'synthetic' only"):
        load_dataset("cora", num_nodes=10)


def test_root_defaults_to_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISAGNN_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=f"missing under {tmp_path / 'CiteSeer'}:"):
        load_dataset("citeseer")


def test_every_named_dataset_says_which_files_it_reads():
    """The grid checks a dataset's files before anything trains: a loader without a file list
    would be checked by loading it whole."""
    from visagnn.datasets import registry

    assert set(registry._FILES) == set(registry._FILE_LOADERS)
