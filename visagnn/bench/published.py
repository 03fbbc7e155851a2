"""The paper's published accuracies, shown beside ours in the report's accuracy table.

From ``visagnn-paper.md``, Table 1 ("Accuracy comparison (%) with major baselines"): test
accuracy in percent, mean ± std as printed, one row per method, columns REDDIT, ogbn-arxiv and
ogbn-products. ``OOM`` is the paper's entry for full-batch methods on ogbn-products; methods
the paper lists without a number ("—") are left out. SANCUS's, S3's and SAT's rows are the
paper's Table 7 ("Performance Comparison with Additional Baselines", ogbn-arxiv and
ogbn-products only); REST is in neither table.
"""

from __future__ import annotations

PAPER_TABLE = "VISAGNN paper, Tables 1 and 7"

PUBLISHED: dict[str, dict[str, str]] = {
    "reddit": {
        "sage": "95.4 ± 0.1", "fastgcn": "93.7 ± 0.1", "ladies": "92.8 ± 0.1",
        "clustergcn": "96.6 ± 0.1", "graphsaint": "97.0 ± 0.1", "sgc": "96.4 ± 0.1",
        "gcn": "95.4 ± 0.1", "gat": "95.7 ± 0.1", "appnp": "96.1 ± 0.2", "vrgcn": "94.1 ± 0.2",
        "mvsgnn": "94.9 ± 0.1", "gas": "95.7 ± 0.1",
        "graphfm": "95.6 ± 0.2", "refresh": "95.4 ± 0.2", "lmc": "96.2 ± 0.1",
        "visagnn-cat": "96.5 ± 0.2", "visagnn-sum": "96.6 ± 0.2",
    },
    "ogbn-arxiv": {
        "sage": "71.5 ± 0.2", "gcn": "71.6 ± 0.1", "gat": "71.5 ± 0.2", "appnp": "71.8 ± 0.1",
        "vrgcn": "71.5 ± 0.1", "mvsgnn": "71.6 ± 0.1", "gas": "71.7 ± 0.2", "graphfm": "71.9 ± 0.2",
        "refresh": "70.4 ± 0.2",
        "lmc": "72.2 ± 0.1", "sancus": "66.6 ± 0.3", "s3": "72.5 ± 0.3", "sat": "71.7 ± 0.2",
        "visagnn-cat": "73.0 ± 0.1",
        "visagnn-sum": "73.2 ± 0.2",
    },
    "ogbn-products": {
        "sage": "78.7 ± 0.1", "clustergcn": "79.0 ± 0.2", "graphsaint": "79.1 ± 0.3",
        "gcn": "OOM", "gat": "OOM", "appnp": "OOM", "vrgcn": "76.3 ± 0.3", "mvsgnn": "76.9 ± 0.1",
        "gas": "77.0 ± 0.3", "graphfm": "77.2 ± 0.2", "refresh": "78.7 ± 0.2",
        "lmc": "77.5 ± 0.3", "sancus": "78.8 ± 0.3", "s3": "76.9 ± 0.3", "sat": "79.1 ± 0.3",
        "visagnn-cat": "79.9 ± 0.3",
        "visagnn-sum": "80.2 ± 0.2",
    },
}
"""Dataset → method → the paper's Table 1 (SANCUS, S3, SAT: Table 7) entry."""
