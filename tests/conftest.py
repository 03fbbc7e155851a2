"""Fixtures shared by the test suite."""

from __future__ import annotations

import pytest
import torch

from tests.graphs import random_community_graph
from visagnn.graph.csr import CSRGraph


@pytest.fixture
def edge_index() -> torch.Tensor:
    return random_community_graph(num_nodes=240, num_edges=900, communities=8, seed=0)


@pytest.fixture
def csr(edge_index: torch.Tensor) -> CSRGraph:
    return CSRGraph.from_edge_index(edge_index, 240)


@pytest.fixture(autouse=True, scope="session")
def isolated_cache(tmp_path_factory: pytest.TempPathFactory):
    """Partitions and writable data copies go to a per-session folder, not the user's cache."""
    patch = pytest.MonkeyPatch()
    patch.setenv("VISAGNN_CACHE", str(tmp_path_factory.mktemp("visagnn-cache")))
    patch.setenv("VISAGNN_NO_DOWNLOAD", "1")  # no test reaches a dataset host
    yield
    patch.undo()
