"""Running a grid: the experiment notebook once per cell, then the report and the index page.

A grid resumes where it stopped: a cell whose runs are all finished in the results store is
skipped, and a cell's notebook trains only its unfinished runs (``force`` trains them all). When
a notebook stops (a cell raises, the kernel dies, e.g. killed for memory), the runs it did not
record are recorded as failed with the error, and the grid goes on with the next cell.

Output in ``reports/``::

    index.html                     where the results come from, links, how to regenerate
    report.ipynb, report.html      the executed report notebook (tables and figures)
    figures/*.png                  the report's figures
    experiments/<cell>.ipynb/.html one executed experiment notebook per cell

Every page and notebook is written beside its target and renamed into place, and grids that
share a reports folder render it one at a time (:func:`render_lock`), so a reader never sees a
half-written page or an empty notebook.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from visagnn.bench import NOTEBOOKS
from visagnn.bench.execute import execute_notebook
from visagnn.bench.grid import Cell, Grid
from visagnn.bench.html import build_index, notebook_to_html
from visagnn.bench.report import load
from visagnn.bench.store import ResultsStore

RENDER_LOCK = ".render.lock"


class CellExecutor(Protocol):
    """Trains a cell's unfinished runs (all with ``force``) into the store in ``results``, with
    ``threads`` torch CPU threads per run (``None``: torch's default)."""

    threads: int | None

    def __call__(self, cell: Cell, results: Path, force: bool) -> None: ...


@dataclass(frozen=True)
class NotebookExecutor:
    """Executes ``notebooks/experiment.ipynb`` for a cell into ``reports/experiments/`` with
    ``threads`` torch CPU threads (``None``: torch's default), and converts the executed copy
    to HTML (also when it failed, to show where). Without ``train`` the notebook trains
    nothing and shows the stored runs (a cluster trained them: :mod:`visagnn.bench.cluster`)."""

    notebooks: Path
    reports: Path
    echo: bool = True
    threads: int | None = None
    train: bool = True

    def __call__(self, cell: Cell, results: Path, force: bool) -> None:
        executed = self.reports / "experiments" / f"{cell.name}.ipynb"
        parameters = {**cell.parameters(results, force), "threads": self.threads}
        if not self.train:
            parameters["train"] = False
        try:
            execute_notebook(self.notebooks / "experiment.ipynb", executed, parameters,
                             echo=self.echo)
        finally:
            if executed.exists():
                notebook_to_html(executed, executed.with_suffix(".html"))


@dataclass(frozen=True)
class CellOutcome:
    cell: Cell
    planned: int
    pending: int
    status: Literal["skipped", "done", "failed"]
    error: str | None = None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    # papermill's message is a banner and a traceback; its evalue is the useful part
    reason = getattr(exc, "evalue", None) or (text.splitlines()[0] if text else "")
    return f"{getattr(exc, 'ename', None) or type(exc).__name__}: {reason}"


def _log(line: str) -> None:
    # flushed: in order with the notebooks' output, also when piped; one write per line, so
    # that the lines of cells running at once do not interleave
    print(line + "\n", end="", flush=True)


def run_grid(grid: Grid, results: Path, executor: CellExecutor, force: bool = False,
             log: Callable[[str], None] = _log, jobs: int = 1,
             replan: Callable[[], Grid] | None = None) -> list[CellOutcome]:
    """Run every cell of ``grid`` that has unfinished runs (every cell with ``force``), up to
    ``jobs`` cells at a time (each notebook has its own kernel process; the store takes
    concurrent appends). After each cell ``replan`` (when given) plans the grid again from
    what the store now holds (the reference's heavy cells come from its own map): a cell with
    runs not planned before runs next, ahead of the cells still waiting, so that the grid ends
    at the runs it plans on its own store. Returns the outcomes in the order the cells were
    planned."""
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    store = ResultsStore(results)
    waiting = deque(enumerate(grid.cells, 1))
    planned = {spec.key for cell in grid.cells for spec in cell.runs()}
    planned_cells = list(grid.cells)
    outcomes: dict[int, CellOutcome] = {}
    changed = threading.Condition()

    def run_cell(index: int, cell: Cell) -> CellOutcome:
        specs = cell.runs()
        finished = set() if force else store.finished_keys()
        pending = [spec for spec in specs if spec.key not in finished]
        header = f"[cell {index}/{len(planned_cells)}] {cell.name}: {len(specs)} runs"
        if not pending:
            log(f"{header}, all finished before: skipped")
            return CellOutcome(cell, len(specs), 0, "skipped")
        log(f"{header}, {len(pending)} to train")
        offset = store.offset()
        try:
            executor(cell, Path(results), force)
        except Exception as exc:  # the notebook stopped; record what it left undone, go on
            error = _one_line(exc)
            recorded = store.keys_since(offset)
            for spec in pending:
                if spec.key not in recorded:
                    store.record_failure(spec, f"the experiment notebook stopped: {error}",
                                         str(exc), threads=executor.threads)
            log(f"{header}: the notebook stopped: {error}")
            return CellOutcome(cell, len(specs), len(pending), "failed", error)
        if jobs > 1:
            log(f"{header}: done")
        return CellOutcome(cell, len(specs), len(pending), "done")

    def add_replanned() -> None:
        added = []
        for cell in replan().cells if replan is not None else ():
            new = {spec.key for spec in cell.runs()} - planned
            if new:
                planned.update(new)
                planned_cells.append(cell)
                added.append((len(planned_cells), cell))
                log(f"planned again: {cell.name} has {len(new)} new runs")
        waiting.extendleft(reversed(added))

    running = 0

    def ready() -> bool:
        return bool(waiting) or not running

    def work() -> None:
        nonlocal running
        while True:
            with changed:  # an idle worker waits while a running cell may plan more
                changed.wait_for(ready)
                if not waiting:
                    return
                index, cell = waiting.popleft()
                running += 1
            outcome = run_cell(index, cell)
            with changed:
                outcomes[index] = outcome
                add_replanned()
                running -= 1
                changed.notify_all()

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for worker in [pool.submit(work) for _ in range(jobs)]:
            worker.result()
    return [outcomes[index] for index in sorted(outcomes)]


@contextlib.contextmanager
def render_lock(reports: Path) -> Iterator[None]:
    """Hold ``reports/.render.lock`` (an exclusive ``flock``) while the block runs: grids
    sharing a reports folder render it one at a time (a figure folder is emptied and refilled
    by each render)."""
    reports.mkdir(parents=True, exist_ok=True)
    with (reports / RENDER_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def render_reports(results: Path, reports: Path, notebooks: Path = NOTEBOOKS) -> Path:
    """Execute the report notebook on the store in ``results``, convert it and any executed
    experiment notebook without an up-to-date HTML copy, and write ``reports/index.html``,
    holding :func:`render_lock`.

    Raises the report notebook's error after the index page is written.
    """
    results, reports = Path(results).resolve(), Path(reports).resolve()
    with render_lock(reports):
        return _render(results, reports, notebooks)


def _render(results: Path, reports: Path, notebooks: Path) -> Path:
    figures = reports / "figures"
    shutil.rmtree(figures, ignore_errors=True)  # figures of results that are gone must go
    executed = reports / "report.ipynb"
    error: Exception | None = None
    try:
        execute_notebook(notebooks / "report.ipynb", executed,
                         {"results": str(results), "save_figures": str(figures)})
    except Exception as exc:
        error = exc
    if executed.exists():
        notebook_to_html(executed, reports / "report.html", hide_input=True)
    for notebook in sorted((reports / "experiments").glob("*.ipynb")):
        page = notebook.with_suffix(".html")
        if not page.exists() or page.stat().st_mtime < notebook.stat().st_mtime:
            notebook_to_html(notebook, page)
    index = build_index(reports, load(results).runs, results,
                        _one_line(error) if error is not None else None)
    if error is not None:
        raise error
    return index
