import pytest
import torch

from tests.devices import needs_cuda
from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.graph.features import FeatureRows
from visagnn.graph.partitioned import PartitionedGraph


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_rows_are_the_mapped_rows_of_the_matrix_as_float32(dtype):
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(0)).to(dtype)
    ids = torch.randperm(50, generator=torch.Generator().manual_seed(1))
    rows = FeatureRows(x, ids)
    nodes = torch.tensor([3, 0, 49, 3])
    assert len(rows) == 50 and rows.num_features == 6
    for gathered in (rows[nodes], rows.gather(nodes)):
        assert gathered.dtype == torch.float32
        assert torch.equal(gathered, x[ids[nodes]].float())
    assert rows.tensors()[0] is x  # nothing copied
    own_order = FeatureRows(x)
    assert len(own_order) == 50 and own_order.tensors() == [x]
    assert torch.equal(own_order[nodes], x[nodes].float())


def test_a_memory_mapped_matrix_is_read_in_place_by_the_partitioned_graph(tmp_path):
    dataset = load_dataset(write_community_graph(tmp_path / "graph.pt"))
    data = dataset.data
    path = tmp_path / "features.bin"
    data.x.numpy().tofile(path)
    data.x = torch.from_file(str(path), shared=False, size=data.x.numel()).view_as(data.x)
    parted = PartitionedGraph.from_dataset(dataset, num_parts=4)
    assert parted.x.x is data.x  # the mapping itself, no partition-order copy
    nodes = torch.arange(0, len(parted.x), 7)
    assert torch.equal(parted.x[nodes], data.x[parted.partition.perm[nodes]])


@needs_cuda
def test_on_cuda_rows_are_gathered_into_pinned_memory():
    rows = FeatureRows(torch.randn(20, 3).half(), torch.arange(20).flip(0))
    gathered = rows.gather(torch.tensor([0, 5]), pin_memory=True)
    assert gathered.is_pinned() and gathered.dtype == torch.float32
