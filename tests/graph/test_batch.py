from dataclasses import replace

import pytest
import torch

from tests.devices import CUDA, needs_cuda
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.csr import CSRGraph
from visagnn.graph.partition import Partition, partition_graph


@pytest.fixture
def batcher(csr):
    partition = partition_graph(csr, num_parts=8)
    return SubgraphBatcher(csr.permute(partition.perm), partition)


def test_batch_nodes_halo_and_edges_are_exact(batcher):
    graph, ptr = batcher.graph, batcher.partition.part_ptr
    parts = torch.tensor([1, 4, 6])
    batch = batcher.batch(parts)
    expected_nodes = torch.cat([torch.arange(ptr[p], ptr[p + 1]) for p in parts.tolist()])
    assert torch.equal(batch.batch_nodes, expected_nodes)
    in_batch = set(expected_nodes.tolist())
    source, target = graph.edge_index
    edges = zip(source.tolist(), target.tolist(), strict=True)
    into_batch = [(s, t) for s, t in edges if t in in_batch]
    assert set(batch.halo_nodes.tolist()) == {s for s, _ in into_batch if s not in in_batch}
    assert batch.halo_nodes.tolist() == sorted(batch.halo_nodes.tolist())
    local = batch.n_id[batch.edge_index]
    assert sorted(map(tuple, local.t().tolist())) == sorted(into_batch)
    assert int(batch.edge_index[1].max()) < batch.batch_size


def test_all_parts_in_one_batch_has_no_halo(batcher):
    batch = batcher.batch(torch.arange(8))
    assert batch.halo_nodes.numel() == 0
    assert batch.batch_size == 240


def test_loader_visits_every_part_once_per_epoch(batcher):
    loader = PartitionBatchLoader(batcher, batch_parts=3,
                                  generator=torch.Generator().manual_seed(0))
    assert len(loader) == 3
    epochs = [[b.parts.tolist() for b in loader] for _ in range(2)]
    for groups in epochs:
        assert sorted(p for group in groups for p in group) == list(range(8))
    assert epochs[0] != epochs[1]


def test_fixed_loader_repeats_the_same_groups(batcher):
    loader = PartitionBatchLoader(batcher, batch_parts=3, shuffle=False)
    assert [b.parts.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    assert [b.parts.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6, 7]]


def test_batch_parts_out_of_range_is_rejected(batcher):
    with pytest.raises(ValueError, match="batch_parts"):
        PartitionBatchLoader(batcher, batch_parts=9)


def path_batch():
    """Path 0 - 1 - 2 - 3 in parts {0, 1}, {2, 3}: the batch of part 0 has halo [2]."""
    edges = torch.tensor([[0, 1], [1, 2], [2, 3]]).t()
    graph = CSRGraph.from_edge_index(torch.cat([edges, edges.flip(0)], dim=1), 4)
    batcher = SubgraphBatcher(graph, Partition(torch.arange(4), torch.tensor([0, 2, 4])))
    return batcher.batch(torch.tensor([0]))


def test_induced_edges_drop_the_halo():
    batch = path_batch()
    assert batch.halo_nodes.tolist() == [2]
    assert sorted(map(tuple, batch.induced_edge_index().t().tolist())) == [(0, 1), (1, 0)]


def test_edges_into_halo_reverse_the_edges_out_of_it():
    assert path_batch().edges_into_halo().tolist() == [[1], [2]]


def test_keep_halo_removes_exactly_the_marked_rows_and_their_edges(batcher):
    batch = batcher.batch(torch.tensor([2, 3]))
    keep = torch.arange(batch.halo_nodes.numel()) % 3 != 1
    kept = batch.keep_halo(keep)
    assert kept.batch_size == batch.batch_size
    assert torch.equal(kept.n_id, torch.cat([batch.batch_nodes, batch.halo_nodes[keep]]))
    original = batch.n_id[batch.edge_index]
    survives = torch.isin(original[0], kept.n_id)
    assert torch.equal(kept.n_id[kept.edge_index], original[:, survives])
    assert not survives.all()


def test_restrict_of_the_path_batch_to_node_1():
    restricted, kept = path_batch().restrict(torch.tensor([1]))
    assert restricted.n_id.tolist() == [1, 0, 2] and restricted.batch_size == 1
    assert restricted.edge_index.tolist() == [[1, 2], [0, 0]]  # 0 → 1, 2 → 1
    assert kept.tolist() == [1, 0, 2]


def test_restrict_keeps_the_chosen_rows_and_every_edge_into_them(batcher):
    batch = batcher.batch(torch.tensor([2, 3]))
    rows = torch.arange(batch.batch_size - 1, -1, -3)  # a third of the batch, reordered
    restricted, kept = batch.restrict(rows)
    assert torch.equal(restricted.batch_nodes, batch.n_id[rows])
    assert torch.equal(restricted.n_id, batch.n_id[kept])
    source, target = batcher.graph.edge_index
    into = torch.isin(target, restricted.batch_nodes)
    expected_halo = set(source[into].tolist()) - set(restricted.batch_nodes.tolist())
    assert restricted.halo_nodes.tolist() == sorted(expected_halo)
    assert sorted(map(tuple, restricted.n_id[restricted.edge_index].t().tolist())) == sorted(
        zip(source[into].tolist(), target[into].tolist(), strict=True))
    assert int(restricted.edge_index[1].max()) < restricted.batch_size


def test_a_batch_off_the_cpu_keeps_host_ids_equal_to_its_device_ids(batcher):
    batch = batcher.batch(torch.tensor([2, 5]))
    assert batch.host_n_id is None and batch.host_ids is batch.n_id
    moved = batch.to("meta")  # a device other than the CPU, without one
    assert moved.n_id.device.type == "meta" and moved.n_id.shape == batch.n_id.shape
    assert torch.equal(moved.host_ids, batch.n_id) and moved.host_ids.device.type == "cpu"
    assert torch.equal(moved.host_batch_nodes, batch.batch_nodes)
    assert torch.equal(moved.host_halo_nodes, batch.halo_nodes)
    on_cpu = batch.to("cpu")
    assert on_cpu.host_n_id is None and torch.equal(on_cpu.host_halo_nodes, batch.halo_nodes)


def test_batches_cut_from_a_batch_drop_its_host_ids(batcher):
    batch = batcher.batch(torch.tensor([1, 3]))
    with_host = replace(batch, host_n_id=batch.n_id.clone())
    keep = torch.arange(batch.num_nodes - batch.batch_size) % 2 == 0
    assert with_host.keep_halo(keep).host_n_id is None
    assert with_host.restrict(torch.tensor([0, 2]))[0].host_n_id is None


@needs_cuda
def test_on_cuda_a_batch_keeps_pinned_host_ids_equal_to_its_device_ids(batcher):
    batch = batcher.batch(torch.tensor([0, 4, 7]))
    moved = batch.to(CUDA, non_blocking=True)
    assert moved.n_id.is_cuda and moved.host_n_id.is_pinned()
    assert torch.equal(moved.host_n_id, moved.n_id.cpu())
    assert torch.equal(moved.host_halo_nodes, moved.halo_nodes.cpu())
    assert moved.to(CUDA).host_n_id is moved.host_n_id  # pinned already: no second copy
    back = moved.to("cpu")
    assert back.host_n_id is None and back.n_id is moved.host_n_id  # not copied back
