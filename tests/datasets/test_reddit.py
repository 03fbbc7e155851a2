"""Tests of visagnn/datasets/reddit.py on a tiny graph in DGL's release format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from tests.datasets.conftest import Mirror, zip_folder
from visagnn.datasets import load_dataset


def write_tiny_reddit(raw: Path, num_nodes: int = 12) -> np.ndarray:
    """DGL's ``reddit_data.npz`` and ``reddit_graph.npz`` for one direction of a ring plus a
    self-loop; node types split the nodes 1/2, 1/4, 1/4 into train, val, test.

    Returns:
        the labels.
    """
    raw.mkdir(parents=True)
    train, val = num_nodes // 2, num_nodes // 4
    node_types = np.array([1] * train + [2] * val + [3] * (num_nodes - train - val))
    labels = np.arange(num_nodes) % 4
    np.savez(
        raw / "reddit_data.npz",
        feature=np.random.default_rng(0).standard_normal((num_nodes, 5)).astype(np.float32),
        label=labels,
        node_types=node_types,
    )
    row = np.append(np.arange(num_nodes), 0)
    col = np.append((np.arange(num_nodes) + 1) % num_nodes, 0)
    adjacency = sp.coo_matrix((np.ones(row.size), (row, col)), shape=(num_nodes, num_nodes))
    sp.save_npz(raw / "reddit_graph.npz", adjacency)
    return labels


def test_tiny_reddit_through_pyg_loader(
    tmp_path: Path, check_canonical: Callable[[Data], None]
) -> None:
    num_nodes = 12
    # the loader must symmetrise the one-directional ring and drop the self-loop
    labels = write_tiny_reddit(tmp_path / "Reddit" / "raw", num_nodes)
    node_types = np.array([1] * 6 + [2] * 3 + [3] * 3)

    dataset = load_dataset("reddit", root=tmp_path)
    data = dataset.data
    check_canonical(data)
    assert (dataset.name, dataset.metric, dataset.num_classes) == ("reddit", "accuracy", 4)
    assert data.edge_index.size(1) == 2 * num_nodes
    assert torch.equal(data.y, torch.from_numpy(labels))
    assert torch.equal(data.train_mask, torch.from_numpy(node_types == 1))
    assert torch.equal(data.test_mask, torch.from_numpy(node_types == 3))


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"Reddit: .*raw/reddit_graph\.npz") as error:
        load_dataset("reddit", root=tmp_path)
    assert "https://data.dgl.ai/dataset/reddit.zip" in str(error.value)


def test_download_from_mirror_happens_once(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = mirror.serve("reddit", monkeypatch)
    labels = write_tiny_reddit(tmp_path / "staging")
    zip_folder(tmp_path / "staging", published / "reddit.zip")  # members at the top level
    dataset = load_dataset("reddit", root=tmp_path / "data", download=True)
    assert torch.equal(dataset.data.y, torch.from_numpy(labels))
    assert mirror.requests == ["/reddit/reddit.zip"]
    assert sorted(path.name for path in (tmp_path / "data" / "Reddit" / "raw").iterdir()) == [
        "reddit_data.npz",
        "reddit_graph.npz",
    ]
    load_dataset("reddit", root=tmp_path / "data", download=True)
    assert len(mirror.requests) == 1
