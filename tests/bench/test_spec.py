import hashlib
import json
from pathlib import Path

import pytest

from visagnn.bench.grid import reference_grid
from visagnn.bench.spec import RunSpec, dataset_label, plan_runs
from visagnn.bench.variants import Variant
from visagnn.config import RunConfig
from visagnn.methods import METHODS
from visagnn.methods.historical_method import HistoricalMethod

REFERENCE_RUNS = Path(__file__).parents[2] / "reports/reference/results/runs.jsonl"


def test_plan_orders_batch_sizes_then_variants_then_seeds():
    specs = plan_runs("cora", ["gas", "visagnn-sum --loss"], batch_parts=[5, 10],
                      seeds=[0, 1], epochs=3)
    assert [(s.config.batch_parts, s.variant.spec, s.config.seed) for s in specs][:3] == [
        (5, "gas", 0), (5, "gas", 1), (5, "visagnn-sum --loss", 0)]
    assert len(specs) == 8 and len({s.key for s in specs}) == 8
    assert specs[0].config.num_parts == 40 and specs[0].config.epochs == 3  # cora defaults


def test_key_covers_the_run_and_ignores_the_data_root():
    (base,) = plan_runs("cora", ["gas"], epochs=3)
    (same,) = plan_runs("cora", ["gas"], epochs=3, root="/elsewhere")
    assert same.key == base.key and base.key.startswith("cora_gas_B10_s0_")
    changes = [plan_runs("cora", ["gas"], epochs=4), plan_runs("cora", ["gas"], seeds=[1],
               epochs=3), plan_runs("cora", ["gas"], batch_parts=[5], epochs=3),
               plan_runs("cora", ["gas"], num_parts=20, epochs=3),
               plan_runs("cora", ["gas"], epochs=3, config={"lr": 0.01}),
               plan_runs("citeseer", ["gas"], epochs=3)]
    assert len({base.key} | {specs[0].key for specs in changes}) == 1 + len(changes)
    (full,) = plan_runs("cora", ["visagnn-sum"], epochs=3)
    (ablated,) = plan_runs("cora", ["visagnn-sum --loss"], epochs=3)
    assert full.key != ablated.key


def test_invalid_configurations_fail_before_anything_runs():
    with pytest.raises(ValueError, match="batch_parts"):
        plan_runs("cora", ["gas"], batch_parts=[50])
    with pytest.raises(TypeError, match="unknown RunConfig fields"):
        plan_runs("cora", ["gas"], config={"hidden": 3})


def test_dataset_labels(tmp_path):
    assert dataset_label("Cora") == "cora"
    graph = tmp_path / "My_Graph.pt"
    graph.write_bytes(b"one graph")
    digest = hashlib.sha256(b"one graph").hexdigest()
    assert dataset_label(str(graph)) == f"My_Graph-{digest[:8]}"


def test_two_graph_files_of_one_name_are_two_datasets(tmp_path):
    first, second = tmp_path / "a" / "g.pt", tmp_path / "b" / "g.pt"
    for path, content in ((first, b"first graph"), (second, b"second graph")):
        path.parent.mkdir()
        path.write_bytes(content)
    (one,), (two,) = (plan_runs(str(path), ["gas"]) for path in (first, second))
    assert one.key != two.key and one.dataset != two.dataset
    assert one.dataset.startswith("g-") and two.dataset.startswith("g-")
    (again,) = plan_runs(str(tmp_path / "a" / ".." / "a" / "g.pt"), ["gas"])
    assert again.key == one.key  # the resolved path
    key = one.key
    first.write_bytes(b"first graph, edited")
    (edited,) = plan_runs(str(first), ["gas"])
    assert edited.key != key  # the content


def test_a_named_dataset_is_keyed_by_its_name_in_lowercase():
    (upper,), (lower,) = plan_runs("CORA", ["gas"]), plan_runs("cora", ["gas"])
    assert upper.key == lower.key and upper.config.dataset == "cora"


def test_a_key_hashes_only_the_settings_that_apply_to_the_method():
    history = {"measure_staleness_every": 5, "history_dtype": "float16", "push_rows": "none"}
    (sgc,), (sgc_history,) = plan_runs("cora", ["sgc"]), plan_runs("cora", ["sgc"],
                                                                    config=history)
    assert sgc.key == sgc_history.key
    (gas,), (gas_history,) = plan_runs("cora", ["gas"]), plan_runs("cora", ["gas"],
                                                                    config=history)
    assert gas.key != gas_history.key
    (sgc_parts,) = plan_runs("cora", ["sgc"], batch_parts=[5])
    assert sgc_parts.key != sgc.key  # the grid's axes: a cell compares every method it lists


def test_the_reference_store_is_keyed_as_its_runs_are_planned():
    rows = [json.loads(line) for line in REFERENCE_RUNS.read_text().splitlines()]
    # exactly the runs the reference grid plans on it (its heavy cells from its own map), once
    planned = {spec.key for spec in reference_grid(heavy_from=REFERENCE_RUNS.parent).runs()}
    assert sorted(row["key"] for row in rows) == sorted(planned)
    assert {row["status"] for row in rows} == {"ok"}
    for row in rows:
        spec = RunSpec(RunConfig(**row["config"]), Variant.parse(row["variant"]))
        assert spec.key == row["key"]
        assert (REFERENCE_RUNS.parent / "epochs" / f"{spec.key}.jsonl").is_file()
        if issubclass(METHODS[row["method"]], HistoricalMethod):
            # what the run recorded it trained with (its summary adds derived fields)
            assert spec.options == {name: row["options"][name] for name in spec.options}
