r"""Layer-wise importance sampling of GCN's normalised adjacency: FastGCN and LADIES.

Both samplers draw a fixed number ``s`` of nodes per layer, top layer first, and return one
:class:`~visagnn.sampling.neighbor.SampledBlock` per layer whose ``edge_weight`` turns the layer's
aggregation :math:`\hat A h` into a sampled estimate over the drawn nodes, with
:math:`\hat A = D^{-1/2} (A + I) D^{-1/2}` read from
:class:`~visagnn.graph.normalization.NormalizedAdjacency`, the weights
:class:`~visagnn.nn.gcn_backbone.GCNBackbone` aggregates with. A block keeps the layout of
:func:`~visagnn.sampling.neighbor.relabel` (targets first), so
:func:`~visagnn.nn.inference.forward_blocks` runs it, and block ``l``'s targets are block ``l +
1``'s nodes: the nodes of a layer are its targets and the drawn nodes adjacent to them. Everything
is vectorised plain PyTorch (no ``torch-sparse``). A layer costs the degrees of its targets, not
:math:`O(N)`: FastGCN's draw binary-searches a CDF over all nodes computed once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace

import torch
from torch import Tensor

from visagnn.graph.normalization import NormalizedAdjacency
from visagnn.sampling.neighbor import SampledBlock, relabel


def weighted_block(
    targets: Tensor, columns: Tensor, target_positions: Tensor, weights: Tensor
) -> SampledBlock:
    """The block of the edges ``columns[k] → targets[target_positions[k]]`` with weights
    ``weights[k]`` (stored as float32, the features' dtype)."""
    block = relabel(targets, columns, target_positions)
    return replace(block, edge_weight=weights.to(torch.float32))


def member_slots(nodes: Tensor, query: Tensor) -> tuple[Tensor, Tensor]:
    """For sorted distinct ``nodes``: whether each ``query`` id is one of them, and its slot in
    ``nodes`` (meaningful where it is)."""
    slot = torch.searchsorted(nodes, query).clamp(max=nodes.numel() - 1)
    return nodes[slot].eq(query), slot


class LayerSampler(ABC):
    r"""Draws ``layer_size`` nodes per layer for ``num_layers`` layers, top layer first; the
    subclass says how one layer is drawn and weighted (:meth:`layer_block`).

    Args:
        adjacency: the graph's :math:`\hat A`.
        num_layers: blocks per sample (the model's layers).
        layer_size: nodes ``s`` drawn per layer.
        generator: random source (default: torch's global generator).
    """

    def __init__(self, adjacency: NormalizedAdjacency, num_layers: int, layer_size: int,
                 generator: torch.Generator | None = None) -> None:
        if num_layers < 1 or layer_size < 1:
            raise ValueError(f"num_layers and layer_size must be >= 1, got {num_layers} and "
                             f"{layer_size}")
        self.adjacency = adjacency
        self.num_layers = num_layers
        self.layer_size = layer_size
        self.generator = generator

    @abstractmethod
    def layer_block(self, targets: Tensor) -> SampledBlock:
        """The block of one layer whose targets are ``targets`` (distinct global ids)."""

    def sample(self, seeds: Tensor) -> list[SampledBlock]:
        """The blocks of a mini-batch whose output nodes are ``seeds``, input layer first:
        block ``l``'s targets are block ``l + 1``'s ``n_id``."""
        blocks = []
        targets = seeds
        for _ in range(self.num_layers):
            block = self.layer_block(targets)
            blocks.append(block)
            targets = block.n_id
        return blocks[::-1]

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}({self.adjacency.graph.num_nodes}, "
                f"num_layers={self.num_layers}, layer_size={self.layer_size})")


class FastGCNSampler(LayerSampler):
    r"""FastGCN's layer-wise importance sampling (Chen et al., ICLR 2018).

    Every layer draws ``s`` nodes i.i.d. from all nodes with

    .. math::
        q(u) = \frac{\lVert \hat A_{:, u} \rVert^2}{\sum_{u'} \lVert \hat A_{:, u'} \rVert^2},

    the same law at every layer, and estimates row :math:`v` of :math:`\hat A h` by

    .. math::
        \frac{1}{s} \sum_{k=1}^{s} \frac{\hat A_{v u_k}\, h_{u_k}}{q(u_k)}
        = \sum_{u} \frac{c_u\, \hat A_{vu}}{s\, q(u)}\, h_u,

    with :math:`c_u` the number of draws of :math:`u`; since :math:`E[c_u] = s\, q(u)`, the
    estimate is unbiased. A drawn node becomes a source of the block with weight
    :math:`c_u \hat A_{vu} / (s\, q(u))` on each of its edges into the targets, self-loops
    included; drawn nodes without such an edge drop out. The targets' own rows, which the
    block layout carries into the layer below as targets, feed a layer only where drawn: a
    layer computes up to the batch and ``s`` per layer above of rows that feed nothing. The
    paper draws with replacement, as
    here; the official code draws without replacement among the batch's neighbours, with
    probabilities from unsquared column norms. Arguments: :class:`LayerSampler`'s.
    """

    def __init__(self, adjacency: NormalizedAdjacency, num_layers: int, layer_size: int,
                 generator: torch.Generator | None = None) -> None:
        super().__init__(adjacency, num_layers, layer_size, generator)
        norms = adjacency.column_norms()
        self.probability = norms / norms.sum()
        self.cdf = torch.cumsum(self.probability, 0)

    def draw(self) -> tuple[Tensor, Tensor]:
        """``layer_size`` i.i.d. draws from :math:`q` by inverse CDF: the distinct nodes drawn
        (sorted) and how often each was drawn."""
        uniform = torch.rand(self.layer_size, generator=self.generator, dtype=torch.float64)
        draws = torch.searchsorted(self.cdf, uniform * self.cdf[-1], right=True)
        return torch.unique(draws.clamp(max=self.cdf.numel() - 1), return_counts=True)

    def layer_block(self, targets: Tensor) -> SampledBlock:
        """One layer: a fresh draw and its importance-weighted edges into ``targets``."""
        nodes, counts = self.draw()
        columns, target_positions, values = self.adjacency.rows(targets)
        drawn, slot = member_slots(nodes, columns)
        scale = counts / (self.layer_size * self.probability[nodes])
        return weighted_block(targets, columns[drawn], target_positions[drawn],
                              values[drawn] * scale[slot[drawn]])


