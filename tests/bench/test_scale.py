"""The scaling benchmark at tiny sizes: the equal-work baseline replays GAS's batches, a point
records every phase and the memory breakdown, the store resumes, the memory estimate skips what
would not fit, bad flags are one-line errors, and ``python -m visagnn scale`` measures each point
in its own process and renders the report notebook."""

from __future__ import annotations

import itertools
import math
import re
import subprocess
from pathlib import Path
from typing import Any

import nbformat
import pytest
import torch

from tests.devices import needs_cuda
from visagnn.bench import NOTEBOOKS
from visagnn.bench.scaling import measure as measure_module
from visagnn.bench.scaling.baseline import full_graph_forward, plain_gat
from visagnn.bench.scaling.cli import DEFAULT_REPORTS, DEFAULT_RESULTS, REFERENCE
from visagnn.bench.scaling.estimate import LOWER_BOUND, Estimate, estimate_peak
from visagnn.bench.scaling.family import MIN_NODES, PARTITION, ScalePoint, num_parts
from visagnn.bench.scaling.measure import METHOD_PHASES, PARTITION_PHASES, measure
from visagnn.bench.scaling.report import ACCOUNTED_PHASES, load
from visagnn.bench.scaling.runner import PointFailed, SubprocessExecutor, planned, run_scale
from visagnn.bench.scaling.store import ScaleStore
from visagnn.cli import main
from visagnn.datasets.synthetic import load_synthetic
from visagnn.graph.batch import SubgraphBatch
from visagnn.methods import create_method
from visagnn.methods.historical_method import HistoricalMethod

REPO = Path(__file__).parents[2]
TINY_NODES = MIN_NODES
BREAKDOWN = ("features_mb", "graph_mb", "histories_mb", "model_mb", "activations_mb", "peak_mb")


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    """The partition point and the GAS point of the smallest graph, measured in this process,
    with what GAS's steps and the baseline's steps received."""
    point = ScalePoint(TINY_NODES, "gas")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the worker sets it; a module fixture precedes one_thread
    partition = measure(point.partition_point())
    gas_steps: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    baseline_steps: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
    train_step = HistoricalMethod.train_step
    equal_work_epoch = measure_module.equal_work_epoch

    def recording_train_step(self, batch: SubgraphBatch, train_rows, x) -> float:
        gas_steps.append((batch.n_id.clone(), batch.edge_index.clone(), x.clone()))
        return train_step(self, batch, train_rows, x)

    def recording_baseline(model, optimizer, steps, labels, grad_clip=None):
        def replay():
            for batch, train_rows, x in steps:
                baseline_steps.append((batch.n_id, batch.edge_index, x))
                yield batch, train_rows, x
        return equal_work_epoch(model, optimizer, replay(), labels, grad_clip)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(HistoricalMethod, "train_step", recording_train_step)
            patch.setattr(measure_module, "equal_work_epoch", recording_baseline)
            record = measure(point, Path(partition["partition_file"]))
    finally:
        torch.set_num_threads(threads)
    return {"partition": partition, "gas": record, "gas_steps": gas_steps,
            "baseline_steps": baseline_steps}


def test_the_baseline_trains_on_exactly_the_batches_gas_trained_on(measured):
    gas, baseline = measured["gas_steps"], measured["baseline_steps"]
    assert len(gas) == len(baseline) == measured["gas"]["steps"] >= 2
    for (gas_nodes, gas_edges, gas_x), (nodes, edges, x) in zip(gas, baseline, strict=True):
        assert torch.equal(gas_nodes, nodes)  # same batch and halo, in the same order
        assert torch.equal(gas_edges, edges)
        assert torch.equal(gas_x, x)  # same feature rows
    record = measured["gas"]
    assert record["batch_edges_mean"] == pytest.approx(
        sum(edges.size(1) for _, edges, _ in gas) / len(gas))
    assert record["batch_nodes_mean"] + record["halo_nodes_mean"] == pytest.approx(
        sum(nodes.numel() for nodes, _, _ in gas) / len(gas))


