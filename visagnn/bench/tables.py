"""The report's tables (paper Tables 1-6 and two of the store's own), as styled HTML.

Each builder takes a :class:`~visagnn.bench.report.ReportData` and returns a pandas ``Styler``,
or ``None`` when the store holds nothing for it. Cells show mean ± std over seeds; the best value
of each column (of each row in Table 5) is bold; a cell whose runs all ran out of memory or
failed says ``OOM``, ``diverged`` or ``failed``; the caption says where the numbers come from.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from visagnn.bench.convergence import (
    convergence_runs,
    convergence_summary,
    faster_sentence,
    staleness_cells,
)
from visagnn.bench.published import PAPER_TABLE, PUBLISHED
from visagnn.bench.report import (
    STALENESS_METHODS,
    ReportData,
    batch_size_runs,
    dataset_order,
    finished_note,
    method_rank,
    metric_names,
    ok_runs,
    ordered,
    provenance_note,
    selected_main,
    setting_labels,
    setting_text,
    staleness_runs,
    sweep_runs,
)
from visagnn.bench.staleness_map import MAP_VARIANTS, gain_text, share_text, staleness_map

TABLE_STYLES = [
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-size: 0.9em; "
                                     "color: #444; padding-bottom: 0.5em; width: max-content; "
                                     "max-width: 70em;"},
    {"selector": "th", "props": "background: #f3f4f6; padding: 4px 10px; text-align: center;"},
    {"selector": "td", "props": "padding: 4px 10px; text-align: right; "
                                "font-variant-numeric: tabular-nums;"},
    {"selector": "", "props": "border-collapse: collapse; margin-bottom: 1em; width: auto;"},
    {"selector": "tbody tr:nth-child(even)", "props": "background: #fafafa;"},
]

BEST = "font-weight: bold; color: #0b4f9c;"


def mean_std(values: pd.Series, digits: int = 1) -> str:
    values = values.dropna()
    if values.empty:
        return "—"
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def significant(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits and no exponent: 0.00123, 1.23, 123."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    return f"{value:.{decimals}f}"


def status_text(statuses: pd.Series) -> str:
    """What a table shows where no run finished: ``OOM``, ``diverged`` (the loss became NaN or
    infinite: no score to show) or ``failed``."""
    if (statuses == "oom").any():
        return "OOM"
    return "diverged" if (statuses == "diverged").any() else "failed"


def styled(text: pd.DataFrame, values: pd.DataFrame, caption: str,
           best: Callable[[pd.Series], Any] | None = max, axis: int = 0) -> Styler:
    """``text`` styled as a report table, the ``best`` of ``values`` in bold along ``axis``
    (0: per column, 1: per row; ``None``: no highlight)."""
    css = np.full(text.shape, "", dtype=object)
    if best is not None:
        numeric = values.reindex(index=text.index, columns=text.columns).to_numpy(float)
        # by position: labels of an unsorted MultiIndex are slow to look up (and pandas warns)
        lines = numeric.T if axis == 0 else numeric
        marks = css.T if axis == 0 else css
        for line, mark in zip(lines, marks, strict=True):
            finite = ~np.isnan(line)
            if finite.any():
                mark[finite & (line == best(line[finite]))] = BEST
    css_frame = pd.DataFrame(css, index=text.index, columns=text.columns)
    return (text.style.apply(lambda _: css_frame, axis=None)
            .set_caption(caption).set_table_styles(TABLE_STYLES))


def _score_grid(runs: pd.DataFrame, rows: str | list[str], columns: str | list[str]
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(text, mean) pivots of ``score``; cells without a finished run show OOM/failed."""
    groups = runs.groupby((rows if isinstance(rows, list) else [rows])
                          + (columns if isinstance(columns, list) else [columns]))
    cells = groups.apply(
        lambda frame: pd.Series({
            "text": mean_std(ok_runs(frame)["score"]) if (frame["status"] == "ok").any()
            else status_text(frame["status"]),
            "mean": ok_runs(frame)["score"].mean(),
        }), include_groups=False)
    text = cells["text"].unstack(columns).fillna("—")
    mean = cells["mean"].unstack(columns)
    text.columns.name = mean.columns.name = None
    return text, mean


