"""The method registry, and the run settings and options of a method on a dataset."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any

from visagnn.config import LAYER_SETTINGS, RUN_CONFIG_FIELDS, SETTING_FAMILIES, RunConfig
from visagnn.datasets import DATASET_NAMES, GraphDataset
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
    FastGCN's batch size on Cora); without, the options class's default.
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


def applicable_settings(method: str) -> tuple[str, ...]:
    """The :class:`~visagnn.config.RunConfig` fields that apply to ``method``: every field but
    those of the setting families it does not take, ``backbone`` where its layers are its own
    and the layer settings where it has no hidden layers (:class:`~visagnn.methods.base.Method`)."""
    cls = method_class(method)
    foreign = {name for family, names in SETTING_FAMILIES.items()
               if family not in cls.setting_families for name in names}
    if not cls.backbones:
        foreign.add("backbone")
    if not cls.hidden_layers:
        foreign.update(LAYER_SETTINGS)
    return tuple(name for name in RUN_CONFIG_FIELDS if name not in foreign)


def setting_methods(name: str) -> list[str]:
    """The registered methods that ``RunConfig`` field ``name`` applies to."""
    return [method for method in sorted(METHODS) if name in applicable_settings(method)]


def check_settings(method: str, names: Iterable[str]) -> None:
    """Fail unless every ``RunConfig`` field of ``names`` applies to ``method``, naming the first
    that does not and the methods it applies to (:func:`applicable_settings`)."""
    applicable = applicable_settings(method)
    for name in names:
        if name not in applicable:
            raise ValueError(f"RunConfig.{name} does not apply to --method {method}; it applies "
                             f"to --method {', '.join(setting_methods(name))}")


def width_is_per_head(method: str, backbone: str) -> bool:
    """Whether ``hidden_channels`` is a width per attention head for ``method`` (its layers are
    GAT layers: the ``backbone`` it builds, or its own) rather than a layer's whole width."""
    cls = method_class(method)
    return backbone == "gat" if cls.backbones else cls.per_head_width


def _layer_defaults(dataset: str, method: str, backbone: str,
                    own: dict[str, Any]) -> dict[str, Any]:
    """The width of a method whose layers have no heads and whose blocks give none: the
    dataset's ``hidden_channels × heads`` (:mod:`visagnn.defaults`)."""
    cls = method_class(method)
    if width_is_per_head(method, backbone) or not cls.hidden_layers or "hidden_channels" in own:
        return {}
    run = {"hidden_channels": RunConfig.hidden_channels, "heads": RunConfig.heads,
           **dataset_defaults(dataset)}
    return {"hidden_channels": run["hidden_channels"] * run["heads"]}


def canonical_dataset(dataset: str) -> str:
    """A dataset name in lowercase (its identity); a ``.pt`` path as given."""
    return dataset.lower() if dataset.lower() in DATASET_NAMES else dataset


def resolve_config(dataset: str, method: str = "gas", shared: dict[str, Any] | None = None,
                   **overrides: Any) -> RunConfig:
    """The run settings of ``method`` on ``dataset``: ``RunConfig``'s defaults, then the
    dataset's (:mod:`visagnn.defaults`), then the method's own for the dataset (e.g. GCN's
    hidden width 16 on Cora; the first of its :attr:`~Method.backbones`; the width its layers
    take), then ``shared`` (settings of every run of a benchmark, kept where they do not apply),
    then ``overrides`` (a user's; ``None`` = unset). ``dataset`` is named in lowercase.

    Raises:
        ValueError: for an override that does not apply to ``method``
            (:func:`applicable_settings`), naming the methods it applies to, or a backbone
            the method does not build; TypeError for a name that is not a ``RunConfig`` field.
    """
    unknown = sorted((set(overrides) | set(shared or {})) - set(RUN_CONFIG_FIELDS))
    if unknown:
        raise TypeError(f"unknown RunConfig fields {unknown}; valid: {list(RUN_CONFIG_FIELDS)}")
    chosen = {key: value for key, value in overrides.items() if value is not None}
    given = {key: value for key, value in (shared or {}).items() if value is not None}
    cls = method_class(method)
    check_settings(method, chosen)
    own = {key: value for key, value in method_defaults(dataset, method).items()
           if key in RUN_CONFIG_FIELDS}
    values = {**dataset_defaults(dataset), **own}
    backbone = chosen.get("backbone", values.get("backbone", RunConfig.backbone))
    if cls.backbones and backbone not in cls.backbones:
        if "backbone" in chosen:
            raise ValueError(f"RunConfig.backbone must be one of {cls.backbones} for --method "
                             f"{method} (the layers it builds), got {backbone!r}")
        backbone = values["backbone"] = cls.backbones[0]
    values.update(_layer_defaults(dataset, method, backbone, own))
    return replace(RunConfig(dataset=canonical_dataset(dataset), method=method),
                   **{**values, **given, **chosen})