def test_the_baseline_has_the_layer_sizes_of_the_methods_backbone():
    point = ScalePoint(TINY_NODES, "gas")
    dataset = load_synthetic(point.synthetic_config())
    method = create_method(dataset, point.run_config())
    baseline = plain_gat(point.run_config(), dataset.data.num_features, dataset.num_classes)

    def sizes(convs):
        return [(conv.in_channels, conv.out_channels, conv.heads, conv.concat) for conv in convs]

    assert sizes(baseline.convs) == sizes(method.backbone.convs) == [
        (100, 64, 4, True), (256, 64, 4, True), (256, 47, 1, False)]


def test_a_method_point_records_every_phase_and_the_breakdown(measured):
    record = measured["gas"]
    for phase in METHOD_PHASES:
        assert record[f"{phase}_s"] > 0, phase
        assert record[f"{phase}_cpu_s"] >= 0, phase
        assert record[f"{phase}_peak_mb"] > 0 and record["base_mb"] > 0, phase
    memory = record["memory"]
    assert set(BREAKDOWN) <= set(memory)
    assert all(memory[part] > 0 for part in BREAKDOWN)
    assert memory["peak_mb"] == max(record[f"{phase}_peak_mb"]
                                    for phase in ("build", "fill", "epoch", "inference"))
    assert record["pyg_activations_mb"] > 0 and math.isfinite(record["loss"])
    # the working memory holds what autograd saved, and inference's the outputs it returns
    assert record["epoch_workspace_mb"] >= memory["activations_mb"]
    assert record["pyg_epoch_workspace_mb"] >= record["pyg_activations_mb"]
    assert record["inference_workspace_mb"] >= record["exact_outputs_mb"]
    # N × (256 + 256 + 47) floats: what layer-wise inference returns
    assert record["exact_outputs_mb"] == pytest.approx(TINY_NODES * 559 * 4 / 2**20)
    assert record["num_parts"] == num_parts(TINY_NODES) and record["batch_parts"] == 5
    assert record["inference_parts"] == 5  # P = 20: the training batch's
    assert record["config"]["heads"] == 4 and record["config"]["num_layers"] == 3
    assert record["batch_nodes_mean"] == pytest.approx(TINY_NODES * 5 / record["num_parts"],
                                                       rel=0.2)
    assert record["batch_edges_max"] >= record["batch_edges_mean"] > 0
    assert record["num_edges"] / TINY_NODES > 15  # products-shaped: ~26 at large N
    for field in ("hardware", "commit", "date", "torch", "load_start", "load_end"):
        assert record[field] is not None, field
    assert record["threads"] == 1


def test_a_partition_point_records_metis_and_its_file(measured):
    record = measured["partition"]
    for phase in PARTITION_PHASES:
        assert record[f"{phase}_s"] > 0 and record[f"{phase}_peak_mb"] > 0, phase
    assert 0 < record["edge_cut"] < 1
    assert Path(record["partition_file"]).exists()
    assert record["num_parts"] == num_parts(TINY_NODES)


def fake_record(point: ScalePoint, partition_file: str | None) -> dict[str, Any]:
    """A measured record of ``point`` with round numbers, as a measuring process returns it."""
    if point.is_partition:
        return {"base_mb": 400.0, "generate_peak_mb": 450.0, "partition_peak_mb": 1000.0,
                "partition_s": 1.0, "partition_file": partition_file}
    return {"base_mb": 400.0, "generate_peak_mb": 450.0, "fill_peak_mb": 1200.0,
            "epoch_peak_mb": 1000.0, "pyg_epoch_peak_mb": 950.0, "pyg_activations_mb": 80.0,
            "exact_outputs_mb": 50.0, "num_edges": 26 * point.num_nodes,
            "memory": {"features_mb": 100.0, "graph_mb": 100.0, "histories_mb": 200.0,
                       "model_mb": 1.0, "activations_mb": 100.0, "peak_mb": 1200.0}}


class FakeExecutor:
    """Returns :func:`fake_record` for each point (partition files under ``folder``), or
    raises ``failures[key]``; lists the keys it measured."""

    def __init__(self, folder: Path, failures: dict[str, PointFailed] | None = None) -> None:
        self.folder, self.failures, self.measured = folder, failures or {}, []

    def __call__(self, point: ScalePoint, partition_file: str | None) -> dict[str, Any]:
        self.measured.append(point.key)
        if point.key in self.failures:
            raise self.failures[point.key]
        if point.is_partition:
            partition_file = str(self.folder / f"{point.key}.pt")
            Path(partition_file).write_text("partition")
        return fake_record(point, partition_file)


