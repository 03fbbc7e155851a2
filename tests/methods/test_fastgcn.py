from tests.graphs import write_community_graph
from visagnn.datasets import load_dataset
from visagnn.methods import create_method, make_options, resolve_config
from visagnn.methods.fastgcn import FastGCNOptions
from visagnn.run.train import run


def test_defaults_are_the_papers_and_the_official_codes():
    assert FastGCNOptions() == FastGCNOptions(batch_size=256, layer_size=400)
    assert make_options("fastgcn", {}, "pubmed") == FastGCNOptions(batch_size=1024,
                                                                  layer_size=100)
    assert make_options("fastgcn", {}, "cora") == FastGCNOptions(batch_size=1024, layer_size=400)
    assert make_options("fastgcn", {}, "reddit") == FastGCNOptions()
    cora, reddit = resolve_config("cora", "fastgcn"), resolve_config("reddit", "fastgcn")
    assert (cora.hidden_channels, cora.weight_decay, cora.epochs) == (16, 5e-4, 200)
    assert (reddit.hidden_channels, reddit.weight_decay) == (128, 1e-4)
    for config in (cora, reddit, resolve_config("ogbn-arxiv", "fastgcn")):
        assert (config.lr, config.dropout, config.grad_clip) == (0.01, 0.0, None)
    assert resolve_config("ogbn-arxiv", "fastgcn").hidden_channels == 256  # the GAT width


def test_the_sampling_law_is_counted_in_memory(tmp_path):
    graph = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(graph), "fastgcn", root=str(tmp_path))
    method = create_method(load_dataset(config.dataset, config.root), config)
    held = method.memory_tensors()["graph"]
    assert any(tensor is method.sampler.probability for tensor in held)


def test_fastgcn_learns(tmp_path):
    graph = write_community_graph(tmp_path / "communities.pt")
    config = resolve_config(str(graph), "fastgcn", root=str(tmp_path), epochs=20,
                            hidden_channels=32, lr=0.03)
    result = run(config, {"batch_size": 64, "layer_size": 100}, progress=False)
    summary = result.summary
    assert summary["status"] == "ok" and summary["test"] > 0.8
    assert summary["options"] == {"batch_size": 64, "layer_size": 100}
    assert result.records[-1]["loss"] < result.records[0]["loss"]
