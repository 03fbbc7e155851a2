"""The prepared GPU check, run whole as a dry run on the CPU (``--dry-run``): its plan, budgets,
output folder and targets table."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from visagnn.bench import gpu_check
from visagnn.bench.gpu_check import (
    DEVICE_COMMAND,
    MAX_FILES,
    Budget,
    Plan,
    UnitGate,
    scale_points,
    table5_runs,
    targets,
)
from visagnn.bench.scaling.store import ScaleStore
from visagnn.cli import main

REPO = Path(__file__).parents[2]
FILES = {"gpu_check.json", "gpu_check.log", "targets.csv", "targets.md", "table5.csv",
         "scale/points.jsonl"}
LEGAL_NAME = re.compile(r"[A-Za-z0-9._-]+")


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole check as the device tool runs it, on the CPU: one seed of one epoch."""
    out = tmp_path_factory.mktemp("gpu-check") / "out"
    environment = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "visagnn", "gpu-check", "--dry-run", "--out", str(out),
         "--seeds", "1", "--epochs", "1"],
        cwd=REPO, env=environment, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return {"out": out, "result": json.loads((out / "gpu_check.json").read_text()),
            "stdout": completed.stdout}


def test_every_step_runs_within_its_budget(checked):
    steps = {step["name"]: step for step in checked["result"]["steps"]}
    assert list(steps) == ["scale", "tests", "table5"]
    for step in steps.values():
        assert step["status"] == "ok" and step["skipped"] == [], step
        assert 0 < step["elapsed_s"] <= step["budget_s"]
    assert checked["result"]["plan"]["device"] == "cpu"
    assert checked["result"]["environment"]["pymetis"] is not None


def test_the_output_is_what_the_device_tool_returns(checked):
    out = checked["out"]
    files = {path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}
    assert files == FILES and len(files) <= MAX_FILES
    for name in files:
        parts = name.split("/")
        assert len(parts) <= 3 and all(LEGAL_NAME.fullmatch(part) for part in parts), name
    log = (out / "gpu_check.log").read_text()
    # the log holds the check's lines and its processes' (a scale point's phases, pytest's)
    assert "gpu-check table5: ok" in log and "pyg_forward:" in log and " passed" in log


def test_the_scale_step_measures_both_places_and_the_whole_graph_forward(checked):
    latest = ScaleStore(checked["out"] / "scale").latest()
    plan = Plan(dry_run=True)
    assert [point.key for point in scale_points(plan)] == [
        "N1000_gas_ram", "N1000_visagnn-sum_ram", "N1000_gas_mmap", "N1000_visagnn-sum_mmap"]
    assert set(latest) == {"N1000_partition", *(point.key for point in scale_points(plan))}
    for point in scale_points(plan):
        record = latest[point.key]
        assert record["status"] == "ok" and record["pyg_forward_skipped"] is None
        assert record["pyg_forward_s"] > 0 and record["history_storage"] == point.history_storage


