"""The staleness map's grid, the reference grid's map, λ study and heavy cells, and the cost
estimate (tests/bench/test_grid.py has the other grids)."""

from collections import Counter

import pytest
import torch

from tests.bench.conftest import fake_result
from tests.bench.mapstore import add_final, add_run
from visagnn.bench import report, tables
from visagnn.bench.cost import grid_cost
from visagnn.bench.grid import (
    MAP_VARIANTS,
    PAPER_FORM,
    TABLE6_LAMBDAS,
    Cell,
    ReferenceBudget,
    locality_graph,
    map_grid,
    mapped_heavy_cells,
    merge_cells,
    reference_grid,
)
from visagnn.bench.store import ResultsStore

SMALL = {"cora": ReferenceBudget(6, 4, seeds=2, map_seeds=1)}


def test_map_grid_has_every_depth_staleness_and_more_parts_on_the_larger_graphs():
    grid = map_grid(datasets=["cora", "amazon-computers"])
    runs = grid.runs()
    assert Counter(spec.dataset for spec in runs) == {"cora": 81, "amazon-computers": 162}
    cora = {(spec.config.num_layers, spec.config.num_parts, spec.config.batch_parts)
            for spec in runs if spec.dataset == "cora"}
    assert cora == {(depth, 80, batch) for depth in (2, 3, 4) for batch in (1, 4, 10)}
    assert {spec.variant.spec for spec in runs} == set(MAP_VARIANTS)
    assert {spec.config.seed for spec in runs} == {0, 1, 2}
    assert {spec.config.epochs for spec in runs if spec.dataset == "cora"} == {60}
    names = [cell.name for cell in grid.cells]
    assert "cora_P80_B1" in names and "cora_P80_B1_L3" in names  # the default depth: no suffix
    assert "amazon-computers_P160_B10_L4" in names and len(set(names)) == len(names)


def test_the_locality_graph_is_written_once_and_mapped_like_any_graph(tmp_path, monkeypatch):
    monkeypatch.setenv("VISAGNN_CACHE", str(tmp_path))
    path = locality_graph(2_000)
    data = torch.load(path, weights_only=False)
    assert data.num_nodes == 2_000 and data.x.shape[1] == 100 and int(data.y.max()) == 46
    first = path.read_bytes()
    path.unlink()
    assert locality_graph(2_000).read_bytes() == first  # the same graph, the same run keys
    grid = map_grid(datasets=[str(path)], seeds=1, epochs=2)
    assert len(grid.runs()) == 27 and {spec.config.epochs for spec in grid.runs()} == {2}


def test_reference_grid_adds_the_map_and_the_papers_lambda_study_in_the_staleness_cells():
    grid = reference_grid(datasets=["cora"], budgets=SMALL, heavy_from=None)
    by_name = {cell.name: cell for cell in grid.cells}
    light, heavy = by_name["cora_P80_B10"], by_name["cora_P80_B1"]
    # the map's cells at the staleness studies' settings are theirs, at their seeds
    assert set(MAP_VARIANTS) <= set(heavy.methods) and heavy.seeds == (0, 1)
    assert by_name["cora_P80_B4_L3"].seeds == (0,) and by_name["cora_P80_B4"].epochs == 4
    assert light.epochs == 6 and by_name["cora_P80_B10_L4"].epochs == 6
    swept = [spec for spec in light.methods if "--lam" in spec]
    assert len(swept) == len(TABLE6_LAMBDAS) - 1  # λ's default is the paper form's own run
    assert all(PAPER_FORM.split()[1] in spec and "--loss-target train" in spec for spec in swept)
    assert len({cell.name for cell in grid.cells}) == len(grid.cells)


def test_merged_cells_unite_variants_and_seeds_of_one_setting():
    one = Cell("cora", 1, ("gas", "sat"), (0, 1, 2, 3, 4), num_parts=80, epochs=6)
    two = Cell("cora", 1, ("gas", ORACLE := "gas --exact-halo"), (0, 1, 2), num_parts=80,
               epochs=6)
    other = Cell("cora", 1, ("gas",), (0,), num_parts=80, epochs=7)
    (merged, kept) = merge_cells([one, two, other])
    assert merged.methods == ("gas", "sat", ORACLE) and merged.seeds == (0, 1, 2, 3, 4)
    assert kept == other


def _full_map(store: ResultsStore, dataset: str, heavy: tuple[int, int]) -> None:
    for depth in (2, 3, 4):
        for batch in (1, 4, 10):
            gain = 0.02 if (depth, batch) == heavy else 0.0
            add_final(store, dataset, "gas", depth, batch, [0.70, 0.71, 0.72])
            add_final(store, dataset, "gas --exact-halo", depth, batch,
                      [0.70 + gain, 0.72 + gain, 0.71 + gain])


def test_the_reference_runs_its_heavy_study_at_the_maps_heavy_cells(tmp_path):
    store = ResultsStore(tmp_path)
    _full_map(store, "cora", heavy=(4, 4))
    add_final(store, "citeseer", "gas", 2, 1, [0.6, 0.61, 0.62])  # not mapped: B=1 stays
    add_final(store, "citeseer", "gas --exact-halo", 2, 1, [0.62, 0.63, 0.64])
    assert mapped_heavy_cells(tmp_path) == {"cora": [(4, 80, 4)]}
    budgets = {**SMALL, "citeseer": SMALL["cora"]}
    grid = reference_grid(budgets=budgets, heavy_from=tmp_path)
    by_name = {cell.name: cell for cell in grid.cells}
    assert "visagnn-sum --no-attention" in by_name["cora_P80_B4_L4"].methods
    assert "visagnn-sum --no-attention" in by_name["cora_P80_B1"].methods  # B=1 stays
    assert "visagnn-sum --no-attention" in by_name["citeseer_P80_B1"].methods


