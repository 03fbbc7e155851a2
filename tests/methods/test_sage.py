import pytest
import torch
import torch.nn.functional as F

from tests.graphs import write_community_graph
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.partition import range_partition
from visagnn.methods import resolve_config
from visagnn.methods.sage import SAGEOptions
from visagnn.nn.inference import forward_blocks, layerwise_inference
from visagnn.nn.sage import SAGEBackbone
from visagnn.run.train import run
from visagnn.sampling.neighbor import NeighborSampler

NUM_NODES = 240


@pytest.fixture
def backbone():
    torch.manual_seed(0)
    return SAGEBackbone(12, 16, 4, num_layers=2).eval()


def full_graph_forward(backbone, x, edge_index):
    """PyG's usual full-graph SAGEConv stack: the reference for exactness."""
    h = F.relu(backbone.convs[0](x, edge_index))
    return backbone.convs[1](h, edge_index)


@torch.no_grad()
@pytest.mark.parametrize("num_batches", [35, 4, 1])
def test_layerwise_inference_is_exact(backbone, csr, num_batches):
    x = torch.randn(NUM_NODES, 12)
    batcher = SubgraphBatcher(csr, range_partition(NUM_NODES, num_batches))
    out = layerwise_inference(backbone, x, PartitionBatchLoader(batcher, 1, shuffle=False))[-1]
    assert torch.allclose(out, full_graph_forward(backbone, x, csr.edge_index), atol=1e-5)


@torch.no_grad()
def test_blocks_with_every_neighbour_give_the_full_graph_output(backbone, csr):
    x = torch.randn(NUM_NODES, 12)
    everything = int(csr.degree.max())
    seeds = torch.tensor([3, 50, 239])
    blocks = NeighborSampler(csr, [everything, everything]).sample(seeds)
    out = forward_blocks(backbone, x[blocks[0].n_id], blocks)
    assert torch.allclose(out, full_graph_forward(backbone, x, csr.edge_index)[seeds], atol=1e-5)


def test_fanouts_follow_the_depth():
    assert SAGEOptions().fanout_list(2) == [25, 10]
    assert SAGEOptions().fanout_list(3) == [15, 10, 5]
    assert SAGEOptions(fanouts="5,4,3,2").fanout_list(4) == [5, 4, 3, 2]
    with pytest.raises(ValueError, match="num_layers = 3"):
        SAGEOptions(fanouts="25,10").fanout_list(3)
    with pytest.raises(ValueError, match="comma-separated"):
        SAGEOptions(fanouts="25;10").fanout_list(2)


def test_sage_learns(tmp_path):
    graph = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(graph), "sage", root=str(tmp_path), epochs=20,
                            hidden_channels=32, lr=0.03)
    result = run(config, {"fanouts": "10,5", "batch_size": 64}, progress=False)
    summary = result.summary
    assert summary["status"] == "ok" and summary["test"] > 0.8
    assert summary["options"] == {"fanouts": [10, 5], "batch_size": 64}
    assert result.records[-1]["loss"] < result.records[0]["loss"]
