import math

import pytest
import torch

from tests.methods.test_hot_path import DeviceTensor, on_device, put_state_on_device
from visagnn.history.criteria import CRITERIA, masked_mean, raw_criterion, staleness_criterion
from visagnn.history.store import History


def test_criterion_is_log_of_one_plus_its_ratio_to_the_mean_of_positive_values():
    history = History(num_nodes=6, dim=2)
    n_id = torch.tensor([0, 2, 5])
    history.record_grad_norm(torch.arange(6), torch.tensor([0.0, 0.02, 0.04, 0.0, 0.06, 0.08]))
    grad = staleness_criterion(history, n_id, iteration=3, criterion="grad")
    assert torch.allclose(grad, torch.log1p(torch.tensor([0.0, 0.8, 1.6])))
    history.fill(torch.zeros(6, 2), iteration=0)
    history.push(torch.tensor([1, 2]), torch.zeros(2, 2), iteration=4)
    persistence = staleness_criterion(history, n_id, iteration=4, criterion="persistence")
    assert torch.allclose(persistence, torch.log1p(torch.tensor([1.0, 0.0, 1.0])))
    with pytest.raises(ValueError, match="criterion"):
        staleness_criterion(history, n_id, iteration=4, criterion="age")


def test_a_never_observed_row_is_not_counted_as_fresh():
    history = History(num_nodes=5, dim=2)
    every = torch.arange(5)
    # nothing observed yet: every row is as stale as the average, none is fresh
    assert torch.allclose(staleness_criterion(history, every, 1, "grad"),
                          torch.full((5,), math.log(2)))
    history.record_grad_norm(torch.tensor([0, 1]), torch.tensor([0.0, 0.3]))
    raw = raw_criterion(history, 1, "grad")
    assert raw.tolist() == pytest.approx([0.0, 0.3, 0.3, 0.3, 0.3])  # unseen: the largest seen
    s = staleness_criterion(history, every, 1, "grad")
    assert s[0] == 0 and (s[2:] >= s[1]).all()  # an observed zero gradient is the freshest


def test_drift_is_the_last_rate_times_the_persistence():
    history = History(num_nodes=4, dim=2, track_drift=True)
    first = torch.zeros(4, 2)
    second = torch.tensor([[3.0, 4.0], [0.0, 1.0], [0.0, 0.0], [6.0, 8.0]])
    history.fill(first, iteration=0)
    # before two refreshes every rate is unknown: drift is the persistence
    assert torch.equal(raw_criterion(history, 3, "drift"), raw_criterion(history, 3, "persistence"))
    history.refresh(second, iteration=5)  # ‖h_new - h_old‖ / T_prev = [5, 1, 0, 10] / 5
    assert torch.allclose(history.drift_rate, torch.tensor([1.0, 0.2, 0.0, 2.0]))
    history.push(torch.tensor([3]), torch.ones(1, 2), iteration=8)
    # at iteration 10: T = [5, 5, 5, 2]
    expected = torch.tensor([1.0 * 5, 0.2 * 5, 0.0, 2.0 * 2])
    assert torch.allclose(raw_criterion(history, 10, "drift"), expected)
    history.fill(first, iteration=10)
    assert history.drift_rate.isnan().all()  # a fill starts afresh


def test_drift_needs_a_history_that_tracks_it():
    with pytest.raises(ValueError, match="track_drift"):
        raw_criterion(History(3, 2), 1, "drift")


def test_the_masked_mean_is_the_mean_of_the_selected_values_on_either_path():
    values = torch.tensor([0.5, float("nan"), 2.0, 0.0, 4.0])
    mask = torch.tensor([True, False, True, False, True])
    none = torch.zeros(5, dtype=torch.bool)
    assert masked_mean(values, mask, 1.0) == values[mask].mean()
    assert masked_mean(values, none, 1.0) == 1.0
    on_cuda = masked_mean(on_device(values), on_device(mask), 1.0)  # the masked-sum path
    assert torch.allclose(on_cuda.as_subclass(torch.Tensor), values[mask].mean())
    assert masked_mean(on_device(values), on_device(none), 1.0).item() == 1.0
    assert math.isnan(masked_mean(on_device(values), on_device(none), float("nan")).item())


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("observed", [True, False])
def test_on_cuda_the_criterion_waits_for_nothing_and_agrees_with_the_cpu(criterion, observed):
    history = History(num_nodes=40, dim=3, track_drift=True)
    generator = torch.Generator().manual_seed(2)
    history.fill(torch.randn(40, 3, generator=generator), iteration=0)
    if observed:  # rates, gradient norms and pushes known for some rows only
        history.refresh(torch.randn(40, 3, generator=generator), iteration=4)
        history._drift_rate[::3] = float("nan")
        history.record_grad_norm(torch.arange(0, 40, 2), torch.rand(20, generator=generator))
        history.push(torch.arange(5, 25), torch.zeros(20, 3), iteration=7)
    n_id = torch.randperm(40, generator=generator)[:15]
    iteration = 7 if observed else 0  # unobserved: every row just written, no positive value
    on_cpu = staleness_criterion(history, n_id, iteration, criterion)
    put_state_on_device(history)
    DeviceTensor.waits.clear()
    stood_in = staleness_criterion(history, on_device(n_id), iteration, criterion)
    assert DeviceTensor.waits == []
    assert torch.allclose(stood_in.as_subclass(torch.Tensor), on_cpu, rtol=1e-6, atol=0)
    assert bool(on_cpu.gt(0).any()) == (observed or criterion == "grad")
