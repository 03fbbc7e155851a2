"""The benchmark report's data: which stored runs it shows, grouped how, coloured how.

:func:`load` reads a results store into a :class:`ReportData`; :mod:`visagnn.bench.tables` and
:mod:`visagnn.bench.figures` build the report's tables and figures from it, and :func:`show`
puts them in a notebook. Runs are grouped by their *variant* (the canonical method spec, e.g.
``visagnn-sum --loss``):

* main runs: variants with every option at its default, compared in Tables 1-3 and Figures 2-3
  at one setting per dataset, the same parts P, batch size B and epoch budget for every method
  (:func:`table_setting`: the setting at which the most methods ran);
* ablation runs: variants that only switch components off or on (Table 4);
* sweep runs: variants that change one other option, e.g. VISAGNN's ``lam`` (Table 6);
* setting runs: variants with run settings (``gas --exact-halo``, the oracle; ``gas
  --no-refresh-histories``), compared with the others in the staleness table;
* runs at several batch sizes of one dataset: Table 5.

Scores are the dataset's metric (accuracy, or ROC-AUC for some heterophilous graphs) in percent,
as mean ± standard deviation over seeds. Every table's caption and every figure's footer say the
hardware, dates, commits and number of seeds it comes from (:func:`provenance_note`).
"""

from __future__ import annotations

import colorsys
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from visagnn.bench.store import ResultsStore
from visagnn.flags import option_flag

METHOD_COLORS = {
    "sage": "#8c564b", "fastgcn": "#c49c94", "ladies": "#dbdb8d", "clustergcn": "#e377c2",
    "graphsaint": "#f7b6d2", "sgc": "#7f7f7f", "gcn": "#bcbd22", "gat": "#17becf",
    "appnp": "#393b79", "vrgcn": "#9edae5", "mvsgnn": "#aec7e8", "gas": "#1f77b4",
    "graphfm": "#9467bd", "refresh": "#2ca02c", "lmc": "#ff7f0e", "sancus": "#8c6d31",
    "s3": "#6b6ecf", "sat": "#e7969c", "rest": "#8ca252", "visagnn-cat": "#8c0a2e",
    "visagnn-sum": "#d62728",
}
"""One colour per method, the same in every figure (VISAGNN in reds); the methods in the
order of the paper's Table 1 (then its Table 7's SANCUS, S3 and SAT and the newer REST,
before VISAGNN), which is the order of every table and legend."""

METHOD_ORDER = tuple(METHOD_COLORS)

STALENESS_METHODS = ("gas", "s3", "sat", "rest", "visagnn-cat", "visagnn-sum")
"""The methods the staleness tables and figures compare (GAS, the schedule of S3, the predicted
halo rows of SAT and the refresh passes of REST against VISAGNN)."""

STALENESS_MARKERS = ("staleness", "spearman")
"""Per-epoch record keys that contain one of these (``true_staleness_mean_l0``,
``spearman_grad_l0``, …: :func:`visagnn.history.true_staleness.measure_staleness`) are staleness
measurements."""

PNG_DPI = 100


@dataclass
class ReportData:
    """``runs``: one row per run (its last attempt) with the columns of the store plus ``kind``
    (main/ablation/sweep/other), ``num_layers`` (the depth), ``swept`` (the option a sweep run
    changes), ``score`` and ``val_score`` (percent) and ``budget`` (the configured epochs);
    ``epochs``: every epoch record of those runs, with ``train_time`` (cumulative training seconds);
    ``superseded``: how many stored runs are left out as older settings (:func:`current_runs`)."""

    runs: pd.DataFrame
    epochs: pd.DataFrame
    superseded: int = 0


def swept_options(changed: dict[str, Any]) -> list[str]:
    """The options of ``changed`` that are not on/off switches."""
    return [name for name, value in changed.items() if not isinstance(value, bool)]


def variant_kind(changed: dict[str, Any], settings: dict[str, Any] | None = None) -> str:
    """setting (it has run settings), main (defaults), ablation (only switches), sweep (one
    other option, switches aside, e.g. ``visagnn-sum --loss --lam 0.1``) or other."""
    if settings:
        return "setting"
    if not changed:
        return "main"
    swept = swept_options(changed)
    if not swept:
        return "ablation"
    if len(swept) == 1:
        return "sweep"
    return "other"


