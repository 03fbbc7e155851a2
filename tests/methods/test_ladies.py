from tests.graphs import write_community_graph
from visagnn.methods import make_options, resolve_config
from visagnn.methods.ladies import LADIESOptions
from visagnn.run.train import run


def test_defaults_are_the_official_codes():
    assert make_options("ladies", {}, "reddit") == LADIESOptions(batch_size=512, layer_size=64)
    for dataset in ("cora", "reddit", "ogbn-arxiv"):
        config = resolve_config(dataset, "ladies")
        assert (config.hidden_channels, config.dropout, config.lr, config.weight_decay,
                config.grad_clip) == (256, 0.2, 1e-3, 0.0, 0.2)
    assert resolve_config("ogbn-arxiv", "ladies").num_layers == 3  # the dataset's depth


def test_ladies_learns(tmp_path):
    graph = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(graph), "ladies", root=str(tmp_path), epochs=20,
                            hidden_channels=32, lr=0.03)
    result = run(config, {"batch_size": 64, "layer_size": 32}, progress=False)
    summary = result.summary
    assert summary["status"] == "ok" and summary["test"] > 0.8
    assert summary["options"] == {"batch_size": 64, "layer_size": 32}
    assert result.records[-1]["loss"] < result.records[0]["loss"]
