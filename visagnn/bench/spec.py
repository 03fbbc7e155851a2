"""One planned benchmark run, and its key: the identity the results store files it under."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from visagnn.bench.variants import Variant, expand_variants
from visagnn.config import RunConfig
from visagnn.methods import applicable_settings, make_options, resolve_config

KEY_IGNORES = ("root",)
"""Config fields that do not change a run's result (where the data files are read from)."""
KEY_AXES = ("num_parts", "batch_parts")
"""The grid's axes: every run records them and its key hashes them, also for a method without
parts, so that each cell compares every method it lists."""


@functools.lru_cache(maxsize=64)
def _content_hash(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _graph_file(name_or_path: str) -> Path | None:
    path = Path(name_or_path)
    return path.resolve() if path.suffix.lower() == ".pt" else None


def dataset_identity(name_or_path: str) -> str | dict[str, str | None]:
    """What a run's key knows its dataset by: a name in lowercase, or a ``.pt`` file's resolved
    path and the SHA-256 of its content (two files named ``g.pt`` are two datasets, and an
    edited file is a new one; a missing file has no hash, and its run fails)."""
    path = _graph_file(name_or_path)
    if path is None:
        return name_or_path.lower()
    if not path.is_file():
        return {"path": str(path), "sha256": None}
    stat = path.stat()
    return {"path": str(path), "sha256": _content_hash(str(path), stat.st_mtime_ns, stat.st_size)}


def dataset_label(name_or_path: str) -> str:
    """How a dataset is named in summaries and reports: its lowercase name, or a file's stem and
    the first 8 hex digits of its content hash (``g-3fa2b1c0``; ``g-missing`` for a missing
    file), unambiguous across folders."""
    identity = dataset_identity(name_or_path)
    if isinstance(identity, str):
        return identity
    return f"{Path(str(identity['path'])).stem}-{(identity['sha256'] or 'missing')[:8]}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


@dataclass(frozen=True)
class RunSpec:
    """A run of the benchmark: the full run configuration and the method variant."""

    config: RunConfig
    variant: Variant

    @property
    def dataset(self) -> str:
        return dataset_label(self.config.dataset)

    @property
    def options(self) -> dict[str, Any]:
        """Every option of the method on the dataset (what ``train.run`` is given): the
        variant's, then the method's for the dataset (:mod:`visagnn.defaults`), then the
        options class's defaults, as ``python -m visagnn run`` resolves them."""
        return asdict(make_options(self.variant.method, dict(self.variant.changed),
                                   self.config.dataset))

    @property
    def key(self) -> str:
        """Readable prefix plus a hash of everything that determines the run.

        The hash covers the dataset's identity (:func:`dataset_identity`), the method, every
        option value (defaults included) and every config field that applies to the method
        (:func:`~visagnn.methods.applicable_settings`; seed, epochs, device, hyperparameters)
        and :data:`KEY_AXES`, except :data:`KEY_IGNORES`. A change of any of them, including a
        changed default, is a new run; a setting that does not apply to the method (e.g. a
        history setting for SGC) is no part of it.
        """
        hashed = {*applicable_settings(self.variant.method), *KEY_AXES} - set(KEY_IGNORES)
        config = {k: v for k, v in asdict(self.config).items() if k in hashed}
        config["dataset"] = dataset_identity(self.config.dataset)
        identity = json.dumps({"config": config, "options": self.options},
                              sort_keys=True, default=str)
        digest = hashlib.sha1(identity.encode()).hexdigest()[:12]
        prefix = _slug(f"{self.dataset}_{self.variant.method}_B{self.config.batch_parts}"
                       f"_s{self.config.seed}")
        return f"{prefix}_{digest}"


def plan_runs(
    dataset: str,
    methods: Sequence[str],
    batch_parts: Sequence[int | None] = (None,),
    seeds: Sequence[int] = (0,),
    num_parts: int | None = None,
    epochs: int | None = None,
    device: str = "cpu",
    root: str | None = None,
    config: dict[str, Any] | None = None,
) -> list[RunSpec]:
    """Every run of ``methods`` (variant specs, see :mod:`visagnn.bench.variants`) ×
    ``batch_parts`` × ``seeds`` on ``dataset``, ordered by batch size, then variant, then seed.

    ``None`` for ``batch_parts``, ``num_parts`` or ``epochs`` means the dataset's default
    (:data:`visagnn.defaults.DEFAULTS`); ``config`` holds further
    :class:`~visagnn.config.RunConfig` fields. These are the grid's, shared by every run of it
    (recorded also where they do not apply); a variant's run settings
    (:attr:`~visagnn.bench.variants.Variant.settings`) are its own, above them. Every
    configuration is resolved as ``python -m visagnn run`` resolves it
    (:func:`~visagnn.methods.resolve_config`) and validated here, before anything trains.
    """
    variants = expand_variants(methods)
    return [
        RunSpec(resolve_config(dataset, variant.method,
                               shared={**(config or {}), "seed": seed, "num_parts": num_parts,
                                       "batch_parts": parts, "epochs": epochs,
                                       "device": device, "root": root},
                               **dict(variant.settings)), variant)
        for parts in batch_parts
        for variant in variants
        for seed in seeds
    ]
