"""Convergence speed (the paper's Figures 2-3 and Table 3): how soon each variant reaches what
GAS reaches at all.

Per staleness cell (dataset, depth L, parts P, batch size B: the cells of the staleness studies
and the map, where the oracle ran) and seed, the target is GAS's best validation score of that
seed and cell. A run of another variant (and GAS itself) *reaches* it at the first epoch whose
validation score is at least the target; its time there is its training time up to and with
that epoch (the cumulative ``epoch_s``: training steps only, no evaluation), and its test score
there is that epoch's. A run that never gets there has no epoch, time or test score. GAS reaches
its own target at its best validation epoch.

A variant converges *faster* than GAS in a cell when it reaches the target at every seed and its
mean time there is below GAS's; *slower* when it reaches it at every seed later; otherwise it
does not reach GAS's best at some seeds.
"""

from __future__ import annotations

import math

import pandas as pd

GAS = "gas"
CELL = ["dataset", "num_layers", "num_parts", "batch_parts"]


def reach(curve: pd.DataFrame, target: float) -> tuple[int, float, float] | None:
    """(epoch, training seconds, test %) at the first epoch of ``curve`` (one run's epochs, with
    ``epoch``, ``val`` and ``test`` in percent and ``epoch_s``) whose ``val`` is at least
    ``target``; ``None`` if none is."""
    curve = curve.sort_values("epoch")
    seconds = curve["epoch_s"].cumsum()
    reached = curve.index[curve["val"] >= target]
    if not len(reached):
        return None
    first = reached[0]
    return int(curve.at[first, "epoch"]), float(seconds.at[first]), float(curve.at[first, "test"])


def staleness_cells(runs: pd.DataFrame) -> pd.DataFrame:
    """The finished runs at cells where a variant with run settings (the oracle) and GAS ran."""
    ok = runs[runs["status"] == "ok"]
    with_setting = ok.loc[ok["kind"] == "setting", CELL].drop_duplicates()
    with_gas = ok.loc[ok["variant"] == GAS, CELL].drop_duplicates()
    return ok.merge(with_setting.merge(with_gas))


def convergence_runs(runs: pd.DataFrame, epochs: pd.DataFrame) -> pd.DataFrame:
    """One row per run at the :func:`staleness_cells`: its cell, ``variant``, ``seed``,
    ``target`` (GAS's best validation % of the seed and cell) and the :func:`reach` columns
    ``epoch``, ``seconds``, ``test`` (``NaN`` where it never reaches the target)."""
    columns = [*CELL, "variant", "seed", "target", "epoch", "seconds", "test"]
    if runs.empty or epochs.empty:
        return pd.DataFrame(columns=columns)
    chosen = staleness_cells(runs)
    curves = epochs[epochs["key"].isin(chosen["key"])].assign(
        val=lambda frame: pd.to_numeric(frame["val"], errors="coerce") * 100,
        test=lambda frame: pd.to_numeric(frame["test"], errors="coerce") * 100)
    by_key = dict(tuple(curves.groupby("key")))
    targets = {}
    for run in chosen[chosen["variant"] == GAS].itertuples():
        if run.key in by_key:
            targets[(*[getattr(run, name) for name in CELL], run.seed)] = (
                by_key[run.key]["val"].max())
    rows = []
    for run in chosen.itertuples():
        target = targets.get((*[getattr(run, name) for name in CELL], run.seed))
        if target is None or run.key not in by_key:
            continue
        reached = reach(by_key[run.key], target)
        epoch, seconds, test = reached if reached else (math.nan, math.nan, math.nan)
        rows.append({**{name: getattr(run, name) for name in CELL}, "variant": run.variant,
                     "seed": run.seed, "target": target, "epoch": epoch, "seconds": seconds,
                     "test": test})
    return pd.DataFrame(rows, columns=columns)


def verdict(of_variant: pd.DataFrame, of_gas: pd.DataFrame) -> str:
    """``faster``, ``slower``, ``as fast`` or ``not at k of n seeds``: a variant's runs of one
    cell against GAS's (rows of :func:`convergence_runs`)."""
    missing = int(of_variant["seconds"].isna().sum())
    if missing:
        return f"not at {missing} of {len(of_variant)} seeds"
    mine, gas = of_variant["seconds"].mean(), of_gas["seconds"].mean()
    return "faster" if mine < gas else "slower" if mine > gas else "as fast"


def convergence_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per cell and variant of :func:`convergence_runs`: ``reached`` (seeds that reach GAS's
    best), the mean ``epoch``, ``seconds`` and ``test`` over those seeds, the std of ``test``,
    and the ``verdict`` against GAS (``—`` for GAS)."""
    out = []
    for cell, of_cell in rows.groupby(CELL, sort=False):
        of_gas = of_cell[of_cell["variant"] == GAS]
        for variant, of_variant in of_cell.groupby("variant", sort=False):
            done = of_variant.dropna(subset=["seconds"])
            out.append({**dict(zip(CELL, cell, strict=True)), "variant": variant,
                        "seeds": len(of_variant), "reached": len(done),
                        "target": of_variant["target"].mean(),
                        "epoch": done["epoch"].mean(), "seconds": done["seconds"].mean(),
                        "test": done["test"].mean(), "test_std": done["test"].std(),
                        "verdict": "—" if variant == GAS else verdict(of_variant, of_gas)})
    return pd.DataFrame(out, columns=[*CELL, "variant", "seeds", "reached", "target", "epoch",
                                      "seconds", "test", "test_std", "verdict"])


def faster_sentence(summary: pd.DataFrame, variant: str) -> str:
    """One sentence: the cells where ``variant`` converges faster than GAS, and where not."""
    of_variant = summary[summary["variant"] == variant]
    if of_variant.empty:
        return f"{variant} did not run at a staleness cell yet."

    def cells(frame: pd.DataFrame) -> str:
        return ", ".join(f"{row.dataset} ({row.num_layers} layers, P={row.num_parts}, "
                         f"B={row.batch_parts})" for row in frame.itertuples()) or "none"

    faster = of_variant[of_variant["verdict"] == "faster"]
    rest = of_variant[of_variant["verdict"] != "faster"]
    where = f": {cells(faster)}" if len(faster) else ""
    elsewhere = f"; not in {cells(rest)}" if len(rest) else ""
    return (f"{variant} reaches GAS's best validation score in less training time than GAS in "
            f"{len(faster)} of {len(of_variant)} cells{where}{elsewhere}.")