def accuracy_table(data: ReportData) -> Styler | None:
    """Paper Tables 1-2: test score (%) per method (rows) and dataset (columns), every method
    at the dataset's one setting (P, B, epochs; named in the column), with the paper's
    published numbers beside the datasets of its Table 1."""
    runs = selected_main(data.runs) if not data.runs.empty else data.runs
    if runs.empty:
        return None
    text, mean = _score_grid(runs, "variant", "dataset")
    datasets = dataset_order(runs)
    metrics = metric_names(runs)
    index = ordered(text.index)
    text_columns, mean_columns = {}, {}
    for dataset in datasets:
        label = f"{dataset} ({metrics[dataset]}; {setting_text(runs, dataset)})"
        text_columns[label], mean_columns[label] = text[dataset], mean[dataset]
        if dataset in PUBLISHED:
            paper = f"{dataset}, published ({PAPER_TABLE})"
            text_columns[paper] = pd.Series(PUBLISHED[dataset], dtype=object)
            mean_columns[paper] = pd.Series(dtype=float)
    text = pd.DataFrame(text_columns).reindex(index).fillna("—")
    mean = pd.DataFrame(mean_columns).reindex(index=index, columns=text.columns)
    text.index.name = mean.index.name = "method"
    caption = ("Test score (%), mean ± std over seeds, of every method at the same parts P, "
               "batch size B and epoch budget per dataset, named in each column (paper Tables "
               "1-2; the batch-size study is Table 5 below). Published numbers are the "
               f"paper's ({PAPER_TABLE}, its rows of these methods). " + finished_note(runs))
    return styled(text, mean, caption)


MEMORY_PARTS = ("features_mb", "graph_mb", "histories_mb", "model_mb", "activations_mb")
"""The parts of a run's memory breakdown (its summary's ``memory``) that its tensors hold."""


def tensor_memory_mb(memory: object) -> float:
    """MB the method's tensors hold (:data:`MEMORY_PARTS` of a run's memory breakdown): what
    the method adds, whatever else the process holds; NaN without a breakdown."""
    if not isinstance(memory, dict):
        return float("nan")
    return float(sum(memory.get(part) or 0.0 for part in MEMORY_PARTS))


def cost_table(data: ReportData) -> Styler | None:
    """Paper Table 3: the method's memory, peak memory, seconds per training epoch and total
    training seconds."""
    runs = selected_main(data.runs) if not data.runs.empty else data.runs
    if runs.empty:
        return None
    runs = runs.assign(tensor_mb=[tensor_memory_mb(memory) for memory in runs["memory"]])
    measures = {"method memory (MB)": "tensor_mb", "peak RSS (MB)": "peak_mem_mb",
                "s / epoch": "mean_epoch_s", "training (s)": "train_s"}
    text_columns, mean_columns = {}, {}
    for dataset in dataset_order(runs):
        of_dataset = runs[runs["dataset"] == dataset]
        for label, column in measures.items():
            texts, means = {}, {}
            for variant, frame in of_dataset.groupby("variant"):
                finished = ok_runs(frame)
                if finished.empty:
                    texts[variant] = status_text(frame["status"])
                    continue
                values = pd.to_numeric(finished.get(column, pd.Series(dtype=float)))
                if values.notna().any():
                    means[variant] = values.mean()
                    texts[variant] = significant(means[variant])
            text_columns[(dataset, label)] = pd.Series(texts, dtype=object)
            mean_columns[(dataset, label)] = pd.Series(means, dtype=float)
    text = pd.DataFrame(text_columns)
    mean = pd.DataFrame(mean_columns)
    index = ordered(text.index)
    text, mean = text.loc[index].fillna("—"), mean.reindex(index)
    text.index.name = "method"
    caption = ("The memory the method's tensors hold (MB: features, graph, histories, model "
               "and one training batch's saved activations, from each run's memory "
               "breakdown), the process's total peak (GPU memory allocated on CUDA, resident "
               "set size on CPU, of a notebook kernel that ran earlier runs too), mean seconds "
               "per training epoch, and total training seconds, at the settings of the "
               "accuracy table (paper Table 3); lowest in bold; — where the run did not "
               "record it. " + finished_note(runs))
    return styled(text, mean, caption, best=min)


def ablation_table(data: ReportData) -> Styler | None:
    """Paper Table 4: each ablated variant next to its method's full version, same settings."""
    runs = data.runs
    if runs.empty or not (runs["kind"] == "ablation").any():
        return None
    ablated = runs[runs["kind"] == "ablation"]
    settings = ablated[["dataset", "batch_parts", "num_parts", "method"]].drop_duplicates()
    full = runs[runs["kind"] == "main"].merge(settings)
    rows = pd.concat([full, ablated], ignore_index=True)
    rows = rows.assign(column=setting_labels(rows))
    text, mean = _score_grid(rows, "variant", "column")
    index = ordered(text.index)
    columns = list(dict.fromkeys(rows["column"]))
    text, mean = text.loc[index, columns], mean.loc[index, columns]
    text.index.name = "variant"
    caption = ("Test score (%) with components switched off (paper Table 4). "
               + finished_note(rows))
    return styled(text, mean, caption)


