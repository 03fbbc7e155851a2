"""Running a :class:`~visagnn.nn.backbone.Backbone` over bipartite blocks (targets first).

A block is anything with ``n_id`` (targets first, then the other sources), ``batch_size`` (the
number of targets) and ``edge_index`` (local ids, edges into the targets): a
:class:`~visagnn.sampling.neighbor.SampledBlock` or a :class:`~visagnn.graph.batch.SubgraphBatch`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import torch
from torch import Tensor

from visagnn.graph.features import FeatureRows
from visagnn.nn.backbone import Backbone, LayerInput
from visagnn.sampling.neighbor import SampledBlock


class Block(Protocol):
    n_id: Tensor
    batch_size: int
    edge_index: Tensor

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Block: ...


def forward_blocks(backbone: Backbone, x: Tensor, blocks: Sequence[SampledBlock]) -> Tensor:
    r"""Mini-batch forward over one sampled block per layer (GraphSAGE's sampled computation
    graph, or a layer-wise sample with the edge weights of :mod:`visagnn.sampling.layerwise`).

    .. math::
        h^{(l+1)}_{\text{targets}(l)} = \text{layer}_l\big(h^{(l)}_{n\_id(l)},\ E_l,\ w_l\big)

    ``x`` holds the input rows of ``blocks[0].n_id``; block ``l``'s targets must be the nodes
    of block ``l + 1`` (``blocks[l].batch_size == len(blocks[l + 1].n_id)``). Returns the output
    rows of the last block's targets.
    """
    if len(blocks) != backbone.num_layers:
        raise ValueError(f"{len(blocks)} blocks for a backbone of {backbone.num_layers} layers")
    h = x
    for index, block in enumerate(blocks):
        inp = LayerInput(h, block.edge_index, block.n_id, block.batch_size,
                         edge_weight=block.edge_weight)
        h = backbone.layer(index, inp)[: block.batch_size]
    return h


@torch.no_grad()
def layerwise_inference(
    backbone: Backbone,
    x: Tensor | FeatureRows,
    batches: Iterable[Block],
) -> list[Tensor]:
    """Exact output of every layer for every node, one layer at a time over ``batches``.

    ``batches`` must cover every node once as targets, each with all its in-edges (e.g. a
    :class:`~visagnn.graph.batch.PartitionBatchLoader` without shuffling); it is iterated once per
    layer. Each layer reads the previous layer's exact output of the batch and its neighbours,
    so memory stays that of one batch. ``x`` is on CPU (a tensor, or
    :class:`~visagnn.graph.features.FeatureRows`); rows are moved to the backbone's
    device and the ``num_layers`` results ``[N, d_l]`` come back on CPU, the last being the
    logits.
    """
    device = next(backbone.parameters()).device
    outputs: list[Tensor] = []
    h = x
    for index in range(backbone.num_layers):
        out: Tensor | None = None
        for batch in batches:
            rows = h[batch.n_id].to(device, non_blocking=True)
            on_device = batch.to(device)
            inp = LayerInput(rows, on_device.edge_index, on_device.n_id, on_device.batch_size)
            result = backbone.layer(index, inp)[: batch.batch_size].cpu()
            if out is None:
                out = result.new_empty(len(h), result.size(1))
            out[batch.n_id[: batch.batch_size]] = result
        assert out is not None, "layerwise_inference needs at least one batch"
        outputs.append(out)
        h = out
    return outputs


@torch.no_grad()
def exact_rows(backbone: Backbone, x: Tensor | FeatureRows,
               blocks: Sequence[Block]) -> list[Tensor]:
    r"""Every layer's output at the seeds of ``blocks`` (e.g.
    :func:`~visagnn.sampling.neighbor.neighbourhood_blocks`, one block per layer to compute, which
    may be fewer than the backbone's layers):

    .. math::
        h^{(l+1)}_{S} = \text{layer}_l\big(h^{(l)}_{n\_id(l)},\ E_l\big)[:|S|],
        \quad l = 0, \dots, \text{len(blocks)} - 1,\ S = \text{seeds}

    With every in-edge in the blocks these are the exact rows :func:`layerwise_inference` gives
    the seeds, at the cost of their receptive field instead of the whole graph. ``x`` holds
    every node's input (CPU); the rows come back on CPU.
    """
    device = next(backbone.parameters()).device
    seeds = blocks[-1].batch_size
    outputs = []
    h = x[blocks[0].n_id].to(device, non_blocking=True)
    for index, block in enumerate(blocks):
        on_device = block.to(device)
        inp = LayerInput(h, on_device.edge_index, on_device.n_id, on_device.batch_size)
        h = backbone.layer(index, inp)[: block.batch_size]
        outputs.append(h[:seeds].cpu())
    return outputs
