"""Layer 4, samplers: uniform neighbour sampling (GraphSAGE), layer-wise sampling (FastGCN,
LADIES) and GraphSAINT's random-walk subgraphs with their normalisation."""

from visagnn.sampling.layerwise import FastGCNSampler, LADIESSampler
from visagnn.sampling.neighbor import NeighborSampler, SampledBlock, neighbourhood_blocks
from visagnn.sampling.saint import RandomWalkSampler, SaintSubgraph

__all__ = ["FastGCNSampler", "LADIESSampler", "NeighborSampler", "RandomWalkSampler",
           "SaintSubgraph", "SampledBlock", "neighbourhood_blocks"]
