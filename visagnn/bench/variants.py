"""What a benchmark run trains: a method and its options, written as on the command line.

A variant is spelled like the method's part of ``python -m visagnn run``: the method name, then
the flags of the options that differ from the method's defaults, e.g. ``"visagnn-sum"``,
``"visagnn-sum --no-attention"`` or ``"visagnn-sum --lam 0.3"``. Parsing reuses the command
line's flag rules (``--no-x`` for options that default to True, ``--x VALUE`` otherwise), and the
parsed variant is canonical: flags that restate a default the same on every dataset are dropped,
flags are in the order of the options' fields, so one run setting has one spelling (its
:attr:`Variant.spec`). A variant stores only what it changes; a run's options on a dataset are
resolved from it (:attr:`visagnn.bench.spec.RunSpec.options`), as ``python -m visagnn run``
resolves them.

A variant may also set the run settings of :data:`VARIANT_SETTINGS`, which change how a
historical method reads and writes its histories rather than the method: ``"gas --exact-halo"``
(the oracle) or ``"gas --no-refresh-histories"``; they are spelled after the method's flags,
and only methods they apply to take them (:func:`visagnn.methods.applicable_settings`).

A :class:`Sweep` runs one method option at several values (paper Table 6 sweeps VISAGNN's
``lam``); the option is checked against the methods' registered options
(:data:`visagnn.methods.METHODS`), so the harness names no method's options itself.
"""

from __future__ import annotations

import argparse
import shlex
import typing
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any, NamedTuple

from visagnn.config import SETTING_FAMILIES, RunConfig
from visagnn.defaults import varying_defaults
from visagnn.flags import add_option_argument, option_flag
from visagnn.methods import check_settings, make_options, method_class

VARIANT_SETTINGS = SETTING_FAMILIES["history"]
"""The :class:`~visagnn.config.RunConfig` fields a variant may set (:class:`Variant`): the
history family's (the grid sets the others for every run of a cell)."""


class _RaisingParser(argparse.ArgumentParser):
    """An argument parser whose errors are exceptions rather than a process exit."""

    def error(self, message: str) -> typing.NoReturn:
        raise ValueError(message)


def _option_parser(method: str) -> argparse.ArgumentParser:
    """A parser of ``method``'s option flags, by the rules of ``python -m visagnn run``."""
    options_class = method_class(method).options_class
    parser = _RaisingParser(prog=method, add_help=False)
    group = parser.add_argument_group(f"options of {method}")
    hints = typing.get_type_hints(options_class)
    for field in fields(options_class):
        add_option_argument(group, field.name, hints[field.name],
                            field.metadata.get("help", field.name), field.default, {})
    settings = parser.add_argument_group("run settings")
    for name, (annotation, default) in _setting_fields().items():
        add_option_argument(settings, name, annotation, name, default, {})
    return parser


def _setting_fields() -> dict[str, tuple[Any, Any]]:
    """Type and default of each :data:`VARIANT_SETTINGS` field."""
    hints = typing.get_type_hints(RunConfig)
    defaults = {field.name: field.default for field in fields(RunConfig)}
    return {name: (hints[name], defaults[name]) for name in VARIANT_SETTINGS}


