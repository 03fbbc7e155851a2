"""A loaded node-classification graph with the metric it is judged by."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor
from torch_geometric.data import Data

from visagnn.datasets.metrics import accuracy, roc_auc
from visagnn.datasets.ogb_compat import OGB_NAMES, ogb_accuracy

METRICS = ("accuracy", "rocauc")


@dataclass(frozen=True)
class GraphDataset:
    """One graph, its split and its metric, as every loader of :mod:`visagnn.datasets` returns it.

    Attributes:
        name: canonical lowercase name (``'cora'``, ``'ogbn-arxiv'``, ``'synthetic'``), or the
            file stem of a user's ``.pt`` graph.
        data: ``x`` ``[N, F]``, float32, or float16 where the dataset ships it so (MAG240M;
            convert the rows you gather with ``.float()``), a read-only tensor over a
            memory-mapped file for MAG240M and ogbn-papers100M (index it, never write to it:
            :mod:`visagnn.datasets.memmap`); ``y`` int64 ``[N]``, ``-1`` for unlabelled nodes;
            ``edge_index`` int64 ``[2, E]``, undirected (both directions), coalesced, without
            self-loops; ``train_mask``, ``val_mask``, ``test_mask`` bool ``[N]``.
        metric: ``'accuracy'`` or ``'rocauc'`` (binary tasks, on the probability of class 1).
        num_classes: number of classes, the width of the logits :meth:`score` expects.
    """

    name: str
    data: Data
    metric: str
    num_classes: int

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        if self.num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {self.num_classes}")
        if self.metric == "rocauc" and self.num_classes != 2:
            raise ValueError(f"metric 'rocauc' needs num_classes == 2, got {self.num_classes}")

    def score(self, logits: Tensor, mask: Tensor) -> float:
        r"""The dataset's metric on the labelled nodes selected by ``mask``.

        ``'accuracy'`` compares the arg-max of the logits with the labels (through ogb's
        ``Evaluator`` for the ``ogbn-*`` datasets, which gives the same number); ``'rocauc'``
        ranks the nodes by :math:`\operatorname{softmax}(z_i)_1`, the probability of class 1.
        Nodes with label ``-1`` are skipped.

        Args:
            logits: ``[N, num_classes]`` outputs for all nodes of the graph, on any device.
            mask: ``[N]`` bool, e.g. ``data.val_mask``.

        Raises:
            ValueError: if the shapes are wrong or ``mask`` selects no labelled node.
        """
        num_nodes = self.data.num_nodes
        if logits.shape != (num_nodes, self.num_classes) or mask.shape != (num_nodes,):
            raise ValueError(
                f"score expects logits [{num_nodes}, {self.num_classes}] and mask "
                f"[{num_nodes}], got {list(logits.shape)} and {list(mask.shape)}"
            )
        y = self.data.y.to(logits.device)
        selected = mask.to(logits.device) & (y >= 0)
        if not bool(selected.any()):
            raise ValueError(f"{self.name}: the mask selects no labelled node to score")
        logits, y = logits.detach()[selected], y[selected]
        if self.name in OGB_NAMES:
            return ogb_accuracy(self.name, logits.argmax(dim=-1), y)
        if self.metric == "accuracy":
            return accuracy(logits, y)
        return roc_auc(logits.softmax(dim=-1)[:, 1], y)
