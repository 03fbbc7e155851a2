import pytest
import torch

from tests.graphs import dense_normalized_adjacency, write_community_graph
from visagnn.methods import resolve_config
from visagnn.methods.sgc import sgc_features
from visagnn.run.train import run

NUM_NODES = 240


@pytest.mark.parametrize("hops", [0, 1, 2, 3])
def test_precomputation_equals_dense_power(edge_index, hops):
    x = torch.randn(NUM_NODES, 6, generator=torch.Generator().manual_seed(0))
    a_hat = dense_normalized_adjacency(edge_index, NUM_NODES)
    expected = torch.linalg.matrix_power(a_hat, hops) @ x.double()
    assert torch.allclose(sgc_features(x, edge_index, hops).double(), expected, atol=1e-5)


def test_paper_defaults_unless_the_user_sets_them():
    config = resolve_config("cora", "sgc")
    assert (config.lr, config.epochs, config.weight_decay, config.dropout) == (0.2, 100, 5e-6, 0.0)
    assert resolve_config("cora", "sgc", lr=0.05).lr == 0.05


def test_sgc_learns_and_reports_precompute_time(tmp_path):
    graph = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(graph), "sgc", root=str(tmp_path), epochs=30)
    summary = run(config, {"hops": 2}, progress=False).summary
    assert summary["status"] == "ok" and summary["test"] > 0.8
    assert summary["options"]["hops"] == 2 and summary["options"]["precompute_s"] >= 0
