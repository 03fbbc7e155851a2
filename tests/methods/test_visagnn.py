import math
from dataclasses import replace

import pytest
import torch

from tests.graphs import write_community_graph
from tests.pulls import count_pulled_rows
from visagnn.cli import build_parser
from visagnn.datasets import load_dataset
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.store import layer_histories
from visagnn.methods import create_method, resolve_config
from visagnn.methods.visagnn import StalenessHalo, VisagnnOptions
from visagnn.nn.backbone import LayerInput
from visagnn.nn.inference import layerwise_inference
from visagnn.nn.staleness_backbone import StalenessGATBackbone
from visagnn.run.command import split_arguments
from visagnn.run.train import run

FAST = dict(num_parts=8, batch_parts=2, hidden_channels=8, heads=2, lr=0.01)

NUM_NODES = 240


def staleness_model(csr, augment="sum", softmax="joint", criterion="grad",
                    persistence_threshold=None):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    backbone = StalenessGATBackbone(16, 8, 5, graph.degree, num_layers=3, heads=2, out_heads=2,
                                    dropout=0.5, augment=augment, softmax=softmax)
    options = VisagnnOptions(criterion=criterion, persistence_threshold=persistence_threshold,
                             loss=False)
    policy = StalenessHalo(options, previous_logits=None)
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                            policy).eval()
    return SubgraphBatcher(graph, partition), model, torch.randn(NUM_NODES, 16)


@torch.no_grad()
@pytest.mark.parametrize("augment", ["cat", "sum", None])
@pytest.mark.parametrize("batch_parts", [1, 3])
def test_minibatch_forward_is_exact_with_exact_history_and_zero_staleness(csr, augment,
                                                                          batch_parts):
    batcher, model, x = staleness_model(csr, augment, criterion="persistence")
    exact = layerwise_inference(model.backbone, x, PartitionBatchLoader(batcher, 8, shuffle=False))
    for history, rows in zip(model.histories, exact[:-1], strict=True):
        history.fill(rows, iteration=0)
    loader = PartitionBatchLoader(batcher, batch_parts, generator=torch.Generator().manual_seed(0))
    pulled = count_pulled_rows(model.histories)
    for batch in loader:  # rows written at this very iteration: every s_j is 0
        out = model(x[batch.n_id], batch, Clock(0))
        assert torch.allclose(out, exact[-1][batch.batch_nodes], atol=1e-5)
    assert all(count > 0 for count in pulled)


@torch.no_grad()
def test_split_form_is_exact_when_the_batch_reads_no_history(csr):
    batcher, model, x = staleness_model(csr, "cat", softmax="split")
    exact = layerwise_inference(model.backbone, x, PartitionBatchLoader(batcher, 3, shuffle=False))
    batch = batcher.batch(torch.arange(8))
    pulled = count_pulled_rows(model.histories)
    out = model(x[batch.n_id], batch, Clock(1))
    assert pulled == [0] * len(model.histories)
    assert torch.allclose(out, exact[-1], atol=1e-5)


@torch.no_grad()
def test_stale_history_changes_the_output(csr):
    batcher, model, x = staleness_model(csr)
    exact = layerwise_inference(model.backbone, x, PartitionBatchLoader(batcher, 8, shuffle=False))
    for history, rows in zip(model.histories, exact[:-1], strict=True):
        history.fill(rows)
        history.record_grad_norm(torch.arange(NUM_NODES), torch.rand(NUM_NODES) * 1.5 + 0.5)
    batch = batcher.batch(torch.tensor([1, 4]))
    out = model(x[batch.n_id], batch, Clock(1))
    assert not torch.allclose(out, exact[-1][batch.batch_nodes], atol=1e-3)


