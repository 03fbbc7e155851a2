"""A grid on a Dask cluster (``grid --scheduler`` / ``--devices``): every run recorded exactly
once, a worker killed mid-run loses only that run's try, the store equals a plain grid's, and
the flags' errors are one line naming the flag."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import cloudpickle
import dask
import pytest

from visagnn.bench import cluster
from visagnn.bench.cluster import ClusterExecutor, StoredRun, connect, train_on_worker
from visagnn.bench.experiment import run_experiment
from visagnn.bench.grid import Cell, Grid, default_batch_parts
from visagnn.bench.runner import run_grid
from visagnn.bench.spec import RunSpec
from visagnn.bench.store import ResultsStore
from visagnn.cli import main

# the workers cannot import this test module: its tasks travel by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

VARYING = {"train_s", "mean_epoch_s", "mean_eval_s", "peak_mem_mb", "added_mem_mb", "date",
           "memory", "epoch_s", "eval_s", "precompute_s", "presample_s", "budget_mb"}
"""Fields of a run and its epochs that are timings, memory or the date: they vary run to run."""


def tiny_grid() -> Grid:
    """The built-in synthetic graph, one epoch, two methods × two seeds: four runs."""
    (parts,) = default_batch_parts("synthetic")
    return Grid("tiny", (Cell("synthetic", parts, ("gas", "sgc"), (0, 1), epochs=1),))


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A local cluster of two worker processes, one thread each; a task may kill its worker
    once (the second death fails it), so that a run that always kills it fails quickly."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            connect(devices=["cpu", "cpu"]) as cluster_client:
        yield cluster_client


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> ResultsStore:
    """The tiny grid's store as the experiment notebook writes it, without a cluster."""
    store = ResultsStore(tmp_path_factory.mktemp("plain"))
    run_experiment(tiny_grid().runs(), store, progress=False, threads=1)
    return store


class Shown:
    """The notebook step: records the cells it was given."""

    def __init__(self) -> None:
        self.cells: list[str] = []

    def __call__(self, cell: Cell, results: Path, force: bool) -> None:
        self.cells.append(cell.name)


def without_varying(row: dict) -> dict:
    return {name: (without_varying(value) if isinstance(value, dict) else value)
            for name, value in row.items() if name not in VARYING}


def stored(store: ResultsStore) -> dict[str, tuple[dict, list[dict]]]:
    """Every run of ``store`` and its epoch records, without the fields that vary."""
    epochs = store.epochs()
    return {key: (without_varying(row),
                  [without_varying(record) for record in
                   epochs[epochs["key"] == key].drop(columns="key").to_dict("records")])
            for key, row in store.latest().items()}


def lines_per_key(store: ResultsStore) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in store.runs_path.read_text().splitlines():
        key = line.split('"key": "', 1)[1].split('"', 1)[0]
        counts[key] = counts.get(key, 0) + 1
    return counts


def die_on_first_try(markers: Path, spec: RunSpec, devices, threads) -> StoredRun:
    """Kill this worker's process on the first try of seed 1's GAS run (a marker file in
    ``markers`` says it was tried), train every other try as a worker does."""
    marker = markers / spec.key
    if spec.variant.method == "gas" and spec.config.seed == 1 and not marker.exists():
        marker.touch()
        os._exit(1)
    return train_on_worker(spec, devices, threads)


def always_die(spec: RunSpec, devices, threads) -> StoredRun:
    os._exit(1)


def test_a_grid_on_two_workers_records_every_run_once_as_the_plain_grid_does(
        client, plain, tmp_path):
    shown = Shown()
    executor = ClusterExecutor(client, shown, threads=1, devices=["cpu", "cpu"],
                               log=lambda _: None)
    grid = tiny_grid()
    outcomes = run_grid(grid, tmp_path, executor, log=lambda _: None, jobs=len(grid.cells))
    store = ResultsStore(tmp_path)
    assert [outcome.status for outcome in outcomes] == ["done"]
    assert shown.cells == [grid.cells[0].name]  # the notebook runs once its runs are back
    assert lines_per_key(store) == dict.fromkeys((spec.key for spec in grid.runs()), 1)
    assert {row["status"] for row in store.latest().values()} == {"ok"}
    assert stored(store) == stored(plain)
    # the next grid finds them finished: nothing goes to the cluster, no notebook runs
    assert [o.status for o in run_grid(grid, tmp_path, executor, log=lambda _: None)] == [
        "skipped"]
    assert len(store.runs_path.read_text().splitlines()) == 4 and len(shown.cells) == 1


def test_local_workers_run_torch_without_dasks_malloc_trim_and_profiler(client):
    settings = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                                   dask.config.get("distributed.worker.profile.enabled")))
    assert list(settings.values()) == [(None, False)] * 2


