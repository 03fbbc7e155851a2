r"""A contextual stochastic block model (CSBM) graph, generated in :math:`O(N F + E)`.

Everything is vectorised torch on the CPU, driven by one seeded generator: no Python loop over
nodes or edges and no ``N x N`` matrix, so millions of nodes take seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Generator, Tensor
from torch_geometric.data import Data

from visagnn.datasets.canonical import canonical_data
from visagnn.datasets.graph_dataset import GraphDataset


@dataclass(frozen=True)
class SyntheticConfig:
    r"""Parameters of :func:`generate_synthetic`; the defaults train in seconds on a CPU.

    Args:
        num_nodes: :math:`N`, number of nodes. (default: ``10_000``)
        num_classes: :math:`C`, number of classes, ``2 <= C <= N``. (default: ``10``)
        avg_degree: :math:`d`, expected number of neighbours per node. (default: ``10.0``)
        homophily: :math:`h`, probability that an edge joins two nodes of the same class; the
            graph's edge homophily comes out close to it; ``1 / C`` makes edges ignore the
            classes. (default: ``0.7``)
        feature_signal: :math:`s`, distance of each class mean from the origin in units of the
            per-dimension noise. Two classes are told apart from features alone with error
            :math:`\Phi(-s / \sqrt{2})`. (default: ``0.75``)
        num_features: :math:`F`, feature dimension. (default: ``64``)
        locality: :math:`\ell`, probability that an edge stays inside the source's block (its
            community for a same-class edge, the matching community of the other class for a
            cross-class edge) instead of going anywhere in the target class. ``0`` is the plain
            CSBM; values near 1 give METIS parts with small halos, as in real graphs.
            (default: ``0.0``)
        community_size: :math:`S`, nodes per community within a class; used when
            ``locality > 0``. (default: ``32``)
        train_fraction, val_fraction, test_fraction: share of each class in each split; their
            sum must not exceed 1, nodes left over are in no split. (defaults: ``0.5``,
            ``0.25``, ``0.25``)
        seed: seed of the generator; the same config gives the same graph. (default: ``0``)

    Raises:
        ValueError: naming the first field out of range.
    """

    num_nodes: int = 10_000
    num_classes: int = 10
    avg_degree: float = 10.0
    homophily: float = 0.7
    feature_signal: float = 0.75
    num_features: int = 64
    locality: float = 0.0
    community_size: int = 32
    train_fraction: float = 0.5
    val_fraction: float = 0.25
    test_fraction: float = 0.25
    seed: int = 0

    def __post_init__(self) -> None:
        _require(self.num_classes >= 2, "num_classes", ">= 2", self.num_classes)
        _require(self.num_nodes >= self.num_classes, "num_nodes", ">= num_classes", self.num_nodes)
        _require(
            0 < self.avg_degree < self.num_nodes - 1,
            "avg_degree",
            "in (0, num_nodes - 1)",
            self.avg_degree,
        )
        _require(0 <= self.homophily <= 1, "homophily", "in [0, 1]", self.homophily)
        _require(self.feature_signal >= 0, "feature_signal", ">= 0", self.feature_signal)
        _require(self.num_features >= 1, "num_features", ">= 1", self.num_features)
        _require(0 <= self.locality <= 1, "locality", "in [0, 1]", self.locality)
        _require(self.community_size >= 1, "community_size", ">= 1", self.community_size)
        for field in ("train_fraction", "val_fraction", "test_fraction"):
            _require(0 <= getattr(self, field) <= 1, field, "in [0, 1]", getattr(self, field))
        total = self.train_fraction + self.val_fraction + self.test_fraction
        _require(
            total <= 1 + 1e-9,
            "test_fraction",
            "<= 1 - train_fraction - val_fraction",
            self.test_fraction,
        )


def _require(condition: bool, field: str, requirement: str, value: object) -> None:
    if not condition:
        raise ValueError(f"SyntheticConfig.{field} must be {requirement}, got {value!r}")


def load_synthetic(config: SyntheticConfig) -> GraphDataset:
    """The synthetic graph of ``config`` as a :class:`GraphDataset` named ``'synthetic'``."""
    return GraphDataset("synthetic", generate_synthetic(config), "accuracy", config.num_classes)


def generate_synthetic(config: SyntheticConfig) -> Data:
    r"""Sample a graph from the contextual stochastic block model of ``config``.

    **Labels.** Balanced classes in random order: :math:`y_i = \pi(i) \bmod C` for a uniformly
    random permutation :math:`\pi` of :math:`\{0, \dots, N-1\}`, so
    :math:`|V_c| \in \{\lfloor N/C \rfloor, \lceil N/C \rceil\}`.

    **Edges.** :math:`M = \operatorname{round}(N d / 2)` independent draws, each

    .. math::
        u \sim \mathcal{U}(V), \qquad
        c = \begin{cases} y_u & \text{with probability } h \\
                          (y_u + k) \bmod C,\ k \sim \mathcal{U}\{1, \dots, C-1\}
                          & \text{otherwise} \end{cases}, \qquad
        v \sim \begin{cases} \mathcal{U}(B_{c, \kappa(u) \bmod K_c})
                             & \text{with probability } \ell \\
                           \mathcal{U}(V_c) & \text{otherwise} \end{cases},

    kept in both directions, self-loops dropped and repeated pairs merged. For sparse graphs
    this is the stochastic block model with
    :math:`p_{\mathrm{in}} = \frac{d h C}{N}` and
    :math:`p_{\mathrm{out}} = \frac{d (1-h) C}{N (C-1)}`: expected degree :math:`d`, edge
    homophily :math:`h`.

    **Locality.** The nodes of class :math:`c`, in id order, form :math:`K_c = \lceil |V_c| / S
    \rceil` communities :math:`B_{c,0}, B_{c,1}, \dots` of :math:`S` nodes (the last may be
    smaller); :math:`\kappa(u)` is the index of :math:`u`'s community in its class. With
    :math:`\ell > 0` a share :math:`\ell` of the edges stays inside the blocks
    :math:`\{B_{c,k \bmod K_c}\}_c` of :math:`C S` nodes, so the graph has the local structure
    METIS finds in real graphs. Degree and edge homophily come out somewhat below :math:`d` and
    :math:`h` (by 8 % and 0.05 at :math:`S = 16`, :math:`\ell = 0.99`), because same-class draws
    inside a small community repeat pairs, and repeats are merged.
    :math:`\ell = 0` draws no extra random numbers: the graph is exactly the plain CSBM's.

    **Features.** Class means on a sphere of radius :math:`s` plus isotropic noise:

    .. math::
        \mu_c = s \, \frac{g_c}{\lVert g_c \rVert}, \quad g_c \sim \mathcal{N}(0, I_F), \qquad
        x_i = \mu_{y_i} + \varepsilon_i, \quad \varepsilon_i \sim \mathcal{N}(0, I_F).

    **Split.** Stratified: the nodes of each class, in random order, go to train, val, test
    in the proportions of the config's fractions (rounded per class).

    Time and memory :math:`O(N F + M)`; :math:`O(M \log M)` for sorting the edges.
    """
    generator = torch.Generator().manual_seed(config.seed)
    y = _balanced_labels(config.num_nodes, config.num_classes, generator)
    edge_index = _block_model_edges(y, config, generator)
    x = _class_mean_features(y, config, generator)
    train_mask, val_mask, test_mask = _stratified_split(y, config, generator)
    return canonical_data(x, y, edge_index, train_mask, val_mask, test_mask)


def _balanced_labels(num_nodes: int, num_classes: int, generator: Generator) -> Tensor:
    return torch.randperm(num_nodes, generator=generator) % num_classes


def _block_model_edges(y: Tensor, config: SyntheticConfig, generator: Generator) -> Tensor:
    """``[2, M]`` one direction of each drawn edge (see :func:`generate_synthetic`)."""
    num_nodes, num_classes = config.num_nodes, config.num_classes
    num_draws = round(num_nodes * config.avg_degree / 2)
    nodes_by_class = torch.argsort(y, stable=True)
    class_size = torch.bincount(y, minlength=num_classes)
    class_start = torch.cumsum(class_size, 0) - class_size

    source = torch.randint(num_nodes, (num_draws,), generator=generator)
    other = torch.rand(num_draws, generator=generator) >= config.homophily
    shift = torch.randint(1, num_classes, (num_draws,), generator=generator)
    target_class = (y[source] + other * shift) % num_classes
    # float64 keeps offset < class size for classes far beyond 2**24 nodes; clamp for rounding.
    uniform = torch.rand(num_draws, generator=generator, dtype=torch.float64)
    low, width = torch.zeros_like(source), class_size[target_class]
    # Only a positive locality draws more numbers, so locality 0 keeps the plain CSBM's stream.
    if config.locality > 0:
        local = torch.rand(num_draws, generator=generator) < config.locality
        rank_in_class = torch.empty_like(y)
        rank_in_class[nodes_by_class] = torch.arange(num_nodes) - class_start[y[nodes_by_class]]
        low, width = _community_ranges(
            rank_in_class[source], target_class, local, class_size, config.community_size
        )
    offset = torch.minimum((uniform * width).long(), width - 1)
    target = nodes_by_class[class_start[target_class] + low + offset]
    return torch.stack([source, target])


def _community_ranges(
    source_rank: Tensor, target_class: Tensor, local: Tensor, class_size: Tensor, size: int
) -> tuple[Tensor, Tensor]:
    """Per draw, the first rank within the target class and the number of candidate targets:
    the source's block (``source_rank`` is the source's rank within its own class) for
    ``local`` draws, the whole class otherwise."""
    num_communities = (class_size + size - 1) // size
    community_low = (source_rank // size) % num_communities[target_class] * size
    community_width = (class_size[target_class] - community_low).clamp(max=size)
    low = torch.where(local, community_low, 0)
    width = torch.where(local, community_width, class_size[target_class])
    return low, width


def _class_mean_features(y: Tensor, config: SyntheticConfig, generator: Generator) -> Tensor:
    directions = torch.randn(config.num_classes, config.num_features, generator=generator)
    means = config.feature_signal * directions / directions.norm(dim=1, keepdim=True)
    noise = torch.randn(config.num_nodes, config.num_features, generator=generator)
    return noise.add_(means[y])


def _stratified_split(
    y: Tensor, config: SyntheticConfig, generator: Generator
) -> tuple[Tensor, Tensor, Tensor]:
    """Train, val and test masks holding each class in the config's proportions."""
    shuffled = torch.randperm(config.num_nodes, generator=generator)
    by_class = shuffled[torch.argsort(y[shuffled], stable=True)]
    class_size = torch.bincount(y, minlength=config.num_classes)
    class_start = torch.cumsum(class_size, 0) - class_size
    rank = torch.empty_like(y)
    rank[by_class] = torch.arange(config.num_nodes) - class_start[y[by_class]]

    fractions = (config.train_fraction, config.val_fraction, config.test_fraction)
    cumulative = torch.tensor(
        [0.0, *(math.fsum(fractions[: k + 1]) for k in range(3))], dtype=torch.float64
    )
    bounds = torch.minimum(
        torch.round(cumulative[:, None] * class_size.double()).long(), class_size
    )[:, y]
    masks = [(bounds[k] <= rank) & (rank < bounds[k + 1]) for k in range(3)]
    return masks[0], masks[1], masks[2]
