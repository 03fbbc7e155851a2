import json
import math

import pytest
import torch
import torch.nn.functional as F

from tests.graphs import full_batch_forward, write_community_graph
from visagnn.cli import main
from visagnn.datasets import load_dataset
from visagnn.graph.batch import SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.store import layer_histories
from visagnn.methods import create_method, resolve_config
from visagnn.methods.mvsgnn import (
    MinimalVarianceHalo,
    MVSGNNOptions,
    minimal_variance_probabilities,
)
from visagnn.nn.backbone import LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.run.train import run

NUM_NODES = 240


def test_probabilities_are_proportional_to_the_norms_below_the_cap():
    p = minimal_variance_probabilities(torch.tensor([1.0, 2.0, 3.0, 4.0]), 2.0)
    assert torch.allclose(p, torch.tensor([0.1, 0.2, 0.3, 0.4]) * 2)  # b ||g_i|| / sum ||g||
    assert p[1] == 2 * p[0] and p[3] == 2 * p[1]  # twice the norm, twice the probability


def test_norms_above_the_threshold_are_capped_and_the_rest_share_what_is_left():
    # uncapped, node 0 would get 2 * 10 / 14 > 1; capped, the other three share b - 1 = 1
    p = minimal_variance_probabilities(torch.tensor([1.0, 10.0, 2.0, 1.0]), 2.0)
    assert torch.allclose(p, torch.tensor([0.25, 1.0, 0.5, 0.25]))
    # b = 2.5: 9 needs a cap (2.5 * 9 / 20 > 1), then 8 too (1.5 * 8 / 11 > 1); the 1s share 0.5
    p = minimal_variance_probabilities(torch.tensor([8.0, 9.0, 1.0, 1.0, 1.0]), 2.5)
    assert torch.allclose(p, torch.tensor([1.0, 1.0, 1 / 6, 1 / 6, 1 / 6]))


@pytest.mark.parametrize("seed", range(5))
def test_probabilities_sum_to_the_sample_size_and_stay_proportional_below_one(seed):
    generator = torch.Generator().manual_seed(seed)
    norms = torch.rand(50, generator=generator) ** 4 * 10
    norms[seed] = 100.0
    p = minimal_variance_probabilities(norms, 12.0)
    assert p.sum().item() == pytest.approx(12.0, rel=1e-5)
    assert p.le(1).all() and p.eq(1).any()  # the heavy tail is capped
    below = p < 1
    ratio = p[below] / norms[below]
    assert torch.allclose(ratio, ratio[0].expand_as(ratio))
    assert norms[~below].min() >= norms[below].max()


def test_probabilities_when_nothing_is_to_choose():
    norms = torch.tensor([3.0, 0.0, 1.0])
    assert torch.equal(minimal_variance_probabilities(norms, 3.0), torch.ones(3))
    assert torch.allclose(minimal_variance_probabilities(torch.zeros(4), 2.0),
                          torch.full((4,), 0.5))
    assert minimal_variance_probabilities(norms, 2.0)[1] == 0  # a zero gradient is never drawn


def attached_policy(sample_ratio=0.5, seed=0, dims=(4,)):
    policy = MinimalVarianceHalo(sample_ratio, torch.Generator().manual_seed(seed))
    policy.attach(None, layer_histories(NUM_NODES, list(dims)))
    return policy


def test_unobserved_nodes_count_as_the_mean_of_the_observed_ones():
    policy = attached_policy(dims=(4, 6))
    nodes = torch.tensor([5, 7, 9, 11])
    assert torch.equal(policy.node_norms(nodes), torch.ones(4))  # none observed: uniform
    policy.histories[0].record_grad_norm(nodes, torch.tensor([9.0, 9.0, 9.0, 9.0]))
    policy.histories[1].record_grad_norm(nodes[:2], torch.tensor([2.0, 4.0]))
    assert torch.equal(policy.node_norms(nodes), torch.tensor([2.0, 4.0, 3.0, 3.0]))
    assert torch.equal(policy.node_norms(torch.tensor([1, 2])), torch.ones(2))
    no_hidden_layer = MinimalVarianceHalo(0.5)
    no_hidden_layer.attach(None, [])
    assert torch.equal(no_hidden_layer.node_norms(nodes), torch.ones(4))


