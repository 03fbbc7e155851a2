"""MAG240M (OGB-LSC, Hu et al. 2021), its paper nodes and citation graph, through ``ogb.lsc``.

OGB-LSC's ``mag240m_kddcup2021.zip`` unpacks into ``<root>/mag240m_kddcup2021/``. Read here:

- ``meta.pt``: ``{'paper': N, 'author': ..., 'institution': ..., 'num_classes': 153}``;
- ``split_dict.pt``: numpy arrays of paper ids, ``train``, ``valid`` and ``test`` (which ogb
  divides into ``test-dev`` and ``test-challenge``);
- ``processed/paper/node_feat.npy``: ``[N, 768]`` float16 RoBERTa embeddings, 175 GB;
- ``processed/paper/node_label.npy``: ``[N]`` float, ``NaN`` where the label is unknown or hidden;
- ``processed/paper___cites___paper/edge_index.npy``: ``[2, E]`` int64, citing -> cited;
- ``RELEASE_v1.txt``, whose absence makes ogb ask on standard input.

The authors, institutions and their relations are not used: the graph is the papers' citation
graph, made undirected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_geometric.utils import index_to_mask

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.memmap import mapped_tensor
from visagnn.datasets.ogb_compat import import_ogb
from visagnn.datasets.root import DatasetFiles, find_dataset
from visagnn.datasets.serialization import pyg_safe_globals
from visagnn.datasets.sources import RemoteFile

FOLDER = "mag240m_kddcup2021"
FEATURES = "processed/paper/node_feat.npy"
MAG240M_FILES = DatasetFiles(
    "mag240m",
    FOLDER,
    (
        "meta.pt",
        "split_dict.pt",
        "RELEASE_v1.txt",
        FEATURES,
        "processed/paper/node_label.npy",
        "processed/paper___cites___paper/edge_index.npy",
    ),
    (RemoteFile("mag240m", f"{FOLDER}.zip", FOLDER, strip=f"{FOLDER}/"),),
)
VALIDATION_SEED = 0


def load_mag240m(name: str, root: Path, download: bool | None) -> GraphDataset:
    """Load the paper nodes of ``<root>/mag240m_kddcup2021/`` through ``ogb.lsc.MAG240MDataset``.

    **Split.** The labels of the official test papers (``test-dev``, ``test-challenge``) are
    hidden: they are scored only by OGB's leaderboard. So the official ``valid`` papers, whose
    labels are public, are the test set here, as in the papers that report MAG240M numbers
    without submitting; the validation set is carved from the official ``train`` papers, as many
    as ``valid`` holds, by a permutation seeded with :data:`VALIDATION_SEED`, and the rest of
    ``train`` trains. Model selection then never sees the papers it is scored on. Metric:
    accuracy.

    **Memory.** ``data.x`` is a read-only float16 tensor over the memory-mapped
    ``node_feat.npy`` (:func:`~visagnn.datasets.memmap.mapped_tensor`): nothing of the 175 GB
    is read until rows are indexed. Labels and the citation edges are loaded (the undirected
    edge list of 1.3 billion citations takes 40 GB as int64).

    Raises:
        FileNotFoundError: naming the missing files (see
            :func:`~visagnn.datasets.root.find_dataset`).
    """
    folder = find_dataset(MAG240M_FILES, root, download)
    lsc = import_ogb("ogb.lsc")
    with pyg_safe_globals():
        dataset = lsc.MAG240MDataset(str(folder.parent))
    x = mapped_tensor(folder / FEATURES)
    label = torch.from_numpy(np.asarray(dataset.all_paper_label))
    y = torch.where(torch.isnan(label), -1.0, label).long()
    edge_index = torch.from_numpy(dataset.edge_index("paper", "cites", "paper"))

    train = torch.as_tensor(dataset.get_idx_split("train")).long()
    test = torch.as_tensor(dataset.get_idx_split("valid")).long()
    order = torch.randperm(train.numel(), generator=torch.Generator().manual_seed(VALIDATION_SEED))
    val, train = train[order[: test.numel()]], train[order[test.numel() :]]
    masks = [index_to_mask(index, dataset.num_papers) & (y >= 0) for index in (train, val, test)]
    graph = canonical_data(x, y, edge_index, *masks)
    return GraphDataset(name, graph, "accuracy", dataset.num_classes)
