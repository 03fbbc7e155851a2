"""The scaling benchmark: cost against graph size, and against plain PyG at equal work.

``python -m visagnn scale`` (``nox -s scale``) measures, on products-shaped synthetic graphs of
10^4 to 2.4 × 10^6 nodes (:mod:`~visagnn.bench.scaling.family`), per graph size ``N``:

* a partition point: METIS's time and peak memory;
* per method (GAS and VISAGNN-Sum by default), each in a fresh process
  (:mod:`~visagnn.bench.scaling.measure`): the time and peak RSS of building the method, filling
  its histories, one training epoch, exact inference, and the same epoch's batches through
  plain PyG ``GATConv`` layers (:mod:`~visagnn.bench.scaling.baseline`); the memory breakdown
  (features, graph, histories, model, one batch's activations) beside the measured peak.

A point whose peak, extrapolated from the breakdown of a smaller one
(:mod:`~visagnn.bench.scaling.estimate`), would not fit the memory available is skipped with
that reason. Records go to ``points.jsonl`` of the store folder
(:mod:`~visagnn.bench.scaling.store`, default ``results/scale``); a point recorded as finished
is not measured again. The report
notebook ``notebooks/scale.ipynb`` (:mod:`~visagnn.bench.scaling.report`,
:mod:`~visagnn.bench.scaling.figures`) becomes ``scale.html`` (default in ``reports/scale``).
"""
