"""LADIES (Zou et al., NeurIPS 2019): a GCN trained on layer-dependent importance samples."""

from __future__ import annotations

from dataclasses import dataclass, field

from visagnn.graph.normalization import NormalizedAdjacency
from visagnn.methods.layer_sampling import LayerSamplingOptions, LayerwiseSamplingMethod
from visagnn.methods.registry import register_method
from visagnn.sampling.layerwise import LADIESSampler


@dataclass(frozen=True)
class LADIESOptions(LayerSamplingOptions):
    """Options of LADIES, defaults from its official code (``pytorch_ladies.py``:
    ``--batch_size 512``, ``--samp_num 64``)."""

    batch_size: int = field(default=512, metadata={
        "help": "LADIES training nodes per mini-batch, also nodes per inference batch"})
    layer_size: int = field(default=64, metadata={
        "help": "LADIES nodes sampled at each layer among the neighbours of the layer above"})


@register_method
class LADIES(LayerwiseSamplingMethod):
    r"""LADIES: every layer draws ``layer_size`` nodes among the neighbours of the layer above
    with :math:`p(u) \propto \lVert Q \hat A_{:, u} \rVert^2`, keeps the layer above's nodes
    for their self-loops, and weights the edges by :math:`\hat A_{vu} / p(u)` normalised to the
    row sums of :math:`\hat A` (:class:`~visagnn.sampling.layerwise.LADIESSampler`).

    Defaults (:mod:`visagnn.defaults`): the official code's 256 hidden units, dropout 0.2,
    Adam with torch's default lr 1e-3 and no weight decay, gradient clipping at 0.2; the depth
    and epochs are the dataset's (the code's 5 layers and its epochs of 10 random batches are
    not kept, so that every method sees the same depth and passes over the training nodes).
    The official model applies ELU after each graph convolution and a linear classifier on
    top; here it is the GCN backbone every GCN method shares.
    """

    name = "ladies"
    options_class = LADIESOptions

    def layer_sampler(self, adjacency: NormalizedAdjacency) -> LADIESSampler:
        return LADIESSampler(adjacency, self.config.num_layers, self.options.layer_size,
                             self.generator)
