from dataclasses import fields

import pytest

from visagnn.config import RunConfig
from visagnn.defaults import DEFAULTS, EVERY, dataset_defaults, method_defaults
from visagnn.methods import METHODS, make_options, resolve_config


def test_run_settings_resolve_user_over_method_over_dataset_over_runconfig():
    assert resolve_config("cora", "gas").hidden_channels == 8  # dataset block
    assert resolve_config("cora", "gcn").hidden_channels == 16  # GCN's own block on Cora
    assert resolve_config("cora", "gcn", hidden_channels=32).hidden_channels == 32  # user
    assert resolve_config("cora", "sgc").lr == 0.2  # SGC's block on every dataset
    assert resolve_config("cora", "sgc").weight_decay == 5e-6  # SGC's block on Cora
    assert resolve_config("tolokers", "sgc").weight_decay == 0.0  # Tolokers' dataset block
    assert resolve_config("my-graph.pt", "gas").num_parts == RunConfig.num_parts


@pytest.mark.parametrize("dataset, width", [("ogbn-arxiv", 256), ("tolokers", 128),
                                            ("my-graph.pt", RunConfig.hidden_channels * 4)])
def test_attention_free_methods_get_the_total_gat_width(dataset, width):
    for method in ("gcn", "appnp", "sage", "graphsaint"):
        assert resolve_config(dataset, method).hidden_channels == width
    assert resolve_config(dataset, "gat").hidden_channels == width // resolve_config(
        dataset, "gat").heads


def test_method_options_take_the_dataset_block_unless_the_user_sets_them():
    assert make_options("graphfm", {}, "reddit").momentum == 0.5
    assert make_options("graphfm", {}, "cora").momentum == 0.1
    assert make_options("graphfm", {"momentum": 0.3}, "reddit").momentum == 0.3
    assert make_options("graphfm", {}).momentum is None  # no dataset: left to the method
    assert make_options("lmc", {}, "ogbn-arxiv").score == "const"
    assert make_options("lmc", {}, "cora").score == "linear"


def test_every_block_names_known_settings_or_options():
    run_fields = {field.name for field in fields(RunConfig)}
    for dataset, blocks in DEFAULTS.items():
        for method, block in blocks.items():
            options = (set() if method == EVERY else
                       {field.name for field in fields(METHODS[method].options_class)})
            assert set(block) <= run_fields | options, (dataset, method)
    assert dataset_defaults("CORA") == dataset_defaults("cora")
    assert method_defaults("unknown-graph", "gas") == {}
