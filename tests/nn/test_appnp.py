import pytest
import torch

from tests.graphs import dense_normalized_adjacency
from visagnn.nn.appnp import APPNP

NUM_NODES = 240


@torch.no_grad()
@pytest.mark.parametrize("steps, alpha", [(1, 0.1), (10, 0.1), (5, 0.5)])
def test_propagation_is_the_power_iteration_on_the_dense_matrix(edge_index, steps, alpha):
    torch.manual_seed(0)
    model = APPNP(16, 32, 7, propagation_steps=steps, alpha=alpha).eval()
    x = torch.randn(NUM_NODES, 16)
    h = model.predict(x)
    a_hat = dense_normalized_adjacency(edge_index, NUM_NODES, torch.float32)
    z = h
    for _ in range(steps):
        z = (1 - alpha) * a_hat @ z + alpha * h
    assert torch.allclose(model(x, edge_index), z, atol=1e-5)


@torch.no_grad()
def test_many_steps_converge_to_personalised_pagerank(edge_index):
    torch.manual_seed(0)
    alpha = 0.2
    model = APPNP(16, 8, 4, propagation_steps=200, alpha=alpha).eval()
    x = torch.randn(NUM_NODES, 16)
    closed_form = alpha * torch.linalg.solve(
        torch.eye(NUM_NODES)
        - (1 - alpha) * dense_normalized_adjacency(edge_index, NUM_NODES, torch.float32),
        model.predict(x))
    assert torch.allclose(model(x, edge_index), closed_form, atol=1e-4)


def test_reset_clears_the_cached_adjacency_and_repr(edge_index):
    model = APPNP(16, 8, 4)
    model(torch.randn(NUM_NODES, 16), edge_index)
    assert model._adjacency is not None
    model.reset_parameters()
    assert model._adjacency is None
    assert repr(model) == "APPNP(16, 4, K=10, alpha=0.1)"
