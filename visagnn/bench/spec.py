"""One planned benchmark run, and its key: the identity the results store files it under."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from visagnn.bench.variants import Variant, expand_variants
from visagnn.config import RunConfig
from visagnn.methods import resolve_config

KEY_IGNORES = ("root",)
"""Config fields that do not change a run's result (where the data files are read from)."""


def dataset_label(name_or_path: str) -> str:
    """How a dataset is named in summaries and reports: its lowercase name, or a file's stem."""
    path = Path(name_or_path)
    return path.stem if path.suffix.lower() == ".pt" else name_or_path.lower()


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
    def key(self) -> str:
        """Readable prefix plus a hash of everything that determines the run.

        The hash covers the dataset, the method, every option value (defaults included) and
        every config field (seed, epochs, num_parts, batch_parts, device, hyperparameters), except
        :data:`KEY_IGNORES`. A change of any of them, including a changed default, is a new run.
        """
        config = {k: v for k, v in asdict(self.config).items() if k not in KEY_IGNORES}
        identity = json.dumps({"config": config, "options": self.variant.options},
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
    :class:`~visagnn.config.RunConfig` fields, and a variant's run settings
    (:attr:`~visagnn.bench.variants.Variant.settings`) override them. Every configuration is
    validated here, before anything trains.
    """
    variants = expand_variants(methods)
    return [
        RunSpec(resolve_config(dataset, variant.method, seed=seed, num_parts=num_parts,
                               batch_parts=parts, epochs=epochs, device=device, root=root,
                               **{**(config or {}), **dict(variant.settings)}), variant)
        for parts in batch_parts
        for variant in variants
        for seed in seeds
    ]
