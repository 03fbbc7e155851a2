import copy
import math

import pytest
import torch
import torch.nn.functional as F

from tests.graphs import full_batch_forward, write_community_graph
from tests.pulls import count_pulled_rows
from visagnn.cli import build_parser
from visagnn.datasets import load_dataset
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition, partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import layer_histories
from visagnn.methods import create_method, resolve_config
from visagnn.methods.lmc import LMC, SCORES, LMCHalo, LMCOptions
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.run.train import run

NO_ROWS = torch.empty(0, dtype=torch.long)  # LMC's loss reads the training mask, not these


def lmc_model(backbone, graph, beta):
    num_nodes, num_classes = graph.num_nodes, backbone.convs[-1].out_channels
    policy = LMCHalo(graph, torch.zeros(num_nodes, dtype=torch.long),
                     torch.zeros(num_nodes, dtype=torch.bool), num_classes, beta=beta)
    return HistoricalModel(backbone, layer_histories(num_nodes, backbone.hidden_dims), policy)


def undirected(edges: list[tuple[int, int]], num_nodes: int) -> CSRGraph:
    edge_index = torch.tensor(edges).t()
    return CSRGraph.from_edge_index(torch.cat([edge_index, edge_index.flip(0)], dim=1), num_nodes)


@pytest.fixture
def community(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    return graph, SubgraphBatcher(graph, partition), torch.randn(240, 16)


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

    pulled = count_pulled_rows(model.histories)
    assert torch.allclose(model(x[batch.n_id], batch, Clock(1)), full[-1][:3], atol=1e-5)
    assert pulled == [0] * len(model.histories)
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


def test_lmc_batches_are_fixed_groups_in_a_new_order_every_epoch(tmp_path):
    assert LMC.shuffle_batches is False
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "lmc", num_parts=8, batch_parts=2, hidden_channels=4,
                            heads=2)
    method = create_method(load_dataset(path), config)
    epochs = [[tuple(batch.parts.tolist()) for batch in method.loader] for _ in range(3)]
    assert all(sorted(groups) == [(0, 1), (2, 3), (4, 5), (6, 7)] for groups in epochs)
    assert len(set(map(tuple, epochs))) > 1


@pytest.mark.parametrize("backbone", ["gat", "gcn"])
def test_lmc_learns_an_unseen_graph(tmp_path, backbone):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "lmc", root=str(tmp_path), epochs=30, num_parts=8,
                            batch_parts=2, hidden_channels=8, heads=2, lr=0.01, backbone=backbone)
    summary = run(config, progress=False).summary
    assert summary["status"] == "ok"
    assert summary["options"] == {"beta": 1.0, "score": "linear"}
    assert summary["test"] > 0.7  # four classes: chance is 0.25


SCORE_FORMULAS = {
    "linear": lambda a: a,
    "const": lambda a: 1.0,
    "concave": lambda a: a * (2 - a),
    "convex": lambda a: a * a,
    "sin": lambda a: math.sin((a - 0.5) * math.pi),
}


@pytest.mark.parametrize("score", SCORES)
def test_mixing_weight_is_beta_times_the_score_of_incomplete_neighbourhoods(score):
    graph = undirected([(0, 1)], 2)
    policy = LMCHalo(graph, torch.zeros(2, dtype=torch.long), torch.ones(2, dtype=torch.bool),
                     2, beta=0.7, score=score)
    alpha = torch.tensor([0.1, 0.25, 0.5, 2 / 3, 0.9, 1.0])
    expected = [0.7 * SCORE_FORMULAS[score](a) for a in alpha[:-1].tolist()] + [1.0]
    assert torch.allclose(policy.mixing_weight(alpha), torch.tensor(expected), atol=1e-6)


def test_score_is_validated_and_a_flag():
    assert set(SCORES) == set(SCORE_FORMULAS)
    with pytest.raises(ValueError, match="LMCOptions.score must be one of"):
        LMCOptions(score="cubic")
    args = build_parser("run").parse_args(["run", "--method", "lmc", "--score", "convex"])
    assert args.score == "convex"
    with pytest.raises(SystemExit):
        build_parser("run").parse_args(["run", "--method", "lmc", "--score", "cubic"])


def cross_entropy(logits, label):
    return math.log(sum(math.exp(z) for z in logits)) - logits[label]


