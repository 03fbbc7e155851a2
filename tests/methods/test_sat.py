import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, resolve_config
from visagnn.methods.sat import SATOptions, WindowPredictor
from visagnn.nn.backbone import LayerInput
from visagnn.run.train import run

SETTINGS = dict(num_parts=8, batch_parts=2, hidden_channels=4, heads=2, num_layers=3, epochs=1)


def make_method(path, method="sat", options=None, **settings):
    dataset = load_dataset(write_community_graph(path))
    config = resolve_config(str(path), method, **{**SETTINGS, **settings})
    torch.manual_seed(0)
    return create_method(dataset, config, options)


def gas_fields(records, gas_records):
    keys = [set(record) - {k for k in record if k.endswith(("_s", "_mb"))}
            for record in gas_records]
    return [{k: record[k] for k in kept} for record, kept in zip(records, keys, strict=True)]


@pytest.mark.parametrize("window", [2, 3, 5])
def test_on_a_linear_trajectory_the_prediction_is_the_next_value(window):
    torch.manual_seed(0)
    start, step = torch.randn(6, 8), torch.randn(6, 8)
    rows = torch.stack([start + (window - 1 - k) * step for k in range(window)])  # newest first
    predictor = WindowPredictor(window, 8, lr=1e-2, device=torch.device("cpu"))
    assert torch.allclose(predictor(rows), start + window * step, atol=1e-5)
    constant = start.expand(window, -1, -1)
    assert torch.allclose(predictor(constant), start, atol=1e-5)
    assert predictor.fit(rows, start + window * step) < 1e-10  # its error on such pairs


def test_fitting_moves_the_predictor_toward_its_targets():
    torch.manual_seed(0)
    rows, target = torch.randn(3, 50, 4), torch.randn(50, 4)
    predictor = WindowPredictor(3, 4, lr=1e-2, device=torch.device("cpu"))
    errors = [predictor.fit(rows, target) for _ in range(100)]
    assert errors[-1] < 0.5 * errors[0]


def test_without_prediction_it_is_gas_step_for_step(tmp_path):
    path = write_community_graph(tmp_path / "graph.pt")
    settings = {**SETTINGS, "epochs": 3}
    gas = run(resolve_config(str(path), "gas", **settings), progress=False).records
    off = run(resolve_config(str(path), "sat", **settings), {"predict": False},
              progress=False).records
    on = run(resolve_config(str(path), "sat", **settings), progress=False).records
    assert gas_fields(off, gas) == gas_fields(gas, gas)
    assert all(record["predictor_mse_l0"] > 0 for record in off)  # still trained
    assert gas_fields(on, gas) != gas_fields(gas, gas)


def test_the_halo_rows_read_are_the_predictions_of_their_windows(tmp_path):
    sat = make_method(tmp_path / "graph.pt", options={"window": 3})
    sat.prepare()
    policy = sat.policy
    history, (older, oldest) = policy.histories[0], policy.windows[0]
    start, step = torch.randn(history.num_nodes, history.dim), torch.randn(history.num_nodes,
                                                                             history.dim)
    for rows, k in ((history, 2), (older, 1), (oldest, 0)):
        rows.refresh(start + k * step, 0)
    batch = sat.loader.batcher.batch(torch.tensor([0, 1]))
    fresh = torch.zeros(batch.batch_size, history.dim)
    inp = LayerInput(torch.zeros(batch.n_id.numel(), 1), batch.edge_index, batch.n_id,
                     batch.batch_size)
    out = policy.next_input(0, inp, fresh, batch, sat.clock)
    halo = batch.halo_nodes
    assert halo.numel() > 0
    assert torch.allclose(out.x[batch.batch_size :], start[halo] + 3 * step[halo], atol=1e-5)


def test_a_push_moves_the_windows_of_the_batch_back_by_one(tmp_path):
    sat = make_method(tmp_path / "graph.pt", options={"window": 3}, dropout=0.0)
    sat.prepare()
    exact = [history.pull(torch.arange(history.num_nodes)) for history in sat.model.histories]
    sat.train_epoch(1)
    for history, slots, rows in zip(sat.model.histories, sat.policy.windows, exact, strict=True):
        pushed = history.last_push > 0
        assert pushed.any()
        # each node is pushed once an epoch: slot 0 holds the exact row the push replaced
        assert torch.equal(slots[0].embedding, rows) and torch.equal(slots[1].embedding, rows)
        assert not torch.equal(history.embedding[pushed], rows[pushed])
    sat.train_epoch(2)
    for slots, rows in zip(sat.policy.windows, exact, strict=True):
        assert torch.equal(slots[1].embedding, rows)
        assert not torch.equal(slots[0].embedding, rows)


def test_an_exact_refresh_restarts_every_window(tmp_path):
    sat = make_method(tmp_path / "graph.pt")
    sat.prepare()
    sat.train_epoch(1)
    sat.predict()
    for history, slots in zip(sat.model.histories, sat.policy.windows, strict=True):
        assert all(torch.equal(slot.embedding, history.embedding) for slot in slots)


def test_the_windows_are_in_the_histories_memory(tmp_path):
    window = 4
    sat = make_method(tmp_path / "graph.pt", options={"window": window})
    gas = make_method(tmp_path / "graph.pt", method="gas")
    own = sat.policy.own_histories()
    assert len(own) == (window - 1) * len(sat.model.histories) == 6
    state = 8 + 4 + 1  # last_push, grad_norm, grad_seen per node
    extra = (window - 1) * sum(h.num_nodes * (h.dim * 4 + state) for h in sat.model.histories)
    assert (sat.memory_breakdown()["histories_mb"] - gas.memory_breakdown()["histories_mb"]
            == pytest.approx(extra / 2**20, abs=1e-12))


def test_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match="SATOptions.window"):
        SATOptions(window=1)
    with pytest.raises(ValueError, match="SATOptions.predictor_lr"):
        SATOptions(predictor_lr=0.0)
    with pytest.raises(ValueError, match="--push-rows train"):
        make_method(tmp_path / "graph.pt", push_rows="clean")
