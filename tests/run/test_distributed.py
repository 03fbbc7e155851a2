"""Training one model on two gloo ranks (``torchrun``'s environment) against one process."""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.ranks import free_port, run_ranks
from visagnn.datasets import load_dataset
from visagnn.flags import UsageError
from visagnn.methods import create_method, resolve_config
from visagnn.methods.partition_batches import lockstep_positions
from visagnn.run.command import check_world
from visagnn.run.train import run, seed_everything
from visagnn.utils.distributed import World

SHARED_DATA = Path(os.environ.get("VISAGNN_DATA", Path(__file__).parents[3] / "shared/data"))
SEEDS = (0, 1, 2)
EPOCHS = 20
"""Epochs of the single-process runs; two ranks take half the optimizer steps per epoch (each
averaging two batches' gradients), so their runs get twice the epochs: the same updates."""

needs_cora = pytest.mark.skipif(not (SHARED_DATA / "Cora").is_dir(),
                                reason=f"Cora not found in {SHARED_DATA} (set VISAGNN_DATA)")


def test_lockstep_pads_an_uneven_epoch_with_its_first_steps():
    assert [lockstep_positions(5, World(rank, 2, "gloo")) for rank in (0, 1)] == [
        [0, 2, 4], [1, 3, 0]]
    assert [lockstep_positions(1, World(rank, 3, "gloo")) for rank in (0, 1, 2)] == [
        [0], [0], [0]]
    assert lockstep_positions(0, World(1, 2, "gloo")) == []


def _config(method: str = "gas", **changes):
    config = resolve_config("cora", method)
    return replace(config, root=str(SHARED_DATA), download=False, **changes)


def _method(config):
    seed_everything(config.seed)
    method = create_method(load_dataset("cora", root=str(SHARED_DATA)), config, {})
    method.prepare()
    return method


def _gradients(method, batch, train_rows) -> list[torch.Tensor]:
    """The gradient of one step on ``batch`` (averaged over the ranks when distributed),
    without the optimizer's update."""
    method.model.train()
    step = method.optimizer.step
    method.optimizer.step = lambda: None
    method.train_step(batch, train_rows, method.feature_rows(method.feature_nodes(batch)))
    method.optimizer.step = step
    return [param.grad.clone() for param in method.model.parameters()]


def _step_then_refresh(rank: int, world_size: int) -> dict:
    method = _method(_config(dropout=0.0, grad_clip=None))
    steps = list(method.epoch_steps())
    batch, train_rows = steps[rank]
    gradients = _gradients(method, batch, train_rows)
    method.end_step()
    method.train_epoch(1)
    state = [torch.cat([h.last_push.double(), h.grad_norm.double(), h.grad_seen.double()])
             for h in method.model.histories]
    method.predict()  # evaluation: exact inference, then the histories' refresh
    exact = method.exact_embeddings()
    history = method.model.histories[0]
    owned = history.owned
    return {
        "gradients": gradients, "owned": (owned.start, owned.stop),
        "refresh_error": max(float((h.embedding - rows[owned]).abs().max())
                             for h, rows in zip(method.model.histories, exact, strict=False)),
        "pulled_error": float((history.pull(torch.arange(history.num_nodes))
                               - exact[0]).abs().max()),
        "row_bytes": sum(h.embedding.nbytes for h in method.model.histories),
        "parameters": torch.cat([param.detach().flatten()
                                 for param in method.model.parameters()]),
        "state": state,
    }


@pytest.fixture(scope="module")
def two_ranks() -> list[dict]:
    return run_ranks(_step_then_refresh, 2)


@needs_cora
def test_after_a_refresh_every_owned_row_is_exact_and_pulls_read_the_owners(two_ranks):
    for rank in two_ranks:
        assert rank["refresh_error"] < 1e-5
        assert rank["pulled_error"] < 1e-5


