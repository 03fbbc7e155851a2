"""A user's own graph: a ``.pt`` file holding a ``torch_geometric.data.Data``."""

from __future__ import annotations

import errno
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
zip); a zip cut inside its records also gives ``OSError(EINVAL)``."""
SPLITS = ("train_mask", "val_mask", "test_mask")


def check_graph_values(graph: Data) -> None:
    """Refuse the values of a canonical user graph that training cannot use, naming the field.

    Features must be finite (a NaN row makes every loss NaN); every training node must carry a
    class label (``-1`` marks an unlabelled node, which only the validation and test splits may
    hold: their scores skip it); each split must select a labelled node; and the classes implied
    by the largest label, ``max(y) + 1``, cannot outnumber the nodes (a label of ``10**9``
    would size the output layer for ``10**9`` classes).

    Raises:
        ValueError: one line naming ``x``, ``y`` or the split mask, and what is expected.
    """
    num_nodes = graph.num_nodes
    bad_rows = int((~torch.isfinite(graph.x)).any(dim=1).sum())
    if bad_rows:
        raise ValueError(f"x holds non-finite values (NaN or inf) in {bad_rows} of {num_nodes} "
                         "rows; features must be finite")
    labelled = graph.y >= 0
    for split in SPLITS:
        if not bool((graph[split] & labelled).any()):
            raise ValueError(f"{split} selects no labelled node; every split needs at least one "
                             "node with a class label >= 0")
    unlabelled = int((graph.train_mask & ~labelled).sum())
    if unlabelled:
        raise ValueError(f"y is -1 (unlabelled) for {unlabelled} of the "
                         f"{int(graph.train_mask.sum())} train_mask nodes; the labels of training "
                         "nodes must be class ids in [0, num_classes)")
    largest = int(graph.y.max())
    if largest >= num_nodes:
        raise ValueError(f"y holds the label {largest}, implying {largest + 1} classes for "
                         f"{num_nodes} nodes; labels must be class ids 0, 1, ..., C - 1 with C "
                         f"at most the number of nodes")


def load_custom(path: Path) -> GraphDataset:
    """Load a graph saved with ``torch.save(data, path)``.

    ``data`` must carry ``x``, ``y``, ``edge_index``, ``train_mask``, ``val_mask`` and
    ``test_mask`` in the shapes of :func:`~visagnn.datasets.canonical.canonical_data`; its
    edges are made undirected, coalesced and free of self-loops. The metric is ``data.metric``
    when that is a string, else ``'accuracy'``; the number of classes is ``max(y) + 1``. The
    dataset is named after the file's stem. The file is read with ``weights_only=True``: it
    may hold tensors and PyG's ``Data``, not arbitrary Python objects. Its values are checked
    by :func:`check_graph_values`.

    Raises:
        FileNotFoundError: if ``path`` is not a file.
        ValueError: for a file that ``torch.save`` did not write (or one cut short), one that
            cannot be read, or naming a missing or malformed field.
    """
    if not path.is_file():
        raise FileNotFoundError(f"no graph file at {path}")
    try:
        with pyg_safe_globals():
            data = torch.load(path, weights_only=True)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # the file system's, not the file's content
            raise ValueError(f"cannot read {path}: {(exc.strerror or str(exc)).lower()}") from None
        raise ValueError(_unreadable_message(path, exc)) from None
    except UNREADABLE as exc:
        raise ValueError(_unreadable_message(path, exc)) from None
    if not isinstance(data, Data):
        raise ValueError(f"{path} holds a {type(data).__name__}, expected torch_geometric Data")
    missing = [field for field in REQUIRED_FIELDS if getattr(data, field, None) is None]
    if missing:
        raise ValueError(
            f"{path}: the graph lacks the field(s) {', '.join(missing)}; "
            f"required: {', '.join(REQUIRED_FIELDS)}"
        )
    for field in REQUIRED_FIELDS:
        if not isinstance(data[field], torch.Tensor):
            raise ValueError(f"{field} must be a tensor, got {type(data[field]).__name__}")
    if data.y.is_floating_point() and not bool(torch.isfinite(data.y).all()):
        bad_rows = int((~torch.isfinite(data.y)).sum())
        raise ValueError(f"y holds non-finite values in {bad_rows} of {data.y.numel()} "
                         "rows; labels must be integer class ids, -1 for unlabelled nodes")
    graph = canonical_data(*(data[field] for field in REQUIRED_FIELDS))
    check_graph_values(graph)
    metric = data.metric if isinstance(getattr(data, "metric", None), str) else "accuracy"
    return GraphDataset(path.stem, graph, metric, int(graph.y.max()) + 1)


def _unreadable_message(path: Path, exc: BaseException) -> str:
    """Why ``torch.load`` could not read ``path``, a file it did not write or one cut short."""
    return (f"{path} is truncated or is not a graph saved with torch.save "
            f"({type(exc).__name__}); save a torch_geometric Data with "
            f"{', '.join(REQUIRED_FIELDS)}")
