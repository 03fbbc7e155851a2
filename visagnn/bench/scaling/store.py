"""The store of the scaling benchmark: one JSON line per measured (or skipped) point.

``<folder>/points.jsonl`` holds one line per attempt: the point's fields (``key``,
``num_nodes``, ``method``, ``history_dtype``, ``history_storage``, ``device``), ``status`` (``ok``,
``skipped`` with ``reason``, or ``failed`` with ``error``) and the record of
:func:`~visagnn.bench.scaling.measure.measure`. The last line of a key wins; a point whose last
line is ``ok`` is finished. Lines are appended as the results store's are
(:func:`~visagnn.bench.store.append_line`: one locked, fsync'ed write), so an interrupted run
loses at most the point in flight. With pandas alone:
``pd.read_json("results/scale/points.jsonl", lines=True).drop_duplicates("key", keep="last")``.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from visagnn.bench.store import append_line, read_lines

if TYPE_CHECKING:  # the report reads a store without importing torch
    from visagnn.bench.scaling.family import ScalePoint

PointStatus = Literal["ok", "skipped", "failed"]


class ScaleStore:
    """The points under ``folder`` (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.path = self.folder / "points.jsonl"

    def __repr__(self) -> str:
        return f"ScaleStore({str(self.folder)!r})"

    def record(self, point: ScalePoint, status: PointStatus, **fields: Any) -> dict[str, Any]:
        """Append the line of an attempt at ``point``."""
        return append_line(self.path, {"key": point.key, **asdict(point), "status": status,
                                       **fields})

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last line of every key, in the order the keys first appeared."""
        latest: dict[str, dict[str, Any]] = {}
        for row in read_lines(self.path, what="point record"):
            latest[row["key"]] = row
        return latest

    def finished(self, point: ScalePoint) -> dict[str, Any] | None:
        """The record of ``point`` if its last attempt finished, else ``None``."""
        row = self.latest().get(point.key)
        return row if row is not None and row["status"] == "ok" else None
