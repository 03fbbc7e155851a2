import pytest

from visagnn.bench.grid import Study
from visagnn.bench.spec import plan_runs
from visagnn.bench.variants import Sweep, Variant, expand_variants


@pytest.mark.parametrize("spec, canonical", [
    ("gas", "gas"),
    ("visagnn-sum --no-attention", "visagnn-sum --no-attention"),
    ("visagnn-sum --lam 0.5", "visagnn-sum"),  # restates the default
    ("visagnn-sum --lam 0.3 --loss", "visagnn-sum --loss --lam 0.3"),  # field order
])
def test_specs_are_canonical(spec, canonical):
    variant = Variant.parse(spec)
    assert variant.spec == canonical
    assert Variant.parse(variant.spec) == variant


def test_options_hold_every_field_and_changed_only_non_defaults():
    variant = Variant.parse("visagnn-sum --no-augment --lam 0.3")
    assert dict(variant.changed) == {"augment": False, "lam": 0.3}
    (run,) = plan_runs("synthetic", [variant.spec])
    assert run.options["attention"] is True and run.options["lam"] == 0.3


def test_unknown_method_lists_the_registered_ones():
    with pytest.raises(ValueError, match="valid methods.*'gas'"):
        Variant.parse("nope --loss")


@pytest.mark.parametrize("spec, message", [
    ("gas --lam 0.3", "unrecognized arguments: --lam 0.3"),
    ("visagnn-sum --lam high", "invalid float value"),
    ("visagnn-sum --criterion guess", "invalid choice"),
])
def test_bad_flags_name_the_method_flags(spec, message):
    with pytest.raises(ValueError, match=message) as error:
        Variant.parse(spec)
    assert "usage:" in str(error.value)


def test_a_sweep_multiplies_the_methods_with_the_option_only():
    specs = [v.spec for v in expand_variants(
        ["gas", "visagnn-sum", "visagnn-sum --lam 0.1", "visagnn-cat --lam 0.0"],
        Sweep("lam", (0.0, 0.5)))]
    assert specs == ["gas", "visagnn-sum --lam 0.0", "visagnn-sum", "visagnn-sum --lam 0.1",
                     "visagnn-cat --lam 0.0"]
    momentum = [v.spec for v in expand_variants(["gas", "graphfm"], Sweep("momentum", (0.5,)))]
    assert momentum == ["gas", "graphfm --momentum 0.5"]


def test_a_sweep_is_checked_against_the_methods_registered_options():
    with pytest.raises(ValueError, match=r"no method of \['gas', 'sage'\] has the option 'lam' "
                                         r"to sweep; their options: \['batch_size', 'fanouts'\]"):
        Sweep("lam", (0.1,)).check(["gas", "sage"])
    with pytest.raises(ValueError, match="VisagnnOptions.lam must be >= 0"):
        expand_variants(["visagnn-sum"], Sweep("lam", (-1.0,)))
    with pytest.raises(ValueError, match="has the option 'lam'"):
        Study("λ", ("gas",), sweep=Sweep("lam", (0.1,)))


def test_an_integer_for_a_float_option_is_the_same_variant():
    assert Variant.of("visagnn-sum", {"lam": 0}) == Variant.parse("visagnn-sum --lam 0.0")


@pytest.mark.parametrize("spec, canonical, settings", [
    ("gas --exact-halo", "gas --exact-halo", {"exact_halo": True}),
    ("gas --no-refresh-histories", "gas --no-refresh-histories", {"refresh_histories": False}),
    ("visagnn-sum --exact-halo --no-attention", "visagnn-sum --no-attention --exact-halo",
     {"exact_halo": True}),
    ("gas --push-rows train", "gas", {}),  # restates RunConfig's default
])
def test_run_settings_are_spelled_after_the_options(spec, canonical, settings):
    variant = Variant.parse(spec)
    assert variant.spec == canonical and dict(variant.settings) == settings
    assert Variant.parse(variant.spec) == variant


def test_a_planned_run_takes_its_variants_settings_and_they_change_its_key():
    oracle, gas = plan_runs("synthetic", ["gas --exact-halo", "gas"])
    assert oracle.config.exact_halo and not gas.config.exact_halo
    assert oracle.options == gas.options and oracle.key != gas.key


def test_only_run_settings_may_be_set_by_a_variant():
    with pytest.raises(ValueError, match=r"\['epochs'\] are not run settings.*'exact_halo'"):
        Variant.of("gas", settings={"epochs": 3})
    with pytest.raises(ValueError, match="unrecognized arguments: --epochs 3"):
        Variant.parse("gas --epochs 3")
    with pytest.raises(ValueError, match=r"RunConfig.exact_halo does not apply to --method sage; "
                                         r"it applies to --method gas, graphfm"):
        Variant.parse("sage --exact-halo")
