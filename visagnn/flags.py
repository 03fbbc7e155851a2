"""How an option name is spelled on the command line, shared by ``visagnn run`` and the grids.

A dataclass field ``num_parts`` is the flag ``--num-parts``; a boolean that defaults to True is
switched off by ``--no-<name>``, one that defaults to False is switched on by ``--<name>``;
``Literal`` annotations become the flag's choices.
"""

from __future__ import annotations

import argparse
import types
import typing
from dataclasses import MISSING
from typing import Any


def option_flag(name: str) -> str:
    """``num_parts`` → ``--num-parts``."""
    return "--" + name.replace("_", "-")


def value_type(annotation: Any) -> tuple[Any, tuple[Any, ...] | None]:
    """(parser, choices) for a dataclass field annotation: ``int``, ``float | None``, Literal."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        choices = typing.get_args(annotation)
        return type(choices[0]), choices
    return annotation, None


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
        flag = option_flag(f"no_{name}") if default is True else option_flag(name)
        action = "store_false" if default is True else "store_true"
        group.add_argument(flag, dest=name, action=action, default=argparse.SUPPRESS,
                           help=help_text)
        return
    parser, choices = value_type(annotation)
    suffix = f" (default: {default})" if default is not MISSING else ""
    group.add_argument(option_flag(name), dest=name, type=parser, choices=choices,
                       default=argparse.SUPPRESS, help=help_text + suffix)
