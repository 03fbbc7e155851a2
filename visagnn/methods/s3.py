"""S3 (staleness-based subgraph sampling, NPGML 2025): the stalest histories are trained first."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.schedule import WeightedPartitionBatchLoader
from visagnn.history.store import History
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method


@dataclass(frozen=True)
class S3Options:
    """The share of S3's sampling weight spread uniformly over the parts (its floor)."""

    floor: float = field(default=0.1, metadata={
        "help": "share of the sampling weight spread evenly over the parts, so that a part "
                "whose rows are fresh is still drawn early now and then (1 = uniform shuffle)"})

    def __post_init__(self) -> None:
        if not 0 < self.floor <= 1:
            raise ValueError(f"S3Options.floor must be in (0, 1], got {self.floor}")


def part_staleness(histories: list[History], iteration: int, boundary: Tensor,
                   part_of_node: Tensor, num_parts: int) -> Tensor:
    r"""Per part :math:`p`, the mean persistence of its rows that other parts read as halo:

    .. math::
        s_p = \frac{1}{L\,|\partial p|} \sum_{l=1}^{L} \sum_{j \in \partial p} T^{(l)}_j,
        \qquad T^{(l)}_j = t - \mathrm{last\_push}^{(l)}_j

    with :math:`\partial p` the nodes of :math:`p` with a neighbour in another part
    (``boundary``, every row a batch can read as halo), :math:`L` the hidden layers' histories
    and :math:`t` the ``iteration``; :math:`s_p = 0` for a part without such nodes. Only the
    histories' stored ``last_push`` is read: no forward pass, no gradient.
    """
    parts = part_of_node[boundary]
    total = torch.zeros(num_parts, dtype=torch.float64)
    for history in histories:
        persistence = history.persistence(iteration, boundary).cpu().to(torch.float64)
        total.index_add_(0, parts, persistence)
    count = torch.bincount(parts, minlength=num_parts).to(torch.float64) * len(histories)
    return total / count.clamp(min=1)


def staleness_weights(scores: Tensor, floor: float) -> Tensor:
    r"""S3's sampling weights from the scores :math:`s_p \ge 0` of the :math:`P` parts:

    .. math::
        w_p = (1 - \varphi)\,\frac{s_p}{\sum_q s_q} + \frac{\varphi}{P}

    (``floor`` :math:`\varphi`), and :math:`w_p = 1 / P` when every score is 0 (every row
    was just written, e.g. by an evaluation's exact refresh). The weights sum to 1 and each is
    at least :math:`\varphi / P`.
    """
    uniform = torch.full_like(scores, 1.0 / scores.numel())
    total = scores.sum()
    if total <= 0:
        return uniform
    return (1 - floor) * scores / total + floor * uniform


@register_method
class S3(HistoricalMethod):
    r"""GAS whose epochs visit the parts stalest first (a staleness score, not a shuffle).

    S3's paper bounds the error of a batch's embeddings by the staleness of the histories its
    out-of-batch neighbours are read from, and samples subgraphs by a staleness score computed
    from what the histories hold, without an extra forward pass (its OpenReview abstract; the
    body is not public, so the rule below is ours). A training step rewrites the rows of its
    parts, so the rows other batches read as halo are freshest when the parts whose boundary
    rows are stalest are trained first. At the start of every epoch each part gets the score
    :func:`part_staleness` (mean persistence of its boundary rows over the hidden layers), the
    weights :func:`staleness_weights` (score share plus a uniform floor) and the epoch's order is
    drawn without replacement with probability proportional to the weights
    (:func:`~visagnn.graph.schedule.weighted_permutation`); the parts are then grouped
    ``batch_parts`` at a time as in GAS, so an epoch has the same steps, and visits every part
    once, whatever the scores: no part can starve.

    With equal scores the order is a uniform permutation, GAS's schedule (drawn differently, so
    not GAS's batches). That is the case after every evaluation's exact refresh (every row
    then has persistence 0), so with the default ``--eval-every 1`` and history refresh S3 is
    GAS's schedule; it orders the parts by staleness with ``--no-refresh-histories`` or
    ``--eval-every k > 1``. The halo is read as in GAS.
    """

    name = "s3"
    options_class = S3Options

    def build_loader(self, batcher: SubgraphBatcher,
                     generator: torch.Generator) -> PartitionBatchLoader:
        return WeightedPartitionBatchLoader(batcher, self.config.batch_parts,
                                            self.part_weights, generator)

    def part_scores(self) -> Tensor:
        """Every part's :func:`part_staleness` now (stored state only)."""
        batcher = self.loader.batcher
        return part_staleness(self.model.histories, self.clock.iteration, self.boundary_nodes,
                              batcher.part_of_node, batcher.num_parts)

    def part_weights(self) -> Tensor:
        """The sampling weights of the coming epoch (:func:`staleness_weights`)."""
        return staleness_weights(self.part_scores(), self.options.floor)
