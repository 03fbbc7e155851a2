import json
from pathlib import Path

import pandas as pd
import pytest

from tests.bench.conftest import TINY, fake_result
from visagnn.bench import report
from visagnn.bench.experiment import run_experiment
from visagnn.bench.grid import Cell, Grid
from visagnn.bench.spec import plan_runs
from visagnn.bench.store import ResultsStore, StoreError
from visagnn.cli import main


def test_runs_and_epochs_round_trip_and_load_with_pandas(tmp_path):
    store = ResultsStore(tmp_path)
    specs = plan_runs("cora", ["gas", "visagnn-sum"], seeds=[0, 1], epochs=4)
    for spec in specs:
        store.record(spec, fake_result(spec))
    runs = pd.read_json(tmp_path / "runs.jsonl", lines=True)
    assert list(runs["key"]) == [spec.key for spec in specs]
    assert {"variant", "changed", "hardware", "commit", "date", "train_s", "test",
            "config", "options"} <= set(runs.columns)
    epochs = store.epochs()
    assert len(epochs) == 4 * len(specs)
    assert {"dataset", "variant", "seed", "batch_parts", "true_staleness_p95_l0"} <= set(
        epochs.columns)
    assert store.finished_keys() == {spec.key for spec in specs}


def test_non_finite_numbers_are_stored_as_strict_json_nulls(tmp_path):
    store = ResultsStore(tmp_path)
    (spec,) = plan_runs("cora", ["gas"], epochs=4)
    result = fake_result(spec)
    result.records[0]["loss"] = float("nan")
    result.summary["test"] = float("inf")
    store.record(spec, result)

    def strict(text):
        return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the store"))

    (run,) = [strict(line) for line in (tmp_path / "runs.jsonl").read_text().splitlines()]
    epochs = [strict(line) for line in
              (tmp_path / "epochs" / f"{spec.key}.jsonl").read_text().splitlines()]
    assert run["test"] is None and epochs[0]["loss"] is None and epochs[1]["loss"] == 0.5


def test_a_rerun_replaces_a_failure_and_the_last_line_wins(tmp_path):
    store = ResultsStore(tmp_path)
    (spec,) = plan_runs("cora", ["gas"], epochs=4)
    store.record_failure(spec, "RuntimeError: boom", "Traceback ...")
    assert store.finished_keys() == set()
    assert store.runs().loc[0, "status"] == "failed"
    store.record(spec, fake_result(spec))
    assert store.finished_keys() == {spec.key}
    assert len(store.runs()) == 1 and store.runs().loc[0, "status"] == "ok"


def test_a_line_torn_by_a_crash_is_skipped_and_does_not_swallow_the_next(tmp_path):
    store = ResultsStore(tmp_path)
    first, second = plan_runs("cora", ["gas"], seeds=[0, 1], epochs=4)
    store.record(first, fake_result(first))
    with store.runs_path.open("a") as handle:
        handle.write(json.dumps({"key": "torn", "status": "ok"})[:20])
    offset = store.offset()
    store.record(second, fake_result(second))
    assert store.finished_keys() == {first.key, second.key}
    assert store.keys_since(offset) == {second.key}


def test_an_empty_store_gives_empty_frames(tmp_path):
    store = ResultsStore(tmp_path / "none")
    assert store.runs().empty and store.epochs().empty and store.finished_keys() == set()


def test_a_claimed_run_is_not_claimed_again_until_released(tmp_path):
    store, other = ResultsStore(tmp_path), ResultsStore(tmp_path)  # two grids, one store
    with store.claim("cora_gas_B10_s0_abc") as mine:
        with other.claim("cora_gas_B10_s0_abc") as theirs:
            assert mine and not theirs
        with other.claim("cora_gas_B10_s1_def") as another_run:
            assert another_run
    with other.claim("cora_gas_B10_s0_abc") as after:
        assert after


