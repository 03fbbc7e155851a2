import pytest

from visagnn.bench.spec import dataset_label, plan_runs


def test_plan_orders_batch_sizes_then_variants_then_seeds():
    specs = plan_runs("cora", ["gas", "visagnn-sum --loss"], batch_parts=[5, 10],
                      seeds=[0, 1], epochs=3)
    assert [(s.config.batch_parts, s.variant.spec, s.config.seed) for s in specs][:3] == [
        (5, "gas", 0), (5, "gas", 1), (5, "visagnn-sum --loss", 0)]
    assert len(specs) == 8 and len({s.key for s in specs}) == 8
    assert specs[0].config.num_parts == 40 and specs[0].config.epochs == 3  # cora defaults


def test_key_covers_the_run_and_ignores_the_data_root():
    (base,) = plan_runs("cora", ["gas"], epochs=3)
    (same,) = plan_runs("cora", ["gas"], epochs=3, root="/elsewhere")
    assert same.key == base.key and base.key.startswith("cora_gas_B10_s0_")
    changes = [plan_runs("cora", ["gas"], epochs=4), plan_runs("cora", ["gas"], seeds=[1],
               epochs=3), plan_runs("cora", ["gas"], batch_parts=[5], epochs=3),
               plan_runs("cora", ["gas"], num_parts=20, epochs=3),
               plan_runs("cora", ["gas"], epochs=3, config={"lr": 0.01}),
               plan_runs("citeseer", ["gas"], epochs=3)]
    assert len({base.key} | {specs[0].key for specs in changes}) == 1 + len(changes)
    (full,) = plan_runs("cora", ["visagnn-sum"], epochs=3)
    (ablated,) = plan_runs("cora", ["visagnn-sum --loss"], epochs=3)
    assert full.key != ablated.key


def test_invalid_configurations_fail_before_anything_runs():
    with pytest.raises(ValueError, match="batch_parts"):
        plan_runs("cora", ["gas"], batch_parts=[50])
    with pytest.raises(TypeError, match="unknown RunConfig fields"):
        plan_runs("cora", ["gas"], config={"hidden": 3})


def test_dataset_labels():
    assert dataset_label("Cora") == "cora"
    assert dataset_label("/data/My_Graph.pt") == "My_Graph"
