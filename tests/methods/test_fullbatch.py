import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch_geometric.nn import APPNP as PyGAPPNP
from torch_geometric.nn import GATConv, GCNConv

from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, resolve_config
from visagnn.nn.appnp import APPNP
from visagnn.nn.backbone import GATBackbone
from visagnn.nn.full_graph import FullGraphModel
from visagnn.nn.gcn_backbone import GCNBackbone
from visagnn.run.train import run
from visagnn.utils.memory import available_memory_mb

REPO = Path(__file__).parents[2]
NUM_NODES = 240
SMALL = dict(epochs=60, hidden_channels=16, heads=2, lr=0.02)


@pytest.fixture
def graph_path(tmp_path):
    return write_community_graph(tmp_path / "communities.pt")


@torch.no_grad()
def test_gcn_agrees_with_pyg_gcnconv(edge_index):
    torch.manual_seed(0)
    degree = torch.bincount(edge_index[1], minlength=NUM_NODES)
    model = FullGraphModel(GCNBackbone(12, 16, 4, degree, num_layers=2)).eval()
    reference = [GCNConv(12, 16), GCNConv(16, 4)]
    for ours, theirs in zip(model.backbone.convs, reference, strict=True):
        theirs.load_state_dict(ours.state_dict())
    x = torch.randn(NUM_NODES, 12)
    expected = reference[1](F.relu(reference[0](x, edge_index)), edge_index)
    assert torch.allclose(model(x, edge_index), expected, atol=1e-5)


@torch.no_grad()
def test_gat_agrees_with_pyg_gatconv(edge_index):
    torch.manual_seed(0)
    model = FullGraphModel(GATBackbone(12, 8, 4, num_layers=2, heads=3, out_heads=2)).eval()
    reference = [GATConv(12, 8, heads=3), GATConv(24, 4, heads=2, concat=False)]
    for ours, theirs in zip(model.backbone.convs, reference, strict=True):
        theirs.load_state_dict(ours.state_dict())
    x = torch.randn(NUM_NODES, 12)
    expected = reference[1](F.elu(reference[0](x, edge_index)), edge_index)
    assert torch.allclose(model(x, edge_index), expected, atol=1e-5)


@torch.no_grad()
def test_appnp_propagation_agrees_with_pyg_without_dropout(edge_index):
    torch.manual_seed(0)
    model = APPNP(12, 16, 4, propagation_steps=10, alpha=0.1).eval()
    x = torch.randn(NUM_NODES, 12)
    h = model.predict(x)
    expected = PyGAPPNP(K=10, alpha=0.1)(h, edge_index)
    assert torch.allclose(model(x, edge_index), expected, atol=1e-5)


def test_appnp_drops_adjacency_entries_independently_at_every_step(edge_index, monkeypatch):
    """With p = 0.5 each step keeps about half of the entries of Â, never a compounding few."""
    torch.manual_seed(0)
    model = APPNP(12, 16, 4, propagation_steps=6, dropout=0.5).train()
    kept = []
    original = torch.sparse.mm

    def spy(matrix, dense):
        kept.append(float(matrix.values().ne(0).float().mean()))
        return original(matrix, dense)

    monkeypatch.setattr(torch.sparse, "mm", spy)
    model(torch.randn(NUM_NODES, 12), edge_index)
    assert len(kept) == 6 and all(0.4 < share < 0.6 for share in kept)


def test_paper_defaults_take_precedence_over_dataset_defaults_only():
    gcn = resolve_config("cora", "gcn")
    assert (gcn.hidden_channels, gcn.lr, gcn.epochs, gcn.grad_clip) == (16, 0.01, 200, None)
    assert resolve_config("cora", "gcn", hidden_channels=32).hidden_channels == 32
    assert resolve_config("cora", "gas").hidden_channels == 8  # other methods unchanged
    assert resolve_config("cora", "gat").grad_clip is None
    assert resolve_config("cora", "appnp").weight_decay == 5e-3
    assert resolve_config("ogbn-arxiv", "gcn").hidden_channels == 256  # the GAT width 64 x 4


@pytest.mark.parametrize("name", ["gcn", "gat", "appnp"])
def test_full_batch_methods_learn(graph_path, tmp_path, name):
    config = resolve_config(str(graph_path), name, root=str(tmp_path), **SMALL)
    result = run(config, progress=False)
    summary = result.summary
    assert summary["status"] == "ok" and summary["test"] > 0.8
    assert result.records[-1]["loss"] < result.records[0]["loss"]
    assert 0 < summary["options"]["estimated_mb"] < summary["options"]["budget_mb"]


@pytest.mark.parametrize("name", ["gcn", "gat", "appnp"])
def test_a_budget_below_the_estimate_ends_the_run_as_oom(graph_path, tmp_path, name):
    config = resolve_config(str(graph_path), name, root=str(tmp_path), **SMALL)
    summary = run(config, {"memory_budget_mb": 0.01}, progress=False).summary
    assert summary["status"] == "oom" and summary["epochs"] == 0 and summary["test"] is None
    assert "budget" in summary["error"]


def test_cli_reports_oom_and_exits_cleanly(graph_path, tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "visagnn", "run", "--dataset", str(graph_path), "--method", "gat",
         "--root", str(tmp_path), "--memory-budget-mb", "1", "--quiet"],
        capture_output=True, text=True, cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert summary["status"] == "oom" and summary["method"] == "gat"


def test_estimate_grows_with_the_graph(graph_path, tmp_path):
    dataset = load_dataset(graph_path)
    config = resolve_config(str(graph_path), "gat", root=str(tmp_path), **SMALL)
    method = create_method(dataset, config)
    small = method.estimate_mb(1_000, 10_000)
    assert method.estimate_mb(2_000, 20_000) == pytest.approx(2 * small, rel=0.05)


def test_available_memory_is_positive():
    assert available_memory_mb(torch.device("cpu")) > 0
