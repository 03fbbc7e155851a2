"""What FastGCN and LADIES share: GCN trained on layer-wise samples, evaluated exactly."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, fields
from typing import ClassVar

from torch import Tensor

from visagnn.graph.normalization import NormalizedAdjacency
from visagnn.methods.seed_batches import SeedBatchMethod
from visagnn.nn.gcn_backbone import GCNBackbone, RegularizedLayers
from visagnn.sampling.layerwise import LayerSampler


@dataclass(frozen=True)
class LayerSamplingOptions:
    """Base of the layer-wise samplers' options, whose fields are all counts (``batch_size``,
    ``layer_size``): each must be >= 1, and a bad one is named ``<OptionsClass>.<field>``."""

    def __post_init__(self) -> None:
        for option in fields(self):
            value = getattr(self, option.name)
            if value < 1:
                raise ValueError(f"{type(self).__name__}.{option.name} must be >= 1, got {value}")


class LayerwiseSamplingMethod(SeedBatchMethod):
    """A GCN (:class:`~visagnn.nn.gcn_backbone.GCNBackbone`) trained on layer-wise samples.

    Each epoch shuffles the training nodes into batches of ``batch_size`` output nodes; the
    subclass's :class:`~visagnn.sampling.layerwise.LayerSampler` (:meth:`layer_sampler`) draws
    ``layer_size`` nodes per layer and weights the sampled edges, and the backbone aggregates
    with those weights (:class:`~visagnn.methods.seed_batches.SeedBatchMethod`). Evaluation is
    exact layer-wise inference with every edge and GCN's symmetric normalisation, in batches
    of ``batch_size`` nodes, as for GraphSAGE.
    """

    sampler: LayerSampler
    regularized: ClassVar[RegularizedLayers] = "all"
    """The backbone's layers that take weight decay (LADIES: all)."""

    def build_sampler(self) -> LayerSampler:
        return self.layer_sampler(NormalizedAdjacency.of(self.graph))

    @abstractmethod
    def layer_sampler(self, adjacency: NormalizedAdjacency) -> LayerSampler:
        r"""The sampler of the method on the graph's :math:`\hat A`, drawing from
        ``self.generator``."""

    def build_backbone(self) -> GCNBackbone:
        return GCNBackbone(
            self.dataset.data.x.size(1), self.config.hidden_channels, self.dataset.num_classes,
            self.graph.degree, num_layers=self.config.num_layers, dropout=self.config.dropout,
            regularized=self.regularized,
        )

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        r"""Also the degree factors of :math:`\hat A`."""
        held = super().memory_tensors()
        held["graph"].append(self.sampler.adjacency.inv_sqrt_degree)
        return held