def _setting_id(config: dict[str, Any], variant: str) -> str:
    """What a run shares with the other seeds of its setting: the variant and every config
    field except the seed and the data root."""
    shared = {k: v for k, v in config.items() if k not in ("seed", "root")}
    return json.dumps({"config": shared, "variant": variant}, sort_keys=True, default=str)


def current_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of the most recently run setting of each (dataset, variant, P, B): when a
    grid changed a setting (e.g. its epochs), the older runs are not averaged with the new."""
    runs = runs.assign(setting_id=[_setting_id(config, variant) for config, variant in zip(
        runs["config"], runs["variant"], strict=True)], order=range(len(runs)))
    # recency: the last run's date, then its place in the store (runs within one second)
    runs = runs.assign(num_layers=depths(runs))
    cell = ["dataset", "variant", "num_parts", "batch_parts", "num_layers"]
    latest = (runs.groupby([*cell, "setting_id"])
              [["date", "order"]].max().reset_index()
              .sort_values(["date", "order"])
              .drop_duplicates(cell, keep="last"))
    return runs[runs["setting_id"].isin(latest["setting_id"])].drop(columns="order")


def depths(runs: pd.DataFrame) -> list[int]:
    """Each run's message-passing layers (its config's ``num_layers``; RunConfig's default 2 for
    a record without one)."""
    return [int(config.get("num_layers", 2)) if isinstance(config, dict) else 2
            for config in runs["config"]]


def prepare(runs: pd.DataFrame, epochs: pd.DataFrame) -> ReportData:
    """Add the derived columns of :class:`ReportData` to a store's runs and epochs, and keep
    the :func:`current_runs`."""
    if runs.empty:
        return ReportData(runs.copy(), epochs.copy())
    current = current_runs(runs)
    superseded = len(runs) - len(current)
    runs = current.copy()
    settings = runs["settings"] if "settings" in runs else pd.Series([None] * len(runs))
    runs["kind"] = [variant_kind(changed or {}, setting if isinstance(setting, dict) else None)
                    for changed, setting in zip(runs["changed"], settings, strict=True)]
    runs["swept"] = [swept_options(changed)[0] if kind == "sweep" else None
                     for kind, changed in zip(runs["kind"], runs["changed"], strict=True)]
    runs["score"] = pd.to_numeric(runs["test"], errors="coerce") * 100
    runs["val_score"] = pd.to_numeric(runs["best_val"], errors="coerce") * 100
    runs["budget"] = [config.get("epochs") for config in runs["config"]]
    epochs = epochs[epochs["key"].isin(runs["key"])].copy()
    if not epochs.empty:
        epochs = epochs.sort_values(["key", "epoch"])
        epochs["train_time"] = epochs.groupby("key")["epoch_s"].cumsum()
        epochs["score"] = pd.to_numeric(epochs["test"], errors="coerce") * 100
    return ReportData(runs, epochs, superseded)


def load(results: str | Path) -> ReportData:
    """The report's data from the results store in folder ``results``."""
    store = ResultsStore(results)
    runs = store.runs()
    return prepare(runs, store.epochs(runs))


def method_rank(variant: str) -> tuple[int, str]:
    method = variant.split()[0]
    order = METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)
    return order, variant


def ordered(variants: Sequence[str]) -> list[str]:
    return sorted(dict.fromkeys(variants), key=method_rank)


def palette(labels: Sequence[str]) -> dict[str, str]:
    """Colours of variant labels: a method's own colour for its main variant, evenly spread
    hues for the others (in sorted order, so the same labels always get the same colours)."""
    colors = {label: METHOD_COLORS[label] for label in labels if label in METHOD_COLORS}
    others = sorted(set(labels) - set(colors))
    for index, label in enumerate(others):
        red, green, blue = colorsys.hls_to_rgb(index / max(len(others), 1), 0.45, 0.65)
        colors[label] = f"#{int(red * 255):02x}{int(green * 255):02x}{int(blue * 255):02x}"
    return colors


