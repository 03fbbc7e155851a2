"""GraphSAINT (Zeng et al., ICLR 2020): a GCN trained on normalised random-walk subgraphs."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from visagnn.config import RunConfig
from visagnn.datasets import GraphDataset
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.features import FeatureRows
from visagnn.graph.normalization import inverse_sqrt_degree
from visagnn.graph.partition import range_partition
from visagnn.methods.base import Method
from visagnn.methods.optim import build_optimizer, optimizer_step
from visagnn.methods.registry import register_method
from visagnn.nn.full_graph import FullGraphModel
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.nn.inference import layerwise_inference
from visagnn.sampling.saint import RandomWalkSampler, SaintSubgraph
from visagnn.sampling.saint_normalization import SaintNormalization


@dataclass(frozen=True)
class GraphSAINTOptions:
    """Options of GraphSAINT's random-walk sampler.

    Defaults from the official code's random-walk configurations
    (GraphSAINT/GraphSAINT, ``train_config/table2/*_rw.yml``): 2,000 roots (Reddit's
    ``num_root``; the others use 1,250 to 6,000), walks of 2 hops (``depth`` of Flickr, PPI,
    Yelp and Amazon; Reddit's 4 and OGB's 3 on ogbn-products are in :mod:`visagnn.defaults`)
    and a sample coverage of 50 (Reddit, PPI, Yelp and Amazon; Flickr 25).
    """

    num_roots: int = field(default=2000, metadata={
        "help": "GraphSAINT random walks per subgraph, each from a training node drawn "
                "uniformly"})
    walk_length: int = field(default=2, metadata={
        "help": "GraphSAINT hops of each random walk"})
    sample_coverage: int = field(default=50, metadata={
        "help": "GraphSAINT pre-sampling for the normalisation: subgraphs are drawn until "
                "they hold this many times as many nodes as there are training nodes"})

    def __post_init__(self) -> None:
        for name in ("num_roots", "walk_length", "sample_coverage"):
            if getattr(self, name) < 1:
                raise ValueError(
                    f"GraphSAINTOptions.{name} must be >= 1, got {getattr(self, name)}"
                )


@register_method
class GraphSAINT(Method):
    r"""GraphSAINT-RW: every step trains a GCN on the subgraph induced by random walks.

    A step draws a subgraph :math:`G_s = (V_s, E_s)` from
    :class:`~visagnn.sampling.saint.RandomWalkSampler` (``num_roots`` walks of ``walk_length``
    hops from uniformly drawn training nodes) and trains on it with the paper's normalisation
    (:class:`~visagnn.sampling.saint_normalization.SaintNormalization`):

    .. math::
        h_v^{(l+1)} = \sigma\Big(\hat A_{vv} W h_v^{(l)} + \sum_{u \in \mathcal N(v) \cap V_s}
        \frac{\hat A_{vu}}{\alpha_{u,v}} W h_u^{(l)} + b\Big), \qquad
        \mathcal L = \sum_{v \in V_s \cap V_t} \frac{L_v}{\lambda_v |V_t|}

    with :math:`\hat A` GCN's normalised adjacency by whole-graph degrees
    (:class:`~visagnn.nn.gcn_backbone.GCNBackbone`) and :math:`\alpha, \lambda` estimated once
    by pre-sampling ``sample_coverage`` times the training nodes (:meth:`prepare`, untimed,
    reported as ``presample_s``). An epoch is
    :math:`\lceil |V_t| / (\text{num\_roots} \cdot \text{walk\_length}) \rceil` steps, the
    official code's training nodes over its subgraph budget. Evaluation is exact layer-wise
    inference on the whole graph, in balanced batches of at most
    ``num_roots × walk_length`` consecutive target nodes.

    Unlike the official code, the layers are GCN's (its tables use GraphSAGE-style
    concatenation), so that :math:`\alpha` weighs the same normalised adjacency as the other
    GCN methods, and the walks run on the whole graph rather than on the training nodes' (the
    transductive setting of PyG's and OGB's GraphSAINT); only training nodes enter the loss.
    The width is the dataset's GAT width (:mod:`visagnn.defaults`); Reddit and ogbn-products
    take their sampler and optimiser settings from the official configuration and from OGB's
    example, the rest are the dataset's defaults.
    """

    name = "graphsaint"
    options_class = GraphSAINTOptions

    def __init__(
        self, dataset: GraphDataset, config: RunConfig, options: GraphSAINTOptions
    ) -> None:
        super().__init__(dataset, config, options)
        data = dataset.data
        graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
        self.train_mask = data.train_mask
        self.sampler = RandomWalkSampler(
            graph, data.train_mask.nonzero().flatten(), options.num_roots, options.walk_length,
            torch.Generator().manual_seed(config.seed),
        )
        budget = options.num_roots * options.walk_length
        self.steps_per_epoch = math.ceil(self.sampler.train_nodes.numel() / budget)
        self.x = FeatureRows(data.x)
        self.y = data.y
        num_batches = -(-data.num_nodes // budget)
        batcher = SubgraphBatcher(graph, range_partition(data.num_nodes, num_batches))
        self.inference_loader = PartitionBatchLoader(batcher, 1, shuffle=False)
        self.inv_sqrt_degree = inverse_sqrt_degree(graph.degree)
        self.model = FullGraphModel(GCNBackbone(
            data.x.size(1), config.hidden_channels, dataset.num_classes, graph.degree,
            num_layers=config.num_layers, dropout=config.dropout,
        )).to(self.device)
        self.optimizer = build_optimizer(self.model, self.model.regularized_parameters(),
                                         config.lr, config.weight_decay)
        self.normalization: SaintNormalization | None = None  # estimated by prepare()
        self.presample_s: float | None = None

    def prepare(self) -> None:
        start = time.perf_counter()
        self.normalization = SaintNormalization.estimate(self.sampler,
                                                         self.options.sample_coverage)
        self.presample_s = time.perf_counter() - start

    def train_step(self, subgraph: SaintSubgraph) -> float:
        """One optimizer step on ``subgraph`` with the normalised aggregation and loss."""
        norm, device = self.normalization, self.device
        x = self.x.gather(subgraph.n_id, pin_memory=device.type == "cuda").to(
            device, non_blocking=True)
        edge_index, edge_weight = norm.weighted_edges(subgraph, self.inv_sqrt_degree)
        out = self.model(x, edge_index.to(device), subgraph.n_id.to(device),
                         edge_weight.to(device))
        rows = self.train_mask[subgraph.n_id].nonzero().flatten()
        nodes = subgraph.n_id[rows]
        node_loss = F.cross_entropy(out[rows.to(device)], self.y[nodes].to(device),
                                    reduction="none")
        return optimizer_step(norm.loss(node_loss, nodes), self.model, self.optimizer,
                              self.config.grad_clip)

    def train_epoch(self, epoch: int) -> float:
        self.model.train()
        losses = [self.train_step(self.sampler.sample()) for _ in range(self.steps_per_epoch)]
        return sum(losses) / len(losses)

    def predict(self) -> Tensor:
        self.model.eval()
        return layerwise_inference(self.model.backbone, self.x, self.inference_loader)[-1]

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """Also the features read by steps, the sampler's CSR graph and the normalisation."""
        held = super().memory_tensors()
        held["features"] += self.x.tensors()
        held["graph"] += [self.sampler.graph.rowptr, self.sampler.graph.col]
        if self.normalization is not None:
            held["graph"] += [self.normalization.loss_weight,
                              self.normalization.aggregator_weight]
        return held

    def describe(self) -> dict[str, Any]:
        norm = self.normalization
        return {
            "num_roots": self.options.num_roots,
            "walk_length": self.options.walk_length,
            "sample_coverage": self.options.sample_coverage,
            "steps_per_epoch": self.steps_per_epoch,
            "presampled_subgraphs": None if norm is None else norm.num_subgraphs,
            "mean_subgraph_nodes": None if norm is None else norm.mean_nodes,
            "mean_subgraph_edges": None if norm is None else norm.mean_edges,
            "presample_s": self.presample_s,
        }
