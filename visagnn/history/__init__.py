"""Layer 6, the paper's core: history storage and its transfers (staging buffers, the push in
flight), the training clock, :class:`HistoricalModel` and its halo policies, the staleness
criteria, the true staleness of the histories and the staleness loss's targets."""

from visagnn.history.clock import Clock
from visagnn.history.model import HistoricalModel
from visagnn.history.policy import HaloPolicy
from visagnn.history.store import History, HistoryStorage, layer_histories

__all__ = ["Clock", "HaloPolicy", "HistoricalModel", "History", "HistoryStorage",
           "layer_histories"]
