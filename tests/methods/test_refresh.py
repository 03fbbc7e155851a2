import pytest
import torch
import torch.nn.functional as F

from tests.graphs import write_community_graph
from tests.pulls import count_pulled_rows
from visagnn.graph.batch import SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition, partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import layer_histories
from visagnn.methods import resolve_config
from visagnn.methods.refresh import ReFreshHalo, ReFreshOptions
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.run.train import run

NUM_NODES = 240


@pytest.fixture
def setup(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    backbone = GATBackbone(16, 8, 5, num_layers=3, heads=2, dropout=0.0)
    x = torch.randn(NUM_NODES, 16)
    return batcher, backbone, x


def make_model(backbone, staleness_threshold, grad_quantile, graph, recompute=True):
    policy = ReFreshHalo(graph, ReFreshOptions(staleness_threshold, grad_quantile, recompute))
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                            policy).eval()
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    return model


def train_step(model, batch, x, iteration):
    out = model(x[batch.n_id], batch, Clock(iteration))
    F.cross_entropy(out, torch.randint(5, (batch.batch_size,))).backward()


def test_admits_the_rows_at_most_at_their_batch_quantile(setup):
    batcher, backbone, x = setup
    model = make_model(backbone, staleness_threshold=200, grad_quantile=0.75,
                       graph=batcher.graph)
    batch = batcher.batch(torch.tensor([0, 1]))
    train_step(model, batch, x, iteration=1)
    outside = torch.ones(NUM_NODES, dtype=torch.bool)
    outside[batch.batch_nodes] = False
    for history, admitted in zip(model.histories, model.halo_policy.admitted, strict=True):
        norms = history.grad_norm[batch.batch_nodes]
        assert norms.gt(0).all()
        expected = norms <= torch.quantile(norms, 0.75)
        assert torch.equal(admitted[batch.batch_nodes], expected)
        assert 0 < int((~expected).sum()) <= batch.batch_size // 4 + 1
        assert admitted[outside].all()


def test_evicts_exactly_the_rows_past_either_threshold(setup):
    batcher, backbone, x = setup
    model = make_model(backbone, staleness_threshold=5, grad_quantile=0.75,
                       graph=batcher.graph, recompute=False)
    train_step(model, batcher.batch(torch.tensor([0, 1])), x, iteration=1)
    batch = batcher.batch(torch.tensor([2, 3]))
    halo, iteration = batch.halo_nodes, 5  # T_j = 5 - 0 (filled) or 5 - 1 (pushed) <= 5
    for index, history in enumerate(model.histories):
        history.last_push[halo[::3]] = -1  # T_j = 6 > 5
        old = iteration - history.last_push[halo] > 5
        unstable = ~model.halo_policy.admitted[index][halo]
        expected_evicted = old | unstable
        assert old.any() and unstable.any() and (~expected_evicted).any()

        fresh = torch.randn(batch.batch_size, history.dim)
        rows = x if index == 0 else model.histories[index - 1].embedding
        layer_input = LayerInput(rows[batch.n_id], batch.edge_index, batch.n_id,
                                 batch.batch_size)
        inp = model.halo_policy.next_input(index, layer_input, fresh, batch, Clock(iteration))

        kept = halo[~expected_evicted]
        assert torch.equal(inp.n_id, torch.cat([batch.batch_nodes, kept]))
        assert torch.equal(inp.x, torch.cat([fresh, history.embedding[kept]]))
        evicted = set(halo[expected_evicted].tolist())
        edges = {(s, t) for s, t in batch.n_id[batch.edge_index].t().tolist() if s not in evicted}
        assert set(map(tuple, inp.n_id[inp.edge_index].t().tolist())) == edges
        assert inp.edge_index.size(1) == len(edges)


