import pytest

from visagnn.methods import METHODS, make_options, method_class, register_method
from visagnn.methods.gas import GAS


def test_every_method_is_registered_under_its_name():
    assert {name for name, cls in METHODS.items() if cls.name == name} == set(METHODS)
    assert method_class("gas") is GAS


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown method 'gass'; valid methods: .*'gas'"):
        method_class("gass")


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        register_method(type("Again", (GAS,), {"name": "gas"}))


def test_unknown_options_list_the_valid_ones():
    with pytest.raises(ValueError, match=r"\['momentun'\] are not options of method 'graphfm'"):
        make_options("graphfm", {"momentun": 0.5})
    with pytest.raises(ValueError, match="its options are: none"):
        make_options("gas", {"lam": 0.5})
