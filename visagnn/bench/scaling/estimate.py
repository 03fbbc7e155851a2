r"""Will a point fit? Its peak memory, extrapolated phase by phase from a smaller point.

The reference is the largest finished point of the same method, history storage and device with
fewer nodes :math:`N_r`. A phase's peak RSS :math:`p_k` above the process's memory at its
start :math:`m_0` (the interpreter and its libraries, which does not grow) splits into what the
run holds, :math:`H_k`, and the workspace of the batch being computed, :math:`W_k = p_k - m_0 -
H_k`. At a fixed average degree :math:`H_k` grows with :math:`N`: the features, the graph, the
histories and the model of the breakdown, and for history fill and exact inference also the
exact embeddings of every layer they return. :math:`W_k` grows with the nodes of the batch: of
a training batch :math:`n_B` for the two epochs (saved activations and the backward pass's
temporaries; constant once the parts reach their full size), of an inference batch
:math:`n_I` for fill and inference (:func:`~visagnn.methods.partition_batches.inference_parts`
parts). So

.. math::
    \hat p_k(N) = m_0 + \frac{N}{N_r}\,H_k + \frac{n(N)}{n(N_r)}\,W_k,
    \qquad \widehat{\mathrm{peak}}(N) = \max_k \hat p_k(N).

Generating the graph, building the method and METIS (a partition point) hold nothing but the
graph's own data: all of :math:`p_k - m_0` grows with :math:`N`. Without a smaller reference
the estimate is :func:`lower_bound_mb`, what any point of that size must hold, so that the first
point of a run is guarded too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from visagnn.bench.scaling.family import BATCH_PARTS, PRODUCTS_SHAPE, ScalePoint, num_parts
from visagnn.bench.scaling.measure import METHOD_PHASES, PARTITION_PHASES
from visagnn.methods.partition_batches import inference_parts

PHASES = tuple(dict.fromkeys((*PARTITION_PHASES, *METHOD_PHASES)))
TRAINING_BATCH_PHASES = ("epoch", "pyg_epoch")
INFERENCE_BATCH_PHASES = ("fill", "inference")
HELD = ("features_mb", "graph_mb", "histories_mb", "model_mb")
"""The breakdown's tensors a method holds throughout."""


BASE_MB = 100.0
"""A lower bound of a point's process before its graph exists: a Python interpreter with torch
imported (the measured ``base_mb`` of every point is several times more)."""
LOWER_BOUND = "the graph's features and edges alone"
""":attr:`Estimate.reference` of :func:`lower_bound_mb`."""


def node_bytes() -> float:
    """Bytes every node of the family's graph holds at least: its float32 features and, per
    undirected edge (half its degree), the two int64 ids of the edge list."""
    return 4 * PRODUCTS_SHAPE.num_features + 8 * 2 * PRODUCTS_SHAPE.avg_degree / 2


def lower_bound_mb(num_nodes: int) -> float:
    """What a point of ``num_nodes`` nodes needs at least, in MiB: :data:`BASE_MB` and
    :func:`node_bytes` per node (no model, histories, batch or METIS workspace counted)."""
    return BASE_MB + num_nodes * node_bytes() / 2**20


def nodes_that_fit(memory_mb: float) -> int:
    """The most nodes whose :func:`lower_bound_mb` is within ``memory_mb``."""
    return max(int((memory_mb - BASE_MB) * 2**20 / node_bytes()), 0)


@dataclass(frozen=True)
class Estimate:
    """``peak_mb`` extrapolated from the point whose key is ``reference``."""

    peak_mb: float
    reference: str


def reference_point(point: ScalePoint, records: Iterable[dict[str, Any]]
                    ) -> dict[str, Any] | None:
    """The largest finished point smaller than ``point`` with its method, storage and device."""
    smaller = [record for record in records
               if record["status"] == "ok" and record["method"] == point.method
               and record["history_dtype"] == point.history_dtype
               and record["history_storage"] == point.history_storage
               and record.get("device", "cpu") == point.device
               and record["num_nodes"] < point.num_nodes]
    return max(smaller, key=lambda record: record["num_nodes"], default=None)


def inference_batch_nodes(num_nodes: int, num_edges: float) -> float:
    """Nodes per exact-inference batch of the family's graph with ``num_nodes`` nodes."""
    parts = num_parts(num_nodes)
    return inference_parts(parts, BATCH_PARTS, int(num_edges)) * num_nodes / parts


def held_mb(record: dict[str, Any], phase: str) -> float | None:
    """:math:`H_k` of ``phase`` in ``record``; ``None`` where all of the phase grows with the
    graph (generating it, building the method, METIS)."""
    if phase not in TRAINING_BATCH_PHASES + INFERENCE_BATCH_PHASES or "memory" not in record:
        return None
    held = sum(record["memory"][part] for part in HELD)
    return held + record["exact_outputs_mb"] if phase in INFERENCE_BATCH_PHASES else held


def estimate_peak(point: ScalePoint, records: Iterable[dict[str, Any]]) -> Estimate:
    """The estimated peak RSS of ``point`` (see the module docstring): extrapolated from a
    smaller finished point, else :func:`lower_bound_mb`."""
    reference = reference_point(point, records)
    if reference is None:
        return Estimate(lower_bound_mb(point.num_nodes), LOWER_BOUND)
    nodes = reference["num_nodes"]
    growth = point.num_nodes / nodes
    training = point.batch_nodes / ScalePoint(nodes, point.method).batch_nodes
    base, peaks = reference["base_mb"], []
    for phase in PHASES:
        peak = reference.get(f"{phase}_peak_mb")
        if peak is None:
            continue
        held = held_mb(reference, phase)
        if held is None:
            peaks.append(base + growth * (peak - base))
            continue
        batch_growth = training if phase in TRAINING_BATCH_PHASES else (
            inference_batch_nodes(point.num_nodes, reference["num_edges"] * growth)
            / inference_batch_nodes(nodes, reference["num_edges"]))
        peaks.append(base + growth * held + batch_growth * max(peak - base - held, 0.0))
    return Estimate(max(peaks), reference["key"])
