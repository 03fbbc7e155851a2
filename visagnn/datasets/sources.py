"""Where each dataset family's files are published, and how to point visagnn at a mirror.

Every URL visagnn downloads from is ``<base URL of the family>/<file name>``. The base URLs
below are the ones PyG, OGB and OGB-LSC download from; ``VISAGNN_MIRROR_<FAMILY>`` (e.g.
``VISAGNN_MIRROR_OGB=https://mirror.example.org/ogb``) replaces a family's base URL, for a
mirror that keeps the original file names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIRROR_ENV_PREFIX = "VISAGNN_MIRROR_"

BASE_URLS: dict[str, str] = {
    # PyG's Planetoid.url: the raw ind.<name>.* files of Yang et al. (2016)
    "planetoid": "https://github.com/kimiyoung/planetoid/raw/master/data",
    # PyG's HeterophilousGraphDataset.url: <name>.npz of Platonov et al. (2023)
    "heterophilous": "https://github.com/yandex-research/heterophilous-graphs/raw/main/data",
    # PyG's Coauthor.url and Amazon.url: the .npz files of Shchur et al. (2018)
    "shchur": "https://github.com/shchur/gnn-benchmark/raw/master/data/npz",
    # PyG's Reddit.url: DGL's reddit.zip
    "reddit": "https://data.dgl.ai/dataset",
    # the url row of ogb's nodeproppred/master.csv: one zip per dataset
    "ogb": "http://snap.stanford.edu/ogb/data/nodeproppred",
    # ogb.lsc.MAG240MDataset.url
    "mag240m": "https://dgl-data.s3-accelerate.amazonaws.com/dataset/OGB-LSC",
}
"""Dataset family -> base URL of its original host."""


def mirror_env(family: str) -> str:
    """The environment variable that overrides ``family``'s base URL."""
    return f"{MIRROR_ENV_PREFIX}{family.upper()}"


def base_url(family: str) -> str:
    """``$VISAGNN_MIRROR_<FAMILY>`` when set, else the family's entry in :data:`BASE_URLS`."""
    return (os.environ.get(mirror_env(family)) or BASE_URLS[family]).rstrip("/")


@dataclass(frozen=True)
class RemoteFile:
    """One file published by a family's host, and where it lands under the data root.

    Attributes:
        family: key of :data:`BASE_URLS`.
        name: file name under the family's base URL, e.g. ``'ind.cora.x'`` or ``'arxiv.zip'``.
        destination: path relative to the data root: the file itself, or, for a ``.zip``, the
            folder its members are unpacked into.
        strip: for a ``.zip``, the leading folder of every member (``'arxiv/'`` in OGB's
            ``arxiv.zip``), removed on unpacking; ``''`` when members sit at the top.
    """

    family: str
    name: str
    destination: str
    strip: str = ""

    @property
    def url(self) -> str:
        return f"{base_url(self.family)}/{self.name}"

    @property
    def is_zip(self) -> bool:
        return self.name.endswith(".zip")
