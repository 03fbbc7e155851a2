"""``python -m visagnn grid`` and ``report``: every bad input is one line naming the flag and
the valid choices, exit code 2, before anything trains."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.conftest import fake_result
from visagnn.bench.cli import IN_FLIGHT
from visagnn.bench.spec import plan_runs
from visagnn.bench.store import ResultsStore
from visagnn.cli import main

REPO = Path(__file__).parents[2]


def test_grid_dry_run_lists_cells_and_runs(capsys, monkeypatch):
    monkeypatch.delenv("VISAGNN_NO_DOWNLOAD")  # ogbn-arxiv downloadable; a dry run fetches none
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
    (["--grid", "nope"],
     "argument --grid: invalid choice: 'nope' (choose from 'demo', 'map', 'paper'"),
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


def grid_arguments(tiny_graph) -> list[str]:
    return ["grid", "--datasets", str(tiny_graph), "--methods", "gas", "--seeds", "1",
            "--epochs", "1"]


@pytest.fixture
def recorded_store(tmp_path, tiny_graph) -> Path:
    """A store that holds one finished run."""
    (spec,) = plan_runs(str(tiny_graph), ["gas"], epochs=1)
    ResultsStore(tmp_path / "store").record(spec, fake_result(spec))
    return tmp_path / "store"


def assert_one_line(capsys, exit_info, command: str, message: str, code: int = 2) -> None:
    assert exit_info.value.code == code
    err = capsys.readouterr().err
    assert err == f"python -m visagnn {command}: error: {message}\n", err


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--results", "FILE", "--results {FILE}: is a file, not a folder"),
    ("--results", "FILE/sub", "--results {FILE}/sub: lies under the file {FILE}, not a folder"),
    ("--reports", "FILE", "--reports {FILE}: is a file, not a folder"),
    ("--notebooks", "MISSING", "--notebooks {MISSING}: no such folder (it must hold "
                               "experiment.ipynb, report.ipynb)"),
    ("--notebooks", "EMPTY", "--notebooks {EMPTY}: no experiment.ipynb, report.ipynb there"),
])
def test_a_bad_output_folder_is_one_line_before_anything_trains(flag, value, message, capsys,
                                                               tmp_path, tiny_graph,
                                                               recorded_store):
    paths = {name: tmp_path / name for name in ("FILE", "MISSING", "EMPTY")}
    paths["FILE"].write_text("a file")
    paths["EMPTY"].mkdir()
    before = (recorded_store / "runs.jsonl").read_bytes()
    folders = {"--results": str(recorded_store), "--reports": str(tmp_path / "pages"),
               flag: value.replace(value.split("/")[0], str(paths[value.split("/")[0]]))}
    with pytest.raises(SystemExit) as exit_info:
        main([*grid_arguments(tiny_graph), *(item for pair in folders.items() for item in pair)])
    assert_one_line(capsys, exit_info, "grid",
                    message.format(**{name: path for name, path in paths.items()}))
    assert (recorded_store / "runs.jsonl").read_bytes() == before  # no bogus failed record
    assert not (tmp_path / "pages" / "index.html").exists()


def test_report_and_scale_check_their_output_folders(capsys, tmp_path, recorded_store):
    (tmp_path / "FILE").write_text("a file")
    before = (recorded_store / "runs.jsonl").read_bytes()
    for arguments, command, message in [
        (["report", "--results", str(recorded_store), "--reports", str(tmp_path / "FILE")],
         "report", f"--reports {tmp_path / 'FILE'}: is a file, not a folder"),
        (["report", "--results", str(tmp_path / "FILE")],
         "report", f"--results {tmp_path / 'FILE'}: is a file, not a folder"),
        (["report", "--results", str(recorded_store), "--reports", str(tmp_path / "pages"),
          "--notebooks", str(tmp_path)],
         "report", f"--notebooks {tmp_path}: no report.ipynb there"),
        (["scale", "--nodes", "10000", "--results", str(tmp_path / "FILE")],
         "scale", f"--results {tmp_path / 'FILE'}: is a file, not a folder"),
        (["scale", "--nodes", "10000", "--results", str(tmp_path / "points"),
          "--reports", str(tmp_path / "FILE")],
         "scale", f"--reports {tmp_path / 'FILE'}: is a file, not a folder"),
    ]:
        with pytest.raises(SystemExit) as exit_info:
            main(arguments)
        assert_one_line(capsys, exit_info, command, message)
    assert (recorded_store / "runs.jsonl").read_bytes() == before
    assert not (tmp_path / "points" / "points.jsonl").exists()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args):
        raise AssertionError("tried the network")

    monkeypatch.setattr("visagnn.datasets.root.fetch", refuse)


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_the_grid_checks_its_data_up_front_one_line_per_dataset(dry_run, capsys, tmp_path,
                                                                monkeypatch, no_network,
                                                                recorded_store):
    monkeypatch.setenv("VISAGNN_NO_DOWNLOAD", "1")
    before = (recorded_store / "runs.jsonl").read_bytes()
    empty, corrupt = tmp_path / "empty", tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a graph")
    with pytest.raises(SystemExit) as exit_info:
        main(["grid", "--datasets", "cora", "citeseer", str(corrupt), "--methods", "gas",
              "--seeds", "1", "--root", str(empty), "--results", str(recorded_store),
              *dry_run])
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"python -m visagnn grid: error: --datasets cora: missing under "
                               f"{empty / 'Cora'}: raw/ind.cora.x")
    assert "downloading is off" in lines[0]
    assert lines[1].startswith(f"--datasets citeseer: missing under {empty / 'CiteSeer'}")
    assert lines[2] == (f"--datasets {corrupt}: {corrupt} is truncated or is not a graph saved "
                        f"with torch.save (UnpicklingError); save a torch_geometric Data with x, "
                        f"y, edge_index, train_mask, val_mask, test_mask")
    assert (recorded_store / "runs.jsonl").read_bytes() == before


@pytest.mark.parametrize("no_download", [True, False])
def test_a_data_root_that_is_a_file_is_said_before_any_download(no_download, capsys, tmp_path,
                                                                monkeypatch, no_network):
    monkeypatch.delenv("VISAGNN_NO_DOWNLOAD", raising=False)
    (tmp_path / "FILE").write_text("a file")
    with pytest.raises(SystemExit) as exit_info:
        main(["grid", "--datasets", "cora", "citeseer", "--methods", "gas", "--seeds", "1",
              "--root", str(tmp_path / "FILE"), "--results", str(tmp_path / "store"),
              *(["--no-download"] if no_download else [])])
    assert_one_line(capsys, exit_info, "grid", f"--root {tmp_path / 'FILE'}: the data root "
                                               f"{tmp_path / 'FILE'} is a file, not a folder")
    assert not (tmp_path / "store").exists()


def test_no_download_makes_a_missing_dataset_an_error_before_training(capsys, tmp_path,
                                                                     monkeypatch, no_network):
    monkeypatch.delenv("VISAGNN_NO_DOWNLOAD", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["grid", "--datasets", "cora", "--methods", "gas", "--seeds", "1", "--root",
              str(tmp_path / "empty"), "--results", str(tmp_path / "store"), "--no-download"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--datasets cora: missing under" in err
    assert not (tmp_path / "store").exists()


class SkipsTheFirstRun:
    """Records made-up results of a cell's runs but the first, which another process is
    training (the experiment notebook skips a run claimed elsewhere)."""

    def __init__(self, notebooks, reports, echo, threads) -> None:
        self.threads = threads

    def __call__(self, cell, results: Path, force: bool) -> None:
        store = ResultsStore(results)
        for spec in cell.runs()[1:]:
            store.record(spec, fake_result(spec))


def test_a_grid_that_skipped_runs_in_flight_elsewhere_says_so_and_exits_3(capsys, tmp_path,
                                                                         tiny_graph,
                                                                         monkeypatch):
    monkeypatch.setattr("visagnn.bench.cli.NotebookExecutor", SkipsTheFirstRun)
    monkeypatch.setattr("visagnn.bench.cli.render_reports",
                        lambda results, reports, notebooks: reports / "index.html")
    arguments = ["grid", "--datasets", str(tiny_graph), "--methods", "gas", "--seeds", "2",
                 "--epochs", "1", "--results", str(tmp_path / "store"), "--reports",
                 str(tmp_path / "pages")]
    assert main(arguments) == IN_FLIGHT == 3
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == (
        f"reports: {tmp_path / 'pages' / 'index.html'} (2 runs still being trained by another "
        f"process on this store, not in this report: run the grid again when it ends)")
    assert "Traceback" not in err
    latest = ResultsStore(tmp_path / "store").latest()
    for spec in make_grid_of(arguments).runs():  # the other process finishes its runs
        if spec.key not in latest:
            ResultsStore(tmp_path / "store").record(spec, fake_result(spec))
    assert main(arguments) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"reports: {tmp_path / 'pages' / 'index.html'}")


def make_grid_of(arguments: list[str]):
    from visagnn.bench.cli import make_grid
    from visagnn.cli import build_parser

    return make_grid(build_parser("grid").parse_args(arguments))