def test_two_experiments_on_one_store_train_each_run_once(tmp_path, tiny_graph, capsys):
    specs = plan_runs(str(tiny_graph), ["gas"], seeds=[0, 1], epochs=1, num_parts=4,
                      batch_parts=(2,), config=TINY)
    store = ResultsStore(tmp_path)
    with store.claim(specs[0].key):  # another grid is training seed 0
        run_experiment(specs, store, progress=False)
    assert "skipped: another process is training it" in capsys.readouterr().out
    assert set(store.latest()) == {specs[1].key}


class RecordingExecutor:
    """Records a made-up result for every unfinished run of a cell, as a notebook would."""

    threads = None

    def __call__(self, cell, results: Path, force: bool) -> None:
        store = ResultsStore(results)
        finished = set() if force else store.finished_keys()
        for spec in cell.runs():
            if spec.key not in finished:
                store.record(spec, fake_result(spec))


def two_cells(tiny_graph) -> Grid:
    return Grid("two cells", tuple(Cell(str(tiny_graph), parts, ("gas",), (0,), num_parts=4,
                                        epochs=2, config=tuple(TINY.items()))
                                   for parts in (1, 2)))


MALFORMED = [
    (b"[1]", "an array, not an object"),
    (b"42", "a number, not an object"),
    (b"null", "null, not an object"),
    (b'"text"', "a string, not an object"),
    (b'{"a": 1}', "no key or status"),
    (b'{"key": 7, "status": "ok"}', "no key"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b'{"key": "cora_gas", "status": "o', "cut mid-JSON"),
    (b"garbage text", "not JSON"),
]


@pytest.mark.parametrize(("line", "reason"), MALFORMED)
def test_a_line_that_is_not_a_run_is_skipped_with_one_warning_and_the_grid_resumes(
        line, reason, tmp_path, tiny_graph, capsys):
    from visagnn.bench.runner import run_grid

    grid = two_cells(tiny_graph)
    first, second = (cell.runs()[0] for cell in grid.cells)
    store = ResultsStore(tmp_path)
    store.record(first, fake_result(first))
    with store.runs_path.open("ab") as handle:
        handle.write(line + b"\n")
    recorded = store.runs_path.read_bytes()
    assert set(store.latest()) == {first.key} and set(store.latest()) == {first.key}
    err = capsys.readouterr().err
    assert err == (f"warning: {store.runs_path}: skipped 1 line that is not a run record: "
                   f"line 2 ({reason})\n")  # once, though read twice
    outcomes = run_grid(grid, tmp_path, RecordingExecutor(), log=lambda _: None)
    assert [outcome.status for outcome in outcomes] == ["skipped", "done"]
    assert store.runs_path.read_bytes().startswith(recorded)  # nothing recorded is lost
    assert set(store.finished_keys()) == {first.key, second.key}
    assert len(store.runs()) == 2 and len(store.epochs()) == 8
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("damage", ["cut", "folder", "not utf-8"])
def test_an_unreadable_epochs_file_drops_only_that_runs_curves(damage, tmp_path, capsys):
    store = ResultsStore(tmp_path)
    first, second = plan_runs("cora", ["gas"], seeds=[0, 1], epochs=4)
    for spec in (first, second):
        store.record(spec, fake_result(spec))
    path = store.epochs_folder / f"{first.key}.jsonl"
    if damage == "cut":
        path.write_bytes(path.read_bytes()[:-30])
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes(b"\xff\xfe" + path.read_bytes())
    epochs = store.epochs()
    assert set(epochs["seed"]) == {1} and len(epochs) == 4
    assert len(report.load(tmp_path).runs) == 2  # the report keeps the run, not its curves
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {path}: unreadable (") and err.count("\n") == 1
    assert err.endswith("that run's curves are left out\n")


def test_a_runs_file_that_is_a_folder_is_one_line_naming_it(tmp_path, capsys):
    (tmp_path / "runs.jsonl").mkdir()
    with pytest.raises(StoreError, match=f"{tmp_path / 'runs.jsonl'} is a folder, not a file"):
        ResultsStore(tmp_path).latest()
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--results", str(tmp_path), "--reports", str(tmp_path / "pages")])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"python -m visagnn report: error: {tmp_path / 'runs.jsonl'} is a folder, not a file "
        f"of JSON lines: move it away\n")
    assert not (tmp_path / "pages" / "index.html").exists()
