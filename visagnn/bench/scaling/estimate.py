r"""Will a point fit? Its peak memory, extrapolated from the breakdown of a smaller point.

The reference is the largest finished point of the same method and history storage with fewer
nodes :math:`N_r`. At a fixed average degree the graph, the features and the histories grow
with :math:`N`, one batch's activations with the batch's nodes :math:`n_B` (which stop growing
once the parts reach their full size), the model not at all:

.. math::
    \widehat{\mathrm{peak}}(N) = m_0 + \frac{N}{N_r}\,(F + G + H + R)
        + \frac{n_B(N)}{n_B(N_r)}\,A + M,
    \qquad R = \max\big(\mathrm{peak}_r - m_0 - (F + G + H + A + M),\ 0\big)

with the reference's features :math:`F`, graph :math:`G`, histories :math:`H`, activations
:math:`A`, model :math:`M`, the process's memory at its start :math:`m_0` (the interpreter and
its libraries) and its largest peak over every phase :math:`\mathrm{peak}_r`; :math:`R` is
what the breakdown does not hold (exact inference's outputs, the graph generator's and the
batches' transients), which grows with :math:`N` too. A partition point extrapolates METIS's
peak, :math:`m_0 + \frac{N}{N_r}(\mathrm{peak}_r - m_0)`. Without a smaller reference there is
no estimate, and the point runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from visagnn.bench.scaling.family import ScalePoint

BREAKDOWN = ("features_mb", "graph_mb", "histories_mb", "activations_mb", "model_mb")
"""The memory breakdown's parts (:func:`visagnn.run_summary.run_summary`)."""
GROWING = ("features_mb", "graph_mb", "histories_mb")
"""The parts that grow with the number of nodes."""


@dataclass(frozen=True)
class Estimate:
    """``peak_mb`` extrapolated from the point whose key is ``reference``."""

    peak_mb: float
    reference: str


def largest_peak_mb(record: dict[str, Any]) -> float:
    """The largest peak RSS over every phase of a record."""
    return max(value for name, value in record.items()
               if name.endswith("_peak_mb") and value is not None)


def reference_point(point: ScalePoint, records: Iterable[dict[str, Any]]
                    ) -> dict[str, Any] | None:
    """The largest finished point smaller than ``point`` with its method and storage."""
    smaller = [record for record in records
               if record["status"] == "ok" and record["method"] == point.method
               and record["history_dtype"] == point.history_dtype
               and record["history_storage"] == point.history_storage
               and record["num_nodes"] < point.num_nodes]
    return max(smaller, key=lambda record: record["num_nodes"], default=None)


def estimate_peak(point: ScalePoint, records: Iterable[dict[str, Any]]) -> Estimate | None:
    """The estimated peak RSS of ``point`` (see the module docstring), ``None`` without a
    smaller finished point to extrapolate from."""
    reference = reference_point(point, records)
    if reference is None:
        return None
    growth = point.num_nodes / reference["num_nodes"]
    base, peak = reference["base_mb"], largest_peak_mb(reference)
    if point.is_partition:
        return Estimate(base + growth * (peak - base), reference["key"])
    breakdown = reference["memory"]
    rest = max(peak - base - sum(breakdown[part] for part in BREAKDOWN), 0.0)
    batch_growth = (point.batch_nodes
                    / ScalePoint(reference["num_nodes"], point.method).batch_nodes)
    estimate = (base + growth * (sum(breakdown[part] for part in GROWING) + rest)
                + batch_growth * breakdown["activations_mb"] + breakdown["model_mb"])
    return Estimate(estimate, reference["key"])
