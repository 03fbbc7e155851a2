from dataclasses import asdict

import pytest

from visagnn.bench.grid import (
    HEAVY_STALENESS_VARIANTS,
    ORACLE,
    STALENESS_MEASURED_EVERY,
    TABLE1_METHODS,
    TABLE4_VARIANTS,
    TABLE5_BATCH_PARTS,
    TABLE6_LAMBDAS,
    Study,
    build_grid,
    demo_grid,
    paper_grid,
    reference_grid,
)
from visagnn.cli import build_parser
from visagnn.defaults import DEFAULTS, EVERY, method_defaults
from visagnn.methods import METHODS
from visagnn.run.command import split_arguments


def test_paper_grid_has_the_papers_datasets_batch_sizes_and_every_method():
    grid = paper_grid()
    assert {cell.dataset for cell in grid.cells} == {"reddit", "ogbn-arxiv", "ogbn-products",
                                                     "ogbn-papers100m"}
    for dataset, batch_parts in TABLE5_BATCH_PARTS.items():
        assert sorted(c.batch_parts for c in grid.cells if c.dataset == dataset) == list(
            batch_parts)
    arxiv = next(c for c in grid.cells if c.dataset == "ogbn-arxiv" and c.batch_parts == 20)
    assert set(TABLE1_METHODS) <= set(arxiv.methods) <= set(TABLE1_METHODS) | {
        *TABLE4_VARIANTS,
        *(f"visagnn-sum --loss --lam {lam}" for lam in TABLE6_LAMBDAS if lam != 0.5)}
    assert set(TABLE1_METHODS) <= set(METHODS)
    assert all(cell.seeds == (0, 1, 2, 3, 4) for cell in grid.cells)
    small = next(c for c in grid.cells if c.dataset == "ogbn-arxiv" and c.batch_parts == 5)
    assert small.methods == ("gas", "graphfm", "lmc", "visagnn-sum")


def test_grid_arguments_choose_datasets_methods_seeds_epochs_device():
    grid = paper_grid(datasets=["cora"], seeds=2, epochs=3, methods=["gas"])
    assert [(c.dataset, c.batch_parts, c.methods) for c in grid.cells] == [
        ("cora", 2, ("gas",)), ("cora", 5, ("gas",)), ("cora", 10, ("gas",))]
    assert {spec.config.epochs for spec in grid.runs()} == {3}
    assert len(grid.runs()) == 6


def test_unknown_methods_fail_with_the_valid_choices():
    with pytest.raises(ValueError, match=r"unknown method\(s\) \['nope'\]; valid methods"):
        paper_grid(methods=["nope"])


def test_demo_runs_on_the_synthetic_graph_and_adds_real_data_it_finds(tmp_path):
    grid = demo_grid(root=str(tmp_path))  # an empty data root: synthetic only
    assert {cell.dataset for cell in grid.cells} == {"synthetic"}
    assert {cell.batch_parts for cell in grid.cells} == {5, 10}
    runs = grid.runs()
    assert {spec.config.measure_staleness_every for spec in runs} == {2}
    assert {spec.variant.method for spec in runs} == set(TABLE1_METHODS)
    named = demo_grid(datasets=["cora"], epochs=2, seeds=1)
    assert [(c.dataset, c.epochs, c.seeds) for c in named.cells] == [("cora", 2, (0,))]


def test_reference_grid_compares_every_method_at_light_and_staleness_variants_at_both():
    grid = reference_grid(datasets=["synthetic", "tolokers"])
    by_name = {cell.name: cell for cell in grid.cells}
    light, heavy = by_name["synthetic_P80_B10"], by_name["synthetic_P80_B1"]
    assert set(TABLE1_METHODS) | {ORACLE, "gas --no-refresh-histories"} <= set(light.methods)
    assert set(HEAVY_STALENESS_VARIANTS) == set(heavy.methods)
    assert not set(TABLE1_METHODS) - {"gas", "sat", "rest", "visagnn-sum"} & set(heavy.methods)
    assert {"s3 --no-refresh-histories", "sat", "rest"} <= set(light.methods) & set(heavy.methods)
    runs = grid.runs()
    assert {spec.config.measure_staleness_every for spec in runs} == {STALENESS_MEASURED_EVERY}
    oracle = [spec for spec in runs if spec.variant.spec == ORACLE]
    assert oracle and all(spec.config.exact_halo for spec in oracle)
    # Tolokers has its own budget, the synthetic graph Cora's
    assert by_name["tolokers_P80_B1"].epochs == 20 and heavy.epochs == 60
    assert heavy.seeds == (0, 1, 2)
    assert reference_grid(datasets=["tolokers"], seeds=2).cells[0].seeds == (0, 1)


OWN_BLOCKS = sorted({(dataset, method) for dataset, blocks in DEFAULTS.items()
                     if dataset != EVERY for method in blocks if method != EVERY}
                    | {("synthetic", method) for method in DEFAULTS[EVERY]})
"""Every (dataset, method) pair that :mod:`visagnn.defaults` gives a block of its own."""


@pytest.mark.parametrize("dataset, method", OWN_BLOCKS)
def test_a_grid_trains_what_run_resolves_for_every_own_block(dataset, method):
    (spec,) = build_grid("own", {dataset: (Study("own", (method,)),)}, seeds=(0,)).runs()
    args = build_parser("run").parse_args(["run", "--dataset", dataset, "--method", method])
    config, options = split_arguments(args)
    assert spec.config == config
    assert spec.options == options
    for name, value in method_defaults(dataset, method).items():
        assert (options if name in options else asdict(config))[name] == value


def test_fastgcn_on_cora_runs_the_official_batches_in_a_grid():
    (spec,) = build_grid("own", {"cora": (Study("own", ("fastgcn",)),)}, seeds=(0,)).runs()
    assert spec.options["batch_size"] == 1024 and spec.config.hidden_channels == 16
    (spec,) = build_grid("own", {"cora": (Study("own", ("fastgcn --batch-size 256",)),)},
                         seeds=(0,)).runs()
    assert spec.variant.spec == "fastgcn --batch-size 256" and spec.options["batch_size"] == 256


def test_a_dataset_is_one_cell_whatever_its_spelling():
    upper, lower = (demo_grid(datasets=[name], seeds=1, methods=["gas"]) for name in
                    ("SYNTHETIC", "synthetic"))
    assert [spec.key for spec in upper.runs()] == [spec.key for spec in lower.runs()]
    assert [cell.name for cell in upper.cells] == [cell.name for cell in lower.cells]
