import warnings
from pathlib import Path

import pandas as pd

from tests.bench.conftest import fake_result
from visagnn.bench import report, tables
from visagnn.bench.spec import plan_runs
from visagnn.bench.store import ResultsStore

BUILDERS = [tables.accuracy_table, tables.cost_table, tables.ablation_table,
            tables.batch_size_table, tables.sweep_table, tables.runs_table]
REFERENCE = Path(__file__).parents[2] / "reports" / "reference"


def test_every_table_has_provenance_in_its_caption(fake_data):
    for build in [*BUILDERS, tables.failures_table]:
        text = build(fake_data).to_html()
        assert "3 seeds per entry" in text and "torch thread" in text and "commit " in text, build
        assert pd.Timestamp.now("UTC").strftime("%Y-%m-%d") in text


def test_accuracy_table_shows_mean_std_best_in_bold_and_oom_and_failures(fake_data):
    table = tables.accuracy_table(fake_data)
    text = table.data
    assert list(text.index) == ["sage", "gcn", "gas", "visagnn-cat", "visagnn-sum"]  # Table 1
    assert list(text.loc["sage"]) == ["—", "failed"]
    cora = "cora (accuracy; P=40, B=10, 4 epochs)"
    citeseer = "citeseer (accuracy; P=24, B=8, 4 epochs)"
    assert list(text.columns) == [cora, citeseer]
    # every method at the one setting, not at the batch size B=5 where its validation is best
    assert text.loc["visagnn-sum", cora] == "72.4 ± 0.4"
    assert text.loc["gcn", citeseer] == "OOM"
    styles = table._compute().ctx
    best = [cell for cell, props in styles.items() if props and "bold" in props[0][1]]
    assert (text.index.get_loc("visagnn-sum"), 0) in best


def test_study_tables_have_their_rows(fake_data):
    ablation = tables.ablation_table(fake_data).data
    assert list(ablation.index) == ["visagnn-sum", "visagnn-sum --loss",
                                    "visagnn-sum --no-attention", "visagnn-sum --no-augment"]
    batch = tables.batch_size_table(fake_data).data
    assert list(batch.index) == [("cora", 40, 5), ("cora", 40, 10)]
    assert list(batch.columns) == ["gas", "visagnn-sum"]
    lam = tables.sweep_table(fake_data).data
    assert list(lam.index) == [("visagnn-sum", "lam", "0"), ("visagnn-sum", "lam", "0.5"),
                               ("visagnn-sum", "lam", "0.8")]
    cost = tables.cost_table(fake_data).data
    assert cost.loc["gcn", ("citeseer", "added memory (MB)")] == "OOM"
    assert cost.loc["gas", ("cora", "added memory (MB)")] == "21.0"  # seeds add 0, 1, 2 MB
    assert cost.loc["gas", ("cora", "peak RSS (MB)")] == "110"
    failures = tables.failures_table(fake_data).data
    assert set(failures["status"]) == {"oom", "failed"}
    assert "made-up failure" in " ".join(failures["error"])


def test_times_keep_three_significant_digits():
    assert [tables.significant(x) for x in (0.0004321, 0.01234, 1.234, 123.4, 0.0)] == [
        "0.000432", "0.0123", "1.23", "123", "0"]


def test_published_numbers_stand_beside_the_papers_datasets(tmp_path):
    store = ResultsStore(tmp_path)
    for spec in plan_runs("ogbn-arxiv", ["gas", "visagnn-sum"], seeds=[0], epochs=2):
        store.record(spec, fake_result(spec))
    text = tables.accuracy_table(report.load(tmp_path)).data
    published = "ogbn-arxiv, published (VISAGNN paper, Table 1)"
    assert list(text.columns) == ["ogbn-arxiv (accuracy; P=40, B=20, 2 epochs)", published]
    assert list(text[published]) == ["71.7 ± 0.2", "73.2 ± 0.2"]  # GAS, VISAGNN-Sum rows


def test_the_reference_report_builds_without_warnings():
    data = report.load(REFERENCE / "results")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = [build(data) for build in BUILDERS]
    assert all(table is not None for table in built)
    accuracy = built[0].data
    assert accuracy.columns[0] == "cora (accuracy; P=40, B=10, 100 epochs)"
    assert accuracy.notna().all().all() and (accuracy != "").all().all()
