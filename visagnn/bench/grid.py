"""Benchmark grids: which method variants run on which datasets, at which batch sizes and seeds.

A grid is a list of :class:`Cell` s. A cell is one execution of the experiment notebook: one
dataset at one batch size ``B`` (METIS parts per mini-batch), with every variant and seed that
runs there. A grid is put together from :class:`Study` s, the experiments of the paper:

========================  ==========================================================  =========
study                     variants                                                     B
========================  ==========================================================  =========
accuracy (Tables 1, 3)    :data:`TABLE1_METHODS`                                       default
accuracy (Table 2)        :data:`TABLE2_METHODS` (ogbn-papers100m)                     default
ablation (Table 4)        :data:`TABLE4_VARIANTS`                                      default
batch size (Table 5)      :data:`TABLE5_METHODS`                                       Table 5's
λ (Table 6)               visagnn-sum at each ``lam`` of :data:`TABLE6_LAMBDAS`        default
staleness map             :data:`MAP_VARIANTS` at 2-4 layers (:func:`map_studies`)     1, 4, 10
========================  ==========================================================  =========

The default ``B`` and the number of parts ``P`` are the dataset's
(:data:`visagnn.defaults.DEFAULTS`). Dataset names, method names and swept options are
checked (against :data:`visagnn.datasets.DATASET_NAMES` and the registry
:data:`visagnn.methods.METHODS`) when a grid is built, before anything trains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from visagnn.bench.scaling.family import PRODUCTS_SHAPE
from visagnn.bench.spec import RunSpec, dataset_label, plan_runs
from visagnn.bench.staleness_map import MAP_VARIANTS, ORACLE, heavy_cells, staleness_map
from visagnn.bench.variants import Sweep, expand_variants
from visagnn.datasets import DATASET_NAMES, load_dataset
from visagnn.datasets.registry import check_dataset
from visagnn.datasets.root import check_root, resolve_root
from visagnn.datasets.synthetic import generate_synthetic
from visagnn.methods import METHODS, resolve_config
from visagnn.utils.atomic_write import atomic_write
from visagnn.utils.cache import cache_folder

TABLE1_METHODS = ("sage", "fastgcn", "ladies", "clustergcn", "graphsaint", "sgc", "gcn", "gat",
                  "appnp", "vrgcn", "mvsgnn", "gas", "graphfm", "refresh", "lmc", "sancus", "s3",
                  "sat", "rest", "visagnn-cat", "visagnn-sum")
"""Table 1: every method of the paper's Table 1, in its order."""
TABLE2_METHODS = ("sage", "sgc", "gas", "graphfm", "refresh", "lmc", "visagnn-sum")
TABLE4_VARIANTS = ("visagnn-sum", "visagnn-sum --no-attention", "visagnn-sum --loss",
                   "visagnn-sum --no-augment")
"""VISAGNN-Sum with our defaults (staleness loss off) and each component switched."""
PAPER_FORM = "--loss --criterion grad --softmax split --loss-target train"
"""The flags that give VISAGNN's paper form (:class:`visagnn.methods.visagnn.VisagnnOptions`)."""
WITH_LOSS = "visagnn-sum --loss"
"""The variant whose staleness-loss weight λ the λ studies sweep."""
TABLE5_METHODS = ("gas", "graphfm", "lmc", "visagnn-sum")
TABLE5_BATCH_PARTS: dict[str, tuple[int, ...]] = {
    "ogbn-products": (5, 10, 20), "reddit": (20, 50, 100), "ogbn-arxiv": (5, 10, 20),
}
TABLE6_LAMBDAS = (0.0, 0.3, 0.5, 0.8)


def check_methods(methods: Iterable[str]) -> None:
    """Raise ValueError naming the unknown ones and the valid methods."""
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; valid methods: {sorted(METHODS)}")


def check_datasets(datasets: Iterable[str]) -> None:
    """Raise ValueError unless each is a dataset name or an existing ``.pt`` file, naming the
    bad ones and the valid names."""
    unknown = [name for name in datasets
               if name.lower() not in DATASET_NAMES
               and not (Path(name).suffix.lower() == ".pt" and Path(name).is_file())]
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown}; valid datasets: "
                         f"{', '.join(DATASET_NAMES)}, or the path of a .pt graph")


def default_batch_parts(dataset: str) -> tuple[int, ...]:
    """The dataset's default ``B``."""
    return (resolve_config(dataset).batch_parts,)


