"""How an option name is spelled on the command line, shared by ``visagnn run`` and the grids.

A dataclass field ``num_parts`` is the flag ``--num-parts``; a boolean that defaults to True is
switched off by ``--no-<name>``, one that defaults to False is switched on by ``--<name>``;
``Literal`` annotations become the flag's choices, and a ``float`` flag takes finite numbers only
(:func:`finite_float`). Messages of the dataclasses' validation, which
name fields (``RunConfig.num_parts must be >= 1``), are spelled with the flags instead
(:func:`flag_message`).
"""

from __future__ import annotations

import argparse
import math
import re
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import MISSING
from typing import Any

FIELD_REFERENCE = re.compile(r"\b(?:RunConfig|\w+Options)\.(\w+)")
"""How validation messages name a field: ``RunConfig.num_parts``, ``VisagnnOptions.lam``."""


class UsageError(ValueError):
    """Bad command-line input: ``python -m visagnn`` prints it as one line and exits with 2."""


def option_flag(name: str) -> str:
    """``num_parts`` → ``--num-parts``."""
    return "--" + name.replace("_", "-")


def flag_spelling(name: str, annotation: Any, default: Any) -> str:
    """The flag of option ``name`` as the parser spells it: ``--no-<name>`` for a boolean that
    defaults to True, ``--<name>`` otherwise."""
    return option_flag(f"no_{name}" if annotation is bool and default is True else name)


def flag_message(message: str, names: Iterable[str] | Mapping[str, str]) -> str:
    """``message`` with the option fields among ``names`` that it mentions spelled as flags:
    ``RunConfig.num_parts must be >= 1`` → ``--num-parts must be >= 1`` (every validation
    names its field as ``RunConfig.<field>`` or ``<Method>Options.<field>``). A mapping gives
    each name's flag (e.g. ``refresh_histories`` → ``--no-refresh-histories``)."""
    flags = dict(names) if isinstance(names, Mapping) else {name: option_flag(name)
                                                              for name in names}

    def flag(match: re.Match[str]) -> str:
        return flags.get(match.group(1), match.group(0))

    return FIELD_REFERENCE.sub(flag, message)


def finite_float(text: str) -> float:
    """A float flag's value: a number that is finite, as ``nan`` and ``inf`` (which ``float``
    accepts) make no learning rate, clip or weight decay and would only surface as a NaN loss.

    Raises:
        argparse.ArgumentTypeError: one line, e.g. ``argument --lr: expected a finite
            number, got 'nan'``.
    """
    try:
        value = float(text)
    except ValueError:
        # argparse's own wording for a value that is no number at all
        raise argparse.ArgumentTypeError(f"invalid float value: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def value_type(annotation: Any) -> tuple[Any, tuple[Any, ...] | None]:
    """(parser, choices) for a dataclass field annotation: ``int``, ``float | None``, Literal;
    ``float`` is parsed by :func:`finite_float`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        return type(choices[0]), choices
    return (finite_float if annotation is float else annotation), None


def add_option_argument(group: argparse._ArgumentGroup, name: str, annotation: Any,
                        help_text: str, default: Any, seen: dict[str, Any]) -> None:
    """Add ``--name`` once; a second method declaring the same option must agree on its type."""
    if name in seen:
        if seen[name] != annotation:
            raise TypeError(
                f"option {name!r} is declared with two types: {seen[name]}, {annotation}"
            )
        return
    seen[name] = annotation
    if annotation is bool:
        flag = flag_spelling(name, annotation, default)
        action = "store_false" if default is True else "store_true"
        group.add_argument(flag, dest=name, action=action, default=argparse.SUPPRESS,
                           help=help_text)
        return
    parser, choices = value_type(annotation)
    # a None default means what the help text says (e.g. "the dataset's")
    suffix = f" (default: {default})" if default not in (MISSING, None) else ""
    group.add_argument(option_flag(name), dest=name, type=parser, choices=choices,
                       default=argparse.SUPPRESS, help=help_text + suffix)
