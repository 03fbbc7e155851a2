from tests.bench.conftest import fake_result
from visagnn.bench import figures, report, tables
from visagnn.bench.spec import plan_runs
from visagnn.bench.store import ResultsStore


def test_staleness_keys_are_found_by_name(fake_data):
    assert report.staleness_keys(fake_data.epochs) == [
        "spearman_drift_l0", "spearman_grad_l0", "spearman_persistence_l0",
        "true_staleness_mean_l0", "true_staleness_p95_l0"]


def test_runs_are_classified_by_what_their_variant_changes(fake_data):
    kinds = fake_data.runs.groupby("variant")["kind"].first()
    assert kinds["gas"] == "main" and kinds["visagnn-sum --loss"] == "ablation"
    assert kinds["visagnn-sum --loss --lam 0.8"] == "sweep"
    assert kinds["gas --exact-halo"] == kinds["gas --no-refresh-histories"] == "setting"
    swept = fake_data.runs.groupby("variant")["swept"].first()
    assert swept["visagnn-sum --loss --lam 0.8"] == "lam"


def test_palette_gives_each_method_one_colour_everywhere():
    colours = report.palette(["visagnn-sum", "gas", "visagnn-sum --loss"])
    assert colours["gas"] == report.METHOD_COLORS["gas"]
    assert colours == report.palette(["visagnn-sum --loss", "gas", "visagnn-sum"])


def test_a_changed_setting_replaces_the_older_runs_in_the_report(tmp_path):
    store = ResultsStore(tmp_path)
    for epochs in (4, 5):  # a second grid with more epochs
        for spec in plan_runs("cora", ["gas"], seeds=[0, 1], epochs=epochs):
            store.record(spec, fake_result(spec))
    data = report.load(tmp_path)
    assert data.superseded == 2 and set(data.runs["config"].map(lambda c: c["epochs"])) == {5}
    assert "2 more runs of older settings" in report.overview(data)


def test_an_empty_store_gives_nothing_to_show(tmp_path):
    empty = report.load(ResultsStore(tmp_path).folder)
    assert tables.accuracy_table(empty) is None and figures.convergence_figures(empty) is None
    assert figures.staleness_figures(empty) is None and tables.failures_table(empty) is None
    assert "no runs" in report.overview(empty)


def test_batch_size_runs_do_not_pool_other_numbers_of_parts(tmp_path):
    store = ResultsStore(tmp_path)
    for parts, batches in ((40, (10,)), (80, (1, 10))):
        for spec in plan_runs("cora", ["gas"], batch_parts=batches, seeds=[0],
                              num_parts=parts, epochs=2):
            store.record(spec, fake_result(spec))
    runs = report.batch_size_runs(report.load(tmp_path).runs)
    settings = zip(runs["num_parts"], runs["batch_parts"], strict=True)
    assert sorted(settings) == [(80, 1), (80, 10)]
    lines = figures.batch_size_figure(report.load(tmp_path)).axes[0]
    assert list(lines.get_xticks()) == [1, 10]