def paper_batch_parts(dataset: str) -> tuple[int, ...]:
    """Table 5's batch sizes; for other datasets ``B/4, B/2, B`` of the default ``B``."""
    if dataset in TABLE5_BATCH_PARTS:
        return TABLE5_BATCH_PARTS[dataset]
    (parts,) = default_batch_parts(dataset)
    return tuple(sorted({max(1, parts // 4), max(1, parts // 2), parts}))


def halved_batch_parts(dataset: str) -> tuple[int, ...]:
    """``B/2`` and the default ``B``: the demo's batch-size study."""
    (parts,) = default_batch_parts(dataset)
    return tuple(sorted({max(1, parts // 2), parts}))


@dataclass(frozen=True)
class Study:
    """Variants (specs as in :mod:`visagnn.bench.variants`), those of methods with the option
    of ``sweep`` at each of its values, run at the batch sizes ``batch_parts(dataset)`` with
    ``num_parts`` METIS parts for ``epochs`` epochs (``None``: the grid's or the dataset's) and
    the further :class:`~visagnn.config.RunConfig` fields ``config``.

    Raises:
        ValueError: for an unknown method, or a sweep of an option none of the methods has.
    """

    name: str
    methods: tuple[str, ...]
    sweep: Sweep | None = None
    batch_parts: Callable[[str], tuple[int, ...]] = default_batch_parts
    num_parts: int | None = None
    epochs: int | None = None
    config: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        check_methods(spec.split()[0] for spec in self.methods)
        if self.sweep is not None:
            self.sweep.check(self.methods)

    def variants(self, methods: Sequence[str] | None = None) -> list[str]:
        """The specs this study runs, only those of ``methods`` when given."""
        chosen = [spec for spec in self.methods if methods is None or spec.split()[0] in methods]
        return [variant.spec for variant in expand_variants(chosen, self.sweep)]


ACCURACY = Study("accuracy (Tables 1, 3; Figures 2-3)", TABLE1_METHODS)
LARGE_ACCURACY = Study("accuracy (Table 2)", TABLE2_METHODS)
ABLATION = Study("ablation (Table 4)", TABLE4_VARIANTS)
BATCH_SIZE = Study("batch size (Table 5)", TABLE5_METHODS, batch_parts=paper_batch_parts)
LAMBDA = Study("λ (Table 6)", (WITH_LOSS,), sweep=Sweep("lam", TABLE6_LAMBDAS))

STALENESS_VARIANTS = (ORACLE, "gas", "gas --no-refresh-histories", "s3 --no-refresh-histories",
                      "sat", "rest", "visagnn-sum", f"visagnn-sum {PAPER_FORM}",
                      f"visagnn-cat {PAPER_FORM}")
"""The staleness comparison: the oracle, GAS with and without refreshing its histories at each
evaluation, S3's schedule without that refresh (with it, every evaluation ties S3's scores and
its schedule is GAS's), SAT's predicted halo rows, REST's refresh passes, VISAGNN-Sum with our
defaults, and both VISAGNN variants in the paper's form."""
HEAVY_STALENESS_VARIANTS = (*STALENESS_VARIANTS, *TABLE4_VARIANTS[1:])
"""Under heavy staleness also the ablations of VISAGNN-Sum (Table 4)."""
LIGHT_STALENESS = Study("staleness, light (P=80, B=10)", STALENESS_VARIANTS,
                        batch_parts=lambda dataset: (10,), num_parts=80)
HEAVY_STALENESS = Study("staleness, heavy (P=80, B=1)", HEAVY_STALENESS_VARIANTS,
                        batch_parts=lambda dataset: (1,), num_parts=80)
STALENESS_MEASURED_EVERY = 5
"""Epochs between two measurements of the true staleness in the staleness studies."""

PAPER_STUDIES: dict[str, tuple[Study, ...]] = {
    "reddit": (ACCURACY, BATCH_SIZE),
    "ogbn-arxiv": (ACCURACY, BATCH_SIZE, ABLATION, LAMBDA),
    "ogbn-products": (ACCURACY, BATCH_SIZE, ABLATION, LAMBDA),
    "ogbn-papers100m": (LARGE_ACCURACY,),
}
"""The paper's experiments per dataset. MAG240M (the paper's Table 2) loads
(:mod:`visagnn.datasets.mag240m`) but is not in the default grid, as :mod:`visagnn.defaults`
has no settings for it yet. Datasets outside this table, given with ``datasets=``, get all of
Tables 1 and 3-6."""
PAPER_SEEDS = 5

DEMO_STUDIES: dict[str, tuple[Study, ...]] = {
    "synthetic": (
        ACCURACY,
        Study("batch size", ("gas", "visagnn-sum"), batch_parts=halved_batch_parts),
        ABLATION,
        Study("λ", (WITH_LOSS,), sweep=Sweep("lam", (0.0, 0.8))),
    ),
    "cora": (ACCURACY,),
    "citeseer": (ACCURACY,),
}
"""The demo: every method and a small version of every study on the synthetic graph, every
method on Cora and CiteSeer, with few epochs and seeds so that it runs in minutes on a CPU."""
DEMO_EPOCHS = {"synthetic": 10, "cora": 20, "citeseer": 20}
DEMO_CONFIG: dict[str, dict[str, Any]] = {"synthetic": {"measure_staleness_every": 2}}
"""The demo measures the true staleness of the histories on the synthetic graph."""
DEMO_SEEDS = 2


@dataclass(frozen=True)
class Cell:
    """One execution of the experiment notebook: ``methods`` × ``seeds`` on ``dataset`` at
    ``batch_parts`` parts per mini-batch. ``None`` means the dataset's default; ``config`` holds
    further :class:`~visagnn.config.RunConfig` fields."""

    dataset: str
    batch_parts: int
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    num_parts: int | None = None
    epochs: int | None = None
    device: str = "cpu"
    root: str | None = None
    config: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def name(self) -> str:
        """File name of the cell's executed notebook, e.g. ``ogbn-arxiv_P40_B10``, with the
        depth where the cell sets it (``cora_P80_B1_L3``)."""
        parts = resolve_config(self.dataset, num_parts=self.num_parts,
                               batch_parts=self.batch_parts).num_parts
        layers = dict(self.config).get("num_layers")
        depth = f"_L{layers}" if layers is not None else ""
        return f"{dataset_label(self.dataset)}_P{parts}_B{self.batch_parts}{depth}"

    def runs(self) -> list[RunSpec]:
        return plan_runs(self.dataset, self.methods, batch_parts=(self.batch_parts,),
                         seeds=self.seeds, num_parts=self.num_parts, epochs=self.epochs,
                         device=self.device, root=self.root, config=dict(self.config))

    def parameters(self, results: Path, force: bool = False) -> dict[str, Any]:
        """The experiment notebook's parameters for this cell."""
        return {
            "dataset": self.dataset, "methods": list(self.methods), "num_parts": self.num_parts,
            "batch_parts": [self.batch_parts], "epochs": self.epochs, "seeds": list(self.seeds),
            "device": self.device, "root": self.root,
            "results": str(Path(results).resolve()), "config": dict(self.config),
            "force": force,
        }


@dataclass(frozen=True)
class Grid:
    name: str
    cells: tuple[Cell, ...]

    def runs(self) -> list[RunSpec]:
        return [spec for cell in self.cells for spec in cell.runs()]


def build_grid(
    name: str,
    studies: Mapping[str, Sequence[Study]],
    seeds: Sequence[int],
    epochs: int | Mapping[str, int] | None = None,
    device: str = "cpu",
    root: str | None = None,
    methods: Sequence[str] | None = None,
    config: Mapping[str, Mapping[str, Any]] | None = None,
) -> Grid:
    """Merge the ``studies`` of each dataset into one cell per (dataset, batch size).

    Args:
        studies: the studies to run on each dataset.
        seeds: every run's seeds.
        epochs: epochs of every run, per dataset, or ``None`` for the datasets' defaults.
        methods: keep only the variants of these methods.
        config: further :class:`~visagnn.config.RunConfig` fields per dataset.

    Raises:
        ValueError: for a dataset or method name that is not known (listing the valid ones),
            an invalid option flag or an invalid configuration.
    """
    check_datasets(studies)
    if methods is not None:
        check_methods(methods)
    cells = []
    for dataset, dataset_studies in studies.items():
        dataset_epochs = (epochs.get(dataset.lower()) if isinstance(epochs, Mapping)
                          else epochs)
        overrides = dict((config or {}).get(dataset.lower(), {}))
        by_setting: dict[tuple[int | None, int, int | None, tuple[tuple[str, Any], ...]],
                         list[str]] = {}
        for study in dataset_studies:
            specs = study.variants(methods)
            study_config = _unrestated(dataset, specs, {**overrides, **dict(study.config)})
            for parts in study.batch_parts(dataset):
                key = (study.num_parts, parts, study.epochs or dataset_epochs, study_config)
                by_setting.setdefault(key, []).extend(specs)
        for (num_parts, parts, cell_epochs, cell_config), specs in sorted(
            by_setting.items(), key=lambda item: (item[0][0] or 0, item[0][1])
        ):
            if specs:
                cells.append(Cell(dataset, parts, tuple(dict.fromkeys(specs)), tuple(seeds),
                                  num_parts=num_parts, epochs=cell_epochs, device=device,
                                  root=root, config=cell_config))
    grid = Grid(name, tuple(cells))
    grid.runs()  # validates every configuration before anything trains
    return grid


def _unrestated(dataset: str, specs: Sequence[str], config: Mapping[str, Any]
                ) -> tuple[tuple[str, Any], ...]:
    """``config`` less the fields that every spec of ``specs`` already has at that value on
    ``dataset``: a setting written out (``num_layers=2`` where 2 is the default) is the same
    cell as the setting left at its default, so a study sharing it runs no run twice."""
    methods = {spec.split()[0] for spec in specs}
    return tuple(sorted(
        (name, value) for name, value in config.items()
        if not methods or any(getattr(resolve_config(dataset, method), name) != value
                              for method in methods)))


def merge_cells(cells: Iterable[Cell]) -> tuple[Cell, ...]:
    """One cell per (dataset, P, B, epochs, settings): cells of one setting that studies with
    different seeds made are merged, their variants and seeds united, so that no two cells
    write one executed notebook."""
    merged: dict[tuple[Any, ...], Cell] = {}
    for cell in cells:
        key = (cell.dataset, cell.batch_parts, cell.num_parts, cell.epochs, cell.device,
               cell.root, cell.config)
        if key in merged:
            first = merged[key]
            cell = replace(first, methods=tuple(dict.fromkeys((*first.methods, *cell.methods))),
                           seeds=tuple(sorted({*first.seeds, *cell.seeds})))
        merged[key] = cell
    return tuple(merged.values())


def paper_grid(datasets: Sequence[str] | None = None, seeds: int = PAPER_SEEDS,
               epochs: int | None = None, device: str = "cpu", root: str | None = None,
               methods: Sequence[str] | None = None) -> Grid:
    """The paper's experiments (:data:`PAPER_STUDIES`) on ``datasets`` (default: the paper's)."""
    chosen = list(PAPER_STUDIES) if datasets is None else list(datasets)
    studies = {dataset: PAPER_STUDIES.get(dataset.lower(),
                                          (ACCURACY, BATCH_SIZE, ABLATION, LAMBDA))
               for dataset in chosen}
    return build_grid("paper", studies, range(seeds), epochs, device, root, methods)


def demo_grid(datasets: Sequence[str] | None = None, seeds: int = DEMO_SEEDS,
              epochs: int | None = None, device: str = "cpu", root: str | None = None,
              methods: Sequence[str] | None = None) -> Grid:
    """The demo (:data:`DEMO_STUDIES`): the synthetic graph, plus Cora and CiteSeer when the
    data root holds them (``datasets`` replaces that choice)."""
    chosen = (list(datasets) if datasets is not None
              else [d for d in DEMO_STUDIES if d == "synthetic" or is_available(d, root)])
    studies = {dataset: DEMO_STUDIES.get(dataset.lower(), DEMO_STUDIES["synthetic"])
               for dataset in chosen}
    return build_grid("demo", studies, range(seeds), epochs if epochs is not None else DEMO_EPOCHS,
                      device, root, methods, config=DEMO_CONFIG)


def is_available(dataset: str, root: str | None) -> bool:
    """Whether ``dataset``'s files are under the data root (it loads without error); a grid
    never downloads to find out."""
    try:
        load_dataset(dataset, root, download=False)
    except (FileNotFoundError, ValueError):
        return False
    return True


def has_files(dataset: str, root: str | None) -> bool:
    """Whether the named ``dataset``'s files are under the data root, without reading them
    (the larger graphs take seconds to load)."""
    try:
        check_dataset(dataset, root, download=False)
    except (FileNotFoundError, ValueError):
        return False
    return True


def data_problems(grid: Grid, download: bool | None = None) -> list[str]:
    """One line per dataset of ``grid`` whose data is not there: its files are neither present
    nor downloadable (``download``: as :func:`~visagnn.datasets.registry.check_dataset`), or
    its ``.pt`` graph does not load; one line for a data root that is a file. Nothing is
    downloaded; a named dataset's files are not read."""
    problems: dict[str, None] = {}
    checked: set[tuple[str, str | None]] = set()
    for cell in grid.cells:
        if (cell.dataset, cell.root) in checked:
            continue
        checked.add((cell.dataset, cell.root))
        try:
            if cell.dataset.lower() in DATASET_NAMES:
                check_root(resolve_root(cell.root))
        except FileNotFoundError as exc:
            problems[f"--root {resolve_root(cell.root)}: {exc}"] = None
            continue
        try:
            check_dataset(cell.dataset, cell.root, download)
        except Exception as exc:  # a graph file fails in torch's or pickle's own words too
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            lead = f"{cell.dataset.lower()}: "
            text = text[len(lead):] if text.lower().startswith(lead) else text
            problems[f"--datasets {cell.dataset}: {text}"] = None
    return list(problems)


def staleness_studies(light_epochs: int, heavy_epochs: int,
                      with_table1: bool = True) -> tuple[Study, Study]:
    """The light and heavy staleness studies at their epoch budgets, measuring the true
    staleness every :data:`STALENESS_MEASURED_EVERY` epochs; with ``with_table1`` every
    method of Table 1 also runs at the light setting, so that Table 1 compares them at one
    (P, B, epochs)."""
    measured = (("measure_staleness_every", STALENESS_MEASURED_EVERY),)
    light_methods = ((*TABLE1_METHODS, *STALENESS_VARIANTS) if with_table1
                     else STALENESS_VARIANTS)
    return (replace(LIGHT_STALENESS, methods=light_methods, epochs=light_epochs,
                    config=measured),
            replace(HEAVY_STALENESS, epochs=heavy_epochs, config=measured))


MAP_DEPTHS = (2, 3, 4)
MAP_BATCH_PARTS = (1, 4, 10)
MAP_NUM_PARTS = (80,)
MAP_MORE_PARTS: dict[str, tuple[int, ...]] = {
    graph: (80, 160) for graph in ("amazon-computers", "amazon-computers-sparse",
                                   "coauthor-physics", "coauthor-physics-sparse")}
"""The larger graphs are also mapped at P=160: the same B then reads more of its halo stale."""
MAP_SEEDS = 3
MAP_OTHER_EPOCHS = 40
MAP_EPOCHS = {"cora": 60, "citeseer": 60, "minesweeper": 60, "tolokers": 20,
              "amazon-computers": 40, "amazon-computers-sparse": 40,
              "coauthor-physics": 40, "coauthor-physics-sparse": 40}
"""The map's epochs per dataset (others, the synthetic graph among them:
:data:`MAP_OTHER_EPOCHS`): those of the staleness studies (:data:`REFERENCE_BUDGETS`), and for
the new graphs past GAS's best epoch at P=80, B=1 (30 on Amazon Computers)."""
MAP_DATASETS = ("cora", "citeseer", "tolokers", "minesweeper", "amazon-computers",
                "amazon-computers-sparse", "coauthor-physics", "coauthor-physics-sparse")
"""The real graphs ``--grid map`` maps where the data root holds them; the ``-sparse`` variants
(20 labels per class) are the map's label-density axis."""
MAP_SYNTHETIC_NODES = 10_000
"""The synthetic graph with locality of ``--grid map``: products-shaped (the scaling benchmark's
:data:`~visagnn.bench.scaling.family.PRODUCTS_SHAPE`)
at 10^4 nodes, where GAS's epoch with products' model is seconds on one core (the scaling
reference); ``locality_graph(169_343)`` (arxiv-sized) and ``locality_graph(2_400_000)``
(products-sized) are for ``--device cuda``."""


def locality_graph(num_nodes: int = MAP_SYNTHETIC_NODES) -> Path:
    """The products-shaped synthetic graph with locality of ``num_nodes`` nodes, as a ``.pt``
    file in the cache (written once; the generator is seeded, so the file, and with it the
    runs' keys, are the same on every machine)."""
    path = cache_folder("graphs") / f"synthetic-locality-{num_nodes}.pt"
    if not path.is_file():
        data = generate_synthetic(replace(PRODUCTS_SHAPE, num_nodes=num_nodes))
        with atomic_write(path, binary=True) as handle:
            torch.save(data, handle)
    return path


def map_studies(epochs: int | Mapping[int, int] | None = None,
                num_parts: Sequence[int] = MAP_NUM_PARTS,
                depths: Sequence[int] = MAP_DEPTHS,
                batch_parts: Sequence[int] = MAP_BATCH_PARTS) -> tuple[Study, ...]:
    """The staleness map: :data:`MAP_VARIANTS` at every depth × parts P × batch size B, with
    ``epochs`` (one budget, or one per B) and the true staleness measured every
    :data:`STALENESS_MEASURED_EVERY` epochs, as in the staleness studies, so that a map cell at
    their setting is their cell."""
    measured = ("measure_staleness_every", STALENESS_MEASURED_EVERY)
    return tuple(
        Study(f"staleness map ({depth} layers, P={parts}, B={batch})", MAP_VARIANTS,
              batch_parts=lambda dataset, batch=batch: (batch,), num_parts=parts,
              epochs=epochs.get(batch) if isinstance(epochs, Mapping) else epochs,
              config=(("num_layers", depth), measured))
        for depth in depths for parts in num_parts for batch in batch_parts)


def map_grid(datasets: Sequence[str] | None = None, seeds: int = MAP_SEEDS,
             epochs: int | None = None, device: str = "cpu", root: str | None = None,
             methods: Sequence[str] | None = None) -> Grid:
    """``--grid map``: :func:`map_studies` on :data:`MAP_DATASETS` that the data root holds and
    the synthetic graph with locality (``datasets`` replaces that choice), at
    :data:`MAP_EPOCHS` (``epochs`` replaces them) with ``seeds`` seeds."""
    chosen = (list(datasets) if datasets is not None
              else [*[d for d in MAP_DATASETS if has_files(d, root)], str(locality_graph())])
    studies = {dataset: map_studies(epochs or MAP_EPOCHS.get(dataset.lower(), MAP_OTHER_EPOCHS),
                                    MAP_MORE_PARTS.get(dataset.lower(), MAP_NUM_PARTS))
               for dataset in chosen}
    return build_grid("map", studies, range(seeds), None, device, root, methods)


LIGHT_BATCH_PARTS = 10
HEAVY_BATCH_PARTS = 1
STALENESS_PARTS = 80
LAMBDA_PAPER_FORM = Study("λ, paper form (Table 6)", (f"visagnn-sum {PAPER_FORM}",),
                          sweep=Sweep("lam", TABLE6_LAMBDAS))
"""Table 6 for VISAGNN-Sum's paper form (the staleness loss on)."""


@dataclass(frozen=True)
class ReferenceBudget:
    """Epochs and seeds of one dataset's reference studies.

    Args:
        light_epochs, heavy_epochs: epochs at the light (B=10) and heavy settings; a map cell
            at B=10 gets ``light_epochs``, every other ``heavy_epochs``, so that the map's cells
            at the staleness studies' settings are theirs.
        seeds: seeds of the staleness studies and the λ study. (default: 3)
        map_seeds: seeds of the staleness map. (default: :data:`MAP_SEEDS`)
        with_light: the light staleness study (B=10). (default: True)
        with_heavy: the heavy staleness study, at P=80, B=1 and at the map's heavy-staleness
            cells. (default: True)
        with_table1: every method of Table 1 at the light setting too. (default: True)
        with_lambda: the λ study of the paper form at the light setting. (default: True)
        with_map: the staleness map (:func:`map_studies`). (default: True)
        map_depths: the map's depths L. (default: :data:`MAP_DEPTHS`)
        map_batch_parts: the map's batch sizes B. (default: :data:`MAP_BATCH_PARTS`)

    Raises:
        ValueError: for Table 1 or the λ study without the light setting they run at.
    """

    light_epochs: int
    heavy_epochs: int
    seeds: int = 3
    map_seeds: int = MAP_SEEDS
    with_light: bool = True
    with_heavy: bool = True
    with_table1: bool = True
    with_lambda: bool = True
    with_map: bool = True
    map_depths: tuple[int, ...] = MAP_DEPTHS
    map_batch_parts: tuple[int, ...] = MAP_BATCH_PARTS

    def __post_init__(self) -> None:
        if (self.with_table1 or self.with_lambda) and not self.with_light:
            raise ValueError("Table 1 and the λ study run at the light staleness setting: "
                             "with_table1 and with_lambda need with_light")

    def planned_map_cells(self) -> set[tuple[int, int, int]]:
        """The (depth, P, B) of every cell of this budget's map (none without the map)."""
        return {(depth, parts, batch) for depth in self.map_depths for parts in MAP_NUM_PARTS
                for batch in self.map_batch_parts} if self.with_map else set()

    def epochs_at(self, batch_parts: int) -> int:
        return self.light_epochs if batch_parts == LIGHT_BATCH_PARTS else self.heavy_epochs


REFERENCE_BUDGETS: dict[str, ReferenceBudget] = {
    # every study; the map at B = 1 and 10 (B = 4 would add 1,000 core-seconds)
    "cora": ReferenceBudget(60, 60, map_batch_parts=(1, 10)),
    # Table 1 and the heavy study are Cora's: here the light study and λ (0.2 core-hours)
    "citeseer": ReferenceBudget(60, 60, with_heavy=False, with_table1=False, with_map=False),
    # the map at 2 layers, B = 1 and 10 only: the oracle takes 21 s/epoch at B=1 (1.3
    # core-hours at 30 epochs; the best epoch is the last in 2 of 9 runs at B=1, 5 of 9 at B=10)
    "amazon-computers": ReferenceBudget(30, 30, with_light=False, with_heavy=False,
                                        with_table1=False, with_lambda=False,
                                        map_depths=(2,), map_batch_parts=(1, 10)),
    # the largest of the four (519k edges; the oracle 40 s/epoch at B=1): 20 epochs, the
    # staleness studies, no map
    "tolokers": ReferenceBudget(20, 20, with_table1=False, with_map=False),
    # budgets well past GAS's best validation epoch at either setting (the reference report)
    "minesweeper": ReferenceBudget(80, 60, with_table1=False),
}
"""Epochs, seeds and studies of the reference grid per dataset (others get Cora's): every
dataset at P=80 parts, light staleness (B=10) and heavy (B=1, and the map's heavy-staleness
cells once the map has run); on Cora every method of Table 1 at the light setting; the
λ study of the paper form; the staleness map. :func:`visagnn.bench.cost.grid_cost` says what a
budget costs."""
REFERENCE_DATASETS = ("cora", "amazon-computers", "citeseer")
"""The datasets of the committed reference (reports/reference/), regenerated in one sitting on
a 2-core machine, 2.5 core-hours measured (Cora first: its map chooses the heavy cells early);
Minesweeper's budget (another 1.5) and Tolokers' (2.5, its oracle alone 0.7) run with
``--datasets``."""
REFERENCE_RESULTS = Path(__file__).parents[2] / "reports" / "reference" / "results"
"""The committed reference store, whose staleness map chooses the heavy cells."""


def budget_for(dataset: str, budgets: Mapping[str, ReferenceBudget] | None = None
               ) -> ReferenceBudget:
    """``dataset``'s budget in ``budgets`` (default: :data:`REFERENCE_BUDGETS`); Cora's
    reference budget for a dataset without one."""
    return (REFERENCE_BUDGETS if budgets is None else budgets).get(dataset.lower(),
                                                                   REFERENCE_BUDGETS["cora"])


def heavy_studies(cells: Iterable[tuple[int, int, int]], budget: ReferenceBudget
                  ) -> tuple[Study, ...]:
    """The heavy-staleness study (:data:`HEAVY_STALENESS_VARIANTS`) at each (depth, parts P,
    batch size B) of ``cells``, at the budget's epochs for B."""
    measured = ("measure_staleness_every", STALENESS_MEASURED_EVERY)
    return tuple(
        replace(HEAVY_STALENESS, name=f"staleness, heavy ({depth} layers, P={parts}, B={batch})",
                batch_parts=lambda dataset, batch=batch: (batch,), num_parts=parts,
                epochs=budget.epochs_at(batch), config=(("num_layers", depth), measured))
        for depth, parts, batch in cells)


def mapped_heavy_cells(results: str | Path,
                       budgets: Mapping[str, ReferenceBudget] | None = None
                       ) -> dict[str, list[tuple[int, int, int]]]:
    """Per dataset whose whole staleness map the store ``results`` holds (every cell of its
    budget's map, :meth:`ReferenceBudget.planned_map_cells`, at the budget's map seeds;
    ``budgets`` default to :data:`REFERENCE_BUDGETS`), its heavy-staleness cells as (depth, P,
    B) (:func:`visagnn.bench.staleness_map.heavy_cells`; none: an empty list). A dataset with
    only some cells or seeds (the staleness studies' own cells, or a map still running) is not
    mapped yet."""
    from visagnn.bench.report import load  # reads a store: only where a grid asks for it

    runs = load(results).runs
    mapped = staleness_map(runs)
    chosen = {}
    for dataset, cells in mapped.groupby("dataset", sort=False):
        budget = budget_for(str(dataset), budgets)
        stored = {(int(row.num_layers), int(row.num_parts), int(row.batch_parts))
                  for row in cells.itertuples() if row.seeds >= budget.map_seeds}
        if budget.with_map and budget.planned_map_cells() <= stored:
            chosen[str(dataset)] = []
    for row in heavy_cells(runs).itertuples():
        if row.dataset in chosen:
            chosen[row.dataset].append((int(row.num_layers), int(row.num_parts),
                                        int(row.batch_parts)))
    return chosen


def reference_studies(budget: ReferenceBudget,
                      heavy: Sequence[tuple[int, int, int]] | None = None
                      ) -> tuple[tuple[Study, ...], tuple[Study, ...]]:
    """A dataset's reference studies of ``budget``: the map's (at ``budget.map_seeds``) and
    those at ``budget.seeds`` seeds: the light study, the heavy study at P=80, B=1 and at the
    cells ``heavy`` (the map's heavy-staleness cells), the λ study."""
    light, fixed_heavy = staleness_studies(budget.light_epochs, budget.heavy_epochs,
                                           budget.with_table1)
    studies = [light] if budget.with_light else []
    if budget.with_heavy:
        studies += [fixed_heavy, *heavy_studies(heavy or (), budget)]
    if budget.with_lambda:
        studies.append(replace(
            LAMBDA_PAPER_FORM, batch_parts=lambda dataset: (LIGHT_BATCH_PARTS,),
            num_parts=STALENESS_PARTS, epochs=budget.light_epochs,
            config=(("measure_staleness_every", STALENESS_MEASURED_EVERY),)))
    mapped = (map_studies({batch: budget.epochs_at(batch) for batch in budget.map_batch_parts},
                          depths=budget.map_depths, batch_parts=budget.map_batch_parts)
              if budget.with_map else ())
    return mapped, tuple(studies)


def reference_grid(datasets: Sequence[str] | None = None, seeds: int | None = None,
                   epochs: int | None = None, device: str = "cpu", root: str | None = None,
                   methods: Sequence[str] | None = None,
                   budgets: Mapping[str, ReferenceBudget] | None = None,
                   heavy_from: str | Path | None = REFERENCE_RESULTS) -> Grid:
    """The committed reference results (:func:`reference_studies` of each dataset's
    :data:`REFERENCE_BUDGETS`, or ``budgets``; other datasets get Cora's) on ``datasets``
    (default: :data:`REFERENCE_DATASETS`, or every dataset of ``budgets``), ``seeds`` replacing
    every study's seeds when given. The heavy-staleness study runs at P=80, B=1 and at the
    heavy cells of the staleness map stored in ``heavy_from`` (:func:`mapped_heavy_cells`) for
    every dataset mapped there: planned again once the map is stored (``python -m visagnn
    grid`` does, :func:`~visagnn.bench.runner.run_grid`'s ``replan``), the grid reaches the
    runs that it plans on its own store. A dataset's map cells come first, so that its heavy
    cells are known early."""
    default = list(REFERENCE_DATASETS) if budgets is None else list(budgets)
    budgets = REFERENCE_BUDGETS if budgets is None else budgets
    chosen = default if datasets is None else list(datasets)
    heavy = mapped_heavy_cells(heavy_from, budgets) if heavy_from is not None else {}
    cells: list[Cell] = []
    for dataset in chosen:
        budget = budget_for(dataset, budgets)
        mapped, studies = reference_studies(budget, heavy.get(dataset_label(dataset)))
        for group, count in ((mapped, budget.map_seeds), (studies, budget.seeds)):
            if group:
                cells += build_grid("reference", {dataset: group}, range(seeds or count),
                                    epochs, device, root, methods).cells
    return Grid("reference", merge_cells(cells))


GRIDS: dict[str, Callable[..., Grid]] = {"demo": demo_grid, "map": map_grid,
                                         "paper": paper_grid, "reference": reference_grid}
