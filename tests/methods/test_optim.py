import pytest
import torch
from torch import nn

from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.methods import METHODS, create_method, resolve_config
from visagnn.methods.optim import build_optimizer

FIRST_LAYER = {  # the papers that put L2 on the first layer only (GCN, APPNP, FastGCN's code)
    "gcn": lambda model: model.backbone.convs[0],
    "sancus": lambda model: model.convs[0],  # GCN's, over ranks
    "appnp": lambda model: model.lins[0],
    "fastgcn": lambda model: model.convs[0],
}


@pytest.fixture(scope="module")
def graph_path(tmp_path_factory):
    return write_community_graph(tmp_path_factory.mktemp("optim") / "communities.pt")


def ids(parameters):
    return {id(p) for p in parameters}


def build(graph_path, name, options=None):
    config = resolve_config(str(graph_path), name, root=str(graph_path.parent), weight_decay=0.1,
                            shared=dict(num_parts=4, batch_parts=2))
    return create_method(load_dataset(graph_path), config, options)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_weight_decay_reaches_exactly_the_declared_parameters(graph_path, name):
    method = build(graph_path, name)
    everything = ids(method.model.parameters())
    groups = method.optimizer.param_groups
    decayed = ids(next(g for g in groups if g["weight_decay"] == 0.1)["params"])
    rest = set().union(*(ids(g["params"]) for g in groups if g["weight_decay"] == 0.0))
    expected = ids(FIRST_LAYER[name](method.model).parameters()) if name in FIRST_LAYER \
        else everything
    assert decayed == expected and rest == everything - expected
    assert sum(len(g["params"]) for g in groups) == len(everything)


@pytest.mark.parametrize("name", ["visagnn-cat", "visagnn-sum"])
def test_visagnn_without_beta_decay_exempts_only_the_betas(graph_path, name):
    method = build(graph_path, name, {"beta_decay": False})
    betas = ids(conv.beta for conv in method.model.backbone.convs)
    decayed, rest = method.optimizer.param_groups
    assert (decayed["weight_decay"], rest["weight_decay"]) == (0.1, 0.0)
    assert ids(rest["params"]) == betas
    assert ids(decayed["params"]) == ids(method.model.parameters()) - betas


def two_layers():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))


def train(model, *optimizers, steps=3):
    x = torch.randn(8, 5, generator=torch.Generator().manual_seed(1))
    for _ in range(steps):
        for optimizer in optimizers:
            optimizer.zero_grad()
        model(x).square().mean().backward()
        for optimizer in optimizers:
            optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def adam(parameters, weight_decay=0.0):
    return torch.optim.Adam(parameters, lr=0.01, weight_decay=weight_decay)


def test_every_parameter_regularised_is_adams_own_weight_decay():
    built, reference = two_layers(), two_layers()
    ours = train(built, build_optimizer(built, built.parameters(), lr=0.01, weight_decay=0.1))
    theirs = train(reference, adam(reference.parameters(), weight_decay=0.1))
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_first_layer_regularised_is_two_hand_built_adams():
    built, reference, everything = two_layers(), two_layers(), two_layers()
    ours = train(built, build_optimizer(built, built[0].parameters(), lr=0.01, weight_decay=0.1))
    theirs = train(reference, adam(reference[0].parameters(), weight_decay=0.1),
                   adam(reference[2].parameters()))
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    all_decayed = train(everything, adam(everything.parameters(), weight_decay=0.1))
    assert not torch.equal(ours[2], all_decayed[2])  # the second layer really goes undecayed


def test_a_parameter_outside_the_model_is_refused():
    model = two_layers()
    with pytest.raises(ValueError, match="not the model's"):
        build_optimizer(model, [nn.Parameter(torch.zeros(2))], lr=0.01, weight_decay=0.1)
