"""VR-GCN (Chen, Zhu and Song, ICML 2018): control variates on historical activations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from visagnn.graph.batch import SubgraphBatch
from visagnn.graph.csr import CSRGraph
from visagnn.history.clock import Clock
from visagnn.history.policy import HaloPolicy
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method
from visagnn.nn.backbone import LayerInput
from visagnn.sampling.neighbor import sample_neighbors


@dataclass(frozen=True)
class VRGCNOptions:
    """The number of sampled neighbours :math:`D^{(l)}` of VR-GCN's control variate (CV)."""

    fanout: int = field(default=2, metadata={
        "help": "D: in-batch neighbours sampled per target at each layer, whose fresh rows "
                "correct the histories (VR-GCN's experiments: D = 2)"})

    def __post_init__(self) -> None:
        if self.fanout < 1:
            raise ValueError(f"VRGCNOptions.fanout must be >= 1, got {self.fanout}")


class ControlVariateHalo(HaloPolicy):
    r"""VR-GCN's control-variate estimator of each layer's aggregation over a METIS batch.

    VR-GCN's CV estimator approximates the aggregation :math:`\sum_{u \in \mathcal{N}(v)}
    \hat A_{vu} h_u` of a target :math:`v` from the histories :math:`\bar h_u` of its whole
    neighbourhood and the fresh rows of :math:`D` sampled neighbours :math:`\hat{\mathcal{N}}(v)`:

    .. math::
        z_v = \sum_{u \in \hat{\mathcal{N}}(v)} \frac{n(v)}{D}\, \hat A_{vu}
        \big(h_u - \bar h_u\big) + \sum_{u \in \mathcal{N}(v)} \hat A_{vu}\, \bar h_u

    In a METIS batch only the in-batch nodes :math:`B` have fresh rows; the halo has its
    histories only. So here, for every target :math:`v \in B` and every hidden layer,

    * the whole neighbourhood, self-loop included, enters through its histories
      :math:`\bar h_u` (the in-batch rows as the earlier steps pushed them, before this step's
      push);
    * the correction :math:`h_u - \bar h_u` enters for :math:`D` neighbours drawn uniformly
      without replacement from :math:`v`'s :math:`n_B(v)` in-batch in-neighbours (all of them,
      with weight 1, when :math:`n_B(v) \le D`), scaled by :math:`n_B(v) / \min(n_B(v), D)`;
      a halo neighbour has no fresh row, so its correction is 0 (its history is read, as in
      GAS);
    * :math:`v`'s own correction :math:`h_v - \bar h_v` always enters, unscaled: its fresh row
      is computed anyway, so that term needs no sample (as in VR-GCN's code with the GraphSAGE
      normalisation of its Reddit and PPI configurations, whose own-row term is not sampled).

    .. math::
        z_v = \hat A_{vv} h_v + \sum_{u \in \mathcal{N}(v)} \hat A_{vu} \bar h_u +
        \frac{n_B(v)}{\min(n_B(v), D)} \sum_{u \in \hat{\mathcal{N}}_B(v)} \hat A_{vu}
        \big(h_u - \bar h_u\big)

    Each in-batch neighbour is drawn with probability :math:`\min(n_B(v), D) / n_B(v)`, so
    :math:`\mathbb{E}[z_v] = \hat A_{vv} h_v + \sum_{u \in \mathcal{N}(v) \cap B} \hat A_{vu}
    h_u + \sum_{u \in \mathcal{N}(v) \setminus B} \hat A_{vu} \bar h_u`, GAS's aggregation:
    the estimator is unbiased for it, and equals it whatever is drawn when the in-batch
    histories are the fresh rows (:math:`h_u = \bar h_u`: exact histories give the exact
    aggregation). Only the sampled rows and the node's own carry gradient into the fresh rows,
    as in VR-GCN, whose histories are constants. A fresh sample is drawn at every layer of
    every step. Layer 1 aggregates the exact features of the batch and its halo, as VR-GCN's
    preprocessed first layer (its "+PP").

    The estimator is built as the next layer's input, so that the layer's own weights
    :math:`\hat A_{vu}` apply (fixed by the global degrees in
    :class:`~visagnn.nn.gcn_backbone.GCNBackbone`). Its rows are the histories of the batch
    and its halo, with the batch's edges; then one correction row :math:`h_v - \bar h_v` per
    target, with an edge into :math:`v` from that copy of :math:`v`; then one scaled correction
    row per sampled edge, with an edge into :math:`v` from that copy of :math:`u`. This needs
    an aggregation that is linear in the rows with weights that depend on the node ids only:
    GCN's, not GAT's attention. The layer's dropout applies to every row it reads, histories
    and corrections alike, as it does to GAS's halo rows; in eval mode the estimate is
    deterministic given the sample.

    Each epoch's record gets ``sampled_fraction``: the share of the in-batch edges into the
    targets whose correction entered.

    Args:
        fanout: :math:`D \ge 1`, neighbours drawn per target (default 2).
        generator: random source of the samples (default: torch's global generator).
    """

    def __init__(self, fanout: int = 2, generator: torch.Generator | None = None) -> None:
        self.fanout = fanout
        self.generator = generator
        self.edges_seen = 0
        self.edges_sampled = 0
        self.replaced = torch.empty(0)  # the batch's history rows before the push (before_push)

    def sample(self, batch: SubgraphBatch) -> tuple[Tensor, Tensor, Tensor]:
        """Up to :attr:`fanout` in-batch in-neighbours of every target: the local ids of the
        sources and targets of the sampled edges, and each edge's scale
        :math:`n_B(v) / \\min(n_B(v), D)` (on ``batch``'s device)."""
        device = batch.n_id.device
        inner = CSRGraph.from_edge_index(batch.induced_edge_index().cpu(), batch.batch_size)
        targets = torch.arange(batch.batch_size)
        source, target = sample_neighbors(inner, targets, self.fanout, self.generator)
        degree = inner.degree[target].to(torch.float32)
        scale = degree / degree.clamp(max=self.fanout)
        self.edges_seen += inner.num_edges
        self.edges_sampled += source.numel()
        return source.to(device), target.to(device), scale.to(device)

    def before_push(self, index: int, batch: SubgraphBatch) -> None:
        r"""Keep the batch's rows of history ``index`` from before this step's push: the
        :math:`\bar h` of its own nodes."""
        self.replaced = self.histories[index].pull(batch.batch_nodes)

    def next_input(
        self, index: int, inp: LayerInput, fresh: Tensor, batch: SubgraphBatch, clock: Clock
    ) -> LayerInput:
        num_nodes, batch_size = batch.num_nodes, batch.batch_size
        stored = torch.cat([self.replaced, self.histories[index].pull(batch.halo_nodes)])
        correction = fresh - self.replaced
        source, target, scale = self.sample(batch)
        own = torch.arange(batch_size, device=fresh.device)
        sampled = torch.arange(source.numel(), device=fresh.device)
        rows = torch.cat([stored, correction, scale.unsqueeze(-1) * correction[source]])
        n_id = torch.cat([batch.n_id, batch.batch_nodes, batch.batch_nodes[source]])
        edge_index = torch.cat([
            batch.edge_index,
            torch.stack([num_nodes + own, own]),
            torch.stack([num_nodes + batch_size + sampled, target]),
        ], dim=1)
        return LayerInput(rows, edge_index, n_id, batch_size)

    def begin_epoch(self) -> None:
        self.edges_seen = self.edges_sampled = 0

    def epoch_extras(self) -> dict[str, Any]:
        return {"sampled_fraction": self.edges_sampled / max(self.edges_seen, 1)}


@register_method
class VRGCN(HistoricalMethod):
    """VR-GCN: GAS's batches and loop with :class:`ControlVariateHalo` on GCN layers; the
    samples are drawn from a generator seeded with ``RunConfig.seed``."""

    name = "vrgcn"
    options_class = VRGCNOptions
    # the control variate needs an aggregation linear in the rows: GCN layers, as VR-GCN's
    # (thu-ml/stochastic_gcn, gcn/vrgcn.py: VRGCN(GCN))
    backbones = ("gcn",)

    def build_policy(self) -> ControlVariateHalo:
        generator = torch.Generator().manual_seed(self.config.seed)
        return ControlVariateHalo(self.options.fanout, generator)
