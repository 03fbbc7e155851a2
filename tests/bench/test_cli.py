"""``python -m visagnn grid`` and ``report``: every bad input is one line naming the flag and
the valid choices, exit code 2, before anything trains."""

import subprocess
import sys
from pathlib import Path

import pytest

from visagnn.cli import main

REPO = Path(__file__).parents[2]


def test_grid_dry_run_lists_cells_and_runs(capsys):
    assert main(["grid", "--grid", "paper", "--datasets", "ogbn-arxiv", "--methods", "gas",
                 "visagnn-sum", "--seeds", "2", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "grid 'paper': 3 cells, 24 runs" in out
    assert "ogbn-arxiv_P40_B20: 16 runs = 8 variants × 2 seeds" in out


@pytest.mark.parametrize(("arguments", "message"), [
    (["--methods", "gas", "nope"],
     "--methods: unknown method(s) ['nope']; valid methods: ['appnp', 'clustergcn', "
     "'fastgcn', 'gas'"),
    (["--datasets", "coraa"],
     "--datasets: unknown dataset(s) ['coraa']; valid datasets: synthetic, cora, citeseer"),
    (["--datasets", "missing.pt"], "--datasets: unknown dataset(s) ['missing.pt']"),
    (["--seeds", "0"], "--seeds must be >= 1, got 0"),
    (["--jobs", "0"], "--jobs must be >= 1, got 0"),
    (["--threads", "-1"], "--threads must be >= 0 (0: one per core), got -1"),
    (["--epochs", "0"], "--epochs must be >= 1, got 0"),
    (["--grid", "nope"], "argument --grid: invalid choice: 'nope' (choose from 'demo', 'paper'"),
])
def test_bad_grid_arguments_are_one_line_with_the_flag_and_exit_2(arguments, message, capsys,
                                                                   tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["grid", *arguments, "--results", str(tmp_path / "store")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m visagnn grid: error: ") and err.count("\n") == 1
    assert message in err
    assert not (tmp_path / "store").exists()  # nothing trained, nothing recorded


def test_report_of_a_missing_store_names_the_flag(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--results", str(tmp_path / "nope")])
    assert exit_info.value.code == 2
    assert f"--results {tmp_path / 'nope'}: no such folder" in capsys.readouterr().err


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=False)


def test_without_the_notebooks_extra_grid_names_the_extra():
    completed = run_python("import sys; sys.modules['papermill'] = None\n"
                           "from visagnn.cli import main; main(['grid', '--dry-run'])")
    assert completed.returncode == 2
    assert completed.stderr == (
        "python -m visagnn grid: error: python -m visagnn grid needs the 'notebooks' extra (no "
        "module named 'papermill'): pip install 'visagnn[notebooks]', or from a checkout "
        "pip install -e '.[notebooks]'\n")


def test_the_library_and_run_do_not_import_the_benchmark():
    # pandas is not checked: torch_geometric imports it, whatever visagnn does
    completed = run_python(
        "import sys\n"
        "import visagnn, visagnn.cli\n"
        "assert 'torch' not in sys.modules, 'import visagnn.cli loads torch'\n"
        "from visagnn.cli import build_parser\n"
        "build_parser('run').parse_args(['run', '--method', 'gas'])\n"
        "heavy = sorted(m for m in ('visagnn.bench', 'papermill', 'matplotlib', 'seaborn',\n"
        "                           'nbconvert') if m in sys.modules)\n"
        "print(heavy)")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"


def test_help_lists_every_subcommand_without_importing_them():
    completed = run_python(
        "import sys\nfrom visagnn.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules, 'visagnn.bench' in sys.modules)")
    lines = completed.stdout.strip().splitlines()
    assert lines[-1] == "False False"
    help_text = "\n".join(lines)
    for command in ("run", "grid", "report", "scale"):
        assert f"    {command} " in help_text