@pytest.mark.parametrize("score", ["linear", "concave"])
def test_loss_covers_halo_training_nodes_with_lmc_weighting(score):
    """Path 0 - 1 - 2 - 3, parts {0, 1} and {2, 3}; the batch {0, 1} has the halo {2} with
    α_2 = 2/3. A two-layer GCN with identity weights, worked through by hand."""
    graph = undirected([(0, 1), (1, 2), (2, 3)], 4)
    batch = SubgraphBatcher(graph, Partition(torch.arange(4), torch.tensor([0, 2, 4]))).batch(
        torch.tensor([0]))
    backbone = GCNBackbone(2, 2, 2, graph.degree, num_layers=2, dropout=0.0).eval()
    with torch.no_grad():
        for conv in backbone.convs:
            conv.lin.weight.copy_(torch.eye(2))
            conv.bias.zero_()
    labels, train = torch.tensor([0, 1, 1, 0]), torch.tensor([True, False, True, True])
    policy = LMCHalo(graph, labels, train, 2, num_batches=2, beta=1.0, score=score)
    model = HistoricalModel(backbone, layer_histories(4, [2]), policy).eval()
    model.histories[0].fill(torch.tensor([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0], [0.0, 0.0]]))
    policy.output_history.fill(torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
    x = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]]

    # Â_ij = 1 / sqrt((d_i + 1)(d_j + 1)) with degrees 1, 2, 2, 1
    a00, a01, a11, a12, a22 = 1 / 2, 1 / math.sqrt(6), 1 / 3, 1 / 3, 1 / 3
    lam = SCORE_FORMULAS[score](2 / 3)

    def mix(up_to_date, history):
        return [lam * u + (1 - lam) * h for u, h in zip(up_to_date, history, strict=True)]

    h0 = [a00 * x[0][k] + a01 * x[1][k] for k in range(2)]
    h1 = [a11 * x[1][k] + a01 * x[0][k] + a12 * x[2][k] for k in range(2)]
    h2 = mix([a22 * x[2][k] + a12 * x[1][k] for k in range(2)], [3.0, 0.0])  # relu: all >= 0
    out0 = [a00 * h0[k] + a01 * h1[k] for k in range(2)]
    out1 = [a11 * h1[k] + a01 * h0[k] + a12 * h2[k] for k in range(2)]
    out2 = mix([a22 * h2[k] + a12 * h1[k] for k in range(2)], [0.0, 2.0])
    # K / |T_V| · (CE of in-batch node 0 + CE of halo node 2); node 1 is not a training node
    expected = 2 / 3 * (cross_entropy(out0, 0) + cross_entropy(out2, 1))

    out = model(torch.tensor(x)[batch.n_id], batch, Clock(1))
    assert torch.allclose(out, torch.tensor([out0, out1]), atol=1e-6)
    loss = policy.loss(out, batch, NO_ROWS, NO_ROWS, Clock(1))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert torch.equal(policy.output_history.embedding[:2], out.detach())
    assert policy.output_history.last_push.tolist() == [1, 1, 0, 0]

    # the halo term reaches the hidden layer's parameters only: the last layer's halo rows are
    # computed with its parameters detached
    loss.backward()
    with_halo = [conv.lin.weight.grad.clone() for conv in backbone.convs]
    backbone.zero_grad()
    out = model(torch.tensor(x)[batch.n_id], batch, Clock(2))
    (2 / 3 * F.cross_entropy(out[:1], labels[:1], reduction="sum")).backward()
    in_batch_only = [conv.lin.weight.grad for conv in backbone.convs]
    assert torch.allclose(with_halo[1], in_batch_only[1], atol=1e-7)
    assert not torch.allclose(with_halo[0], in_batch_only[0], atol=1e-4)


def test_loss_of_another_batch_than_the_forwarded_one_is_refused(community):
    graph, batcher, x = community
    backbone = GATBackbone(16, 8, 5, num_layers=2, heads=2, dropout=0.0)
    model = lmc_model(backbone, graph, beta=1.0)
    batch, other = batcher.batch(torch.tensor([0])), batcher.batch(torch.tensor([1]))
    out = model(x[batch.n_id], batch, Clock(1))
    with pytest.raises(RuntimeError, match="not the one last forwarded"):
        model.halo_policy.loss(out, other, NO_ROWS, NO_ROWS, Clock(1))
