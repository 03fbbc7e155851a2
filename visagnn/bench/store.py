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
is ``ok``, ``oom`` or ``diverged`` (its loss became NaN or infinite: a finished outcome of its
settings, which the same settings would repeat) are finished; ``failed`` runs are tried again by
the next grid.

A store always reads: a line of ``runs.jsonl`` that is not a run record (not JSON, cut by a
crash, not UTF-8, not an object with a ``key`` and a ``status``) is skipped with one warning per
file on stderr naming the file, the lines and why; an epochs file that cannot be read whole
drops that run's curves, with a warning, and nothing else. So a grid resumes on any store whose
``runs.jsonl`` is a file; one that is a folder is a :class:`StoreError`, one line.

With pandas alone: ``pd.read_json("results/runs.jsonl", lines=True).drop_duplicates("key",
keep="last")`` and ``pd.read_json("results/epochs/<key>.jsonl", lines=True)``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from visagnn.flags import UsageError
from visagnn.run.records import to_json
from visagnn.run.summary import run_summary
from visagnn.utils.atomic_write import atomic_write

if TYPE_CHECKING:  # reading a store (the report) needs neither torch nor the methods
    from visagnn.bench.spec import RunSpec
    from visagnn.run.train import RunResult

FINISHED = ("ok", "oom", "diverged")
"""Statuses of runs that a grid does not repeat unless forced."""

RECORD_FIELDS = ("key", "status")
"""What a line must hold, as strings, to be a run record (or a scaling point's)."""

JSON_KINDS = {list: "an array", int: "a number", float: "a number", str: "a string",
              bool: "a boolean", type(None): "null"}
"""What a JSON line that is not an object is, in JSON's words, for the warning."""

_warned: set[tuple[str, tuple[int, ...]]] = set()
"""(file, bad lines) already reported by this process: a store is read many times a grid."""


class StoreError(UsageError):
    """A store that cannot be read at all (``runs.jsonl`` is a folder): one line, exit 2."""

RUN_COLUMNS = ("key", "dataset", "method", "variant", "seed", "num_parts", "batch_parts",
               "status")
"""Columns of a run joined onto each of its epoch records by :meth:`ResultsStore.epochs`."""


