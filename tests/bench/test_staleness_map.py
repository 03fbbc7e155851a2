import math

import pytest

from tests.bench.mapstore import write_map_store
from visagnn.bench import figures, report, tables
from visagnn.bench.staleness_map import (
    gain_text,
    heavy_cells,
    heavy_summary,
    share_text,
    staleness_map,
)


@pytest.fixture(scope="module")
def map_data(tmp_path_factory):
    return report.load(write_map_store(tmp_path_factory.mktemp("map")).folder)


def test_gain_std_and_share_are_those_of_the_per_seed_differences(map_data):
    mapped = staleness_map(map_data.runs).set_index(["dataset", "num_layers", "num_parts",
                                                     "batch_parts"])
    heavy = mapped.loc[("cora", 3, 80, 1)]
    # oracle − GAS per seed: 2, 1.5, 2 → mean 11/6, std sqrt(1/12); VISAGNN − GAS: 1, 0.5, 1
    assert heavy["gain"] == pytest.approx(11 / 6)
    assert heavy["gain_std"] == pytest.approx(math.sqrt(1 / 12))
    assert heavy["share"] == pytest.approx((5 / 6) / (11 / 6))
    assert heavy["heavy"] and heavy["seeds"] == 3
    noisy = mapped.loc[("cora", 2, 80, 10)]
    # 1, -1, 1: mean 1/3 below its std 2/sqrt(3), so no share though VISAGNN gains 2
    assert noisy["gain"] == pytest.approx(1 / 3) and noisy["gain_std"] == pytest.approx(
        2 / math.sqrt(3))
    assert not noisy["heavy"] and math.isnan(noisy["share"])


def test_the_map_table_prints_the_gain_and_share_it_computes(map_data):
    cora, citeseer = tables.map_tables(map_data)
    text = cora.data
    assert list(text.index) == [(2, 80, 10), (3, 80, 1)]
    assert text.loc[(3, 80, 1), "oracle's gain"] == "+1.8 ± 0.3"
    assert text.loc[(3, 80, 1), "VISAGNN-Sum's share"] == "45 %"
    assert text.loc[(3, 80, 1), "heavy"] == "heavy"
    assert text.loc[(3, 80, 1), "GAS (%)"] == "71.0 ± 1.0"
    assert text.loc[(2, 80, 10), "oracle's gain"] == "+0.3 ± 1.2"
    assert text.loc[(2, 80, 10), "VISAGNN-Sum's share"] == "—"
    assert text.loc[(2, 80, 10), "heavy"] == ""
    assert citeseer.data.loc[(2, 80, 1), "VISAGNN-Sum (%)"] == "—"  # it did not run there
    assert gain_text(1.0, math.nan) == "+1.0 ± —" and share_text(math.nan) == "—"


def test_heavy_cells_are_those_whose_gain_exceeds_its_std(map_data):
    cells = heavy_cells(map_data.runs)
    assert cells.to_dict("records") == [{"dataset": "cora", "num_layers": 3, "num_parts": 80,
                                         "batch_parts": 1}]


def test_the_report_section_names_heavy_cells_or_says_there_are_none(map_data):
    text = heavy_summary(map_data.runs)
    cora, citeseer = text.split("\n\n")
    assert "**cora**" in cora and "1 of 2" in cora
    assert "3 layers, P=80, B=1 (+1.8 ± 0.3, VISAGNN-Sum 45 %)" in cora
    # CiteSeer: differences 0, 1, -1, a gain of 0 ± 1
    assert citeseer == ("On **citeseer** the oracle gains more than one standard deviation "
                        "over GAS in none of the 1 cells of the map: staleness does not limit "
                        "the test score there.")
    heatmaps = figures.map_heatmaps(map_data)
    assert [figure.get_suptitle() for figure in heatmaps] == [
        "Staleness map of cora: the oracle's gain over GAS",
        "Staleness map of citeseer: the oracle's gain over GAS"]
    # the heavy cell is framed; the other cells show gain and share
    cora_axis = heatmaps[0].axes[0]
    assert len(cora_axis.patches) == 1
    assert {t.get_text() for t in cora_axis.texts} == {"+1.8 ± 0.3\n45 %", "+0.3 ± 1.2\n—"}
    assert heavy_summary(map_data.runs.iloc[:0]) == "*No results for this yet.*"
