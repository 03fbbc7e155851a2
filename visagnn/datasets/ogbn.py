"""ogbn-arxiv, ogbn-products and ogbn-papers100M, in OGB's on-disk formats.

Each dataset is OGB's zip (``<download name>.zip``, the ``url`` row of ogb's
``nodeproppred/master.csv``), unpacked into ``<root>/ogbn_<name>/``: ``raw/`` holds the graph,
``split/<scheme>/{train,valid,test}.csv.gz`` the official split (one node id a line), and
``RELEASE_v1.txt`` marks the version.

arxiv and products store the graph as CSV (``raw/edge.csv.gz``, ``node-feat.csv.gz``, ...) and
go through ogb's ``PygNodePropPredDataset``, wrapped against its pitfalls: the files it reads,
and the ``RELEASE_v1.txt`` whose absence makes ogb call ``input()``, are in place before it
starts (:func:`~visagnn.datasets.root.find_dataset`); its processed file goes to the cache
(:mod:`visagnn.datasets.processed`); its bare ``torch.load`` runs inside
:func:`~visagnn.datasets.serialization.pyg_safe_globals`; ogb is imported through
:func:`~visagnn.datasets.ogb_compat.import_ogb`, which starts no version check.

papers100M is OGB's binary format, read here directly so that its features (111M x 128 float32,
56 GB) are memory-mapped rather than loaded: ``raw/data.npz`` holds ``edge_index`` ``[2, E]``,
``num_nodes_list``, ``num_edges_list``, ``node_feat`` ``[N, F]`` and ``node_year``;
``raw/node-label.npz`` holds ``node_label`` ``[N, 1]`` float, ``NaN`` for unlabelled papers.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.utils import index_to_mask

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.memmap import mapped_tensor, npz_member_as_npy
from visagnn.datasets.ogb_compat import OGB_NAMES, import_ogb
from visagnn.datasets.processed import processed_folder, processing_in
from visagnn.datasets.root import DatasetFiles, find_dataset
from visagnn.datasets.serialization import pyg_safe_globals
from visagnn.datasets.sources import RemoteFile


@dataclass(frozen=True)
class OgbnLayout:
    """What visagnn reads of one dataset (mirrors its column of ogb's ``master.csv``).

    Attributes:
        raw_files: files under ``raw/``.
        split: the official split's folder under ``split/``.
        download_name: the zip's name without ``.zip``, also the folder its members sit in.
    """

    raw_files: tuple[str, ...]
    split: str
    download_name: str

    @property
    def binary(self) -> bool:
        return "data.npz" in self.raw_files

    def files(self) -> list[str]:
        """Every file read, relative to the dataset's folder."""
        split_files = [f"split/{self.split}/{part}.csv.gz" for part in SPLIT_PARTS]
        return [f"raw/{name}" for name in self.raw_files] + split_files + [RELEASE_FILE]


RELEASE_FILE = "RELEASE_v1.txt"
SPLIT_PARTS = ("train", "valid", "test")
_CSV_GRAPH = (
    "edge.csv.gz",
    "num-node-list.csv.gz",
    "num-edge-list.csv.gz",
    "node-feat.csv.gz",
    "node-label.csv.gz",
)
OGBN_LAYOUTS: dict[str, OgbnLayout] = {
    "ogbn-arxiv": OgbnLayout((*_CSV_GRAPH, "node_year.csv.gz"), "time", "arxiv"),
    "ogbn-products": OgbnLayout(_CSV_GRAPH, "sales_ranking", "products"),
    "ogbn-papers100m": OgbnLayout(("data.npz", "node-label.npz"), "time", "papers100M-bin"),
}


def ogbn_files(name: str, root: Path) -> DatasetFiles:
    """The files of ``name`` in ``<root>/<ogb folder>/``, from ``<download name>.zip``."""
    layout = OGBN_LAYOUTS[name]
    folder = OGB_NAMES[name].replace("-", "_")
    # ogb prefers a folder left by its older PyG-specific releases when one exists.
    if (root / f"{folder}_pyg").is_dir():
        folder = f"{folder}_pyg"
    remote = RemoteFile(
        "ogb", f"{layout.download_name}.zip", folder, strip=f"{layout.download_name}/"
    )
    return DatasetFiles(name, folder, tuple(layout.files()), (remote,))


def load_ogbn(name: str, root: Path, download: bool | None) -> GraphDataset:
    """Load ``<root>/<ogb folder>/`` (e.g. ``<root>/ogbn_arxiv/``, as unpacked from ogb's zip).

    The official split becomes the masks, less any unlabelled node; edges are made undirected;
    ``NaN`` labels (papers100M's unlabelled nodes) become ``-1``. Metric: accuracy, computed by
    ogb's ``Evaluator`` in :meth:`GraphDataset.score`. papers100M's features are a read-only
    tensor over ``node_feat.npy`` in the cache, which the first load writes out of
    ``raw/data.npz`` (:mod:`visagnn.datasets.memmap`).

    Raises:
        FileNotFoundError: naming the missing files, including a missing ``RELEASE_v1.txt``
            (for which ogb would otherwise stop and ask on standard input); see
            :func:`~visagnn.datasets.root.find_dataset`.
    """
    spec = ogbn_files(name, root)
    folder = find_dataset(spec, root, download)
    cache = processed_folder(folder, spec.files)
    if OGBN_LAYOUTS[name].binary:
        x, y, edge_index = _read_binary(folder / "raw", cache)
    else:
        x, y, edge_index = _read_csv(OGB_NAMES[name], folder, cache)
    split_folder = folder / "split" / OGBN_LAYOUTS[name].split
    masks = [
        index_to_mask(_read_index(split_folder / f"{part}.csv.gz"), y.numel()) & (y >= 0)
        for part in SPLIT_PARTS
    ]
    graph = canonical_data(x, y, edge_index, *masks)
    return GraphDataset(name, graph, "accuracy", _num_classes(OGB_NAMES[name]))


def _read_csv(ogb_name: str, folder: Path, cache: Path) -> tuple[Tensor, Tensor, Tensor]:
    """Features, labels and edges through ogb's ``PygNodePropPredDataset``."""
    nodeproppred = import_ogb("ogb.nodeproppred")
    with pyg_safe_globals():
        dataset = processing_in(
            nodeproppred.PygNodePropPredDataset, cache, ogb_name, root=str(folder.parent)
        )
    data = dataset[0]
    return data.x, _labels(data.y), data.edge_index


def _read_binary(raw: Path, cache: Path) -> tuple[Tensor, Tensor, Tensor]:
    """Memory-mapped features, labels and edges of OGB's binary format."""
    with np.load(raw / "data.npz") as arrays:
        edge_index = torch.from_numpy(arrays["edge_index"])
    x = mapped_tensor(npz_member_as_npy(raw / "data.npz", "node_feat", cache / "node_feat.npy"))
    with np.load(raw / "node-label.npz") as arrays:
        y = _labels(torch.from_numpy(arrays["node_label"]))
    return x, y, edge_index


def _read_index(path: Path) -> Tensor:
    """A split file of ogb: gzipped CSV, one node id a line, no header."""
    return torch.from_numpy(pd.read_csv(path, header=None).to_numpy()[:, 0]).long()


def _labels(y: Tensor) -> Tensor:
    """ogb's ``[N, 1]`` labels as ``[N]`` int64, ``NaN`` (unlabelled) as ``-1``."""
    y = y.view(-1)
    if y.is_floating_point():
        y = torch.where(torch.isnan(y), -1.0, y)
    return y.long()


@functools.cache
def _num_classes(ogb_name: str) -> int:
    """The ``num classes`` row of ogb's ``nodeproppred/master.csv``."""
    master = Path(import_ogb("ogb.nodeproppred").__file__).parent / "master.csv"
    table = pd.read_csv(master, index_col=0, keep_default_na=False)
    return int(table[ogb_name]["num classes"])