def test_points_run_smallest_first_each_partition_before_its_methods_in_order():
    points = [ScalePoint(n, m) for n in (30_000, 10_000) for m in ("visagnn-sum", "gas")]
    assert [point.key for point in planned(points)] == [
        "N10000_partition", "N10000_visagnn-sum", "N10000_gas",
        "N30000_partition", "N30000_visagnn-sum", "N30000_gas"]


def test_a_recorded_point_is_not_measured_again(tmp_path):
    store = ScaleStore(tmp_path / "store")
    executor = FakeExecutor(tmp_path)
    points = [ScalePoint(n, "gas") for n in (10_000, 30_000)]
    run_scale(points, store, executor, memory_mb=1e9, log=lambda line: None)
    assert executor.measured == ["N10000_partition", "N10000_gas", "N30000_partition",
                                 "N30000_gas"]
    lines = store.path.read_text().splitlines()

    log: list[str] = []
    assert run_scale(points, store, executor, memory_mb=1e9, log=log.append) == []
    assert len(executor.measured) == 4 and store.path.read_text().splitlines() == lines
    assert all(line.endswith("finished before, skipped") for line in log)

    Path(store.latest()["N30000_partition"]["partition_file"]).unlink()  # cache cleared
    run_scale(points, store, executor, memory_mb=1e9, log=lambda line: None)
    assert executor.measured[4:] == ["N30000_partition"]  # its method point is finished

    run_scale(points[:1], store, executor, force=True, memory_mb=1e9, log=lambda line: None)
    assert executor.measured[5:] == ["N10000_partition", "N10000_gas"]
    assert store.latest()["N10000_gas"]["status"] == "ok"


def test_the_estimate_extrapolates_each_phase_of_the_largest_smaller_point():
    reference = {"key": "N100000_gas", "num_nodes": 100_000, "method": "gas",
                 "history_dtype": "float32", "history_storage": "auto", "status": "ok",
                 **fake_record(ScalePoint(100_000, "gas"), None)}
    smaller = {**reference, "key": "N10000_gas", "num_nodes": 10_000}
    other = {**reference, "key": "N100000_gas_bfloat16", "history_dtype": "bfloat16"}
    estimate = estimate_peak(ScalePoint(1_000_000, "gas"), [smaller, reference, other])
    assert estimate.reference == "N100000_gas"
    # 10 times the nodes; P = 20 to 125; a training batch grows from 5 parts of 5,000 nodes to
    # 5 of 8,000, an inference batch from 5 parts to 9 (2M of the 26M edges)
    training, inference = 40_000 / 25_000, 9 * 8_000 / 25_000
    held = 100 + 100 + 200 + 1
    phases = {"generate": 400 + 10 * 50,
              "fill": 400 + 10 * (held + 50) + inference * (1200 - 400 - held - 50),
              "epoch": 400 + 10 * held + training * (1000 - 400 - held),
              "pyg_epoch": 400 + 10 * held + training * (950 - 400 - held)}
    assert estimate.peak_mb == pytest.approx(max(phases.values())) == pytest.approx(5915.12)
    # without a smaller point of its kind: the graph's features (100 float32) and edges (27.5
    # per node, each undirected one as two int64) over 100 MiB for the interpreter
    first = estimate_peak(ScalePoint(10_000, "gas"), [smaller, reference])
    assert first == Estimate(100 + 10_000 * (400 + 220) / 2**20, LOWER_BOUND)
    assert estimate_peak(ScalePoint(1_000_000, "visagnn-sum"), [reference]).reference == (
        LOWER_BOUND)


