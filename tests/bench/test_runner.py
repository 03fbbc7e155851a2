import threading
from pathlib import Path

import pytest
import torch

from tests.bench.conftest import TINY, fake_result
from visagnn.bench.experiment import run_experiment
from visagnn.bench.grid import Cell, Grid, build_grid
from visagnn.bench.spec import dataset_label
from visagnn.bench.store import ResultsStore


class InProcess:
    """Runs a cell as the experiment notebook does, without a kernel; counts the runs trained
    and raises for the cells named in ``failing`` (``tiny_P4_B1``: the graph ``tiny.pt``)."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.failing = failing
        self.threads: int | None = None
        self.trained: list[str] = []

    def __call__(self, cell: Cell, results: Path, force: bool) -> None:
        name = short_name(cell)
        if name in self.failing:
            raise RuntimeError(f"{name} broke")
        runs = run_experiment(cell.runs(), ResultsStore(results), force, progress=False)
        self.trained.extend(f"{name}/{seed}" for seed in runs["seed"])


def short_name(cell: Cell) -> str:
    """``tiny-<hash>_P4_B1`` → ``tiny_P4_B1``."""
    label = dataset_label(cell.dataset)
    assert cell.name.startswith(f"{Path(cell.dataset).stem}-") and len(label) == len("tiny-") + 8
    return cell.name.replace(label, Path(cell.dataset).stem)


@pytest.fixture
def grid(tiny_graph) -> Grid:
    cells = tuple(Cell(str(tiny_graph), parts, ("gas",), (0,), num_parts=4, epochs=2,
                       config=tuple(TINY.items())) for parts in (1, 2))
    return Grid("two cells", cells)


def test_a_grid_runs_then_skips_then_reruns_with_force(grid, tmp_path):
    from visagnn.bench.runner import run_grid

    executor = InProcess()
    outcomes = run_grid(grid, tmp_path, executor, log=lambda _: None)
    assert [o.status for o in outcomes] == ["done", "done"]
    assert executor.trained == ["tiny_P4_B1/0", "tiny_P4_B2/0"]
    assert [o.status for o in run_grid(grid, tmp_path, executor, log=lambda _: None)] == [
        "skipped", "skipped"]
    assert len(executor.trained) == 2
    run_grid(grid, tmp_path, executor, force=True, log=lambda _: None)
    assert len(executor.trained) == 4
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 4 and len(ResultsStore(tmp_path).runs()) == 2


def test_a_cell_that_raises_is_recorded_and_the_next_cell_runs(grid, tmp_path):
    from visagnn.bench.runner import run_grid

    executor = InProcess(failing=("tiny_P4_B1",))
    outcomes = run_grid(grid, tmp_path, executor, log=lambda _: None)
    assert [o.status for o in outcomes] == ["failed", "done"]
    assert outcomes[0].error == "RuntimeError: tiny_P4_B1 broke"
    runs = ResultsStore(tmp_path).runs().set_index("batch_parts")
    assert runs.loc[1, "status"] == "failed" and "tiny_P4_B1 broke" in runs.loc[1, "error"]
    assert runs.loc[2, "status"] == "ok"
    # the failed run is tried again by the next grid, the finished one is not
    executor.failing = ()
    outcomes = run_grid(grid, tmp_path, executor, log=lambda _: None)
    assert [(o.status, o.pending) for o in outcomes] == [("done", 1), ("skipped", 0)]


def test_build_grid_merges_studies_into_one_cell_per_batch_size(tiny_graph):
    from visagnn.bench.grid import Study

    studies = [Study("a", ("gas",)), Study("b", ("gas", "visagnn-sum --loss"))]
    grid = build_grid("merged", {str(tiny_graph): studies}, seeds=[0])
    assert [cell.methods for cell in grid.cells] == [("gas", "visagnn-sum --loss")]


def test_cells_run_in_parallel_jobs_record_every_run_in_grid_order(grid, tmp_path):
    from visagnn.bench.runner import run_grid

    executor = InProcess(failing=("tiny_P4_B1",))
    outcomes = run_grid(grid, tmp_path, executor, log=lambda _: None, jobs=2)
    assert [(short_name(o.cell), o.status) for o in outcomes] == [("tiny_P4_B1", "failed"),
                                                           ("tiny_P4_B2", "done")]
    statuses = ResultsStore(tmp_path).runs().set_index("batch_parts")["status"]
    assert statuses.to_dict() == {1: "failed", 2: "ok"}
    with pytest.raises(ValueError, match="jobs must be >= 1"):
        run_grid(grid, tmp_path, executor, jobs=0)


def test_a_replanned_cell_with_new_runs_runs_next_and_the_grid_ends_at_its_own_plan(
        tiny_graph, tmp_path):
    from visagnn.bench.runner import run_grid

    def cell(parts: int, methods: tuple[str, ...] = ("gas",)) -> Cell:
        return Cell(str(tiny_graph), parts, methods, (0,), num_parts=4, epochs=2,
                    config=tuple(TINY.items()))

    first = Grid("first", (cell(1), cell(2), cell(4)))
    # once B=1 is stored, the plan adds a variant there (as the reference adds its heavy
    # study once its map is stored); the plans after that are the same
    grown = Grid("grown", (cell(1, ("gas", "visagnn-sum")), cell(2), cell(4)))
    plans: list[str] = []

    def replan() -> Grid:
        plans.append("again")
        return grown if ResultsStore(tmp_path).finished_keys() else first

    executor = InProcess()
    outcomes = run_grid(first, tmp_path, executor, log=lambda _: None, replan=replan)
    stored = ResultsStore(tmp_path).runs()
    # the new run trained next, ahead of the cells that were waiting
    assert list(zip(stored["variant"], stored["batch_parts"], strict=True)) == [
        ("gas", 1), ("visagnn-sum", 1), ("gas", 2), ("gas", 4)]
    assert [(short_name(o.cell), o.pending) for o in outcomes] == [
        ("tiny_P4_B1", 1), ("tiny_P4_B2", 1), ("tiny_P4_B4", 1), ("tiny_P4_B1", 1)]
    assert len(plans) == 4  # once after every cell, the replanned one too
    assert [o.status for o in run_grid(grown, tmp_path, executor, log=lambda _: None,
                                       replan=lambda: grown)] == ["skipped"] * 3


def test_an_idle_job_waits_for_the_cells_a_running_one_plans(tiny_graph, tmp_path):
    from visagnn.bench.runner import run_grid

    def cell(parts: int) -> Cell:
        return Cell(str(tiny_graph), parts, ("gas",), (0,), num_parts=4, epochs=2,
                    config=tuple(TINY.items()))

    first = Grid("one cell", (cell(1),))
    grown = Grid("three cells", (cell(1), cell(2), cell(4)))
    both_started = threading.Barrier(2, timeout=30)
    threads: dict[int, str] = {}

    class Recording(InProcess):
        def __call__(self, cell: Cell, results: Path, force: bool) -> None:
            super().__call__(cell, results, force)
            threads[cell.batch_parts] = threading.current_thread().name
            if cell.batch_parts > 1:  # the two planned after B=1 run at once
                both_started.wait()

    outcomes = run_grid(first, tmp_path, Recording(), log=lambda _: None, jobs=2,
                        replan=lambda: grown if ResultsStore(tmp_path).finished_keys()
                        else first)
    assert [o.status for o in outcomes] == ["done"] * 3
    assert threads[2] != threads[4]


def diverged(spec):
    """A run whose loss became NaN at its second epoch, as :func:`visagnn.run.train.run` reports
    one (the summary's status; the further fields are the trainer's)."""
    result = fake_result(spec)
    result.summary.update(status="diverged", diverged_epoch=2, last_finite_loss=1.0)
    return result


def test_a_diverged_run_is_finished_recorded_as_such_and_not_retried(grid, tmp_path):
    from visagnn.bench.runner import run_grid

    store = ResultsStore(tmp_path)
    first = grid.cells[0].runs()[0]
    store.record(first, diverged(first))
    executor = InProcess()
    outcomes = run_grid(grid, tmp_path, executor, log=lambda _: None)
    assert [o.status for o in outcomes] == ["skipped", "done"]  # diverged: not tried again
    row = store.latest()[first.key]
    assert (row["status"], row["diverged_epoch"], row["last_finite_loss"]) == ("diverged", 2, 1.0)
    assert first.key in store.finished_keys()
    run_grid(grid, tmp_path, executor, force=True, log=lambda _: None)  # --force trains it
    assert store.latest()[first.key]["status"] == "ok"


def test_failure_records_name_the_threads_of_the_run_not_of_the_grid(grid, tmp_path):
    from visagnn.bench.runner import run_grid

    executor = InProcess(failing=("tiny_P4_B1",))
    executor.threads = 1
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # the grid's process, with torch's default on two cores
    try:
        run_grid(grid, tmp_path, executor, log=lambda _: None)
    finally:
        torch.set_num_threads(threads)
    row = ResultsStore(tmp_path).runs().set_index("batch_parts").loc[1]
    assert row["status"] == "failed" and row["hardware"].endswith(" CPUs, 1 torch thread)")


def test_renders_of_one_reports_folder_take_turns(tmp_path):
    from visagnn.bench.runner import render_lock

    entered = threading.Event()

    def second_render() -> None:
        with render_lock(tmp_path):
            entered.set()

    with render_lock(tmp_path):
        other = threading.Thread(target=second_render)
        other.start()
        assert not entered.wait(0.3)  # held by the first render
    assert entered.wait(5)
    other.join()