def _write_lines_atomic(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with atomic_write(path) as handle:
        for row in rows:
            handle.write(to_json(row) + "\n")


def append_line(path: Path, row: dict[str, Any]) -> dict[str, Any]:
    """Append ``row`` as one JSON line to ``path`` in one write, under an exclusive ``flock``,
    and fsync it: concurrent writers never interleave, and a crash loses at most this line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = to_json(row, default=str) + "\n"
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


def _problem(raw: bytes, required: tuple[str, ...]) -> tuple[dict[str, Any] | None, str]:
    """The record of the line ``raw``, or ``None`` and why it is not one."""
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        row = json.loads(text)
    except json.JSONDecodeError:
        return None, "cut mid-JSON" if text.lstrip().startswith("{") else "not JSON"
    if not isinstance(row, dict):
        return None, f"{JSON_KINDS.get(type(row), 'a JSON value')}, not an object"
    missing = [name for name in required if not isinstance(row.get(name), str)]
    if missing:
        return None, f"no {' or '.join(missing)}"
    return row, ""


def _warn(path: Path, skipped: list[tuple[int, str]], what: str) -> None:
    """One line on stderr for the ``skipped`` (line, reason) of ``path``, once per process."""
    seen = (str(path), tuple(line for line, _ in skipped))
    if not skipped or seen in _warned:
        return
    _warned.add(seen)
    shown = ", ".join(f"line {line} ({reason})" for line, reason in skipped[:5])
    more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
    several = len(skipped) > 1
    print(f"warning: {path}: skipped {len(skipped)} line{'s' * several} that "
          f"{f'are not {what}s' if several else f'is not a {what}'}: {shown}{more}",
          file=sys.stderr, flush=True)


def read_bytes(path: Path) -> bytes:
    """The bytes of the store file ``path`` (empty when it does not exist).

    Raises:
        StoreError: when ``path`` is a folder (or another thing that is not a file).
    """
    if not path.exists():
        return b""
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise StoreError(f"{path} is {kind}, not a file of JSON lines: move it away")
    return path.read_bytes()


def read_lines(path: Path, offset: int = 0, required: tuple[str, ...] = RECORD_FIELDS,
               what: str = "run record") -> list[dict[str, Any]]:
    """The records of the JSON-lines file ``path`` from byte ``offset`` on: objects with the
    string fields ``required``. Other lines (torn by a crash, not JSON, not UTF-8, another
    value) are skipped with one warning per file (:func:`_warn`); none when the file does not
    exist.

    Raises:
        StoreError: when ``path`` is a folder.
    """
    data = read_bytes(path)
    first = data[:offset].count(b"\n") + 1
    rows, skipped = [], []
    for number, raw in enumerate(data[offset:].split(b"\n"), first):
        if not raw.strip():
            continue
        row, reason = _problem(raw, required)
        if row is None:
            skipped.append((number, reason))
        else:
            rows.append(row)
    _warn(path, skipped, what)
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
        """Store a run of ``spec`` that :func:`visagnn.run.train.run` returned (status ok, oom or
        diverged)."""
        records = [{"key": spec.key, **record} for record in result.records]
        train_s = sum(record["epoch_s"] for record in result.records)
        return self.add({**result.summary, **self._identity(spec), "train_s": train_s}, records)

    def record_failure(self, spec: RunSpec, error: str, details: str = "",
                       threads: int | None = None) -> dict[str, Any]:
        """Store that ``spec`` failed with ``error`` (one line) and ``details`` (a traceback);
        ``threads``: the torch threads the run had, where it ran in another process."""
        summary = run_summary(spec.dataset, spec.config, spec.options, "failed",
                              error=error)
        return self.add({**summary, "details": details, **self._identity(spec, threads),
                         "train_s": None})

    def add(self, row: dict[str, Any], records: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
        """Store the run line ``row`` and its epoch ``records`` (``None``: a failed run, whose
        old epochs file goes), epochs first: what :meth:`record` and :meth:`record_failure`
        write, and how a run recorded in another store (a cluster worker's) joins this one."""
        epochs = self.epochs_folder / f"{row['key']}.jsonl"
        if records is None:
            epochs.unlink(missing_ok=True)
        else:
            _write_lines_atomic(epochs, records)
        return self._append(row)

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
    def _identity(spec: RunSpec, threads: int | None = None) -> dict[str, Any]:
        from visagnn.bench.provenance import provenance  # imports torch: writers only

        return {"key": spec.key, "variant": spec.variant.spec,
                "changed": dict(spec.variant.changed), "settings": dict(spec.variant.settings),
                **provenance(spec.config.device, threads)}

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
            records = _epoch_records(path)
            if records:
                frame = pd.DataFrame(records)
                frames.append(frame.assign(**{k: v for k, v in run.items() if k != "key"}))
        if not frames:
            return pd.DataFrame(columns=[*RUN_COLUMNS, "epoch", "test", "epoch_s"])
        return pd.concat(frames, ignore_index=True)


def _epoch_records(path: Path) -> list[dict[str, Any]]:
    """The records of the epochs file ``path``, or none (with a warning) when it cannot be read
    whole: the file is written atomically, so a defect anywhere makes all of it suspect."""
    try:
        records = [json.loads(line) for line in path.read_bytes().decode().splitlines()
                   if line.strip()]
    except OSError as exc:
        records, reason = [], (exc.strerror or str(exc)).lower()
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        records, reason = [], "cut mid-JSON" if isinstance(exc, json.JSONDecodeError) else (
            "not UTF-8")
    else:
        if all(isinstance(record, dict) and "epoch" in record for record in records):
            return records
        records, reason = [], "a line that is not an epoch record"
    if (str(path), ()) not in _warned:
        _warned.add((str(path), ()))
        print(f"warning: {path}: unreadable ({reason}): that run's curves are left out",
              file=sys.stderr, flush=True)
    return records
