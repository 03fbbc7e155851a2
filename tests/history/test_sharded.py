import torch

from tests.ranks import run_ranks
from visagnn.history.sharded import RowOwners, last_occurrences
from visagnn.history.store import History
from visagnn.utils.distributed import World, current_world

NODES, DIM = 11, 3


def _rows() -> torch.Tensor:
    return torch.arange(NODES * DIM, dtype=torch.float32).view(NODES, DIM)


def test_owners_split_whole_parts_and_find_the_owner_of_a_row():
    owners = RowOwners.by_parts(torch.tensor([0, 3, 5, 9, 11]), World(1, 2, "gloo"))
    assert owners.bounds == [0, 5, 11] and (owners.start, owners.stop) == (5, 11)
    assert owners.owner_of(torch.tensor([0, 4, 5, 10])).tolist() == [0, 0, 1, 1]
    assert RowOwners.even(11, World(0, 3, "gloo")).bounds == [0, 4, 8, 11]


def test_last_occurrences_pick_the_last_write_of_a_repeated_row():
    index = torch.tensor([4, 2, 4, 7, 2])
    assert sorted(last_occurrences(index).tolist()) == [2, 3, 4]


def _pull_and_push(rank: int, world_size: int) -> dict:
    history = History(NODES, DIM)
    history.refresh(_rows(), iteration=0)
    asked = torch.tensor([10, 0, 6, 3, 6]) if rank == 0 else torch.tensor([], dtype=torch.long)
    pulled = history.pull(asked)
    # a push is visible to its own rank at once, to the others after the step
    pushed_rows = torch.full((2, DIM), 100.0 + rank)
    history.push(torch.tensor([1, 8]), pushed_rows, iteration=1)
    history.record_grad_norm(torch.tensor([1 + rank]), torch.tensor([float(rank + 5)]))
    during = history.pull(torch.tensor([1, 8, 9]))
    history.end_step()
    after = history.pull(torch.tensor([1, 8, 9]))
    drifting = History(NODES, DIM, track_drift=True)
    drifting.refresh(_rows(), iteration=0)
    drifting.refresh(3 * _rows(), iteration=2)
    return {"drift_rate": drifting.drift_rate.clone(),
            "owned": (history.owned.start, history.owned.stop), "pulled": pulled,
            "during": during, "after": after, "stored": history.embedding.clone(),
            "last_push": history.last_push.clone(), "grad_norm": history.grad_norm.clone(),
            "grad_seen": history.grad_seen.clone(), "distributed": current_world().size}


def test_two_ranks_pull_exactly_the_owners_rows_and_see_pushes_after_the_step():
    ranks = run_ranks(_pull_and_push, 2)
    rows = _rows()
    assert [rank["owned"] for rank in ranks] == [(0, 6), (6, 11)]
    assert all(rank["distributed"] == 2 for rank in ranks)
    for rank, (start, stop) in zip(ranks, [(0, 6), (6, 11)], strict=True):
        assert rank["stored"].shape == (stop - start, DIM)
    assert torch.equal(ranks[0]["pulled"], rows[[10, 0, 6, 3, 6]])
    assert ranks[1]["pulled"].shape == (0, DIM)
    # during the step each rank reads its own pushes over the previous step's rows
    for rank, result in enumerate(ranks):
        assert torch.equal(result["during"][:2], torch.full((2, DIM), 100.0 + rank))
        assert torch.equal(result["during"][2], rows[9])
    # after it both ranks read the same rows: the higher rank's push wins a conflict
    for result in ranks:
        assert torch.equal(result["after"][:2], torch.full((2, DIM), 101.0))
    # the replicated per-node state agrees on every rank
    for key in ("last_push", "grad_norm", "grad_seen"):
        assert torch.equal(ranks[0][key], ranks[1][key])
    assert ranks[0]["last_push"].tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert ranks[0]["grad_norm"][[1, 2]].tolist() == [5.0, 6.0]
    assert ranks[0]["grad_seen"].sum() == 2
    # every rank knows every node's drift rate, measured by its owner: |3h - h| / 2
    for result in ranks:
        torch.testing.assert_close(result["drift_rate"], rows.norm(dim=-1))
