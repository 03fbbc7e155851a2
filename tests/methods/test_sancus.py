"""SANCUS: with staleness bound 0 it is full-batch GCN training step for step, on two gloo ranks
and in one process; with a large bound it sends fewer bytes and still trains."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tests.graphs import write_community_graph
from tests.ranks import run_ranks
from visagnn.config import RunConfig
from visagnn.graph.partitioned import PartitionedGraph
from visagnn.graph.rank_shard import RankShard
from visagnn.methods import create_method, resolve_config
from visagnn.methods.sancus import SancusOptions, relative_change, should_broadcast
from visagnn.run.train import load_run_dataset, seed_everything

EPOCHS = 8
SETTINGS = dict(epochs=EPOCHS, hidden_channels=16, lr=0.02, dropout=0.0, grad_clip=1.0)
LARGE_BOUND = 1000


def config_of(path: Path, method: str, epochs: int = EPOCHS) -> RunConfig:
    return resolve_config(str(path), method, root=str(path.parent),
                          **{**SETTINGS, "epochs": epochs})


def train(config: RunConfig, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Per-epoch losses and extras, final parameters and logits of one method, as the trainer
    seeds and calls it."""
    seed_everything(config.seed)
    dataset = load_run_dataset(config)
    method = create_method(dataset, config, options)
    method.prepare()
    losses, extras = [], []
    for epoch in range(1, config.epochs + 1):
        losses.append(method.train_epoch(epoch))
        extras.append(method.epoch_extras(epoch))
    logits = method.predict()
    return {"losses": losses, "extras": extras, "logits": logits,
            "parameters": [p.detach().clone() for p in method.model.parameters()],
            "train_accuracy": dataset.score(logits, dataset.data.train_mask),
            "test_accuracy": dataset.score(logits, dataset.data.test_mask)}


def both_bounds(rank: int, world_size: int, path: Path) -> dict[int, dict[str, Any]]:
    return {bound: train(config_of(path, "sancus", epochs=30 if bound else EPOCHS),
                         {"staleness_epochs": bound})
            for bound in (0, LARGE_BOUND)}


@pytest.fixture(scope="module")
def graph_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_community_graph(tmp_path_factory.mktemp("sancus") / "communities.pt")


@pytest.fixture(scope="module")
def two_ranks(graph_path: Path) -> list[dict[int, dict[str, Any]]]:
    return run_ranks(both_bounds, 2, graph_path)


@pytest.fixture(scope="module")
def full_batch(graph_path: Path) -> dict[str, Any]:
    return train(config_of(graph_path, "gcn"))


def assert_same_training(ours: dict[str, Any], reference: dict[str, Any]) -> None:
    assert ours["losses"] == pytest.approx(reference["losses"], abs=1e-5)
    for mine, theirs in zip(ours["parameters"], reference["parameters"], strict=True):
        assert torch.allclose(mine, theirs, atol=1e-5)
    assert torch.allclose(ours["logits"], reference["logits"], atol=1e-5)


def test_bound_zero_on_two_ranks_is_full_batch_step_for_step(two_ranks, full_batch):
    for rank in two_ranks:
        assert_same_training(rank[0], full_batch)
        assert all(extras["skipped_broadcasts"] == 0 for extras in rank[0]["extras"])


def test_bytes_are_the_boundary_blocks_of_the_hidden_layer(two_ranks, graph_path):
    config = config_of(graph_path, "sancus")
    graph = PartitionedGraph.from_dataset(load_run_dataset(config), 2)
    rows = sum(RankShard.of(graph.graph, graph.partition, 0).block_size(q) for q in (0, 1))
    per_transfer = 4 * rows * SETTINGS["hidden_channels"]  # float32, to the one other rank
    assert rows > 0
    for rank in two_ranks:
        assert {extras["bytes_forward"] for extras in rank[0]["extras"]} == {per_transfer}
        assert {extras["bytes_backward"] for extras in rank[0]["extras"]} == {per_transfer}


def test_a_large_bound_sends_fewer_bytes_and_still_trains(two_ranks):
    for rank in two_ranks:
        stale, exact = rank[LARGE_BOUND], rank[0]
        forward = [extras["bytes_forward"] for extras in stale["extras"]]
        assert forward[0] == exact["extras"][0]["bytes_forward"]  # the first epoch broadcasts
        assert set(forward[1:]) == {0}
        assert {extras["skipped_broadcasts"] for extras in stale["extras"][1:]} == {2}
        stale_bytes = sum(e["bytes_forward"] + e["bytes_backward"] for e in stale["extras"])
        exact_bytes = sum(e["bytes_forward"] + e["bytes_backward"] for e in exact["extras"])
        assert stale_bytes / len(stale["extras"]) < exact_bytes / len(exact["extras"])
        assert stale["losses"][-1] < 0.5 * stale["losses"][0]
        assert stale["test_accuracy"] > 0.5  # 4 classes: chance is 0.25
    assert two_ranks[0][LARGE_BOUND]["losses"] == two_ranks[1][LARGE_BOUND]["losses"]


def test_one_process_is_full_batch(graph_path, full_batch):
    ours = train(config_of(graph_path, "sancus"), {"staleness_epochs": LARGE_BOUND})
    assert_same_training(ours, full_batch)
    assert {extras["bytes_forward"] for extras in ours["extras"]} == {0}


def test_a_block_is_skipped_only_within_both_bounds():
    sent = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    near, far = sent + torch.tensor([[0.0, 0.05], [0.0, 0.0]]), 2 * sent
    assert relative_change(near, sent) == pytest.approx(0.05 / 2**0.5)
    assert relative_change(far, sent) == pytest.approx(1.0)
    assert relative_change(sent, torch.zeros(2, 2)) == float("inf")
    bounds = SancusOptions(staleness_epochs=3, staleness_drift=0.05)
    assert not should_broadcast(0, relative_change(near, sent), bounds)
    assert should_broadcast(0, relative_change(far, sent), bounds)
    assert not should_broadcast(2, relative_change(near, sent), bounds)
    assert should_broadcast(3, relative_change(near, sent), bounds)  # 3 epochs skipped already
    assert should_broadcast(None, 0.0, bounds)  # never broadcast yet
    assert not should_broadcast(0, 1e9, SancusOptions(staleness_epochs=3))  # no drift bound
    assert should_broadcast(0, 0.0, SancusOptions(staleness_epochs=0))


@pytest.mark.parametrize(("options", "message"), [
    ({"staleness_epochs": -1}, "SancusOptions.staleness_epochs must be >= 0, got -1"),
    ({"staleness_drift": -0.1}, "SancusOptions.staleness_drift must be >= 0, got -0.1"),
])
def test_bad_bounds_name_the_field(options, message):
    with pytest.raises(ValueError, match=message):
        SancusOptions(**options)
