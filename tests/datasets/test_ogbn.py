"""Tests of visagnn/datasets/ogbn.py: tiny graphs in ogb's on-disk formats, real ogb loader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch_geometric.data import Data

from tests.datasets.conftest import LINUX_ONLY, Mirror, mapping_of, zip_folder
from visagnn.datasets import load_dataset
from visagnn.datasets.ogb_compat import OGB_NAMES, import_ogb
from visagnn.datasets.ogbn import OGBN_LAYOUTS, RELEASE_FILE
from visagnn.datasets.sources import BASE_URLS

NUM_NODES, NUM_FEATURES = 30, 4
# visagnn name: (folder, number of classes in ogb's master table)
OGBN = {
    "ogbn-arxiv": ("ogbn_arxiv", 40),
    "ogbn-products": ("ogbn_products", 47),
    "ogbn-papers100m": ("ogbn_papers100M", 172),
}
TRAIN, VALID, TEST = np.arange(0, 10), np.arange(10, 15), np.arange(15, 20)


def write_tiny_ogbn(root: Path, name: str) -> np.ndarray:
    """A 30-node path graph in ogb's layout for ``name``; returns the labels (-1: none).

    CSV datasets get ``raw/*.csv.gz``; papers100M gets ``raw/data.npz`` and
    ``raw/node-label.npz`` with NaN labels for nodes 20.. (as in the real release). All get
    ``split/<scheme>/{train,valid,test}.csv.gz`` and ``RELEASE_v1.txt``.
    """
    folder, num_classes = OGBN[name]
    layout = OGBN_LAYOUTS[name]
    raw = root / folder / "raw"
    split = root / folder / "split" / layout.split
    raw.mkdir(parents=True)
    split.mkdir(parents=True)
    rng = np.random.default_rng(0)
    edges = np.stack([np.arange(NUM_NODES - 1), np.arange(1, NUM_NODES)])  # a directed path
    features = rng.standard_normal((NUM_NODES, NUM_FEATURES)).astype(np.float32)
    labels = rng.integers(num_classes, size=NUM_NODES)
    year = np.full((NUM_NODES, 1), 2020)
    if name == "ogbn-papers100m":
        labels[20:] = -1
        np.savez(
            raw / "data.npz",
            edge_index=edges,
            num_nodes_list=np.array([NUM_NODES]),
            num_edges_list=np.array([edges.shape[1]]),
            node_feat=features,
            node_year=year,
        )
        float_labels = np.where(labels >= 0, labels, np.nan).astype(np.float32)[:, None]
        np.savez(raw / "node-label.npz", node_label=float_labels)
    else:
        for file, array, fmt in [
            ("edge", edges.T, "%d"),
            ("node-feat", features, "%.8f"),
            ("node-label", labels[:, None], "%d"),
            ("num-node-list", [NUM_NODES], "%d"),
            ("num-edge-list", [edges.shape[1]], "%d"),
            ("node_year", year, "%d"),
        ]:
            np.savetxt(raw / f"{file}.csv.gz", np.asarray(array), fmt=fmt, delimiter=",")
    for part, index in (("train", TRAIN), ("valid", VALID), ("test", TEST)):
        np.savetxt(split / f"{part}.csv.gz", index, fmt="%d")
    (root / folder / RELEASE_FILE).write_text("")
    return labels


@pytest.mark.parametrize("name", sorted(OGBN))
def test_tiny_dataset_through_ogb_loader(
    name: str, tmp_path: Path, check_canonical: Callable[[Data], None]
) -> None:
    labels = write_tiny_ogbn(tmp_path, name)
    dataset = load_dataset(name, root=tmp_path)
    data = dataset.data
    check_canonical(data)
    assert (dataset.name, dataset.metric, dataset.num_classes) == (name, "accuracy", OGBN[name][1])
    assert torch.equal(data.y, torch.from_numpy(labels))
    assert data.edge_index.size(1) == 2 * (NUM_NODES - 1)
    for mask, index in ((data.train_mask, TRAIN), (data.val_mask, VALID), (data.test_mask, TEST)):
        assert torch.equal(mask.nonzero().view(-1), torch.from_numpy(index))
    logits = torch.randn(NUM_NODES, dataset.num_classes, generator=torch.Generator().manual_seed(0))
    logits[TRAIN, data.y[TRAIN]] = 100.0  # right on every training node
    assert dataset.score(logits, data.train_mask) == 1.0


def test_read_only_folder_loads_from_a_copy(
    tmp_path: Path, make_read_only: Callable[[Path], None]
) -> None:
    write_tiny_ogbn(tmp_path, "ogbn-arxiv")
    make_read_only(tmp_path)
    assert load_dataset("ogbn-arxiv", root=tmp_path).data.num_nodes == NUM_NODES
    assert not (tmp_path / "ogbn_arxiv" / "processed").exists()


def test_writable_data_folder_gets_no_new_files(tmp_path: Path) -> None:
    for name in OGBN:
        write_tiny_ogbn(tmp_path, name)
    before = sorted(tmp_path.rglob("*"))
    for name in OGBN:
        load_dataset(name, root=tmp_path)
    assert sorted(tmp_path.rglob("*")) == before


@LINUX_ONLY
def test_papers100m_features_are_mapped_and_unlabelled_nodes_unmasked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VISAGNN_CACHE", str(tmp_path / "cache"))
    write_tiny_ogbn(tmp_path, "ogbn-papers100m")
    test_split = tmp_path / "ogbn_papers100M" / "split" / "time" / "test.csv.gz"
    np.savetxt(test_split, np.append(TEST, [20, 25]), fmt="%d")  # 20 and 25 have no label
    data = load_dataset("ogbn-papers100m", root=tmp_path).data
    assert torch.equal(data.test_mask.nonzero().view(-1), torch.from_numpy(TEST))
    assert not bool((data.train_mask | data.val_mask | data.test_mask)[data.y < 0].any())
    mapped = list((tmp_path / "cache" / "processed").rglob("node_feat.npy"))
    assert len(mapped) == 1
    with np.load(tmp_path / "ogbn_papers100M" / "raw" / "data.npz") as arrays:
        assert torch.equal(data.x, torch.from_numpy(arrays["node_feat"]))
    assert mapping_of(data.x.data_ptr()) == str(mapped[0])


def test_folder_without_release_file_fails_without_prompt(tmp_path: Path) -> None:
    write_tiny_ogbn(tmp_path, "ogbn-arxiv")
    (tmp_path / "ogbn_arxiv" / RELEASE_FILE).unlink()
    with pytest.raises(FileNotFoundError, match=r"ogbn_arxiv: RELEASE_v1\.txt;"):
        load_dataset("ogbn-arxiv", root=tmp_path)


def test_missing_dataset_names_expected_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"ogbn_products: raw/edge\.csv\.gz") as error:
        load_dataset("ogbn-products", root=tmp_path)
    assert "http://snap.stanford.edu/ogb/data/nodeproppred/products.zip" in str(error.value)


@pytest.mark.parametrize("name", ["ogbn-arxiv", "ogbn-papers100m"])
def test_download_from_mirror_happens_once(
    name: str, tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = mirror.serve("ogb", monkeypatch)
    labels = write_tiny_ogbn(tmp_path / "staging", name)
    download_name = OGBN_LAYOUTS[name].download_name
    archive = published / f"{download_name}.zip"
    zip_folder(tmp_path / "staging" / OGBN[name][0], archive, prefix=f"{download_name}/")
    dataset = load_dataset(name, root=tmp_path / "data")
    assert torch.equal(dataset.data.y, torch.from_numpy(labels))
    assert mirror.requests == [f"/ogb/{download_name}.zip"]
    assert (tmp_path / "data" / OGBN[name][0] / RELEASE_FILE).is_file()
    load_dataset(name, root=tmp_path / "data")
    assert len(mirror.requests) == 1


def test_layouts_agree_with_ogb_master_table() -> None:
    master_csv = Path(import_ogb("ogb.nodeproppred").__file__).parent / "master.csv"
    master = pd.read_csv(master_csv, index_col=0, keep_default_na=False)
    for name, layout in OGBN_LAYOUTS.items():
        meta = master[OGB_NAMES[name]]
        url = f"{BASE_URLS['ogb']}/{layout.download_name}.zip"
        assert (layout.split, url, meta["version"]) == (meta["split"], meta["url"], "1")
        assert layout.download_name == meta["download_name"]
        assert layout.binary == (meta["binary"] == "True")
