import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.graph.partition import partition_from_membership, partition_graph, range_partition
from visagnn.methods import resolve_config
from visagnn.run.train import run


def test_every_node_in_exactly_one_contiguous_part(csr):
    partition = partition_graph(csr, num_parts=6)
    assert partition.num_parts == 6
    assert sorted(partition.perm.tolist()) == list(range(240))
    assert partition.part_ptr[0] == 0 and partition.part_ptr[-1] == 240
    assert torch.all(partition.part_ptr[1:] >= partition.part_ptr[:-1])
    membership = torch.empty(240, dtype=torch.long)
    membership[partition.perm] = partition.part_of_new_ids()
    # Re-deriving the partition from the membership gives back the same permutation.
    again = partition_from_membership(membership, 6)
    assert torch.equal(again.perm, partition.perm)


def test_metis_cuts_fewer_edges_than_random(csr):
    partition = partition_graph(csr, num_parts=8)
    part = torch.empty(240, dtype=torch.long)
    part[partition.perm] = partition.part_of_new_ids()
    source, target = csr.edge_index
    metis_cut = int((part[source] != part[target]).sum())
    random_part = torch.randint(8, (240,), generator=torch.Generator().manual_seed(0))
    random_cut = int((random_part[source] != random_part[target]).sum())
    assert metis_cut < 0.6 * random_cut


def test_partition_is_cached_on_disk(csr, tmp_path, monkeypatch):
    first = partition_graph(csr, num_parts=4, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("partition-*-4.pt"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("METIS ran again although the partition was cached")

    monkeypatch.setattr("visagnn.graph.partition.metis_membership", fail)
    second = partition_graph(csr, num_parts=4, cache_dir=tmp_path)
    assert torch.equal(first.perm, second.perm)
    assert torch.equal(first.part_ptr, second.part_ptr)


def test_single_part_is_identity(csr):
    partition = partition_graph(csr, num_parts=1)
    assert torch.equal(partition.perm, torch.arange(240))
    assert partition.part_ptr.tolist() == [0, 240]


@pytest.mark.parametrize(("num_nodes", "num_parts"), [(240, 7), (10, 3), (5, 5), (1000, 1)])
def test_ranges_are_balanced_contiguous_and_keep_the_node_order(num_nodes, num_parts):
    partition = range_partition(num_nodes, num_parts)
    sizes = partition.part_ptr[1:] - partition.part_ptr[:-1]
    assert partition.num_parts == num_parts and int(sizes.sum()) == num_nodes
    assert int(sizes.max() - sizes.min()) <= 1
    assert torch.equal(partition.perm, torch.arange(num_nodes))
    assert torch.equal(partition.part_of_new_ids(), torch.sort(partition.part_of_new_ids()).values)


def test_ranges_through_partition_graph_are_never_cached(csr, tmp_path):
    partition = partition_graph(csr, num_parts=5, cache_dir=tmp_path, partitioner="ranges")
    assert partition.part_ptr.tolist() == [0, 48, 96, 144, 192, 240]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="partitioner"):
        partition_graph(csr, num_parts=5, partitioner="random")


def test_a_run_on_ranges_records_its_partitioner(tmp_path):
    path = write_community_graph(tmp_path / "graph.pt")
    config = resolve_config(str(path), "gas", num_parts=8, batch_parts=2, hidden_channels=4,
                            heads=2, epochs=1, partitioner="ranges")
    summary = run(config, progress=False).summary
    assert summary["status"] == "ok" and summary["config"]["partitioner"] == "ranges"
