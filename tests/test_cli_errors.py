"""``python -m visagnn run``: bad input is one line naming the flag the user typed and the
valid choices, exit code 2, no traceback; ``--help`` lists each option once, under every method
that takes it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from visagnn.cli import build_parser, main

REPO = Path(__file__).parents[1]


def error_of(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(["run", *arguments, "--quiet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m visagnn run: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.parametrize(("arguments", "message"), [
    (["--num-parts", "0"], "--num-parts must be >= 1, got 0"),
    (["--dropout", "1.5"], "--dropout must be in [0, 1), got 1.5"),
    (["--method", "visagnn-sum", "--lam", "-1"], "--lam must be >= 0, got -1.0"),
    (["--method", "graphfm", "--momentum", "2"], "--momentum must be in [0, 1], got 2.0"),
    (["--method", "gas", "--lam", "0.3"],
     "--lam are not options of --method gas; its options are: none"),
    (["--method", "nope"], "argument --method: invalid choice: 'nope' (choose from 'appnp'"),
    (["--threads", "-2"], f"--threads must be in [0, {os.cpu_count()}] (0: one per core; "),
    (["--method", "appnp", "--alpha", "2"], "--alpha must be in (0, 1], got 2.0"),
    (["--method", "sgc", "--hops", "-1"], "--hops must be >= 0, got -1"),
    (["--method", "sage", "--batch-size", "0"], "--batch-size must be >= 1, got 0"),
    (["--method", "s3", "--floor", "0"], "--floor must be in (0, 1], got 0.0"),
    (["--method", "sat", "--window", "1"], "--window must be >= 2, got 1"),
    (["--method", "sancus", "--staleness-epochs", "-1"], "--staleness-epochs must be >= 0, got -1"),
    (["--method", "sat", "--push-rows", "clean"],
     "--method sat needs --push-rows train, got clean"),
    (["--method", "rest", "--refresh-every", "-1"], "--refresh-every must be >= 0, got -1"),
    (["--method", "rest", "--refresh-parts", "99"],
     "--refresh-parts must be in [0, --num-parts=40], got 99"),
])
def test_bad_values_name_the_flag(arguments, message, capsys):
    assert message in error_of(arguments, capsys)


@pytest.mark.parametrize(("arguments", "message"), [
    (["--method", "sgc", "--exact-halo"],
     "--exact-halo does not apply to --method sgc; it applies to --method gas, graphfm, lmc, "
     "mvsgnn, refresh, rest, s3, sat, visagnn-cat, visagnn-sum, vrgcn"),
    (["--method", "gcn", "--history-dtype", "float16"],
     "--history-dtype does not apply to --method gcn; it applies to --method gas, graphfm"),
    (["--method", "sgc", "--no-refresh-histories"],
     "--no-refresh-histories does not apply to --method sgc; it applies to --method gas"),
    (["--method", "sage", "--num-parts", "8"],
     "--num-parts does not apply to --method sage; it applies to --method clustergcn, gas"),
    (["--method", "sgc", "--backbone", "gcn"],
     "--backbone does not apply to --method sgc; it applies to --method clustergcn, gas, graphfm"),
    (["--method", "mvsgnn", "--backbone", "gat"],
     "--backbone must be one of ('gcn',) for --method mvsgnn (the layers it builds), got 'gat'"),
    (["--method", "vrgcn", "--backbone", "gat"], "--backbone must be one of ('gcn',)"),
    (["--method", "visagnn-sum", "--backbone", "gcn"], "--backbone must be one of ('gat',)"),
])
def test_settings_of_another_family_name_the_flag_and_its_methods(arguments, message, capsys):
    assert message in error_of(["--dataset", "cora", *arguments], capsys)


def test_foreign_options_are_spelled_as_the_parser_spells_them(capsys):
    err = error_of(["--method", "lmc", "--no-attention"], capsys)
    assert "--no-attention are not options of --method lmc; its options are: --beta, --score" in err
    err = error_of(["--method", "visagnn-sum", "--momentum", "0.1"], capsys)
    assert "--momentum are not options of --method visagnn-sum; its options are: " in err
    assert "--no-attention, --no-augment, --no-beta-decay, --persistence-threshold" in err
    assert not re.search(r" --(attention|augment|beta-decay)\b", err)


def test_a_pt_file_that_is_not_a_graph_names_the_flag(tmp_path, capsys):
    for name, content in (("text.pt", b"hello, not a pickle\n"), ("noise.pt", bytes(range(256)))):
        (tmp_path / name).write_bytes(content)
        err = error_of(["--dataset", str(tmp_path / name)], capsys)
        path = tmp_path / name
        assert f"--dataset {path}: {path} is truncated or is not a graph saved with torch.save" \
            in err


def test_an_unknown_dataset_lists_the_valid_names(tmp_path, capsys):
    err = error_of(["--dataset", "coraa", "--root", str(tmp_path)], capsys)
    assert "--dataset coraa: unknown dataset 'coraa'; valid names: synthetic, cora" in err


def test_help_shows_each_default_once_and_shared_options_under_every_taker():
    help_text = " ".join(build_parser("run")._subparsers._group_actions[0]
                         .choices["run"].format_help().split())
    assert not re.search(r"\(default: [^)]*\) \(default:", help_text)
    assert "(default: None)" not in help_text and "(default: False)" not in help_text
    assert help_text.count("(default: gas)") == 1
    assert "options of --method visagnn-cat, visagnn-sum: --no-attention" in help_text
    assert "--lam LAM weight λ of the staleness loss (eq. 9) (default: 0.5)" in help_text
    assert "--threads THREADS torch CPU threads (default: 1" in help_text


def test_threads_sets_torchs_threads(tmp_path, capsys):
    before = torch.get_num_threads()
    try:
        main(["run", "--threads", "1", "--epochs", "1", "--num-parts", "4", "--batch-parts",
              "2", "--hidden-channels", "4", "--heads", "1", "--quiet"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert '"status": "ok"' in capsys.readouterr().out.splitlines()[-1]


def test_no_traceback_from_the_command_line(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a pickle")
    completed = subprocess.run(
        [sys.executable, "-m", "visagnn", "run", "--dataset", str(tmp_path / "bad.pt")],
        capture_output=True, text=True, cwd=REPO, check=False)
    assert completed.returncode == 2 and "Traceback" not in completed.stderr
