"""The results store: plain JSON-lines files a user can load with pandas.

Layout of a store folder::

    runs.jsonl            one line per run attempt: the summary of visagnn.run.train.run plus
                          key, variant, changed (options), settings (run settings), train_s and
                          provenance (hardware, host, commit,
                          date, python, torch); a rerun appends a line, the last line of a key wins
    epochs/<key>.jsonl    the run's per-epoch records (epoch, loss, train, val, test, epoch_s,
                          eval_s, peak_mem_mb, method extras such as staleness), each with key
    claims/<key>.lock     held (``flock``) by the process training that run: two grids on one
                          store never train the same run at once (:meth:`ResultsStore.claim`)

An interrupted grid loses at most the run in flight: a run's epochs file is written to a
temporary file and renamed into place, then its line is appended to ``runs.jsonl`` in one write
under an exclusive lock and fsync'ed. A run is recorded once its line is there. Runs whose status
is ``ok`` or ``oom`` are finished; ``failed`` runs are tried again by the next grid.

With pandas alone: ``pd.read_json("results/runs.jsonl", lines=True).drop_duplicates("key",
keep="last")`` and ``pd.read_json("results/epochs/<key>.jsonl", lines=True)``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from visagnn.run.summary import run_summary
from visagnn.utils.atomic_write import atomic_write

if TYPE_CHECKING:  # reading a store (the report) needs neither torch nor the methods
    from visagnn.bench.spec import RunSpec
    from visagnn.run.train import RunResult

FINISHED = ("ok", "oom")
"""Statuses of runs that a grid does not repeat unless forced."""

RUN_COLUMNS = ("key", "dataset", "method", "variant", "seed", "num_parts", "batch_parts",
               "status")
"""Columns of a run joined onto each of its epoch records by :meth:`ResultsStore.epochs`."""


def _write_lines_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with atomic_write(path) as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def append_line(path: Path, row: dict[str, Any]) -> dict[str, Any]:
    """Append ``row`` as one JSON line to ``path`` in one write, under an exclusive ``flock``,
    and fsync it: concurrent writers never interleave, and a crash loses at most this line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, default=str) + "\n"
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0, os.SEEK_END)
        if handle.tell() > 0:  # a line torn by a crash must not swallow this one
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
        handle.write(line.encode())
        handle.flush()
        os.fsync(handle.fileno())
    return row


def read_lines(path: Path, offset: int = 0) -> list[dict[str, Any]]:
    """The JSON lines of ``path`` from byte ``offset`` on, without lines torn by a crash
    (none when the file does not exist)."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode().splitlines()
    rows = []
    for line in lines:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # torn by a crash while that line was being written
            continue
    return rows


class ResultsStore:
    """The runs and epochs of a benchmark under ``folder`` (see the module docstring)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.runs_path = self.folder / "runs.jsonl"
        self.epochs_folder = self.folder / "epochs"

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.folder)!r})"

    # writing

    def record(self, spec: RunSpec, result: RunResult) -> dict[str, Any]:
        """Store a run of ``spec`` that :func:`visagnn.run.train.run` returned (status ok or
        oom)."""
        records = [{"key": spec.key, **record} for record in result.records]
        _write_lines_atomic(self.epochs_folder / f"{spec.key}.jsonl", records)
        train_s = sum(record["epoch_s"] for record in result.records)
        return self._append({**result.summary, **self._identity(spec), "train_s": train_s})

    def record_failure(self, spec: RunSpec, error: str, details: str = "") -> dict[str, Any]:
        """Store that ``spec`` failed with ``error`` (one line) and ``details`` (a traceback)."""
        (self.epochs_folder / f"{spec.key}.jsonl").unlink(missing_ok=True)
        summary = run_summary(spec.dataset, spec.config, spec.options, "failed",
                              error=error)
        return self._append({**summary, "details": details, **self._identity(spec),
                             "train_s": None})

    @contextlib.contextmanager
    def claim(self, key: str) -> Iterator[bool]:
        """Claim the run ``key`` while the block runs: yields False when another process holds
        the claim (that run is being trained elsewhere). The claim is an exclusive ``flock`` on
        ``claims/<key>.lock``, released when the block ends or the process dies."""
        claims = self.folder / "claims"
        claims.mkdir(parents=True, exist_ok=True)
        with (claims / f"{key}.lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @staticmethod
    def _identity(spec: RunSpec) -> dict[str, Any]:
        from visagnn.bench.provenance import provenance  # imports torch: writers only

        return {"key": spec.key, "variant": spec.variant.spec,
                "changed": dict(spec.variant.changed), "settings": dict(spec.variant.settings),
                **provenance(spec.config.device)}

    def _append(self, row: dict[str, Any]) -> dict[str, Any]:
        return append_line(self.runs_path, row)

    # reading

    def offset(self) -> int:
        """The current end of ``runs.jsonl``; :meth:`keys_since` lists what was recorded after."""
        return self.runs_path.stat().st_size if self.runs_path.exists() else 0

    def keys_since(self, offset: int) -> set[str]:
        return {row["key"] for row in self._lines(offset)}

    def _lines(self, offset: int = 0) -> list[dict[str, Any]]:
        return read_lines(self.runs_path, offset)

    def latest(self) -> dict[str, dict[str, Any]]:
        """The last recorded attempt of every key, in the order the keys first appeared."""
        latest: dict[str, dict[str, Any]] = {}
        for row in self._lines():
            latest[row["key"]] = row
        return latest

    def finished_keys(self) -> set[str]:
        return {key for key, row in self.latest().items() if row["status"] in FINISHED}

    def runs(self) -> pd.DataFrame:
        """One row per run (its last attempt); empty with :data:`RUN_COLUMNS` when none."""
        rows = list(self.latest().values())
        return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(RUN_COLUMNS))

    def epochs(self, runs: pd.DataFrame | None = None) -> pd.DataFrame:
        """Every epoch record of ``runs`` (default: all runs), with :data:`RUN_COLUMNS`."""
        runs = self.runs() if runs is None else runs
        frames = []
        for run in runs[list(RUN_COLUMNS)].to_dict("records"):
            path = self.epochs_folder / f"{run['key']}.jsonl"
            if run["status"] == "failed" or not path.exists():
                continue
            records = [json.loads(line) for line in path.read_text().splitlines()]
            if records:
                frame = pd.DataFrame(records)
                frames.append(frame.assign(**{k: v for k, v in run.items() if k != "key"}))
        if not frames:
            return pd.DataFrame(columns=[*RUN_COLUMNS, "epoch", "test", "epoch_s"])
        return pd.concat(frames, ignore_index=True)
