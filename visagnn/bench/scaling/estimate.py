r"""Will a point fit? Its peak memory, extrapolated phase by phase from a smaller point.

The reference is the largest finished point of the same method, history storage and device with
fewer nodes :math:`N_r`. At a fixed average degree, what a phase holds grows with :math:`N` (graph,
features, histories, exact inference's batches and outputs: its batches are an eighth of the
parts), except one training step's activations, which grow with the training batch's nodes
:math:`n_B` (constant once the parts reach their full size). So each phase :math:`k` of the
reference, with peak RSS :math:`p_k` and activations :math:`a_k` (the breakdown's for the
training epoch, the baseline's for the PyG epoch, none for the others), gives

.. math::
    \hat p_k(N) = m_0 + \frac{N}{N_r}\,\big(p_k - m_0 - a_k\big) + \frac{n_B(N)}{n_B(N_r)}\,a_k,
    \qquad \widehat{\mathrm{peak}}(N) = \max_k \hat p_k(N),

with :math:`m_0` the reference process's memory at its start (the interpreter and its
libraries, which does not grow). A partition point has no activations: METIS's peak grows with
the graph. Without a smaller reference there is no estimate, and the point runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from visagnn.bench.scaling.family import ScalePoint
from visagnn.bench.scaling.measure import METHOD_PHASES, PARTITION_PHASES

PHASES = tuple(dict.fromkeys((*PARTITION_PHASES, *METHOD_PHASES)))


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


def phase_activations_mb(record: dict[str, Any]) -> dict[str, float]:
    """The activations each training phase of ``record`` held at its peak step."""
    if "memory" not in record:
        return {}
    return {"epoch": record["memory"]["activations_mb"],
            "pyg_epoch": record.get("pyg_activations_mb", 0.0)}


def estimate_peak(point: ScalePoint, records: Iterable[dict[str, Any]]) -> Estimate | None:
    """The estimated peak RSS of ``point`` (see the module docstring), ``None`` without a
    smaller finished point to extrapolate from."""
    reference = reference_point(point, records)
    if reference is None:
        return None
    growth = point.num_nodes / reference["num_nodes"]
    batch_growth = (point.batch_nodes
                    / ScalePoint(reference["num_nodes"], point.method).batch_nodes)
    base, activations = reference["base_mb"], phase_activations_mb(reference)
    peaks = []
    for phase in PHASES:
        peak = reference.get(f"{phase}_peak_mb")
        if peak is not None:
            held = activations.get(phase, 0.0)
            peaks.append(base + growth * (peak - base - held) + batch_growth * held)
    return Estimate(max(peaks), reference["key"])
