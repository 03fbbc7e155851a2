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
from matplotlib.ticker import MaxNLocator

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
