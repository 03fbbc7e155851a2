import pytest
import torch
import torch.nn.functional as F

from visagnn.graph.batch import SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import layer_histories
from visagnn.nn.backbone import GATBackbone, LayerInput

NUM_NODES = 240


class RecordingPolicy(HaloPolicy):
    """GAS, noting what the history held when each backward hook reached the policy."""

    def __init__(self):
        self.seen = []

    def after_backward(self, index, nodes, grad_norm):
        self.seen.append((index, self.histories[index].grad_norm[nodes].clone(), grad_norm))


def setup(csr, policy):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    batcher = SubgraphBatcher(csr.permute(partition.perm), partition)
    backbone = GATBackbone(16, 4, 5, num_layers=3, heads=2, dropout=0.0)
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims), policy)
    for history in model.histories:
        history.fill(torch.randn(NUM_NODES, history.dim))
    return batcher.batch(torch.tensor([1, 6])), model, torch.randn(NUM_NODES, 16)


def test_gas_policy_reads_the_halo_rows_as_they_are(csr):
    batch, model, x = setup(csr, HaloPolicy())
    fresh = torch.randn(batch.batch_size, 8)
    inp = LayerInput(x[batch.n_id], batch.edge_index, batch.n_id, batch.batch_size)
    out = model.halo_policy.next_input(0, inp, fresh, batch, Clock(3))
    assert torch.equal(out.x, torch.cat([fresh, model.histories[0].embedding[batch.halo_nodes]]))
    assert torch.equal(out.edge_index, batch.edge_index) and out.staleness is None
    assert model.halo_policy.epoch_extras() == {}


def test_gas_policy_steps_on_the_whole_batch(csr):
    batch, model, _ = setup(csr, HaloPolicy())
    train_rows = torch.tensor([0, 3])
    assert model.halo_policy.step_batch(batch, train_rows) == (batch, train_rows, None)


class HistoryReadingPolicy(HaloPolicy):
    """GAS, noting the batch's rows of each history before the step pushes its own."""

    def __init__(self):
        self.read = []

    def before_push(self, index, batch):
        self.read.append(self.histories[index].embedding[batch.batch_nodes].clone())


def test_the_policy_sees_the_rows_a_push_replaces_before_the_push(csr):
    policy = HistoryReadingPolicy()
    batch, model, x = setup(csr, policy)
    before = [history.embedding[batch.batch_nodes].clone() for history in model.histories]
    model(x[batch.n_id], batch, Clock(1))
    for history, read, earlier in zip(model.histories, policy.read, before, strict=True):
        assert torch.equal(read, earlier)
        assert not torch.equal(history.embedding[batch.batch_nodes], earlier)  # pushed after


def test_the_policy_sees_the_gradient_norms_after_the_history_recorded_them(csr):
    policy = RecordingPolicy()
    batch, model, x = setup(csr, policy)
    out = model(x[batch.n_id], batch, Clock(1))
    F.cross_entropy(out, torch.randint(5, (batch.batch_size,))).backward()
    assert sorted(index for index, _, _ in policy.seen) == [0, 1]
    for index, stored, shown in policy.seen:
        assert torch.equal(stored, shown) and shown.gt(0).any()
        assert torch.equal(model.histories[index].grad_norm[batch.batch_nodes], shown)


def test_histories_must_match_the_hidden_widths(csr):
    backbone = GATBackbone(16, 4, 5, num_layers=3, heads=2)
    with pytest.raises(ValueError, match=r"widths \[8\] for hidden layers of widths \[8, 8\]"):
        HistoricalModel(backbone, layer_histories(NUM_NODES, [8]), HaloPolicy())
