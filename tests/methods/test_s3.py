import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, resolve_config
from visagnn.methods.s3 import S3Options, staleness_weights
from visagnn.run.train import run


def make_s3(path, options=None, **settings):
    dataset = load_dataset(write_community_graph(path))
    config = resolve_config(str(path), "s3", **{
        **dict(num_parts=8, batch_parts=2, hidden_channels=4, heads=2, num_layers=3, epochs=1),
        **settings})
    torch.manual_seed(0)
    return create_method(dataset, config, options)


def test_the_score_is_the_mean_persistence_of_a_parts_boundary_rows_from_stored_state(tmp_path):
    s3 = make_s3(tmp_path / "graph.pt")
    s3.prepare()
    part_of_node = s3.loader.batcher.part_of_node
    for layer, history in enumerate(s3.model.histories):
        history.last_push[:] = part_of_node * (layer + 1)  # part p last pushed at p·(l + 1)
    s3.clock = s3.clock.__class__(100, 1)

    def no_forward(*args, **kwargs):
        raise AssertionError("the score must not run the model")

    s3.model.backbone.layer = no_forward
    scores = s3.part_scores()
    parts = torch.arange(8, dtype=torch.float64)
    assert torch.allclose(scores, 100 - parts * (1 + 2) / 2)
    boundary = torch.zeros(part_of_node.numel(), dtype=torch.bool)
    boundary[s3.boundary_nodes] = True
    s3.model.histories[0].last_push[~boundary] = -10**6  # rows no batch reads do not count
    assert torch.equal(s3.part_scores(), scores)


def test_weights_mix_the_score_share_with_a_uniform_floor():
    weights = staleness_weights(torch.tensor([0.0, 1.0, 3.0, 0.0], dtype=torch.float64), 0.2)
    assert torch.allclose(weights, torch.tensor([0.05, 0.25, 0.65, 0.05], dtype=torch.float64))
    tied = staleness_weights(torch.zeros(4, dtype=torch.float64), 0.2)
    assert torch.equal(tied, torch.full((4,), 0.25, dtype=torch.float64))


@pytest.mark.parametrize("floor", [0.0, 1.5])
def test_floor_must_be_in_the_unit_interval(floor):
    with pytest.raises(ValueError, match="S3Options.floor"):
        S3Options(floor=floor)


def test_the_stalest_part_comes_first_and_no_part_starves(tmp_path):
    s3 = make_s3(tmp_path / "graph.pt", batch_parts=1, refresh_histories=False)
    s3.prepare()
    for history in s3.model.histories:
        history.last_push[:] = 50
        history.last_push[s3.loader.batcher.part_of_node == 5] = 0  # part 5 is the stalest
    s3.clock = s3.clock.__class__(60, 1)
    weights = s3.part_weights()
    expected_first = float(weights[5])
    assert expected_first == pytest.approx(0.9 * 60 / (60 + 7 * 10) + 0.1 / 8)
    firsts, epochs = 0, 300
    for _ in range(epochs):
        order = s3.loader.part_order()
        assert sorted(order.tolist()) == list(range(8))
        firsts += int(order[0]) == 5
    assert firsts / epochs == pytest.approx(expected_first, abs=0.08)


def test_an_epoch_has_as_many_steps_as_gas_and_rewrites_every_part(tmp_path):
    s3 = make_s3(tmp_path / "graph.pt", batch_parts=1, refresh_histories=False)
    s3.prepare()
    steps_with_training_nodes = sum(bool(s3.train_mask[batch.batch_nodes].any())
                                    for batch in s3.inference_loader)
    for epoch in (1, 2, 3):
        start = s3.clock.iteration
        s3.train_epoch(epoch)
        assert s3.clock.iteration - start == steps_with_training_nodes
        pushed = s3.model.histories[0].last_push > start
        trained = s3.train_mask.clone()
        for batch in s3.inference_loader:
            trained[batch.batch_nodes] = bool(s3.train_mask[batch.batch_nodes].any())
        assert torch.equal(pushed, trained)


def test_s3_runs_with_the_cli_settings(tmp_path):
    path = write_community_graph(tmp_path / "graph.pt")
    config = resolve_config(str(path), "s3", num_parts=8, batch_parts=2, hidden_channels=4,
                            heads=2, epochs=3, refresh_histories=False)
    result = run(config, {"floor": 0.5}, progress=False)
    assert len(result.records) == 3
    assert all(0 <= record["test"] <= 1 for record in result.records)


def test_prefetching_reads_the_scores_before_the_epoch_and_trains_bit_identically(tmp_path):
    path = write_community_graph(tmp_path / "graph.pt")
    runs = {}
    for prefetching in (False, True):
        config = resolve_config(str(path), "s3", num_parts=8, batch_parts=1, hidden_channels=4,
                                heads=2, epochs=3, refresh_histories=False, prefetch=prefetching)
        runs[prefetching] = [{k: v for k, v in record.items() if not k.endswith(("_s", "_mb"))}
                             for record in run(config, progress=False).records]
    assert runs[True] == runs[False]
