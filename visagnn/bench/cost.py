"""What a grid costs before it runs: its runs per dataset and study, and an estimate of the
core-seconds of those not yet in a store, from seconds per epoch measured before.

The estimate of a run is ``epochs × s/epoch × L / L₀``: the mean ``mean_epoch_s`` of the
measured runs of the same dataset and variant at the nearest batch size B (in log B; the same
parts P preferred), scaled by the run's depth L over theirs L₀ (a layer's work taken as equal).
Runs without a measured dataset and variant are counted as unknown. Evaluation is not in
``mean_epoch_s``; the oracle's and the staleness measurements' exact passes are, where the
measured runs had them. It is an estimate: the measured runs' machine load is in it.

    from visagnn.bench.cost import print_cost
    print_cost("map", "reports/reference/results", datasets=["cora"])
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from visagnn.bench.grid import GRIDS, Grid
from visagnn.bench.report import load


def measured_epoch_s(results: str | Path) -> pd.DataFrame:
    """Mean ``mean_epoch_s`` per (dataset, variant, num_parts, batch_parts, num_layers) of the
    finished runs of the store ``results``."""
    runs = load(results).runs
    if runs.empty:
        return pd.DataFrame(columns=["dataset", "variant", "num_parts", "batch_parts",
                                     "num_layers", "epoch_s"])
    runs = runs[runs["status"] == "ok"].assign(
        epoch_s=lambda frame: pd.to_numeric(frame["mean_epoch_s"], errors="coerce"))
    return (runs.groupby(["dataset", "variant", "num_parts", "batch_parts", "num_layers"])
            ["epoch_s"].mean().reset_index())


def run_estimate(measured: pd.DataFrame, dataset: str, variant: str, num_parts: int,
                 batch_parts: int, num_layers: int) -> float:
    """Estimated seconds per epoch of one run (see the module docstring); NaN if unknown."""
    same = measured[(measured["dataset"] == dataset) & (measured["variant"] == variant)]
    same = same.dropna(subset=["epoch_s"])
    if same.empty:
        return math.nan
    distance = ((same["batch_parts"].map(math.log) - math.log(batch_parts)).abs()
                + (same["num_parts"] != num_parts) * 1e-3)
    nearest = same.loc[distance.idxmin()]
    return float(nearest["epoch_s"]) * num_layers / float(nearest["num_layers"])


def grid_cost(grid: Grid, results: str | Path) -> pd.DataFrame:
    """Per dataset of ``grid``: ``runs`` (planned), ``new`` (not finished in the store
    ``results``), ``unknown`` (new runs without a measured s/epoch) and ``core_hours``
    (the estimate of the new runs with one, training only)."""
    from visagnn.bench.store import ResultsStore

    finished = ResultsStore(results).finished_keys()
    measured = measured_epoch_s(results)
    rows = []
    for spec in grid.runs():
        config = spec.config
        new = spec.key not in finished
        per_epoch = (run_estimate(measured, spec.dataset, spec.variant.spec, config.num_parts,
                                  config.batch_parts, config.num_layers) if new else 0.0)
        rows.append({"dataset": spec.dataset, "runs": 1, "new": int(new),
                     "unknown": int(new and math.isnan(per_epoch)),
                     "core_hours": 0.0 if math.isnan(per_epoch)
                     else per_epoch * config.epochs / 3600})
    if not rows:
        return pd.DataFrame(columns=["runs", "new", "unknown", "core_hours"])
    return pd.DataFrame(rows).groupby("dataset", sort=False).sum()


def print_cost(grid: str, results: str | Path, **options: object) -> None:
    """Print :func:`grid_cost` of the grid named ``grid`` (``options``: its arguments, e.g.
    ``datasets=[...]``) against the store ``results``, with a total row."""
    cost = grid_cost(GRIDS[grid](**options), results)
    cost.loc["total"] = cost.sum()
    print(cost.round(2).to_string())
