import json
import math

import pytest
import torch

from tests.graphs import full_batch_forward, write_community_graph
from visagnn.cli import main
from visagnn.graph.batch import SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition, partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import layer_histories
from visagnn.methods import resolve_config
from visagnn.methods.vrgcn import ControlVariateHalo, VRGCNOptions
from visagnn.nn.backbone import LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.run.train import run


def undirected(edges: list[tuple[int, int]], num_nodes: int) -> CSRGraph:
    edge_index = torch.tensor(edges).t()
    return CSRGraph.from_edge_index(torch.cat([edge_index, edge_index.flip(0)], dim=1), num_nodes)


@pytest.fixture
def clique():
    """Part {0..4} is a 5-clique (every target has 4 in-batch neighbours, more than D = 2);
    part {5, 6, 7} is a path 5 - 6 - 7 tied to it by 0 - 5, 1 - 6 and 2 - 7. A 2-layer GCN,
    whose second layer (no activation) reads what the policy builds."""
    clique_edges = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    graph = undirected(clique_edges + [(5, 6), (6, 7), (0, 5), (1, 6), (2, 7)], 8)
    batch = SubgraphBatcher(graph, Partition(torch.arange(8), torch.tensor([0, 5, 8]))).batch(
        torch.tensor([0]))
    torch.manual_seed(0)
    backbone = GCNBackbone(3, 4, 2, graph.degree, num_layers=2, dropout=0.0).eval()
    histories = layer_histories(8, backbone.hidden_dims)
    histories[0].fill(torch.randn(8, 4))
    return graph, batch, backbone, histories


def gas_aggregation(backbone, histories, batch, fresh):
    """Layer 1 over the fresh in-batch rows and the halo's histories: what VR-GCN estimates."""
    rows = torch.cat([fresh, histories[0].pull(batch.halo_nodes)])
    inp = LayerInput(rows, batch.edge_index, batch.n_id, batch.batch_size)
    return backbone.layer(1, inp)[: batch.batch_size]


@torch.no_grad()
def test_the_estimate_is_unbiased_for_the_aggregation_of_fresh_in_batch_rows(clique):
    graph, batch, backbone, histories = clique
    policy = ControlVariateHalo(fanout=2, generator=torch.Generator().manual_seed(0))
    HistoricalModel(backbone, histories, policy)  # attaches the policy
    policy.before_push(0, batch)
    fresh = torch.randn(batch.batch_size, 4)
    inp = LayerInput(torch.randn(batch.num_nodes, 3), batch.edge_index, batch.n_id, 5)
    draws = torch.stack([
        backbone.layer(1, policy.next_input(0, inp, fresh, batch, Clock(1)))[:5]
        for _ in range(2000)
    ])
    expected = gas_aggregation(backbone, histories, batch, fresh)

    spread = draws.std(dim=0)
    assert spread.min() > 0.2  # every target's estimate varies with the sample
    error = (draws.mean(dim=0) - expected).abs()
    assert (error <= 4 * spread / math.sqrt(len(draws))).all()  # within 4 standard errors
    assert error.max() < 0.05
    assert policy.epoch_extras()["sampled_fraction"] == pytest.approx(2 / 4)


@torch.no_grad()
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_exact_histories_give_the_exact_output_whatever_is_sampled(csr, seed):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    batch = SubgraphBatcher(graph, partition).batch(torch.tensor([1, 4]))
    backbone = GCNBackbone(16, 12, 5, graph.degree, num_layers=3, dropout=0.5).eval()
    x = torch.randn(240, 16)
    full = full_batch_forward(backbone, graph, x)
    policy = ControlVariateHalo(fanout=2, generator=torch.Generator().manual_seed(seed))
    model = HistoricalModel(backbone, layer_histories(240, backbone.hidden_dims), policy).eval()
    gas = HistoricalModel(backbone, layer_histories(240, backbone.hidden_dims),
                          HaloPolicy()).eval()
    for history, other, exact in zip(model.histories, gas.histories, full[:-1], strict=True):
        history.fill(exact)
        other.fill(exact + torch.randn_like(exact))

    assert torch.allclose(model(x[batch.n_id], batch, Clock(1)), full[-1][batch.batch_nodes],
                          atol=1e-5)
    assert 0 < policy.epoch_extras()["sampled_fraction"] < 1
    # stale histories: the same sample no longer gives the exact rows
    for history, other in zip(model.histories, gas.histories, strict=True):
        history.fill(other.embedding)
    out = model(x[batch.n_id], batch, Clock(2))
    assert (out - full[-1][batch.batch_nodes]).abs().max() > 1e-2


