import json

import pytest

from tests.devices import needs_cuda, stage_transfers_on_cpu
from tests.graphs import write_community_graph
from visagnn.methods import METHODS, method_class, resolve_config
from visagnn.methods.historical_method import HistoricalMethod
from visagnn.run.train import run

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


HISTORICAL = sorted(name for name in METHODS if issubclass(method_class(name), HistoricalMethod))


@pytest.mark.parametrize("method", HISTORICAL)
def test_with_cuda_s_staged_history_transfers_every_historical_method_trains_the_same(
        method, graph_path, tmp_path, monkeypatch):
    """Pulls and pushes through reused buffers, pushes landing in the background, as on CUDA
    (stream-free on the CPU): the same records, bit for bit, as plain tensor indexing."""
    config = resolve_config(str(graph_path), method, root=str(tmp_path),
                            **dict(FAST, epochs=3, eval_every=1))
    plain = run(config, progress=False)
    stage_transfers_on_cpu(monkeypatch)
    staged = run(config, progress=False)
    assert staged.summary["status"] == "ok", staged.summary.get("error")
    strip = [[{k: v for k, v in r.items() if not k.endswith(("_s", "_mb"))} for r in records]
             for records in (plain.records, staged.records)]
    assert strip[1] == strip[0]


@needs_cuda
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_trains_and_evaluates_on_cuda_as_on_cpu(method, graph_path, tmp_path):
    """Without dropout the steps draw the same batches and samples on either device (their
    generators are on the CPU), so the records agree up to float rounding."""
    settings = dict(FAST, epochs=3, dropout=0.0, eval_every=1)
    results = {device: run(resolve_config(str(graph_path), method, shared=settings,
                                          root=str(tmp_path), device=device), progress=False)
               for device in ("cpu", "cuda")}
    on_cpu, on_cuda = results["cpu"], results["cuda"]
    assert on_cuda.summary["status"] == "ok", on_cuda.summary.get("error")
    assert on_cuda.summary["peak_mem_mb"] > 0
    losses = [[record["loss"] for record in result.records] for result in (on_cpu, on_cuda)]
    assert losses[1] == pytest.approx(losses[0], rel=1e-3, abs=1e-4)
    for key in ("train", "val", "test"):
        scores = [[record[key] for record in result.records] for result in (on_cpu, on_cuda)]
        assert scores[1] == pytest.approx(scores[0], abs=0.02)


@needs_cuda
@pytest.mark.parametrize("history_storage", ["pinned", "device", "mmap"])
def test_on_cuda_prefetching_and_every_history_place_train_as_the_plain_loop(
        history_storage, graph_path, tmp_path):
    settings = dict(FAST, epochs=3, device="cuda", root=str(tmp_path))
    plain = run(resolve_config(str(graph_path), "visagnn-sum", **settings), progress=False)
    other = run(resolve_config(str(graph_path), "visagnn-sum", prefetch=True,
                               history_storage=history_storage, **settings), progress=False)
    assert other.summary["status"] == "ok", other.summary.get("error")
    for mine, theirs in zip(other.records, plain.records, strict=True):
        assert mine["loss"] == pytest.approx(theirs["loss"], rel=1e-4)
        assert mine["val"] == pytest.approx(theirs["val"], abs=0.02)
