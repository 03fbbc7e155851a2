import math

import pytest
import torch
from scipy.stats import spearmanr

from tests.pulls import count_pulled_rows
from visagnn.history.store import History
from visagnn.history.true_staleness import measure_staleness, spearman, true_staleness


@pytest.fixture(autouse=True)
def seeded():
    """Tests draw from the global generator; seed it so each test sees the same draws in any
    order."""
    torch.manual_seed(0)


def test_spearman_of_a_constant_is_nan_as_scipy():
    assert math.isnan(spearman(torch.ones(5), torch.arange(5.0)))
    with pytest.raises(ValueError, match="1-D"):
        spearman(torch.ones(5), torch.ones(4))


def test_true_staleness_is_zero_right_after_a_fill_with_exact_embeddings():
    exact = [torch.randn(50, 8), torch.randn(50, 4)]
    histories = [History(50, 8), History(50, 4)]
    for history, rows in zip(histories, exact, strict=True):
        history.fill(rows)
    pulled = count_pulled_rows(histories)
    record = measure_staleness(histories, exact, iteration=0, rows=torch.arange(50))
    for layer in (0, 1):
        assert record[f"true_staleness_mean_l{layer}"] == 0
        assert record[f"true_staleness_p95_l{layer}"] == 0
        # every error and every criterion is constant right after a fill: no correlation
        assert record[f"spearman_grad_l{layer}"] is None
        assert record[f"spearman_persistence_l{layer}"] is None
    assert pulled == [0, 0]


def test_measurement_ranks_the_errors_against_each_proxy():
    history = History(40, 3, track_drift=True)
    exact = torch.zeros(40, 3)
    history.fill(exact)
    nodes = torch.arange(40)
    for node in nodes:  # node j last pushed at iteration j with error j
        history.push(node.view(1), torch.full((1, 3), float(node)), iteration=int(node))
    history.record_grad_norm(nodes, torch.rand(40))
    record = measure_staleness([history], [exact], iteration=40, rows=nodes)
    assert torch.allclose(true_staleness(history, exact), nodes * math.sqrt(3))
    assert math.isclose(record["spearman_persistence_l0"], -1.0)
    assert math.isclose(record["spearman_drift_l0"], -1.0)  # no rate known: persistence
    expected = spearmanr(nodes.numpy(), history.grad_norm.numpy()).statistic
    assert math.isclose(record["spearman_grad_l0"], expected, abs_tol=1e-9)
    assert math.isclose(record["true_staleness_mean_l0"], 19.5 * math.sqrt(3), rel_tol=1e-6)
    # node 0 was "pushed" at iteration 0, the fill's: its row counts as written exactly
    assert record["true_staleness_exact_rows_l0"] == 0
    assert math.isclose(record["true_staleness_pushed_rows_l0"], 20 * math.sqrt(3), rel_tol=1e-6)


def test_measurement_reads_only_the_given_rows():
    history = History(10, 2)
    history.fill(torch.zeros(10, 2))
    exact = torch.zeros(10, 2)
    exact[7] = torch.tensor([3.0, 4.0])
    assert measure_staleness([history], [exact], 0, torch.tensor([7]))[
        "true_staleness_mean_l0"] == 5.0
    assert measure_staleness([history], [exact], 0, torch.tensor([1, 2]))[
        "true_staleness_mean_l0"] == 0.0
