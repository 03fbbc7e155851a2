import pytest
import torch
import torch.nn.functional as F
from torch_geometric.nn import GATConv

from visagnn.nn.backbone import GATBackbone, LayerInput

NUM_NODES = 240


@torch.no_grad()
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_gat_backbone_is_a_stack_of_pyg_gatconv(edge_index, num_layers):
    torch.manual_seed(0)
    backbone = GATBackbone(16, 8, 5, num_layers=num_layers, heads=3, out_heads=2).eval()
    x = torch.randn(NUM_NODES, 16)
    h, reference = x, x
    for index in range(num_layers):
        h = backbone.layer(index, LayerInput(h, edge_index, torch.arange(NUM_NODES), NUM_NODES))
        last = index == num_layers - 1
        conv = GATConv(16 if index == 0 else 24, 5 if last else 8, 2 if last else 3,
                       concat=not last)
        conv.load_state_dict(backbone.convs[index].state_dict())
        reference = conv(reference, edge_index)
        reference = reference if last else F.elu(reference)
        assert torch.allclose(h, reference, atol=1e-6)
    assert h.shape == (NUM_NODES, 5)
    assert backbone.hidden_dims == [24] * (num_layers - 1)


def test_dropout_acts_only_in_training(edge_index):
    torch.manual_seed(0)
    backbone = GATBackbone(16, 8, 5, heads=2, dropout=0.5)
    inp = LayerInput(torch.randn(NUM_NODES, 16), edge_index, torch.arange(NUM_NODES), NUM_NODES)
    backbone.eval()
    assert torch.equal(backbone.layer(0, inp), backbone.layer(0, inp))
    backbone.train()
    assert not torch.equal(backbone.layer(0, inp), backbone.layer(0, inp))


def test_reset_parameters_and_repr():
    backbone = GATBackbone(16, 8, 5, num_layers=3, heads=2, out_heads=4)
    before = [p.clone() for p in backbone.parameters()]
    backbone.reset_parameters()
    assert any(not torch.equal(a, b) for a, b in zip(before, backbone.parameters(), strict=True))
    assert repr(backbone) == "GATBackbone(16, 5, num_layers=3, heads=2, out_heads=4)"
