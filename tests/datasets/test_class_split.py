"""Tests of visagnn/datasets/class_split.py: per-class sizes, determinism, bad input."""

from __future__ import annotations

import pytest
import torch

from visagnn.datasets.class_split import count_split, fraction_split

# 41 nodes of class 0, 60 of class 1, 100 of class 2, then 3 unlabelled nodes.
LABELS = torch.cat([torch.zeros(41), torch.ones(60), torch.full((100,), 2), -torch.ones(3)]).long()
LABELS = LABELS[torch.randperm(LABELS.numel(), generator=torch.Generator().manual_seed(0))]


def _per_class(mask: torch.Tensor) -> list[int]:
    return torch.bincount(LABELS[mask], minlength=3).tolist()


def test_fraction_split_floors_each_class_share() -> None:
    train, val, test = fraction_split(LABELS, 0.5, 0.25, seed=0)
    assert _per_class(train) == [20, 30, 50]
    assert _per_class(val) == [10, 15, 25]
    assert _per_class(test) == [11, 15, 25]
    assert not bool((train & val).any() or (train & test).any() or (val & test).any())
    assert torch.equal(train | val | test, LABELS >= 0)


def test_count_split_takes_fixed_counts_per_class() -> None:
    train, val, test = count_split(LABELS, 20, 20, seed=0)
    assert _per_class(train) == [20, 20, 20]
    assert _per_class(val) == [20, 20, 20]
    assert _per_class(test) == [1, 20, 60]
    assert torch.equal(train | val | test, LABELS >= 0)


def test_split_depends_on_the_seed_only() -> None:
    first = fraction_split(LABELS, 0.5, 0.25, seed=3)
    again = fraction_split(LABELS, 0.5, 0.25, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    other = fraction_split(LABELS, 0.5, 0.25, seed=4)
    assert not torch.equal(first[0], other[0])


def test_count_split_names_a_class_too_small() -> None:
    with pytest.raises(ValueError, match="class 0 has 41 nodes, fewer than the 42"):
        count_split(LABELS, 20, 21, seed=0)


@pytest.mark.parametrize("train, val", [(0.0, 0.5), (0.5, 0.0), (0.6, 0.4)])
def test_fraction_split_refuses_shares_that_leave_no_test(train: float, val: float) -> None:
    with pytest.raises(ValueError, match="train \\+ val < 1"):
        fraction_split(LABELS, train, val, seed=0)
