from matplotlib.figure import Figure

from visagnn.bench import figures


def test_every_figure_kind_is_drawn(fake_data):
    drawn = {
        "accuracy": figures.accuracy_figure(fake_data),
        "convergence": figures.convergence_figures(fake_data),
        "batch size": figures.batch_size_figure(fake_data),
        "sweep": figures.sweep_figures(fake_data),
        "staleness": figures.staleness_figures(fake_data),
    }
    for name, figure in drawn.items():
        of_kind = figure if isinstance(figure, list) else [figure]
        assert of_kind and all(isinstance(f, Figure) for f in of_kind), name
        assert "3 seeds per entry" in of_kind[0].get_supxlabel(), name
    assert len(drawn["convergence"]) == 2  # one per dataset
    by_epoch, by_time = drawn["convergence"][0].axes[:2]
    assert by_time.get_xlabel() == "training time (s)"
    assert len(by_epoch.collections) >= 4  # one seed band per method


def test_staleness_panels_are_the_recorded_keys(fake_data):
    cora = figures.staleness_figures(fake_data)[0]
    assert [axis.get_title() for axis in cora.axes if axis.get_visible()] == [
        "spearman drift (layer 0)", "spearman grad (layer 0)", "spearman persistence (layer 0)",
        "true staleness mean (layer 0)", "true staleness p95 (layer 0)"]
    assert (figures.staleness_title("true_staleness_exact_rows_l2")
            == "true staleness exact rows (layer 2)")
