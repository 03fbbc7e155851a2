import pytest
import torch
from torch_geometric.nn import GATConv

from visagnn.nn.staleness_attention import StalenessAttentionConv

NUM_NODES = 240


@pytest.fixture(autouse=True)
def seeded():
    """Tests draw from the global generator; seed it so each test sees the same draws in any
    order."""
    torch.manual_seed(0)


def paired_convs(in_channels, out_channels, heads, concat, add_self_loops, softmax):
    torch.manual_seed(0)
    gat = GATConv(in_channels, out_channels, heads, concat=concat, add_self_loops=add_self_loops)
    conv = StalenessAttentionConv(in_channels, out_channels, heads, concat=concat,
                                  add_self_loops=add_self_loops, softmax=softmax)
    with torch.no_grad():
        for name in ("att_src", "att_dst", "bias"):
            getattr(conv, name).copy_(getattr(gat, name))
        conv.lin.weight.copy_(gat.lin.weight)
        gat.bias.normal_()
        conv.bias.copy_(gat.bias)
    return gat.eval(), conv.eval()


@pytest.mark.parametrize("heads", [1, 4])
@pytest.mark.parametrize("concat", [True, False])
@pytest.mark.parametrize("add_self_loops", [True, False])
def test_zero_staleness_equals_gatconv(edge_index, heads, concat, add_self_loops):
    gat, conv = paired_convs(16, 8, heads, concat, add_self_loops, "joint")
    x = torch.randn(NUM_NODES, 16)
    historical = torch.rand(NUM_NODES) < 0.5
    expected = gat(x, edge_index)
    assert torch.allclose(conv(x, edge_index), expected, atol=1e-6, rtol=0)
    zero = conv(x, edge_index, staleness=torch.zeros(NUM_NODES),
                centrality=torch.randn(NUM_NODES), historical=historical, epoch=3)
    assert torch.allclose(zero, expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("heads", [1, 4])
@pytest.mark.parametrize("add_self_loops", [True, False])
def test_split_softmax_without_history_equals_gatconv(edge_index, heads, add_self_loops):
    gat, conv = paired_convs(16, 8, heads, True, add_self_loops, "split")
    x = torch.randn(NUM_NODES, 16)
    out = conv(x, edge_index, staleness=torch.zeros(NUM_NODES),
               centrality=torch.zeros(NUM_NODES), historical=torch.zeros(NUM_NODES, dtype=bool))
    assert torch.allclose(out, gat(x, edge_index), atol=1e-6, rtol=0)


def star_attention(conv, staleness, degree_offset, softmax="joint", edge=0):
    """Attention of target 0 on its four neighbours 1..4 (edge ``k`` comes from neighbour
    ``k + 1``; all of them with ``edge=None``); neighbours 1 and 2 are historical, and 1 has
    the staleness."""
    edge_index = torch.tensor([[1, 2, 3, 4], [0, 0, 0, 0]])
    x = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
    s = torch.zeros(5)
    s[1] = staleness
    centrality = torch.zeros(5)
    centrality[1] = degree_offset
    historical = torch.zeros(5, dtype=torch.bool)
    historical[[1, 2]] = True
    conv.softmax = softmax
    captured = {}
    hook = conv.register_edge_update_forward_hook(
        lambda module, inputs, alpha: captured.setdefault("alpha", alpha))
    conv(x, edge_index, staleness=s, centrality=centrality, historical=historical, epoch=1)
    hook.remove()
    return captured["alpha"] if edge is None else captured["alpha"][edge]


@torch.no_grad()
def test_penalty_lowers_attention_monotonically_in_staleness():
    conv = StalenessAttentionConv(6, 4, heads=2, add_self_loops=False).eval()
    weights = [star_attention(conv, s, 0.0) for s in (0.0, 0.5, 1.0, 2.0, 4.0)]
    for before, after in zip(weights, weights[1:], strict=False):
        assert (after < before).all()


@torch.no_grad()
def test_penalty_lowers_high_degree_neighbour_more():
    conv = StalenessAttentionConv(6, 4, heads=2, add_self_loops=False).eval()
    fresh = star_attention(conv, 0.0, 0.0)
    low_degree = star_attention(conv, 2.0, -3.0)
    high_degree = star_attention(conv, 2.0, 3.0)
    assert (high_degree < low_degree).all() and (low_degree < fresh).all()


@torch.no_grad()
def test_split_penalty_acts_within_the_historical_branch():
    conv = StalenessAttentionConv(6, 4, heads=1, add_self_loops=False).eval()
    assert (star_attention(conv, 2.0, 0.0, "split") < star_attention(conv, 0.0, 0.0, "split")).all()


@torch.no_grad()
def test_joint_softmax_moves_mass_to_fresh_neighbours_and_split_cannot():
    conv = StalenessAttentionConv(6, 4, heads=2, add_self_loops=False).eval()
    fresh_share = {form: [star_attention(conv, s, 0.0, form, edge=None)[2:].sum(0)
                          for s in (0.0, 1.0, 3.0)] for form in ("joint", "split")}
    joint = fresh_share["joint"]
    assert (joint[1] > joint[0]).all() and (joint[2] > joint[1]).all()
    for share in fresh_share["split"]:  # the fresh branch keeps its 2 of 4 edges, always
        assert torch.allclose(share, torch.full((2,), 0.5))


@torch.no_grad()
def test_split_softmax_gives_each_branch_its_share_of_the_neighbours():
    conv = StalenessAttentionConv(6, 4, heads=3, add_self_loops=False, softmax="split").eval()
    # target 0: neighbours 1, 2 fresh, 3, 4, 5 historical; target 1: neighbour 0 fresh only
    edge_index = torch.tensor([[1, 2, 3, 4, 5, 0], [0, 0, 0, 0, 0, 1]])
    historical = torch.tensor([False, False, False, True, True, True])
    captured = {}
    conv.register_edge_update_forward_hook(
        lambda module, inputs, alpha: captured.setdefault("alpha", alpha))
    conv(torch.randn(6, 6), edge_index, staleness=torch.rand(6) * historical,
         centrality=torch.randn(6), historical=historical)
    alpha = captured["alpha"]
    assert torch.allclose(alpha[:2].sum(0), torch.full((3,), 2 / 5))
    assert torch.allclose(alpha[2:5].sum(0), torch.full((3,), 3 / 5))
    assert torch.allclose(alpha[5], torch.ones(3))


def test_gradient_reaches_beta(edge_index):
    conv = StalenessAttentionConv(16, 8, heads=4)
    x = torch.randn(NUM_NODES, 16)
    staleness = torch.rand(NUM_NODES)
    out = conv(x, edge_index, staleness=staleness, centrality=torch.randn(NUM_NODES), epoch=2)
    out.pow(2).sum().backward()
    assert conv.beta.grad is not None and conv.beta.grad.abs().gt(0).all()


def test_penalty_decays_with_epoch(edge_index):
    conv = StalenessAttentionConv(16, 8, heads=2).eval()
    x = torch.randn(NUM_NODES, 16)
    args = dict(staleness=torch.rand(NUM_NODES) * 3, centrality=torch.randn(NUM_NODES))
    fresh = conv(x, edge_index)
    gaps = [(conv(x, edge_index, **args, epoch=t) - fresh).abs().max() for t in (1, 10, 1000)]
    assert gaps[0] > gaps[1] > gaps[2]


def test_shapes_repr_and_reset(edge_index):
    conv = StalenessAttentionConv(256, 256, heads=4)
    assert repr(conv) == "StalenessAttentionConv(256, 256, heads=4)"
    assert conv(torch.randn(NUM_NODES, 256), edge_index).shape == (NUM_NODES, 1024)
    mean = StalenessAttentionConv(16, 3, heads=4, concat=False, beta=0.5)
    assert mean(torch.randn(NUM_NODES, 16), edge_index).shape == (NUM_NODES, 3)
    with torch.no_grad():
        mean.beta.fill_(7.0)
    mean.reset_parameters()
    assert torch.equal(mean.beta, torch.full((4,), 0.5))


def test_staleness_needs_centrality(edge_index):
    conv = StalenessAttentionConv(16, 8)
    with pytest.raises(ValueError, match="centrality"):
        conv(torch.randn(NUM_NODES, 16), edge_index, staleness=torch.zeros(NUM_NODES))
    with pytest.raises(ValueError, match="softmax"):
        StalenessAttentionConv(16, 8, softmax="double")
