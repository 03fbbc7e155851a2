"""The method registry, and the run settings and options of a method on a dataset."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from visagnn.config import RUN_CONFIG_FIELDS, RunConfig
from visagnn.datasets import GraphDataset
from visagnn.defaults import dataset_defaults, method_defaults
from visagnn.methods.base import Method

METHODS: dict[str, type[Method]] = {}


def register_method(cls: type[Method]) -> type[Method]:
    """Class decorator adding ``cls`` to :data:`METHODS` under ``cls.name``."""
    if cls.name in METHODS:
        raise ValueError(f"method {cls.name!r} is registered twice")
    METHODS[cls.name] = cls
    return cls


def method_class(name: str) -> type[Method]:
    """The method registered as ``name``; unknown names fail with the valid choices."""
    try:
        return METHODS[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; valid methods: {sorted(METHODS)}") from None


def make_options(name: str, values: dict[str, Any] | None = None,
                 dataset: str | None = None) -> Any:
    """The options of method ``name`` from ``values``; unknown keys fail with the valid keys.

    With ``dataset``, an option that ``values`` leave unset or at ``None`` takes the method's
    value for the dataset in :data:`visagnn.defaults.DEFAULTS` where there is one (e.g.
    GraphFM's momentum).
    """
    options_class = method_class(name).options_class
    values = dict(values or {})
    valid = [field.name for field in fields(options_class)]
    unknown = sorted(set(values) - set(valid))
    if unknown:
        raise ValueError(
            f"{unknown} are not options of method {name!r}; its options are: {valid or 'none'}"
        )
    if dataset is not None:
        table = method_defaults(dataset, name)
        for option in valid:
            if values.get(option) is None and option in table:
                values[option] = table[option]
    return options_class(**values)


def create_method(
    dataset: GraphDataset, config: RunConfig, options: dict[str, Any] | None = None
) -> Method:
    """Instantiate ``config.method`` on ``dataset``."""
    options_object = make_options(config.method, options, config.dataset)
    return method_class(config.method)(dataset, config, options_object)


def resolve_config(dataset: str, method: str = "gas", **overrides: Any) -> RunConfig:
    """``RunConfig``'s defaults, then the dataset's (:mod:`visagnn.defaults`), then the method's
    own for the dataset (e.g. GCN's hidden width 16 on Cora), then ``overrides`` (``None`` =
    unset)."""
    unknown = sorted(set(overrides) - set(RUN_CONFIG_FIELDS))
    if unknown:
        raise TypeError(f"unknown RunConfig fields {unknown}; valid: {list(RUN_CONFIG_FIELDS)}")
    chosen = {key: value for key, value in overrides.items() if value is not None}
    own = method_defaults(dataset, method) if method in METHODS else {}
    own = {key: value for key, value in own.items() if key in RUN_CONFIG_FIELDS}
    return replace(RunConfig(dataset=dataset, method=method),
                   **{**dataset_defaults(dataset), **own, **chosen})
