"""GraphSAGE (Hamilton et al., NeurIPS 2017) trained on uniformly sampled neighbourhoods."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from visagnn.methods.registry import register_method
from visagnn.methods.seed_batches import SeedBatchMethod
from visagnn.nn.sage import SAGEBackbone
from visagnn.sampling.neighbor import NeighborSampler

DEFAULT_FANOUTS: dict[int, tuple[int, ...]] = {2: (25, 10), 3: (15, 10, 5)}
"""Fan-outs by depth: GraphSAGE's ``S1 = 25, S2 = 10``; PyG's ogbn-products example for 3."""


@dataclass(frozen=True)
class SAGEOptions:
    """Options of GraphSAGE (defaults: Hamilton et al., 2017, and its official code)."""

    fanouts: str | None = field(default=None, metadata={
        "help": "GraphSAGE neighbours sampled per node at each hop, nearest first, e.g. 25,10 "
                "(default: 25,10 for 2 layers, 15,10,5 for 3)"})
    batch_size: int = field(default=512, metadata={
        "help": "GraphSAGE target nodes per mini-batch (also per inference batch)"})

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"SAGEOptions.batch_size must be >= 1, got {self.batch_size}")

    def fanout_list(self, num_layers: int) -> list[int]:
        """The fan-out of each hop for a model of ``num_layers`` layers."""
        if self.fanouts is None:
            if num_layers not in DEFAULT_FANOUTS:
                raise ValueError(f"no default fan-outs for {num_layers} layers; pass --fanouts "
                                 f"with {num_layers} comma-separated values")
            return list(DEFAULT_FANOUTS[num_layers])
        try:
            fanouts = [int(value) for value in self.fanouts.split(",")]
        except ValueError:
            raise ValueError(
                f"SAGEOptions.fanouts must be comma-separated ints, got {self.fanouts!r}"
            ) from None
        if len(fanouts) != num_layers or min(fanouts) < 1:
            raise ValueError(f"SAGEOptions.fanouts {self.fanouts!r} must give one positive value "
                             f"per layer (num_layers = {num_layers})")
        return fanouts


@register_method
class GraphSAGE(SeedBatchMethod):
    """GraphSAGE-mean with a fresh uniform sample of neighbours at every layer of every batch.

    Each epoch shuffles the training nodes into batches of ``batch_size`` seeds; a seed's
    ``L``-hop computation graph is sampled by :class:`~visagnn.sampling.neighbor.NeighborSampler`
    with ``fanouts`` (:class:`~visagnn.methods.seed_batches.SeedBatchMethod`). Evaluation is exact
    layer-wise inference with every neighbour.

    Defaults: ``K = 2`` layers, fan-outs 25 and 10, 256 hidden units (the official code's 128
    per half of the concatenation), batches of 512, Adam with lr 0.01 (the paper's and the
    official code's). GraphSAGE has no Planetoid setting; there the regularisation of the GCN
    paper is used (dropout 0.5, L2 5e-4, 200 epochs). Elsewhere the width is the dataset's GAT
    width (256 on Reddit and the OGB graphs, the published GraphSAGE width) and the rest the
    dataset's defaults.
    """

    name = "sage"
    options_class = SAGEOptions
    sampler: NeighborSampler

    def build_sampler(self) -> NeighborSampler:
        return NeighborSampler(self.graph, self.options.fanout_list(self.config.num_layers),
                               self.generator)

    def build_backbone(self) -> SAGEBackbone:
        return SAGEBackbone(
            self.dataset.data.x.size(1), self.config.hidden_channels, self.dataset.num_classes,
            num_layers=self.config.num_layers, dropout=self.config.dropout,
        )

    def describe(self) -> dict[str, Any]:
        return {"fanouts": self.sampler.fanouts, "batch_size": self.options.batch_size}
