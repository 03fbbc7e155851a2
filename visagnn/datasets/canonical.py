"""The one graph layout every loader returns, and the checks that enforce it."""

from __future__ import annotations

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected


def canonical_edge_index(edge_index: Tensor, num_nodes: int) -> Tensor:
    """Undirected, coalesced ``int64 [2, E]`` edge list without self-loops.

    Every edge appears in both directions exactly once; columns are sorted by (source, target).
    """
    edge_index, _ = remove_self_loops(edge_index.long())
    return to_undirected(edge_index, num_nodes=num_nodes)


def canonical_data(
    x: Tensor,
    y: Tensor,
    edge_index: Tensor,
    train_mask: Tensor,
    val_mask: Tensor,
    test_mask: Tensor,
) -> Data:
    """Check the fields of a node-classification graph and bring them into the canonical form.

    Args:
        x: ``[N, F]`` node features, any real dtype; stored as float32, except float16, kept
            as it is (MAG240M's memory-mapped features: a float32 copy would take 350 GB).
        y: ``[N]`` integer labels, ``-1`` for unlabelled nodes (stored as int64).
        edge_index: ``[2, E]`` integer edge list with entries in ``[0, N)``; made undirected,
            coalesced and free of self-loops by :func:`canonical_edge_index`.
        train_mask, val_mask, test_mask: ``[N]`` bool.

    Raises:
        ValueError: naming the first field whose shape, dtype or values are wrong; ``x`` when
            it has no feature column, or when its rows differ from the length on which ``y``
            and the masks agree. These checks read shapes only, so they cost nothing on a
            memory-mapped graph; the values of a user's graph are checked by
            :func:`~visagnn.datasets.custom.check_graph_values`.
    """
    if x.dim() != 2 or x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"x must be a real [num_nodes, num_features] tensor, got {_describe(x)}")
    if x.size(1) == 0:
        raise ValueError(f"x must have at least one feature column, got shape {list(x.shape)}")
    num_nodes = x.size(0)
    lengths = {tensor.size(0) for tensor in (y, train_mask, val_mask, test_mask)
               if tensor.dim() == 1}
    if len(lengths) == 1 and num_nodes not in lengths:
        # y and the masks agree on the node count: x is the field that is wrong
        raise ValueError(f"x has {num_nodes} rows, expected num_nodes = {lengths.pop()} "
                         "(the length of y and of the split masks)")
    if y.shape != (num_nodes,) or y.is_floating_point() or y.is_complex():
        raise ValueError(f"y must be an integer tensor of shape [{num_nodes}], got {_describe(y)}")
    if y.numel() and int(y.min()) < -1:
        raise ValueError("y must hold class labels >= 0, or -1 for unlabelled nodes")
    if edge_index.dim() != 2 or edge_index.size(0) != 2 or edge_index.is_floating_point():
        raise ValueError(
            f"edge_index must be an integer [2, num_edges] tensor, got {_describe(edge_index)}"
        )
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes):
        raise ValueError(f"edge_index must hold node ids in [0, {num_nodes})")
    masks = {"train_mask": train_mask, "val_mask": val_mask, "test_mask": test_mask}
    for field, mask in masks.items():
        if mask.shape != (num_nodes,) or mask.dtype != torch.bool:
            raise ValueError(
                f"{field} must be a bool tensor of shape [{num_nodes}], got {_describe(mask)}"
            )
    return Data(
        x=x if x.dtype == torch.float16 else x.float(),
        y=y.long(),
        edge_index=canonical_edge_index(edge_index, num_nodes),
        **masks,
    )


def _describe(tensor: Tensor) -> str:
    return f"{tensor.dtype} of shape {list(tensor.shape)}"
