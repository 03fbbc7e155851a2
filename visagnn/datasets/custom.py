"""A user's own graph: a ``.pt`` file holding a ``torch_geometric.data.Data``."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch_geometric.data import Data

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.serialization import pyg_safe_globals

REQUIRED_FIELDS = ("x", "y", "edge_index", "train_mask", "val_mask", "test_mask")

UNREADABLE = (pickle.UnpicklingError, KeyError, EOFError, RuntimeError)
"""What ``torch.load`` raises for a file it did not write (text, random bytes, a truncated
zip)."""


def load_custom(path: Path) -> GraphDataset:
    """Load a graph saved with ``torch.save(data, path)``.

    ``data`` must carry ``x``, ``y``, ``edge_index``, ``train_mask``, ``val_mask`` and
    ``test_mask`` in the shapes of :func:`~visagnn.datasets.canonical.canonical_data`; its
    edges are made undirected, coalesced and free of self-loops. The metric is ``data.metric``
    when that is a string, else ``'accuracy'``; the number of classes is ``max(y) + 1``. The
    dataset is named after the file's stem. The file is read with ``weights_only=True``: it
    may hold tensors and PyG's ``Data``, not arbitrary Python objects.

    Raises:
        FileNotFoundError: if ``path`` is not a file.
        ValueError: for a file that ``torch.save`` did not write, or naming a missing or
            malformed field.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no graph file at {path}")
    try:
        with pyg_safe_globals():
            data = torch.load(path, weights_only=True)
    except UNREADABLE as exc:  # not a file torch.save wrote
        raise ValueError(f"{path} is not a graph saved with torch.save ({type(exc).__name__}); "
                         f"save a torch_geometric Data with {', '.join(REQUIRED_FIELDS)}") from None
    if not isinstance(data, Data):
        raise ValueError(f"{path} holds a {type(data).__name__}, expected torch_geometric Data")
    missing = [field for field in REQUIRED_FIELDS if getattr(data, field, None) is None]
    if missing:
        raise ValueError(
            f"{path}: the graph lacks the field(s) {', '.join(missing)}; "
            f"required: {', '.join(REQUIRED_FIELDS)}"
        )
    graph = canonical_data(*(data[field] for field in REQUIRED_FIELDS))
    metric = data.metric if isinstance(getattr(data, "metric", None), str) else "accuracy"
    return GraphDataset(path.stem, graph, metric, int(graph.y.max()) + 1)
