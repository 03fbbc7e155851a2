"""Hand-built stores of staleness-map runs with known scores and curves (no training)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from visagnn.bench.spec import plan_runs
from visagnn.bench.store import ResultsStore
from visagnn.run.summary import run_summary
from visagnn.run.train import RunResult


def add_run(store: ResultsStore, dataset: str, variant: str, seed: int, num_layers: int,
            batch_parts: int, vals: Sequence[float], tests: Sequence[float],
            epoch_s: Sequence[float] | None = None) -> None:
    """Record one run of ``variant`` whose epochs have validation scores ``vals`` and test
    scores ``tests`` (fractions) and take ``epoch_s`` seconds (1 s each by default); its
    summary's test score is that of the best validation epoch (the first of ties)."""
    (spec,) = plan_runs(dataset, [variant], batch_parts=(batch_parts,), seeds=(seed,),
                        num_parts=80, epochs=len(vals), config={"num_layers": num_layers})
    seconds = epoch_s or [1.0] * len(vals)
    records = [{"epoch": epoch, "loss": 1.0, "train": val, "val": val, "test": test,
                "epoch_s": step, "eval_s": 0.1, "peak_mem_mb": 100.0}
               for epoch, (val, test, step) in enumerate(zip(vals, tests, seconds,
                                                             strict=True), 1)]
    best = max(records, key=lambda record: (record["val"], -record["epoch"]))
    summary = run_summary(spec.dataset, spec.config, spec.options, "ok", records, best,
                          "accuracy", peak_mem_mb=100.0)
    store.record(spec, RunResult(summary, records))


def add_final(store: ResultsStore, dataset: str, variant: str, num_layers: int,
              batch_parts: int, tests: Sequence[float]) -> None:
    """Runs of ``variant`` at seeds 0, 1, ... whose best (and only) epoch scores ``tests``."""
    for seed, test in enumerate(tests):
        add_run(store, dataset, variant, seed, num_layers, batch_parts, [0.5], [test])


def write_map_store(folder: Path) -> ResultsStore:
    """Cora: a heavy cell (3 layers, B=1) and one within noise (2 layers, B=10); CiteSeer: one
    cell within noise. Scores in the comments of the tests."""
    store = ResultsStore(folder)
    add_final(store, "cora", "gas", 3, 1, [0.70, 0.71, 0.72])
    add_final(store, "cora", "gas --exact-halo", 3, 1, [0.72, 0.725, 0.74])
    add_final(store, "cora", "visagnn-sum", 3, 1, [0.71, 0.715, 0.73])
    add_final(store, "cora", "gas", 2, 10, [0.70, 0.72, 0.74])
    add_final(store, "cora", "gas --exact-halo", 2, 10, [0.71, 0.71, 0.75])
    add_final(store, "cora", "visagnn-sum", 2, 10, [0.72, 0.72, 0.76])
    add_final(store, "citeseer", "gas", 2, 1, [0.60, 0.61, 0.62])
    add_final(store, "citeseer", "gas --exact-halo", 2, 1, [0.60, 0.62, 0.61])
    return store