def test_gradients_reach_the_own_row_and_the_sampled_rows_scaled_by_n_over_d(clique):
    graph, batch, backbone, histories = clique
    policy = ControlVariateHalo(fanout=1, generator=torch.Generator().manual_seed(3))
    HistoricalModel(backbone, histories, policy)
    policy.before_push(0, batch)
    fresh = torch.randn(batch.batch_size, 4, requires_grad=True)
    inp = LayerInput(torch.randn(batch.num_nodes, 3), batch.edge_index, batch.n_id, 5)
    target = 3  # 4 in-batch neighbours, one drawn: its correction is scaled by 4 / 1
    out = backbone.layer(1, policy.next_input(0, inp, fresh, batch, Clock(1)))[target]
    (grad,) = torch.autograd.grad(out.sum(), fresh)

    reached = grad.abs().sum(dim=1).gt(0).nonzero().flatten().tolist()
    assert len(reached) == 2 and target in reached
    drawn = next(node for node in reached if node != target)
    weight_column = backbone.convs[1].lin.weight.sum(dim=0)  # d(sum of W h) / dh
    degree = graph.degree.to(torch.float32) + 1
    a_own = 1 / degree[target]
    a_drawn = 1 / (degree[target] * degree[drawn]).sqrt()
    assert torch.allclose(grad[target], a_own * weight_column, atol=1e-6)
    assert torch.allclose(grad[drawn], 4 * a_drawn * weight_column, atol=1e-6)


def test_the_history_part_reads_the_rows_of_earlier_steps(clique):
    """The policy keeps the batch's history rows before the model pushes the step's fresh
    rows, so the correction h - h̄ is against the earlier rows, and h̄ becomes h afterwards."""
    graph, batch, backbone, histories = clique
    earlier = histories[0].embedding.clone()
    policy = ControlVariateHalo(fanout=2, generator=torch.Generator().manual_seed(0))
    model = HistoricalModel(backbone, histories, policy).eval()
    x = torch.randn(8, 3)
    with torch.no_grad():
        model(x[batch.n_id], batch, Clock(1))
    fresh = backbone.layer(0, LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, 5))[:5]
    assert torch.allclose(histories[0].embedding[:5], fresh)
    assert torch.equal(policy.replaced, earlier[:5])

    histories[0].fill(earlier)
    seen = []
    original = policy.next_input

    def recording(index, inp, fresh_rows, batch, clock):
        seen.append(policy.replaced.clone())
        return original(index, inp, fresh_rows, batch, clock)

    policy.next_input = recording
    with torch.no_grad():
        model(x[batch.n_id], batch, Clock(2))
    assert torch.equal(seen[0], earlier[:5])


def test_fanout_is_validated_and_the_backbone_must_be_gcn(tmp_path, capsys):
    with pytest.raises(ValueError, match=r"VRGCNOptions.fanout must be >= 1, got 0"):
        VRGCNOptions(fanout=0)
    graph = write_community_graph(tmp_path / "graph.pt")
    for flags, message in ((["--fanout", "0"], "--fanout must be >= 1, got 0"),
                           (["--backbone", "gat"],
                            "--backbone must be one of ('gcn',) for --method vrgcn (the layers "
                            "it builds), got 'gat'")):
        with pytest.raises(SystemExit) as exit_info:
            main(["run", "--dataset", str(graph), "--root", str(tmp_path), "--method", "vrgcn",
                  *flags, "--quiet"])
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err


def test_runs_gcn_layers_of_the_total_gat_width_by_default():
    config = resolve_config("synthetic", "vrgcn")
    assert config.backbone == "gcn"
    assert config.hidden_channels == 32 * 4  # synthetic's GAT: 32 channels x 4 heads


def test_vrgcn_learns_an_unseen_graph(tmp_path):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "vrgcn", root=str(tmp_path), epochs=30, num_parts=8,
                            batch_parts=2, hidden_channels=16, lr=0.01)
    result = run(config, progress=False)
    assert result.summary["status"] == "ok"
    assert result.summary["test"] > 0.8  # four classes: chance is 0.25
    assert all(0 < record["sampled_fraction"] < 1 for record in result.records)


def test_vrgcn_trains_through_the_command_line_on_the_synthetic_graph(tmp_path, capsys):
    main(["run", "--dataset", "synthetic", "--method", "vrgcn", "--epochs", "2",
          "--out", str(tmp_path), "--quiet"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["method"], summary["status"], summary["epochs"]) == ("vrgcn", "ok", 2)
    assert summary["options"] == {"fanout": 2} and summary["config"]["backbone"] == "gcn"
    assert summary["test"] > 0.3  # ten classes: chance is 0.1
    records = [json.loads(line) for line in (tmp_path / "epochs.jsonl").read_text().splitlines()]
    assert all(math.isfinite(record["loss"]) for record in records)
    assert all(0 < record["sampled_fraction"] < 1 for record in records)