@needs_cora
def test_the_ranks_keep_one_model_and_one_per_node_state(two_ranks):
    first, second = two_ranks
    assert torch.equal(first["parameters"], second["parameters"])
    for mine, theirs in zip(first["state"], second["state"], strict=True):
        assert torch.equal(mine, theirs)
        assert (mine[: mine.numel() // 3] > 0).any()  # the epoch's pushes are in it


@needs_cora
def test_a_distributed_step_averages_the_single_process_steps(two_ranks):
    config = _config(dropout=0.0, grad_clip=None)
    single = []
    for position in (0, 1):  # each from the same history state: a fresh method
        method = _method(config)
        batch, train_rows = list(method.epoch_steps())[position]
        single.append(_gradients(method, batch, train_rows))
    for rank in two_ranks:
        for got, first, second in zip(rank["gradients"], *single, strict=True):
            torch.testing.assert_close(got, (first + second) / 2, atol=1e-5, rtol=1e-5)


@needs_cora
def test_each_rank_holds_half_of_the_history_rows(two_ranks):
    method = _method(_config())
    single = sum(h.embedding.nbytes for h in method.model.histories)
    (start0, stop0), (start1, stop1) = (rank["owned"] for rank in two_ranks)
    assert (start0, stop0, stop1) == (0, start1, method.parted.num_nodes)
    assert sum(rank["row_bytes"] for rank in two_ranks) == single
    for rank in two_ranks:  # whole METIS parts per rank: half, up to the parts' imbalance
        assert abs(rank["row_bytes"] / single - 0.5) < 0.05


def _train_seeds(rank: int, world_size: int) -> list[dict]:
    dataset = load_dataset("cora", root=str(SHARED_DATA))
    return [run(_config(seed=seed, epochs=EPOCHS * world_size), dataset=dataset,
                progress=False).summary for seed in SEEDS]


@needs_cora
def test_gas_on_two_ranks_trains_as_well_as_one_process():
    dataset = load_dataset("cora", root=str(SHARED_DATA))
    single = [run(_config(seed=seed, epochs=EPOCHS), dataset=dataset, progress=False).summary
              for seed in SEEDS]
    ranks = run_ranks(_train_seeds, 2)
    assert ranks[0] == ranks[1]  # every rank returns rank 0's summaries
    distributed = ranks[0]
    one, two = (np.array([summary["test"] for summary in runs]) for runs in (single, distributed))
    # the means are within the two results' spreads (sample std of 3 seeds each): one
    # process's spread alone is a few test nodes at this length (0.002, i.e. 2 of 1,000)
    assert two.mean() > 0.75
    assert abs(two.mean() - one.mean()) <= one.std(ddof=1) + two.std(ddof=1), (one, two)
    for summary, reference in zip(distributed, single, strict=True):
        assert (summary["world_size"], summary["backend"]) == (2, "gloo")
        per_rank = [memory["histories_mb"] for memory in summary["memory_per_rank"]]
        alone = reference["memory"]["histories_mb"]
        # half the rows each, plus a replica of the per-node state (13 B per node and layer)
        state_mb = 13 * 2708 / 2**20
        assert sum(per_rank) == pytest.approx(alone + state_mb, rel=1e-6)
        assert all(exchanged["history_bytes_per_step"] > 0
                   for exchanged in summary["exchanged_per_rank"])


@needs_cora
@pytest.mark.parametrize("method", ["gas", "visagnn-sum", "sancus"])
def test_torchrun_runs_the_cli_on_two_ranks(method, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    command = [str(torchrun), "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(free_port()), "-m", "visagnn", "run", "--dataset", "cora",
               "--method", method, "--epochs", "2", "--root", str(SHARED_DATA), "--quiet",
               "--out", str(tmp_path / "out")]
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(Path(__file__).parents[2])}
    completed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300,
                               check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    printed = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 1  # rank 0 prints, rank 1 does not
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary == json.loads(printed[0])
    assert (summary["world_size"], summary["status"], summary["epochs"]) == (2, "ok", 2)
    assert len((tmp_path / "out" / "epochs.jsonl").read_text().splitlines()) == 2


def test_what_runs_in_one_process_only_is_refused_under_torchrun():
    world = World(0, 2, "gloo")
    for method in ("gcn", "sgc", "graphsaint"):
        with pytest.raises(UsageError, match=f"--method {method} runs in one process only"):
            check_world(resolve_config("cora", method), world)
    with pytest.raises(UsageError, match="--measure-staleness-every runs in one process only"):
        check_world(replace(resolve_config("cora", "gas"), measure_staleness_every=2), world)
    with pytest.raises(UsageError, match="under torchrun: .*clustergcn.*sancus"):
        check_world(resolve_config("cora", "gcn"), world)
    for method in ("clustergcn", "sancus"):
        check_world(resolve_config("cora", method), world)
    check_world(resolve_config("cora", "gcn"), World())
