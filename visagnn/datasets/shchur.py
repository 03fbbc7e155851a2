"""Coauthor CS and Physics, Amazon Computers and Photo (Shchur et al., 2018), the files PyG's
``Coauthor`` and ``Amazon`` read, with a fixed per-class random split.

**Files.** ``<root>/<PyG folder>/raw/<file>.npz`` (``Physics/raw/ms_academic_phy.npz``,
``Computers/raw/amazon_electronics_computers.npz``, ...), published under the ``shchur`` base URL
(the shchur/gnn-benchmark repository PyG downloads from). Each holds a CSR adjacency
(``adj_data``, ``adj_indices``, ``adj_indptr``, ``adj_shape``), CSR bag-of-words features
(``attr_*``) and ``labels``.

**Reading.** The graph PyG's ``torch_geometric.io.read_npz`` builds (every node of the file,
edges made undirected without self-loops, features binarised: :math:`x_{ik} = 1` where the count
is positive), read here straight from the ``.npz`` instead of through ``Coauthor``/``Amazon``:
those write the dense features to a processed file (1.1 GB for Physics) and need twice that in
memory to build it, while the file itself is a few MB and densifies in one float32 copy. Nothing
is written, to the data folder or the cache.

**Split.** These sets ship none. ``<name>`` (e.g. ``amazon-computers``) uses a per-class 50/25/25
random split (:func:`~visagnn.datasets.class_split.fraction_split`, seed :data:`SPLIT_SEED`):
the proportions of the heterophilous benchmarks' splits (Platonov et al., 2023), so that a
mini-batch of a staleness study holds many training nodes (half of its nodes, against two or
three per batch of 80 parts with 20 per class) and the validation and test scores are measured
on thousands of nodes. ``<name>-sparse`` (e.g. ``amazon-computers-sparse``) is the sparse-label
split of the literature: 20 training and 30 validation nodes per class, the rest test (Shchur
et al., 2018; :func:`~visagnn.datasets.class_split.count_split`, the same seed). Shchur et al.
draw theirs on the largest connected component; here, as in PyG, the graph keeps every node.
Metric: accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.class_split import count_split, fraction_split
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.root import DatasetFiles, find_dataset
from visagnn.datasets.sources import RemoteFile

SHCHUR_GRAPHS: dict[str, tuple[str, str]] = {
    "coauthor-cs": ("CS", "ms_academic_cs.npz"),
    "coauthor-physics": ("Physics", "ms_academic_phy.npz"),
    "amazon-computers": ("Computers", "amazon_electronics_computers.npz"),
    "amazon-photo": ("Photo", "amazon_electronics_photo.npz"),
}
"""visagnn name -> (PyG's folder under the data root, file name under ``raw/`` and the host)."""

SPARSE_SUFFIX = "-sparse"
"""Appended to a graph's name, it selects the 20/30-per-class split instead of 50/25/25."""

SHCHUR_NAMES: tuple[str, ...] = (
    *SHCHUR_GRAPHS,
    *(f"{name}{SPARSE_SUFFIX}" for name in SHCHUR_GRAPHS),
)
"""Every name :func:`load_shchur` accepts."""

SPLIT_SEED = 0
DENSE_SPLIT = (0.5, 0.25)
"""Shares of each class that train and validate in the default split; the rest test."""
SPARSE_SPLIT = (20, 30)
"""Nodes per class that train and validate in the ``-sparse`` split; the rest test."""


def shchur_files(graph: str) -> DatasetFiles:
    """``<PyG folder>/raw/<file>.npz`` for ``graph``, a key of :data:`SHCHUR_GRAPHS`."""
    folder, file = SHCHUR_GRAPHS[graph]
    return DatasetFiles(
        graph, folder, (f"raw/{file}",), (RemoteFile("shchur", file, f"{folder}/raw/{file}"),)
    )


def read_shchur_npz(path: Path) -> tuple[Tensor, Tensor, Tensor]:
    """``x`` (binarised, float32 ``[N, F]``), ``y`` (int64 ``[N]``) and the directed
    ``edge_index`` of the adjacency's nonzeros (``int64 [2, nnz]``), as in ``read_npz``.

    Only the arrays named above are read, so the object arrays of the original files
    (``node_names`` and the like) are never unpickled.
    """
    with np.load(path, allow_pickle=False) as arrays:
        attributes = sp.csr_matrix(
            (arrays["attr_data"].astype(np.float32), arrays["attr_indices"], arrays["attr_indptr"]),
            shape=tuple(arrays["attr_shape"]),
        )
        adjacency = sp.csr_matrix(
            (arrays["adj_data"], arrays["adj_indices"], arrays["adj_indptr"]),
            shape=tuple(arrays["adj_shape"]),
        ).tocoo()
        labels = arrays["labels"]
    # Binarised on the nonzeros, before the one dense copy: read_npz's x[x > 0] = 1.
    attributes.sum_duplicates()
    attributes.data[attributes.data > 0] = 1
    x = torch.from_numpy(attributes.toarray())
    edge_index = torch.from_numpy(np.stack([adjacency.row, adjacency.col]).astype(np.int64))
    return x, torch.from_numpy(labels.astype(np.int64)), edge_index


def load_shchur(name: str, root: Path, download: bool | None) -> GraphDataset:
    """Load ``name`` (one of :data:`SHCHUR_NAMES`) from ``<root>/<PyG folder>/raw/<file>.npz``,
    with the split its name selects (module docstring).

    Raises:
        FileNotFoundError: naming the missing ``.npz`` file (see
            :func:`~visagnn.datasets.root.find_dataset`).
    """
    sparse = name.endswith(SPARSE_SUFFIX)
    graph = name.removesuffix(SPARSE_SUFFIX)
    spec = shchur_files(graph)
    folder = find_dataset(spec, root, download)
    x, y, edge_index = read_shchur_npz(folder / spec.files[0])
    if sparse:
        masks = count_split(y, *SPARSE_SPLIT, seed=SPLIT_SEED)
    else:
        masks = fraction_split(y, *DENSE_SPLIT, seed=SPLIT_SEED)
    data = canonical_data(x, y, edge_index, *masks)
    return GraphDataset(name, data, "accuracy", int(y.max()) + 1)
