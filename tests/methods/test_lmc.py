import copy

import pytest
import torch
import torch.nn.functional as F

from tests.graphs import write_community_graph
from visagnn.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.clock import Clock
from visagnn.graph import CSRGraph
from visagnn.history import layer_histories
from visagnn.methods import resolve_config
from visagnn.methods.lmc import LMC, LMCHalo
from visagnn.metis import Partition, partition_graph
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.nn.halo_policy import HaloPolicy
from visagnn.nn.historical_model import HistoricalModel
from visagnn.train import run


def lmc_model(backbone, graph, beta):
    return HistoricalModel(backbone, layer_histories(graph.num_nodes, backbone.hidden_dims),
                           LMCHalo(graph, beta))


def undirected(edges: list[tuple[int, int]], num_nodes: int) -> CSRGraph:
    edge_index = torch.tensor(edges).t()
    return CSRGraph.from_edge_index(torch.cat([edge_index, edge_index.flip(0)], dim=1), num_nodes)


@pytest.fixture
def community(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    return graph, SubgraphBatcher(graph, partition), torch.randn(240, 16)


def full_batch_forward(backbone, graph, x):
    h, outputs = x, []
    for index in range(backbone.num_layers):
        inp = LayerInput(h, graph.edge_index, torch.arange(graph.num_nodes), graph.num_nodes)
        h = backbone.layer(index, inp)
        outputs.append(h)
    return outputs


def test_halo_neighbourhood_of_a_path():
    graph = undirected([(0, 1), (1, 2), (2, 3)], 4)
    batcher = SubgraphBatcher(graph, Partition(torch.arange(4), torch.tensor([0, 2, 4])))
    batch = batcher.batch(torch.tensor([0]))
    edge_index, alpha = batch.halo_neighbourhood(graph)
    assert batch.n_id.tolist() == [0, 1, 2]
    assert edge_index.tolist() == [[1], [2]]  # 1 → 2; 3 → 2 leaves the subgraph
    assert torch.allclose(alpha, torch.tensor([2 / 3]))


def test_halo_neighbourhood_matches_brute_force(community):
    graph, batcher, _ = community
    batch = batcher.batch(torch.tensor([1, 4]))
    edge_index, alpha = batch.halo_neighbourhood(graph)
    subgraph = set(batch.n_id.tolist())
    halo = batch.halo_nodes.tolist()
    source, target = graph.edge_index.tolist()
    expected = {(s, t) for s, t in zip(source, target, strict=True) if t in halo and s in subgraph}
    assert sorted(map(tuple, batch.n_id[edge_index].t().tolist())) == sorted(expected)
    assert int(edge_index[1].min()) >= batch.batch_size
    inside = [sum(1 for s, t in expected if t == j) for j in halo]
    degree = graph.degree[batch.halo_nodes]
    assert torch.allclose(alpha, (torch.tensor(inside) + 1) / (degree + 1))
    assert (alpha < 1).any() and (alpha == 1).any()


@torch.no_grad()
def test_complete_halo_neighbourhoods_make_the_forward_exact_whatever_the_history():
    # Component 0-1-2-3 and component 4-5; batch = part {0, 1, 2}, halo {3} with N(3) = {2}:
    # every halo node has alpha = 1, so its rows are computed, exactly, from the subgraph.
    graph = undirected([(0, 1), (1, 2), (2, 3), (4, 5)], 6)
    batcher = SubgraphBatcher(graph, Partition(torch.arange(6), torch.tensor([0, 3, 4, 6])))
    batch = batcher.batch(torch.tensor([0]))
    torch.manual_seed(0)
    backbone = GATBackbone(4, 3, 2, num_layers=3, heads=2, dropout=0.0).eval()
    x = torch.randn(6, 4)
    full = full_batch_forward(backbone, graph, x)
    model = lmc_model(backbone, graph, beta=1.0).eval()
    gas = HistoricalModel(backbone, layer_histories(6, backbone.hidden_dims), HaloPolicy()).eval()
    for history, other in zip(model.histories, gas.histories, strict=True):
        history.fill(torch.randn(6, history.dim) * 10)
        other.fill(history.embedding)

    assert torch.allclose(model(x[batch.n_id], batch, Clock(1)), full[-1][:3], atol=1e-5)
    assert all(history.rows_pulled == 0 for history in model.histories)
    assert not torch.allclose(gas(x[batch.n_id], batch, Clock(1)), full[-1][:3], atol=1e-2)


@torch.no_grad()
def test_zero_beta_with_exact_histories_is_exact(community):
    graph, batcher, x = community
    backbone = GATBackbone(16, 8, 5, num_layers=3, heads=2, dropout=0.0).eval()
    full = full_batch_forward(backbone, graph, x)
    models = {beta: lmc_model(backbone, graph, beta=beta).eval() for beta in (0.0, 1.0)}
    for model in models.values():
        for history, exact in zip(model.histories, full[:-1], strict=True):
            history.fill(exact)
    errors = {beta: 0.0 for beta in models}
    for batch in PartitionBatchLoader(batcher, 3, shuffle=False):
        for beta, model in models.items():
            out = model(x[batch.n_id], batch, Clock(1))
            error = (out - full[-1][batch.batch_nodes]).abs().max()
            errors[beta] = max(errors[beta], float(error))
    assert errors[0.0] < 1e-5
    assert errors[1.0] > 1e-3  # incomplete up-to-date rows are mixed in


def test_compensated_gradients_equal_autograd_of_their_definition(community):
    """LMC's hooks give the gradients of a surrogate whose autograd gradient is LMC's rule.

    For each hidden layer the halo rows are ``λ·h_inc + (1-λ)·sg(h_inc)`` (value ``h_inc``,
    gradient ``λ V``) plus the forward compensation ``(1-λ)(h̃ - sg(h_inc))``, and the loss gets
    ``Σ_j (1-λ_j) ⟨V̄_j, h_inc_j⟩``: autograd then sends ``λ_j V_j + (1-λ_j) V̄_j`` into
    ``h_inc_j``, which is computed with frozen parameters.
    """
    graph, batcher, x = community
    beta = 0.6
    backbone = GATBackbone(16, 8, 5, num_layers=3, heads=2, dropout=0.0)
    model = lmc_model(backbone, graph, beta=beta).eval()
    for history, grads in zip(model.histories, model.halo_policy.grad_histories, strict=True):
        history.fill(torch.randn(240, history.dim))
        grads.fill(torch.randn(240, grads.dim))
    batch = batcher.batch(torch.tensor([1, 4]))
    labels = torch.randint(5, (batch.batch_size,))
    grad_histories = model.halo_policy.grad_histories
    halo_grads = [grads.embedding[batch.halo_nodes].clone() for grads in grad_histories]

    F.cross_entropy(model(x[batch.n_id], batch, Clock(1)), labels).backward()
    lmc_grads = [p.grad.clone() for p in backbone.parameters()]
    pushed = [grads.embedding[batch.batch_nodes] for grads in model.halo_policy.grad_histories]

    frozen = copy.deepcopy(backbone).requires_grad_(False)
    halo_edges, alpha = batch.halo_neighbourhood(graph)
    weight = torch.where(alpha < 1, beta * alpha, torch.ones_like(alpha)).unsqueeze(-1)
    assert (weight < 1).any()
    h, extra, fresh_rows, size = x[batch.n_id], 0.0, [], batch.num_nodes
    for index in range(backbone.num_layers):
        fresh = backbone.layer(index, LayerInput(h, batch.edge_index, batch.n_id, size))
        fresh = fresh[: batch.batch_size]
        if index == backbone.num_layers - 1:
            break
        fresh_rows.append(fresh)
        incomplete = frozen.layer(index, LayerInput(h, halo_edges, batch.n_id, size))
        incomplete = incomplete[batch.batch_size :]
        history = model.histories[index].embedding[batch.halo_nodes]
        scaled = weight * incomplete + (1 - weight) * incomplete.detach()
        halo = scaled + (1 - weight) * (history - incomplete.detach())
        extra = extra + ((1 - weight) * halo_grads[index] * incomplete).sum()
        h = torch.cat([fresh, halo])
    surrogate = F.cross_entropy(fresh, labels) + extra
    expected = torch.autograd.grad(surrogate, [*backbone.parameters(), *fresh_rows])

    num_parameters = len(lmc_grads)
    for got, want in zip(lmc_grads, expected[:num_parameters], strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    for got, want in zip(pushed, expected[num_parameters:], strict=True):
        assert torch.allclose(got, want, atol=1e-7)
        assert got.abs().gt(0).any()


def test_lmc_batches_are_fixed_groups():
    assert LMC.shuffle_batches is False


@pytest.mark.parametrize("backbone", ["gat", "gcn"])
def test_lmc_learns_an_unseen_graph(tmp_path, backbone):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "lmc", root=str(tmp_path), epochs=30, num_parts=8,
                            batch_parts=2, hidden_channels=8, heads=2, lr=0.01, backbone=backbone)
    summary = run(config, progress=False).summary
    assert summary["status"] == "ok"
    assert summary["options"] == {"beta": 1.0}
    assert summary["test"] > 0.7  # four classes: chance is 0.25
