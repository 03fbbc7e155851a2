import pytest
import torch

from tests.graphs import write_community_graph
from tests.oracle import assert_exact_halo_rows_at_every_step
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, resolve_config
from visagnn.methods.rest import RESTOptions
from visagnn.run.train import run

SETTINGS = dict(num_parts=8, batch_parts=2, hidden_channels=4, heads=2, num_layers=3, epochs=1)


def make_rest(path, options=None, **settings):
    dataset = load_dataset(write_community_graph(path))
    config = resolve_config(str(path), "rest", **{**SETTINGS, **settings})
    torch.manual_seed(0)
    return create_method(dataset, config, options)


def scores_and_losses(records):
    return [{k: v for k, v in record.items() if not k.endswith(("_s", "_mb"))}
            for record in records]


def test_with_refreshes_never_it_is_gas_step_for_step(tmp_path):
    path = write_community_graph(tmp_path / "graph.pt")
    settings = {**SETTINGS, "epochs": 3}
    gas = run(resolve_config(str(path), "gas", **settings), progress=False)
    rest = run(resolve_config(str(path), "rest", **settings), {"refresh_every": 0},
               progress=False)
    assert scores_and_losses(rest.records) == scores_and_losses(gas.records)
    default = run(resolve_config(str(path), "rest", **settings), progress=False)
    # refreshes of other parts than the step's own (the sweep has its own seed) change the run
    assert scores_and_losses(default.records) != scores_and_losses(gas.records)


def test_a_whole_graph_refresh_before_every_step_gives_exact_halo_rows(tmp_path):
    rest = make_rest(tmp_path / "graph.pt", {"refresh_every": 1, "refresh_parts": 8},
                     dropout=0.0)
    rest.prepare()
    assert_exact_halo_rows_at_every_step(rest)


def test_a_refresh_pass_pushes_the_next_parts_of_the_sweep_only(tmp_path):
    rest = make_rest(tmp_path / "graph.pt", {"refresh_every": 2, "refresh_parts": 3})
    rest.prepare()
    part_of_node = rest.loader.batcher.part_of_node
    refreshed = []
    refresh_pass = rest.refresh_pass

    def record_then_refresh():
        before = rest.model.histories[0].last_push.clone()
        refresh_pass()
        written = rest.model.histories[0].last_push != before
        refreshed.append((rest.clock.iteration, torch.unique(part_of_node[written]).tolist()))

    rest.refresh_pass = record_then_refresh
    rest.train_epoch(1)
    assert [iteration for iteration, _ in refreshed] == list(range(2, rest.clock.iteration + 1,
                                                                   2))
    assert all(len(parts) == 3 for _, parts in refreshed)
    first_sweep = [part for _, parts in refreshed[:2] for part in parts]
    assert len(set(first_sweep)) == 6  # a sweep visits distinct parts


@pytest.mark.parametrize("values, match", [
    ({"refresh_every": -1}, "refresh_every"), ({"refresh_parts": -2}, "refresh_parts")])
def test_options_are_checked(values, match):
    with pytest.raises(ValueError, match=match):
        RESTOptions(**values)


def test_refresh_parts_may_not_exceed_the_parts(tmp_path):
    with pytest.raises(ValueError, match="--refresh-parts must be in"):
        make_rest(tmp_path / "graph.pt", {"refresh_parts": 9})
