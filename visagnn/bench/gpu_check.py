r"""``python -m visagnn gpu-check`` (``nox -s gpu-check``): the prepared device check of the GPU
path, one command that a session with a GPU lent runs once, within the device tool's limits.

The plan, each step within its own budget (seconds, ``--scale-s``, ``--tests-s``,
``--table5-s``) and all of them within ``--total-s`` (default 480, under the 9 minutes the
check must take on one H100/H200):

========  ======  ==========================================================================
step      budget  what
========  ======  ==========================================================================
scale     200     the scaling benchmark's point at ogbn-arxiv's size (169,343 nodes of the
                  products-shaped family, :mod:`visagnn.bench.scaling`) on ``cuda``: GAS and
                  VISAGNN-Sum with histories in ``device`` memory, then in ``pinned`` memory,
                  each point in a fresh process (fill, warm epoch, inference, the PyG
                  equal-work epoch, the whole-graph PyG forward, each phase's device memory)
tests     130     the CUDA tests: ``pytest -k cuda`` over the test files that use
                  ``needs_cuda`` (``tests/devices.py``)
table5    150     the paper's Table 5 setting on an arxiv-shaped synthetic graph
                  (:data:`ARXIV_SHAPE`, ogbn-arxiv's model, P = 40, B = 5 and 20): GAS, its
                  oracle (``gas --exact-halo``) and VISAGNN-Sum, ``--seeds`` seeds (2) of
                  ``--epochs`` epochs (8, evaluated every 4), the first seed of every cell
                  before the second
========  ======  ==========================================================================

The budgets are sized from the H200 figures the README quotes at ogbn-arxiv's size (commit
8c0f673's fill, epochs and inference), with room for each process's start, its graph's
generation and several times those figures.
Within a step a unit (a scale point, a training run) starts only if the step's budget has at
least as much left as the longest unit of its kind so far took (:class:`UnitGate`: a method's
scale points, a Table 5 cell's runs); the others are recorded as skipped with that reason.
A scale point runs under a hard limit of what is left of its step's budget, the tests too.
Steps left out by ``--steps`` are recorded as skipped.

Everything goes to one folder (``--out``, default ``results/gpu-check``), at most
:data:`MAX_FILES` files no more than one folder down (what the device tool returns)::

    gpu_check.json      the plan, the machine, each step (status, budget, elapsed, what was
                        skipped and why, the tests' counts), the Table 5 runs and the targets
    gpu_check.log       everything the check and its processes printed
    targets.csv         the targets of issue 23 against the measured ratios, pass or fail
    targets.md          the same as a Markdown table (the README's GPU table)
    table5.csv          one row per Table 5 run
    scale/points.jsonl  the scale points' records (:class:`~visagnn.bench.scaling.store.ScaleStore`)

The targets (:func:`targets`): GAS's epoch at most 1.10 × the PyG equal-work epoch with device
histories and 1.30 × with pinned ones; VISAGNN-Sum's epoch at most 1.05 × GAS's; history fill
and exact inference each at most 1.2 × the whole-graph PyG forward where that fits on the
device. ``--dry-run`` runs the same plan on the CPU at a tiny size (1,000 scale nodes, a
2,000-node Table 5 graph), with ``ram`` histories in the place of device memory and ``mmap``
in that of pinned memory: it checks the check, and its figures mean nothing.

**On the device machine** (the device tool's ``nvidia-h200``: no network; its ``python3``
holds a CUDA torch, torch-geometric, numpy, scipy, pandas, tqdm and pytest) the check uses the
preinstalled torch; of visagnn's dependencies only ``pymetis`` is missing, carried as a wheel
that a session downloads once, in the root of the checkout the device tool sends::

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 -d .whl pymetis==2025.2.2

and then passes the device tool's ``run`` the command :data:`DEVICE_COMMAND` with
``carry: [".whl"]`` and ``timeout_s: 600``. Its files come back; copy them to
``reports/reference/gpu/`` and commit them at one clean commit. Elsewhere, ``nox -s
gpu-check`` installs the package (with ``VISAGNN_TORCH`` naming a CUDA torch, see
``noxfile.py``) and runs the same check.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from visagnn.bench.provenance import provenance
from visagnn.bench.scaling.family import MIN_NODES, ScalePoint
from visagnn.bench.scaling.measure import FORWARD_PHASE
from visagnn.bench.scaling.runner import PACKAGE_PARENT, SubprocessExecutor, run_scale
from visagnn.bench.scaling.store import ScaleStore
from visagnn.datasets.synthetic import SyntheticConfig, load_synthetic
from visagnn.flags import UsageError
from visagnn.methods import resolve_config
from visagnn.run.train import run
from visagnn.utils.atomic_write import check_output_folder

STEPS = ("scale", "tests", "table5")
BUDGETS_S = {"scale": 200.0, "tests": 130.0, "table5": 150.0}
TOTAL_S = 480.0
DEFAULT_OUT = Path("results/gpu-check")
MAX_FILES = 8
"""What the device tool returns of an output folder (and no more than two folders down)."""

ARXIV_NODES = 169_343
ARXIV_SHAPE = SyntheticConfig(num_nodes=ARXIV_NODES, num_classes=40, num_features=128,
                              avg_degree=13.7, locality=0.95, community_size=128)
"""ogbn-arxiv's shape: its nodes, classes and feature width, and its 2.3M directed edges
(13.7 per node), with the scaling family's locality."""
DRY_SCALE_NODES = MIN_NODES
DRY_TABLE5_NODES = 2_000
TABLE5_PARTS = 40
TABLE5_BATCH_PARTS = (5, 20)
TABLE5_METHODS = {"gas": ("gas", False), "oracle": ("gas", True),
                  "visagnn-sum": ("visagnn-sum", False)}
