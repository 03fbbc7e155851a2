"""``python -m visagnn run``: train one method on one dataset, print its JSON summary last.

Every :class:`~visagnn.config.RunConfig` field is a flag (``num_parts`` → ``--num-parts``), and
so is every option of every registered method (:data:`visagnn.methods.METHODS`), listed under
the methods that take it. ``--threads`` sets torch's CPU threads: 1 by default, the right choice
on a machine shared with other work (a second thread mostly waits for a busy core and makes a
run several times slower); ``--threads 0`` keeps torch's default of one thread per core, and
more threads than the machine's cores (``os.cpu_count()``) are refused.

Everything that can be checked before training is, in one line naming the flag: the ``--out``
folder (:func:`~visagnn.utils.atomic_write.check_output_folder`), the bounds of the counts
(:func:`check_bounds`: ``--epochs`` at most :data:`MAX_EPOCHS`, ``--seed`` in numpy's
``[0, 2**32 - 1]``, ``--lr`` at most :data:`MAX_LR`), and, once the graph is loaded, what the
graph allows (:func:`check_graph_bounds`: parts, width).
"""

from __future__ import annotations

import argparse
import os
import typing
from dataclasses import MISSING, Field, asdict, fields
from typing import Any

import torch

from visagnn.config import RUN_CONFIG_FIELDS, RunConfig
from visagnn.datasets import DATASET_NAMES, GraphDataset
from visagnn.flags import (
    UsageError,
    add_option_argument,
    flag_message,
    flag_spelling,
)
from visagnn.methods import METHODS, make_options, resolve_config
from visagnn.methods.registry import method_class, width_is_per_head
from visagnn.run.records import to_json
from visagnn.run.train import load_run_dataset, run
from visagnn.utils.atomic_write import check_output_folder
from visagnn.utils.distributed import World, join_world, leave_world
from visagnn.utils.memory import available_memory_mb

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
    "num_parts": "parts P of the graph",
    "batch_parts": "parts per mini-batch B",
    "partitioner": "metis (minimal edge cut) or ranges (balanced node-id ranges, O(N): for "
                   "graphs too big for METIS whose ids carry locality)",
    "device": "cpu, cuda or cuda:N",
    "download": "do not download a missing dataset (also: VISAGNN_NO_DOWNLOAD=1)",
    "root": "data root (default: $VISAGNN_DATA, else the cache folder)",
    "history_storage": "where histories live: auto (RAM on CPU; on CUDA GPU memory where they "
                       "fit in 75%% of the free memory, else pinned RAM), ram, "
                       "pinned, device (GPU memory) or mmap (a file in the cache folder)",
    "history_dtype": "storage dtype of the histories (16-bit halves their memory)",
    "eval_every": "evaluate every k epochs (and after the last)",
    "refresh_histories": "do not write the exact embeddings of each evaluation into the "
                         "histories (the official codes do)",
    "push_rows": "what a training step writes into the histories: its rows (GAS), an eval-mode "
                 "forward's rows, or nothing (only evaluations refresh them)",
    "exact_halo": "oracle: exact halo rows (current weights) at every step instead of "
                  "histories, computed over the halo's receptive field",
    "measure_staleness_every": "measure true staleness against exact embeddings every k epochs",
    "prefetch": "build the next mini-batch in a background thread while a step trains "
                "(same results; worth it on a GPU or with a spare core)",
}
COMMAND_ARGUMENTS = ("command", "handler", "dataset", "method", "out", "quiet", "threads")
"""Arguments of the command itself, neither config fields nor method options."""
DEFAULT_THREADS = 1
MAX_EPOCHS = 10**6
"""The most ``--epochs`` a run takes: far beyond any schedule (a run of 10**6 epochs of Cora
would take days), low enough that no counter overflows."""
MAX_SEED = 2**32 - 1
"""numpy's ``np.random.seed`` takes seeds in ``[0, 2**32 - 1]``."""
MAX_LR = float(torch.finfo(torch.float32).max) / 10
"""The largest ``--lr`` a float32 model can take: Adam's first step is scaled by
``lr / (1 - beta1) = 10 lr`` (``beta1 = 0.9``), which torch refuses to cast past float32's
largest value. Any large rate diverges, and is recorded so (status ``diverged``); beyond this
one torch would raise instead."""
FLOAT_BYTES = 4


