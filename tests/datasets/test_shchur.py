"""Tests of visagnn/datasets/shchur.py: the shared Amazon Computers and Coauthor Physics, tiny
``.npz`` files of all four graphs, the fixed splits and downloads from a local mirror."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data
from torch_geometric.io import read_npz

from tests.datasets.conftest import Mirror
from visagnn.datasets import GraphDataset, load_dataset
from visagnn.datasets.shchur import SHCHUR_GRAPHS, SPARSE_SUFFIX

# name: (nodes, directed edges, features, classes), as ../shared/data/README.md and PyG publish.
PUBLISHED = {
    "amazon-computers": (13752, 491722, 767, 10),
    "coauthor-physics": (34493, 495924, 8415, 5),
}


def split_digest(dataset: GraphDataset) -> str:
    """The first 16 hex digits of the sha256 of the three masks' bytes."""
    data = dataset.data
    digest = hashlib.sha256()
    for mask in (data.train_mask, data.val_mask, data.test_mask):
        digest.update(mask.numpy().tobytes())
    return digest.hexdigest()[:16]


def split_sizes(dataset: GraphDataset) -> tuple[int, int, int]:
    data = dataset.data
    return int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum())


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shared_dataset_has_published_sizes(
    name: str, shared_data: Path, check_canonical: Callable[[Data], None]
) -> None:
    folder = shared_data / SHCHUR_GRAPHS[name][0]
    if not folder.is_dir():
        pytest.skip(f"{folder} not in the shared data folder")
    before = sorted(folder.rglob("*"))
    dataset = load_dataset(name, root=shared_data)
    data = dataset.data
    check_canonical(data)
    sizes = (data.num_nodes, data.edge_index.size(1), data.x.size(1), dataset.num_classes)
    assert sizes == PUBLISHED[name]
    assert (dataset.name, dataset.metric) == (name, "accuracy")
    # 50/25/25 of each class, floored: the test set takes the remainders.
    train, val, test = split_sizes(dataset)
    assert train + val + test == data.num_nodes
    assert data.num_nodes // 2 - dataset.num_classes <= train <= data.num_nodes // 2
    assert sorted(folder.rglob("*")) == before


@pytest.fixture
def shared_computers(shared_data: Path) -> Path:
    if not (shared_data / "Computers").is_dir():
        pytest.skip(f"{shared_data / 'Computers'} not in the shared data folder")
    return shared_data


def test_shared_computers_is_pyg_read_npz(shared_computers: Path) -> None:
    data = load_dataset("amazon-computers", root=shared_computers).data
    reference = read_npz(str(shared_computers / "Computers/raw/amazon_electronics_computers.npz"))
    assert torch.equal(data.x, reference.x)
    assert torch.equal(data.y, reference.y)
    assert torch.equal(data.edge_index, reference.edge_index)


@pytest.mark.parametrize(
    "name, sizes, digest",
    [
        ("amazon-computers", (6875, 3434, 3443), "237514db702f46e7"),
        ("amazon-computers-sparse", (200, 300, 13252), "add0775afca85b77"),
    ],
)
def test_shared_computers_split_is_fixed(
    name: str, sizes: tuple[int, int, int], digest: str, shared_computers: Path
) -> None:
    first = load_dataset(name, root=shared_computers)
    assert split_sizes(first) == sizes
    assert split_digest(first) == digest
    assert split_digest(load_dataset(name, root=shared_computers)) == digest


TINY_PER_CLASS, TINY_CLASSES, TINY_FEATURES = 60, 3, 6