def test_halo_rows_carry_their_normalised_criterion(csr):
    batcher, model, x = staleness_model(csr, criterion="persistence")
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    batch = batcher.batch(torch.tensor([0, 5]))
    history = model.histories[0]
    history.push(batch.halo_nodes[:3], torch.zeros(3, history.dim), iteration=6)
    fresh = torch.randn(batch.batch_size, history.dim)
    layer_input = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)
    inp = model.halo_policy.next_input(0, layer_input, fresh, batch, Clock(10))
    assert inp.staleness[: batch.batch_size].eq(0).all()
    persistence = history.persistence(10).float()
    expected = torch.log1p(history.persistence(10, batch.halo_nodes) / persistence.mean())
    assert torch.allclose(inp.staleness[batch.batch_size:], expected)


def test_persistence_dropping_leaves_out_exactly_the_halo_above_threshold(csr):
    batcher, model, x = staleness_model(csr, persistence_threshold=5)
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim), iteration=0)
    batch = batcher.batch(torch.tensor([2, 3]))
    recent = batch.halo_nodes[::2]
    model.histories[0].push(recent, torch.zeros(recent.numel(), 16), iteration=7)
    layer_input = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)
    inp = model.halo_policy.next_input(0, layer_input, torch.randn(batch.batch_size, 16), batch,
                                       Clock(12))

    assert torch.equal(inp.n_id, torch.cat([batch.batch_nodes, recent]))
    global_edges = inp.n_id[inp.edge_index]
    original = batch.n_id[batch.edge_index]
    kept = torch.isin(original[0], torch.cat([batch.batch_nodes, recent]))
    assert torch.equal(global_edges, original[:, kept])
    assert torch.equal(inp.x[batch.batch_size:], model.histories[0].pull(recent))


@pytest.fixture
def graph_path(tmp_path):
    return write_community_graph(tmp_path / "communities.pt")


@pytest.mark.parametrize("method", ["visagnn-cat", "visagnn-sum"])
def test_visagnn_learns_an_unseen_graph(graph_path, tmp_path, method):
    config = resolve_config(str(graph_path), method, root=str(tmp_path), epochs=40, **FAST)
    result = run(config, progress=False)
    assert result.summary["status"] == "ok"
    assert result.summary["test"] > 0.8  # four classes: chance is 0.25
    assert result.summary["options"]["components"] == ["attention", "augment"]
    assert result.summary["options"]["augmentation"] == method.split("-")[1]


@pytest.mark.parametrize("switches, components", [
    (dict(attention=False), ["augment"]),
    (dict(loss=True), ["attention", "loss", "augment"]),
    (dict(loss=True, loss_target="train", criterion="grad", softmax="split"),
     ["attention", "loss", "augment"]),
    (dict(augment=False), ["attention"]),
    (dict(criterion="persistence", persistence_threshold=3, extrapolate=True),
     ["attention", "augment", "persistence_dropping"]),
])
def test_every_switch_runs_and_is_named_in_the_summary(graph_path, tmp_path, switches,
                                                       components):
    config = resolve_config(str(graph_path), "visagnn-cat", root=str(tmp_path), epochs=2,
                            **FAST)
    summary = run(config, switches, progress=False).summary
    assert summary["status"] == "ok" and math.isfinite(summary["test"])
    assert summary["options"]["components"] == components


def test_one_epoch_trains_beta_and_the_staleness_weight(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "visagnn-sum", root=str(tmp_path), epochs=1,
                            **FAST)
    method = create_method(load_dataset(str(graph_path)), config,
                           {"loss": True, "loss_target": "train"})
    method.prepare()
    backbone = method.model.backbone
    beta, weight = backbone.convs[1].beta.clone(), backbone.augments[0].weight.weight.clone()
    method.train_epoch(1)
    method.train_epoch(2)
    assert not torch.equal(backbone.convs[1].beta, beta)
    assert not torch.equal(backbone.augments[0].weight.weight, weight)
    assert method.clock.epoch == 2
    assert method.policy.previous_logits.previous.last_push.eq(2).any()
    record = method.epoch_extras(2)
    assert record["beta_l1"] == backbone.convs[1].beta.tolist() and record["ws_norm_l1"] > 0


