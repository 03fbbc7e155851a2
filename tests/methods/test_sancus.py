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
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition
from visagnn.graph.partitioned import PartitionedGraph
from visagnn.graph.rank_shard import RankShard
from visagnn.methods import create_method, resolve_config
from visagnn.methods.sancus import (
    BoundaryExchange,
    SancusOptions,
    relative_change,
    should_broadcast,
)
from visagnn.run.train import load_run_dataset, seed_everything
from visagnn.utils.distributed import current_world

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


def exchange_a_path(rank: int, world_size: int) -> tuple[list[list[float]], list[dict[str, int]]]:
    """The path 0 - 1 - 2 - 3 in parts {0, 1} and {2, 3}: each rank lends one row (node 1,
    node 2) and reads the other's; its rows change by 0.01, then by 1."""
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    partition = Partition(perm=torch.arange(4), part_ptr=torch.tensor([0, 2, 4]))
    shard = RankShard.of(CSRGraph.from_edge_index(edge_index, 4), partition, rank)
    bounds = SancusOptions(staleness_epochs=5, staleness_drift=0.1)
    exchange = BoundaryExchange(shard, current_world(), bounds)
    base = torch.tensor([[1.0, 0.0], [0.0, 1.0]]) + rank
    halos, counts = [], []
    for h in (base, base + 0.01, base + 1.0):
        halos.append(exchange.training_halo(h.clone().requires_grad_(), 1).detach().tolist())
        counts.append(dict(exchange.counts))
    return halos, counts


def test_readers_keep_a_cached_row_within_the_bound_and_get_it_anew_beyond():
    first, second = run_ranks(exchange_a_path, 2)
    # rank 0 reads node 2 (rank 1's first row), rank 1 reads node 1 (rank 0's second row)
    assert first[0] == [[[2.0, 1.0]], [[2.0, 1.0]], [[3.0, 2.0]]]
    assert second[0] == [[[0.0, 1.0]], [[0.0, 1.0]], [[1.0, 2.0]]]
    row = 4 * 2  # one float32 row of width 2, to the one other rank
    assert first[1] == second[1] == [
        {"bytes_forward": 2 * row, "bytes_backward": 0, "skipped_broadcasts": 0},
        {"bytes_forward": 2 * row, "bytes_backward": 0, "skipped_broadcasts": 2},
        {"bytes_forward": 4 * row, "bytes_backward": 0, "skipped_broadcasts": 2},
    ]
