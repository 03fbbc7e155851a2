"""The graphs and settings of the scaling benchmark: products-shaped synthetic graphs of any size.

Every graph is the synthetic CSBM (:func:`~visagnn.datasets.synthetic.generate_synthetic`) with
ogbn-products' shape at a fixed average degree, so that the edges grow linearly with the nodes:

==================  =====================================================================
nodes ``N``         :data:`SCALE_NODES`: 10^4 to 2.4 × 10^6 (products has 2.45 × 10^6)
directed edges      ≈ 26 N (``avg_degree`` 27.5 before repeated pairs are merged; 62 M at
                    2.4 × 10^6, the directed edge count the issue names for products)
features, classes   100, 47 (products')
locality            ``locality`` 0.95 in communities of 128 nodes per class: a METIS batch of
                    5 parts has a halo about as large as itself
==================  =====================================================================

The model and training settings are ogbn-products' (:data:`visagnn.defaults.DEFAULTS`: GAT,
3 layers, 4 heads × 64 channels, dropout 0.5). The parts are of at most
:data:`NODES_PER_PART` nodes (and at least :data:`MIN_PARTS` of them), :data:`BATCH_PARTS` per
batch: a batch holds ``5 N / P`` nodes, growing with ``N`` up to 40,000 (from
``N ≈ 1.6 × 10^5`` on) and constant beyond. One step's activations take about 3.8 KB per edge
into the batch (measured: what autograd keeps for GATConv at 4 × 64), so about 4 GB for the
≈ 10^6 edges of a 40,000-node batch, which with the 2.4M-node graph's features, graph and
histories fits a 24 GiB machine; products' own 150 parts of which 20 per batch would need
about 30 GB for activations alone.

Exact inference (the history fill and every evaluation) visits the parts in at most 8 batches
per layer, of at most about 2 × 10^6 edges
(:func:`~visagnn.methods.partition_batches.inference_parts`): 9 parts at 2.4 × 10^6 nodes.
GATConv's forward holds about 2.4 KB per edge of the batch while it runs (measured), about
5 GB there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from visagnn.config import RunConfig, check_choices, device_type
from visagnn.datasets.synthetic import SyntheticConfig
from visagnn.history.store import HistoryDtype, HistoryPlace
from visagnn.methods import resolve_config

SCALE_NODES = (10_000, 30_000, 100_000, 300_000, 1_000_000, 2_400_000)
"""The graph sizes of ``python -m visagnn scale`` by default."""
PRODUCTS_NODES = 2_400_000
"""The products-shaped point."""
MIN_NODES = 1_000
"""The smallest graph a point accepts (:data:`MIN_PARTS` parts of 50 nodes)."""

PRODUCTS_SHAPE = SyntheticConfig(num_nodes=PRODUCTS_NODES, num_classes=47, num_features=100,
                                 avg_degree=27.5, locality=0.95, community_size=128)
"""The synthetic graph of every point, at its own ``num_nodes``."""

NODES_PER_PART = 8_000
MIN_PARTS = 20
BATCH_PARTS = 5

PARTITION = "partition"
"""The ``method`` of a partition point: METIS on the graph, timed in a process of its own (its
peak memory is METIS's, none of a method's; the scaling report gives it)."""
DEFAULT_METHODS = ("gas", "visagnn-sum")


def num_parts(num_nodes: int) -> int:
    """``P = max(MIN_PARTS, ceil(N / NODES_PER_PART))``."""
    return max(MIN_PARTS, -(-num_nodes // NODES_PER_PART))


@dataclass(frozen=True)
class ScalePoint:
    """One measurement: ``method`` (or :data:`PARTITION`) on the products-shaped graph of
    ``num_nodes`` nodes, with histories stored as ``history_dtype`` in ``history_storage``
    (:class:`~visagnn.history.store.HistoryStorage`), trained on ``device`` (``cpu`` or
    ``cuda[:N]``; a partition point always runs on the CPU).

    Raises:
        ValueError: naming the field out of range.
    """

    num_nodes: int
    method: str
    history_dtype: HistoryDtype = "float32"
    history_storage: HistoryPlace = "auto"
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.num_nodes < MIN_NODES:
            raise ValueError(f"ScalePoint.num_nodes must be >= {MIN_NODES}, got {self.num_nodes}")
        check_choices(self)
        device_type(self.device, "ScalePoint.device")

    @property
    def is_partition(self) -> bool:
        return self.method == PARTITION

    @property
    def key(self) -> str:
        """``N100000_gas``; with non-default history storage or device e.g.
        ``N100000_gas_bfloat16_cuda``; a partition point's key names none of them (its
        histories do not exist, and it runs on the CPU)."""
        settings = [] if self.is_partition else [
            value for value, default in ((self.history_dtype, "float32"),
                                         (self.history_storage, "auto"),
                                         (self.device, "cpu")) if value != default]
        return "_".join([f"N{self.num_nodes}", self.method, *settings])

    @property
    def num_parts(self) -> int:
        return num_parts(self.num_nodes)

    @property
    def batch_nodes(self) -> float:
        """Nodes per batch on average, ``N B / P``."""
        return self.num_nodes * BATCH_PARTS / self.num_parts

    def partition_point(self) -> ScalePoint:
        """The partition point this point's graph needs."""
        return ScalePoint(self.num_nodes, PARTITION)

    def synthetic_config(self) -> SyntheticConfig:
        return replace(PRODUCTS_SHAPE, num_nodes=self.num_nodes)

    def run_config(self) -> RunConfig:
        """ogbn-products' settings for ``method``, at this point's parts, one epoch."""
        config = resolve_config("ogbn-products", self.method, num_parts=self.num_parts,
                                batch_parts=BATCH_PARTS, epochs=1, download=False,
                                history_dtype=self.history_dtype,
                                history_storage=self.history_storage, device=self.device)
        return replace(config, dataset="synthetic")