"""Table 5's runs: name -> (method, ``exact_halo``)."""
SCALE_METHODS = ("gas", "visagnn-sum")
CUDA_PLACES = {"device": "device", "pinned": "pinned"}
CPU_PLACES = {"device": "ram", "pinned": "mmap"}
"""History storage by the place a target names: on CUDA itself, in a dry run its CPU stand-in."""
EPOCH_LIMITS = {"device": 1.10, "pinned": 1.30}
SUM_LIMIT = 1.05
EXACT_LIMIT = 1.2
DEVICE_COMMAND = ("python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir "
                  "--target /tmp/site .whl/*.whl && export PYTHONPATH=$PWD:/tmp/site "
                  "PYTHONUNBUFFERED=1 && python3 -m visagnn gpu-check --out $OUT")
"""The device tool's ``run`` command (with ``carry: [".whl"]``): ``pymetis``'s wheel installed
beside the machine's own torch, then the check, its files in the tool's ``$OUT``."""
NEEDED_MODULES = ("pymetis", "torch_geometric", "scipy", "tqdm", "pytest")


@dataclass(frozen=True)
class Plan:
    """What the check runs (see the module docstring); ``dry_run`` on the CPU at a tiny size."""

    dry_run: bool = False
    steps: tuple[str, ...] = STEPS
    budgets_s: dict[str, float] = field(default_factory=lambda: dict(BUDGETS_S))
    total_s: float = TOTAL_S
    seeds: int = 2
    epochs: int = 8

    @property
    def device(self) -> str:
        return "cpu" if self.dry_run else "cuda"

    @property
    def places(self) -> dict[str, str]:
        return CPU_PLACES if self.dry_run else CUDA_PLACES

    @property
    def scale_nodes(self) -> int:
        return DRY_SCALE_NODES if self.dry_run else ARXIV_NODES

    @property
    def table5_graph(self) -> SyntheticConfig:
        return replace(ARXIV_SHAPE, num_nodes=DRY_TABLE5_NODES) if self.dry_run else ARXIV_SHAPE

    @property
    def eval_every(self) -> int:
        return max(self.epochs // 2, 1)

    def describe(self) -> dict[str, Any]:
        return {**asdict(self), "device": self.device, "places": self.places,
                "scale_nodes": self.scale_nodes, "table5_graph": asdict(self.table5_graph),
                "eval_every": self.eval_every, "table5_parts": TABLE5_PARTS,
                "table5_batch_parts": list(TABLE5_BATCH_PARTS)}


class Budget:
    """Seconds left until ``seconds`` from now (on ``clock``)."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.deadline = clock() + seconds

    def left(self) -> float:
        return max(self.deadline - self.clock(), 0.0)


@dataclass
class Step:
    """One step's outcome: ``status`` ``ok``, ``failed`` or ``skipped`` (nothing ran), the units
    it skipped with the reasons, and its own fields."""

    name: str
    budget_s: float
    status: str = "ok"
    elapsed_s: float = 0.0
    skipped: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def skip(self, what: str, reason: str) -> None:
        print(f"gpu-check {self.name}: skipped {what}: {reason}", flush=True)
        self.skipped.append({"what": what, "reason": reason})


class UnitGate:
    """Whether the next unit of a step may start: only while the budget has at least as much
    left as the longest unit of its kind so far took (of any kind, for a kind not seen yet; the
    first unit always starts)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.longest_s: dict[str, float] = {}

    def refusal(self, kind: str) -> str | None:
        left = self.budget.left()
        expected = self.longest_s.get(kind, max(self.longest_s.values(), default=0.0))
        if left <= 0 or left < expected:
            return (f"{left:.0f} s of the step's budget left, such a unit took {expected:.0f} s")
        return None

    @contextlib.contextmanager
    def unit(self, kind: str) -> Iterator[None]:
        start = self.budget.clock()
        try:
            yield
        finally:
            self.longest_s[kind] = max(self.longest_s.get(kind, 0.0), self.budget.clock() - start)


def scale_points(plan: Plan) -> list[ScalePoint]:
    """GAS and VISAGNN-Sum at the plan's size, with device histories, then pinned ones."""
    return [ScalePoint(plan.scale_nodes, method, history_storage=storage, device=plan.device)
            for storage in plan.places.values() for method in SCALE_METHODS]


def scale_step(plan: Plan, out: Path, step: Step, budget: Budget) -> None:
    store = ScaleStore(out / "scale")
    gate = UnitGate(budget)
    for point in scale_points(plan):
        reason = gate.refusal(point.method)
        if reason is not None:
            step.skip(point.key, reason)
            continue
        with gate.unit(point.method):
            run_scale([point], store, SubprocessExecutor(1, timeout_s=budget.left()),
                      note="the GPU check (python -m visagnn gpu-check)")
    latest = store.latest()
    failed = [key for key, row in latest.items() if row["status"] != "ok"]
    step.fields["points"] = {key: row["status"] for key, row in latest.items()}
    if failed:
        step.status, step.error = "failed", f"points not measured: {failed}"


def cuda_test_files(tests: Path) -> list[Path]:
    """The test files under ``tests`` that use ``needs_cuda``."""
    return sorted(path for path in tests.rglob("test_*.py") if "needs_cuda" in path.read_text())


def junit_counts(report: Path) -> dict[str, Any]:
    """Tests, failures, errors and skips of a JUnit XML report, and the failed tests' ids."""
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    counts = {name: sum(int(suite.get(name, 0)) for suite in suites)
              for name in ("tests", "failures", "errors", "skipped")}
    failed = [f"{case.get('classname')}::{case.get('name')}" for case in root.iter("testcase")
              if case.find("failure") is not None or case.find("error") is not None]
    return {**counts, "failed": failed}


def tests_step(plan: Plan, out: Path, step: Step, budget: Budget) -> None:
    tests = PACKAGE_PARENT / "tests"
    if not tests.is_dir():
        step.status, step.error = "failed", f"no tests folder at {tests}"
        return
    files = cuda_test_files(tests)
    step.fields["files"] = [str(path.relative_to(PACKAGE_PARENT)) for path in files]
    with tempfile.TemporaryDirectory(prefix="visagnn-gpu-check-") as folder:
        report = Path(folder) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-k", "cuda", "-p", "no:cacheprovider",
                   f"--junitxml={report}", *map(str, files)]
        # a dry run hides any GPU, so that its CUDA tests skip as on a machine without one
        hidden = {"CUDA_VISIBLE_DEVICES": ""} if plan.dry_run else {}
        try:
            returncode = subprocess.run(command, cwd=PACKAGE_PARENT, check=False,
                                        env={**os.environ, **hidden},
                                        timeout=budget.left()).returncode
        except subprocess.TimeoutExpired:
            step.status, step.error = "failed", f"timed out after {step.budget_s:.0f} s"
            return
        if report.exists():
            step.fields.update(junit_counts(report))
    step.fields["returncode"] = returncode
    if returncode != 0:
        step.status, step.error = "failed", f"pytest exited with {returncode}"


