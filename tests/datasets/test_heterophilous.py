"""Tests of visagnn/datasets/heterophilous.py: shared Tolokers and Minesweeper, tiny others."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from tests.datasets.conftest import Mirror
from visagnn.datasets import load_dataset
from visagnn.datasets.heterophilous import HETEROPHILOUS_METRICS

# name: (nodes, directed edges, features), as published.
PUBLISHED = {"tolokers": (11758, 1038000, 10), "minesweeper": (10000, 78804, 7)}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shared_dataset_has_published_sizes(
    name: str, shared_data: Path, check_canonical: Callable[[Data], None]
) -> None:
    dataset = load_dataset(name, root=shared_data)
    data = dataset.data
    check_canonical(data)
    assert (data.num_nodes, data.edge_index.size(1), data.x.size(1)) == PUBLISHED[name]
    assert (dataset.metric, dataset.num_classes) == ("rocauc", 2)
    # The first of the ten 50/25/25 splits.
    assert int(data.train_mask.sum()) == data.num_nodes // 2
    assert int((data.train_mask | data.val_mask | data.test_mask).sum()) == data.num_nodes


def write_tiny_heterophilous(path: Path, num_nodes: int = 40, num_classes: int = 3) -> None:
    """The ``.npz`` layout of Platonov et al.; split ``k`` trains on nodes ``k..k+9``."""
    rng = np.random.default_rng(1)
    masks = np.zeros((3, 10, num_nodes), dtype=bool)
    for split in range(10):
        order = np.roll(np.arange(num_nodes), -split)
        masks[0, split, order[:10]] = masks[1, split, order[10:20]] = True
        masks[2, split, order[20:]] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        node_features=rng.standard_normal((num_nodes, 5)).astype(np.float32),
        node_labels=np.arange(num_nodes) % num_classes,
        edges=np.stack([np.arange(num_nodes), (np.arange(num_nodes) + 1) % num_nodes], axis=1),
        train_masks=masks[0],
        val_masks=masks[1],
        test_masks=masks[2],
    )


@pytest.mark.parametrize("name", sorted(HETEROPHILOUS_METRICS))
def test_tiny_dataset_through_pyg_loader(
    name: str, tmp_path: Path, check_canonical: Callable[[Data], None]
) -> None:
    folder = name.replace("-", "_")
    num_classes = 2 if HETEROPHILOUS_METRICS[name] == "rocauc" else 3
    write_tiny_heterophilous(tmp_path / folder / "raw" / f"{folder}.npz", num_classes=num_classes)
    dataset = load_dataset(name.upper(), root=tmp_path)
    data = dataset.data
    check_canonical(data)
    assert (dataset.name, dataset.num_classes) == (name, num_classes)
    assert data.edge_index.size(1) == 80
    assert torch.equal(data.train_mask.nonzero().view(-1), torch.arange(10))
    assert torch.equal(data.val_mask.nonzero().view(-1), torch.arange(10, 20))


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"roman_empire: raw/roman_empire\.npz;") as error:
        load_dataset("roman-empire", root=tmp_path)
    assert "heterophilous-graphs/raw/main/data/roman_empire.npz" in str(error.value)


def test_download_from_mirror_happens_once(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = mirror.serve("heterophilous", monkeypatch)
    write_tiny_heterophilous(published / "amazon_ratings.npz")
    dataset = load_dataset("amazon-ratings", root=tmp_path)
    assert dataset.data.num_nodes == 40
    assert mirror.requests == ["/heterophilous/amazon_ratings.npz"]
    load_dataset("amazon-ratings", root=tmp_path)
    assert len(mirror.requests) == 1
