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

from visagnn.bench.spec import RunSpec, dataset_label, plan_runs
from visagnn.bench.variants import Sweep, expand_variants
from visagnn.datasets import DATASET_NAMES, load_dataset
from visagnn.datasets.registry import check_dataset
from visagnn.datasets.root import check_root, resolve_root
from visagnn.methods import METHODS, resolve_config

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

ORACLE = "gas --exact-halo"
"""GAS reading exact halo rows of the current weights at every step: no staleness at all."""
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
        """File name of the cell's executed notebook, e.g. ``ogbn-arxiv_P40_B10``."""
        parts = resolve_config(self.dataset, num_parts=self.num_parts,
                               batch_parts=self.batch_parts).num_parts
        return f"{dataset_label(self.dataset)}_P{parts}_B{self.batch_parts}"

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
            study_config = tuple(sorted({**overrides, **dict(study.config)}.items()))
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


REFERENCE_STUDIES: dict[str, tuple[Study, ...]] = {
    "cora": staleness_studies(60, 60),
    "citeseer": staleness_studies(60, 60),
    # the largest of the four (519k edges): 20 epochs, the staleness studies only
    "tolokers": staleness_studies(20, 20, with_table1=False),
    # budgets well past GAS's best validation epoch at either setting (the reference report)
    "minesweeper": staleness_studies(80, 60, with_table1=False),
}
"""The committed reference results (reports/reference/): what a 2-core CPU finishes in about
three hours of training. Every dataset at P=80 parts: light staleness (B=10) and heavy (B=1);
on Cora and CiteSeer every method of Table 1 at the light setting."""
REFERENCE_SEEDS = 5
REFERENCE_SEEDS_OF = {"tolokers": 3}
"""Fewer seeds where a run takes minutes."""


def reference_grid(datasets: Sequence[str] | None = None, seeds: int | None = None,
                   epochs: int | None = None, device: str = "cpu", root: str | None = None,
                   methods: Sequence[str] | None = None) -> Grid:
    """The committed reference results (:data:`REFERENCE_STUDIES`; other datasets get Cora's
    studies) with :data:`REFERENCE_SEEDS` seeds (:data:`REFERENCE_SEEDS_OF` per dataset), or
    ``seeds`` everywhere."""
    chosen = list(REFERENCE_STUDIES) if datasets is None else list(datasets)
    cells: list[Cell] = []
    for dataset in chosen:
        count = seeds or REFERENCE_SEEDS_OF.get(dataset.lower(), REFERENCE_SEEDS)
        studies = REFERENCE_STUDIES.get(dataset.lower(), REFERENCE_STUDIES["cora"])
        cells += build_grid("reference", {dataset: studies}, range(count), epochs, device,
                            root, methods).cells
    return Grid("reference", tuple(cells))


GRIDS: dict[str, Callable[..., Grid]] = {"demo": demo_grid, "paper": paper_grid,
                                         "reference": reference_grid}
