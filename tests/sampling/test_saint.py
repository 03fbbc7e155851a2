import pytest
import torch

from visagnn.graph.csr import CSRGraph
from visagnn.sampling.saint import RandomWalkSampler, induced_subgraph, random_walks

TINY_EDGES = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (7, 8)]
"""Ten nodes: a dense corner 0-3, a tail 3-4-5-6-7-8, and node 9 without neighbours."""
TINY_TRAIN = torch.tensor([0, 3, 9])


def undirected(edges: list[tuple[int, int]], num_nodes: int) -> CSRGraph:
    pairs = torch.tensor(edges).t()
    return CSRGraph.from_edge_index(torch.cat([pairs, pairs.flip(0)], dim=1), num_nodes)


@pytest.fixture
def tiny() -> CSRGraph:
    return undirected(TINY_EDGES, 10)


def sampler(graph: CSRGraph, num_roots: int = 2, walk_length: int = 2,
            seed: int = 0) -> RandomWalkSampler:
    return RandomWalkSampler(graph, TINY_TRAIN, num_roots, walk_length,
                             torch.Generator().manual_seed(seed))


def test_walks_go_from_a_node_to_an_in_neighbour_and_stay_where_there_is_none():
    # directed path 0 → 1 → 2: node 2 aggregates 1, which aggregates 0, which has no in-edge
    graph = CSRGraph.from_edge_index(torch.tensor([[0, 1], [1, 2]]), 3)
    assert random_walks(graph, torch.tensor([2, 1, 0]), 3).tolist() == [
        [2, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]]


def test_every_walk_starts_at_a_training_node_and_follows_real_edges(tiny):
    edges = set(map(tuple, tiny.edge_index.t().tolist()))
    walks = torch.cat([sampler(tiny, num_roots=50).sample_walks() for _ in range(20)])
    assert walks.shape == (1000, 3)
    assert set(walks[:, 0].tolist()) == set(TINY_TRAIN.tolist())
    for walk in walks.tolist():
        for here, there in zip(walk, walk[1:], strict=False):
            assert (there, here) in edges or (here == there == 9), walk
    assert set(walks.flatten().tolist()) == {0, 1, 2, 3, 4, 5, 9}  # 6, 7, 8: 3+ hops away


def test_roots_are_drawn_uniformly_from_the_training_nodes(tiny):
    roots = sampler(tiny, num_roots=3000, walk_length=0).sample_walks().flatten()
    counts = torch.bincount(roots, minlength=10)
    assert counts.sum() == 3000 and counts[TINY_TRAIN].sum() == 3000
    assert (counts[TINY_TRAIN] - 1000).abs().max() < 100  # ~4 standard deviations


def test_the_subgraph_is_induced_by_the_visited_nodes(tiny):
    walker, subgrapher = sampler(tiny, seed=3), sampler(tiny, seed=3)
    all_edges = tiny.edge_index.t().tolist()
    for _ in range(50):
        visited = torch.unique(walker.sample_walks())
        subgraph = subgrapher.sample()
        assert torch.equal(subgraph.n_id, visited)
        inside = set(visited.tolist())
        expected = sorted((s, t) for s, t in all_edges if s in inside and t in inside)
        global_edges = subgraph.n_id[subgraph.edge_index]
        assert sorted(map(tuple, global_edges.t().tolist())) == expected
        assert torch.equal(tiny.edge_index[:, subgraph.edge_id], global_edges)
        assert subgraph.num_edges == len(expected) and subgraph.num_nodes == len(inside)


def test_induced_subgraph_docstring_example():
    path = undirected([(0, 1), (1, 2), (2, 3)], 4)
    subgraph = induced_subgraph(path, torch.tensor([1, 2]))
    assert subgraph.edge_index.tolist() == [[1, 0], [0, 1]]
    assert subgraph.edge_id.tolist() == [2, 3]


def test_bad_arguments_are_named(tiny):
    with pytest.raises(ValueError, match="num_roots must be >= 1, got 0"):
        RandomWalkSampler(tiny, TINY_TRAIN, 0, 2)
    with pytest.raises(ValueError, match="walk_length must be >= 0, got -1"):
        RandomWalkSampler(tiny, TINY_TRAIN, 1, -1)
    with pytest.raises(ValueError, match="at least one training node"):
        RandomWalkSampler(tiny, torch.tensor([], dtype=torch.long), 1, 1)
    assert repr(sampler(tiny)) == "RandomWalkSampler(10, num_roots=2, walk_length=2)"
