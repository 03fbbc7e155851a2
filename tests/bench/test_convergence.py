import math

import pandas as pd
import pytest

from tests.bench.mapstore import add_run
from visagnn.bench import figures, report, tables
from visagnn.bench.convergence import (
    convergence_runs,
    convergence_summary,
    faster_sentence,
    reach,
)
from visagnn.bench.store import ResultsStore


@pytest.fixture(scope="module")
def curves(tmp_path_factory):
    """Cora, 2 layers, B=1, two seeds. GAS's best validation: 0.70 (seed 0, epoch 3 of 1-s
    epochs), 0.72 (seed 1, epoch 2). The oracle gets there at epoch 2 of 2-s epochs (seed 0)
    and epoch 1 (seed 1): sooner in epochs, as soon in time on average. VISAGNN-Sum: at epoch 2 of
    1-s epochs (seed 0) and epoch 1 (seed 1): faster. GAS --no-refresh never reaches seed 0's."""
    store = ResultsStore(tmp_path_factory.mktemp("curves"))
    add_run(store, "cora", "gas", 0, 2, 1, [0.5, 0.6, 0.7, 0.65], [0.4, 0.5, 0.61, 0.6])
    add_run(store, "cora", "gas", 1, 2, 1, [0.6, 0.72, 0.7, 0.7], [0.5, 0.62, 0.6, 0.6])
    add_run(store, "cora", "gas --exact-halo", 0, 2, 1, [0.6, 0.7, 0.7, 0.71],
            [0.5, 0.63, 0.6, 0.6], epoch_s=[2.0] * 4)
    add_run(store, "cora", "gas --exact-halo", 1, 2, 1, [0.73, 0.7, 0.7, 0.7],
            [0.66, 0.6, 0.6, 0.6], epoch_s=[2.0] * 4)
    add_run(store, "cora", "visagnn-sum", 0, 2, 1, [0.6, 0.71, 0.7, 0.7], [0.5, 0.64, 0.6, 0.6])
    add_run(store, "cora", "visagnn-sum", 1, 2, 1, [0.72, 0.7, 0.7, 0.7], [0.60, 0.6, 0.6, 0.6])
    add_run(store, "cora", "gas --no-refresh-histories", 0, 2, 1, [0.5, 0.6, 0.69, 0.65],
            [0.4, 0.5, 0.6, 0.6])
    add_run(store, "cora", "gas --no-refresh-histories", 1, 2, 1, [0.72, 0.6, 0.6, 0.6],
            [0.7, 0.5, 0.6, 0.6])
    return report.load(store.folder)


def test_reach_is_the_first_epoch_at_the_target_with_its_training_time_and_test():
    curve = pd.DataFrame({"epoch": [1, 2, 3], "val": [60.0, 70.0, 71.0],
                          "test": [50.0, 65.0, 66.0], "epoch_s": [1.5, 2.0, 2.5]})
    assert reach(curve, 70.0) == (2, 3.5, 65.0)
    assert reach(curve, 72.0) is None


def test_convergence_columns_per_seed_against_gas_best_of_the_same_seed(curves):
    rows = convergence_runs(curves.runs, curves.epochs).set_index(["variant", "seed"])
    assert rows.loc[("gas", 0), ["target", "epoch", "seconds", "test"]].tolist() == (
        pytest.approx([70.0, 3, 3.0, 61.0]))
    assert rows.loc[("gas", 1), ["epoch", "seconds"]].tolist() == [2, 2.0]
    assert rows.loc[("gas --exact-halo", 0), ["epoch", "seconds", "test"]].tolist() == (
        pytest.approx([2, 4.0, 63.0]))
    assert rows.loc[("gas --exact-halo", 1), ["epoch", "seconds"]].tolist() == [1, 2.0]
    assert math.isnan(rows.loc[("gas --no-refresh-histories", 0), "epoch"])
    summary = convergence_summary(convergence_runs(curves.runs, curves.epochs)).set_index(
        "variant")
    assert summary.loc["visagnn-sum", "verdict"] == "faster"  # 1.5 s against GAS's 2.5 s
    assert summary.loc["gas --exact-halo", "verdict"] == "slower"  # 3 s against 2.5 s
    assert summary.loc["gas --no-refresh-histories", "verdict"] == "not at 1 of 2 seeds"


def test_convergence_table_and_sentence_print_those_numbers(curves):
    text = tables.convergence_table(curves).data
    row = text.loc[("cora", "2 layers, P=80, B=1", "visagnn-sum")]
    assert row.tolist() == ["71.0", "2 / 2", "1.5", "1.50", "62.0 ± 2.8", "faster"]
    never = text.loc[("cora", "2 layers, P=80, B=1", "gas --no-refresh-histories")]
    assert never["reached"] == "1 / 2" and never["epoch"] == "1.0"
    assert text.loc[("cora", "2 layers, P=80, B=1", "gas"), "against GAS"] == "—"
    assert tables.convergence_sentence(curves) == (
        "visagnn-sum reaches GAS's best validation score in less training time than GAS in 1 "
        "of 1 cells: cora (2 layers, P=80, B=1).")
    summary = convergence_summary(convergence_runs(curves.runs, curves.epochs))
    assert faster_sentence(summary, "gas --exact-halo") == (
        "gas --exact-halo reaches GAS's best validation score in less training time than GAS "
        "in 0 of 1 cells; not in cora (2 layers, P=80, B=1).")
    (figure,) = figures.convergence_time_figures(curves)
    axis = figure.axes[0]
    assert axis.get_title() == "2 layers, P=80, B=1"
    assert len(axis.get_lines()) >= 4  # a line per variant and GAS's best