def test_a_worker_killed_mid_run_retries_that_run_and_loses_nothing_else(
        client, plain, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    executor = ClusterExecutor(client, Shown(), threads=1, devices=["cpu", "cpu"],
                               log=lambda _: None, task=partial(die_on_first_try, markers))
    store = ResultsStore(tmp_path / "store")
    executor.train(tiny_grid().runs(), store)
    (killed,) = [path.name for path in markers.iterdir()]
    assert "_gas_" in killed and "_s1_" in killed
    assert lines_per_key(store) == dict.fromkeys(plain.latest(), 1)
    assert stored(store) == stored(plain)


def test_a_run_that_kills_every_worker_it_tries_is_recorded_as_failed(client, tmp_path):
    (spec, *_) = tiny_grid().runs()
    executor = ClusterExecutor(client, Shown(), threads=1, log=lambda _: None, task=always_die)
    store = ResultsStore(tmp_path)
    executor.train([spec], store)
    row = store.latest()[spec.key]
    assert row["status"] == "failed"
    assert row["error"].startswith("the run's cluster task failed: KilledWorker: ")
    assert not (store.epochs_folder / f"{spec.key}.jsonl").exists()


def test_notebooks_after_a_cluster_train_nothing(plain, capsys):
    rows = run_experiment(tiny_grid().runs(), ResultsStore(plain.folder), force=True,
                          progress=False, train=False)
    assert "4 runs planned, trained on a cluster: shown from the store" in capsys.readouterr().out
    assert len(plain.runs_path.read_text().splitlines()) == 4 and len(rows) == 4


@pytest.mark.parametrize(("arguments", "message"), [
    (["--scheduler", "tcp://127.0.0.1:8786", "--devices", "cpu", "cpu"],
     "--scheduler and --devices: give one"),
    (["--devices", "gpu"], "--devices: 'gpu' is not cpu or cuda:N"),
    (["--devices", "cuda:64"], "--devices: no cuda:64 here"),
    (["--devices", "cpu", "--device", "cuda"], "--devices sets the devices: drop --device cuda"),
])
def test_bad_cluster_flags_are_one_line_naming_the_flag(arguments, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["grid", *arguments, "--datasets", "synthetic", "--results", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m visagnn grid: error: ") and err.count("\n") == 1
    assert message in err
    assert not (tmp_path / "r").exists()


def test_a_scheduler_that_does_not_answer_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(SystemExit) as exit_info:
        main(["grid", "--scheduler", "tcp://127.0.0.1:1", "--datasets", "synthetic",
              "--methods", "sgc", "--results", str(tmp_path / "r"),
              "--reports", str(tmp_path / "p")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m visagnn grid: error: --scheduler tcp://127.0.0.1:1: "
                          "cannot connect (") and err.count("\n") == 1
    assert not (tmp_path / "r" / "runs.jsonl").exists()


@pytest.mark.parametrize("flag", [["--scheduler", "tcp://127.0.0.1:8786"],
                                  ["--devices", "cpu", "cpu"]])
def test_without_dask_the_cluster_flags_name_the_extra(flag, capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["grid", *flag, "--datasets", "synthetic", "--results", str(tmp_path / "r")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"python -m visagnn grid: error: {flag[0]} needs Dask distributed, which is not "
        "installed: pip install visagnn[cluster]\n")


class NotTraining:
    """The CLI's notebook step, recording the cells and whether it was asked to train."""

    shown: list[tuple[str, bool]] = []

    def __init__(self, notebooks, reports, echo=True, threads=None, train=True) -> None:
        self.train = train

    def __call__(self, cell: Cell, results: Path, force: bool) -> None:
        NotTraining.shown.append((cell.name, self.train))


def test_grid_devices_trains_on_a_local_cluster_then_shows_the_cells(capsys, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr("visagnn.bench.cli.NotebookExecutor", NotTraining)
    monkeypatch.setattr("visagnn.bench.cli.render_reports",
                        lambda results, reports, notebooks: reports / "index.html")
    assert main(["grid", "--datasets", "synthetic", "--methods", "sgc", "--seeds", "2",
                 "--epochs", "1", "--devices", "cpu", "cpu", "--results", str(tmp_path / "r"),
                 "--reports", str(tmp_path / "p")]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"reports: {tmp_path / 'p' / 'index.html'}"
    (cell,) = tiny_grid().cells
    assert NotTraining.shown == [(cell.name, False)]
    store = ResultsStore(tmp_path / "r")
    assert sorted(lines_per_key(store).values()) == [1, 1]
    assert {row["method"] for row in store.latest().values()} == {"sgc"}