def option_groups() -> dict[tuple[str, ...], list[tuple[type, Field[Any]]]]:
    """Every method option once, grouped by the methods that take it, in method order."""
    takers: dict[str, list[str]] = {}
    declared: dict[str, tuple[type, Field[Any]]] = {}
    for method_name in sorted(METHODS):
        options_class = METHODS[method_name].options_class
        for field in fields(options_class):
            takers.setdefault(field.name, []).append(method_name)
            declared.setdefault(field.name, (options_class, field))
    groups: dict[tuple[str, ...], list[tuple[type, Field[Any]]]] = {}
    for name, methods in takers.items():
        groups.setdefault(tuple(methods), []).append(declared[name])
    return groups


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``run``'s arguments to ``parser`` and set its handler."""
    parser.description = __doc__.split("\n\n")[0]
    parser.add_argument("--dataset", default="synthetic",
                        help=f"one of {', '.join(DATASET_NAMES)}, or a path to a .pt graph "
                             "(default: synthetic)")
    parser.add_argument("--method", default="gas", choices=sorted(METHODS),
                        help="training method (default: gas)")
    parser.add_argument("--out", default=None,
                        help="folder for epochs.jsonl (written every epoch) and summary.json")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"torch CPU threads (default: {DEFAULT_THREADS}, right on a shared "
                             "machine; 0: torch's default, one per core; at most the "
                             "machine's cores, os.cpu_count())")
    seen: dict[str, Any] = {}
    common = parser.add_argument_group("run options (defaults depend on the dataset)")
    hints = typing.get_type_hints(RunConfig)
    defaults = {field.name: field.default for field in fields(RunConfig)}
    for name in RUN_CONFIG_FIELDS:
        if name not in ("dataset", "method"):
            # a switch is spelled by its fixed default (--no-x when on); values depend on the data
            default = defaults[name] if hints[name] is bool else MISSING
            add_option_argument(common, name, hints[name], RUN_CONFIG_HELP[name], default, seen)
    for methods, declared in option_groups().items():
        group = parser.add_argument_group(
            f"options of --method {', '.join(methods)}")
        for options_class, field in declared:
            add_option_argument(group, field.name,
                                typing.get_type_hints(options_class)[field.name],
                                field.metadata.get("help", field.name), field.default, seen)
    parser.set_defaults(handler=run_command)


def option_names() -> dict[str, str]:
    """Every name that is a flag of ``run`` (config fields and method options), and the flag as
    the parser spells it (``refresh_histories`` → ``--no-refresh-histories``)."""
    hints = typing.get_type_hints(RunConfig)
    flags = {field.name: flag_spelling(field.name, hints[field.name], field.default)
             for field in fields(RunConfig)}
    for method in METHODS.values():
        option_hints = typing.get_type_hints(method.options_class)
        for field in fields(method.options_class):
            flags.setdefault(field.name, flag_spelling(field.name, option_hints[field.name],
                                                       field.default))
    return flags


def split_arguments(args: argparse.Namespace) -> tuple[RunConfig, dict[str, Any]]:
    """The run configuration and the chosen method's options from parsed arguments, resolved
    for the dataset as every entry point resolves them (:func:`~visagnn.methods.resolve_config`,
    :func:`~visagnn.methods.make_options`).

    Raises:
        UsageError: for options of another method, settings that do not apply to the method or
            an invalid value, naming the flags as the parser spells them.
    """
    values = {k: v for k, v in vars(args).items() if k not in COMMAND_ARGUMENTS}
    config_values = {k: v for k, v in values.items() if k in RUN_CONFIG_FIELDS}
    option_values = {k: v for k, v in values.items() if k not in RUN_CONFIG_FIELDS}
    valid = {field.name for field in fields(METHODS[args.method].options_class)}
    foreign = sorted(option_values.keys() - valid)
    flags = option_names()
    if foreign:
        given = ", ".join(flags[name] for name in foreign)
        valid_flags = ", ".join(sorted(flags[name] for name in valid)) or "none"
        raise UsageError(f"{given} are not options of --method {args.method}; "
                         f"its options are: {valid_flags}")
    try:
        config = resolve_config(args.dataset, args.method, **config_values)
        options = asdict(make_options(args.method, option_values, config.dataset))
    except ValueError as exc:
        raise UsageError(flag_message(str(exc), flags)) from None
    return config, options


def load_graph(config: RunConfig) -> GraphDataset:
    """``config``'s dataset; a bad name, a missing file or a file that is not a graph
    (:func:`~visagnn.datasets.custom.load_custom` says which) is a :class:`UsageError` naming
    ``--dataset``."""
    try:
        return load_run_dataset(config)
    except (ValueError, FileNotFoundError, NotImplementedError) as exc:
        raise UsageError(f"--dataset {config.dataset}: {exc}") from None


