"""The scaling report's figures: cost against the number of nodes, on log-log axes.

Each builder takes the points of :func:`visagnn.bench.scaling.report.load` and returns a
seaborn-styled matplotlib ``Figure``, or ``None`` when the store holds nothing for it. Methods
keep their colours of the benchmark's other figures (:func:`visagnn.bench.report.palette`); the
footer says where the points come from.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from visagnn.bench.report import palette
from visagnn.bench.scaling.report import (
    PYG,
    RATIO_TARGET,
    memory_parts,
    method_points,
    phase_times,
    provenance_note,
)

PANEL_WIDTH, PANEL_HEIGHT = 4.6, 3.6
NOTE_WIDTH = 110
"""Characters per line of the provenance under a figure (the narrowest is one panel wide)."""
FIXED_COLORS = {PYG: "#222222", "METIS": "#7f7f7f"}
PART_COLORS = {"features": "#1b9e77", "graph": "#d95f02", "histories": "#7570b3",
               "activations": "#e7298a", "model": "#66a61e", "breakdown total": "#444444",
               "measured peak": "#000000"}


def _panels(count: int, columns: int) -> tuple[Figure, np.ndarray]:
    rows = -(-count // columns)
    figure = Figure(figsize=(PANEL_WIDTH * min(count, columns) + 2.2, PANEL_HEIGHT * rows + 1),
                    layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for extra in axes[count:]:
        extra.set_visible(False)
    return figure, axes[:count]


def _finish(figure: Figure, title: str, points: pd.DataFrame) -> Figure:
    figure.suptitle(title, fontsize=14, fontweight="bold")
    note = "\n".join(textwrap.wrap(provenance_note(points), NOTE_WIDTH))
    figure.supxlabel(note, fontsize=8, color="#555", x=0.01, ha="left")
    return figure


def _log_log(axis, ylabel: str) -> None:
    axis.set(xscale="log", yscale="log", xlabel="nodes N", ylabel=ylabel)


def _line_styles(lines: list[str]) -> dict[str, dict[str, Any]]:
    """Seaborn's ``palette`` and ``dashes`` for ``lines``: a point label takes its method's
    colour (``visagnn-sum_float16`` that of ``visagnn-sum``), dashed where it names
    non-default histories; PyG and METIS keep theirs."""
    methods = palette(sorted({line.split("_")[0] for line in lines if line not in FIXED_COLORS}))
    return {"palette": {line: FIXED_COLORS.get(line) or methods[line.split("_")[0]]
                        for line in lines},
            "dashes": {line: (4, 2) if "_" in line else "" for line in lines}}


def phase_figure(points: pd.DataFrame) -> Figure | None:
    """Seconds of each phase against N, one panel per phase; the training-epoch panel also
    has the equal-work PyG epoch."""
    times = phase_times(points)
    if times.empty:
        return None
    phases = list(dict.fromkeys(times["phase"]))
    lines = list(dict.fromkeys(times["line"]))
    styles = _line_styles(lines)
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        figure, axes = _panels(len(phases), columns=3)
        for axis, phase in zip(axes, phases, strict=True):
            of_phase = times[times["phase"] == phase]
            order = [line for line in lines if line in set(of_phase["line"])]
            sns.lineplot(data=of_phase, x="num_nodes", y="seconds", hue="line", hue_order=order,
                         style="line", style_order=order, marker="o", ax=axis, **styles)
            _log_log(axis, "seconds")
            axis.set_title(phase)
            axis.legend(title=None, fontsize=8)
    return _finish(figure, "Time per phase against graph size", points)


def ratio_figure(points: pd.DataFrame) -> Figure | None:
    """Each method's epoch over the equal-work PyG epoch against N, with the target."""
    methods = method_points(points)
    if methods.empty:
        return None
    labels = list(dict.fromkeys(methods["label"]))
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        figure, (axis,) = _panels(1, columns=1)
        sns.lineplot(data=methods, x="num_nodes", y="ratio", hue="label", hue_order=labels,
                     style="label", style_order=labels, marker="o", ax=axis,
                     **_line_styles(labels))
        axis.axhline(RATIO_TARGET, color="#b42318", linestyle="--", linewidth=1,
                     label=f"target {RATIO_TARGET:.2f} (N ≥ 10^5)")
        axis.axhline(1.0, color="#222222", linewidth=0.8)
        axis.set(xscale="log", xlabel="nodes N", ylabel="epoch time / PyG epoch time")
        axis.legend(title=None, fontsize=8)
    return _finish(figure, "Equal work: the method against plain PyG GATConv", points)


def memory_figure(points: pd.DataFrame) -> Figure | None:
    """The memory breakdown's parts, its total and the measured peak against N, one panel per
    method."""
    parts = memory_parts(points)
    if parts.empty:
        return None
    labels = list(dict.fromkeys(parts["label"]))
    present = [part for part in PART_COLORS if part in set(parts["part"])]
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        figure, axes = _panels(len(labels), columns=2)
        for axis, label in zip(axes, labels, strict=True):
            sns.lineplot(data=parts[parts["label"] == label], x="num_nodes", y="mb",
                         hue="part", hue_order=present, palette=PART_COLORS, style="part",
                         style_order=present,
                         dashes={part: (4, 2) if part == "breakdown total" else ""
                                 for part in present},
                         marker="o", ax=axis)
            _log_log(axis, "MiB")
            axis.set_title(label)
            if axis is axes[-1]:
                axis.legend(title=None, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1),
                            frameon=False)
            else:
                axis.get_legend().remove()
    return _finish(figure, "Memory breakdown against graph size", points)