def test_the_targets_table_is_the_measured_ratios_against_the_limits(checked):
    out = checked["out"]
    latest = ScaleStore(out / "scale").latest()
    with (out / "targets.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 12  # per place: GAS/PyG, Sum/GAS, fill and inference of both methods
    assert rows == [{key: "" if value is None else str(value) for key, value in row.items()}
                    for row in checked["result"]["targets"]]
    gas = latest["N1000_gas_ram"]
    first = rows[0]
    assert first["target"] == "GAS epoch / PyG equal-work epoch" and first["limit"] == "1.1"
    assert float(first["ratio"]) == pytest.approx(gas["epoch_s"] / gas["pyg_epoch_s"], abs=1e-3)
    for row in rows:
        assert row["status"] == ("pass" if float(row["ratio"]) <= float(row["limit"])
                                 else "fail")
    table = (out / "targets.md").read_text().splitlines()
    assert len(table) == 2 + len(rows) and table[2].startswith("| GAS epoch / PyG")
    assert "| target |" in checked["stdout"] or "| target |" in (out / "gpu_check.log").read_text()


def test_table5_runs_each_method_at_both_batch_sizes(checked):
    with (checked["out"] / "table5.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["method"], row["batch_parts"]) for row in rows] == [
        (name, str(batch_parts)) for name, batch_parts, _ in table5_runs(Plan(seeds=1))]
    assert {row["num_parts"] for row in rows} == {"40"}
    assert all(row["status"] == "ok" and 0 <= float(row["test"]) <= 1 for row in rows)
    # two seeds by default, the first seed of every cell before the second
    assert [seed for *_, seed in table5_runs(Plan())] == [0] * 6 + [1] * 6


def test_the_tests_step_runs_the_cuda_tests_which_skip_here(checked):
    tests = next(step for step in checked["result"]["steps"] if step["name"] == "tests")
    fields = tests["fields"]
    assert "tests/run/test_train.py" in fields["files"] and "tests/devices.py" not in fields[
        "files"]
    assert fields["failures"] == fields["errors"] == 0 and fields["failed"] == []
    assert fields["skipped"] >= 30 and fields["tests"] > fields["skipped"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_unit_starts_only_while_the_budget_outlasts_the_longest_of_its_kind():
    clock = FakeClock()
    gate = UnitGate(Budget(100.0, clock))
    assert gate.refusal("gas") is None  # the first unit always starts
    with gate.unit("gas"):
        clock.now = 40.0
    assert gate.refusal("gas") is None  # 60 s left, 40 s the longest
    with gate.unit("oracle"):
        clock.now = 50.0
    with gate.unit("gas"):
        clock.now = 70.0
    assert gate.refusal("oracle") is None  # 30 s left, an oracle run took 10 s
    assert gate.refusal("gas") == "30 s of the step's budget left, such a unit took 40 s"
    # a kind not seen yet is expected to take as long as the longest unit of any kind
    assert gate.refusal("visagnn-sum") == gate.refusal("gas")
    clock.now = 100.0
    assert gate.refusal("oracle") == "0 s of the step's budget left, such a unit took 10 s"


def test_a_spent_budget_skips_every_step_and_still_writes_the_table(tmp_path, capfd):
    plan = Plan(dry_run=True, total_s=0.0)
    result = gpu_check.gpu_check(plan, tmp_path)
    assert [(step["status"], step["error"]) for step in result["steps"]] == [
        ("skipped", "the total budget (--total-s) is spent")] * 3
    assert {row["status"] for row in result["targets"]} == {"missing"}
    assert {path.name for path in tmp_path.iterdir()} == {
        "gpu_check.json", "gpu_check.log", "targets.csv", "targets.md"}
    assert "missing (point not in the store)" in capfd.readouterr().out


def test_a_target_without_its_figure_is_missing_with_the_reason():
    plan = Plan()
    base = {"status": "ok", "epoch_s": 1.0, "pyg_epoch_s": 1.0, "fill_s": 2.0,
            "inference_s": 1.0, "pyg_forward_s": None,
            "pyg_forward_skipped": "the whole-graph forward needs about 9 MiB"}
    latest = {point.key: {**base, "key": point.key} for point in scale_points(plan)}
    latest["N169343_gas_pinned_cuda"]["epoch_s"] = 1.4
    rows = {(row["target"], row["method"], row["histories"]): row
            for row in targets(plan, latest)}
    assert rows["GAS epoch / PyG equal-work epoch", "gas", "device"]["status"] == "pass"
    pinned = rows["GAS epoch / PyG equal-work epoch", "gas", "pinned"]
    assert (pinned["ratio"], pinned["limit"], pinned["status"]) == (1.4, 1.30, "fail")
    assert rows["VISAGNN-Sum epoch / GAS epoch", "visagnn-sum", "pinned"]["ratio"] == 0.714
    fill = rows["history fill / whole-graph PyG forward", "gas", "device"]
    assert (fill["status"], fill["note"]) == ("missing", base["pyg_forward_skipped"])


def test_the_device_command_fits_the_tool_and_the_docs_quote_it():
    assert len(DEVICE_COMMAND) <= 2000 and DEVICE_COMMAND.endswith("gpu-check --out $OUT")
    for document in ("README.md", "reports/reference/gpu/README.md"):
        assert DEVICE_COMMAND in (REPO / document).read_text(), document


@pytest.mark.parametrize(("arguments", "message"), [
    (["--dry-run", "--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["--dry-run", "--tests-s", "-1"], "budgets must be >= 0 seconds, got {'--tests-s': -1.0}"),
])
def test_bad_gpu_check_arguments_are_one_line_and_exit_2(arguments, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["gpu-check", "--out", str(tmp_path), *arguments])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == f"python -m visagnn gpu-check: error: {message}\n"


def test_without_a_cuda_device_only_the_dry_run_runs(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check.torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit) as exit_info:
        main(["gpu-check", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ("python -m visagnn gpu-check: error: torch sees no CUDA "
                                       "device here; --dry-run runs the check on the CPU\n")
