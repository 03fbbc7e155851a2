"""Feature rows read through a node-id map, without copying the feature matrix."""

from __future__ import annotations

import torch
from torch import Tensor


class FeatureRows:
    r"""Row :math:`k` is :math:`x_{ids_k}` as float32: a relabelled view of a feature matrix.

    A graph relabelled into partition order reads the features of its nodes ``nodes`` as

    .. math::
        \text{rows}(nodes) = \text{float32}\big(x[\,ids[nodes]\,]\big)

    so ``x`` stays where the dataset put it: in RAM, or memory-mapped from the dataset's files,
    in any floating dtype (MAG240M's and papers100M's float16), with no relabelled copy of it.
    Only the gathered rows are read and converted.

    Args:
        x: ``[N_x, F]`` feature matrix.
        ids: ``[N]`` row of ``x`` of each node of the view (e.g. ``Partition.perm``);
            ``None``: the identity (the dataset's own order).
    """

    def __init__(self, x: Tensor, ids: Tensor | None = None) -> None:
        self.x = x
        self.ids = ids

    def __len__(self) -> int:
        return self.x.size(0) if self.ids is None else self.ids.numel()

    @property
    def num_features(self) -> int:
        return self.x.size(1)

    def __getitem__(self, nodes: Tensor) -> Tensor:
        """``rows(nodes)``, a new float32 tensor."""
        return self.gather(nodes)

    def gather(self, nodes: Tensor, pin_memory: bool = False) -> Tensor:
        """``rows(nodes)``, a new float32 tensor, in page-locked memory with ``pin_memory``
        (so that a copy to a CUDA device does not wait for the CPU)."""
        index = nodes if self.ids is None else self.ids[nodes]
        rows = torch.empty((index.numel(), self.num_features), dtype=torch.float32,
                           pin_memory=pin_memory)
        if self.x.dtype == torch.float32:
            return torch.index_select(self.x, 0, index, out=rows)
        return rows.copy_(self.x.index_select(0, index))

    def tensors(self) -> list[Tensor]:
        """The matrix and the id map (for memory accounting)."""
        return [self.x] if self.ids is None else [self.x, self.ids]