def write_tiny_shchur(path: Path) -> None:
    """A tiny ``.npz`` in the layout of shchur/gnn-benchmark's files: CSR adjacency and counts
    as features (``adj_*``, ``attr_*``), int32 ``labels`` (60 nodes in each of 3 classes,
    shuffled), and the name arrays of the originals. The adjacency is directed (``i -> i+1``,
    ``i -> i+5``) with a self-loop at node 0."""
    rng = np.random.default_rng(0)
    num_nodes = TINY_PER_CLASS * TINY_CLASSES
    nodes = np.arange(num_nodes)
    rows = np.concatenate([nodes, nodes, [0]])
    cols = np.concatenate([(nodes + 1) % num_nodes, (nodes + 5) % num_nodes, [0]])
    adjacency = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, cols)), (num_nodes,) * 2)
    counts = rng.integers(0, 3, size=(num_nodes, TINY_FEATURES)).astype(np.float32)
    attributes = sp.csr_matrix(counts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        adj_data=adjacency.data,
        adj_indices=adjacency.indices,
        adj_indptr=adjacency.indptr,
        adj_shape=np.array(adjacency.shape),
        attr_data=attributes.data,
        attr_indices=attributes.indices,
        attr_indptr=attributes.indptr,
        attr_shape=np.array(attributes.shape),
        labels=rng.permutation(np.repeat(np.arange(TINY_CLASSES), TINY_PER_CLASS)).astype(np.int32),
        node_names=np.array([f"node {node}" for node in nodes]),
        attr_names=np.array([f"word {word}" for word in range(TINY_FEATURES)]),
        class_names=np.array([f"class {label}" for label in range(TINY_CLASSES)]),
    )


def tiny_path(root: Path, name: str) -> Path:
    folder, file = SHCHUR_GRAPHS[name]
    return root / folder / "raw" / file


@pytest.mark.parametrize("name", sorted(SHCHUR_GRAPHS))
def test_tiny_graph_is_pyg_read_npz(
    name: str, tmp_path: Path, check_canonical: Callable[[Data], None]
) -> None:
    path = tiny_path(tmp_path, name)
    write_tiny_shchur(path)
    before = sorted(tmp_path.rglob("*"))
    dataset = load_dataset(name.upper(), root=tmp_path)
    data = dataset.data
    check_canonical(data)
    assert (dataset.name, dataset.metric, dataset.num_classes) == (name, "accuracy", 3)
    reference = read_npz(str(path))
    assert torch.equal(data.x, reference.x)
    assert set(data.x.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(data.y, reference.y)
    assert torch.equal(data.edge_index, reference.edge_index)
    # Both ring directions of i - i+1 and i - i+5; the self-loop is gone.
    assert data.edge_index.size(1) == 4 * data.num_nodes
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    "suffix, per_class, digest",
    [("", (30, 15, 15), "abe5049029640d1e"), (SPARSE_SUFFIX, (20, 30, 10), "235045b28ea78be4")],
)
def test_tiny_split_is_fixed(
    suffix: str, per_class: tuple[int, int, int], digest: str, tmp_path: Path
) -> None:
    write_tiny_shchur(tiny_path(tmp_path, "amazon-photo"))
    dataset = load_dataset(f"amazon-photo{suffix}", root=tmp_path)
    data = dataset.data
    masks = (data.train_mask, data.val_mask, data.test_mask)
    for mask, count in zip(masks, per_class, strict=True):
        assert torch.bincount(data.y[mask], minlength=TINY_CLASSES).tolist() == [count] * 3
    assert split_digest(dataset) == digest
    assert split_digest(load_dataset(f"amazon-photo{suffix}", root=tmp_path)) == digest


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"CS: raw/ms_academic_cs\.npz;") as error:
        load_dataset("coauthor-cs-sparse", root=tmp_path)
    assert "shchur/gnn-benchmark/raw/master/data/npz/ms_academic_cs.npz" in str(error.value)


@pytest.mark.parametrize("name", ["coauthor-cs", "amazon-photo"])
def test_download_from_mirror_happens_once(
    name: str, tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = mirror.serve("shchur", monkeypatch)
    file = SHCHUR_GRAPHS[name][1]
    write_tiny_shchur(published / file)
    dataset = load_dataset(name, root=tmp_path / "data")
    assert dataset.data.num_nodes == TINY_PER_CLASS * TINY_CLASSES
    assert mirror.requests == [f"/shchur/{file}"]
    assert tiny_path(tmp_path / "data", name).is_file()
    sparse = load_dataset(f"{name}{SPARSE_SUFFIX}", root=tmp_path / "data")
    assert split_sizes(sparse) == (60, 90, 30)
    assert len(mirror.requests) == 1