@torch.no_grad()
def test_without_evictions_it_is_gas(setup):
    batcher, backbone, x = setup
    model = make_model(backbone, staleness_threshold=10**6, grad_quantile=1.0,
                       graph=batcher.graph)
    with torch.enable_grad():
        train_step(model, batcher.batch(torch.tensor([0, 1])), x, iteration=1)
    assert all(admitted.all() for admitted in model.halo_policy.admitted)
    gas = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                          HaloPolicy()).eval()
    for ours, theirs in zip(model.histories, gas.histories, strict=True):
        theirs.fill(ours.embedding)
    batch = batcher.batch(torch.tensor([2, 5]))
    expected = gas(x[batch.n_id], batch, Clock(2))
    assert torch.allclose(model(x[batch.n_id], batch, Clock(2)), expected, atol=1e-6)
    assert model.halo_policy.halo_rows_evicted == 0


@pytest.mark.parametrize("backbone", ["gat", "gcn"])
def test_refresh_learns_an_unseen_graph(tmp_path, backbone):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "refresh", root=str(tmp_path), epochs=30, num_parts=8,
                            batch_parts=2, hidden_channels=8, heads=2, lr=0.01, backbone=backbone)
    result = run(config, {"staleness_threshold": 3}, progress=False)
    assert result.summary["status"] == "ok"
    assert result.summary["test"] > 0.7  # four classes: chance is 0.25
    fractions = [record["evicted_fraction"] for record in result.records]
    assert all(0 < fraction < 1 for fraction in fractions)
    recomputed = [record["recomputed_fraction"] for record in result.records]
    assert all(0 < share <= fraction for share, fraction in zip(recomputed, fractions,
                                                                 strict=True))


def identity_gcn(graph):
    backbone = GCNBackbone(2, 2, 2, graph.degree, num_layers=2, dropout=0.0).eval()
    with torch.no_grad():
        for conv in backbone.convs:
            conv.lin.weight.copy_(torch.eye(2))
            conv.bias.zero_()
    return backbone


def test_an_evicted_row_is_the_layer_over_its_neighbours_in_the_subgraph():
    """Path 0 - 1 - 2 - 3, parts {0, 1} and {2, 3}: the batch {0, 1} has the halo {2}, whose
    neighbours in the subgraph are 1 and itself (3 is outside). GCN with identity weights."""
    edges = torch.tensor([[0, 1], [1, 2], [2, 3]]).t()
    graph = CSRGraph.from_edge_index(torch.cat([edges, edges.flip(0)], dim=1), 4)
    batch = SubgraphBatcher(graph, Partition(torch.arange(4), torch.tensor([0, 2, 4]))).batch(
        torch.tensor([0]))
    backbone = identity_gcn(graph)
    model = HistoricalModel(backbone, layer_histories(4, [2]),
                            ReFreshHalo(graph, ReFreshOptions())).eval()
    model.histories[0].fill(torch.full((4, 2), 7.0))
    model.halo_policy.admitted[0][2] = False  # node 2's history is evicted
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    fresh = torch.tensor([[5.0, 6.0], [8.0, 9.0]])

    inp = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)
    pulled = count_pulled_rows(model.histories)
    nxt = model.halo_policy.next_input(0, inp, fresh, batch, Clock(1))

    # h_2 = ReLU(x_2 / (d_2 + 1) + x_1 / sqrt((d_1 + 1)(d_2 + 1))) with d_1 = d_2 = 2
    expected = [1 / 3 + 0 / 3, 1 / 3 + 1 / 3]
    assert torch.equal(nxt.n_id, batch.n_id)
    assert torch.equal(nxt.edge_index, batch.edge_index)
    assert torch.equal(nxt.x[:2], fresh)
    assert torch.allclose(nxt.x[2], torch.tensor(expected), atol=1e-6)
    assert pulled == [0]
    assert model.halo_policy.epoch_extras() == {"evicted_fraction": 1.0,
                                                "recomputed_fraction": 1.0}
    # a recomputed row is a computed node: the gradient reaches the layer's parameters,
    # d(sum h_2) / dW = 1 ⊗ (x_2 / 3 + x_1 / 3)
    grad = torch.autograd.grad(nxt.x[2].sum(), backbone.convs[0].lin.weight)[0]
    assert torch.allclose(grad, torch.tensor([[1 / 3, 2 / 3], [1 / 3, 2 / 3]]), atol=1e-6)


