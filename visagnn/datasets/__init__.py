"""Node-classification datasets: real benchmarks, a synthetic CSBM and users' own graphs.

``load_dataset(name_or_path, root=None, download=None, **synthetic_kwargs)`` returns a
:class:`GraphDataset` whose graph is in one canonical form (undirected, coalesced, no self-loops,
bool split masks) and whose :meth:`~GraphDataset.score` applies the dataset's metric. Missing
files are downloaded (:mod:`visagnn.datasets.root`, :mod:`visagnn.datasets.sources`); derived
files go to the cache folder (:mod:`visagnn.datasets.processed`).
"""

from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.registry import DATASET_NAMES, load_dataset
from visagnn.datasets.root import resolve_root

__all__ = ["DATASET_NAMES", "GraphDataset", "load_dataset", "resolve_root"]