def batch_size_table(data: ReportData) -> Styler | None:
    """Paper Table 5: test score (%) per dataset, parts P and batch size B (rows) and method."""
    runs = batch_size_runs(data.runs) if not data.runs.empty else data.runs
    if runs.empty:
        return None
    caption = ("Test score (%) at each batch size B (METIS parts per mini-batch, of P parts); "
               "best method per row in bold (paper Table 5). " + finished_note(runs))
    runs = runs.rename(columns={"num_parts": "P", "batch_parts": "B"})
    text, mean = _score_grid(runs, ["dataset", "P", "B"], "variant")
    columns = ordered(text.columns)
    order = {dataset: i for i, dataset in enumerate(dataset_order(runs))}
    index = sorted(text.index, key=lambda row: (order[row[0]], row[1], row[2]))
    text, mean = text.loc[index, columns], mean.loc[index, columns]
    text.columns.name = "method"
    return styled(text, mean, caption, axis=1)


def _value_order(value: str) -> tuple[int, float | str]:
    try:
        return 0, float(value)
    except ValueError:
        return 1, value


def sweep_table(data: ReportData) -> Styler | None:
    """Paper Table 6 and any other one-option sweep: test score (%) per swept variant (less
    the option), option and value (rows) and dataset (columns)."""
    runs = sweep_runs(data.runs) if not data.runs.empty else data.runs
    if runs.empty:
        return None
    runs = runs.assign(column=setting_labels(runs),
                       value=[f"{value:g}" if isinstance(value, float) else str(value)
                              for value in runs["value"]])
    text, mean = _score_grid(runs, ["base", "option", "value"], "column")
    columns = list(dict.fromkeys(runs["column"]))
    index = sorted(text.index, key=lambda row: (method_rank(row[0]), row[1],
                                                _value_order(row[2])))
    text, mean = text.loc[index, columns], mean.loc[index, columns]
    caption = ("Test score (%) against the value of one method option, e.g. the weight "
               "lam (λ) of VISAGNN's staleness loss (paper Table 6). " + finished_note(runs))
    return styled(text, mean, caption)


def published_table() -> Styler:
    """The paper's Table 1 as published (method × dataset), for the datasets a store may not
    hold."""
    text = pd.DataFrame(PUBLISHED)
    text = text.loc[ordered(text.index)].fillna("—")
    text.index.name = "method"
    caption = (f"The paper's published test accuracy (%) ({PAPER_TABLE}), shown beside ours "
               "in the accuracy table where this store holds the dataset.")
    return styled(text, pd.DataFrame(index=text.index, columns=text.columns, dtype=float),
                  caption, best=None)


ORACLE_SETTINGS = {"exact_halo": True}
"""The run settings of the exact-halo oracle, against which every gain is measured."""


def _oracle_gain_share(gain: float, oracle_gain: float) -> str:
    """``gain`` as a percentage of the oracle's gain over GAS; ``—`` where the oracle gains
    nothing to recover."""
    if not (math.isfinite(gain) and math.isfinite(oracle_gain)) or oracle_gain <= 0:
        return "—"
    return f"{100 * gain / oracle_gain:.0f} %"


