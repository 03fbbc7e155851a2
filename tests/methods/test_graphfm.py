import pytest
import torch
import torch.nn.functional as F

from tests.graphs import write_community_graph
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition, partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import layer_histories
from visagnn.methods import resolve_config
from visagnn.methods.graphfm import GraphFMHalo, GraphFMOptions
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.run.train import run


def graphfm_model(backbone, num_nodes, momentum=0.1):
    return HistoricalModel(backbone, layer_histories(num_nodes, backbone.hidden_dims),
                           GraphFMHalo(momentum))


def gas_model(backbone, num_nodes):
    return HistoricalModel(backbone, layer_histories(num_nodes, backbone.hidden_dims),
                           HaloPolicy())


@pytest.fixture
def tiny():
    """Parts {0, 1} and {2, 3}; edges 0-1, 0-2, 1-2, 2-3. The batch of part 0 has halo [2]."""
    edges = torch.tensor([[0, 1], [0, 2], [1, 2], [2, 3]]).t()
    graph = CSRGraph.from_edge_index(torch.cat([edges, edges.flip(0)], dim=1), 4)
    batcher = SubgraphBatcher(graph, Partition(torch.arange(4), torch.tensor([0, 2, 4])))
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [100.0, 100.0]])
    return batcher.batch(torch.tensor([0])), x


def test_edges_into_halo_reverse_the_edges_out_of_it(tiny):
    batch, _ = tiny
    assert batch.halo_nodes.tolist() == [2]
    edges = batch.n_id[batch.edges_into_halo()]
    assert sorted(map(tuple, edges.t().tolist())) == [(0, 2), (1, 2)]


@torch.no_grad()
def test_momentum_update_by_hand(tiny):
    batch, x = tiny
    backbone = GATBackbone(2, 2, 2, num_layers=2, heads=1, dropout=0.0)
    conv = backbone.convs[0]
    conv.lin.weight.copy_(torch.eye(2))
    conv.att_src.zero_()
    conv.att_dst.zero_()
    conv.bias.zero_()
    model = graphfm_model(backbone, 4, momentum=0.5).eval()
    model.histories[0].fill(torch.full((4, 2), 9.0))
    model.histories[0].embedding[2] = torch.tensor([3.0, 2.0])

    out = model(x[batch.n_id], batch, Clock(1))

    # Uniform attention over node 2's in-batch sources {0, 1} and itself (node 3 is out of the
    # batch): h̄_2 = ELU((x0 + x1 + x2) / 3) = ELU([1, 0]) = [1, 0];
    # hist_2 ← 0.5 · [1, 0] + 0.5 · [3, 2] = [2, 1].
    assert torch.allclose(model.histories[0].embedding[2], torch.tensor([2.0, 1.0]))
    assert model.histories[0].last_push.tolist() == [1, 1, 1, 0]  # the moved row is a write
    gas = gas_model(backbone, 4).eval()
    gas.histories[0].fill(model.histories[0].embedding)
    assert torch.allclose(out, gas(x[batch.n_id], batch, Clock(1)))


@torch.no_grad()
def test_halo_estimate_is_attention_over_in_batch_sources_and_self(tiny):
    batch, x = tiny
    torch.manual_seed(0)
    model = graphfm_model(GATBackbone(2, 3, 2, heads=2, dropout=0.0), 4).eval()
    conv = model.backbone.convs[0]
    inp = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)

    wx = conv.lin(x[:3]).view(3, 2, 3)  # nodes 0, 1, 2; heads; channels
    logits = F.leaky_relu((wx * conv.att_src).sum(-1) + (wx[2] * conv.att_dst[0]).sum(-1), 0.2)
    attention = logits.softmax(dim=0)  # over the sources {0, 1, 2} of node 2, per head
    expected = F.elu((attention.unsqueeze(-1) * wx).sum(0).flatten() + conv.bias)

    estimate = model.halo_policy.halo_estimate(0, inp, batch)
    assert torch.allclose(estimate, expected.unsqueeze(0), atol=1e-6)


@torch.no_grad()
def test_zero_momentum_is_gas(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    backbone = GATBackbone(16, 8, 5, num_layers=3, heads=2, dropout=0.0)
    model = graphfm_model(backbone, 240, momentum=0.0).eval()
    gas = gas_model(backbone, 240).eval()
    for ours, theirs in zip(model.histories, gas.histories, strict=True):
        ours.fill(torch.randn(240, ours.dim))
        theirs.fill(ours.embedding)
    x = torch.randn(240, 16)
    for batch in PartitionBatchLoader(batcher, 3, generator=torch.Generator().manual_seed(0)):
        expected = gas(x[batch.n_id], batch, Clock(1))
        assert torch.allclose(model(x[batch.n_id], batch, Clock(1)), expected, atol=1e-6)


def test_momentum_must_be_a_share():
    with pytest.raises(ValueError, match="momentum"):
        GraphFMOptions(momentum=1.5)


@pytest.mark.parametrize("backbone", ["gat", "gcn"])
def test_graphfm_learns_an_unseen_graph(tmp_path, backbone):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "graphfm", root=str(tmp_path), epochs=30, num_parts=8,
                            batch_parts=2, hidden_channels=8, heads=2, lr=0.01, backbone=backbone)
    summary = run(config, {"momentum": 0.5}, progress=False).summary
    assert summary["status"] == "ok"
    assert summary["options"] == {"momentum": 0.5}
    assert summary["test"] > 0.7  # four classes: chance is 0.25
