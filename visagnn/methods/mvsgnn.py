"""MVS-GNN (Cong et al., KDD 2020): minimal-variance sampling by gradient norms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.graph.batch import SubgraphBatch
from visagnn.history.clock import Clock
from visagnn.history.policy import HaloPolicy
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method
from visagnn.utils.distributed import current_world


@dataclass(frozen=True)
class MVSGNNOptions:
    """The sample size of MVS-GNN, as a share of a batch's training nodes.

    MVS-GNN's sample size :math:`b` is a number of nodes drawn from all training nodes (512
    in its code's ``args.py``); here the pool is a METIS batch's training nodes, whose number
    the run settings fix, so :math:`b` is a share of them. The default 0.5 is ours: the
    probabilities stay below 1 for most nodes (a share of 1 samples every node), and a step
    computes half of the batch's training nodes in expectation.
    """

    sample_ratio: float = field(default=0.5, metadata={
        "help": "b / |T_B|: expected share of a batch's training nodes that a step samples "
                "and computes (the others are read from the histories)"})

    def __post_init__(self) -> None:
        if not 0 < self.sample_ratio <= 1:
            raise ValueError(
                f"MVSGNNOptions.sample_ratio must be in (0, 1], got {self.sample_ratio}"
            )


def minimal_variance_probabilities(norms: Tensor, sample_size: float) -> Tensor:
    r"""MVS-GNN's sampling probabilities: proportional to the gradient norms, capped at 1.

    .. math::
        p_i = \min\Big(1, \frac{\lVert g_i \rVert}{\tau}\Big), \qquad
        \sum_i p_i = b

    the minimiser of the variance :math:`\sum_i \lVert g_i \rVert^2 / p_i` of the importance-
    weighted gradient under an expected sample size :math:`b`. With the norms sorted in
    decreasing order, the :math:`k` largest are capped at 1 and
    :math:`\tau = \sum_{j > k} \lVert g_{(j)} \rVert / (b - k)`, for the smallest :math:`k`
    that leaves every other :math:`p_i \le 1` (MVS-GNN's ``CalculateThreshold``). Where
    :math:`b \ge n` every :math:`p_i = 1`; where every norm is 0, :math:`p_i = b / n`;
    otherwise a node whose norm is 0 is never drawn (its gradient was 0), as in MVS-GNN.

    Example: norms ``[10, 2, 1, 1]`` and :math:`b = 2`: uncapped, :math:`\tau = 14 / 2` gives
    node 0 more than 1, so it is capped and :math:`\tau = 4 / 1`: ``[1, 0.5, 0.25, 0.25]``.

    Args:
        norms: :math:`\lVert g_i \rVert \ge 0` of the ``n`` candidates, 1-D.
        sample_size: :math:`b > 0`, the expected number of sampled candidates.
    """
    count = norms.numel()
    if sample_size >= count:
        return torch.ones_like(norms)
    if not norms.gt(0).any():
        return torch.full_like(norms, sample_size / count)
    descending = torch.sort(norms, descending=True).values
    rest = descending.flip(0).cumsum(0).flip(0)  # rest[k] = Σ_{j >= k} g_(j)
    capped = torch.arange(count, device=norms.device)
    room = sample_size - capped
    valid = (room > 0) & (descending * room <= rest)
    k = int(valid.nonzero()[0])
    scaled = (norms * (room[k] / rest[k])).clamp(max=1)
    return torch.where(norms > 0, scaled, torch.zeros_like(norms))


class MinimalVarianceHalo(HaloPolicy):
    r"""MVS-GNN's step: a sample of the batch's training nodes by their gradient norms, computed
    over a one-shot subgraph whose other nodes are read from the histories, and the
    importance-weighted loss of the sample.

    **Sample** (:meth:`step_batch`). Every training node :math:`i` of the batch, :math:`T_B`,
    is drawn independently with probability :math:`p_i`
    (:func:`minimal_variance_probabilities` of the norms :math:`\lVert g_i \rVert` with
    :math:`b = \rho\, |T_B|`, ``sample_ratio`` :math:`\rho`). :math:`\lVert g_i \rVert` is the
    gradient norm the last hidden layer's history keeps for :math:`i`
    (:attr:`History.grad_norm`: :math:`\lVert \partial \ell_i / \partial h_i^{(L-1)} \rVert`,
    as recorded the last time :math:`i` was sampled, see below); a node never observed
    (:attr:`History.grad_seen` false) counts as the mean of the observed norms among
    :math:`T_B`, and when none is observed (the first epoch; a model without hidden layers)
    every node counts the same, so :math:`p_i = b / |T_B|`, the uniform start of MVS-GNN's
    on-the-fly variant. MVS-GNN's own norm is that of the per-node gradient of the output
    layer's parameters; the norm at the last hidden layer is the one the histories keep.

    **One-shot subgraph.** The sampled nodes :math:`S` are the step's batch, computed at every
    layer; every other node with an edge into :math:`S` (the batch's unsampled nodes and its
    halo) is read from the histories at every layer (:meth:`SubgraphBatch.restrict`), as
    MVS-GNN computes the sampled nodes over their neighbours' historical embeddings. Only the
    sampled nodes' rows are pushed, so the histories of nodes never sampled (the batch's
    nodes outside the training set) are only written by the evaluations' refreshes.

    **Loss.** The importance-weighted cross-entropy

    .. math::
        L_S = \frac{1}{|T_B|} \sum_{i \in S} \frac{\ell_i}{p_i}, \qquad
        \mathbb{E}_S[L_S] = \frac{1}{|T_B|} \sum_{i \in T_B} \ell_i

    is unbiased for the batch's mean loss (GAS's) where the :math:`\ell_i` do not depend on
    the sample, e.g. with exact histories; otherwise up to the difference between a
    neighbour's fresh and historical rows. An empty sample is a step that changes nothing (its
    :math:`L_S = 0`).

    **Norms.** The model records :math:`\lVert \partial L_S / \partial h_i \rVert` of every
    sampled node in every history divided by the node's weight :math:`1 / (p_i |T_B|)`
    (:meth:`recorded_grad_norm`), as MVS-GNN's code divides its per-node gradients by their
    weights, so that the next probabilities follow the unweighted :math:`\ell_i`. This
    is exact for the node's own loss term and approximate for the messages it sends to other
    sampled nodes.

    Each epoch's record gets ``sampled_fraction``, the share of the training nodes visited
    that were sampled.

    Args:
        sample_ratio: :math:`\rho \in (0, 1]` (default 0.5).
        generator: random source of the samples (default: torch's global generator).
    """

    def __init__(self, sample_ratio: float = 0.5,
                 generator: torch.Generator | None = None) -> None:
        self.sample_ratio = sample_ratio
        self.generator = generator
        self.weight = torch.empty(0)
        self.candidates_seen = 0
        self.candidates_sampled = 0

    def node_norms(self, nodes: Tensor) -> Tensor:
        r""":math:`\lVert g_i \rVert` of ``nodes`` (CPU): the last hidden history's norm, or
        the mean of the observed ones among ``nodes`` where never observed (1 for all when
        none is)."""
        if not self.histories:
            return torch.ones(nodes.numel())
        history = self.histories[-1]
        index = nodes.to(history.device)
        norms, seen = history.grad_norm[index].cpu(), history.grad_seen[index].cpu()
        if not seen.any():
            return torch.ones(nodes.numel())
        return torch.where(seen, norms, norms[seen].mean())

    def step_batch(
        self, batch: SubgraphBatch, train_rows: Tensor
    ) -> tuple[SubgraphBatch, Tensor, Tensor]:
        """The one-shot subgraph of a sample of ``batch``'s training nodes; keeps the sampled
        nodes' weights :math:`1 / (p_i |T_B|)` for :meth:`loss` and :meth:`after_backward`."""
        count = train_rows.numel()
        probability = minimal_variance_probabilities(
            self.node_norms(batch.batch_nodes[train_rows]), self.sample_ratio * count)
        drawn = torch.rand(count, generator=self.generator) < probability
        if not drawn.any() and current_world().is_distributed:
            # a rank's step must join every collective of the others': keep the likeliest node
            drawn[probability.argmax()] = True
        self.weight = 1 / (probability[drawn] * count)
        self.candidates_seen += count
        self.candidates_sampled += int(drawn.sum())
        sampled, kept = batch.restrict(train_rows[drawn.to(train_rows.device)])
        return sampled, torch.arange(sampled.batch_size, device=train_rows.device), kept

    def loss(self, out: Tensor, batch: SubgraphBatch, train_rows: Tensor, labels: Tensor,
             clock: Clock) -> Tensor:
        r""":math:`L_S`: the cross-entropy of the sampled nodes weighted by
        :math:`1 / (p_i |T_B|)`; ``batch`` must be the last :meth:`step_batch`'s (on any
        device)."""
        if train_rows.numel() != self.weight.numel():
            raise RuntimeError(f"MinimalVarianceHalo.loss: {train_rows.numel()} training rows "
                               f"for the {self.weight.numel()} nodes of the last sample")
        losses = F.cross_entropy(out[train_rows], labels, reduction="none")
        return (self.weight.to(out.device) * losses).sum()

    def recorded_grad_norm(self, index: int, grad_norm: Tensor) -> Tensor:
        """The sampled nodes' norms without their importance weights."""
        return grad_norm / self.weight.to(grad_norm)

    def begin_epoch(self) -> None:
        self.candidates_seen = self.candidates_sampled = 0

    def epoch_extras(self) -> dict[str, Any]:
        return {"sampled_fraction": self.candidates_sampled / max(self.candidates_seen, 1)}


@register_method
class MVSGNN(HistoricalMethod):
    """MVS-GNN: GAS's batches and loop with :class:`MinimalVarianceHalo`'s sample, one-shot
    subgraph and loss; the samples are drawn from a generator seeded with ``RunConfig.seed``."""

    name = "mvsgnn"
    options_class = MVSGNNOptions
    backbones = ("gcn",)  # MVS-GNN trains GCN layers (CongWeilin/mvs_gcn, model.py: GCN)

    def build_policy(self) -> MinimalVarianceHalo:
        generator = torch.Generator().manual_seed(self.config.seed)
        return MinimalVarianceHalo(self.options.sample_ratio, generator)
