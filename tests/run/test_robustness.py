"""``python -m visagnn run`` against bad outputs, bad graphs, bad numbers and a full disk: each
ends in one line naming the flag or field, exit 2 for bad input and 1 for a runtime fault, no
traceback, and nothing already recorded lost or changed (issue 24, run side)."""

from __future__ import annotations

import errno
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Data

from visagnn.cli import main
from visagnn.methods.gas import GAS
from visagnn.run.records import RunWriter, to_json
from visagnn.utils.atomic_write import OutputError, append_line

REPO = Path(__file__).parents[1]
NUM_NODES = 60
FAST = ["--quiet", "--num-parts", "2", "--batch-parts", "1", "--hidden-channels", "4",
        "--heads", "1", "--threads", "1"]


def graph(**fields: torch.Tensor) -> Data:
    """A 60-node, 3-class ring whose features are its one-hot labels plus noise; 30 training,
    15 validation and 15 test nodes."""
    ids = torch.arange(NUM_NODES)
    y = ids % 3
    values = dict(
        x=torch.nn.functional.one_hot(y, 3).float() + 0.1 * torch.randn(NUM_NODES, 3),
        y=y, edge_index=torch.stack([ids, (ids + 3) % NUM_NODES]),
        train_mask=ids < 30, val_mask=(ids >= 30) & (ids < 45), test_mask=ids >= 45)
    return Data(**{**values, **fields})


@pytest.fixture
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "ring.pt"
    torch.save(graph(), path)
    return path


