import json

import pytest

from tests.graphs import write_community_graph
from visagnn.methods import resolve_config
from visagnn.train import run

FAST = dict(epochs=30, num_parts=8, batch_parts=2, hidden_channels=8, heads=2, lr=0.01)


@pytest.fixture
def graph_path(tmp_path):
    return write_community_graph(tmp_path / "communities.pt")


def test_gas_learns_an_unseen_graph(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "gas", root=str(tmp_path), **FAST)
    result = run(config, progress=False)
    summary = result.summary
    assert summary["status"] == "ok"
    assert summary["dataset"] == "communities"
    assert summary["epochs"] == 30 == len(result.records)
    assert summary["test"] > 0.8  # four classes: chance is 0.25
    assert result.records[-1]["loss"] < result.records[0]["loss"]
    best = max(result.records, key=lambda r: r["val"])
    assert summary["best_val"] == best["val"] and summary["test"] == best["test"]


def test_runs_are_deterministic_for_a_seed(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "gas", root=str(tmp_path), **FAST)
    first, second = run(config, progress=False), run(config, progress=False)
    strip = [{k: v for k, v in r.items() if not k.endswith(("_s", "_mb"))} for r in
             first.records]
    assert strip == [{k: v for k, v in r.items() if not k.endswith(("_s", "_mb"))} for r in
                     second.records]


def test_out_dir_holds_every_epoch_and_the_summary(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "gas", root=str(tmp_path), **FAST)
    run(config, out_dir=tmp_path / "run", progress=False)
    lines = (tmp_path / "run" / "epochs.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == list(range(1, 31))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    for key in ("dataset", "method", "seed", "metric", "best_val", "test", "best_epoch",
                "epochs", "mean_epoch_s", "peak_mem_mb"):
        assert key in summary
    assert summary["peak_mem_mb"] > 0


def test_evaluation_every_k_epochs_and_after_the_last(graph_path, tmp_path):
    config = resolve_config(str(graph_path), "gas", root=str(tmp_path), **{**FAST, "epochs": 7},
                            eval_every=3)
    result = run(config, progress=False)
    evaluated = [record["epoch"] for record in result.records if "val" in record]
    assert evaluated == [3, 6, 7]
    assert all("loss" in record and "epoch_s" in record for record in result.records)
    best = max((r for r in result.records if "val" in r), key=lambda r: r["val"])
    assert result.summary["best_epoch"] == best["epoch"]
    assert result.summary["mean_eval_s"] > 0