def test_rows_without_a_neighbour_in_the_subgraph_are_left_out():
    # directed: 0 <-> 1, 2 -> 1 and 1 <-> 3; the batch {0, 1} has the halo {2, 3}; no edge of
    # the subgraph enters 2, one (1 -> 3) enters 3
    edge_index = torch.tensor([[0, 1, 2, 1, 3], [1, 0, 1, 3, 1]])
    graph = CSRGraph.from_edge_index(edge_index, 4)
    batch = SubgraphBatcher(graph, Partition(torch.arange(4), torch.tensor([0, 2, 4]))).batch(
        torch.tensor([0]))
    assert batch.halo_nodes.tolist() == [2, 3]
    backbone = identity_gcn(graph)
    policy = ReFreshHalo(graph, ReFreshOptions(staleness_threshold=0))
    HistoricalModel(backbone, layer_histories(4, [2]), policy)  # attaches the policy
    x = torch.randn(4, 2)
    fresh = torch.randn(2, 2)
    inp = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)
    nxt = policy.next_input(0, inp, fresh, batch, Clock(1))  # T_j = 1 - (-1) > 0: all evicted

    assert nxt.n_id.tolist() == [0, 1, 3]
    assert sorted(map(tuple, nxt.n_id[nxt.edge_index].t().tolist())) == [(0, 1), (1, 0), (3, 1)]
    only_into_3 = LayerInput(x[batch.n_id], torch.tensor([[1], [3]]), batch.n_id, 4)
    assert torch.allclose(nxt.x[2], backbone.layer(0, only_into_3)[3])
    assert policy.epoch_extras() == {"evicted_fraction": 1.0, "recomputed_fraction": 0.5}


def test_recomputes_every_evicted_row_of_an_undirected_graph_from_the_subgraph(setup):
    batcher, backbone, x = setup
    model = make_model(backbone, staleness_threshold=5, grad_quantile=0.75,
                       graph=batcher.graph)
    batch = batcher.batch(torch.tensor([2, 3]))
    halo, policy = batch.halo_nodes, model.halo_policy
    history = model.histories[0]
    history.last_push[halo[::3]] = -1  # T_j = 6 > 5
    evicted = policy.evicted(0, halo, 5)
    assert evicted.any() and (~evicted).any()
    fresh = torch.randn(batch.batch_size, history.dim)
    inp = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)
    nxt = policy.next_input(0, inp, fresh, batch, Clock(5))

    assert torch.equal(nxt.n_id, batch.n_id) and torch.equal(nxt.edge_index, batch.edge_index)
    rows = nxt.x[batch.batch_size:]
    assert torch.equal(rows[~evicted], history.embedding[halo[~evicted]])
    halo_edges, _ = batch.halo_neighbourhood(batcher.graph)
    into_evicted = halo_edges[:, evicted[halo_edges[1] - batch.batch_size]]
    layer = backbone.layer(0, LayerInput(inp.x, into_evicted, batch.n_id, batch.num_nodes))
    assert torch.allclose(rows[evicted], layer[batch.batch_size:][evicted], atol=1e-6)


@torch.no_grad()
def test_with_exact_histories_and_no_eviction_it_is_exact(setup):
    batcher, backbone, x = setup
    backbone.eval()
    graph = batcher.graph
    model = make_model(backbone, staleness_threshold=10**6, grad_quantile=1.0, graph=graph)
    h, full, everything = x, [], torch.arange(NUM_NODES)
    for index in range(backbone.num_layers):
        h = backbone.layer(index, LayerInput(h, graph.edge_index, everything, NUM_NODES))
        full.append(h)
    for history, exact in zip(model.histories, full[:-1], strict=True):
        history.fill(exact)
    batch = batcher.batch(torch.tensor([1, 6]))
    out = model(x[batch.n_id], batch, Clock(1))
    assert torch.allclose(out, full[-1][batch.batch_nodes], atol=1e-5)
    assert model.halo_policy.epoch_extras()["evicted_fraction"] == 0
