"""Importing ogb 1.3.6 offline, its dataset names and its evaluator.

``import ogb`` starts a thread that asks PyPI whether ogb is outdated (package ``outdated``);
offline it only fails quietly, but it is network traffic nobody asked for.
:func:`import_ogb` hides ``outdated`` during ogb's first import only, so no thread
starts and ``import outdated`` still works for everyone else. ogb's two other pitfalls are
handled where ogb loads data, in :mod:`visagnn.datasets.ogbn` and
:mod:`visagnn.datasets.mag240m`.
"""

from __future__ import annotations

import functools
import importlib
import sys
from types import ModuleType
from typing import Any

from torch import Tensor

OGB_NAMES: dict[str, str] = {
    "ogbn-arxiv": "ogbn-arxiv",
    "ogbn-products": "ogbn-products",
    "ogbn-papers100m": "ogbn-papers100M",
}
"""visagnn's lowercase dataset name -> ogb's (case-sensitive) dataset name."""


def import_ogb(module: str) -> ModuleType:
    """``module`` (``'ogb.nodeproppred'``, ``'ogb.lsc'``), imported without starting ogb's
    version-check thread."""
    if "ogb" not in sys.modules:
        hidden = "outdated" in sys.modules
        previous = sys.modules.get("outdated")
        sys.modules["outdated"] = None  # type: ignore[assignment]  # makes the import fail
        try:
            importlib.import_module("ogb")
        finally:
            if hidden:
                sys.modules["outdated"] = previous  # type: ignore[assignment]
            else:
                del sys.modules["outdated"]
    return importlib.import_module(module)


def ogb_accuracy(name: str, prediction: Tensor, y: Tensor) -> float:
    """Accuracy of ``prediction`` ``[n]`` against ``y`` ``[n]`` by ogb's ``Evaluator(name)``.

    ``name`` is a visagnn name from :data:`OGB_NAMES`.
    """
    columns = {"y_true": y.view(-1, 1).cpu(), "y_pred": prediction.view(-1, 1).cpu()}
    result = _evaluator(OGB_NAMES[name]).eval(columns)
    return float(result["acc"])


@functools.cache
def _evaluator(ogb_name: str) -> Any:
    """ogb's ``Evaluator``, built once per dataset (it parses ogb's master table)."""
    return import_ogb("ogb.nodeproppred").Evaluator(ogb_name)
