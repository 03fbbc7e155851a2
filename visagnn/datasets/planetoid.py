"""Cora, CiteSeer and PubMed with their public split, through PyG's ``Planetoid``."""

from __future__ import annotations

from pathlib import Path

from torch_geometric.datasets import Planetoid
from torch_geometric.transforms import NormalizeFeatures

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.processed import processed_folder, processing_in
from visagnn.datasets.root import DatasetFiles, find_dataset
from visagnn.datasets.sources import RemoteFile

PLANETOID_NAMES: dict[str, str] = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
"""visagnn name -> PyG name, which is also the dataset's folder under the data root."""

_RAW_SUFFIXES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


def planetoid_files(name: str) -> DatasetFiles:
    """``<PyG name>/raw/ind.<name>.<suffix>``: Planetoid's eight pickled or text files, each
    published on its own under the ``planetoid`` base URL."""
    folder = PLANETOID_NAMES[name]
    raw = [f"ind.{name}.{suffix}" for suffix in _RAW_SUFFIXES]
    return DatasetFiles(
        name,
        folder,
        tuple(f"raw/{file}" for file in raw),
        tuple(RemoteFile("planetoid", file, f"{folder}/raw/{file}") for file in raw),
    )


def load_planetoid(name: str, root: Path, download: bool | None) -> GraphDataset:
    r"""Load ``<root>/<PyG name>/raw/ind.<name>.*`` (e.g. ``<root>/Cora/raw/ind.cora.x``).

    The public split of Yang et al. (2016): 20 training nodes per class, 500 validation and
    1000 test nodes. Metric: accuracy. Features are row-normalised (PyG's ``NormalizeFeatures``,
    :math:`x_i \leftarrow x_i / \sum_k x_{ik}`), as in the GCN and GAT papers and in GAS's
    benchmarks, whose published numbers assume it.

    Raises:
        FileNotFoundError: naming the missing raw files (see
            :func:`~visagnn.datasets.root.find_dataset`).
    """
    spec = planetoid_files(name)
    folder = find_dataset(spec, root, download)
    dataset = processing_in(
        Planetoid,
        processed_folder(folder, spec.files),
        str(folder.parent),
        spec.folder,
        split="public",
        transform=NormalizeFeatures(),
    )
    data = dataset[0]
    graph = canonical_data(
        data.x, data.y, data.edge_index, data.train_mask, data.val_mask, data.test_mask
    )
    return GraphDataset(name, graph, "accuracy", dataset.num_classes)