@pytest.fixture
def batched(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    batch = SubgraphBatcher(graph, partition).batch(torch.tensor([1, 4]))
    train_rows = torch.arange(0, batch.batch_size, 2)  # every other in-batch node trains
    return graph, batch, train_rows


def test_the_importance_weighted_loss_is_unbiased_for_the_batch_loss(batched):
    graph, batch, train_rows = batched
    policy = attached_policy(sample_ratio=0.3)
    generator = torch.Generator().manual_seed(1)
    train_nodes = batch.batch_nodes[train_rows]
    norms = 0.5 + torch.rand(train_nodes.numel(), generator=generator)
    norms[:3] = 20.0
    policy.histories[0].record_grad_norm(train_nodes, norms)
    logits = torch.randn(NUM_NODES, 5, generator=generator) * 2
    labels = torch.randint(5, (NUM_NODES,), generator=generator)
    full = F.cross_entropy(logits[train_nodes], labels[train_nodes]).item()

    expected_p = minimal_variance_probabilities(norms, 0.3 * train_nodes.numel())
    assert expected_p.eq(1).sum() == 3 and expected_p.lt(0.2).any()  # capped and rare nodes
    draws, drawn = [], torch.zeros(NUM_NODES)
    for _ in range(3000):
        sampled, rows, _ = policy.step_batch(batch, train_rows)
        nodes = sampled.batch_nodes
        drawn[nodes] += 1
        draws.append(policy.loss(logits[nodes], sampled, rows, labels[nodes], Clock(1)).item())
    draws = torch.tensor(draws)

    assert draws.std() > 0.1 * full  # the estimate does vary with the sample
    assert abs(draws.mean().item() - full) <= 4 * draws.std().item() / math.sqrt(len(draws))
    assert draws.mean().item() == pytest.approx(full, rel=0.02)
    frequency = drawn[train_nodes] / len(draws)
    assert (frequency - expected_p).abs().max() < 0.04  # each node is drawn with its p_i
    assert policy.epoch_extras()["sampled_fraction"] == pytest.approx(0.3, abs=0.01)


@torch.no_grad()
def test_the_one_shot_subgraph_reads_everything_but_the_sample_from_the_histories(batched):
    graph, batch, train_rows = batched
    backbone = GCNBackbone(16, 12, 5, graph.degree, num_layers=3, dropout=0.5).eval()
    x = torch.randn(NUM_NODES, 16)
    full = full_batch_forward(backbone, graph, x)
    policy = MinimalVarianceHalo(0.5, torch.Generator().manual_seed(0))
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                            policy).eval()
    for history, exact in zip(model.histories, full[:-1], strict=True):
        history.fill(exact)

    sampled, rows, kept = policy.step_batch(batch, train_rows)
    assert 0 < sampled.batch_size < train_rows.numel()
    assert torch.equal(sampled.n_id, batch.n_id[kept]) and torch.equal(rows,
                                                                        torch.arange(len(rows)))
    source, target = graph.edge_index
    into_sample = torch.isin(target, sampled.batch_nodes)
    neighbours = set(source[into_sample].tolist()) - set(sampled.batch_nodes.tolist())
    assert set(sampled.halo_nodes.tolist()) == neighbours
    assert neighbours & set(batch.batch_nodes.tolist())  # unsampled in-batch nodes are halo
    out = model(x[sampled.n_id], sampled, Clock(1))
    assert torch.allclose(out, full[-1][sampled.batch_nodes], atol=1e-5)


