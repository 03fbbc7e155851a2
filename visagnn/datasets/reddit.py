"""Reddit (Hamilton et al., 2017), through PyG's ``Reddit``."""

from __future__ import annotations

from pathlib import Path

from torch_geometric.datasets import Reddit

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.processed import processed_folder, processing_in
from visagnn.datasets.root import DatasetFiles, find_dataset
from visagnn.datasets.sources import RemoteFile

REDDIT_FILES = DatasetFiles(
    "reddit",
    "Reddit",
    ("raw/reddit_data.npz", "raw/reddit_graph.npz"),
    (RemoteFile("reddit", "reddit.zip", "Reddit/raw"),),
)
"""DGL's ``reddit.zip`` holds both files at its top level."""


def load_reddit(name: str, root: Path, download: bool | None) -> GraphDataset:
    """Load ``<root>/Reddit/raw/reddit_data.npz`` (``feature``, ``label``, ``node_types``) and
    ``reddit_graph.npz`` (a SciPy sparse adjacency), DGL's release.

    The split of the original paper (``node_types`` 1, 2, 3). Metric: accuracy.

    Raises:
        FileNotFoundError: naming the missing raw files (see
            :func:`~visagnn.datasets.root.find_dataset`).
    """
    folder = find_dataset(REDDIT_FILES, root, download)
    data = processing_in(Reddit, processed_folder(folder, REDDIT_FILES.files), str(folder))[0]
    graph = canonical_data(
        data.x, data.y, data.edge_index, data.train_mask, data.val_mask, data.test_mask
    )
    return GraphDataset(name, graph, "accuracy", int(data.y.max()) + 1)
