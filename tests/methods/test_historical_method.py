import pytest
import torch

from tests.graphs import write_community_graph
from tests.oracle import assert_exact_halo_rows_at_every_step
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, resolve_config
from visagnn.methods.partition_batches import (
    INFERENCE_BATCHES,
    INFERENCE_EDGES,
    inference_parts,
)
from visagnn.nn.backbone import LayerInput
from visagnn.run.train import run


def make_gas(path, **settings):
    dataset = load_dataset(write_community_graph(path))
    config = resolve_config(str(path), "gas", **{
        **dict(num_parts=8, batch_parts=2, hidden_channels=4, heads=2, num_layers=3, epochs=1),
        **settings})
    torch.manual_seed(0)
    return create_method(dataset, config)


@pytest.fixture
def gas(tmp_path):
    return make_gas(tmp_path / "graph.pt")


def test_prepare_fills_histories_with_exact_embeddings(gas):
    gas.prepare()
    exact = gas.exact_embeddings()
    for history, rows in zip(gas.model.histories, exact[:-1], strict=True):
        assert torch.equal(history.embedding, rows)
        assert history.last_push.eq(0).all()


def test_epoch_steps_once_per_batch_with_training_nodes(gas):
    gas.prepare()
    batches_with_training_nodes = sum(
        bool(gas.train_mask[batch.batch_nodes].any()) for batch in gas.inference_loader
    )
    gas.train_epoch(1)
    assert gas.clock.iteration == batches_with_training_nodes
    pushed = torch.stack([h.last_push for h in gas.model.histories])
    assert pushed.max() == gas.clock.iteration


@torch.no_grad()
def test_predict_returns_logits_in_the_dataset_node_order(gas):
    gas.model.eval()
    data = gas.dataset.data
    h = data.x
    for index in range(gas.model.num_layers):
        h = gas.model.backbone.layer(
            index, LayerInput(h, data.edge_index, torch.arange(data.num_nodes), data.num_nodes)
        )
    assert torch.allclose(gas.predict(), h, atol=1e-5)


@pytest.mark.parametrize("refresh", [True, False])
def test_an_evaluation_refreshes_every_history_row_unless_switched_off(tmp_path, refresh):
    gas = make_gas(tmp_path / "graph.pt", refresh_histories=refresh)
    gas.prepare()
    gas.train_epoch(1)
    before = [(h.embedding.clone(), h.last_push.clone()) for h in gas.model.histories]
    gas.predict()
    exact = gas.exact_embeddings()
    for history, rows, (embedding, last_push) in zip(gas.model.histories, exact[:-1], before,
                                                     strict=True):
        if refresh:
            assert torch.allclose(history.embedding, rows, atol=1e-5)
            assert history.persistence(gas.clock.iteration).eq(0).all()
            assert not torch.allclose(embedding, rows, atol=1e-3)  # training had moved them
        else:
            assert torch.equal(history.embedding, embedding)
            assert torch.equal(history.last_push, last_push)


def test_the_oracle_reads_exact_halo_rows_of_the_current_weights_at_every_step(tmp_path):
    gas = make_gas(tmp_path / "graph.pt", exact_halo=True, dropout=0.0)
    gas.prepare()
    assert_exact_halo_rows_at_every_step(gas)


def test_true_staleness_is_measured_before_the_refresh_and_zero_right_after(tmp_path):
    gas = make_gas(tmp_path / "graph.pt", measure_staleness_every=1)
    gas.prepare()
    gas.train_epoch(1)
    gas.predict()
    record = gas.epoch_extras(1)
    for layer in (0, 1):
        assert record[f"true_staleness_mean_l{layer}"] > 0
        for criterion in ("grad", "persistence", "drift"):
            assert -1 <= record[f"spearman_{criterion}_l{layer}"] <= 1
    after = gas.measure(gas.exact_embeddings())
    assert after["true_staleness_mean_l0"] < 1e-5 and after["true_staleness_p95_l1"] < 1e-5
    assert after["true_staleness_pushed_rows_l0"] is None  # every row was just written exactly


@pytest.mark.parametrize("num_parts, batch_parts, expected", [
    (80, 1, 10), (80, 10, 10), (80, 20, 20), (4, 1, 1), (1000, 100, 125), (5, 5, 5)])
def test_inference_batches_are_at_least_the_training_batches_and_at_most_eight(
        num_parts, batch_parts, expected):
    parts = inference_parts(num_parts, batch_parts, num_edges=10_000)
    assert parts == expected
    assert -(-num_parts // parts) <= max(INFERENCE_BATCHES, -(-num_parts // batch_parts))


@pytest.mark.parametrize("num_parts, batch_parts, num_edges, expected", [
    (300, 5, 62_000_000, 9),  # ogbn-products' size: 9 parts of ~207k edges, not 38
    (300, 20, 62_000_000, 20),  # never fewer than the training batch
    (40, 10, 2_300_000, 10),  # ogbn-arxiv's size: the count bound decides
])
def test_inference_batches_hold_about_the_edge_budget_on_large_graphs(
        num_parts, batch_parts, num_edges, expected):
    parts = inference_parts(num_parts, batch_parts, num_edges)
    assert parts == expected
    if parts > batch_parts:
        assert parts * num_edges / num_parts <= INFERENCE_EDGES


def scores_and_losses(records):
    return [{k: v for k, v in record.items() if not k.endswith(("_s", "_mb"))}
            for record in records]


@pytest.mark.parametrize("method", ["gas", "lmc", "visagnn-cat"])
def test_memory_mapped_histories_train_bit_identically_to_histories_in_ram(tmp_path, method):
    path = write_community_graph(tmp_path / "graph.pt")
    runs = {}
    for place in ("ram", "mmap"):
        config = resolve_config(str(path), method, num_parts=8, batch_parts=2,
                                hidden_channels=4, heads=2, epochs=2, history_storage=place)
        runs[place] = scores_and_losses(run(config, progress=False).records)
    assert runs["mmap"] == runs["ram"]


@pytest.mark.parametrize("method", ["gas", "clustergcn", "lmc"])
def test_prefetching_trains_bit_identically(tmp_path, method):
    path = write_community_graph(tmp_path / "graph.pt")
    runs = {}
    for prefetching in (False, True):
        config = resolve_config(str(path), method, num_parts=8, batch_parts=2,
                                hidden_channels=4, heads=2, epochs=2, prefetch=prefetching)
        runs[prefetching] = scores_and_losses(run(config, progress=False).records)
    assert runs[True] == runs[False]