def runs_provenance(runs: pd.DataFrame) -> dict[str, str]:
    """Where ``runs`` come from: ``hardware``, ``dates``, ``commit`` and ``seeds`` (per table
    entry, i.e. per dataset, variant and batch size); empty for no runs."""
    if runs.empty:
        return {}
    dates = sorted(str(date)[:10] for date in runs["date"].dropna())
    seeds = runs.groupby(["dataset", "variant", "batch_parts"])["seed"].nunique()
    low, high = int(seeds.min()), int(seeds.max())
    return {
        "hardware": ", ".join(sorted(runs["hardware"].dropna().unique())),
        "dates": dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}",
        "commit": ", ".join(sorted(runs["commit"].dropna().unique())),
        "seeds": f"{low} seed{'s' * (high > 1)}" if low == high else f"{low}-{high} seeds",
    }


def provenance_note(runs: pd.DataFrame) -> str:
    """:func:`provenance` in one line, for captions and figure footers."""
    fields = runs_provenance(runs)
    if not fields:
        return ""
    return (f"{fields['seeds']} per entry · {fields['hardware']} · {fields['dates']} · "
            f"commit {fields['commit']}")


def finished_note(runs: pd.DataFrame) -> str:
    """The provenance of a table's finished runs (of all its runs when none finished)."""
    finished = runs[runs["status"] == "ok"]
    return provenance_note(finished if not finished.empty else runs)


def dataset_order(runs: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(runs["dataset"]))


def metric_names(runs: pd.DataFrame) -> dict[str, str]:
    metrics = runs.dropna(subset=["metric"]).groupby("dataset")["metric"].first()
    return {dataset: str(metrics.get(dataset, "score")) for dataset in dataset_order(runs)}


def ok_runs(runs: pd.DataFrame) -> pd.DataFrame:
    return runs[runs["status"] == "ok"]


SETTING = ["num_parts", "batch_parts", "num_layers", "budget"]
"""What every method shares in the accuracy table: parts P, batch size B, depth, epoch
budget."""


def table_setting(runs: pd.DataFrame) -> pd.DataFrame:
    """Per dataset, the (P, B, epochs) of its accuracy table: the setting at which the most
    main variants ran (whatever their status), ties to the larger B, then the fewer P, then
    the fewer layers."""
    main = runs[runs["kind"] == "main"]
    counts = (main.groupby(["dataset", *SETTING])["variant"].nunique()
              .rename("variants").reset_index()
              .sort_values(["variants", "batch_parts", "num_parts", "num_layers"],
                           ascending=[False, False, True, True], kind="stable"))
    return counts.drop_duplicates("dataset")[["dataset", *SETTING]]


def selected_main(runs: pd.DataFrame) -> pd.DataFrame:
    """Main runs at their dataset's :func:`table_setting`, every status (to show OOM/failed)."""
    main = runs[runs["kind"] == "main"]
    if main.empty:
        return main
    return main.merge(table_setting(runs), on=["dataset", *SETTING])


def setting_text(runs: pd.DataFrame, dataset: str) -> str:
    """``P=40, B=10, 100 epochs``: the setting of ``dataset``'s runs in ``runs``."""
    parts, batch, _, budget = runs.loc[runs["dataset"] == dataset, SETTING].iloc[0]
    return f"P={parts}, B={batch}, {budget} epochs"


def at_table_depth(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs at their dataset's accuracy-table depth (:func:`table_setting`; every run of
    a dataset without main runs): the tables of one depth leave the staleness map's deeper
    models to the map."""
    depth = table_setting(runs)[["dataset", "num_layers"]]
    unset = runs[~runs["dataset"].isin(depth["dataset"])]
    return pd.concat([runs.merge(depth), unset], ignore_index=True)


def setting_labels(runs: pd.DataFrame) -> list[str]:
    """Each run's dataset, with its parts P and batch size B where the dataset has runs at
    several (P, B) settings: the columns of the ablation and λ tables."""
    settings = runs.groupby("dataset")[["num_parts", "batch_parts"]].apply(
        lambda frame: len(frame.drop_duplicates()))
    return [f"{dataset} (P={parts}, B={batch})" if settings[dataset] > 1 else dataset
            for dataset, parts, batch in runs[["dataset", "num_parts", "batch_parts"]]
            .itertuples(index=False)]


def batch_size_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Main runs of the (dataset, variant, parts P) where the variant ran at two or more batch
    sizes B: runs at the same B with other P are another study and are not pooled."""
    main = at_table_depth(runs[runs["kind"] == "main"])
    setting = ["dataset", "variant", "num_parts"]
    counts = main.groupby(setting)["batch_parts"].nunique()
    studied = counts[counts > 1].reset_index()[setting]
    return main.merge(studied)