def run_cli(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``python -m visagnn run ARGUMENTS``, in process."""
    try:
        code = main(["run", *arguments])
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


def error_line(arguments: list[str], capsys: pytest.CaptureFixture[str], code: int = 2) -> str:
    """The one error line of a run that must fail with ``code`` and print no summary."""
    got, out, err = run_cli(arguments, capsys)
    assert got == code, err
    assert out == "" and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("python -m visagnn run: error: ")
    return err.removeprefix("python -m visagnn run: error: ").rstrip("\n")


def finished_run(folder: Path) -> dict[str, str]:
    """A folder holding a finished run's files, and their contents."""
    folder.mkdir(parents=True, exist_ok=True)
    contents = {"summary.json": '{"status": "ok"}', "epochs.jsonl": '{"epoch": 1}\n'}
    for name, text in contents.items():
        (folder / name).write_text(text)
    return contents


# item 1: output locations, a full disk, a killed rerun, file modes, strict JSON

@pytest.mark.parametrize("case", ["file", "under_file", "empty", "read_only"])
def test_an_out_that_cannot_hold_outputs_is_refused_before_training(case, tmp_path, graph_file,
                                                                    capsys, monkeypatch):
    target = tmp_path / "FILE"
    target.write_text("kept")
    read_only = tmp_path / "shared"
    finished = finished_run(read_only)
    read_only.chmod(0o555)
    out, expected = {
        "file": (str(target), f"--out {target}: is a file, not a folder"),
        "under_file": (f"{target}/sub", f"--out {target}/sub: lies under the file {target}"),
        "empty": ("", "--out: an empty path is not a folder"),
        "read_only": (str(read_only / "run"), f"--out {read_only / 'run'}: {read_only} is not "
                                              "writable"),
    }[case]
    monkeypatch.setattr("visagnn.run.command.load_graph", pytest.fail)  # nothing loads
    assert error_line(["--dataset", str(graph_file), *FAST, "--out", out], capsys) \
        .startswith(expected)
    assert target.read_text() == "kept"
    assert {name: (read_only / name).read_text() for name in finished} == finished


def test_a_full_disk_while_writing_an_epoch_is_one_line_and_keeps_the_epochs_written(
        tmp_path, graph_file, capsys, monkeypatch):
    out = tmp_path / "run"
    real_write = os.write
    calls = []

    def full_after_one_epoch(descriptor: int, data: bytes) -> int:
        calls.append(data)
        if len(calls) == 1:
            return real_write(descriptor, data)
        # a disk that takes a few bytes of the second line, then is full
        if len(calls) == 2:
            return real_write(descriptor, data[:5])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_after_one_epoch)
    message = error_line(["--dataset", str(graph_file), *FAST, "--epochs", "3",
                          "--out", str(out)], capsys, code=1)
    assert message == f"no space left on device writing {out / 'epochs.jsonl'}"
    lines = (out / "epochs.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) == 1 and json.loads(lines[0])["epoch"] == 1 and lines[0].endswith("\n")
    assert not (out / "summary.json").exists()


def test_append_line_cuts_a_failed_write_back_and_names_the_file(tmp_path, monkeypatch):
    path = tmp_path / "epochs.jsonl"
    append_line(path, '{"epoch": 1}')

    real_write = os.write

    def full(descriptor: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def half_then_full(descriptor: int, data: bytes) -> int:
        monkeypatch.setattr(os, "write", full)
        return real_write(descriptor, data[: len(data) // 2])

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(OutputError) as caught:
        append_line(path, '{"epoch": 2, "loss": 0.5}')
    assert caught.value.strerror == f"no space left on device writing {path}"
    assert path.read_text() == '{"epoch": 1}\n'


def test_a_rerun_clears_the_finished_runs_summary_before_it_trains(tmp_path, graph_file,
                                                                   capsys, monkeypatch):
    out = tmp_path / "run"
    finished_run(out)
    train_epoch = GAS.train_epoch

    def killed_in_epoch_two(self: GAS, epoch: int) -> float:
        if epoch == 2:
            raise KeyboardInterrupt
        return train_epoch(self, epoch)

    monkeypatch.setattr(GAS, "train_epoch", killed_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        main(["run", "--dataset", str(graph_file), *FAST, "--epochs", "3", "--out", str(out)])
    assert not (out / "summary.json").exists()
    assert [json.loads(line)["epoch"] for line in
            (out / "epochs.jsonl").read_text().splitlines()] == [1]


def test_run_files_get_the_umasks_mode_and_are_strict_json(tmp_path):
    previous = os.umask(0o022)
    try:
        writer = RunWriter(tmp_path / "run")
        writer.epoch({"epoch": 1, "loss": math.nan, "extras": [math.inf, 1.5]})
        writer.summary({"test": math.nan, "best_val": -math.inf, "memory": {"peak_mb": 2.0}})
    finally:
        os.umask(previous)
    for name in ("epochs.jsonl", "summary.json"):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o644, name

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    epoch = json.loads((tmp_path / "run" / "epochs.jsonl").read_text(), parse_constant=refuse)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text(), parse_constant=refuse)
    assert epoch == {"epoch": 1, "loss": None, "extras": [None, 1.5]}
    assert summary == {"test": None, "best_val": None, "memory": {"peak_mb": 2.0}}
    assert to_json({"a": (1, math.nan)}) == '{"a": [1, null]}'


# item 2: divergence is a status; non-finite flags and graphs are refused up front

@pytest.mark.parametrize(("flag", "value"), [("--lr", "inf"), ("--lr", "nan"),
                                             ("--grad-clip", "nan"), ("--weight-decay", "nan"),
                                             ("--dropout", "-inf")])
def test_non_finite_numbers_are_refused_by_the_parser(flag, value, capsys, monkeypatch):
    monkeypatch.setattr("visagnn.run.command.split_arguments", pytest.fail)  # nothing set up
    assert error_line([*FAST, f"{flag}={value}"], capsys) == \
        f"argument {flag}: expected a finite number, got {value!r}"


def test_a_loss_that_stops_being_finite_ends_the_run_as_diverged(tmp_path, graph_file, capsys,
                                                                 monkeypatch):
    train_epoch = GAS.train_epoch
    finite: list[float] = []

    def diverges_in_epoch_three(self: GAS, epoch: int) -> float:
        if epoch == 3:
            return math.nan
        finite.append(train_epoch(self, epoch))
        return finite[-1]

    monkeypatch.setattr(GAS, "train_epoch", diverges_in_epoch_three)
    out = tmp_path / "run"
    code, stdout, err = run_cli(["--dataset", str(graph_file), *FAST, "--epochs", "10",
                                 "--out", str(out)], capsys)
    assert code == 0 and "Traceback" not in err
    summary = json.loads(stdout.splitlines()[-1])
    assert summary["status"] == "diverged" and summary["epochs"] == 3
    assert summary["divergence"] == {"epoch": 3, "last_finite_loss": finite[-1]}
    assert "the training loss became nan at epoch 3" in summary["error"]
    assert json.loads((out / "summary.json").read_text()) == summary
    records = [json.loads(line) for line in (out / "epochs.jsonl").read_text().splitlines()]
    assert [record["loss"] for record in records] == [*finite, None]
    assert "test" not in records[-1]


# items 2 and 4: graph files that training cannot use, refused at load time

def _with_nan_features() -> Data:
    x = graph().x
    x[2, 1], x[7, 0] = math.nan, math.inf
    return graph(x=x)


def _labels(**changes: int) -> torch.Tensor:
    y = torch.arange(NUM_NODES) % 3
    for node, label in changes.items():
        y[int(node.removeprefix("n"))] = label
    return y


BAD_GRAPHS = {
    "non_finite_x": (_with_nan_features, "x holds non-finite values (NaN or inf) in 2 of 60 rows"),
    "non_finite_y": (lambda: graph(y=_labels().float().index_fill(0, torch.tensor([4]), math.nan)),
                     "y holds non-finite values in 1 of 60 rows"),
    "unlabelled_train": (lambda: graph(y=_labels(n0=-1, n1=-1)),
                         "y is -1 (unlabelled) for 2 of the 30 train_mask nodes; the labels of "
                         "training nodes must be class ids in [0, num_classes)"),
    "huge_label": (lambda: graph(y=_labels(n3=10**9)),
                   "y holds the label 1000000000, implying 1000000001 classes for 60 nodes"),
    "no_features": (lambda: graph(x=torch.zeros(NUM_NODES, 0)),
                    "x must have at least one feature column, got shape [60, 0]"),
    "x_rows": (lambda: graph(x=torch.randn(NUM_NODES + 5, 3)),
               "x has 65 rows, expected num_nodes = 60 (the length of y and of the split masks)"),
    "empty_train": (lambda: graph(train_mask=torch.zeros(NUM_NODES, dtype=torch.bool)),
                    "train_mask selects no labelled node"),
}


@pytest.mark.parametrize("case", sorted(BAD_GRAPHS))
def test_a_graph_training_cannot_use_is_refused_naming_the_field(case, tmp_path, capsys):
    make, expected = BAD_GRAPHS[case]
    path = tmp_path / f"{case}.pt"
    torch.save(make(), path)
    out = tmp_path / "run"
    finished = finished_run(out)
    message = error_line(["--dataset", str(path), *FAST, "--out", str(out)], capsys)
    assert message.startswith(f"--dataset {path}: {expected}"), message
    assert {name: (out / name).read_text() for name in finished} == finished


def test_a_graph_file_cut_anywhere_is_one_line_saying_so(tmp_path, capsys):
    path = tmp_path / "big.pt"
    torch.save(Data(x=torch.randn(2000, 40), y=torch.zeros(2000, dtype=torch.long),
                    edge_index=torch.zeros(2, 4000, dtype=torch.long)), path)
    whole = path.read_bytes()
    for length in range(0, len(whole), 3989):
        path.write_bytes(whole[:length])
        message = error_line(["--dataset", str(path), *FAST], capsys)
        assert message.startswith(f"--dataset {path}: {path} is truncated or is not a graph "
                                  "saved with torch.save"), (length, message)


# item 5: bounds of counts and sizes

@pytest.mark.parametrize(("arguments", "expected"), [
    (["--threads", "100000"],
     f"--threads must be in [0, {os.cpu_count()}] (0: one per core; {os.cpu_count()}: this "
     "machine's cores), got 100000"),
    (["--epochs", str(2**63)], f"--epochs must be in [1, 1000000], got {2**63}"),
    (["--seed", "-1"], "--seed must be in [0, 2**32 - 1], got -1"),
    (["--seed", str(2**32)], f"--seed must be in [0, 2**32 - 1], got {2**32}"),
    (["--lr", "1e38"], "--lr must be at most 3.4e+37 (Adam's first step, 10 x --lr, must fit "
                       "in float32), got 1e+38"),
])
def test_counts_out_of_bounds_are_refused_before_loading(arguments, expected, capsys,
                                                         monkeypatch):
    monkeypatch.setattr("visagnn.run.command.load_graph", pytest.fail)
    before = torch.get_num_threads()
    assert error_line([*FAST, *arguments], capsys) == expected
    assert torch.get_num_threads() == before


def test_a_width_that_cannot_be_allocated_is_refused(graph_file, capsys, monkeypatch):
    monkeypatch.setattr("visagnn.run.command.available_memory_mb", lambda device: 1000.0)
    # 4 bytes x (60 nodes + 3 features) x 10**7 channels x 2 heads = 4807 MiB
    message = error_line(["--dataset", str(graph_file), *FAST, "--heads", "2",
                          "--hidden-channels", str(10**7)], capsys)
    assert message == ("--hidden-channels 10000000 x --heads 2: a hidden layer over 60 nodes "
                       "needs at least 4,807 MiB, more than the 1,000 MiB available")


# item 11: messages name the flag; the cache fallback does not leak

def test_more_parts_than_nodes_names_num_parts(graph_file, capsys):
    message = error_line(["--dataset", str(graph_file), *FAST, "--num-parts", "61"], capsys)
    assert message == "--num-parts must be in [1, 60] (at most one part per node of ring), got 61"


def test_an_unwritable_cache_uses_one_temporary_folder_removed_at_exit(tmp_path):
    read_only = tmp_path / "shared"
    read_only.mkdir()
    read_only.chmod(0o555)
    script = ("from visagnn.utils.cache import cache_folder; "
              "a, b = cache_folder('partitions'), cache_folder('processed'); "
              "assert a.parent == b.parent == cache_folder('partitions').parent; print(a.parent)")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               cwd=REPO, check=True,
                               env={**os.environ, "VISAGNN_CACHE": str(read_only)})
    folder = Path(completed.stdout.strip())
    assert folder.name.startswith("visagnn-cache-") and not folder.exists()
    assert list(read_only.iterdir()) == []


def test_a_bad_flag_from_a_shell_is_one_line_without_traceback():
    completed = subprocess.run([sys.executable, "-m", "visagnn", "run", "--lr", "nan"],
                               capture_output=True, text=True, cwd=REPO, check=False)
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
    assert completed.stderr == ("python -m visagnn run: error: argument --lr: expected a "
                                "finite number, got 'nan'\n")


@pytest.mark.parametrize(("method", "backbone", "heads_counted"),
                         [("gas", "gat", 4), ("gas", "gcn", 1), ("gcn", None, 1),
                          ("sage", None, 1), ("gat", None, 4)])
def test_the_width_bound_counts_heads_only_where_the_width_is_per_head(method, backbone,
                                                                      heads_counted):
    from visagnn.datasets import load_dataset
    from visagnn.methods import resolve_config
    from visagnn.run.command import width_mb

    dataset = load_dataset("synthetic", num_nodes=300)
    overrides = {"backbone": backbone} if backbone else {}
    config = resolve_config("synthetic", method, hidden_channels=10, heads=4, **overrides)
    data = dataset.data
    assert width_mb(config, dataset) == pytest.approx(
        4 * (data.num_nodes + data.num_features) * 10 * heads_counted / 2**20)
