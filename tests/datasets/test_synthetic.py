"""Tests of visagnn/datasets/synthetic.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch_geometric.data import Data

from visagnn.datasets.synthetic import SyntheticConfig, generate_synthetic, load_synthetic
from visagnn.graph.batch import SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import partition_graph

SMALL = {"num_nodes": 2_000, "num_features": 8}


def edge_homophily(data: Data) -> float:
    source, target = data.edge_index
    return (data.y[source] == data.y[target]).double().mean().item()


def test_defaults_give_a_canonical_graph(check_canonical: Callable[[Data], None]) -> None:
    config = SyntheticConfig()
    dataset = load_synthetic(config)
    data = dataset.data
    check_canonical(data)
    assert (dataset.name, dataset.metric, dataset.num_classes) == ("synthetic", "accuracy", 10)
    assert data.x.shape == (config.num_nodes, config.num_features)
    assert torch.equal(torch.bincount(data.y), torch.full((10,), config.num_nodes // 10))


def test_same_seed_same_graph_other_seed_other_graph() -> None:
    first = generate_synthetic(SyntheticConfig(**SMALL, seed=3))
    again = generate_synthetic(SyntheticConfig(**SMALL, seed=3))
    other = generate_synthetic(SyntheticConfig(**SMALL, seed=4))
    for key in ("x", "y", "edge_index", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(first[key], again[key]), key
    assert not torch.equal(first.y, other.y)
    assert not torch.equal(first.x, other.x)
    assert first.edge_index.shape != other.edge_index.shape or not torch.equal(
        first.edge_index, other.edge_index
    )


@pytest.mark.parametrize("homophily", [0.1, 0.5, 0.7, 0.95])
def test_edge_homophily_is_close_to_requested(homophily: float) -> None:
    data = generate_synthetic(
        SyntheticConfig(num_nodes=20_000, num_features=1, homophily=homophily)
    )
    assert edge_homophily(data) == pytest.approx(homophily, abs=0.01)


@pytest.mark.parametrize("avg_degree", [2.0, 10.0, 30.0])
def test_edge_count_is_num_nodes_times_avg_degree(avg_degree: float) -> None:
    data = generate_synthetic(
        SyntheticConfig(num_nodes=20_000, num_features=1, avg_degree=avg_degree)
    )
    assert data.edge_index.size(1) == pytest.approx(20_000 * avg_degree, rel=0.02)


def test_large_sparse_graph_needs_no_dense_matrix() -> None:
    # A dense 300k x 300k matrix would need 90e9 entries; O(E) generation takes well under 1 s.
    data = generate_synthetic(SyntheticConfig(num_nodes=300_000, avg_degree=2.0, num_features=1))
    assert data.edge_index.size(1) == pytest.approx(600_000, rel=0.02)


def test_split_is_disjoint_and_stratified() -> None:
    config = SyntheticConfig(
        **SMALL, num_classes=4, train_fraction=0.1, val_fraction=0.3, test_fraction=0.4
    )
    data = generate_synthetic(config)
    masks = torch.stack([data.train_mask, data.val_mask, data.test_mask])
    assert int(masks.sum(0).max()) == 1
    for mask, fraction in zip(masks, (0.1, 0.3, 0.4), strict=True):
        assert torch.equal(
            torch.bincount(data.y[mask], minlength=4), torch.full((4,), round(fraction * 500))
        )


def test_feature_signal_separates_classes() -> None:
    data = generate_synthetic(SyntheticConfig(**SMALL, feature_signal=20.0))
    means = torch.stack([data.x[data.y == c].mean(0) for c in range(10)])
    nearest_mean = torch.cdist(data.x, means).argmin(1)
    assert (nearest_mean == data.y).double().mean() > 0.99
    noise_only = generate_synthetic(SyntheticConfig(**SMALL, feature_signal=0.0))
    assert noise_only.x.mean(0).abs().max() < 0.15


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("num_classes", 1),
        ("num_nodes", 5),
        ("avg_degree", 0.0),
        ("homophily", 1.5),
        ("feature_signal", -1.0),
        ("num_features", 0),
        ("locality", 1.5),
        ("community_size", 0),
        ("val_fraction", -0.1),
        ("test_fraction", 0.5),
    ],
)
def test_config_names_the_bad_field(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=f"SyntheticConfig.{field} "):
        SyntheticConfig(**{field: value})


def mean_halo_size(data: Data, num_parts: int = 20, batch_parts: int = 2) -> float:
    """Average halo of METIS batches of ``batch_parts`` parts, as the trainers build them."""
    graph = CSRGraph.from_edge_index(data.edge_index, data.num_nodes)
    partition = partition_graph(graph, num_parts)
    batcher = SubgraphBatcher(graph.permute(partition.perm), partition)
    parts = torch.arange(num_parts).view(-1, batch_parts)
    return sum(batcher.batch(group).halo_nodes.numel() for group in parts) / len(parts)


def test_locality_shrinks_the_metis_halo() -> None:
    plain = generate_synthetic(SyntheticConfig(**SMALL))
    local = generate_synthetic(SyntheticConfig(**SMALL, locality=0.99, community_size=16))
    assert edge_homophily(local) == pytest.approx(0.7, abs=0.08)
    assert local.edge_index.size(1) == pytest.approx(plain.edge_index.size(1), rel=0.2)
    assert mean_halo_size(local) < 0.3 * mean_halo_size(plain)


def test_zero_locality_is_the_plain_csbm() -> None:
    plain = generate_synthetic(SyntheticConfig(**SMALL))
    zero = generate_synthetic(SyntheticConfig(**SMALL, locality=0.0, community_size=5))
    for key in ("x", "y", "edge_index", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(plain[key], zero[key]), key
