"""The notebooks executed as the grid executes them: one experiment cell on the synthetic
graph (two epochs), then the report and the index over that run plus made-up results; and the
exploration notebook on a tiny synthetic graph."""

import json
import math
import re
from pathlib import Path

import nbformat
import pytest

from tests.bench.conftest import TINY, write_fake_store
from visagnn.bench import NOTEBOOKS
from visagnn.bench.execute import execute_notebook
from visagnn.bench.grid import Cell
from visagnn.bench.runner import NotebookExecutor, render_reports
from visagnn.bench.store import ResultsStore

REPORT_SECTIONS = ("Accuracy (paper Tables 1-2)", "Convergence (paper Figures 2-3)",
                   "Memory and time (paper Table 3)", "Ablation (paper Table 4)",
                   "Batch size (paper Table 5)", "the staleness loss (paper Table 6)",
                   "Staleness", "The staleness map", "Convergence to GAS's best",
                   "Runs that did not finish", "Every setting in the store")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path]:
    results = tmp_path_factory.mktemp("results")
    reports = tmp_path_factory.mktemp("reports")
    cell = Cell("synthetic", 10, ("gas",), (0,), epochs=2, config=tuple(TINY.items()))
    NotebookExecutor(NOTEBOOKS, reports, echo=False, threads=1)(cell, results, force=False)
    write_fake_store(results)
    render_reports(results, reports)
    return results, reports


def test_notebooks_are_committed_without_outputs():
    for name in ("experiment", "report", "explore"):
        notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert code[0].metadata["tags"] == ["parameters"]
        assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_experiment_notebook_trains_and_records_its_runs(rendered):
    results, reports = rendered
    (run,) = [row for row in ResultsStore(results).latest().values()
              if row["dataset"] == "synthetic"]
    assert run["status"] == "ok" and run["epochs"] == 2 and run["variant"] == "gas"
    assert run["hardware"].endswith("CPUs, 1 torch thread)")
    assert len(ResultsStore(results).epochs().query("dataset == 'synthetic'")) == 2
    page = (reports / "experiments" / "synthetic_P40_B10.html").read_text()
    assert "1 runs planned, 0 finished before, 1 to train" in page
    assert "data:image/png;base64" in page and "IProgress" not in page


def test_report_renders_every_table_and_figure(rendered):
    _, reports = rendered
    page = (reports / "report.html").read_text()
    for section in REPORT_SECTIONS:
        assert section in page
    assert "No results for this yet" not in page
    assert len(re.findall("data:image/png;base64", page)) >= 8
    assert not re.search(r"<script[^>]+src=", page)  # opens offline: no CDN script
    assert {path.stem for path in (reports / "figures").glob("*.png")} >= {
        "accuracy", "convergence-1", "convergence-2", "batch-size", "sweep", "staleness-1",
        "staleness-map", "convergence-time"}


def test_index_says_where_results_come_from_and_links_everything(rendered):
    results, reports = rendered
    page = (reports / "index.html").read_text()
    store = f"<code>../{results.name}</code> (relative to this page)"  # sibling temp folders
    for text in (store, "hardware", "commit", "dates", "nox -s demo", "nox -s reference",
                 "nox -s benchmark", "nox -s report", 'href="report.html"',
                 'href="experiments/synthetic_P40_B10.html"'):
        assert text in page


EXPLORE_TINY = {"synthetic": {"num_nodes": 600, "locality": 0.9}, "epochs": 3, "num_parts": 12,
                "batch_parts": 1, "config": TINY, "threads": 1}
"""The exploration notebook's settings for a test: a 600-node graph, 3 epochs (about 10 s)."""


def test_explore_notebook_plots_staleness_against_its_proxies(tmp_path):
    executed = tmp_path / "explore.ipynb"
    execute_notebook(NOTEBOOKS / "explore.ipynb", executed, EXPLORE_TINY)
    notebook = nbformat.read(executed, as_version=4)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    # the batch geometry, the scores, the true staleness and the criteria's correlations
    assert sum("image/png" in output.get("data", {}) for output in outputs) == 4
    printed = "".join(output.get("text", "") for output in outputs)
    assert "halo nodes:" in printed and "of them from the halo" in printed

    (last,) = [cell for cell in notebook.cells if "key-numbers" in cell.metadata.get("tags", [])]
    key_numbers = json.loads(last.outputs[-1]["text"].strip().splitlines()[-1])
    assert set(key_numbers) == {"gas", "visagnn-sum"}
    for method, numbers in key_numbers.items():
        assert numbers["epochs"] == [1, 2, 3], method
        assert 0 <= numbers["test"] <= 1 and 0 <= numbers["best_val"] <= 1
        staleness = numbers["true_staleness_mean"]
        assert len(staleness) == 3 and all(math.isfinite(value) and value > 0
                                           for value in staleness), (method, staleness)
        for criterion in ("grad", "persistence", "drift"):
            rhos = numbers[f"spearman_{criterion}"]
            assert len(rhos) == 3 and any(rho is not None for rho in rhos), (method, criterion)
            assert all(-1 <= rho <= 1 for rho in rhos if rho is not None), (method, rhos)
