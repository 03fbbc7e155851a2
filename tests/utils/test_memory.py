import sys

import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, resolve_config
from visagnn.run.train import run
from visagnn.utils.memory import (
    PeakMemory,
    SavedTensorMeter,
    WorkspaceMeter,
    available_memory_mb,
    tensors_mb,
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_an_allocation_shows_in_the_peak_and_in_what_was_added():
    memory = PeakMemory(torch.device("cpu"))
    memory.reset()
    before = memory.added_mb()
    block = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
    assert float(block.sum()) == block.numel()
    assert memory.added_mb() >= before + 60
    assert memory.peak_mb() >= memory.baseline_mb + 60
    del block
    memory.reset()
    assert memory.added_mb() < 60  # the peak starts again from what is resident now


def test_available_memory_is_positive_on_cpu():
    assert available_memory_mb(torch.device("cpu")) > 0


def test_the_meter_counts_what_autograd_saves_until_the_backward_frees_it():
    weight = torch.nn.Parameter(torch.randn(8, 4))
    meter = SavedTensorMeter(exclude=[weight])
    x = torch.randn(100, 8)
    with meter.measuring():
        hidden = torch.relu(x @ weight)  # mm saves x (and the weight), relu its output
        assert meter.live_bytes == x.nbytes + hidden.nbytes
        hidden.sum().backward()
    assert meter.live_bytes == 0 and meter.peak_bytes == x.nbytes + hidden.nbytes
    view = x[:10]
    assert tensors_mb([x, view, weight]) == (x.nbytes + weight.nbytes) / 2**20


def test_the_workspace_is_what_the_block_allocates_alive_at_once():
    found, out = torch.zeros(1000), torch.empty(2)
    meter = WorkspaceMeter()
    with meter:
        first = torch.empty(1000)  # 4,000 bytes
        second = torch.empty(2000)  # 8,000 bytes: 12,000 alive
        del first
        third = torch.empty(500)  # 10,000 alive
        found.add_(1)  # in place, a view, an out= argument: no new storage
        view = found[:10]
        torch.index_select(found, 0, torch.tensor([3, 4]), out=out)
    assert meter.peak_bytes == {"cpu": 12_000} and meter.live_bytes == {"cpu": 10_000}
    del second, third, view
    assert meter.live_bytes == {"cpu": 0} and meter.peak_mb() == 12_000 / 2**20


def test_the_workspace_counts_the_backward_pass_and_frees_what_autograd_frees():
    weight = torch.randn(300, 200, requires_grad=True)
    inputs = torch.randn(100, 300)
    meter = WorkspaceMeter()
    with meter:
        loss = torch.relu(inputs @ weight).sum()
        assert meter.peak_bytes["cpu"] == 2 * 100 * 200 * 4  # the product and its relu
        loss.backward()
    assert meter.live_bytes["cpu"] == weight.grad.nbytes + loss.nbytes  # the rest freed
    assert meter.peak_bytes["cpu"] >= weight.grad.nbytes + 100 * 200 * 4  # + relu's gradient


def test_the_breakdown_matches_the_tensors_byte_sizes(tmp_path):
    dataset = load_dataset(write_community_graph(tmp_path / "graph.pt"))
    config = resolve_config(str(tmp_path / "graph.pt"), "gas", num_parts=8, batch_parts=2,
                            hidden_channels=4, heads=2, epochs=1)
    method = create_method(dataset, config)
    method.prepare()
    method.train_epoch(1)
    data, parted = dataset.data, method.parted
    cached = [t for batch in method.inference_loader._fixed for t in (batch.n_id, batch.edge_index)]
    adam = [value for state in method.optimizer.state.values() for value in state.values()]
    expected_bytes = {
        "features_mb": data.x.nbytes + parted.x.ids.nbytes,  # read through the partition order
        "graph_mb": sum(t.nbytes for t in [data.edge_index, parted.graph.rowptr, parted.graph.col,
                                            method.loader.batcher.part_of_node, *cached]),
        "histories_mb": sum(history.nbytes for history in method.model.histories),
        "model_mb": sum(t.nbytes for t in [*method.model.parameters(), *adam]),
    }
    assert method.memory_breakdown() == {key: size / 2**20 for key, size in expected_bytes.items()}
    assert expected_bytes["histories_mb"] == 400 * (8 * 4 + 8 + 4 + 1)  # rows, state


def test_every_summary_carries_the_breakdown(tmp_path):
    path = write_community_graph(tmp_path / "graph.pt")
    memory = {}
    for dtype in ("float32", "float16"):
        config = resolve_config(str(path), "gas", num_parts=8, batch_parts=2, hidden_channels=4,
                                heads=2, epochs=1, history_dtype=dtype)
        memory[dtype] = run(config, progress=False).summary["memory"]
    assert set(memory["float32"]) == {"features_mb", "graph_mb", "histories_mb", "model_mb",
                                      "activations_mb", "peak_mb"}
    assert memory["float32"]["activations_mb"] > 0 and memory["float32"]["peak_mb"] > 0
    rows_mb = 400 * 8 * 2 / 2**20  # one hidden layer of 2 heads x 4 channels, 2 bytes saved
    assert memory["float32"]["histories_mb"] - memory["float16"]["histories_mb"] == rows_mb


@pytest.mark.parametrize("method, extra", [
    ("lmc", lambda policy: [*policy.grad_histories, policy.output_history]),
    ("visagnn-sum", lambda policy: [policy.previous_logits.previous]),
])
def test_the_histories_of_a_policy_are_counted_too(tmp_path, method, extra):
    dataset = load_dataset(write_community_graph(tmp_path / "graph.pt"))
    config = resolve_config(str(tmp_path / "graph.pt"), method, num_parts=8, batch_parts=2,
                            hidden_channels=4, heads=2, epochs=1)
    options = {"loss": True, "loss_target": "train"} if method == "visagnn-sum" else {}
    built = create_method(dataset, config, options)
    own = extra(built.policy)
    histories = [*built.model.histories, *own]
    assert own and built.memory_breakdown()["histories_mb"] == sum(
        history.nbytes for history in histories) / 2**20
