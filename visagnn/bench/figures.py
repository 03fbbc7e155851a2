"""The report's figures (paper Figures 2-3 and Tables 1, 5, 6 and staleness as plots).

Each builder takes a :class:`~visagnn.bench.report.ReportData` and returns a seaborn-styled
matplotlib ``Figure`` (or one per dataset), or ``None`` when the store holds nothing for it.
Lines are means over seeds with ± std bands or bars; every method has one colour in every
figure (:func:`~visagnn.bench.report.palette`); the footer says where the runs come from.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from visagnn.bench.convergence import staleness_cells
from visagnn.bench.report import (
    STALENESS_METHODS,
    ReportData,
    batch_size_runs,
    dataset_order,
    metric_names,
    ok_runs,
    ordered,
    palette,
    provenance_note,
    selected_main,
    setting_text,
    staleness_keys,
    sweep_runs,
)
from visagnn.bench.staleness_map import MAP_VARIANTS, gain_text, share_text, staleness_map

MIN_FIGURE_WIDTH = 8.0
ACCURACY_COLUMNS = 3
"""Dataset panels per row of the accuracy figure (more rows beyond)."""


def _figure(panels: int, width: float = 6.0, height: float = 4.2, columns: int | None = None
            ) -> tuple[Figure, np.ndarray]:
    columns = columns or panels
    rows = -(-panels // columns)
    figure = Figure(figsize=(max(width * columns, MIN_FIGURE_WIDTH), height * rows + 0.8),
                    layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, squeeze=False).ravel())
    for extra in axes[panels:]:
        extra.set_visible(False)
    return figure, axes[:panels]


def _finish(figure: Figure, title: str, runs: pd.DataFrame) -> Figure:
    """Title on top, provenance in small print below (both placed by the layout engine)."""
    figure.suptitle(title, fontsize=14, fontweight="bold")
    figure.supxlabel(provenance_note(runs), fontsize=8, color="#555", x=0.01, ha="left")
    return figure


def _legend_outside(axis: Any, title: str) -> None:
    handles, labels = axis.get_legend_handles_labels()
    if axis.get_legend() is not None:
        axis.get_legend().remove()
    if handles:
        axis.legend(handles, labels, title=title, loc="upper left", bbox_to_anchor=(1.01, 1),
                    frameon=False, fontsize=9)


def accuracy_figure(data: ReportData) -> Figure | None:
    """Tables 1-2 as dots with ±std bars: one panel per dataset (titled with its setting),
    the methods that ran there on the y axis."""
    runs = selected_main(data.runs) if not data.runs.empty else data.runs
    runs = ok_runs(runs) if not runs.empty else runs
    if runs.empty:
        return None
    datasets = dataset_order(runs)
    metrics = metric_names(runs)
    variants = ordered(runs["variant"])
    colors = palette(variants)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        figure, axes = _figure(len(datasets), width=5.0, height=0.38 * len(variants) + 1.6,
                               columns=min(len(datasets), ACCURACY_COLUMNS))
        for axis, dataset in zip(axes, datasets, strict=True):
            of_dataset = runs[runs["dataset"] == dataset]
            present = ordered(of_dataset["variant"])
            sns.pointplot(data=of_dataset, x="score", y="variant", hue="variant",
                          order=present, hue_order=present, palette=colors, errorbar="sd",
                          linestyle="none", capsize=0.3, ax=axis, legend=False)
            axis.set(title=f"{dataset} ({setting_text(runs, dataset)})",
                     xlabel=f"test {metrics[dataset]} (%)", ylabel="")
    return _finish(figure, "Test score per method (mean ± std over seeds)", runs)


def _seed_band_lines(axis: Any, epochs: pd.DataFrame, x: str, colors: dict[str, str]) -> None:
    sns.lineplot(data=epochs, x=x, y="score", hue="variant", hue_order=list(colors),
                 palette=colors, errorbar="sd", ax=axis)


def convergence_figures(data: ReportData) -> list[Figure] | None:
    """Paper Figures 2-3, per dataset: test score against epochs and against training time,
    each method at its accuracy-table batch size; lines are means, bands ± std over seeds."""
    if data.epochs.empty or data.runs.empty:
        return None
    chosen = ok_runs(selected_main(data.runs))
    epochs = data.epochs[data.epochs["key"].isin(chosen["key"])]
    if epochs.empty:
        return None
    metrics = metric_names(data.runs)
    figures = []
    for dataset in dataset_order(chosen):
        curves = epochs[epochs["dataset"] == dataset].copy()
        if curves.empty:
            continue
        # seeds run at different speeds: place each epoch at its mean time over seeds
        curves["mean_time"] = curves.groupby(["variant", "epoch"])["train_time"].transform(
            "mean")
        colors = palette(ordered(curves["variant"]))
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
            figure, (by_epoch, by_time) = _figure(2, width=6.2)
            _seed_band_lines(by_epoch, curves, "epoch", colors)
            _seed_band_lines(by_time, curves, "mean_time", colors)
            label = f"test {metrics[dataset]} (%)"
            by_epoch.set(title="against epochs", xlabel="epoch", ylabel=label)
            by_epoch.xaxis.set_major_locator(MaxNLocator(integer=True))
            by_time.set(title="against training time", xlabel="training time (s)",
                        ylabel=label)
            by_epoch.get_legend().remove()
            _legend_outside(by_time, "method")
        runs = chosen[chosen["dataset"] == dataset]
        figures.append(_finish(figure, f"Convergence on {dataset}", runs))
    return figures or None


def _score_lines(runs: pd.DataFrame, x: str, hue: str, xlabel: str, title: str,
                 style: str | None = None) -> Figure:
    """Test score against ``x``, one panel per dataset, a colour per ``hue`` and, where given
    and not constant within a dataset, a line style per ``style``; means with ±std bars."""
    datasets = dataset_order(runs)
    metrics = metric_names(runs)
    colors = palette(ordered(runs[hue]))
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        figure, axes = _figure(len(datasets), width=5.2)
        for axis, dataset in zip(axes, datasets, strict=True):
            of_dataset = runs[runs["dataset"] == dataset]
            styled = style if style and of_dataset[style].nunique() > 1 else None
            sns.lineplot(data=of_dataset, x=x, y="score", hue=hue, hue_order=list(colors),
                         palette=colors, style=styled, errorbar="sd", err_style="bars",
                         marker="o", ax=axis)
            axis.set(title=dataset, xlabel=xlabel, ylabel=f"test {metrics[dataset]} (%)",
                     xticks=sorted(of_dataset[x].unique()))
            if axis is axes[-1]:
                _legend_outside(axis, "method")
            elif axis.get_legend() is not None:
                axis.get_legend().remove()
    return _finish(figure, f"{title} (mean ± std over seeds)", runs)


def batch_size_figure(data: ReportData) -> Figure | None:
    """Table 5 as lines: test score against the batch size B, one panel per dataset, a line
    style per number of parts P where a dataset was studied at several."""
    runs = batch_size_runs(data.runs) if not data.runs.empty else data.runs
    runs = ok_runs(runs) if not runs.empty else runs
    if runs.empty:
        return None
    runs = runs.assign(P=[f"P={parts}" for parts in runs["num_parts"]])
    return _score_lines(runs, "batch_parts", "variant", "batch size B (parts per mini-batch)",
                        "Test score against batch size", style="P")


def sweep_figures(data: ReportData) -> list[Figure] | None:
    """Table 6 as lines, one figure per swept numeric option (e.g. ``lam``): test score
    against its value, one panel per dataset, a line style per setting (P, B) where a dataset
    was studied at several."""
    runs = sweep_runs(data.runs) if not data.runs.empty else data.runs
    runs = ok_runs(runs) if not runs.empty else runs
    figures = []
    for option, of_option in (runs.groupby("option") if not runs.empty else ()):
        values = pd.to_numeric(of_option["value"], errors="coerce")
        if values.isna().any():  # a choice among names: the sweep table shows it
            continue
        of_option = of_option.assign(value=values, setting=[
            f"P={parts}, B={batch}" for parts, batch in zip(
                of_option["num_parts"], of_option["batch_parts"], strict=True)])
        figures.append(_score_lines(of_option, "value", "base", f"option {option}",
                                    f"Test score against {option}", style="setting"))
    return figures or None


def staleness_title(key: str) -> str:
    """A panel title for a record key, e.g. ``spearman_grad_l0`` → ``spearman grad (layer 0)``,
    ``true_staleness_mean_l1`` → ``true staleness mean (layer 1)``."""
    return re.sub(r"_l(\d+)$", r" (layer \1)", key).replace("_", " ")


def staleness_figures(data: ReportData) -> list[Figure] | None:
    """True staleness and its proxies against epochs: one figure per dataset, one panel per
    recorded key (bands ± std over seeds), a colour per method and, where staleness was
    measured at several settings, a line style per setting (P, B). GAS and VISAGNN with their
    defaults (:data:`~visagnn.bench.report.STALENESS_METHODS`) are shown; where none of them
    recorded staleness, every variant that did."""
    keys = staleness_keys(data.epochs) if not data.epochs.empty else []
    if not keys:
        return None
    measured = data.epochs.dropna(subset=keys, how="all")
    measured = measured.assign(setting=[f"P={parts}, B={batch}" for parts, batch in zip(
        measured["num_parts"], measured["batch_parts"], strict=True)])
    main = measured[measured["variant"].isin(STALENESS_METHODS)]
    figures = []
    for dataset in [d for d in dataset_order(data.runs) if d in set(measured["dataset"])]:
        of_dataset = main[main["dataset"] == dataset]
        if of_dataset.empty:
            of_dataset = measured[measured["dataset"] == dataset]
        present = [key for key in keys if of_dataset[key].notna().any()]
        colors = palette(ordered(of_dataset["variant"]))
        style = "setting" if of_dataset["setting"].nunique() > 1 else None
        columns = min(len(present), 2)
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
            figure, axes = _figure(len(present), width=5.2, height=3.6, columns=columns)
            for axis, key in zip(axes, present, strict=True):
                values = of_dataset.assign(value=pd.to_numeric(of_dataset[key],
                                                               errors="coerce"))
                sns.lineplot(data=values.dropna(subset=["value"]), x="epoch", y="value",
                             hue="variant", hue_order=list(colors), palette=colors,
                             style=style, errorbar="sd", marker="o", markersize=5, ax=axis)
                axis.set(title=staleness_title(key), xlabel="epoch", ylabel="")
                axis.xaxis.set_major_locator(MaxNLocator(integer=True))
                if axis is axes[columns - 1]:
                    _legend_outside(axis, "method")
                elif axis.get_legend() is not None:
                    axis.get_legend().remove()
        runs = data.runs[data.runs["key"].isin(of_dataset["key"])]
        figures.append(_finish(
            figure, f"Staleness on {dataset}: true staleness and how its proxies rank it",
            runs))
    return figures or None


def map_heatmaps(data: ReportData) -> list[Figure] | None:
    """The staleness map, one heat map per graph (:mod:`visagnn.bench.staleness_map`): depth
    (rows) against parts P and batch size B (columns), coloured by the oracle's gain over GAS;
    each cell says the gain ± its std and, beside it, VISAGNN-Sum's share; heavy-staleness
    cells are framed."""
    mapped = staleness_map(data.runs)
    if mapped.empty:
        return None
    figures = []
    for dataset, cells in mapped.groupby("dataset", sort=False):
        cells = cells.assign(column=[f"P={parts}, B={batch}" for parts, batch in zip(
            cells["num_parts"], cells["batch_parts"], strict=True)])
        columns = list(dict.fromkeys(cells.sort_values(["num_parts", "batch_parts"])["column"]))
        gain = cells.pivot(index="num_layers", columns="column", values="gain")[columns]
        labels = cells.assign(label=[
            f"{gain_text(g, s)}\n{share_text(share)}" for g, s, share in zip(
                cells["gain"], cells["gain_std"], cells["share"], strict=True)]).pivot(
            index="num_layers", columns="column", values="label")[columns].fillna("")
        bound = max(float(np.nanmax(np.abs(gain.to_numpy(float)))), 0.1)
        with sns.axes_style("white"), sns.plotting_context("notebook"):
            figure = Figure(figsize=(max(2.1 * len(columns) + 2.5, MIN_FIGURE_WIDTH),
                                     1.1 * len(gain) + 2.2), layout="constrained")
            axis = figure.subplots()
            sns.heatmap(gain, annot=labels.to_numpy(), fmt="", cmap="RdBu_r", center=0,
                        vmin=-bound, vmax=bound, linewidths=0.5, ax=axis,
                        cbar_kws={"label": "oracle − GAS (test points)"})
            for row in cells[cells["heavy"]].itertuples():
                axis.add_patch(Rectangle((columns.index(row.column),
                                          list(gain.index).index(row.num_layers)), 1, 1,
                                         fill=False, edgecolor="black", linewidth=2.5))
            axis.set(xlabel="parts P, batch size B (parts per mini-batch)", ylabel="layers",
                     title="gain ± std of the per-seed difference; VISAGNN-Sum's share below "
                           "(framed: heavy)")
        runs = data.runs[(data.runs["dataset"] == dataset)
                         & data.runs["variant"].isin(MAP_VARIANTS)]
        figures.append(_finish(figure, f"Staleness map of {dataset}: the oracle's gain over "
                                       "GAS", runs))
    return figures


def convergence_time_figures(data: ReportData) -> list[Figure] | None:
    """Validation score against cumulative training time (paper Figures 2-3), one figure per
    graph with a panel per staleness cell (depth, P, B), one line per variant, the mean over
    seeds (each epoch at its mean time over seeds); the dotted line is GAS's best validation
    score (mean over seeds), the target of the convergence table."""
    chosen = staleness_cells(data.runs) if not data.runs.empty else data.runs
    if chosen.empty or data.epochs.empty:
        return None
    curves = data.epochs[data.epochs["key"].isin(chosen["key"])]
    if curves.empty:
        return None
    curves = curves.merge(chosen[["key", "num_layers"]], on="key").assign(
        val_score=lambda frame: pd.to_numeric(frame["val"], errors="coerce") * 100)
    metrics = metric_names(data.runs)
    figures = []
    for dataset in dataset_order(chosen):
        of_dataset = curves[curves["dataset"] == dataset]
        cells = of_dataset[["num_layers", "num_parts", "batch_parts"]].drop_duplicates()
        cells = cells.sort_values(["num_layers", "num_parts", "batch_parts"])
        colors = palette(ordered(of_dataset["variant"]))
        columns = min(len(cells), 3)
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
            figure, axes = _figure(len(cells), width=4.6, height=3.4, columns=columns)
            for axis, cell in zip(axes, cells.itertuples(), strict=True):
                of_cell = of_dataset[(of_dataset["num_layers"] == cell.num_layers)
                                     & (of_dataset["num_parts"] == cell.num_parts)
                                     & (of_dataset["batch_parts"] == cell.batch_parts)]
                mean = (of_cell.groupby(["variant", "epoch"])[["train_time", "val_score"]]
                        .mean().reset_index())
                sns.lineplot(data=mean, x="train_time", y="val_score", hue="variant",
                             hue_order=[v for v in colors if v in set(mean["variant"])],
                             palette=colors, ax=axis)
                gas = of_cell[of_cell["variant"] == "gas"]
                if not gas.empty:
                    axis.axhline(gas.groupby("key")["val_score"].max().mean(), color="#555",
                                 linestyle=":", linewidth=1)
                axis.set(title=f"{cell.num_layers} layers, P={cell.num_parts}, "
                               f"B={cell.batch_parts}", xlabel="training time (s)",
                         ylabel=f"val {metrics[dataset]} (%)")
                if axis is axes[columns - 1]:
                    _legend_outside(axis, "variant")
                elif axis.get_legend() is not None:
                    axis.get_legend().remove()
        runs = chosen[chosen["dataset"] == dataset]
        figures.append(_finish(figure, f"Convergence on {dataset}: validation score against "
                                       "training time (mean over seeds)", runs))
    return figures or None
