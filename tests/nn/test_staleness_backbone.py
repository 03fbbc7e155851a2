import pytest
import torch

from visagnn.nn.backbone import LayerInput
from visagnn.nn.staleness_backbone import StalenessGATBackbone

NUM_NODES = 240


@pytest.fixture(autouse=True)
def seeded():
    """Tests draw from the global generator; seed it so each test sees the same draws in any
    order."""
    torch.manual_seed(0)


def make_backbone(edge_index, **kwargs):
    torch.manual_seed(0)
    degree = torch.bincount(edge_index[1], minlength=NUM_NODES)
    return StalenessGATBackbone(16, 8, 5, degree, num_layers=3, heads=2, out_heads=2,
                                dropout=0.0, **kwargs)


def stale_input(edge_index, width, num_targets=100):
    staleness = torch.zeros(NUM_NODES)
    staleness[num_targets:] = torch.rand(NUM_NODES - num_targets) * 3
    return LayerInput(torch.randn(NUM_NODES, width), edge_index, torch.arange(NUM_NODES),
                      num_targets, staleness)


@pytest.mark.parametrize("augment, width", [("cat", 17), ("sum", 16), (None, 16)])
def test_hidden_layers_read_one_more_channel_only_with_cat(edge_index, augment, width):
    backbone = make_backbone(edge_index, augment=augment)
    assert backbone.convs[0].in_channels == 16
    assert [conv.in_channels for conv in backbone.convs[1:]] == [width, width]
    assert backbone.hidden_dims == [16, 16]
    out = backbone.layer(1, stale_input(edge_index, 16))
    assert out.shape == (NUM_NODES, 16)


def test_gradients_reach_beta_and_staleness_weight(edge_index):
    backbone = make_backbone(edge_index, augment="sum")
    backbone.layer(1, stale_input(edge_index, 16)).pow(2).sum().backward()
    assert backbone.convs[1].beta.grad.abs().gt(0).all()
    assert backbone.augments[0].weight.weight.grad.abs().gt(0).all()


@torch.no_grad()
@pytest.mark.parametrize("softmax", ["split", "joint"])
def test_without_staleness_the_input_is_all_fresh(edge_index, softmax):
    backbone = make_backbone(edge_index, augment="cat", softmax=softmax).eval()
    inp = stale_input(edge_index, 16)
    without = backbone.layer(1, LayerInput(inp.x, inp.edge_index, inp.n_id, inp.num_targets))
    all_fresh = LayerInput(inp.x, inp.edge_index, inp.n_id, NUM_NODES, torch.zeros(NUM_NODES))
    assert torch.equal(without, backbone.layer(1, all_fresh))
    assert not torch.allclose(without, backbone.layer(1, inp))


@torch.no_grad()
def test_joint_form_with_zero_staleness_ignores_where_rows_came_from(edge_index):
    backbone = make_backbone(edge_index, augment="cat", softmax="joint").eval()
    inp = stale_input(edge_index, 16)
    without = backbone.layer(1, LayerInput(inp.x, inp.edge_index, inp.n_id, inp.num_targets))
    zero = LayerInput(inp.x, inp.edge_index, inp.n_id, inp.num_targets, torch.zeros(NUM_NODES))
    assert torch.equal(without, backbone.layer(1, zero))


@torch.no_grad()
def test_no_attention_ignores_staleness_in_the_attention(edge_index):
    backbone = make_backbone(edge_index, attention=False, augment=None).eval()
    inp = stale_input(edge_index, 16)
    fresh = LayerInput(inp.x, inp.edge_index, inp.n_id, inp.num_targets)
    assert torch.equal(backbone.layer(1, fresh), backbone.layer(1, inp))


@torch.no_grad()
def test_the_input_epoch_sets_the_attention_decay(edge_index):
    backbone = make_backbone(edge_index, augment=None).eval()
    inp = stale_input(edge_index, 16)
    later = LayerInput(inp.x, inp.edge_index, inp.n_id, inp.num_targets, inp.staleness, epoch=5)
    conv = backbone.convs[1]
    centrality = backbone.centrality[inp.n_id]
    historical = torch.arange(NUM_NODES) >= inp.num_targets
    expected = torch.nn.functional.elu(conv(inp.x, inp.edge_index, staleness=inp.staleness,
                                            centrality=centrality, historical=historical,
                                            epoch=5))
    assert torch.equal(backbone.layer(1, later), expected)
    assert not torch.allclose(backbone.layer(1, later), backbone.layer(1, inp))


def test_repr(edge_index):
    backbone = make_backbone(edge_index, augment="sum")
    assert repr(backbone).startswith("StalenessGATBackbone(16, 5, num_layers=3, heads=2")
    with pytest.raises(ValueError, match="augment"):
        make_backbone(edge_index, augment="product")
