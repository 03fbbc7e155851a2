"""Tests of visagnn/datasets/custom.py: users' own ``.pt`` graphs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from visagnn.datasets import load_dataset
from visagnn.datasets.custom import load_custom


def user_graph() -> Data:
    num_nodes = 6
    return Data(
        x=torch.randn(num_nodes, 3),
        y=torch.tensor([0, 1, 2, 0, 1, -1]),
        # one direction only, a self-loop and a duplicate: the loader cleans them up
        edge_index=torch.tensor([[0, 1, 2, 3, 4, 4, 0], [1, 2, 3, 4, 5, 4, 1]]),
        train_mask=torch.tensor([True, True, True, False, False, False]),
        val_mask=torch.tensor([False, False, False, True, False, False]),
        test_mask=torch.tensor([False, False, False, False, True, False]),
    )


def test_round_trip(tmp_path: Path, check_canonical: Callable[[Data], None]) -> None:
    data = user_graph()
    torch.save(data, tmp_path / "my-graph.pt")
    dataset = load_dataset(str(tmp_path / "my-graph.pt"))
    check_canonical(dataset.data)
    assert (dataset.name, dataset.metric, dataset.num_classes) == ("my-graph", "accuracy", 3)
    for key in ("x", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(dataset.data[key], data[key]), key
    assert dataset.data.edge_index.size(1) == 10


def test_metric_attribute_is_honoured(tmp_path: Path) -> None:
    data = user_graph()
    data.y = torch.tensor([0, 1, 1, 0, 1, 0])
    data.metric = "rocauc"
    torch.save(data, tmp_path / "binary.pt")
    assert load_dataset(tmp_path / "binary.pt").metric == "rocauc"


def test_missing_field_is_named(tmp_path: Path) -> None:
    data = user_graph()
    del data.val_mask
    torch.save(data, tmp_path / "incomplete.pt")
    with pytest.raises(ValueError, match="lacks the field.*val_mask"):
        load_dataset(str(tmp_path / "incomplete.pt"))


def test_non_graph_and_missing_files_fail_clearly(tmp_path: Path) -> None:
    torch.save({"x": torch.zeros(2)}, tmp_path / "dict.pt")
    with pytest.raises(ValueError, match="holds a dict"):
        load_dataset(str(tmp_path / "dict.pt"))
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        load_dataset(str(tmp_path / "absent.pt"))


@pytest.mark.parametrize("content", [b"hello, not a pickle\n", bytes(range(256)), b""])
def test_a_file_torch_did_not_write_is_a_value_error(tmp_path, content):
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="is truncated or is not a graph saved with torch.save"):
        load_custom(path)
