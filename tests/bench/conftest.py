"""Fixtures of the benchmark tests: a tiny graph, tiny run settings, a results store of made-up
runs (no training) that holds every kind of result the report shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from tests.graphs import write_community_graph
from visagnn.bench import report
from visagnn.bench.spec import RunSpec, plan_runs
from visagnn.bench.store import ResultsStore
from visagnn.run.summary import run_summary
from visagnn.run.train import RunResult

TINY = {"hidden_channels": 8, "heads": 2}
"""Config overrides that keep a training run to a fraction of a second."""

BASE_SCORE = {"gas": 0.70, "visagnn-cat": 0.72, "visagnn-sum": 0.74, "gcn": 0.68}
EPOCHS = 4


@pytest.fixture(autouse=True)
def bench_cache(tmp_path_factory: pytest.TempPathFactory,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """METIS partitions go to a temporary cache shared by the bench tests (notebook kernels
    inherit the variable); the session's ``VISAGNN_NO_DOWNLOAD=1`` still holds."""
    monkeypatch.setenv("VISAGNN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    yield


@pytest.fixture(autouse=True)
def one_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """One torch thread here and in notebook kernels: the graphs are tiny, and a second thread
    only waits for a core on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_community_graph(tmp_path_factory.mktemp("graphs") / "tiny.pt")


def fake_result(spec: RunSpec, status: str = "ok") -> RunResult:
    """A plausible result of ``spec``: scores rise over the epochs, staleness is recorded for
    VISAGNN (in both naming styles the report recognises)."""
    variant, seed = spec.variant, spec.config.seed
    final = (BASE_SCORE.get(variant.method, 0.65) - 0.01 * len(variant.changed)
             + 0.004 * seed - 0.002 * spec.config.batch_parts
             + 0.02 * spec.config.exact_halo - 0.01 * (not spec.config.refresh_histories))
    records = []
    if status == "ok":
        for epoch in range(1, EPOCHS + 1):
            score = final - 0.05 * (EPOCHS - epoch)
            record = {"epoch": epoch, "loss": 1.0 / epoch, "train": score + 0.1,
                      "val": score + 0.01, "test": score, "epoch_s": 0.1 + 0.01 * seed,
                      "eval_s": 0.05, "peak_mem_mb": 100.0 + 10 * seed}
            if variant.method == "visagnn-sum":
                record["true_staleness_p95_l0"] = 1.0 / epoch
                record["spearman_grad_l0"] = 0.5 + 0.1 * epoch
            if spec.config.measure_staleness_every and variant.spec == "gas":
                record["true_staleness_mean_l0"] = 0.1 * epoch
                record["spearman_persistence_l0"] = 0.1 * epoch
                record["spearman_drift_l0"] = 0.2 * epoch
            records.append(record)
    best = records[-1] if records else None
    summary = run_summary(
        spec.dataset, spec.config, spec.options, status, records,
        best, "accuracy", peak_mem_mb=100.0 + 10 * seed,
        added_mem_mb=20.0 + seed, memory={"features_mb": 10.0, "histories_mb": 5.0 + seed,
                                           "activations_mb": 6.0, "peak_mb": 100.0 + 10 * seed},
        error="needs 9000 MB, may use 100 MB" if status == "oom"
        else None)
    return RunResult(summary, records)


def write_fake_store(folder: Path) -> ResultsStore:
    """Cora and CiteSeer results of every kind the report shows, three seeds each: the main
    comparison, an OOM method, a failed method, batch sizes, an ablation, a λ study and a
    staleness study (P=80, B=1) with the oracle and measured staleness."""
    store = ResultsStore(folder)
    seeds = (0, 1, 2)

    def add(dataset: str, methods: list[str], batch_parts=(None,), status="ok", **config):
        for spec in plan_runs(dataset, methods, batch_parts=batch_parts, seeds=seeds,
                              epochs=EPOCHS, num_parts=config.pop("num_parts", None),
                              config=config):
            store.record(spec, fake_result(spec, status))

    add("cora", ["gas", "visagnn-cat", "visagnn-sum", "gcn"])
    add("cora", ["gas", "visagnn-sum"], batch_parts=(5,))
    add("cora", ["visagnn-sum --no-attention", "visagnn-sum --loss",
                 "visagnn-sum --no-augment"])
    add("cora", ["visagnn-sum --loss --lam 0.0", "visagnn-sum --loss --lam 0.8"])
    add("cora", ["gas --exact-halo", "gas", "gas --no-refresh-histories", "visagnn-sum"],
        batch_parts=(1,), num_parts=80, measure_staleness_every=1)
    add("citeseer", ["gas", "visagnn-sum"])
    add("citeseer", ["gcn"], status="oom")
    for spec in plan_runs("citeseer", ["sage"], seeds=seeds, epochs=EPOCHS):
        store.record_failure(spec, "RuntimeError: made-up failure", "Traceback ...")
    return store


@pytest.fixture(scope="session")
def fake_data(tmp_path_factory: pytest.TempPathFactory) -> report.ReportData:
    """The report's data from :func:`write_fake_store`."""
    return report.load(write_fake_store(tmp_path_factory.mktemp("fake-store")).folder)
