"""Dataset names and the one entry point, :func:`load_dataset`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from visagnn.datasets.custom import load_custom
from visagnn.datasets.graph_dataset import GraphDataset
from visagnn.datasets.heterophilous import (
    HETEROPHILOUS_METRICS,
    heterophilous_files,
    load_heterophilous,
)
from visagnn.datasets.mag240m import MAG240M_FILES, load_mag240m
from visagnn.datasets.ogbn import OGBN_LAYOUTS, load_ogbn, ogbn_files
from visagnn.datasets.planetoid import PLANETOID_NAMES, load_planetoid, planetoid_files
from visagnn.datasets.reddit import REDDIT_FILES, load_reddit
from visagnn.datasets.root import DatasetFiles, check_dataset_files, resolve_root
from visagnn.datasets.shchur import SHCHUR_NAMES, SPARSE_SUFFIX, load_shchur, shchur_files
from visagnn.datasets.synthetic import SyntheticConfig, load_synthetic

SYNTHETIC = "synthetic"
_FILE_LOADERS: dict[str, Callable[[str, Path, bool | None], GraphDataset]] = {
    **dict.fromkeys(PLANETOID_NAMES, load_planetoid),
    **dict.fromkeys(HETEROPHILOUS_METRICS, load_heterophilous),
    **dict.fromkeys(SHCHUR_NAMES, load_shchur),
    "reddit": load_reddit,
    **dict.fromkeys(OGBN_LAYOUTS, load_ogbn),
    "mag240m": load_mag240m,
}

_FILES: dict[str, Callable[[str, Path], DatasetFiles]] = {
    **dict.fromkeys(PLANETOID_NAMES, lambda name, root: planetoid_files(name)),
    **dict.fromkeys(HETEROPHILOUS_METRICS, lambda name, root: heterophilous_files(name)),
    **dict.fromkeys(SHCHUR_NAMES,
                    lambda name, root: shchur_files(name.removesuffix(SPARSE_SUFFIX))),
    "reddit": lambda name, root: REDDIT_FILES,
    **dict.fromkeys(OGBN_LAYOUTS, ogbn_files),
    "mag240m": lambda name, root: MAG240M_FILES,
}
"""The files each loader of :data:`_FILE_LOADERS` reads."""

DATASET_NAMES: tuple[str, ...] = (SYNTHETIC, *_FILE_LOADERS)
"""Every name :func:`load_dataset` accepts (lowercase; names are matched case-insensitively)."""


def check_dataset(name_or_path: str | os.PathLike[str],
                  root: str | os.PathLike[str] | None = None,
                  download: bool | None = None) -> None:
    """Raise what :func:`load_dataset` would for data that is not there, before any work: a
    named dataset's files are present or may be downloaded (nothing is fetched or read; see
    :func:`~visagnn.datasets.root.check_dataset_files`), a ``.pt`` graph loads.

    Raises:
        FileNotFoundError: the data root is a file, or files are missing and downloads off.
        ValueError: for an unknown name, or a ``.pt`` file that is not a readable graph.
    """
    text = os.fspath(name_or_path)
    name = text.lower()
    if name in _FILES:
        check_dataset_files(_FILES[name](name, resolve_root(root)), resolve_root(root),
                            download)
    elif name != SYNTHETIC:
        load_dataset(text)


def load_dataset(
    name_or_path: str | os.PathLike[str],
    root: str | os.PathLike[str] | None = None,
    download: bool | None = None,
    **synthetic_kwargs: Any,
) -> GraphDataset:
    """Load a dataset by name, or a user's graph from a ``.pt`` file.

    Args:
        name_or_path: one of :data:`DATASET_NAMES` (any case), or the path of a ``.pt`` file
            holding a ``torch_geometric.data.Data`` (see
            :func:`~visagnn.datasets.custom.load_custom`).
        root: folder holding the datasets' folders (``Cora/``, ``ogbn_arxiv/``, ...);
            :func:`~visagnn.datasets.root.resolve_root` picks it when ``None``. Unused for
            ``'synthetic'`` and ``.pt`` paths.
        download: whether a named dataset whose files are missing may be downloaded (into
            ``root``, or into the cache when ``root`` is read-only; see
            :func:`~visagnn.datasets.root.find_dataset`). ``None``: yes, unless
            ``$VISAGNN_NO_DOWNLOAD`` is true.
        **synthetic_kwargs: fields of
            :class:`~visagnn.datasets.synthetic.SyntheticConfig`, for ``'synthetic'`` only.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones) or a malformed graph.
        FileNotFoundError: in one line, naming the files that were expected and are missing,
            their URL, and why they could not be downloaded.
        TypeError: for keyword arguments given with a dataset other than ``'synthetic'``.
    """
    text = os.fspath(name_or_path)
    name = text.lower()
    if synthetic_kwargs and name != SYNTHETIC:
        raise TypeError(
            f"keyword arguments {sorted(synthetic_kwargs)} apply to "
            f"'{SYNTHETIC}' only, not to {text!r}"
        )
    if name == SYNTHETIC:
        return load_synthetic(SyntheticConfig(**synthetic_kwargs))
    if name in _FILE_LOADERS:
        return _FILE_LOADERS[name](name, resolve_root(root), download)
    if Path(text).suffix.lower() == ".pt":
        return load_custom(Path(text))
    raise ValueError(
        f"unknown dataset {text!r}; valid names: {', '.join(DATASET_NAMES)}, "
        f"or the path of a .pt file holding a torch_geometric Data"
    )
