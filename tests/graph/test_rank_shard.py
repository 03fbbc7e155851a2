import torch

from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition
from visagnn.graph.rank_shard import RankShard


def path_shard(rank: int) -> RankShard:
    """The path 0 - 1 - 2 - 3 in parts {0, 1} and {2, 3} (the docstring's example)."""
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    partition = Partition(perm=torch.arange(4), part_ptr=torch.tensor([0, 2, 4]))
    return RankShard.of(CSRGraph.from_edge_index(edge_index, 4), partition, rank)


def test_the_path_example():
    first, second = path_shard(0), path_shard(1)
    assert [ids.tolist() for ids in first.boundary] == [[1], [2]]
    assert first.n_id.tolist() == [0, 1, 2]
    assert [ids.tolist() for ids in first.halo_positions] == [[], [0]]
    assert second.n_id.tolist() == [2, 3, 1]
    assert first.own_boundary.tolist() == [1] and second.own_boundary.tolist() == [0]


def test_local_edges_are_every_edge_into_the_ranks_nodes():
    for rank in (0, 1):
        shard = path_shard(rank)
        source, target = shard.n_id[shard.edge_index]
        edges = set(zip(source.tolist(), target.tolist(), strict=True))
        local = set(shard.local_nodes.tolist())
        expected = {(s, t) for s, t in [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
                    if t in local}
        assert edges == expected
