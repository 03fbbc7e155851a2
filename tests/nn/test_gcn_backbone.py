import pytest
import torch
from torch_geometric.nn import GCNConv

from tests.graphs import write_community_graph
from visagnn.config import RunConfig
from visagnn.datasets import load_dataset
from visagnn.graph.batch import SubgraphBatcher
from visagnn.graph.partition import partition_graph
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import layer_histories
from visagnn.methods import create_method, resolve_config
from visagnn.nn.backbone import GATBackbone, LayerInput
from visagnn.nn.gcn_backbone import GCNBackbone

NUM_NODES = 240


@pytest.fixture
def setup(csr):
    torch.manual_seed(0)
    partition = partition_graph(csr, num_parts=8)
    graph = csr.permute(partition.perm)
    batcher = SubgraphBatcher(graph, partition)
    backbone = GCNBackbone(16, 12, 5, graph.degree, num_layers=3, dropout=0.5)
    model = HistoricalModel(backbone, layer_histories(NUM_NODES, backbone.hidden_dims),
                            HaloPolicy()).eval()
    return graph, batcher, model, torch.randn(NUM_NODES, 16)


@torch.no_grad()
def test_layers_equal_pyg_gcnconv_on_the_full_graph(setup):
    graph, _, model, x = setup
    h = x
    for index, conv in enumerate(model.backbone.convs):
        reference = GCNConv(conv.in_channels, conv.out_channels)
        reference.lin.weight.copy_(conv.lin.weight)
        reference.bias.copy_(torch.randn_like(conv.bias))
        conv.bias.copy_(reference.bias)
        expected = reference(h, graph.edge_index)
        if index < model.num_layers - 1:
            expected = expected.relu()
        h = model.backbone.layer(
            index, LayerInput(h, graph.edge_index, torch.arange(NUM_NODES), NUM_NODES)
        )
        assert torch.allclose(h, expected, atol=1e-5)


@torch.no_grad()
def test_given_edge_weights_replace_the_normalisation_and_its_self_loops():
    torch.manual_seed(0)
    backbone = GCNBackbone(6, 4, 3, torch.tensor([2, 1, 1, 0]), num_layers=2).eval()
    x = torch.randn(4, 6)
    edge_index = torch.tensor([[1, 2, 3], [0, 0, 1]])
    weight = torch.tensor([0.5, 2.0, 3.0])
    out = backbone.layer(0, LayerInput(x, edge_index, torch.arange(4), 2, edge_weight=weight))
    conv = backbone.convs[0]
    expected = (torch.zeros(4, 4).index_add_(0, edge_index[1],
                                             weight[:, None] * conv.lin(x)[edge_index[0]])
                + conv.bias).relu()
    assert torch.allclose(out, expected, atol=1e-6)
    assert torch.equal(out[3], conv.bias.relu())  # no self-loop: row 3 receives nothing


def test_shapes_and_repr(setup):
    _, _, model, _ = setup
    assert model.backbone.hidden_dims == [12, 12]
    assert repr(model.backbone) == "GCNBackbone(16, 5, num_layers=3, hidden_dims=[12, 12])"


def test_unknown_backbone_names_the_field():
    with pytest.raises(ValueError, match="RunConfig.backbone"):
        RunConfig(backbone="sage")


@pytest.mark.parametrize(("backbone", "expected"), [("gat", GATBackbone), ("gcn", GCNBackbone)])
def test_historical_methods_build_the_configured_backbone(tmp_path, backbone, expected):
    path = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(path), "gas", root=str(tmp_path), num_parts=4, batch_parts=2,
                            backbone=backbone)
    method = create_method(load_dataset(config.dataset), config)
    assert isinstance(method.model.backbone, expected)