def test_a_point_that_would_not_fit_is_skipped_with_the_reason(tmp_path):
    store = ScaleStore(tmp_path / "store")
    executor = FakeExecutor(tmp_path)
    run_scale([ScalePoint(10_000, "gas")], store, executor, memory_mb=2000,
              log=lambda line: None)
    run_scale([ScalePoint(1_000_000, "gas")], store, executor, memory_mb=2000,
              log=lambda line: None)
    latest = store.latest()
    # METIS: 400 + 100 × (1000 - 400) MiB
    assert latest["N1000000_partition"]["status"] == "skipped"
    assert latest["N1000000_partition"]["reason"] == (
        "estimated peak 60400 MiB (from N10000_partition) exceeds the 2000 MiB available")
    assert latest["N1000000_partition"]["estimated_peak_mb"] == pytest.approx(60400)
    assert latest["N1000000_gas"]["reason"] == "its partition N1000000_partition did not finish"
    assert latest["N1000000_gas"]["hardware"] and latest["N1000000_gas"]["commit"]
    assert executor.measured == ["N10000_partition", "N10000_gas"]


def test_a_failed_point_is_recorded_and_a_killed_one_stops_its_method(tmp_path):
    store = ScaleStore(tmp_path / "store")
    executor = FakeExecutor(tmp_path, {
        "N10000_gas": PointFailed("killed by SIGKILL (out of memory?)", killed=True),
        "N10000_visagnn-sum": PointFailed("RuntimeError: made up", "Traceback ...")})
    points = [ScalePoint(n, m) for n in (10_000, 30_000) for m in ("gas", "visagnn-sum")]
    run_scale(points, store, executor, memory_mb=1e9, log=lambda line: None)
    latest = store.latest()
    assert latest["N10000_gas"]["status"] == "failed" and latest["N10000_gas"]["killed"]
    assert latest["N10000_visagnn-sum"]["error"] == "RuntimeError: made up"
    assert latest["N30000_gas"]["status"] == "skipped"
    assert latest["N30000_gas"]["reason"] == (
        "the smaller point N10000_gas was killed (killed by SIGKILL (out of memory?))")
    assert latest["N30000_visagnn-sum"]["status"] == "ok"  # it only raised: the next one runs


def test_a_point_that_raises_in_its_process_fails_with_its_error(tmp_path):
    with pytest.raises(PointFailed) as failure:
        SubprocessExecutor(threads=1)(ScalePoint(TINY_NODES, "gas"), str(tmp_path / "none.pt"))
    assert failure.value.error.startswith("FileNotFoundError: the partition")
    assert "measure the partition point N1000_partition first" in failure.value.error
    assert not failure.value.killed and "Traceback" in failure.value.details


def test_a_point_past_its_time_limit_is_killed_and_fails_with_that_reason(tmp_path):
    with pytest.raises(PointFailed) as failure:
        SubprocessExecutor(threads=1, timeout_s=0.01)(ScalePoint(TINY_NODES, "gas"),
                                                      str(tmp_path / "none.pt"))
    assert failure.value.error == "timed out after 0 s"


def test_the_whole_graph_forward_is_measured_where_it_fits(measured):
    record = measured["gas"]
    assert record["pyg_forward_skipped"] is None and record["pyg_forward_s"] > 0
    assert record["pyg_forward_workspace_mb"] > 0
    model = plain_gat(ScalePoint(TINY_NODES, "gas").run_config(), 16, 5)
    x, edge_index = torch.randn(30, 16), torch.randint(0, 30, (2, 90))
    model.train()
    out = full_graph_forward(model, x, edge_index)
    # eval mode (no dropout: the same output twice), no autograd
    assert out.shape == (30, 5) and not model.training and not out.requires_grad
    assert torch.equal(out, full_graph_forward(model, x, edge_index))
    needed = measure_module.forward_fits(10**12, torch.device("cpu"))
    assert needed is not None and needed.startswith("the whole-graph forward needs about")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--nodes", "500", "10000"], "--nodes must be >= 1000, got [500]"),
    (["--methods", "gas", "gcn"], "--methods: unknown or without histories: ['gcn']; valid "
                                  "methods: gas, graphfm, lmc, mvsgnn, refresh, rest, s3, "
                                  "sat, visagnn-cat, visagnn-sum, vrgcn"),
    (["--threads", "-1"], "--threads must be >= 0 (0: one per core), got -1"),
    (["--memory-mb", "0"], "--memory-mb must be > 0, got 0"),
    (["--reference", "--reports", "elsewhere"],
     "--reference sets the folders: give neither --results nor --reports with it"),
    (["--history-storage", "pinned"],
     "--history-storage pinned needs --device cuda; valid on cpu: auto, ram, mmap"),
    (["--history-storage", "disk"], "argument --history-storage: invalid choice: 'disk'"),
    (["--device", "tpu"], "--device must be cpu, cuda or cuda:N, got 'tpu'"),
    (["--nodes", "many"], "argument --nodes: invalid int value: 'many'"),
])
def test_bad_scale_arguments_are_one_line_with_the_flag_and_exit_2(arguments, message, capsys,
                                                                    tmp_path):
    folders = [] if "--reference" in arguments else ["--results", str(tmp_path / "store")]
    with pytest.raises(SystemExit) as exit_info:
        main(["scale", *arguments, *folders])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m visagnn scale: error: ") and err.count("\n") == 1
    assert message in err
    assert not (tmp_path / "store").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="torch sees a CUDA device here")
