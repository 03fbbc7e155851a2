import pytest
import torch
import torch.nn.functional as F

from tests.pulls import count_pulled_rows
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import layer_histories
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.nn.inference import layerwise_inference

NUM_NODES = 240


@pytest.fixture(params=["gat", "gcn"])
def setup(csr, request):
    """A 3-layer historical model over 8 METIS parts, with each backbone."""
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    batcher = SubgraphBatcher(graph, partition)
    backbone = (GATBackbone(16, 8, 5, num_layers=3, heads=2, out_heads=2, dropout=0.5)
                if request.param == "gat"
                else GCNBackbone(16, 12, 5, graph.degree, num_layers=3, dropout=0.5))
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                            HaloPolicy()).eval()
    x = torch.randn(NUM_NODES, 16)
    return graph, batcher, model, x


def full_batch_forward(model, graph, x):
    """Every layer's output on the whole graph at once: the reference for exactness."""
    h, outputs = x, []
    for index in range(model.num_layers):
        h = model.backbone.layer(index, LayerInput(h, graph.edge_index, torch.arange(NUM_NODES),
                                                   NUM_NODES))
        outputs.append(h)
    return outputs


@torch.no_grad()
def test_layerwise_inference_equals_full_batch(setup):
    graph, batcher, model, x = setup
    full = full_batch_forward(model, graph, x)
    loader = PartitionBatchLoader(batcher, 3, shuffle=False)
    layerwise = layerwise_inference(model.backbone, x, loader)
    for exact, computed in zip(full, layerwise, strict=True):
        assert torch.allclose(exact, computed, atol=1e-5)


@torch.no_grad()
@pytest.mark.parametrize("batch_parts", [1, 3, 8])
def test_minibatch_forward_is_exact_with_exact_history(setup, batch_parts):
    graph, batcher, model, x = setup
    full = full_batch_forward(model, graph, x)
    for history, exact in zip(model.histories, full[:-1], strict=True):
        history.fill(exact)
    loader = PartitionBatchLoader(batcher, batch_parts, generator=torch.Generator().manual_seed(0))
    for batch in loader:
        out = model(x[batch.n_id], batch, Clock(1))
        assert torch.allclose(out, full[-1][batch.batch_nodes], atol=1e-5)


@torch.no_grad()
def test_one_batch_with_all_parts_reads_no_history(setup):
    graph, batcher, model, x = setup
    full = full_batch_forward(model, graph, x)
    batch = batcher.batch(torch.arange(8))
    pulled = count_pulled_rows(model.histories)
    out = model(x[batch.n_id], batch, Clock(1))
    assert pulled == [0] * len(model.histories)
    assert torch.allclose(out, full[-1], atol=1e-5)


def test_cached_grad_norms_equal_autograd(setup):
    graph, batcher, model, x = setup
    batch = batcher.batch(torch.tensor([2, 5]))
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    labels = torch.randint(5, (batch.batch_size,))

    out = model(x[batch.n_id], batch, Clock(1))
    F.cross_entropy(out, labels).backward()
    recorded = [h.grad_norm[batch.batch_nodes].clone() for h in model.histories]

    hidden = []
    inp = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)
    for index in range(model.num_layers):
        h = model.backbone.layer(index, inp)[: batch.batch_size]
        if index < model.num_layers - 1:
            hidden.append(h)
            halo = model.histories[index].pull(batch.halo_nodes)
            inp = LayerInput(torch.cat([h, halo]), batch.edge_index, batch.n_id,
                             batch.batch_size)
    grads = torch.autograd.grad(F.cross_entropy(h, labels), hidden)
    for got, grad in zip(recorded, grads, strict=True):
        assert torch.allclose(got, grad.norm(dim=-1), atol=1e-6)
        assert got.gt(0).any()


def test_push_writes_in_batch_rows_with_iteration(setup):
    graph, batcher, model, x = setup
    model.train()
    batch = batcher.batch(torch.tensor([0, 7]))
    model(x[batch.n_id], batch, Clock(42))
    for history in model.histories:
        assert history.last_push[batch.batch_nodes].eq(42).all()
        others = torch.ones(NUM_NODES, dtype=torch.bool)
        others[batch.batch_nodes] = False
        assert history.last_push[others].eq(-1).all()


@pytest.mark.parametrize("push_rows", ["train", "clean", "none"])
def test_what_a_training_step_pushes(csr, push_rows):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    backbone = GATBackbone(16, 8, 5, num_layers=3, heads=2, dropout=0.5)
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                            HaloPolicy(), push_rows).train()
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    before = [history.embedding.clone() for history in model.histories]
    x = torch.randn(NUM_NODES, 16)
    batch = batcher.batch(torch.tensor([2, 5]))
    with torch.no_grad():  # the eval-mode rows over the histories as they are
        backbone.eval()
        inp, clean = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id,
                                batch.batch_size), []
        for index, history in enumerate(model.histories):
            out = backbone.layer(index, inp)[: batch.batch_size]
            clean.append(out)
            inp = LayerInput(torch.cat([out, history.embedding[batch.halo_nodes]]),
                             batch.edge_index, batch.n_id, batch.batch_size)
        backbone.train()
    model(x[batch.n_id], batch, Clock(4))
    assert model.backbone.training
    for history, rows, old in zip(model.histories, clean, before, strict=True):
        pushed = history.embedding[batch.batch_nodes]
        if push_rows == "none":
            assert torch.equal(history.embedding, old)
        elif push_rows == "clean":
            assert torch.allclose(pushed, rows, atol=1e-6)
            assert history.last_push[batch.batch_nodes].eq(4).all()
        else:  # the training forward's rows: dropout makes them differ from the clean ones
            assert not torch.allclose(pushed, rows, atol=1e-3)
    with pytest.raises(ValueError, match="push_rows"):
        HistoricalModel(backbone, model.histories, HaloPolicy(), "fresh")


class RefreshSeen(HaloPolicy):
    """Keeps what every exact refresh showed it."""

    def __init__(self):
        self.shown = []

    def after_refresh(self, exact, clock):
        self.shown.append((len(exact), clock.iteration))


def test_the_model_writes_exact_rows_and_halo_rows_and_shows_refreshes_to_the_policy(setup):
    graph, batcher, model, x = setup
    model = HistoricalModel(model.backbone, model.histories, RefreshSeen())
    exact = [torch.randn(NUM_NODES, dim) for dim in model.backbone.hidden_dims]
    exact.append(torch.randn(NUM_NODES, 5))
    model.fill_histories(exact, Clock(0))
    model.refresh_histories([rows + 1 for rows in exact], Clock(6))
    assert model.halo_policy.shown == [(3, 0), (3, 6)]
    for history, rows in zip(model.histories, exact, strict=False):
        assert torch.equal(history.embedding, rows + 1) and history.last_push.eq(6).all()
    halo = torch.tensor([5, 17])
    model.write_halo(halo, [torch.zeros(2, dim) for dim in model.backbone.hidden_dims],
                     Clock(9))
    for history in model.histories:
        assert history.embedding[halo].eq(0).all()
        assert history.persistence(9).eq(0).sum() == 2 and history.persistence(9, halo).eq(0).all()
