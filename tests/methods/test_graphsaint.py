import json
import math

import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.cli import main
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, make_options, resolve_config
from visagnn.methods.graphsaint import GraphSAINTOptions
from visagnn.nn.full_graph import FullGraphModel
from visagnn.run.train import run

SMALL = {"num_roots": 20, "walk_length": 2, "sample_coverage": 20}
"""A sampler for the 400-node community graph (128 training nodes: 4 steps an epoch)."""


@pytest.fixture
def graph_path(tmp_path):
    return write_community_graph(tmp_path / "communities.pt")


@pytest.fixture
def method(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "graphsaint", root=str(tmp_path),
                            hidden_channels=16, dropout=0.0)
    method = create_method(load_dataset(graph_path), config, SMALL)
    method.prepare()
    return method


def test_a_step_trains_on_the_induced_subgraph_with_the_aggregator_weights(method):
    seen = []
    layer = method.model.backbone.layer
    method.model.backbone.layer = lambda index, inp: seen.append(inp) or layer(index, inp)
    subgraph = method.sampler.sample()
    loss = method.train_step(subgraph)
    assert math.isfinite(loss) and len(seen) == 2
    weights = method.normalization.aggregator_weight[subgraph.edge_id]
    edge_index, edge_weight = method.normalization.weighted_edges(subgraph,
                                                                  method.inv_sqrt_degree)
    for inp in seen:
        assert inp.num_targets == subgraph.num_nodes == inp.x.size(0)
        assert torch.equal(inp.edge_index, edge_index)
        assert torch.equal(inp.edge_weight, edge_weight)
    assert torch.equal(edge_index[:, : subgraph.num_edges], subgraph.edge_index)
    assert weights.min() >= 1  # C_v >= C_{u,v}


@torch.no_grad()
def test_prediction_is_the_exact_full_graph_gcn(method):
    data = method.dataset.data
    method.model.eval()
    full = FullGraphModel(method.model.backbone)(data.x, data.edge_index)
    assert method.inference_loader.batcher.num_parts == 10  # 400 nodes, batches of 20 × 2
    assert torch.allclose(method.predict(), full, atol=1e-5)


def test_graphsaint_learns(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "graphsaint", root=str(tmp_path), epochs=40,
                            hidden_channels=32, lr=0.01)
    result = run(config, SMALL, progress=False)
    summary = result.summary
    assert summary["status"] == "ok" and summary["test"] > 0.8
    assert result.records[-1]["loss"] < result.records[0]["loss"]
    options = summary["options"]
    num_train = int(load_dataset(graph_path).data.train_mask.sum())
    assert options["steps_per_epoch"] == math.ceil(num_train / (20 * 2)) == 4
    presampled = options["presampled_subgraphs"] * options["mean_subgraph_nodes"]
    assert 20 * num_train <= presampled < 20 * num_train + 20 * 3  # stops at the coverage


def test_graphsaint_runs_through_the_command_line(tmp_path, capsys):
    main(["run", "--dataset", "synthetic", "--method", "graphsaint", "--epochs", "2",
          "--threads", "1", "--out", str(tmp_path / "out"), "--quiet"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["method"], summary["status"], summary["epochs"]) == ("graphsaint", "ok", 2)
    records = [json.loads(line) for line in (tmp_path / "out" / "epochs.jsonl").open()]
    assert all(math.isfinite(record["loss"]) for record in records)
    options = summary["options"]
    # 5,000 training nodes over a budget of 2,000 roots × 2 hops
    assert (options["num_roots"], options["walk_length"], options["steps_per_epoch"]) == (
        2000, 2, 2)
    assert 0 < options["mean_subgraph_nodes"] <= 2000 * 3


@pytest.mark.parametrize("field", ["num_roots", "walk_length", "sample_coverage"])
def test_options_name_the_bad_field(field, capsys):
    with pytest.raises(ValueError, match=f"GraphSAINTOptions.{field} must be >= 1, got 0"):
        GraphSAINTOptions(**{field: 0})
    flag = "--" + field.replace("_", "-")
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "graphsaint", flag, "0", "--quiet"])
    assert exit_info.value.code == 2
    assert f"{flag} must be >= 1, got 0" in capsys.readouterr().err


def test_defaults_follow_the_official_configurations():
    assert make_options("graphsaint", {}) == GraphSAINTOptions(2000, 2, 50)
    assert make_options("graphsaint", {}, "reddit") == GraphSAINTOptions(2000, 4, 50)
    assert make_options("graphsaint", {}, "ogbn-products") == GraphSAINTOptions(20000, 3, 50)
    reddit = resolve_config("reddit", "graphsaint")
    assert (reddit.lr, reddit.dropout, reddit.epochs, reddit.hidden_channels) == (
        0.01, 0.1, 30, 256)
    assert resolve_config("ogbn-products", "graphsaint").lr == 0.01
