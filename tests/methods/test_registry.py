import pytest

from visagnn.config import BACKBONES, RUN_CONFIG_FIELDS, SETTING_FAMILIES, RunConfig
from visagnn.methods import (
    METHODS,
    applicable_settings,
    make_options,
    method_class,
    register_method,
    resolve_config,
)
from visagnn.methods.gas import GAS


def test_every_method_is_registered_under_its_name():
    assert {name for name, cls in METHODS.items() if cls.name == name} == set(METHODS)
    assert method_class("gas") is GAS


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown method 'gass'; valid methods: .*'gas'"):
        method_class("gass")


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        register_method(type("Again", (GAS,), {"name": "gas"}))


def test_unknown_options_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"\['momentun'\] are not options of method 'graphfm'"):
        make_options("graphfm", {"momentun": 0.5})
    with pytest.raises(ValueError, match="its options are: none"):
        make_options("gas", {"lam": 0.5})


def test_settings_apply_by_the_families_a_method_declares():
    history, partition = SETTING_FAMILIES["history"], SETTING_FAMILIES["partition"]
    assert set(history) | set(partition) < set(RUN_CONFIG_FIELDS)
    assert set(applicable_settings("gas")) == set(RUN_CONFIG_FIELDS)
    clustergcn = set(applicable_settings("clustergcn"))
    assert set(partition) | {"backbone"} <= clustergcn and not set(history) & clustergcn
    for method in ("sgc", "sage", "gcn", "fastgcn", "graphsaint"):
        assert not (set(history) | set(partition) | {"backbone"}) & set(
            applicable_settings(method)), method
    assert {"lr", "epochs", "seed", "dropout", "device"} <= set(applicable_settings("sgc"))
    assert not {"hidden_channels", "num_layers"} & set(applicable_settings("sgc"))  # no layers


def test_settings_that_do_not_apply_are_refused_only_when_given():
    config = resolve_config("cora", "sgc")  # the dataset's parts and RunConfig's history
    assert config.num_parts == 40 and config.history_dtype == "float32"
    with pytest.raises(ValueError, match=r"RunConfig.exact_halo does not apply to --method "
                                         r"sgc; it applies to --method gas, graphfm, lmc"):
        resolve_config("cora", "sgc", exact_halo=True)
    assert resolve_config("cora", "sgc", exact_halo=None) == config  # None: unset
    assert resolve_config("cora", "sgc", shared={"exact_halo": True}).exact_halo  # recorded


@pytest.mark.parametrize("method, backbones", [
    ("visagnn-sum", ("gat",)), ("visagnn-cat", ("gat",)), ("vrgcn", ("gcn",)),
    ("mvsgnn", ("gcn",)), ("gas", ("gat", "gcn")), ("clustergcn", ("gat", "gcn"))])
def test_a_method_builds_the_backbones_it_declares(method, backbones):
    assert METHODS[method].backbones == backbones
    assert resolve_config("cora", method).backbone == backbones[0]
    for other in sorted(set(BACKBONES) - set(backbones)):
        with pytest.raises(ValueError, match=rf"RunConfig.backbone must be one of "
                                             rf"\('{backbones[0]}',\) for --method {method}"):
            resolve_config("cora", method, backbone=other)
        with pytest.raises(ValueError, match="RunConfig.backbone must be one of"):
            METHODS[method](None, RunConfig(method=method, backbone=other), None)


@pytest.mark.parametrize("method, backbone, width", [
    ("gas", None, 64), ("gas", "gcn", 256), ("clustergcn", "gcn", 256), ("vrgcn", None, 256),
    ("mvsgnn", None, 256), ("visagnn-sum", None, 64), ("gat", None, 64), ("gcn", None, 256)])
def test_the_width_follows_the_layers_built(method, backbone, width):
    """Per head for GAT layers, the whole width (64 × 4 heads on ogbn-arxiv) for others."""
    config = resolve_config("ogbn-arxiv", method, backbone=backbone)
    assert config.hidden_channels == width
    assert resolve_config("ogbn-arxiv", method, backbone=backbone,
                          hidden_channels=32).hidden_channels == 32  # the user's
