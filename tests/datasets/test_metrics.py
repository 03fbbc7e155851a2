"""Tests of visagnn/datasets/metrics.py."""

from __future__ import annotations

import pytest
import torch

from visagnn.datasets.metrics import accuracy, roc_auc


def brute_force_auc(scores: torch.Tensor, y: torch.Tensor) -> float:
    """P(s+ > s-) + P(s+ = s-) / 2 over all positive-negative pairs."""
    positive, negative = scores[y == 1], scores[y == 0]
    greater = (positive[:, None] > negative[None, :]).double()
    equal = (positive[:, None] == negative[None, :]).double()
    return (greater + equal / 2).mean().item()


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("num_levels", [2, 5, 1000])
def test_roc_auc_matches_pairwise_definition_with_ties(seed: int, num_levels: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (300,), generator=generator)
    # Few distinct score levels force many ties between and within the classes.
    scores = torch.randint(num_levels, (300,), generator=generator).float() + 0.3 * y
    assert roc_auc(scores, y) == pytest.approx(brute_force_auc(scores, y), abs=1e-12)


def test_roc_auc_extremes() -> None:
    y = torch.tensor([0, 0, 1, 1])
    assert roc_auc(torch.tensor([0.1, 0.2, 0.3, 0.4]), y) == 1.0
    assert roc_auc(torch.tensor([0.4, 0.3, 0.2, 0.1]), y) == 0.0
    assert roc_auc(torch.full((4,), 0.5), y) == 0.5
    assert roc_auc(torch.tensor([0.1, 0.2, 0.3, 0.4]), y.bool()) == 1.0


@pytest.mark.parametrize(
    ("scores", "y", "message"),
    [
        (torch.rand(4), torch.ones(4, dtype=torch.long), "one class"),
        (torch.rand(4), torch.tensor([0, 1, 2, 1]), "binary"),
        (torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), "scores"),
    ],
)
def test_roc_auc_rejects_bad_input(scores: torch.Tensor, y: torch.Tensor, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        roc_auc(scores, y)


def test_accuracy_counts_argmax_matches() -> None:
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 1.0], [5.0, 0.0, 0.0]])
    assert accuracy(logits, torch.tensor([0, 1, 1, 2])) == 0.5


def test_accuracy_rejects_empty_and_mismatched_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        accuracy(torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="logits"):
        accuracy(torch.zeros(4, 3), torch.zeros(5, dtype=torch.long))