@dataclass(frozen=True)
class Variant:
    """A registered method with the options that differ from its defaults.

    Args:
        method: a name in :data:`visagnn.methods.METHODS`.
        changed: ``(option, value)`` pairs that the spec sets, in field order, less those that
            restate a default the same on every dataset.
        settings: ``(field, value)`` pairs of :data:`VARIANT_SETTINGS` that differ from
            :class:`~visagnn.config.RunConfig`'s defaults, in that order.
    """

    method: str
    changed: tuple[tuple[str, Any], ...] = ()
    settings: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def parse(cls, spec: str) -> Variant:
        """The variant spelled ``spec`` (``"method [--flag [value]] ..."``).

        Raises:
            ValueError: for an unknown method (listing the valid ones) or an unknown or
                malformed flag (listing the method's flags).
        """
        tokens = shlex.split(spec)
        if not tokens:
            raise ValueError("empty method spec")
        method, flags = tokens[0], tokens[1:]
        parser = _option_parser(method)
        try:
            values = vars(parser.parse_args(flags))
        except ValueError as exc:
            usage = " ".join(parser.format_usage().split())
            raise ValueError(f"{spec!r}: {exc}; {usage}") from None
        settings = {name: values.pop(name) for name in VARIANT_SETTINGS if name in values}
        return cls.of(method, values, settings)

    @classmethod
    def of(cls, method: str, options: dict[str, Any] | None = None,
           settings: dict[str, Any] | None = None) -> Variant:
        """The variant of ``method`` with option values ``options`` (validated by the method)
        and run ``settings`` (fields of :data:`VARIANT_SETTINGS`, validated when a run is planned).

        Raises:
            ValueError: for a setting that is not one of :data:`VARIANT_SETTINGS`, or one that
                does not apply to the method (naming the methods it applies to).
        """
        hints = typing.get_type_hints(method_class(method).options_class)
        values = {name: float(value) if hints.get(name) is float and type(value) is int
                  else value for name, value in (options or {}).items()}  # λ=0 is λ=0.0
        resolved = asdict(make_options(method, values))
        defaults = asdict(method_class(method).options_class())
        varying = varying_defaults(method)
        changed = tuple((k, v) for k, v in resolved.items()
                        if k in values and (v != defaults[k] or k in varying))
        unknown = sorted(set(settings or {}) - set(VARIANT_SETTINGS))
        if unknown:
            raise ValueError(f"{unknown} are not run settings a variant may set; "
                             f"valid: {list(VARIANT_SETTINGS)}")
        setting_defaults = _setting_fields()
        chosen = tuple((name, (settings or {})[name]) for name in VARIANT_SETTINGS
                       if name in (settings or {})
                       and ((settings or {})[name] != setting_defaults[name][1]
                            or name in varying))
        check_settings(method, [name for name, _ in chosen])
        return cls(method, changed, chosen)

    @property
    def spec(self) -> str:
        """The canonical spelling, also the variant's label in reports."""
        words = [self.method]
        for name, value in (*self.changed, *self.settings):
            if isinstance(value, bool):  # changed booleans are the flags' non-defaults
                words.append(option_flag(name if value else f"no_{name}"))
            else:
                words.extend([option_flag(name), shlex.quote(str(value))])
        return " ".join(words)

    def with_option(self, name: str, value: Any) -> Variant:
        return Variant.of(self.method, {**dict(self.changed), name: value}, dict(self.settings))

    def has_option(self, name: str) -> bool:
        return name in option_names(self.method)


def option_names(method: str) -> tuple[str, ...]:
    """The option fields of ``method``'s registered options class."""
    return tuple(field.name for field in fields(method_class(method).options_class))


class Sweep(NamedTuple):
    """Method option ``option`` run at each of ``values``, e.g. ``Sweep("lam", (0.1, 0.5))``."""

    option: str
    values: tuple[Any, ...]

    def check(self, methods: Iterable[str]) -> None:
        """Raise ValueError unless some method of ``methods`` (specs) has the option, naming
        the options they have."""
        names = [Variant.parse(spec).method for spec in methods]
        if not any(self.option in option_names(name) for name in names):
            valid = sorted({option for name in names for option in option_names(name)})
            raise ValueError(f"no method of {sorted(set(names))} has the option "
                             f"{self.option!r} to sweep; their options: {valid or 'none'}")
        if not self.values:
            raise ValueError(f"the sweep of {self.option!r} has no values")


def expand_variants(methods: Iterable[str], sweep: Sweep | None = None) -> list[Variant]:
    """Parse ``methods`` and, given a ``sweep``, run each method that has the swept option at
    each of its values (validated by the method's options class).

    A spec that sets the option itself keeps it; methods without the option run once.
    Duplicates (two spellings of one setting) are dropped, first occurrence kept.
    """
    variants: list[Variant] = []
    for spec in methods:
        variant = Variant.parse(spec)
        if (sweep is not None and variant.has_option(sweep.option)
                and sweep.option not in dict(variant.changed)):
            variants.extend(variant.with_option(sweep.option, value) for value in sweep.values)
        else:
            variants.append(variant)
    return list(dict.fromkeys(variants))