def test_recorded_norms_are_the_gradient_norms_without_the_importance_weights(batched):
    graph, batch, train_rows = batched
    torch.manual_seed(0)
    backbone = GCNBackbone(16, 12, 5, graph.degree, num_layers=3, dropout=0.0)
    policy = MinimalVarianceHalo(0.5, torch.Generator().manual_seed(0))
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims), policy)
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    x, labels = torch.randn(NUM_NODES, 16), torch.randint(5, (NUM_NODES,))
    policy.histories[-1].record_grad_norm(batch.batch_nodes[train_rows],
                                          torch.rand(train_rows.numel()))
    sampled, rows, _ = policy.step_batch(batch, train_rows)
    nodes = sampled.batch_nodes
    assert policy.weight.unique().numel() > 1  # the weights differ between nodes
    halo = [history.pull(sampled.halo_nodes) for history in model.histories]

    policy.loss(model(x[sampled.n_id], sampled, Clock(1)), sampled, rows, labels[nodes],
                Clock(1)).backward()
    recorded = [history.grad_norm[nodes].clone() for history in model.histories]

    hidden, inp = [], LayerInput(x[sampled.n_id], sampled.edge_index, sampled.n_id, len(nodes))
    for index in range(backbone.num_layers):
        h = backbone.layer(index, inp)[: len(nodes)]
        if index < backbone.num_layers - 1:
            hidden.append(h)
            inp = LayerInput(torch.cat([h, halo[index]]), sampled.edge_index, sampled.n_id,
                             len(nodes))
    loss = policy.loss(h, sampled, rows, labels[nodes], Clock(1))
    grads = torch.autograd.grad(loss, hidden)
    for got, grad in zip(recorded, grads, strict=True):
        assert torch.allclose(got, grad.norm(dim=-1) / policy.weight, atol=1e-5)


def test_an_empty_sample_is_a_step_that_changes_nothing(tmp_path):
    path = write_community_graph(tmp_path / "graph.pt")
    config = resolve_config(str(path), "mvsgnn", num_parts=8, batch_parts=2, hidden_channels=8,
                            epochs=1)
    method = create_method(load_dataset(path), config, {"sample_ratio": 1e-9})
    method.prepare()
    before = [p.detach().clone() for p in method.model.parameters()]
    assert method.train_epoch(1) == 0.0
    assert method.clock.iteration == 4  # every batch has training nodes, none was sampled
    assert all(torch.equal(p, q) for p, q in zip(method.model.parameters(), before, strict=True))
    assert method.epoch_extras(1)["sampled_fraction"] == 0


def test_sample_ratio_is_validated_with_its_flag(capsys):
    with pytest.raises(ValueError, match=r"MVSGNNOptions.sample_ratio must be in \(0, 1\]"):
        MVSGNNOptions(sample_ratio=0.0)
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "mvsgnn", "--sample-ratio", "1.5", "--quiet"])
    assert exit_info.value.code == 2
    assert "--sample-ratio must be in (0, 1], got 1.5" in capsys.readouterr().err


def test_mvsgnn_learns_an_unseen_graph(tmp_path):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "mvsgnn", root=str(tmp_path), epochs=30, num_parts=8,
                            batch_parts=2, hidden_channels=16, lr=0.01)
    result = run(config, progress=False)
    assert result.summary["status"] == "ok"
    assert result.summary["test"] > 0.8  # four classes: chance is 0.25
    assert all(0.3 < record["sampled_fraction"] < 0.7 for record in result.records)


def test_mvsgnn_trains_through_the_command_line_on_the_synthetic_graph(tmp_path, capsys):
    main(["run", "--dataset", "synthetic", "--method", "mvsgnn", "--epochs", "3",
          "--out", str(tmp_path), "--quiet"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["method"], summary["status"], summary["epochs"]) == ("mvsgnn", "ok", 3)
    assert summary["options"] == {"sample_ratio": 0.5}
    assert summary["config"]["backbone"] == "gcn" and summary["config"]["hidden_channels"] == 128
    assert summary["test"] > 0.3  # ten classes: chance is 0.1
    records = [json.loads(line) for line in (tmp_path / "epochs.jsonl").read_text().splitlines()]
    assert all(math.isfinite(record["loss"]) for record in records)
    assert all(record["sampled_fraction"] == pytest.approx(0.5, abs=0.05) for record in records)
