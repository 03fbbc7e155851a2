"""Crash-safe run output: per-epoch JSON lines as they come, summaries written atomically.

Every output is strict JSON (:func:`to_json`): a non-finite float (a NaN score, an infinite
loss) is written as ``null``, since ``NaN`` and ``Infinity`` are not JSON and most readers
other than Python's refuse them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from visagnn.utils.atomic_write import append_line, atomic_write, check_output_folder, output_error


def finite_or_none(payload: Any) -> Any:
    """``payload`` with every non-finite float, at any depth of dicts, lists and tuples, as
    ``None``."""
    if isinstance(payload, float):
        return payload if math.isfinite(payload) else None
    if isinstance(payload, dict):
        return {key: finite_or_none(value) for key, value in payload.items()}
    if isinstance(payload, list | tuple):
        return [finite_or_none(value) for value in payload]
    return payload


def to_json(payload: Any, indent: int | None = None,
            default: Callable[[Any], Any] | None = None) -> str:
    """``payload`` as strict JSON, non-finite floats as ``null``: the one encoder of run
    outputs (``epochs.jsonl``, ``summary.json``, the summary ``run`` prints, the results
    store's lines); ``default`` encodes what JSON has no type for, as in :func:`json.dumps`."""
    return json.dumps(finite_or_none(payload), indent=indent, allow_nan=False, default=default)


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write ``payload`` as strict JSON to ``path`` through a temporary file and a rename."""
    with atomic_write(path) as handle:
        handle.write(to_json(payload, indent=2))


class RunWriter:
    """Writes ``epochs.jsonl`` (one record per line, appended each epoch) and ``summary.json``.

    A new writer empties ``epochs.jsonl`` and removes the ``summary.json`` of a run that
    finished in the same folder before, so that a run killed midway never leaves an old summary
    beside its own epochs.

    Raises:
        UsageError: naming ``flag`` when ``out_dir`` cannot hold outputs
            (:func:`~visagnn.utils.atomic_write.check_output_folder`).
        OutputError: when a file cannot be written (a full disk), naming it.
    """

    def __init__(self, out_dir: str | Path, flag: str = "out_dir") -> None:
        self.out_dir = check_output_folder(out_dir, flag)
        self.epochs_path = self.out_dir / "epochs.jsonl"
        self.summary_path = self.out_dir / "summary.json"
        try:
            self.summary_path.unlink(missing_ok=True)
        except OSError as exc:
            raise output_error(exc, self.summary_path) from None
        with atomic_write(self.epochs_path):
            pass

    def epoch(self, record: dict[str, Any]) -> None:
        append_line(self.epochs_path, to_json(record))

    def summary(self, summary: dict[str, Any]) -> None:
        write_json_atomic(self.summary_path, summary)