def test_a_budgets_map_at_fewer_batch_sizes_is_whole_without_the_others(tmp_path):
    store = ResultsStore(tmp_path)
    _full_map(store, "cora", heavy=(3, 10))
    two_sizes = {"cora": ReferenceBudget(6, 4, seeds=2, map_seeds=1, map_batch_parts=(1, 10))}
    assert two_sizes["cora"].planned_map_cells() == {(d, 80, b) for d in (2, 3, 4)
                                                     for b in (1, 10)}
    grid = reference_grid(budgets=two_sizes, heavy_from=tmp_path)
    assert {cell.batch_parts for cell in grid.cells} == {1, 10}
    by_name = {cell.name: cell for cell in grid.cells}
    assert "visagnn-sum --no-attention" in by_name["cora_P80_B10_L3"].methods
    partial = ResultsStore(tmp_path / "partial")
    add_final(partial, "cora", "gas", 3, 1, [0.7, 0.71, 0.72])
    assert mapped_heavy_cells(tmp_path / "partial", two_sizes) == {}


def test_a_map_is_whole_only_at_its_budgets_seeds_and_a_budget_chooses_its_studies(tmp_path):
    store = ResultsStore(tmp_path)
    for batch in (1, 10):
        add_final(store, "cora", "gas", 2, batch, [0.70, 0.71])
        add_final(store, "cora", "gas --exact-halo", 2, batch, [0.73, 0.74])  # 2 seeds, heavy
    only_two = {"cora": ReferenceBudget(6, 4, map_depths=(2,), map_batch_parts=(1, 10))}
    assert mapped_heavy_cells(tmp_path, only_two) == {}  # 2 of its 3 map seeds: still running
    add_run(store, "cora", "gas", 2, 2, 1, [0.5], [0.72])
    add_run(store, "cora", "gas --exact-halo", 2, 2, 1, [0.5], [0.75])
    assert mapped_heavy_cells(tmp_path, only_two) == {}  # B=10 has two seeds
    add_run(store, "cora", "gas", 2, 2, 10, [0.5], [0.72])
    add_run(store, "cora", "gas --exact-halo", 2, 2, 10, [0.5], [0.75])
    assert mapped_heavy_cells(tmp_path, only_two) == {"cora": [(2, 80, 1), (2, 80, 10)]}
    # a map-only budget: the map's two cells, no staleness study, Table 1 or λ
    map_only = {"cora": ReferenceBudget(6, 4, seeds=2, with_light=False, with_heavy=False,
                                        with_table1=False, with_lambda=False,
                                        map_depths=(2,), map_batch_parts=(1, 10))}
    grid = reference_grid(budgets=map_only, heavy_from=tmp_path)
    assert [(cell.batch_parts, cell.methods, cell.seeds) for cell in grid.cells] == [
        (1, MAP_VARIANTS, (0, 1, 2)), (10, MAP_VARIANTS, (0, 1, 2))]
    with pytest.raises(ValueError, match="with_table1 and with_lambda need with_light"):
        ReferenceBudget(6, 4, with_light=False)


def test_the_cost_counts_new_runs_and_estimates_them_from_measured_epochs(tmp_path):
    store = ResultsStore(tmp_path)
    # GAS measured at 2 layers, B=1 and B=10, 1 s per epoch (add_run's default)
    add_run(store, "cora", "gas", 0, 2, 1, [0.5, 0.6], [0.5, 0.6])
    add_run(store, "cora", "gas", 0, 2, 10, [0.5, 0.6], [0.5, 0.6])
    grid = map_grid(datasets=["cora"], seeds=1, epochs=2, methods=["gas"])
    cost = grid_cost(grid, tmp_path).loc["cora"]
    # the map measures staleness, so no run is stored yet; 9 GAS runs at depth L take
    # 2 epochs × 1 s × L / 2 (the nearest B in log B: 4 is nearer 10 than 1); the oracle's 9
    # runs are not measured
    assert cost["runs"] == 18 and cost["new"] == 18 and cost["unknown"] == 9
    assert cost["core_hours"] == pytest.approx(3 * 2 * (1 + 1.5 + 2) / 3600)
    (stored,) = [spec for spec in grid.runs() if spec.variant.spec == "gas"
                 and spec.config.num_layers == 3 and spec.config.batch_parts == 4]
    store.record(stored, fake_result(stored))
    assert grid_cost(grid, tmp_path).loc["cora", "new"] == 17


def test_the_lambda_table_renders_the_paper_forms_sweep_from_stored_runs(tmp_path):
    store = ResultsStore(tmp_path)
    paper = f"visagnn-sum {PAPER_FORM}"
    for lam, score in zip(TABLE6_LAMBDAS, (0.70, 0.72, 0.74, 0.71), strict=True):
        add_final(store, "cora", f"{paper} --lam {lam}", 2, 10, [score, score + 0.01])
    text = tables.sweep_table(report.load(tmp_path)).data
    assert list(text.index) == [(paper, "lam", f"{lam:g}") for lam in TABLE6_LAMBDAS]
    assert text.iloc[:, 0].tolist() == ["70.5 ± 0.7", "72.5 ± 0.7", "74.5 ± 0.7", "71.5 ± 0.7"]
