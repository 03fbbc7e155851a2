"""Tests of visagnn/datasets/planetoid.py: the shared Cora and CiteSeer, a tiny PubMed."""

from __future__ import annotations

import pickle
import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from tests.datasets.conftest import Mirror
from visagnn.datasets import load_dataset
from visagnn.datasets.planetoid import PLANETOID_NAMES

# name: (nodes, directed edges, features, classes, train, val, test), as published.
PUBLISHED = {
    "cora": (2708, 10556, 1433, 7, 140, 500, 1000),
    "citeseer": (3327, 9104, 3703, 6, 120, 500, 1000),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_shared_dataset_has_published_sizes(
    name: str, shared_data: Path, check_canonical: Callable[[Data], None]
) -> None:
    dataset = load_dataset(name, root=shared_data)
    data = dataset.data
    check_canonical(data)
    sizes = (
        data.num_nodes,
        data.edge_index.size(1),
        data.x.size(1),
        dataset.num_classes,
        int(data.train_mask.sum()),
        int(data.val_mask.sum()),
        int(data.test_mask.sum()),
    )
    assert sizes == PUBLISHED[name]
    assert (dataset.name, dataset.metric) == (name, "accuracy")
    assert not (shared_data / PLANETOID_NAMES[name] / "processed").exists()


@pytest.mark.parametrize("read_only", [False, True])
def test_copy_of_shared_cora_gets_no_new_files(
    read_only: bool, shared_data: Path, tmp_path: Path, make_read_only: Callable[[Path], None]
) -> None:
    shutil.copytree(shared_data / "Cora" / "raw", tmp_path / "Cora" / "raw")
    if read_only:
        make_read_only(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    assert load_dataset("cora", root=tmp_path).data.num_nodes == 2708
    assert sorted(tmp_path.rglob("*")) == before


TINY_TRAIN, TINY_ALL, TINY_TEST, TINY_CLASSES = 6, 520, 30, 3


def write_tiny_planetoid(raw_dir: Path, prefix: str) -> dict[str, np.ndarray]:
    """Planetoid's ``ind.<prefix>.*`` files for a tiny graph; returns its true labels.

    Nodes ``0..TINY_ALL-1`` are ``allx`` (the first ``TINY_TRAIN`` also ``x``: the training
    nodes, the next 500 the validation nodes), nodes ``TINY_ALL..`` are the test nodes, listed
    in ``test.index`` in shuffled order. Features are sparse like PubMed's TF-IDF.
    """
    rng = np.random.default_rng(0)
    num_nodes = TINY_ALL + TINY_TEST
    labels = rng.integers(TINY_CLASSES, size=num_nodes)
    features = sp.random(num_nodes, 4, density=0.5, format="csr", random_state=0, dtype=np.float32)
    one_hot = np.eye(TINY_CLASSES, dtype=np.int64)[labels]
    test_index = TINY_ALL + rng.permutation(TINY_TEST)
    graph: defaultdict[int, list[int]] = defaultdict(list)
    for node in range(num_nodes):
        graph[node] += [(node + 1) % num_nodes, (node + 7) % num_nodes]
    graph[3] += [3, 4]  # a self-loop and a duplicate edge, as in the real files
    objects = {
        "x": features[:TINY_TRAIN],
        "y": one_hot[:TINY_TRAIN],
        "allx": features[:TINY_ALL],
        "ally": one_hot[:TINY_ALL],
        "tx": features[test_index],  # row k describes node test_index[k]
        "ty": one_hot[test_index],
        "graph": graph,
    }
    raw_dir.mkdir(parents=True)
    for suffix, obj in objects.items():
        with open(raw_dir / f"ind.{prefix}.{suffix}", "wb") as file:
            pickle.dump(obj, file)
    np.savetxt(raw_dir / f"ind.{prefix}.test.index", test_index, fmt="%d")
    return {"labels": labels, "features": features.toarray()}


def test_tiny_pubmed_through_pyg_loader(
    tmp_path: Path, check_canonical: Callable[[Data], None]
) -> None:
    truth = write_tiny_planetoid(tmp_path / "PubMed" / "raw", "pubmed")
    dataset = load_dataset("PubMed", root=tmp_path)
    data = dataset.data
    check_canonical(data)
    assert (dataset.name, dataset.metric, dataset.num_classes) == ("pubmed", "accuracy", 3)
    assert torch.equal(data.y, torch.from_numpy(truth["labels"]))
    features = torch.from_numpy(truth["features"])
    assert torch.allclose(data.x, features / features.sum(dim=1, keepdim=True).clamp(min=1))
    assert torch.equal(data.train_mask.nonzero().view(-1), torch.arange(TINY_TRAIN))
    assert torch.equal(data.val_mask.nonzero().view(-1), torch.arange(TINY_TRAIN, TINY_TRAIN + 500))
    assert torch.equal(data.test_mask.nonzero().view(-1), torch.arange(TINY_ALL, TINY_ALL + 30))
    # Ring edges i - i+1 and i - i+7 in both directions; the self-loop and duplicate vanish.
    assert data.edge_index.size(1) == 4 * data.num_nodes


def test_writable_data_folder_gets_no_new_files(tmp_path: Path) -> None:
    write_tiny_planetoid(tmp_path / "PubMed" / "raw", "pubmed")
    before = sorted(tmp_path.rglob("*"))
    load_dataset("pubmed", root=tmp_path)
    load_dataset("pubmed", root=tmp_path)  # from the processed file in the cache
    assert sorted(tmp_path.rglob("*")) == before


def test_missing_raw_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"PubMed: .*raw/ind\.pubmed\.graph"):
        load_dataset("pubmed", root=tmp_path)


def test_download_from_mirror_happens_once(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = mirror.serve("planetoid", monkeypatch)
    truth = write_tiny_planetoid(published / "staging", "pubmed")
    for path in (published / "staging").iterdir():
        path.rename(published / path.name)
    dataset = load_dataset("pubmed", root=tmp_path / "data")
    assert torch.equal(dataset.data.y, torch.from_numpy(truth["labels"]))
    assert len(mirror.requests) == 8
    assert (tmp_path / "data" / "PubMed" / "raw" / "ind.pubmed.graph").is_file()
    load_dataset("pubmed", root=tmp_path / "data")
    assert len(mirror.requests) == 8


def test_planetoid_features_are_row_normalised(shared_data: Path) -> None:
    x = load_dataset("cora", root=shared_data).data.x
    row_sums = x.sum(dim=1)
    assert torch.allclose(row_sums[row_sums > 0], torch.ones(int((row_sums > 0).sum())))
