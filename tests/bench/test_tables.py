import warnings
from pathlib import Path

import pandas as pd

from tests.bench.conftest import fake_result
from visagnn.bench import report, tables
from visagnn.bench.spec import plan_runs
from visagnn.bench.store import ResultsStore

BUILDERS = [tables.accuracy_table, tables.cost_table, tables.ablation_table,
            tables.batch_size_table, tables.sweep_table, tables.staleness_table,
            tables.spearman_table, tables.runs_table]
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
    # the swept variant less its λ: --loss alone at its default λ 0.5, not the main variant
    assert list(lam.index) == [("visagnn-sum --loss", "lam", "0"),
                               ("visagnn-sum --loss", "lam", "0.5"),
                               ("visagnn-sum --loss", "lam", "0.8")]
    cost = tables.cost_table(fake_data).data
    assert cost.loc["gcn", ("citeseer", "method memory (MB)")] == "OOM"
    # features 10 + histories 5, 6, 7 (seeds 0-2) + activations 6; the peak RSS is not in it
    assert cost.loc["gas", ("cora", "method memory (MB)")] == "22.0"
    assert cost.loc["gas", ("cora", "peak RSS (MB)")] == "110"
    failures = tables.failures_table(fake_data).data
    assert set(failures["status"]) == {"oom", "failed"}
    assert "made-up failure" in " ".join(failures["error"])


def test_staleness_table_measures_each_variant_against_gas_and_the_oracles_gain(fake_data):
    text = tables.staleness_table(fake_data).data
    heavy = text.loc[("cora", "P=80, B=1")]
    assert list(heavy.index) == ["gas", "gas --exact-halo", "gas --no-refresh-histories",
                                 "visagnn-sum"]
    # fake scores: GAS 70 + 0.4·mean seed - 0.2·B, the oracle +2, no refresh -1, VISAGNN-Sum +4
    assert heavy.loc["gas", "test (%)"] == "70.2 ± 0.4"
    assert list(heavy["Δ GAS"]) == ["+0.0", "+2.0", "-1.0", "+4.0"]
    assert list(heavy["of the oracle's gain"]) == ["—", "100 %", "-50 %", "200 %"]
    assert heavy.loc["visagnn-sum", "best epoch"] == "4 / 4"
    assert set(text.index.get_level_values("setting")) == {"P=80, B=1"}  # the studies only


def test_spearman_table_ranks_each_criterion_per_layer(fake_data):
    text = tables.spearman_table(fake_data).data
    row = text.loc[("cora", "P=80, B=1", "gas", "0")]
    # persistence 0.1·epoch and drift 0.2·epoch over epochs 1-4
    assert row["persistence"] == "+0.25 (+0.10 … +0.40)"
    assert row["drift"] == "+0.50 (+0.20 … +0.80)"
    assert row["grad"] == "—"


def test_the_papers_table_1_is_shown_as_published():
    text = tables.published_table().data
    assert text.loc["visagnn-sum", "reddit"] == "96.6 ± 0.2"
    assert text.loc["gcn", "ogbn-products"] == "OOM"
    assert text.loc["clustergcn", "ogbn-arxiv"] == "—"


def test_times_keep_three_significant_digits():
    assert [tables.significant(x) for x in (0.0004321, 0.01234, 1.234, 123.4, 0.0)] == [
        "0.000432", "0.0123", "1.23", "123", "0"]


def test_published_numbers_stand_beside_the_papers_datasets(tmp_path):
    store = ResultsStore(tmp_path)
    for spec in plan_runs("ogbn-arxiv", ["gas", "visagnn-sum"], seeds=[0], epochs=2):
        store.record(spec, fake_result(spec))
    text = tables.accuracy_table(report.load(tmp_path)).data
    published = "ogbn-arxiv, published (VISAGNN paper, Tables 1 and 7)"
    assert list(text.columns) == ["ogbn-arxiv (accuracy; P=40, B=20, 2 epochs)", published]
    assert list(text[published]) == ["71.7 ± 0.2", "73.2 ± 0.2"]  # GAS, VISAGNN-Sum rows


def test_the_reference_report_builds_without_warnings():
    data = report.load(REFERENCE / "results")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = [build(data) for build in BUILDERS]
    # every table has rows, Table 6 (the λ sweep of the paper form) among them
    assert [build.__name__ for build, table in zip(BUILDERS, built, strict=True)
            if table is None] == []
    accuracy = built[0].data
    assert accuracy.columns[0] == "cora (accuracy; P=80, B=10, 60 epochs)"
    assert accuracy.notna().all().all() and (accuracy != "").all().all()
    # one commit and one machine behind every number
    assert data.runs["commit"].nunique() == 1 and data.runs["hardware"].nunique() == 1
    assert not data.runs["commit"].iloc[0].endswith("+dirty")
    staleness = tables.staleness_table(data).data
    oracle = staleness.xs("gas --exact-halo", level="variant")
    # Cora and Amazon Computers (its map) at both settings, CiteSeer at the light one
    assert len(oracle) == 5


def test_diverged_runs_are_shown_as_diverged_not_as_a_score(tmp_path):
    store = ResultsStore(tmp_path)
    for spec in plan_runs("cora", ["gas", "visagnn-sum"], seeds=[0, 1], epochs=4):
        result = fake_result(spec)
        if spec.variant.method == "visagnn-sum":
            result.summary.update(status="diverged", diverged_epoch=2, last_finite_loss=0.9)
        store.record(spec, result)
    data = report.load(tmp_path)
    accuracy = tables.accuracy_table(data).data
    assert accuracy.loc["visagnn-sum"].tolist() == ["diverged"]
    assert accuracy.loc["gas"].tolist() == ["68.2 ± 0.3"]  # the finished runs keep theirs
    counts = tables.runs_table(data).data.reset_index().set_index("variant")
    assert counts.loc["visagnn-sum", ["ok", "diverged", "failed"]].tolist() == [0, 2, 0]
    assert counts.loc["visagnn-sum", "test (%)"] == "—"
    failures = tables.failures_table(data).data
    assert failures["status"].tolist() == ["diverged", "diverged"]
    assert set(failures["error"]) == {tables.DIVERGED}