def without_option(variant: str, option: str) -> str:
    """``variant`` without its flag of ``option`` and that flag's value (``visagnn-sum --loss
    --lam 0.8`` → ``visagnn-sum --loss``): the variant a sweep of ``option`` varies."""
    return re.sub(rf" {re.escape(option_flag(option))} \S+", "", variant)


def sweep_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs of one-option sweeps, with columns ``option``, ``value`` and ``base`` (the variant
    without that option, :func:`without_option`): for each option that a variant sets to a
    value other than on/off, the runs of every variant that has it (at its default where the
    variant does not set it) where a (dataset, base, P, B, depth) has 2+ values of it. So the
    paper form of VISAGNN swept over λ is a sweep of its own, apart from ``--loss`` alone."""
    frames = []
    setting = ["dataset", "base", "num_parts", "batch_parts", "num_layers"]
    swept = sorted({name for changed in runs["changed"] if isinstance(changed, dict)
                    for name in swept_options(changed)})
    for option in swept:
        candidates = runs[[isinstance(options, dict) and option in options
                           for options in runs["options"]]]
        if candidates.empty:
            continue
        candidates = candidates.assign(option=option, value=[
            options[option] for options in candidates["options"]], base=[
            without_option(variant, option) for variant in candidates["variant"]])
        counts = candidates.groupby(setting)["value"].nunique()
        frames.append(candidates.merge(counts[counts > 1].reset_index()[setting]))
    frames = [frame for frame in frames if not frame.empty]
    return pd.concat(frames, ignore_index=True) if frames else runs.iloc[:0]


def staleness_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs of :data:`STALENESS_METHODS` at the (dataset, P, B) settings where a variant with
    run settings ran (the oracle, GAS without refresh): the staleness studies."""
    settings = ["dataset", "num_parts", "batch_parts", "num_layers"]
    runs = at_table_depth(runs)
    studied = runs.loc[runs["kind"] == "setting", settings].drop_duplicates()
    return runs[runs["method"].isin(STALENESS_METHODS)].merge(studied)


def staleness_keys(epochs: pd.DataFrame) -> list[str]:
    """Numeric per-epoch keys that measure staleness (see :data:`STALENESS_MARKERS`)."""
    keys = [column for column in epochs.columns
            if any(marker in column.lower() for marker in STALENESS_MARKERS)]
    return [key for key in sorted(keys)
            if pd.to_numeric(epochs[key], errors="coerce").notna().any()]


def show(item: Styler | list[Styler] | Figure | list[Figure] | None,
         save_to: str | Path | None = None, name: str = "figure",
         empty: str = "No results for this yet.") -> None:
    """Display table(s) or figure(s) in a notebook, or the ``empty`` note when there is nothing
    to show; figures are also saved as ``save_to/<name>[-<i>].png`` when ``save_to`` is given."""
    from IPython.display import Image, Markdown, display

    if item is None:
        display(Markdown(f"*{empty}*"))
        return
    if isinstance(item, Styler) or (isinstance(item, list) and item
                                    and isinstance(item[0], Styler)):
        for table in item if isinstance(item, list) else [item]:
            display(table)
        return
    figures = item if isinstance(item, list) else [item]
    for index, figure in enumerate(figures):
        # rendered here, not by a matplotlib backend: the same PNG on any kernel and on disk
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=PNG_DPI)
        if save_to is not None:
            Path(save_to).mkdir(parents=True, exist_ok=True)
            suffix = f"-{index + 1}" if len(figures) > 1 else ""
            (Path(save_to) / f"{name}{suffix}.png").write_bytes(buffer.getvalue())
        display(Image(data=buffer.getvalue(), format="png"))


def overview(data: ReportData) -> str:
    """A Markdown paragraph: how many runs of what, and where they come from."""
    runs = data.runs
    if runs.empty:
        return "The results store holds no runs yet."
    counts = runs["status"].value_counts()
    statuses = ", ".join(f"{counts[s]} {s}" for s in ("ok", "oom", "failed") if s in counts)
    older = (f" The store holds {data.superseded} more runs of older settings, not shown."
             if data.superseded else "")
    return (f"**{len(runs)} runs** ({statuses}) of **{runs['variant'].nunique()} method "
            f"variants** on **{runs['dataset'].nunique()} datasets** "
            f"({', '.join(dataset_order(runs))}). {provenance_note(runs)}.{older}")