def test_the_exact_loss_target_is_the_last_evaluations_logits(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "visagnn-sum", root=str(tmp_path), epochs=1,
                            **FAST)
    method = create_method(load_dataset(str(graph_path)), config, {"loss": True, "lam": 2.0})
    method.prepare()
    method.train_epoch(1)
    logits = method.predict()
    assert torch.allclose(method.parted.to_original_order(method.policy.exact_logits), logits)
    batch = next(iter(method.inference_loader))
    train_rows = method.train_mask[batch.batch_nodes].nonzero().flatten()
    labels = method.parted.y[batch.batch_nodes[train_rows]]
    out = torch.randn(batch.batch_size, logits.size(1))
    loss = method.policy.loss(out, batch, train_rows, labels, method.clock)
    target = method.policy.exact_logits[batch.batch_nodes]
    expected = torch.nn.functional.cross_entropy(out[train_rows], labels) + 2.0 * (
        out - target).pow(2).mean()
    assert train_rows.numel() > 0 and torch.allclose(loss, expected)


@pytest.mark.parametrize("method", ["gas", "visagnn-cat"])
def test_true_staleness_is_zero_right_after_the_exact_fill(graph_path, tmp_path, method):
    config = resolve_config(str(graph_path), method, root=str(tmp_path), epochs=1,
                            measure_staleness_every=1, **FAST)
    method = create_method(load_dataset(str(graph_path)), config)
    method.prepare()
    record = method.epoch_extras(1)
    assert record["true_staleness_mean_l0"] == 0 == record["true_staleness_p95_l0"]


@pytest.mark.parametrize("method", ["gas", "visagnn-sum"])
def test_true_staleness_is_measured_every_k_epochs(graph_path, tmp_path, method):
    config = resolve_config(str(graph_path), method, root=str(tmp_path), epochs=4,
                            measure_staleness_every=2, **FAST)
    records = run(config, progress=False).records
    assert "true_staleness_mean_l0" not in records[0]
    for record in records[1::2]:
        assert record["true_staleness_mean_l0"] > 0
        assert record["true_staleness_p95_l0"] >= record["true_staleness_mean_l0"] * 0.5
        assert -1 <= record["spearman_grad_l0"] <= 1
        assert -1 <= record["spearman_persistence_l0"] <= 1


def test_command_line_switches_reach_the_options():
    args = build_parser().parse_args([
        "run", "--method", "visagnn-cat", "--no-attention", "--loss", "--no-augment",
        "--lam", "0.3", "--criterion", "persistence", "--persistence-threshold", "40",
        "--softmax", "joint"])
    _, options = split_arguments(args)
    assert VisagnnOptions(**options) == VisagnnOptions(
        attention=False, loss=True, augment=False, lam=0.3, criterion="persistence",
        persistence_threshold=40, softmax="joint")
    assert VisagnnOptions() == VisagnnOptions(lam=0.5, criterion="drift", softmax="joint",
                                              loss=False, loss_target="exact")


def test_bad_options_name_the_field():
    with pytest.raises(ValueError, match="VisagnnOptions.lam"):
        VisagnnOptions(lam=-1)
    with pytest.raises(ValueError, match="VisagnnOptions.persistence_threshold"):
        VisagnnOptions(persistence_threshold=-1)


def test_a_gcn_backbone_is_refused(graph_path, tmp_path):
    refused = r"RunConfig.backbone must be one of \('gat',\)"
    with pytest.raises(ValueError, match=refused + " for --method visagnn-sum"):
        resolve_config(str(graph_path), "visagnn-sum", root=str(tmp_path), backbone="gcn", **FAST)
    config = replace(resolve_config(str(graph_path), "visagnn-sum", root=str(tmp_path), **FAST),
                     backbone="gcn")
    with pytest.raises(ValueError, match=refused + " for method 'visagnn-sum'"):
        create_method(load_dataset(str(graph_path)), config)
