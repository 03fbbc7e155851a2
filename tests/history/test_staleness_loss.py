import pytest
import torch

from visagnn.history.staleness_loss import StalenessLoss, staleness_loss


@pytest.fixture(autouse=True)
def seeded():
    """Tests draw from the global generator; seed it so each test sees the same draws in any
    order."""
    torch.manual_seed(0)


def test_loss_is_mean_squared_distance_over_rows_and_channels():
    current = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    previous = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    assert torch.isclose(staleness_loss(current, previous), torch.tensor((5.0 + 25.0) / 4))


def test_loss_gradient_matches_finite_differences():
    generator = torch.Generator().manual_seed(0)
    current = torch.randn(6, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    previous = torch.randn(6, 4, dtype=torch.float64, generator=generator)
    assert torch.autograd.gradcheck(lambda h: staleness_loss(h, previous), (current,))


def test_no_gradient_flows_into_previous_rows():
    current = torch.randn(3, 2, requires_grad=True)
    previous = torch.randn(3, 2, requires_grad=True)
    staleness_loss(current, previous).backward()
    assert previous.grad is None and current.grad is not None


def test_zero_when_final_embeddings_did_not_change():
    loss = StalenessLoss(num_nodes=10, channels=3)
    n_id = torch.tensor([4, 1, 7])
    out = torch.randn(3, 3)
    assert loss(out, n_id, epoch=1) == 0
    assert loss(out.clone().requires_grad_(), n_id, epoch=2) == 0


def test_compares_with_the_previous_epoch_and_skips_nodes_without_record():
    loss = StalenessLoss(num_nodes=10, channels=2)
    loss(torch.ones(2, 2), torch.tensor([0, 1]), epoch=1)
    loss(torch.full((1, 2), 5.0), torch.tensor([2]), epoch=1)
    # node 3 has no record, node 2's record is from epoch 1, node 0's from epoch 1
    value = loss(torch.zeros(3, 2), torch.tensor([3, 2, 0]), epoch=2)
    assert torch.isclose(value, torch.tensor((50.0 + 2.0) / 4))
    # epoch 4 sees no record from epoch 3: skipped entirely
    assert loss(torch.zeros(1, 2), torch.tensor([0]), epoch=4) == 0
    assert torch.equal(loss.previous.pull(torch.tensor([0])), torch.zeros(1, 2))
