import pytest
import torch

from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.nn.inference import exact_rows, forward_blocks, layerwise_inference
from visagnn.nn.sage import SAGEBackbone
from visagnn.sampling.neighbor import NeighborSampler, neighbourhood_blocks

NUM_NODES = 240


@torch.no_grad()
def test_layerwise_inference_equals_the_full_graph_forward(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=6)
    graph = csr.permute(partition.perm)
    backbone = GATBackbone(16, 4, 3, num_layers=3, heads=2).eval()
    x = torch.randn(NUM_NODES, 16)
    outputs = layerwise_inference(
        backbone, x, PartitionBatchLoader(SubgraphBatcher(graph, partition), 2, shuffle=False))
    h = x
    for index, computed in enumerate(outputs):
        h = backbone.layer(index, LayerInput(h, graph.edge_index, torch.arange(NUM_NODES),
                                             NUM_NODES))
        assert torch.allclose(computed, h, atol=1e-5)


@torch.no_grad()
def test_forward_blocks_with_every_neighbour_is_exact(csr):
    torch.manual_seed(0)
    backbone = SAGEBackbone(16, 8, 3, num_layers=2).eval()
    x = torch.randn(NUM_NODES, 16)
    seeds = torch.tensor([3, 50, 199])
    full_fanout = int(csr.degree.max())
    blocks = NeighborSampler(csr, [full_fanout, full_fanout],
                             torch.Generator().manual_seed(0)).sample(seeds)
    out = forward_blocks(backbone, x[blocks[0].n_id], blocks)
    exact = x
    for index in range(2):
        exact = backbone.layer(index, LayerInput(exact, csr.edge_index, torch.arange(NUM_NODES),
                                                 NUM_NODES))
    assert torch.allclose(out, exact[seeds], atol=1e-5)


def test_forward_blocks_needs_one_block_per_layer(csr):
    backbone = SAGEBackbone(16, 8, 3, num_layers=2)
    blocks = NeighborSampler(csr, [2], torch.Generator().manual_seed(0)).sample(torch.tensor([0]))
    with pytest.raises(ValueError, match="1 blocks for a backbone of 2 layers"):
        forward_blocks(backbone, torch.randn(blocks[0].n_id.numel(), 16), blocks)



@torch.no_grad()
@pytest.mark.parametrize("hops", [1, 2])
def test_exact_rows_over_the_receptive_field_equal_every_layer_of_the_full_graph(csr, hops):
    torch.manual_seed(0)
    backbone = GATBackbone(16, 4, 3, num_layers=3, heads=2).eval()
    x = torch.randn(NUM_NODES, 16)
    seeds = torch.tensor([7, 3, 120, 55])
    rows = exact_rows(backbone, x, neighbourhood_blocks(csr, seeds, hops))
    assert len(rows) == hops
    h = x
    for index, computed in enumerate(rows):
        h = backbone.layer(index, LayerInput(h, csr.edge_index, torch.arange(NUM_NODES),
                                             NUM_NODES))
        assert torch.allclose(computed, h[seeds], atol=1e-5)