def staleness_table(data: ReportData) -> Styler | None:
    """GAS against VISAGNN under light and heavy staleness, with the ceiling: per dataset and
    setting (P, B), each variant's test score, its difference from GAS, that difference as a
    share of the exact-halo oracle's, the epoch of its best validation score and s/epoch."""
    runs = staleness_runs(data.runs) if not data.runs.empty else data.runs
    if runs.empty:
        return None
    rows = []
    for (dataset, parts, batch), setting in runs.groupby(
            ["dataset", "num_parts", "batch_parts"], sort=False):
        finished = ok_runs(setting)
        means = finished.groupby("variant")["score"].mean()
        oracle = [variant for variant, settings in zip(finished["variant"],
                                                       finished["settings"], strict=True)
                  if settings == ORACLE_SETTINGS]
        gas = means.get("gas", np.nan)
        oracle_gain = means.get(oracle[0], np.nan) - gas if oracle else np.nan
        for variant in ordered(setting["variant"]):
            of_variant = setting[setting["variant"] == variant]
            done = ok_runs(of_variant)
            gain = means.get(variant, np.nan) - gas
            rows.append({
                "dataset": dataset, "setting": f"P={parts}, B={batch}", "variant": variant,
                "test (%)": mean_std(done["score"]) if len(done)
                else status_text(of_variant["status"]),
                "Δ GAS": f"{gain:+.1f}" if math.isfinite(gain) else "—",
                "of the oracle's gain": "—" if variant == "gas"
                else _oracle_gain_share(gain, oracle_gain),
                "best epoch": f"{pd.to_numeric(done['best_epoch']).mean():.0f}"
                f" / {int(done['budget'].iloc[0])}" if len(done) else "—",
                "s / epoch": significant(pd.to_numeric(done["mean_epoch_s"]).mean())
                if len(done) else "—",
                "seeds": len(done),
                "mean": means.get(variant, np.nan),
            })
    table = pd.DataFrame(rows).set_index(["dataset", "setting", "variant"])
    values = table.pop("mean")
    best = pd.DataFrame({"test (%)": values})
    caption = ("Staleness: GAS, its exact-halo oracle (`--exact-halo`: halo rows recomputed "
               "with the current weights at every step, no staleness at all), GAS and S3's "
               "stalest-first schedule without refreshing their histories at evaluations, "
               "REST's forward-only refresh passes, and VISAGNN with our defaults, in the "
               "paper's form and ablated, at P parts and B parts per batch (B=10 light, B=1 "
               "heavy staleness). Δ GAS is the difference of mean test scores; the oracle's "
               "gain is its Δ GAS, and a variant's share of it says how much of what perfect "
               "freshness buys it recovers (— where the oracle gains nothing). Best epoch: "
               "mean epoch of the best validation score, of the budget. " + finished_note(runs))
    return styled(table, best, caption, best=None)


def spearman_table(data: ReportData) -> Styler | None:
    """How each staleness criterion ranks the true staleness of the rows read as halo: the
    Spearman correlation, mean over the measured epochs and seeds, with its range over
    epochs, per dataset, setting, method (defaults) and hidden layer."""
    epochs = data.epochs
    if epochs.empty:
        return None
    columns = sorted(column for column in epochs.columns if column.startswith("spearman_"))
    if not columns:
        return None
    main = epochs[epochs["variant"].isin(STALENESS_METHODS)].copy()
    main = main.assign(setting=[f"P={parts}, B={batch}" for parts, batch in zip(
        main["num_parts"], main["batch_parts"], strict=True)])
    long = main.melt(id_vars=["dataset", "setting", "variant", "epoch", "key"],
                     value_vars=columns, var_name="measure", value_name="rho")
    long["rho"] = pd.to_numeric(long["rho"], errors="coerce")
    long = long.dropna(subset=["rho"])
    if long.empty:
        return None
    parsed = long["measure"].str.extract(r"spearman_(?P<criterion>\w+)_l(?P<layer>\d+)")
    long = pd.concat([long, parsed], axis=1)
    per_epoch = (long.groupby(["dataset", "setting", "variant", "layer", "criterion", "epoch"])
                 ["rho"].mean().reset_index())
    summary = per_epoch.groupby(["dataset", "setting", "variant", "layer", "criterion"])["rho"]
    text = summary.apply(lambda rho: f"{rho.mean():+.2f} ({rho.min():+.2f} … {rho.max():+.2f})")
    mean = summary.mean()
    text, mean = text.unstack("criterion"), mean.unstack("criterion")
    order = {dataset: i for i, dataset in enumerate(dataset_order(data.runs))}
    index = sorted(text.index, key=lambda row: (order.get(row[0], len(order)), row[1],
                                                method_rank(row[2]), row[3]))
    text, mean = text.loc[index].fillna("—"), mean.loc[index]
    text.columns.name = mean.columns.name = None
    measured = data.runs[data.runs["key"].isin(long["key"])]
    caption = ("Spearman correlation between the true staleness ‖h̃_j − h_j‖ of the rows read as "
               "halo (boundary nodes, history against exact embeddings of the current weights, "
               "measured before each evaluation refreshes the histories) and each staleness "
               "criterion: the gradient norm (the paper's), the persistence T_j and the drift "
               "estimate; mean over measured epochs and seeds (range over epochs), per hidden "
               "layer; best per row in bold. " + finished_note(measured))
    return styled(text, mean, caption, axis=1)


