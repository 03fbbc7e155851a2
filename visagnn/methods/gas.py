"""GNNAutoScale (Fey et al., ICML 2021): historical embeddings for the 1-hop halo, no correction."""

from __future__ import annotations

from visagnn.methods.historical_method import HistoricalMethod
from visagnn.methods.registry import register_method


@register_method
class GAS(HistoricalMethod):
    """GAS: the halo's embeddings are read from the histories as they are (eq. 4)."""

    name = "gas"
