import pytest
import torch
import torch.nn.functional as F

from tests.graphs import write_community_graph
from visagnn.batch import SubgraphBatcher
from visagnn.clock import Clock
from visagnn.history import layer_histories
from visagnn.methods import resolve_config
from visagnn.methods.refresh import ReFreshHalo, ReFreshOptions
from visagnn.metis import partition_graph
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.nn.halo_policy import HaloPolicy
from visagnn.nn.historical_model import HistoricalModel
from visagnn.train import run

NUM_NODES = 240


@pytest.fixture
def setup(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    backbone = GATBackbone(16, 8, 5, num_layers=3, heads=2, dropout=0.0)
    x = torch.randn(NUM_NODES, 16)
    return batcher, backbone, x


def make_model(backbone, staleness_threshold, grad_quantile):
    policy = ReFreshHalo(ReFreshOptions(staleness_threshold, grad_quantile))
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                            policy).eval()
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    return model


def train_step(model, batch, x, iteration):
    out = model(x[batch.n_id], batch, Clock(iteration))
    F.cross_entropy(out, torch.randint(5, (batch.batch_size,))).backward()


def test_admits_the_rows_at_most_at_their_batch_quantile(setup):
    batcher, backbone, x = setup
    model = make_model(backbone, staleness_threshold=200, grad_quantile=0.75)
    batch = batcher.batch(torch.tensor([0, 1]))
    train_step(model, batch, x, iteration=1)
    outside = torch.ones(NUM_NODES, dtype=torch.bool)
    outside[batch.batch_nodes] = False
    for history, admitted in zip(model.histories, model.halo_policy.admitted, strict=True):
        norms = history.grad_norm[batch.batch_nodes]
        assert norms.gt(0).all()
        expected = norms <= torch.quantile(norms, 0.75)
        assert torch.equal(admitted[batch.batch_nodes], expected)
        assert 0 < int((~expected).sum()) <= batch.batch_size // 4 + 1
        assert admitted[outside].all()


def test_evicts_exactly_the_rows_past_either_threshold(setup):
    batcher, backbone, x = setup
    model = make_model(backbone, staleness_threshold=5, grad_quantile=0.75)
    train_step(model, batcher.batch(torch.tensor([0, 1])), x, iteration=1)
    batch = batcher.batch(torch.tensor([2, 3]))
    halo, iteration = batch.halo_nodes, 5  # T_j = 5 - 0 (filled) or 5 - 1 (pushed) <= 5
    for index, history in enumerate(model.histories):
        history.last_push[halo[::3]] = -1  # T_j = 6 > 5
        old = iteration - history.last_push[halo] > 5
        unstable = ~model.halo_policy.admitted[index][halo]
        expected_evicted = old | unstable
        assert old.any() and unstable.any() and (~expected_evicted).any()

        fresh = torch.randn(batch.batch_size, history.dim)
        rows = x if index == 0 else model.histories[index - 1].embedding
        layer_input = LayerInput(rows[batch.n_id], batch.edge_index, batch.n_id,
                                 batch.batch_size)
        inp = model.halo_policy.next_input(index, layer_input, fresh, batch, Clock(iteration))

        kept = halo[~expected_evicted]
        assert torch.equal(inp.n_id, torch.cat([batch.batch_nodes, kept]))
        assert torch.equal(inp.x, torch.cat([fresh, history.embedding[kept]]))
        evicted = set(halo[expected_evicted].tolist())
        edges = {(s, t) for s, t in batch.n_id[batch.edge_index].t().tolist() if s not in evicted}
        assert set(map(tuple, inp.n_id[inp.edge_index].t().tolist())) == edges
        assert inp.edge_index.size(1) == len(edges)


@torch.no_grad()
def test_without_evictions_it_is_gas(setup):
    batcher, backbone, x = setup
    model = make_model(backbone, staleness_threshold=10**6, grad_quantile=1.0)
    with torch.enable_grad():
        train_step(model, batcher.batch(torch.tensor([0, 1])), x, iteration=1)
    assert all(admitted.all() for admitted in model.halo_policy.admitted)
    gas = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                          HaloPolicy()).eval()
    for ours, theirs in zip(model.histories, gas.histories, strict=True):
        theirs.fill(ours.embedding)
    batch = batcher.batch(torch.tensor([2, 5]))
    expected = gas(x[batch.n_id], batch, Clock(2))
    assert torch.allclose(model(x[batch.n_id], batch, Clock(2)), expected, atol=1e-6)
    assert model.halo_policy.halo_rows_evicted == 0


@pytest.mark.parametrize("backbone", ["gat", "gcn"])
def test_refresh_learns_an_unseen_graph(tmp_path, backbone):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "refresh", root=str(tmp_path), epochs=30, num_parts=8,
                            batch_parts=2, hidden_channels=8, heads=2, lr=0.01, backbone=backbone)
    result = run(config, {"staleness_threshold": 3}, progress=False)
    assert result.summary["status"] == "ok"
    assert result.summary["test"] > 0.7  # four classes: chance is 0.25
    fractions = [record["evicted_fraction"] for record in result.records]
    assert all(0 < fraction < 1 for fraction in fractions)
