"""Default hyperparameters: one table with a block per dataset and, inside, a block per method.

``DEFAULTS[dataset]["*"]`` holds the :class:`~visagnn.config.RunConfig` values every method
uses on that dataset; ``DEFAULTS[dataset][method]`` what that method's own paper or code uses
there, run settings and method options alike. ``DEFAULTS["*"][method]`` applies on every
dataset. A method's block is above the dataset's, a dataset's above ``"*"``, and the values a
user sets are above all (:func:`visagnn.methods.resolve_config` for run settings,
:func:`visagnn.methods.make_options` for options, the one resolution every entry point calls).

Where the layers a method builds have no attention heads (GCN, GraphSAGE, … layers, see
:class:`visagnn.methods.Method`) and its blocks give no width, it gets the dataset's total GAT
width ``hidden_channels × heads`` (e.g. 64 × 4 = 256 on ogbn-arxiv, the width of the OGB GCN
and GraphSAGE baselines), so that every method has the same hidden width.
"""

from __future__ import annotations

from typing import Any

EVERY = "*"
"""The key of the blocks that apply to every dataset, or to every method of a dataset."""

GAS_GAT_SMALL = dict(
    hidden_channels=8, heads=8, out_heads=1, num_layers=2, dropout=0.6, lr=0.005,
    weight_decay=5e-4, epochs=400,
)
"""GAS's GAT small-benchmark settings (Fey et al., 2021, small_benchmark/conf/model/gat.yaml)."""

PLANETOID_PAPERS: dict[str, dict[str, Any]] = {
    # GCN (Kipf & Welling, 2017): 16 units, dropout 0.5, lr 0.01, L2 5e-4, 200 epochs.
    "gcn": dict(hidden_channels=16, num_layers=2, dropout=0.5, lr=0.01, weight_decay=5e-4,
                epochs=200, grad_clip=None),
    # GAT (Velickovic et al., 2018): GAS's settings above, without gradient clipping.
    "gat": dict(grad_clip=None),
    # APPNP (Gasteiger et al., 2019): 64 units, dropout 0.5, lr 0.01, L2 5e-3.
    "appnp": dict(hidden_channels=64, num_layers=2, dropout=0.5, lr=0.01, weight_decay=5e-3,
                  epochs=1000, grad_clip=None),
    # GraphSAGE has no Planetoid setting: the GCN paper's regularisation, 256 units, lr 0.01.
    "sage": dict(hidden_channels=256, num_layers=2, dropout=0.5, lr=0.01, weight_decay=5e-4,
                 epochs=200, grad_clip=None),
    # FastGCN's official Planetoid code (matenure/FastGCN, pubmed_Mix_sampleA.py): 16 units,
    # L2 5e-4 (first layer), 200 epochs, batches of 1024 (lr, dropout: its block in EVERY).
    "fastgcn": dict(hidden_channels=16, num_layers=2, weight_decay=5e-4, epochs=200,
                    batch_size=1024),
}
"""The settings the GCN, GAT, APPNP, GraphSAGE and FastGCN papers or codes use on Cora,
CiteSeer and PubMed (SANCUS: GCN's)."""
PLANETOID_PAPERS["sancus"] = PLANETOID_PAPERS["gcn"]  # SANCUS trains that GCN over ranks

HETEROPHILOUS = dict(heads=4, dropout=0.2, weight_decay=0.0, epochs=200)

DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    EVERY: {
        # SGC (Wu et al., 2019) and its official code, on every dataset.
        "sgc": dict(lr=0.2, epochs=100, dropout=0.0, grad_clip=None),
        # GraphFM-OB's momentum for its smaller graphs (ogbn-arxiv, flickr).
        "graphfm": dict(momentum=0.1),
        # LMC's score function in its configurations (conf_large/model/gcn.yaml, gcn2.yaml).
        "lmc": dict(score="linear"),
        # FastGCN's official code (matenure/FastGCN, pubmed_Mix_sampleA.py and
        # train_batch_multiRank_inductive_reddit_Mixlayers_sampleA.py): Adam lr 0.01, dropout 0,
        # no clipping. Batch size 256 and 400 nodes per layer: FastGCNOptions' defaults.
        "fastgcn": dict(lr=0.01, dropout=0.0, grad_clip=None),
        # LADIES' official code (acbull/LADIES, pytorch_ladies.py): --nhid 256, dropout 0.2,
        # Adam at torch's default lr 1e-3 without weight decay, clip_grad_norm_ 0.2. Batch size
        # 512 and 64 nodes per layer: LADIESOptions' defaults.
        "ladies": dict(hidden_channels=256, dropout=0.2, lr=1e-3, weight_decay=0.0,
                       grad_clip=0.2),
    },
    "cora": {
        EVERY: dict(GAS_GAT_SMALL, num_parts=40, batch_parts=10, grad_clip=1.0),
        **PLANETOID_PAPERS,
        # SGC's tuned L2: the official code's default (Cora) and DGL's reproduction of the
        # official results (CiteSeer, PubMed); the official tuned values are pickles.
        "sgc": dict(weight_decay=5e-6),
    },
    "citeseer": {
        EVERY: dict(GAS_GAT_SMALL, num_parts=24, batch_parts=8),
        **PLANETOID_PAPERS,
        "sgc": dict(weight_decay=5e-5),
    },
    "pubmed": {
        EVERY: dict(GAS_GAT_SMALL, out_heads=8, lr=0.01, weight_decay=1e-3, num_parts=4,
                    batch_parts=1),
        **PLANETOID_PAPERS,
        "sgc": dict(weight_decay=5e-5),
        # The FastGCN paper's sample size on PubMed (Chen et al., 2018): 100 nodes per layer
        # (400 on Cora and Reddit: FastGCNOptions' default).
        "fastgcn": dict(PLANETOID_PAPERS["fastgcn"], layer_size=100),
    },
    "synthetic": {EVERY: dict(hidden_channels=32, heads=4, dropout=0.3, weight_decay=0.0,
                              epochs=50, num_parts=40, batch_parts=10)},
    "tolokers": {EVERY: dict(HETEROPHILOUS, hidden_channels=32, num_parts=40, batch_parts=10)},
    "minesweeper": {EVERY: dict(HETEROPHILOUS, hidden_channels=32, num_parts=40,
                                batch_parts=10)},
    "roman-empire": {EVERY: dict(HETEROPHILOUS, hidden_channels=64)},
    "amazon-ratings": {EVERY: dict(HETEROPHILOUS, hidden_channels=64)},
    "questions": {EVERY: dict(HETEROPHILOUS, hidden_channels=32)},
    "reddit": {
        EVERY: dict(hidden_channels=64, heads=4, dropout=0.5, weight_decay=0.0, epochs=200,
                    num_parts=200, batch_parts=100),
        # GraphFM-OB's configurations (examples/lsgraph/GraphFMOB/conf/model/gcn.yaml).
        "graphfm": dict(momentum=0.5),
        # GraphSAINT's official Reddit configuration (GraphSAINT/GraphSAINT,
        # train_config/table2/reddit2_rw.yml): num_root 2000, depth 4, sample_coverage 50,
        # lr 0.01, dropout 0.1, 30 epochs.
        "graphsaint": dict(num_roots=2000, walk_length=4, sample_coverage=50, lr=0.01,
                           dropout=0.1, epochs=30),
        # FastGCN's official Reddit code (matenure/FastGCN,
        # train_batch_multiRank_inductive_reddit_Mixlayers_sampleA.py): 128 units, L2 1e-4
        # (first layer); its batches of 256 are FastGCNOptions' default.
        "fastgcn": dict(hidden_channels=128, weight_decay=1e-4),
    },
    "ogbn-arxiv": {
        EVERY: dict(hidden_channels=64, heads=4, num_layers=3, dropout=0.5, weight_decay=0.0,
                    epochs=300, num_parts=40, batch_parts=20),
        "lmc": dict(score="const"),
    },
    "ogbn-products": {
        EVERY: dict(hidden_channels=64, heads=4, num_layers=3, dropout=0.5, weight_decay=0.0,
                    epochs=200, num_parts=150, batch_parts=20),
        "graphfm": dict(momentum=0.5),
        # OGB's GraphSAINT example (snap-stanford/ogb, examples/nodeproppred/products/
        # graph_saint.py): 20000 roots (its batch_size), walk_length 3, lr 0.01. It skips the
        # normalisation (sample_coverage=0); ours keeps the default coverage.
        "graphsaint": dict(num_roots=20000, walk_length=3, lr=0.01),
    },
    "ogbn-papers100m": {EVERY: dict(hidden_channels=64, heads=4, num_layers=3, dropout=0.2,
                                    weight_decay=0.0, epochs=100, num_parts=1000,
                                    batch_parts=100)},
    # Shchur et al. (2018)'s graphs (visagnn/datasets/shchur.py), with either split: the GAT
    # width of Reddit and ogbn-arxiv (64 x 4), parts of about 170 (Computers), 230 (CS), 430
    # (Physics) and 190 (Photo, 40 parts) nodes, ten parts a batch.
    **{
        f"{graph}{split}": {EVERY: dict(hidden_channels=64, heads=4, dropout=0.5, epochs=200,
                                        num_parts=num_parts, batch_parts=10)}
        for graph, num_parts in (("coauthor-cs", 80), ("coauthor-physics", 80),
                                 ("amazon-computers", 80), ("amazon-photo", 40))
        for split in ("", "-sparse")
    },
}


def dataset_defaults(dataset: str) -> dict[str, Any]:
    """The run settings every method uses on ``dataset`` (any case; empty for unknown ones)."""
    return dict(DEFAULTS.get(dataset.lower(), {}).get(EVERY, {}))


def method_defaults(dataset: str, method: str) -> dict[str, Any]:
    """What ``method``'s own blocks say on ``dataset`` (run settings and options mixed)."""
    return {**DEFAULTS[EVERY].get(method, {}),
            **DEFAULTS.get(dataset.lower(), {}).get(method, {})}


def varying_defaults(method: str) -> set[str]:
    """The names some block of :data:`DEFAULTS` sets for ``method`` (its own blocks and every
    dataset's): its values that depend on the dataset."""
    return {name for blocks in DEFAULTS.values() for block in (blocks.get(method, {}),
                                                               blocks.get(EVERY, {}))
            for name in block}