def runs_table(data: ReportData) -> Styler | None:
    """Every (dataset, P, B, variant) of the store: runs by status and mean results."""
    runs = data.runs
    if runs.empty:
        return None
    rows = []
    for (dataset, parts, batch, variant), frame in runs.groupby(
            ["dataset", "num_parts", "batch_parts", "variant"], sort=False):
        finished = ok_runs(frame)
        rows.append({
            "dataset": dataset, "P": parts, "B": batch, "variant": variant,
            "ok": int((frame["status"] == "ok").sum()),
            "oom": int((frame["status"] == "oom").sum()),
            "diverged": int((frame["status"] == "diverged").sum()),
            "failed": int((frame["status"] == "failed").sum()),
            "test (%)": mean_std(finished["score"]), "val (%)": mean_std(finished["val_score"]),
            "epochs": f"{pd.to_numeric(finished['epochs']).mean():.0f}" if len(finished)
            else "—",
            "s / epoch": significant(pd.to_numeric(finished["mean_epoch_s"]).mean())
            if len(finished) else "—",
            "peak RSS (MB)": significant(pd.to_numeric(finished["peak_mem_mb"]).mean())
            if len(finished) else "—",
        })
    order = {dataset: i for i, dataset in enumerate(dataset_order(runs))}
    table = pd.DataFrame(rows)
    table = table.sort_values(["dataset", "P", "B", "variant"], key=lambda column: (
        column.map(order) if column.name == "dataset" else
        column.map(method_rank) if column.name == "variant" else column))
    caption = "Every setting in the results store. " + provenance_note(runs)
    return styled(table.set_index(["dataset", "P", "B", "variant"]), table, caption, best=None)


DIVERGED = "the loss became NaN or infinite"
"""The error column of a diverged run whose record gives none."""


def first_line(error: object, limit: int = 300) -> str:
    """The first line of an error message (the rest is in the store's ``details``)."""
    text = error.strip() if isinstance(error, str) else ""
    return text.splitlines()[0][:limit] if text else ""


def failures_table(data: ReportData) -> Styler | None:
    """Runs that ran out of memory, diverged or failed, with their error."""
    runs = data.runs
    if runs.empty:
        return None
    failed = runs[runs["status"] != "ok"]
    if failed.empty:
        return None
    failed = failed if "error" in failed else failed.assign(error=None)  # diverged runs only
    table = failed[["dataset", "variant", "num_parts", "batch_parts", "seed", "status", "error",
                    "date"]].rename(columns={"num_parts": "P", "batch_parts": "B"})
    table = table.assign(error=[first_line(error) or (DIVERGED if status == "diverged" else "")
                                for error, status in zip(table["error"], table["status"],
                                                         strict=True)],
                         date=[str(date)[:16].replace("T", " ") for date in table["date"]])
    caption = ("Runs that ran out of memory (oom), whose loss became NaN or infinite "
               "(diverged) or that raised (failed); a grid tries failed runs again. "
               + provenance_note(failed))
    return (styled(table.reset_index(drop=True), table, caption, best=None)
            .set_properties(subset=["error"], **{"text-align": "left", "max-width": "40em"})
            .hide(axis="index"))


def _plus_minus(mean: float, std: float) -> str:
    if not math.isfinite(mean):
        return "—"
    return f"{mean:.1f} ± {std:.1f}" if math.isfinite(std) else f"{mean:.1f}"