def table5_runs(plan: Plan) -> list[tuple[str, int, int]]:
    """``(name, batch_parts, seed)`` of every run, the first seed of every cell first."""
    return [(name, batch_parts, seed) for seed in range(plan.seeds)
            for batch_parts in TABLE5_BATCH_PARTS for name in TABLE5_METHODS]


def table5_step(plan: Plan, out: Path, step: Step, budget: Budget) -> None:
    dataset = load_synthetic(plan.table5_graph)
    gate = UnitGate(budget)
    rows = []
    for name, batch_parts, seed in table5_runs(plan):
        what = f"{name} B={batch_parts} seed={seed}"
        kind = f"{name} B={batch_parts}"
        reason = gate.refusal(kind)
        if reason is not None:
            step.skip(what, reason)
            continue
        method, exact_halo = TABLE5_METHODS[name]
        config = replace(resolve_config(
            "ogbn-arxiv", method, num_parts=TABLE5_PARTS, batch_parts=batch_parts,
            epochs=plan.epochs, eval_every=plan.eval_every, seed=seed, device=plan.device,
            download=False, exact_halo=exact_halo or None), dataset="synthetic")
        print(f"gpu-check table5: {what}", flush=True)
        with gate.unit(kind):
            summary = run(config, dataset=dataset, progress=False).summary
        rows.append({"method": name, "num_parts": TABLE5_PARTS, "batch_parts": batch_parts,
                     "seed": seed, "epochs": plan.epochs, "status": summary["status"],
                     "test": summary["test"], "best_val": summary["best_val"],
                     "best_epoch": summary["best_epoch"],
                     "mean_epoch_s": summary["mean_epoch_s"],
                     "mean_eval_s": summary["mean_eval_s"],
                     "history_storage": summary["history_storage"]})
    step.fields["runs"] = rows
    write_csv(out / "table5.csv", rows)
    if any(row["status"] != "ok" for row in rows):
        step.status, step.error = "failed", "a Table 5 run did not finish"