def test_cuda_without_a_device_is_a_one_line_error(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["scale", "--device", "cuda", "--results", str(tmp_path / "store")])
    assert capsys.readouterr().err.endswith(
        "--device cuda: torch sees no CUDA device here; valid: cpu\n")


@needs_cuda
@pytest.mark.parametrize("method", ["gas", "visagnn-sum"])
def test_on_cuda_a_point_records_each_phase_s_device_memory(measured, method):
    point = ScalePoint(TINY_NODES, method, device="cuda")
    assert point.key == f"N{TINY_NODES}_{method}_cuda"
    record = measure(point, Path(measured["partition"]["partition_file"]))
    assert record["config"]["device"] == "cuda" and math.isfinite(record["loss"])
    assert record["warmup_epochs"] == 1 and measured["gas"]["warmup_epochs"] == 0
    assert record["hardware"] == torch.cuda.get_device_name()
    for phase in [*METHOD_PHASES[1:], "pyg_forward"]:  # generating the graph: none on it
        assert record[f"{phase}_gpu_peak_mb"] > 0, phase
    on_cpu = measured["gas"]
    assert record["steps"] == on_cpu["steps"]  # the batches do not depend on the device
    assert record["batch_edges_mean"] == on_cpu["batch_edges_mean"]


def test_dry_run_lists_the_points_and_measures_nothing(capsys, tmp_path):
    assert main(["scale", "--nodes", "10000", "2400000", "--methods", "gas", "--dry-run",
                 "--memory-mb", "24000", "--results", str(tmp_path / "store")]) == 0
    alone = "(from the graph's features and edges alone)"
    assert capsys.readouterr().out.splitlines() == [
        f"N10000_partition: P=20, not measured, estimated peak 106 MiB {alone}",
        f"N10000_gas: P=20, not measured, estimated peak 106 MiB {alone}",
        f"N2400000_partition: P=300, not measured, estimated peak 1519 MiB {alone}",
        f"N2400000_gas: P=300, not measured, estimated peak 1519 MiB {alone}"]
    assert not (tmp_path / "store").exists()


@pytest.fixture(scope="module")
def scaled(tmp_path_factory) -> tuple[Path, Path]:
    """``python -m visagnn scale`` on the smallest graph with GAS (two processes), then the
    report notebook."""
    results = tmp_path_factory.mktemp("scale-results")
    reports = tmp_path_factory.mktemp("scale-reports")
    assert main(["scale", "--nodes", str(TINY_NODES), "--methods", "gas", "--note", "a test",
                 "--results", str(results), "--reports", str(reports)]) == 0
    return results, reports


def test_scale_measures_each_point_in_its_own_process_and_renders_the_report(scaled):
    results, reports = scaled
    latest = ScaleStore(results).latest()
    assert list(latest) == [f"N{TINY_NODES}_{PARTITION}", f"N{TINY_NODES}_gas"]
    gas = latest[f"N{TINY_NODES}_gas"]
    assert all(row["status"] == "ok" and row["note"] == "a test" for row in latest.values())
    assert gas["threads"] == 1 and gas["hardware"].endswith("1 torch thread)")
    page = (reports / "scale.html").read_text()
    for text in ("Time per phase", "Equal work", "Memory", "Every point finished.",
                 "PyG epoch (s)", "breakdown / peak", "epoch: held + working / peak",
                 "a test"):
        assert text in page, text
    assert len(re.findall("data:image/png;base64", page)) >= 3
    point = load(results).set_index("key").loc[f"N{TINY_NODES}_gas"]
    for phase in ACCOUNTED_PHASES:  # process at start + held + the phase's working memory
        held = sum(gas["memory"][part] for part in BREAKDOWN[:4]) + gas["base_mb"]
        share = (held + gas[f"{phase}_workspace_mb"]) / gas[f"{phase}_peak_mb"]
        assert point[f"{phase}_share"] == pytest.approx(share) and 0.7 < share < 1.3, phase
    assert not re.search(r"<script[^>]+src=", page)  # opens offline: no CDN script
    assert {path.stem for path in (reports / "figures").glob("*.png")} == {
        "scale-phases", "scale-ratio", "scale-memory"}


