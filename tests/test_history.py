import torch

from visagnn.history import History, layer_histories


def test_push_pull_round_trip():
    history = History(num_nodes=10, dim=3)
    values = torch.arange(12, dtype=torch.float).view(4, 3)
    n_id = torch.tensor([7, 2, 9, 0])
    history.push(n_id, values, iteration=1)
    assert torch.equal(history.pull(torch.tensor([9, 7])), values[[2, 0]])
    assert torch.equal(history.pull(torch.tensor([5])), torch.zeros(1, 3))
    assert history.rows_pulled == 3


def test_pushed_values_are_detached_copies():
    history = History(num_nodes=4, dim=2)
    values = torch.ones(2, 2, requires_grad=True)
    history.push(torch.tensor([0, 1]), values * 2, iteration=1)
    pulled = history.pull(torch.tensor([0, 1]))
    assert not pulled.requires_grad
    pulled.add_(5)
    assert torch.equal(history.pull(torch.tensor([0])), torch.full((1, 2), 2.0))


def test_persistence_counts_iterations_since_last_push():
    history = History(num_nodes=5, dim=1)
    history.fill(torch.zeros(5, 1), iteration=0)
    history.push(torch.tensor([1, 3]), torch.ones(2, 1), iteration=4)
    history.push(torch.tensor([3]), torch.ones(1, 1), iteration=9)
    assert history.persistence(iteration=10).tolist() == [10, 6, 10, 1, 10]
    assert history.persistence(10, torch.tensor([3, 1])).tolist() == [1, 6]


def test_recorded_grad_norms_land_on_their_nodes_only():
    history = History(num_nodes=6, dim=3)
    history.record_grad_norm(torch.tensor([4, 1]), torch.tensor([2.5, 0.5]))
    assert history.grad_norm.tolist() == [0.0, 0.5, 0.0, 0.0, 2.5, 0.0]
    history.fill(torch.zeros(6, 3))
    assert history.grad_norm.eq(0).all()


def test_empty_like_and_layer_histories_match_the_shapes():
    histories = layer_histories(7, [4, 2])
    assert [(h.num_nodes, h.dim) for h in histories] == [(7, 4), (7, 2)]
    twin = histories[0].empty_like()
    assert (twin.num_nodes, twin.dim, twin.device) == (7, 4, histories[0].device)
    assert twin.embedding.eq(0).all() and twin.last_push.eq(-1).all()
