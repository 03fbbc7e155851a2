import pytest
import torch

from visagnn.history import History
from visagnn.staleness_criteria import staleness_criterion


def test_criterion_is_log_of_one_plus_its_ratio_to_the_mean_of_positive_values():
    history = History(num_nodes=6, dim=2)
    n_id = torch.tensor([0, 2, 5])
    assert staleness_criterion(history, n_id, iteration=3, criterion="grad").eq(0).all()
    history.grad_norm.copy_(torch.tensor([0.0, 0.02, 0.04, 0.0, 0.06, 0.08]))
    grad = staleness_criterion(history, n_id, iteration=3, criterion="grad")
    assert torch.allclose(grad, torch.log1p(torch.tensor([0.0, 0.8, 1.6])))
    history.fill(torch.zeros(6, 2), iteration=0)
    history.push(torch.tensor([1, 2]), torch.zeros(2, 2), iteration=4)
    persistence = staleness_criterion(history, n_id, iteration=4, criterion="persistence")
    assert torch.allclose(persistence, torch.log1p(torch.tensor([1.0, 0.0, 1.0])))
    with pytest.raises(ValueError, match="criterion"):
        staleness_criterion(history, n_id, iteration=4, criterion="age")
