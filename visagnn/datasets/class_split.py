"""Per-class random splits, drawn once from a fixed seed, for datasets that ship no split.

Every class is split on its own, so each part keeps the class proportions of the graph. The
nodes of class ``c`` (labels ``0, 1, ...`` in ascending order), listed in node-id order, are
permuted by one ``numpy.random.Generator(PCG64(seed))``, visited in ascending class order; the
first nodes of the permutation train, the next validate, the rest test. The masks depend on
the labels and the seed only, never on the machine, the torch version or the load, so every
run on a dataset sees the same split.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

Masks = tuple[Tensor, Tensor, Tensor]
"""``train_mask``, ``val_mask``, ``test_mask``: bool ``[N]``, disjoint."""


def fraction_split(y: Tensor, train: float, val: float, seed: int) -> Masks:
    r"""In each class of :math:`n_c` nodes, :math:`\lfloor \text{train} \cdot n_c \rfloor`
    training and :math:`\lfloor \text{val} \cdot n_c \rfloor` validation nodes; the rest test.

    Raises:
        ValueError: unless ``0 < train``, ``0 < val`` and ``train + val < 1``.
    """
    if not (train > 0 and val > 0 and train + val < 1):
        raise ValueError(f"train and val must be > 0 with train + val < 1, got {train}, {val}")
    return _split(y, lambda count: (int(train * count), int(val * count)), seed)


def count_split(y: Tensor, train_per_class: int, val_per_class: int, seed: int) -> Masks:
    """In each class, ``train_per_class`` training and ``val_per_class`` validation nodes; the
    rest test (Shchur et al., 2018: 20 and 30).

    Raises:
        ValueError: naming the first class with fewer than ``train_per_class +
            val_per_class + 1`` nodes.
    """
    needed = train_per_class + val_per_class + 1
    counts = np.bincount(y[y >= 0].numpy())
    for label, count in enumerate(counts):
        if 0 < count < needed:
            raise ValueError(
                f"class {label} has {count} nodes, fewer than the {needed} a split of "
                f"{train_per_class} training and {val_per_class} validation nodes per class needs"
            )
    return _split(y, lambda count: (train_per_class, val_per_class), seed)


def _split(y: Tensor, sizes: Callable[[int], tuple[int, int]], seed: int) -> Masks:
    """The split shared by both forms; ``sizes(n_c)`` gives a class's train and val counts.
    Nodes labelled ``-1`` are in no part."""
    labels = y.numpy()
    generator = np.random.Generator(np.random.PCG64(seed))
    parts = [np.zeros(labels.shape[0], dtype=bool) for _ in range(3)]
    for label in np.unique(labels[labels >= 0]):
        nodes = generator.permutation(np.flatnonzero(labels == label))
        num_train, num_val = sizes(nodes.size)
        parts[0][nodes[:num_train]] = True
        parts[1][nodes[num_train : num_train + num_val]] = True
        parts[2][nodes[num_train + num_val :]] = True
    train_mask, val_mask, test_mask = (torch.from_numpy(part) for part in parts)
    return train_mask, val_mask, test_mask