def check_bounds(config: RunConfig, threads: int) -> None:
    """Refuse counts no run can use, before anything is loaded: ``--threads`` beyond this
    machine's cores (torch crashes on 100000), ``--epochs`` beyond :data:`MAX_EPOCHS`,
    ``--seed`` outside ``[0, MAX_SEED]``, ``--lr`` beyond :data:`MAX_LR`.

    Raises:
        UsageError: one line naming the flag and its valid range.
    """
    cores = os.cpu_count() or 1
    if not 0 <= threads <= cores:
        raise UsageError(f"--threads must be in [0, {cores}] (0: one per core; {cores}: this "
                         f"machine's cores), got {threads}")
    if config.epochs > MAX_EPOCHS:
        raise UsageError(f"--epochs must be in [1, {MAX_EPOCHS}], got {config.epochs}")
    if not 0 <= config.seed <= MAX_SEED:
        raise UsageError(f"--seed must be in [0, 2**32 - 1], got {config.seed}")
    if config.lr > MAX_LR:
        raise UsageError(f"--lr must be at most {MAX_LR:.3g} (Adam's first step, 10 x --lr, "
                         f"must fit in float32), got {config.lr:g}")


def width_mb(config: RunConfig, dataset: GraphDataset) -> float:
    r"""A lower bound on the memory of a run's width, in MiB:
    :math:`4 (N + F) \cdot C h` bytes for ``N`` nodes, ``F`` features and hidden layers of
    ``C`` channels times ``h`` heads (1 where the width is not per head), float32.

    Every method's evaluation computes a hidden layer for all ``N`` nodes (:math:`N C h`
    floats), and its first layer holds an ``F`` by :math:`C h` weight; the run needs more
    (other layers, histories, activations, the optimizer's state), so a width this bound
    already rules out cannot run.
    """
    heads = config.heads if width_is_per_head(config.method, config.backbone) else 1
    data = dataset.data
    return FLOAT_BYTES * (data.num_nodes + data.num_features) * config.hidden_channels \
        * heads / 2**20


def check_graph_bounds(config: RunConfig, dataset: GraphDataset) -> None:
    """Refuse what ``dataset`` rules out, before training: more parts than nodes (for the
    methods that partition the graph), and a width whose :func:`width_mb` exceeds the memory
    available (:func:`~visagnn.utils.memory.available_memory_mb`).

    Raises:
        UsageError: one line naming ``--num-parts`` or ``--hidden-channels``.
    """
    num_nodes = dataset.data.num_nodes
    partitions = "partition" in METHODS[config.method].setting_families
    if partitions and config.num_parts > num_nodes:
        raise UsageError(f"--num-parts must be in [1, {num_nodes}] (at most one part per node "
                         f"of {dataset.name}), got {config.num_parts}")
    needed, available = width_mb(config, dataset), available_memory_mb(config.torch_device)
    if needed > available:
        heads = "" if config.backbone == "gcn" else f" x --heads {config.heads}"
        raise UsageError(f"--hidden-channels {config.hidden_channels}{heads}: a hidden layer "
                         f"over {num_nodes} nodes needs at least {needed:,.0f} MiB, more than "
                         f"the {available:,.0f} MiB available")


def check_world(config: RunConfig, world: World) -> None:
    """Under ``torchrun``, refuse what runs in one process only: methods that are not
    :attr:`~visagnn.methods.Method.distributed` (full-batch, SGC, the samplers) and
    ``--measure-staleness-every``."""
    if not world.is_distributed:
        return
    if not method_class(config.method).distributed:
        choices = ", ".join(name for name in METHODS if method_class(name).distributed)
        raise UsageError(f"--method {config.method} runs in one process only (under torchrun: "
                         f"{choices})")
    if config.measure_staleness_every:
        raise UsageError("--measure-staleness-every runs in one process only")


def run_command(args: argparse.Namespace) -> int:
    """Train as ``args`` say and print the JSON summary as the last line.

    Bad input (a flag, the ``--out`` folder, a graph file) is refused before anything trains.
    Under ``torchrun`` every rank joins the process group (:func:`join_world`, the backend
    the device needs) and trains its share; only rank 0 writes ``--out`` and prints.
    """
    config, options = split_arguments(args)
    check_bounds(config, args.threads)
    world = join_world(config.torch_device)
    try:
        check_world(config, world)
        return train_and_print(args, config, options, world)
    finally:
        leave_world()


def train_and_print(args: argparse.Namespace, config: RunConfig, options: dict[str, Any],
                    world: World) -> int:
    """The checks that need the graph, the run, and rank 0's summary line."""
    if args.out is not None:
        check_output_folder(args.out, "--out")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    dataset = load_graph(config)
    check_graph_bounds(config, dataset)
    try:
        result = run(config, options, dataset=dataset, out_dir=args.out,
                     progress=not args.quiet)
    except ValueError as exc:  # a method rejecting the dataset or its options' combination
        raise UsageError(flag_message(str(exc), option_names())) from None
    if world.is_main:
        print(to_json(result.summary), flush=True)
    return 0
