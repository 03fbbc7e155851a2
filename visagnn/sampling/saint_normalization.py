"""GraphSAINT's loss and aggregator normalisation (Zeng et al., ICLR 2020), by pre-sampling."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from visagnn.graph.normalization import symmetric_normalization
from visagnn.sampling.saint import RandomWalkSampler, SaintSubgraph


@dataclass(frozen=True)
class SaintNormalization:
    r"""Weights that make a sampled subgraph's aggregation and loss unbiased estimates.

    From ``N`` pre-sampled subgraphs in which node :math:`v` appears :math:`C_v` times and
    edge :math:`u \to v` :math:`C_{u,v}` times, the paper's estimates of the node and edge
    probabilities are

    .. math::
        \lambda_v = \frac{C_v}{N} \approx p_v, \qquad
        \alpha_{u,v} = \frac{C_{u,v}}{C_v} \approx \frac{p_{u,v}}{p_v}.

    ``aggregator_weight[e]`` is :math:`1 / \alpha_{u,v}` for CSR edge :math:`e = u \to v`, so
    that given :math:`v \in V_s`,
    :math:`\hat A_{vv} x_v + \sum_{u \in \mathcal N(v) \cap V_s} \hat A_{vu} x_u / \alpha_{u,v}`
    is an unbiased estimate of :math:`(\hat A X)_v`. ``loss_weight[v]`` is
    :math:`1 / (\lambda_v |V_t|)` for a training node (0 elsewhere), so that
    :math:`\sum_{v \in V_s \cap V_t} L_v / (\lambda_v |V_t|)` is an unbiased estimate of the
    mean training loss :math:`\frac{1}{|V_t|} \sum_{v \in V_t} L_v` (:meth:`loss`; the
    official code's scaling of the paper's :math:`\sum_v L_v / \lambda_v`).

    A count of zero (a node or edge that pre-sampling never drew, although the sampler can) is
    taken as 1, the smallest count that could have been seen, so that every weight is at most
    ``N``. The official code (and PyG's) instead takes 0.1 for a node and caps an edge's
    weight at :math:`10^4`: with the default coverage on the synthetic graph (60 pre-sampled
    subgraphs), a training subgraph then held about ten edges weighted :math:`10^4` and the
    loss diverged.

    Attributes:
        loss_weight: ``[num_nodes]``.
        aggregator_weight: ``[num_edges]``, in the graph's CSR edge order.
        num_subgraphs: ``N``, the subgraphs pre-sampled.
        mean_nodes: their mean number of nodes.
        mean_edges: their mean number of edges.
    """

    loss_weight: Tensor
    aggregator_weight: Tensor
    num_subgraphs: int
    mean_nodes: float
    mean_edges: float

    @classmethod
    def estimate(cls, sampler: RandomWalkSampler, sample_coverage: int) -> SaintNormalization:
        """Pre-sample subgraphs until they hold ``sample_coverage`` times as many nodes as
        there are training nodes (the official code's stopping rule), counting every node and
        edge, and derive the weights."""
        if sample_coverage < 1:
            raise ValueError(f"sample_coverage must be >= 1, got {sample_coverage}")
        graph, train_nodes = sampler.graph, sampler.train_nodes
        node_count = torch.zeros(graph.num_nodes, dtype=torch.int32)
        edge_count = torch.zeros(graph.num_edges, dtype=torch.int32)
        num_subgraphs = sampled_nodes = sampled_edges = 0
        while sampled_nodes < sample_coverage * train_nodes.numel():
            subgraph = sampler.sample()
            node_count[subgraph.n_id] += 1  # ids are distinct within a subgraph
            edge_count[subgraph.edge_id] += 1
            num_subgraphs += 1
            sampled_nodes += subgraph.num_nodes
            sampled_edges += subgraph.num_edges
        # float32 holds the counts exactly (below 2^24) at half float64's memory per edge
        node_count = node_count.clamp(min=1).float()
        edge_count = edge_count.clamp(min=1).float()
        target = torch.repeat_interleave(torch.arange(graph.num_nodes), graph.degree)
        loss_weight = torch.zeros(graph.num_nodes)
        loss_weight[train_nodes] = num_subgraphs / (node_count[train_nodes] * train_nodes.numel())
        return cls(loss_weight=loss_weight, aggregator_weight=node_count[target] / edge_count,
                   num_subgraphs=num_subgraphs, mean_nodes=sampled_nodes / num_subgraphs,
                   mean_edges=sampled_edges / num_subgraphs)

    def loss(self, node_loss: Tensor, nodes: Tensor) -> Tensor:
        r""":math:`\sum_v` ``loss_weight[v] · node_loss[v]`` over ``nodes`` (global ids on CPU;
        ``node_loss`` one value per node, on any device): the subgraph's estimate of the mean
        training loss."""
        return (self.loss_weight[nodes].to(node_loss.device) * node_loss).sum()

    def weighted_edges(self, subgraph: SaintSubgraph,
                       inv_sqrt_degree: Tensor) -> tuple[Tensor, Tensor]:
        r"""The subgraph's normalised aggregation as ``(edge_index, edge_weight)`` in local ids,
        self-loops appended: :math:`\hat A_{vu} / \alpha_{u,v}` on its edges (with the whole
        graph's degrees, ``inv_sqrt_degree`` :math:`(d + 1)^{-1/2}` of every node) and
        :math:`\hat A_{vv}` on the loops, the weights a
        :class:`~visagnn.nn.gcn_backbone.GCNBackbone` layer takes as
        :attr:`~visagnn.nn.backbone.LayerInput.edge_weight`."""
        edge_index, weight = symmetric_normalization(subgraph.edge_index,
                                                     inv_sqrt_degree[subgraph.n_id])
        scale = self.aggregator_weight[subgraph.edge_id]
        weight = weight * torch.cat([scale, scale.new_ones(subgraph.num_nodes)])
        return edge_index, weight
