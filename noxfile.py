"""nox sessions: ``tests`` and ``lint``; ``demo``, ``benchmark`` and ``report`` run the
benchmark suite (``python -m visagnn grid`` / ``report``), results in ``results/``, HTML in
``reports/`` (open ``reports/index.html``); ``scale`` runs the scaling benchmark
(``python -m visagnn scale``: ``results/scale/``, ``reports/scale/scale.html``). All of these are
ignored by git, so these sessions change no tracked file. ``reference`` alone writes the
committed reference in ``reports/reference/``, and ``scale -- --reference`` the scaling one in
``reports/reference/scale/``. ``gpu-check`` is the prepared GPU check (its figures in
``results/gpu-check/``, copied by hand to ``reports/reference/gpu/``).

The torch requirement is one variable: ``VISAGNN_TORCH`` overrides it, e.g. on a GPU box
``VISAGNN_TORCH="torch --index-url https://download.pytorch.org/whl/cu124" nox -s benchmark``.
The default, ``torch==2.13.0``, installs a CPU wheel (an unpinned torch pulls CUDA packages).
"""

from __future__ import annotations

import os
import shlex

import nox

TORCH_REQUIREMENT = os.environ.get("VISAGNN_TORCH", "torch==2.13.0")

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True


def install_package(session: nox.Session, extras: str) -> None:
    """torch first and pinned, so that torch-geometric and ogb do not pull another build."""
    session.install(*shlex.split(TORCH_REQUIREMENT))
    session.install("-e", f".[{extras}]")


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (``VISAGNN_DATA`` points the dataset tests at real data when set)."""
    install_package(session, "dev,notebooks,cluster")
    session.run("pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, the tests and this file."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "visagnn", "tests", "noxfile.py")


@nox.session
def demo(session: nox.Session) -> None:
    """The README's main command: a small grid in minutes on a CPU, then ``reports/``.

    Every method on the synthetic graph, plus Cora and CiteSeer when ``VISAGNN_DATA`` (or
    ``nox -s demo -- --root DIR``) holds them.
    """
    install_package(session, "notebooks")
    # one torch thread per run (the grid's default: a second one makes each run several times
    # slower on a busy machine), and as many notebooks at a time as there are cores
    session.run("python", "-m", "visagnn", "grid", "--grid", "demo",
                "--jobs", str(os.cpu_count() or 1), *session.posargs)


@nox.session
def benchmark(session: nox.Session) -> None:
    """The paper's grid (Tables 1-6) for a GPU machine with the datasets, then ``reports/``.

    E.g. ``nox -s benchmark -- --datasets ogbn-arxiv reddit --device cuda --seeds 5``; it
    resumes where it stopped (``python -m visagnn grid --help`` lists the options).
    """
    install_package(session, "notebooks")
    session.run("python", "-m", "visagnn", "grid", "--grid", "paper", *session.posargs)


@nox.session
def report(session: nox.Session) -> None:
    """Re-render ``reports/`` from the results store, without training."""
    install_package(session, "notebooks")
    session.run("python", "-m", "visagnn", "report", *session.posargs)


@nox.session
def reference(session: nox.Session) -> None:
    """The committed reference results: ``reports/reference/results`` and its HTML pages in
    ``reports/reference/``.

    Cora, Amazon Computers and CiteSeer (``REFERENCE_DATASETS``), 2.5 core-hours;
    ``nox -s reference -- --root DIR --jobs 2`` points at the data and runs two notebooks at a
    time, and ``-- --datasets minesweeper tolokers`` adds those graphs' budgets.
    """
    install_package(session, "notebooks")
    session.run("python", "-m", "visagnn", "grid", "--grid", "reference",
                "--results", "reports/reference/results", "--reports", "reports/reference",
                *session.posargs)


@nox.session
def scale(session: nox.Session) -> None:
    """The scaling benchmark, then ``reports/scale/scale.html``: GAS and VISAGNN-Sum on
    products-shaped synthetic graphs of 10^4 to 2.4 × 10^6 nodes, each point in a fresh process,
    a point that would not fit in memory skipped; it resumes where it stopped.

    Hours on a CPU for the largest sizes; e.g. ``nox -s scale -- --nodes 10000 100000`` for a
    few sizes, ``nox -s scale -- --reference`` for the committed reference
    (``python -m visagnn scale --help`` lists the options).
    """
    install_package(session, "notebooks")
    session.run("python", "-m", "visagnn", "scale", *session.posargs)


@nox.session(name="gpu-check", venv_params=["--system-site-packages"])
def gpu_check(session: nox.Session) -> None:
    """The prepared GPU check (``python -m visagnn gpu-check``, :mod:`visagnn.bench.gpu_check`):
    the arxiv-size scale point with device and pinned histories, the CUDA tests and a short
    Table 5 run in under 9 minutes, every figure in ``results/gpu-check/`` (``-- --out DIR``).

    The environment sees the interpreter's own packages, so a CUDA torch already installed
    there is used as it is; otherwise ``VISAGNN_TORCH`` is installed (default: PyPI's
    ``torch``, a CUDA build on Linux). ``-- --dry-run`` checks the check on a CPU in a minute.
    On a machine without network (the device tool's) run :data:`DEVICE_COMMAND
    <visagnn.bench.gpu_check.DEVICE_COMMAND>` instead.
    """
    probe = session.run("python", "-c", "import torch; print(torch.cuda.is_available())",
                        silent=True, success_codes=[0, 1])
    if "True" not in (probe or ""):
        session.install(*shlex.split(os.environ.get("VISAGNN_TORCH", "torch")))
    session.install("-e", ".[dev]")
    session.run("python", "-m", "visagnn", "gpu-check", *session.posargs)


@nox.session
def lab(session: nox.Session) -> None:
    """JupyterLab on this environment (the ``notebooks`` extra), opened on ``notebooks/``."""
    install_package(session, "notebooks")
    session.run("jupyter", "lab", "notebooks", *session.posargs)
