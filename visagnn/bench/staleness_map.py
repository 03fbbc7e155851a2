r"""The staleness map: where fresh halo rows would raise the test score, and how much of it
VISAGNN recovers.

A map cell is one (dataset, depth L, parts P, batch size B) at which GAS, its exact-halo oracle
(``gas --exact-halo``: no stale row at all) and VISAGNN-Sum ran (:func:`visagnn.bench.grid.
map_studies`). Per cell, over the seeds at which both GAS and the oracle finished (a seed fixes
the partition and the initial weights of both, so the runs pair):

.. math::

    g = \frac{1}{n}\sum_s (o_s - a_s), \qquad
    \sigma_g = \operatorname{std}_s(o_s - a_s), \qquad
    \text{share} = \frac{\frac{1}{m}\sum_s (v_s - a_s)}{g}

with :math:`a_s, o_s, v_s` the test scores (%) of GAS, the oracle and VISAGNN-Sum at seed
:math:`s` (the share's numerator over the seeds where GAS and VISAGNN-Sum finished).
:math:`\sigma_g` is the sample standard deviation (``ddof=1``) of the per-seed difference, not
the larger of the two variants' own stds: seed-to-seed variation that both runs share (the
partition, the initial weights) cancels in it, and it is what the gain is uncertain by. A cell
is a *heavy-staleness* cell where :math:`g > \sigma_g`; elsewhere the gain is within noise and
the share is undefined (``—``). With fewer than two paired seeds there is no
:math:`\sigma_g` and no cell is heavy.
"""

from __future__ import annotations

import math

import pandas as pd

GAS = "gas"
ORACLE = "gas --exact-halo"
"""GAS reading exact halo rows of the current weights at every step: no staleness at all."""
VISAGNN = "visagnn-sum"
MAP_VARIANTS = (GAS, ORACLE, VISAGNN)
"""The staleness map's variants: GAS, its oracle (the ceiling of any staleness fix) and
VISAGNN-Sum with our defaults (how much of the ceiling it recovers)."""
MAP_AXES = ["dataset", "num_layers", "num_parts", "batch_parts"]
"""What identifies a map cell."""


def _by_seed(cell: pd.DataFrame, variant: str) -> pd.Series:
    runs = cell[(cell["variant"] == variant) & (cell["status"] == "ok")]
    return runs.groupby("seed")["score"].mean()


def staleness_map(runs: pd.DataFrame) -> pd.DataFrame:
    r"""One row per map cell of ``runs`` (a :class:`~visagnn.bench.report.ReportData`'s, with
    ``num_layers`` and ``score``): the cells where GAS and the oracle both finished a seed.
    Columns: ``seeds`` (paired), ``gas``, ``oracle``, ``visagnn`` (mean test %, ``NaN`` where
    VISAGNN-Sum did not run) and their stds, ``gain`` and ``gain_std`` (:math:`g`,
    :math:`\sigma_g`), ``share`` (``NaN`` unless heavy) and ``heavy``."""
    rows = []
    if not runs.empty and "num_layers" in runs:
        cells = runs[runs["variant"].isin((GAS, ORACLE, VISAGNN))]
        for axes, cell in cells.groupby(MAP_AXES, sort=False):
            gas, oracle, visagnn = (_by_seed(cell, variant) for variant in (GAS, ORACLE,
                                                                            VISAGNN))
            paired = (oracle - gas).dropna()
            if paired.empty:
                continue
            gain = paired.mean()
            gain_std = paired.std() if len(paired) > 1 else math.nan
            heavy = bool(gain > gain_std)
            recovered = (visagnn - gas).dropna()
            share = recovered.mean() / gain if heavy and len(recovered) else math.nan
            rows.append({**dict(zip(MAP_AXES, axes, strict=True)), "seeds": len(paired),
                         "gas": gas.mean(), "gas_std": gas.std(),
                         "oracle": oracle.mean(), "oracle_std": oracle.std(),
                         "visagnn": visagnn.mean() if len(visagnn) else math.nan,
                         "visagnn_std": visagnn.std() if len(visagnn) else math.nan,
                         "gain": gain, "gain_std": gain_std, "share": share, "heavy": heavy})
    columns = [*MAP_AXES, "seeds", "gas", "gas_std", "oracle", "oracle_std", "visagnn",
               "visagnn_std", "gain", "gain_std", "share", "heavy"]
    return pd.DataFrame(rows, columns=columns)


def gain_text(gain: float, gain_std: float) -> str:
    r"""``+1.2 ± 0.4``: the oracle's gain with :math:`\sigma_g` (``± —`` without one)."""
    spread = f"{gain_std:.1f}" if math.isfinite(gain_std) else "—"
    return f"{gain:+.1f} ± {spread}"


def share_text(share: float) -> str:
    """``45 %``: VISAGNN-Sum's share of the oracle's gain; ``—`` where it is undefined."""
    return f"{100 * share:.0f} %" if math.isfinite(share) else "—"


def cell_text(row: pd.Series) -> str:
    """``3 layers, P=80, B=1``: a map cell's setting."""
    return f"{row['num_layers']} layers, P={row['num_parts']}, B={row['batch_parts']}"


def heavy_cells(runs: pd.DataFrame) -> pd.DataFrame:
    r"""The heavy-staleness cells (:data:`MAP_AXES` columns) of ``runs``' map: where the oracle
    gains more than :math:`\sigma_g` over GAS."""
    mapped = staleness_map(runs)
    return mapped.loc[mapped["heavy"], MAP_AXES].reset_index(drop=True)


def heavy_summary(runs: pd.DataFrame) -> str:
    """Markdown, one paragraph per mapped graph: its heavy-staleness cells with the gain and
    VISAGNN-Sum's share, or the one sentence that it has none."""
    mapped = staleness_map(runs)
    if mapped.empty:
        return "*No results for this yet.*"
    lines = []
    for dataset, cells in mapped.groupby("dataset", sort=False):
        heavy = cells[cells["heavy"]]
        if heavy.empty:
            lines.append(f"On **{dataset}** the oracle gains more than one standard deviation "
                         f"over GAS in none of the {len(cells)} cells of the map: staleness "
                         "does not limit the test score there.")
            continue
        listed = "; ".join(f"{cell_text(row)} ({gain_text(row['gain'], row['gain_std'])}, "
                           f"VISAGNN-Sum {share_text(row['share'])})"
                           for _, row in heavy.iterrows())
        lines.append(f"On **{dataset}** the heavy-staleness cells, where the oracle gains more "
                     f"than one standard deviation over GAS, are {len(heavy)} of "
                     f"{len(cells)}: {listed}.")
    return "\n\n".join(lines)
