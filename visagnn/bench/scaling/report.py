r"""The scaling report's data and tables, from a scaling store.

:func:`load` gives one row per point (its last attempt), the nested fields flattened
(``memory.features_mb``, ``config.heads``). Derived per finished method point:

* ``ratio``: the method's epoch time over the equal-work PyG epoch's, measured in the same
  process on the same batches (:mod:`visagnn.bench.scaling.baseline`);
* ``breakdown_mb``: the memory breakdown's total, features + graph + histories + model + one
  batch's activations, and ``breakdown_share`` = ``breakdown_mb`` / the measured peak of the
  training phases (build to inference);
* ``accounted_share``: the same with what the breakdown leaves out added: the process's memory
  at its start (interpreter, libraries) and the outputs of exact inference
  (:math:`N \sum_l d_l` floats, held beside the histories while it runs);
* ``epoch_share``, ``inference_share``: phase by phase, the process at its start + what the
  method holds (features, graph, histories, model) + the phase's working memory
  (``<phase>_workspace_mb``: every tensor the phase allocated, alive at once at most; the
  exact outputs are inference's), over the phase's peak RSS. Points measured before the
  working memory was recorded have none.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from visagnn.bench.scaling.estimate import HELD
from visagnn.bench.scaling.family import PARTITION
from visagnn.bench.scaling.measure import METHOD_PHASES
from visagnn.bench.scaling.store import ScaleStore
from visagnn.bench.tables import significant, styled

RATIO_TARGET = 1.10
"""The method/PyG epoch-time ratio the benchmark aims at for N >= 10^5 (the issue's)."""
PYG = "PyG GATConv (equal work)"
"""The label of the baseline's line in the figures."""
PHASES = {"partition_s": "partition (METIS)", "build_s": "build (partition order, histories)",
          "fill_s": "history fill", "epoch_s": "training epoch",
          "inference_s": "exact inference"}
"""Timed phases shown against N, with their titles."""
COMPONENTS = {"memory.features_mb": "features", "memory.graph_mb": "graph",
              "memory.histories_mb": "histories", "memory.activations_mb": "activations",
              "memory.model_mb": "model"}
"""The memory breakdown's parts, with their labels."""
HELD_COLUMNS = tuple(f"memory.{part}" for part in HELD)
"""The columns of the breakdown's parts a method holds through every phase."""
ACCOUNTED_PHASES = ("epoch", "inference")
"""The phases whose peak is told apart into held and working memory."""


def load(results: str | Path) -> pd.DataFrame:
    """One row per point of the store in ``results`` (its last attempt), with ``label`` (the
    key without its size: the method and non-default history storage) and, for finished
    method points, the derived columns of the module docstring."""
    rows = list(ScaleStore(results).latest().values())
    if not rows:
        return pd.DataFrame(columns=["key", "num_nodes", "method", "status", "label"])
    points = pd.json_normalize(rows)
    points["label"] = [key.split("_", 1)[1] for key in points["key"]]
    measured = (points["status"] == "ok") & (points["method"] != PARTITION)
    if measured.any():
        breakdown = points[list(COMPONENTS)].sum(axis=1)
        peak = points["memory.peak_mb"]
        points.loc[measured, "ratio"] = points["epoch_s"] / points["pyg_epoch_s"]
        points.loc[measured, "breakdown_mb"] = breakdown
        points.loc[measured, "breakdown_share"] = breakdown / peak
        points.loc[measured, "accounted_share"] = (
            breakdown + points["exact_outputs_mb"] + points["base_mb"]) / peak
        held = points[list(HELD_COLUMNS)].sum(axis=1) + points["base_mb"]
        for phase in ACCOUNTED_PHASES:
            if f"{phase}_workspace_mb" in points:
                points.loc[measured, f"{phase}_share"] = (
                    held + points[f"{phase}_workspace_mb"]) / points[f"{phase}_peak_mb"]
    return points


def method_points(points: pd.DataFrame) -> pd.DataFrame:
    """The finished method points, by size then label."""
    if points.empty:
        return points
    chosen = points[(points["status"] == "ok") & (points["method"] != PARTITION)]
    return chosen.sort_values(["num_nodes", "label"])


def partition_points(points: pd.DataFrame) -> pd.DataFrame:
    """The finished partition points, by size."""
    if points.empty:
        return points
    chosen = points[(points["status"] == "ok") & (points["method"] == PARTITION)]
    return chosen.sort_values("num_nodes")


def phase_times(points: pd.DataFrame) -> pd.DataFrame:
    """Long form ``num_nodes, line, phase, seconds``: every method's phases, METIS's time,
    and the equal-work PyG epoch (the mean of its measurements at each size, one beside each
    method) in the ``training epoch`` phase."""
    methods, partitions = method_points(points), partition_points(points)
    frames = []
    for column, phase in PHASES.items():
        source = partitions if column == "partition_s" else methods
        if source.empty or column not in source:
            continue
        line = ["METIS"] * len(source) if column == "partition_s" else list(source["label"])
        frames.append(pd.DataFrame({"num_nodes": source["num_nodes"], "line": line,
                                    "phase": phase, "seconds": source[column]}))
    if not methods.empty:
        pyg = methods.groupby("num_nodes", as_index=False)["pyg_epoch_s"].mean()
        frames.append(pd.DataFrame({"num_nodes": pyg["num_nodes"], "line": PYG,
                                    "phase": PHASES["epoch_s"], "seconds": pyg["pyg_epoch_s"]}))
    if not frames:
        return pd.DataFrame(columns=["num_nodes", "line", "phase", "seconds"])
    return pd.concat(frames, ignore_index=True).dropna(subset=["seconds"])


def memory_parts(points: pd.DataFrame) -> pd.DataFrame:
    """Long form ``label, num_nodes, part, mb``: each breakdown part, the breakdown's total
    and the measured peak of every finished method point."""
    methods = method_points(points)
    frames = [pd.DataFrame({"label": methods["label"], "num_nodes": methods["num_nodes"],
                            "part": name, "mb": methods[column]})
              for column, name in {**COMPONENTS, "breakdown_mb": "breakdown total",
                                   "memory.peak_mb": "measured peak"}.items()
              if column in methods]
    if not frames:
        return pd.DataFrame(columns=["label", "num_nodes", "part", "mb"])
    return pd.concat(frames, ignore_index=True)


def provenance_note(points: pd.DataFrame) -> str:
    """Hardware, threads, commits and dates of ``points``, in one line."""
    if points.empty or "hardware" not in points:
        return ""
    dates = sorted(str(date)[:10] for date in points["date"].dropna())
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    return (f"{', '.join(sorted(points['hardware'].dropna().unique()))} · {span} · commit "
            f"{', '.join(sorted(points['commit'].dropna().unique()))}")


def overview(points: pd.DataFrame) -> str:
    """A Markdown paragraph: what the store holds and where it comes from."""
    if points.empty:
        return "The store holds no points yet."
    counts = points["status"].value_counts()
    statuses = ", ".join(f"{counts[s]} {s}" for s in ("ok", "skipped", "failed") if s in counts)
    sizes = ", ".join(f"{n:,}" for n in sorted(points["num_nodes"].unique()))
    return (f"**{len(points)} points** ({statuses}) at N = {sizes} nodes. "
            f"{provenance_note(points)}.")


def _number(value: object) -> str:
    return "—" if value is None or pd.isna(value) else significant(float(value))


def _share(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _load_text(start: object, end: object) -> str:
    return "—" if pd.isna(start) else f"{start:.1f} → {end:.1f}"


def ratio_table(points: pd.DataFrame) -> Styler | None:
    """Per finished method point: its batches, the epoch against the equal-work PyG epoch, the
    other phases, and where it ran."""
    methods = method_points(points)
    if methods.empty:
        return None
    partition_s = partition_points(points).set_index("num_nodes")["partition_s"]
    table = pd.DataFrame({
        "N": methods["num_nodes"], "method": methods["label"], "P": methods["num_parts"],
        "steps": methods["steps"].astype(int),
        "batch + halo nodes": [f"{batch:,.0f} + {halo:,.0f}" for batch, halo in zip(
            methods["batch_nodes_mean"], methods["halo_nodes_mean"], strict=True)],
        "epoch (s)": methods["epoch_s"].map(_number),
        "PyG epoch (s)": methods["pyg_epoch_s"].map(_number),
        "ratio": methods["ratio"].map(lambda ratio: f"{ratio:.3f}"),
        "fill (s)": methods["fill_s"].map(_number),
        "inference (s)": methods["inference_s"].map(_number),
        "partition (s)": methods["num_nodes"].map(partition_s).map(_number),
        "hardware": methods["hardware"], "commit": methods["commit"],
        "threads": methods["threads"],
        "load (1 min)": [_load_text(start, end) for start, end in zip(
            methods["load_start"], methods["load_end"], strict=True)],
        "CPU / wall (epoch)": (methods["epoch_cpu_s"] / methods["epoch_s"]).map(
            lambda share: f"{share:.2f}"),
        "note": methods["note"].fillna("—") if "note" in methods else "—",
        "date": [str(date)[:16].replace("T", " ") for date in methods["date"]],
    }).reset_index(drop=True)
    over = (methods["ratio"].to_numpy() > RATIO_TARGET) & (methods["num_nodes"] >= 1e5).to_numpy()
    caption = (
        "Seconds per phase, and the training epoch over the same batches in plain PyG GATConv "
        "(same subgraphs, feature rows and layer sizes, no histories; measured in the same "
        "process right after the method's epoch): ratio = epoch / PyG epoch, in red where it "
        f"exceeds the target {RATIO_TARGET:.2f} at N ≥ 10^5. Load: the machine's 1-minute "
        "load average at the start and end of the point; CPU / wall: the process's CPU "
        "seconds per wall second in the epoch (about the torch threads when nothing else "
        "competes for the cores). " + provenance_note(methods))
    return (styled(table, table, caption, best=None)
            .apply(lambda column: ["color: #b42318; font-weight: bold;" if flag else ""
                                   for flag in over], subset=["ratio"])
            .hide(axis="index"))


def memory_table(points: pd.DataFrame) -> Styler | None:
    """Per finished method point: the breakdown, what it leaves out, the measured peaks."""
    methods = method_points(points)
    if methods.empty:
        return None
    metis = partition_points(points).set_index("num_nodes")["partition_peak_mb"]
    columns = {f"{name} (MiB)": methods[column].map(_number)
               for column, name in COMPONENTS.items()}
    table = pd.DataFrame({
        "N": methods["num_nodes"], "method": methods["label"], **columns,
        "breakdown (MiB)": methods["breakdown_mb"].map(_number),
        "exact outputs (MiB)": methods["exact_outputs_mb"].map(_number),
        "inference batch (parts)": methods["inference_parts"].astype(int),
        "process at start (MiB)": methods["base_mb"].map(_number),
        "peak RSS (MiB)": methods["memory.peak_mb"].map(_number),
        "estimated (MiB)": methods["estimated_peak_mb"].map(_number)
        if "estimated_peak_mb" in methods else "—",
        "largest phase peak (MiB)": methods[[f"{phase}_peak_mb" for phase in METHOD_PHASES]]
        .max(axis=1).map(_number),
        "breakdown / peak": methods["breakdown_share"].map(lambda share: f"{share:.2f}"),
        "accounted / peak": methods["accounted_share"].map(lambda share: f"{share:.2f}"),
        **{f"{phase}: held + working / peak": methods[f"{phase}_share"].map(_share)
           if f"{phase}_share" in methods else "—" for phase in ACCOUNTED_PHASES},
        "METIS peak (MiB)": methods["num_nodes"].map(metis).map(_number),
    }).reset_index(drop=True)
    caption = (
        "The memory breakdown (the tensors the method holds, each storage once, and the most "
        "that autograd kept for one step's backward pass), the measured peak RSS of the "
        "training phases (build, fill, epoch, inference), and their ratio; accounted adds what "
        "the breakdown leaves out: the process at its start and the exact-inference outputs. "
        "Phase by phase (training epoch, exact inference): the process at its start and what "
        "the method holds, plus the phase's working memory (every tensor it allocated, alive "
        "at once at most, exact outputs included), over that phase's peak RSS. "
        "Exact inference (history fill, evaluation) visits the parts in batches of the "
        "given size, at most 8 per layer: its transients grow with N. "
        "Estimated: the largest phase peak the runner predicted before the point from a smaller "
        "one (skipping the point when it exceeds the memory available), to compare with the "
        "largest phase peak measured (PyG epoch included). METIS runs in a process of its own. "
        + provenance_note(methods))
    return styled(table, table, caption, best=None).hide(axis="index")


def unfinished_table(points: pd.DataFrame) -> Styler | None:
    """Points skipped (with the reason) or failed (with the error)."""
    if points.empty:
        return None
    unfinished = points[points["status"] != "ok"]
    if unfinished.empty:
        return None
    reasons = [reason if isinstance(reason, str) else error for reason, error in zip(
        unfinished.get("reason", pd.Series(index=unfinished.index, dtype=object)),
        unfinished.get("error", pd.Series(index=unfinished.index, dtype=object)), strict=True)]
    table = pd.DataFrame({"point": unfinished["key"], "status": unfinished["status"],
                          "why": reasons,
                          "date": [str(date)[:16].replace("T", " ")
                                   for date in unfinished["date"]]}).reset_index(drop=True)
    caption = ("Points skipped (a smaller point's breakdown says they do not fit, or their "
               "partition did not finish) or failed; the next run tries them again. "
               + provenance_note(unfinished))
    return (styled(table, table, caption, best=None)
            .set_properties(subset=["why"], **{"text-align": "left", "max-width": "50em"})
            .hide(axis="index"))
