"""FastGCN (Chen et al., ICLR 2018): a GCN trained on layer-wise importance samples."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import Tensor

from visagnn.graph.normalization import NormalizedAdjacency
from visagnn.methods.layer_sampling import LayerSamplingOptions, LayerwiseSamplingMethod
from visagnn.methods.registry import register_method
from visagnn.sampling.layerwise import FastGCNSampler


@dataclass(frozen=True)
class FastGCNOptions(LayerSamplingOptions):
    """Options of FastGCN: batches of 256 training nodes (the official Reddit code's; 1024 on
    the Planetoid graphs, :mod:`visagnn.defaults`) and 400 nodes sampled per layer (the paper's
    sample size on Cora and Reddit; 100 on PubMed). Their help texts are those of the flags
    that LADIES and GraphSAGE share."""

    batch_size: int = field(default=256, metadata={
        "help": "training nodes per mini-batch (the output layer's targets), also nodes per "
                "inference batch; GraphSAGE and LADIES take 512, FastGCN the default below "
                "(1024 on Planetoid)"})
    layer_size: int = field(default=400, metadata={
        "help": "nodes sampled at each layer; LADIES takes 64, FastGCN the default below "
                "(100 on PubMed)"})


@register_method
class FastGCN(LayerwiseSamplingMethod):
    r"""FastGCN: every layer draws ``layer_size`` nodes from the whole graph with
    :math:`q(u) \propto \lVert \hat A_{:, u} \rVert^2` and aggregates them with the unbiased
    importance weights :math:`\hat A_{vu} / (s\, q(u))`
    (:class:`~visagnn.sampling.layerwise.FastGCNSampler`); the output layer's targets are a batch
    of training nodes.

    Defaults (:mod:`visagnn.defaults`): the official code's Adam with lr 0.01, no dropout,
    L2 only on the first layer (5e-4 on Planetoid, 1e-4 on Reddit), 16 hidden units on
    Planetoid and 128 on Reddit, 200 epochs on Planetoid; elsewhere the dataset's GAT width
    and the rest of its defaults. Unlike the official code, the first layer is sampled too
    (the code precomputes :math:`\hat A X` for it) and the model is trained transductively on
    the whole graph, like every method here.
    """

    name = "fastgcn"
    options_class = FastGCNOptions
    sampler: FastGCNSampler
    regularized = "first"  # the official code's L2 loss: the first layer's weights only

    def layer_sampler(self, adjacency: NormalizedAdjacency) -> FastGCNSampler:
        return FastGCNSampler(adjacency, self.config.num_layers, self.options.layer_size,
                              self.generator)

    def memory_tensors(self) -> dict[str, list[Tensor]]:
        """Also the sampling law and its CDF over all nodes."""
        held = super().memory_tensors()
        held["graph"] += [self.sampler.probability, self.sampler.cdf]
        return held