def map_tables(data: ReportData) -> list[Styler] | None:
    """The staleness map, one table per graph (:mod:`visagnn.bench.staleness_map`): per depth,
    parts P and batch size B, the test score of GAS, the oracle and VISAGNN-Sum, the oracle's
    gain over GAS with the std of its per-seed difference, and VISAGNN-Sum's share of it; the
    heavy-staleness cells (gain above its std) marked and in bold."""
    mapped = staleness_map(data.runs)
    if mapped.empty:
        return None
    tables = []
    for dataset, cells in mapped.groupby("dataset", sort=False):
        cells = cells.sort_values(["num_layers", "num_parts", "batch_parts"])
        text = pd.DataFrame({
            "layers": cells["num_layers"], "P": cells["num_parts"], "B": cells["batch_parts"],
            "GAS (%)": [_plus_minus(m, s) for m, s in zip(cells["gas"], cells["gas_std"],
                                                          strict=True)],
            "oracle (%)": [_plus_minus(m, s) for m, s in zip(
                cells["oracle"], cells["oracle_std"], strict=True)],
            "VISAGNN-Sum (%)": [_plus_minus(m, s) for m, s in zip(
                cells["visagnn"], cells["visagnn_std"], strict=True)],
            "oracle's gain": [gain_text(g, s) for g, s in zip(cells["gain"], cells["gain_std"],
                                                              strict=True)],
            "VISAGNN-Sum's share": [share_text(share) for share in cells["share"]],
            "heavy": ["heavy" if heavy else "" for heavy in cells["heavy"]],
            "seeds": cells["seeds"],
        }).set_index(["layers", "P", "B"])
        css = pd.DataFrame("", index=text.index, columns=text.columns)
        css.loc[list(cells["heavy"]), ["oracle's gain", "VISAGNN-Sum's share", "heavy"]] = BEST
        runs = data.runs[(data.runs["dataset"] == dataset)
                         & data.runs["variant"].isin(MAP_VARIANTS)]
        caption = (f"Staleness map of {dataset}: test score (%) of GAS, its exact-halo oracle "
                   "and VISAGNN-Sum (our defaults) per depth, parts P and batch size B; the "
                   "oracle's gain is the mean over seeds of oracle − GAS of the same seed ± "
                   "the std of that difference; VISAGNN-Sum's share is its mean gain over GAS "
                   "divided by the oracle's, — where the oracle's gain is within its std. "
                   "Heavy: the oracle gains more than one std (bold). " + finished_note(runs))
        tables.append(text.style.apply(lambda _, css=css: css, axis=None)
                      .set_caption(caption).set_table_styles(TABLE_STYLES))
    return tables


def convergence_table(data: ReportData) -> Styler | None:
    """Convergence (paper Table 3's speed, :mod:`visagnn.bench.convergence`): per staleness
    cell and variant, at the first epoch whose validation score reaches GAS's best (same seed
    and cell), the epoch, the training seconds and the test score there, and whether the
    variant gets there faster than GAS."""
    rows = convergence_runs(data.runs, data.epochs)
    if rows.empty:
        return None
    summary = convergence_summary(rows)
    order = {dataset: i for i, dataset in enumerate(dataset_order(data.runs))}
    summary = summary.sort_values(
        ["dataset", "num_layers", "num_parts", "batch_parts", "variant"],
        key=lambda column: (column.map(order) if column.name == "dataset" else
                            column.map(method_rank) if column.name == "variant" else column))
    text = pd.DataFrame({
        "dataset": summary["dataset"],
        "setting": [f"{row.num_layers} layers, P={row.num_parts}, B={row.batch_parts}"
                    for row in summary.itertuples()],
        "variant": summary["variant"],
        "GAS's best val (%)": [f"{target:.1f}" for target in summary["target"]],
        "reached": [f"{row.reached} / {row.seeds}" for row in summary.itertuples()],
        "epoch": [f"{epoch:.1f}" if math.isfinite(epoch) else "—"
                  for epoch in summary["epoch"]],
        "training (s)": [significant(seconds) if math.isfinite(seconds) else "—"
                         for seconds in summary["seconds"]],
        "test there (%)": [_plus_minus(m, s) for m, s in zip(summary["test"],
                                                             summary["test_std"], strict=True)],
        "against GAS": summary["verdict"],
    }).set_index(["dataset", "setting", "variant"])
    runs = data.runs[data.runs["key"].isin(staleness_cells(data.runs)["key"])]
    caption = ("Convergence: per staleness cell (depth, parts P, batch size B) and variant, the "
               "first epoch at which the validation score reaches GAS's best validation score "
               "of the same seed and cell, the training time up to it (cumulative seconds of "
               "training epochs, no evaluation) and the test score there, means over the seeds "
               "that reach it; faster: it reaches it at every seed, in less mean time than "
               "GAS. " + finished_note(runs))
    return styled(text, text, caption, best=None)


def convergence_sentence(data: ReportData) -> str:
    """One sentence per VISAGNN variant at the staleness cells: where it reaches GAS's best
    validation score in less training time than GAS, and where not
    (:func:`~visagnn.bench.convergence.faster_sentence`)."""
    rows = convergence_runs(data.runs, data.epochs)
    if rows.empty:
        return "*No results for this yet.*"
    summary = convergence_summary(rows)
    variants = ordered(v for v in summary["variant"] if v.startswith("visagnn"))
    return " ".join(faster_sentence(summary, variant) for variant in variants)
