"""Command line: ``python -m visagnn run --dataset NAME_OR_PATH --method METHOD [options]``.

``python -m visagnn grid ...`` and ``python -m visagnn report ...`` run the benchmark suite.

The last line printed on stdout is the run's JSON summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from dataclasses import MISSING, fields
from typing import Any

from visagnn.bench.cli import add_commands as add_bench_commands
from visagnn.config import RUN_CONFIG_FIELDS, RunConfig
from visagnn.datasets import DATASET_NAMES
from visagnn.flags import add_option_argument, option_flag
from visagnn.methods import METHODS, resolve_config

RUN_CONFIG_HELP = {
    "seed": "random seed (model init, dropout, batch order)",
    "epochs": "training epochs",
    "lr": "Adam learning rate",
    "weight_decay": "Adam weight decay",
    "grad_clip": "clip the gradient norm to this value",
    "backbone": "layers of the historical methods (gcn ignores --heads/--out-heads)",
    "hidden_channels": "channels per attention head in hidden layers (gcn: their width)",
    "heads": "attention heads of hidden layers",
    "out_heads": "attention heads of the output layer",
    "num_layers": "message-passing layers",
    "dropout": "dropout on layer inputs and attention weights",
    "num_parts": "METIS parts P",
    "batch_parts": "parts per mini-batch B",
    "device": "cpu, cuda or cuda:N",
    "root": "data root (default: $VISAGNN_DATA, else the cache folder)",
    "keep_history_on_device": "keep histories in GPU memory instead of pinned CPU memory",
    "measure_staleness_every": "measure true staleness against exact embeddings every k epochs",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m visagnn", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="train one method on one dataset",
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    run.add_argument("--dataset", default="synthetic",
                     help=f"one of {', '.join(DATASET_NAMES)}, or a path to a .pt graph")
    run.add_argument("--method", default="gas", choices=sorted(METHODS), help="training method")
    run.add_argument("--out", default=None,
                     help="folder for epochs.jsonl (written every epoch) and summary.json")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    seen: dict[str, Any] = {}
    common = run.add_argument_group("run options (defaults depend on the dataset)")
    hints = typing.get_type_hints(RunConfig)
    for name in RUN_CONFIG_FIELDS:
        if name not in ("dataset", "method"):
            add_option_argument(common, name, hints[name], RUN_CONFIG_HELP[name], MISSING, seen)
    for method_name in sorted(METHODS):
        options_class = METHODS[method_name].options_class
        option_fields = fields(options_class)
        if not option_fields:
            continue
        group = run.add_argument_group(f"options of --method {method_name}")
        option_hints = typing.get_type_hints(options_class)
        for field in option_fields:
            add_option_argument(group, field.name, option_hints[field.name],
                       field.metadata.get("help", field.name), field.default, seen)
    add_bench_commands(commands)
    return parser


def split_arguments(args: argparse.Namespace) -> tuple[RunConfig, dict[str, Any]]:
    """The run configuration and the chosen method's options from parsed arguments."""
    values = {k: v for k, v in vars(args).items()
              if k not in ("command", "dataset", "method", "out", "quiet")}
    config_values = {k: v for k, v in values.items() if k in RUN_CONFIG_FIELDS}
    option_values = {k: v for k, v in values.items() if k not in RUN_CONFIG_FIELDS}
    valid = {field.name for field in fields(METHODS[args.method].options_class)}
    foreign = sorted(option_values.keys() - valid)
    if foreign:
        flags = ", ".join(option_flag(name) for name in foreign)
        valid_flags = ", ".join(option_flag(name) for name in sorted(valid)) or "none"
        raise ValueError(f"{flags} are not options of --method {args.method}; "
                         f"its options are: {valid_flags}")
    return resolve_config(args.dataset, args.method, **config_values), option_values


def main(argv: list[str] | None = None) -> int:
    from visagnn.train import run

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "run":  # grid, report: the benchmark suite (visagnn.bench)
        return args.handler(args)
    try:
        config, options = split_arguments(args)
        result = run(config, options, out_dir=args.out, progress=not args.quiet)
    except (ValueError, FileNotFoundError, NotImplementedError) as exc:
        parser.exit(2, f"error: {exc}\n")
    print(json.dumps(result.summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
