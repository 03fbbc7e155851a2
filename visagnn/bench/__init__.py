"""The benchmark suite: grids of runs, their execution as notebooks, the results store, reports.

``python -m visagnn grid`` executes ``notebooks/experiment.ipynb`` once per (dataset, batch size)
cell of a grid (:mod:`visagnn.bench.grid`, :mod:`visagnn.bench.runner`); each notebook trains
its runs with :func:`visagnn.run.train.run` and records them in the results store
(:mod:`visagnn.bench.store`). ``python -m visagnn report`` executes ``notebooks/report.ipynb``,
whose tables and figures come from :mod:`visagnn.bench.report`, and writes ``reports/``
(:mod:`visagnn.bench.html`).
"""

from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
"""The notebooks of the repository visagnn runs from (``notebooks/`` beside the package)."""
