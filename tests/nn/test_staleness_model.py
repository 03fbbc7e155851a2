import pytest
import torch

from visagnn.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.nn.staleness_backbone import StalenessGATBackbone
from visagnn.nn.staleness_model import StalenessModel, drop_halo
from visagnn.partition import partition_graph

NUM_NODES = 240


@pytest.fixture(autouse=True)
def seeded():
    """Tests draw from the global generator; seed it so each test sees the same draws in any
    order."""
    torch.manual_seed(0)


def make_model(csr, augment="sum", softmax="joint", **kwargs):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    backbone = StalenessGATBackbone(16, 8, 5, graph.degree, num_layers=3, heads=2, out_heads=2,
                                    dropout=0.5, augment=augment, softmax=softmax)
    model = StalenessModel(backbone, NUM_NODES, torch.device("cpu"), **kwargs).eval()
    return SubgraphBatcher(graph, partition), model, torch.randn(NUM_NODES, 16)


@torch.no_grad()
@pytest.mark.parametrize("augment", ["cat", "sum", None])
@pytest.mark.parametrize("batch_parts", [1, 3])
def test_minibatch_forward_is_exact_with_exact_history_and_zero_staleness(csr, augment,
                                                                          batch_parts):
    batcher, model, x = make_model(csr, augment)
    exact = model.layerwise_inference(x, PartitionBatchLoader(batcher, 8, shuffle=False))
    for history, rows in zip(model.histories, exact[:-1], strict=True):
        history.fill(rows)
    loader = PartitionBatchLoader(batcher, batch_parts, generator=torch.Generator().manual_seed(0))
    for batch in loader:
        out = model(x[batch.n_id], batch, iteration=1)
        assert torch.allclose(out, exact[-1][batch.batch_nodes], atol=1e-5)
    assert all(history.rows_pulled > 0 for history in model.histories)


@torch.no_grad()
def test_split_form_is_exact_when_the_batch_reads_no_history(csr):
    batcher, model, x = make_model(csr, "cat", softmax="split")
    exact = model.layerwise_inference(x, PartitionBatchLoader(batcher, 3, shuffle=False))
    batch = batcher.batch(torch.arange(8))
    out = model(x[batch.n_id], batch, iteration=1)
    assert all(history.rows_pulled == 0 for history in model.histories)
    assert torch.allclose(out, exact[-1], atol=1e-5)


@torch.no_grad()
def test_stale_history_changes_the_output(csr):
    batcher, model, x = make_model(csr)
    exact = model.layerwise_inference(x, PartitionBatchLoader(batcher, 8, shuffle=False))
    for history, rows in zip(model.histories, exact[:-1], strict=True):
        history.fill(rows)
        history.grad_norm.uniform_(0.5, 2.0)
    batch = batcher.batch(torch.tensor([1, 4]))
    out = model(x[batch.n_id], batch, iteration=1)
    assert not torch.allclose(out, exact[-1][batch.batch_nodes], atol=1e-3)


def test_halo_rows_carry_their_normalised_criterion(csr):
    batcher, model, x = make_model(csr, criterion="persistence")
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    batch = batcher.batch(torch.tensor([0, 5]))
    history = model.histories[0]
    history.push(batch.halo_nodes[:3], torch.zeros(3, history.dim), iteration=6)
    fresh = torch.randn(batch.batch_size, history.dim)
    inp = model.next_input(0, model.exact_input(0, x[batch.n_id], batch), fresh, batch,
                           iteration=10)
    assert inp.staleness[: batch.batch_size].eq(0).all()
    persistence = history.persistence(torch.arange(NUM_NODES), 10).float()
    expected = torch.log1p(history.persistence(batch.halo_nodes, 10) / persistence.mean())
    assert torch.allclose(inp.staleness[batch.batch_size:], expected)


def test_drop_halo_removes_exactly_the_marked_rows_and_their_edges():
    # targets 0, 1; halo rows 2, 3, 4; drop halo row 3 (keep[1] is False)
    edge_index = torch.tensor([[2, 3, 4, 1, 3, 0], [0, 0, 1, 0, 1, 1]])
    kept, dropped = drop_halo(edge_index, 2, torch.tensor([True, False, True]))
    assert kept.tolist() == [0, 2]
    assert dropped.tolist() == [[2, 3, 1, 0], [0, 1, 0, 1]]


def test_persistence_dropping_leaves_out_exactly_the_halo_above_threshold(csr):
    batcher, model, x = make_model(csr, persistence_threshold=5)
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim), iteration=0)
    batch = batcher.batch(torch.tensor([2, 3]))
    recent = batch.halo_nodes[::2]
    model.histories[0].push(recent, torch.zeros(recent.numel(), 16), iteration=7)
    layer_input = model.exact_input(0, x[batch.n_id], batch)
    inp = model.next_input(0, layer_input, torch.randn(batch.batch_size, 16), batch,
                           iteration=12)

    assert torch.equal(inp.n_id, torch.cat([batch.batch_nodes, recent]))
    global_edges = inp.n_id[inp.edge_index]
    original = batch.n_id[batch.edge_index]
    kept = torch.isin(original[0], torch.cat([batch.batch_nodes, recent]))
    assert torch.equal(global_edges, original[:, kept])
    assert torch.equal(inp.x[batch.batch_size:], model.histories[0].pull(recent))