STEP_FUNCTIONS: dict[str, Callable[[Plan, Path, Step, Budget], None]] = {
    "scale": scale_step, "tests": tests_step, "table5": table5_step}


def ratio(numerator: dict[str, Any] | None, num_field: str,
          denominator: dict[str, Any] | None, den_field: str) -> tuple[float | None, str]:
    """``numerator[num_field] / denominator[den_field]`` of two scale records, or ``None`` and
    why not."""
    for record, name in ((numerator, num_field), (denominator, den_field)):
        if record is None:
            return None, "point not in the store"
        if record["status"] != "ok":
            return None, f"{record['key']} {record['status']}"
        if record.get(name) is None:
            skipped = record.get(f"{FORWARD_PHASE}_skipped")
            return None, (skipped if name.startswith(FORWARD_PHASE) and skipped
                          else f"{record['key']}: no {name}")
    return numerator[num_field] / denominator[den_field], ""


def targets(plan: Plan, latest: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The targets of issue 23 against the scale records ``latest`` (by key): one row per
    target, method and history place, ``status`` ``pass``, ``fail`` or ``missing``."""
    def record(method: str, place: str) -> dict[str, Any] | None:
        point = ScalePoint(plan.scale_nodes, method, history_storage=plan.places[place],
                           device=plan.device)
        return latest.get(point.key)

    checks = []
    for place in plan.places:
        gas, summed = record("gas", place), record("visagnn-sum", place)
        checks.append(("GAS epoch / PyG equal-work epoch", "gas", place, EPOCH_LIMITS[place],
                       ratio(gas, "epoch_s", gas, "pyg_epoch_s")))
        checks.append(("VISAGNN-Sum epoch / GAS epoch", "visagnn-sum", place, SUM_LIMIT,
                       ratio(summed, "epoch_s", gas, "epoch_s")))
        for method, measured in (("gas", gas), ("visagnn-sum", summed)):
            for phase, what in (("fill", "history fill"), ("inference", "exact inference")):
                checks.append((f"{what} / whole-graph PyG forward", method, place, EXACT_LIMIT,
                               ratio(measured, f"{phase}_s", measured, f"{FORWARD_PHASE}_s")))
    rows = []
    for target, method, place, limit, (value, why) in checks:
        status = "missing" if value is None else ("pass" if value <= limit else "fail")
        rows.append({"target": target, "method": method, "histories": place,
                     "history_storage": plan.places[place], "limit": limit,
                     "ratio": None if value is None else round(value, 3), "status": status,
                     "note": why})
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        if rows:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The targets as the README's Markdown table."""
    lines = ["| target | method | histories | ratio | limit | status |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        measured = "—" if row["ratio"] is None else f"{row['ratio']:.3f}"
        status = row["status"] + (f" ({row['note']})" if row["note"] else "")
        lines.append(f"| {row['target']} | {row['method']} | {row['histories']} "
                     f"({row['history_storage']}) | {measured} | ≤ {row['limit']:.2f} | "
                     f"{status} |")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def teed(log: Path) -> Iterator[None]:
    """This process's and its children's stdout and stderr also appended to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    tee = subprocess.Popen(["tee", "-a", str(log)], stdin=subprocess.PIPE)
    saved = os.dup(1), os.dup(2)
    assert tee.stdin is not None
    os.dup2(tee.stdin.fileno(), 1)
    os.dup2(tee.stdin.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        tee.stdin.close()
        tee.wait()


def environment(plan: Plan) -> dict[str, Any]:
    """The machine and the software the check ran on."""
    cuda = torch.cuda.is_available()
    return {**provenance(plan.device), "cuda": torch.version.cuda,
            "device_name": torch.cuda.get_device_name() if cuda else None,
            "device_memory_mb": (torch.cuda.get_device_properties(0).total_memory / 2**20
                                 if cuda else None),
            "torch_geometric": _version("torch_geometric"), "pymetis": _version("pymetis")}


def _version(module: str) -> str | None:
    try:
        return getattr(__import__(module), "__version__", "present")
    except ImportError:
        return None


def check_ready(plan: Plan) -> None:
    """Raise UsageError where the check cannot run here: no CUDA device without ``--dry-run``,
    or a module it needs missing (``pymetis`` is the one to carry to the device machine)."""
    if not plan.dry_run and not torch.cuda.is_available():
        raise UsageError("torch sees no CUDA device here; --dry-run runs the check on the CPU")
    missing = [name for name in NEEDED_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f"missing modules {missing}: carry their wheels (see python -m "
                         f"visagnn.bench.gpu_check's docstring: .whl and pip install --target)")


def gpu_check(plan: Plan, out: Path) -> dict[str, Any]:
    """Run ``plan`` into the folder ``out`` (see the module docstring); the check's record."""
    out.mkdir(parents=True, exist_ok=True)
    total = Budget(plan.total_s)
    result: dict[str, Any] = {"plan": plan.describe(), "environment": environment(plan),
                              "steps": []}
    with teed(out / "gpu_check.log"):
        print(f"gpu-check: {json.dumps(result['plan'])}", flush=True)
        for name in STEPS:
            step = Step(name, min(plan.budgets_s[name], total.left()))
            if name not in plan.steps:
                step.status, step.error = "skipped", "not in --steps"
            elif step.budget_s <= 0:
                step.status, step.error = "skipped", "the total budget (--total-s) is spent"
            else:
                print(f"gpu-check {name}: budget {step.budget_s:.0f} s", flush=True)
                start = time.monotonic()
                try:
                    STEP_FUNCTIONS[name](plan, out, step, Budget(step.budget_s))
                except Exception as exc:  # a broken step must not cost the others their turn
                    step.status = "failed"
                    step.error = f"{type(exc).__name__}: {exc}"
                    traceback.print_exc()
                step.elapsed_s = time.monotonic() - start
            print(f"gpu-check {name}: {step.status}" + (f" ({step.error})" if step.error
                                                         else ""), flush=True)
            result["steps"].append(asdict(step))
        rows = targets(plan, ScaleStore(out / "scale").latest())
        result["targets"] = rows
        write_csv(out / "targets.csv", rows)
        table = markdown_table(rows)
        (out / "targets.md").write_text(table)
        print(table, flush=True)
    (out / "gpu_check.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    return result


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``gpu-check``'s arguments to its parser and set its handler."""
    parser.description = (
        "The prepared GPU check: the arxiv-size scale point with device and pinned histories, "
        "the CUDA tests, and a short Table 5 run, each step within its time budget, every "
        "figure in one folder with the issue's targets as a pass/fail table.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"the folder of every figure (default: {DEFAULT_OUT})")
    parser.add_argument("--dry-run", action="store_true",
                        help="the same plan on the CPU at a tiny size (checks the check)")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS),
                        help=f"the steps to run (default: {' '.join(STEPS)})")
    for name, seconds in BUDGETS_S.items():
        parser.add_argument(f"--{name}-s", type=float, default=seconds,
                            help=f"the {name} step's budget in seconds (default: {seconds:g})")
    parser.add_argument("--total-s", type=float, default=TOTAL_S,
                        help=f"the budget of all steps together (default: {TOTAL_S:g})")
    parser.add_argument("--seeds", type=int, default=2,
                        help="seeds of every Table 5 run (default: 2)")
    parser.add_argument("--epochs", type=int, default=8,
                        help="epochs of every Table 5 run (default: 8; evaluated at the half "
                             "and at the end)")
    parser.set_defaults(handler=gpu_check_command)


def gpu_check_command(args: argparse.Namespace) -> int:
    """Run the check ``args`` ask for; 1 if a step failed, else 0 (a target missed is a
    figure, not an error)."""
    for flag in ("seeds", "epochs"):
        if getattr(args, flag) < 1:
            raise UsageError(f"--{flag} must be >= 1, got {getattr(args, flag)}")
    budgets = {name: getattr(args, f"{name}_s") for name in BUDGETS_S}
    negative = {f"--{name}-s": value for name, value in budgets.items() if value < 0}
    if negative or args.total_s < 0:
        raise UsageError(f"budgets must be >= 0 seconds, got {negative or args.total_s}")
    plan = Plan(args.dry_run, tuple(args.steps), budgets, args.total_s, args.seeds, args.epochs)
    check_ready(plan)
    check_output_folder(args.out, "--out")
    result = gpu_check(plan, args.out)
    print(f"gpu-check: figures in {args.out}")
    return 1 if any(step["status"] == "failed" for step in result["steps"]) else 0
