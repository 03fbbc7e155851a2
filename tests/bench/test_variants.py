import pytest

from visagnn.bench.grid import Study
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
    assert variant.options["attention"] is True and variant.options["lam"] == 0.3


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
