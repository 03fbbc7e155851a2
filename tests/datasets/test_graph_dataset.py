"""Tests of visagnn/datasets/graph_dataset.py."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Data

from visagnn.datasets import GraphDataset, graph_dataset
from visagnn.datasets.metrics import roc_auc


def tiny_data(y: list[int]) -> Data:
    num_nodes = len(y)
    return Data(
        x=torch.zeros(num_nodes, 1),
        y=torch.tensor(y),
        edge_index=torch.zeros(2, 0, dtype=torch.long),
        train_mask=torch.ones(num_nodes, dtype=torch.bool),
    )


def test_accuracy_is_computed_on_labelled_masked_nodes() -> None:
    dataset = GraphDataset("toy", tiny_data([0, 1, 2, -1, 1]), "accuracy", 3)
    logits = torch.eye(3)[[0, 2, 2, 0, 1]]  # wrong on node 1; node 3 has no label
    assert dataset.score(logits, torch.tensor([True, True, True, True, False])) == 2 / 3
    assert dataset.score(logits, torch.tensor([False, False, True, True, True])) == 1.0


def test_rocauc_ranks_by_probability_of_class_one() -> None:
    dataset = GraphDataset("toy", tiny_data([0, 1, 0, 1, 1, 0]), "rocauc", 2)
    logits = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    mask = torch.ones(6, dtype=torch.bool)
    expected = roc_auc(logits.softmax(-1)[:, 1], dataset.data.y)
    assert dataset.score(logits, mask) == expected
    # Shifting both logits of a node changes nothing: only the softmax counts.
    assert dataset.score(logits + torch.arange(6.0)[:, None], mask) == expected


def test_ogbn_names_score_through_ogb_evaluator(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    ogb_accuracy = graph_dataset.ogb_accuracy

    def spy(name: str, prediction: torch.Tensor, y: torch.Tensor) -> float:
        calls.append(name)
        return ogb_accuracy(name, prediction, y)

    monkeypatch.setattr(graph_dataset, "ogb_accuracy", spy)
    dataset = GraphDataset("ogbn-arxiv", tiny_data([0, 1, 2, 3]), "accuracy", 40)
    logits = torch.zeros(4, 40)
    logits[torch.arange(4), torch.tensor([0, 1, 2, 0])] = 1.0
    assert dataset.score(logits, torch.ones(4, dtype=torch.bool)) == 0.75
    assert calls == ["ogbn-arxiv"]


def test_score_rejects_bad_shapes_and_empty_masks() -> None:
    dataset = GraphDataset("toy", tiny_data([0, 1, -1]), "accuracy", 2)
    with pytest.raises(ValueError, match="logits"):
        dataset.score(torch.zeros(3, 5), torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="no labelled node"):
        dataset.score(torch.zeros(3, 2), torch.tensor([False, False, True]))


@pytest.mark.parametrize(
    ("metric", "num_classes", "field"),
    [("f1", 2, "metric"), ("accuracy", 0, "num_classes"), ("rocauc", 3, "rocauc")],
)
def test_fields_are_validated(metric: str, num_classes: int, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        GraphDataset("toy", tiny_data([0, 1]), metric, num_classes)