def test_what_scale_writes_by_default_is_ignored_by_git_and_the_reference_is_not():
    written = [DEFAULT_RESULTS / "points.jsonl", DEFAULT_REPORTS / "scale.html",
               DEFAULT_REPORTS / "figures" / "scale-phases.png"]
    reference = [REFERENCE / "results" / "points.jsonl", REFERENCE / "scale.html"]
    completed = subprocess.run(["git", "-C", str(REPO), "check-ignore", *map(str, written),
                                *map(str, reference)], capture_output=True, text=True,
                               check=False)
    assert completed.stdout.split() == [str(path) for path in written]


def test_the_committed_scale_reference_is_one_clean_commit_up_to_the_products_shape():
    points = ScaleStore(REPO / REFERENCE / "results").latest()
    assert all(point["status"] == "ok" for point in points.values())
    commits = {point["commit"] for point in points.values()}
    assert len(commits) == 1 and not commits.pop().endswith("+dirty")
    methods = {point["key"] for point in points.values() if point["method"] != PARTITION}
    assert {"N100000_gas", "N300000_gas", "N2400000_gas"} <= methods
    products = points["N2400000_gas"]
    assert products["num_edges"] > 60e6 and products["memory"]["peak_mb"] < 24 * 1024
    assert (REPO / REFERENCE / "scale.html").exists()


def test_the_scale_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOKS / "scale.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].metadata["tags"] == ["parameters"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_sizes_and_parts_follow_the_family():
    assert [num_parts(n) for n in (1_000, 100_000, 300_000, 2_400_000)] == [20, 20, 38, 300]
    keys = [ScalePoint(*args).key for args in itertools.product(
        (10_000,), ("gas",), ("float32", "bfloat16"), ("auto", "mmap"))]
    assert keys == ["N10000_gas", "N10000_gas_mmap", "N10000_gas_bfloat16",
                    "N10000_gas_bfloat16_mmap"]
    with pytest.raises(ValueError, match="ScalePoint.num_nodes must be >= 1000, got 10"):
        ScalePoint(10, "gas")


def test_the_first_point_is_guarded_by_what_its_graph_alone_needs(tmp_path):
    store = ScaleStore(tmp_path / "store")
    executor = FakeExecutor(tmp_path)
    run_scale([ScalePoint(10_000, "gas")], store, executor, memory_mb=50, log=lambda _: None)
    assert executor.measured == []
    partition = store.latest()["N10000_partition"]
    assert partition["status"] == "skipped"
    assert partition["reason"] == ("estimated peak 106 MiB (from the graph's features and edges "
                                   "alone) exceeds the 50 MiB available")


@pytest.mark.parametrize(("arguments", "message"), [
    (["--nodes", "10000", "--memory-mb", "1"],
     "--nodes 10000: the graph alone needs at least 106 MiB, more than the 1 MiB of "
     "--memory-mb; no point fits (the smallest, 1000 nodes, needs 101 MiB)"),
    (["--nodes", "10000", "1000000000000", "--memory-mb", "24000", "--dry-run"],
     "--nodes 1000000000000: the graph alone needs at least 591278176 MiB, more than the "
     "24000 MiB of --memory-mb; at most 40420913 nodes fit"),
])
def test_sizes_that_cannot_fit_are_refused_before_anything_runs(arguments, message, capsys,
                                                                tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["scale", *arguments, "--results", str(tmp_path / "store")])
    assert exit_info.value.code == 2
    assert capsys.readouterr() == ("", f"python -m visagnn scale: error: {message}\n")
    assert not (tmp_path / "store").exists()
