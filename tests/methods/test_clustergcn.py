import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.graph.batch import PartitionBatchLoader, SubgraphBatcher
from visagnn.methods import create_method, resolve_config
from visagnn.run.train import run


@pytest.fixture
def graph_path(tmp_path):
    return write_community_graph(tmp_path / "communities.pt")


def test_batch_forward_sees_no_halo(graph_path, tmp_path):
    dataset = load_dataset(graph_path)
    config = resolve_config(str(graph_path), "clustergcn", root=str(tmp_path), num_parts=8,
                            batch_parts=2, hidden_channels=8, heads=2)
    method = create_method(dataset, config)
    seen = []
    layer = method.model.backbone.layer
    method.model.backbone.layer = lambda index, inp: seen.append(inp) or layer(index, inp)
    graph = method.parted.graph
    for batch in PartitionBatchLoader(SubgraphBatcher(graph, method.parted.partition), 2,
                                      generator=torch.Generator().manual_seed(0)):
        seen.clear()
        train_rows = method.train_mask[batch.batch_nodes].nonzero().flatten()
        method.train_step(batch, train_rows, method.feature_rows(method.feature_nodes(batch)))
        assert batch.halo_nodes.numel() > 0 and len(seen) == 2
        inside = set(batch.batch_nodes.tolist())
        expected = sorted((s, t) for s, t in graph.edge_index.t().tolist()
                          if s in inside and t in inside)
        for inp in seen:
            assert inp.x.size(0) == inp.num_targets == batch.batch_size
            global_edges = batch.batch_nodes[inp.edge_index]
            assert sorted(map(tuple, global_edges.t().tolist())) == expected


@pytest.mark.parametrize("backbone", ["gat", "gcn"])
def test_clustergcn_learns(graph_path, tmp_path, backbone):
    config = resolve_config(str(graph_path), "clustergcn", root=str(tmp_path), epochs=40,
                            num_parts=8, batch_parts=2, hidden_channels=8, heads=2, lr=0.01,
                            backbone=backbone)
    result = run(config, progress=False)
    summary = result.summary
    assert summary["status"] == "ok" and summary["test"] > 0.8
    assert result.records[-1]["loss"] < result.records[0]["loss"]
