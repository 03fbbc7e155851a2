"""Tests of visagnn/datasets/mag240m.py on tiny files in OGB-LSC's on-disk layout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from tests.datasets.conftest import LINUX_ONLY, Mirror, mapping_of, zip_folder
from visagnn.datasets import load_dataset
from visagnn.datasets.mag240m import MAG240M_FILES, VALIDATION_SEED
from visagnn.datasets.ogb_compat import import_ogb
from visagnn.datasets.sources import BASE_URLS
from visagnn.methods import resolve_config
from visagnn.run.train import run

NUM_PAPERS, NUM_CLASSES = 40, 153
TRAIN, VALID, TEST = np.arange(0, 20), np.arange(20, 25), np.arange(25, 30)


def write_tiny_mag240m(root: Path) -> np.ndarray:
    """``<root>/mag240m_kddcup2021/`` for 40 papers citing along a path; papers 25.. have hidden
    (``NaN``) labels, as the official test papers do. Returns the labels, ``-1`` where hidden."""
    folder = root / "mag240m_kddcup2021"
    (folder / "processed" / "paper").mkdir(parents=True)
    (folder / "processed" / "paper___cites___paper").mkdir()
    rng = np.random.default_rng(0)
    labels = rng.integers(NUM_CLASSES, size=NUM_PAPERS)
    labels[25:] = -1
    paper = folder / "processed" / "paper"
    np.save(paper / "node_feat.npy", rng.standard_normal((NUM_PAPERS, 768)).astype(np.float16))
    np.save(paper / "node_label.npy", np.where(labels >= 0, labels, np.nan).astype(np.float32))
    np.save(paper / "node_year.npy", np.full(NUM_PAPERS, 2019, dtype=np.int64))
    cites = np.stack([np.arange(1, NUM_PAPERS), np.arange(NUM_PAPERS - 1)])  # i cites i - 1
    np.save(folder / "processed" / "paper___cites___paper" / "edge_index.npy", cites)
    meta = {"paper": NUM_PAPERS, "author": 0, "institution": 0, "num_classes": NUM_CLASSES}
    torch.save(meta, folder / "meta.pt")
    torch.save({"train": TRAIN, "valid": VALID, "test": TEST}, folder / "split_dict.pt")
    (folder / "RELEASE_v1.txt").write_text("")
    return labels


def test_tiny_mag240m_through_ogb_lsc(
    tmp_path: Path, check_canonical: Callable[[Data], None]
) -> None:
    labels = write_tiny_mag240m(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    dataset = load_dataset("MAG240M", root=tmp_path)
    data = dataset.data
    check_canonical(data.clone().update({"x": data.x.float()}))
    assert (dataset.name, dataset.metric, dataset.num_classes) == ("mag240m", "accuracy", 153)
    assert data.x.dtype == torch.float16 and data.x.shape == (NUM_PAPERS, 768)
    features = np.load(tmp_path / "mag240m_kddcup2021" / "processed" / "paper" / "node_feat.npy")
    assert torch.equal(data.x, torch.from_numpy(features))
    assert torch.equal(data.y, torch.from_numpy(labels))
    assert data.edge_index.size(1) == 2 * (NUM_PAPERS - 1)
    # official valid is the test set; validation is carved from train, as large as valid
    assert torch.equal(data.test_mask.nonzero().view(-1), torch.from_numpy(VALID))
    order = torch.randperm(20, generator=torch.Generator().manual_seed(VALIDATION_SEED))
    assert torch.equal(data.val_mask.nonzero().view(-1), order[:5].sort().values)
    assert torch.equal(data.train_mask.nonzero().view(-1), order[5:].sort().values)
    assert sorted(tmp_path.rglob("*")) == before


@LINUX_ONLY
def test_features_are_a_memory_map_of_the_file(tmp_path: Path) -> None:
    write_tiny_mag240m(tmp_path)
    x = load_dataset("mag240m", root=tmp_path).data.x
    feature_file = tmp_path / "mag240m_kddcup2021" / "processed" / "paper" / "node_feat.npy"
    assert mapping_of(x.data_ptr()) == str(feature_file)


def test_download_from_mirror_happens_once(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = mirror.serve("mag240m", monkeypatch)
    labels = write_tiny_mag240m(tmp_path / "staging")
    zip_folder(
        tmp_path / "staging" / "mag240m_kddcup2021",
        published / "mag240m_kddcup2021.zip",
        prefix="mag240m_kddcup2021/",
    )
    dataset = load_dataset("mag240m", root=tmp_path / "data")
    assert torch.equal(dataset.data.y, torch.from_numpy(labels))
    assert mirror.requests == ["/mag240m/mag240m_kddcup2021.zip"]
    load_dataset("mag240m", root=tmp_path / "data")
    assert len(mirror.requests) == 1


def test_missing_files_are_named_with_their_url(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"mag240m_kddcup2021: meta\.pt, ") as error:
        load_dataset("mag240m", root=tmp_path)
    assert f"{BASE_URLS['mag240m']}/mag240m_kddcup2021.zip" in str(error.value)


def test_files_and_url_agree_with_ogb_lsc() -> None:
    assert MAG240M_FILES.remotes[0].url == import_ogb("ogb.lsc").MAG240MDataset.url


@pytest.mark.parametrize("method", ["gas", "visagnn-sum", "clustergcn", "graphsaint", "sage"])
def test_mini_batch_methods_train_on_the_memory_mapped_float16_features(tmp_path: Path,
                                                                        method: str) -> None:
    write_tiny_mag240m(tmp_path)
    config = resolve_config("mag240m", method, root=str(tmp_path), epochs=2, hidden_channels=8,
                            heads=2, shared=dict(num_parts=4, batch_parts=2))
    summary = run(config, progress=False).summary
    assert summary["status"] == "ok", summary.get("error")
    # the float16 map (and the partition order), no float32 or relabelled copy of it
    order = NUM_PAPERS * 8 if method in ("gas", "visagnn-sum", "clustergcn") else 0
    assert summary["memory"]["features_mb"] * 2**20 == NUM_PAPERS * 768 * 2 + order