class LADIESSampler(LayerSampler):
    r"""LADIES' layer-dependent importance sampling (Zou et al., NeurIPS 2019).

    With :math:`Q` the rows of the layer's targets :math:`T` (the nodes of the layer above),
    the candidates are the columns where :math:`Q \hat A` is nonzero (the targets' in-neighbours
    and the targets themselves), and the layer draws ``s`` of them (all where there are fewer)
    without replacement, with

    .. math::
        p(u) = \frac{\lVert Q \hat A_{:, u} \rVert^2}{\lVert Q \hat A \rVert_F^2}
             = \frac{\sum_{v \in T} \hat A_{vu}^2}{\sum_{v \in T} \sum_{u'} \hat A_{vu'}^2},

    as successive draws proportional to :math:`p` (numpy's ``choice(replace=False, p=p)`` in
    the official code; here the ``s`` smallest of :math:`E_u / p(u)`,
    :math:`E_u \sim \mathrm{Exp}(1)`, Efraimidis & Spirakis, 2006). The layer's nodes
    :math:`S` are the drawn ones and the targets, each target kept for its self-loop: the
    official code keeps the batch's output nodes at every layer; here a layer keeps all its
    targets (the nodes of the layer above), whose rows the block layout (targets first) holds
    anyway. The two agree at the output layer. An edge
    :math:`u \to v` with :math:`u \in S` gets

    .. math::
        w_{vu} = \frac{\hat A_{vu} / p(u)}{\sum_{u' \in S} \hat A_{vu'} / p(u')}
                 \sum_{u'} \hat A_{vu'},

    the importance weights :math:`\hat A_{vu} / p(u)` normalised per row, as the paper and the
    official code do, and scaled to the row sum of :math:`\hat A`: every sampled row sums to
    the full row's sum, so a constant signal is aggregated exactly. The official code's
    :math:`\hat A = D^{-1}(A + I)` has rows that sum to 1, which makes the two the same; with
    GCN's symmetric :math:`\hat A` the scaling keeps training on the scale of exact inference.
    Arguments: :class:`LayerSampler`'s.
    """

    @staticmethod
    def probabilities(columns: Tensor, values: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        r"""LADIES' law from the nonzero entries of :math:`Q \hat A` (``columns``, ``values``,
        from :meth:`NormalizedAdjacency.rows`): the candidates (sorted ids), :math:`p` of each,
        and the candidate of each entry."""
        candidates, entry_candidate = torch.unique(columns, return_inverse=True)
        mass = torch.zeros(candidates.numel(), dtype=torch.float64).index_add_(
            0, entry_candidate, values.square()
        )
        return candidates, mass / mass.sum(), entry_candidate

    def layer_block(self, targets: Tensor) -> SampledBlock:
        """One layer: draw among the targets' neighbours, keep the targets, weight the edges."""
        columns, target_positions, values = self.adjacency.rows(targets)
        candidates, probability, entry_candidate = self.probabilities(columns, values)
        size = min(self.layer_size, candidates.numel())
        keys = torch.empty(candidates.numel(), dtype=torch.float64).exponential_(
            generator=self.generator) / probability
        chosen = torch.zeros(candidates.numel(), dtype=torch.bool)
        chosen[torch.topk(keys, size, largest=False).indices] = True
        chosen[member_slots(candidates, targets)[1]] = True
        kept = chosen[entry_candidate]
        importance = values[kept] / probability[entry_candidate[kept]]
        positions = target_positions[kept]
        num_targets = targets.numel()
        sampled_sum = torch.zeros(num_targets, dtype=torch.float64).index_add_(
            0, positions, importance)
        row_sum = torch.zeros(num_targets, dtype=torch.float64).index_add_(
            0, target_positions, values)
        weights = importance * (row_sum / sampled_sum)[positions]
        return weighted_block(targets, columns[kept], positions, weights)
