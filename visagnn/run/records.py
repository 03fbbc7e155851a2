"""Crash-safe run output: per-epoch JSON lines as they come, summaries written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from visagnn.utils.atomic_write import atomic_write


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write ``payload`` as JSON to ``path`` through a temporary file and a rename."""
    with atomic_write(path) as handle:
        json.dump(payload, handle, indent=2)


class RunWriter:
    """Writes ``epochs.jsonl`` (one record per line, flushed each epoch) and ``summary.json``."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.epochs_path = self.out_dir / "epochs.jsonl"
        self.epochs_path.write_text("")

    def epoch(self, record: dict[str, Any]) -> None:
        with self.epochs_path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()

    def summary(self, summary: dict[str, Any]) -> None:
        write_json_atomic(self.out_dir / "summary.json", summary)
