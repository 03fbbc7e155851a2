"""The heterophilous benchmarks of Platonov et al. (2023), through PyG's
``HeterophilousGraphDataset``."""

from __future__ import annotations

from pathlib import Path

from torch_geometric.datasets import HeterophilousGraphDataset

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.processed import processed_folder, processing_in
from visagnn.datasets.root import DatasetFiles, find_dataset
from visagnn.datasets.sources import RemoteFile

HETEROPHILOUS_METRICS: dict[str, str] = {
    "roman-empire": "accuracy",
    "amazon-ratings": "accuracy",
    "minesweeper": "rocauc",
    "tolokers": "rocauc",
    "questions": "rocauc",
}
"""visagnn name -> metric of the original paper (ROC-AUC for the binary tasks)."""


def heterophilous_files(name: str) -> DatasetFiles:
    """``<name with '_'>/raw/<name with '_'>.npz``, published as ``<name with '_'>.npz``: arrays
    ``node_features``, ``node_labels``, ``edges`` and ten ``train/val/test_masks``."""
    folder = name.replace("-", "_")
    file = f"{folder}.npz"
    return DatasetFiles(
        name,
        folder,
        (f"raw/{file}",),
        (RemoteFile("heterophilous", file, f"{folder}/raw/{file}"),),
    )


def load_heterophilous(name: str, root: Path, download: bool | None) -> GraphDataset:
    """Load ``<root>/<name with '_'>/raw/<name with '_'>.npz`` (e.g.
    ``<root>/roman_empire/raw/roman_empire.npz``) with the first of its ten splits.

    Raises:
        FileNotFoundError: naming the missing ``.npz`` file (see
            :func:`~visagnn.datasets.root.find_dataset`).
    """
    spec = heterophilous_files(name)
    folder = find_dataset(spec, root, download)
    data = processing_in(
        HeterophilousGraphDataset,
        processed_folder(folder, spec.files),
        str(folder.parent),
        spec.folder,
    )[0]
    graph = canonical_data(
        data.x,
        data.y,
        data.edge_index,
        data.train_mask[:, 0],
        data.val_mask[:, 0],
        data.test_mask[:, 0],
    )
    return GraphDataset(name, graph, HETEROPHILOUS_METRICS[name], int(data.y.max()) + 1)
