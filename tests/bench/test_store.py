import json

import pandas as pd

from tests.bench.conftest import TINY, fake_result
from visagnn.bench.experiment import run_experiment
from visagnn.bench.spec import plan_runs
from visagnn.bench.store import ResultsStore


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
