import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.datasets.test_heterophilous import write_tiny_heterophilous
from tests.datasets.test_ogbn import write_tiny_ogbn
from tests.datasets.test_planetoid import write_tiny_planetoid
from tests.datasets.test_reddit import write_tiny_reddit
from tests.graphs import write_community_graph
from visagnn.cli import build_parser, main
from visagnn.methods import METHODS
from visagnn.run.command import split_arguments

REPO = Path(__file__).parents[1]


def test_module_entry_point_prints_json_summary_last(tmp_path):
    graph = write_community_graph(tmp_path / "mine.pt")
    completed = subprocess.run(
        [sys.executable, "-m", "visagnn", "run", "--dataset", str(graph), "--method", "gas",
         "--epochs", "3", "--num-parts", "4", "--batch-parts", "2", "--root", str(tmp_path),
         "--out", str(tmp_path / "out"), "--quiet"],
        capture_output=True, text=True, cwd=REPO, check=True,
    )
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert summary["method"] == "gas" and summary["epochs"] == 3
    assert summary["num_parts"] == 4 and summary["batch_parts"] == 2
    assert (tmp_path / "out" / "summary.json").exists()


def test_unknown_method_lists_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "nope"])
    assert exit_info.value.code == 2
    assert "gas" in capsys.readouterr().err


def test_unknown_dataset_lists_valid_names(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--dataset", "not-a-graph", "--root", str(tmp_path), "--quiet"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "not-a-graph" in err and "cora" in err




TINY_FORMATS: dict[str, Callable[[Path], object]] = {
    "ogbn-arxiv": lambda root: write_tiny_ogbn(root, "ogbn-arxiv"),  # ogb's CSV layout
    "ogbn-papers100m": lambda root: write_tiny_ogbn(root, "ogbn-papers100m"),  # npz, NaN labels
    "pubmed": lambda root: write_tiny_planetoid(root / "PubMed" / "raw", "pubmed"),
    "reddit": lambda root: write_tiny_reddit(root / "Reddit" / "raw", num_nodes=24),
    "tolokers": lambda root: write_tiny_heterophilous(  # binary: ROC-AUC
        root / "tolokers" / "raw" / "tolokers.npz", num_classes=2),
}
"""One tiny graph in each on-disk format the loaders read."""


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny-formats")
    for write in TINY_FORMATS.values():
        write(root)
    return root


@pytest.mark.parametrize("dataset", sorted(TINY_FORMATS))
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_runs_on_every_dataset_format(tiny_root, dataset, method, capsys):
    parts = (["--num-parts", "4", "--batch-parts", "2"]
             if "partition" in METHODS[method].setting_families else [])
    main(["run", "--dataset", dataset, "--method", method, "--epochs", "2", *parts,
          "--root", str(tiny_root), "--quiet"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["dataset"], summary["method"], summary["status"]) == (dataset, method, "ok")
    assert summary["epochs"] == 2 and 0.0 <= summary["test"] <= 1.0
    assert math.isfinite(summary["mean_epoch_s"]) and summary["peak_mem_mb"] > 0


@pytest.mark.parametrize("argv, field, value", [
    (["--no-refresh-histories"], "refresh_histories", False),
    (["--no-download"], "download", False),
    (["--exact-halo"], "exact_halo", True),
    ([], "refresh_histories", True),
])
def test_run_switches_are_spelled_by_their_defaults(argv, field, value):
    args = build_parser("run").parse_args(["run", "--dataset", "cora", *argv])
    config, _ = split_arguments(args)
    assert getattr(config, field) is value
