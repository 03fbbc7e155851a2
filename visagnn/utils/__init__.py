"""Layer 1, beside :mod:`visagnn.flags` and :mod:`visagnn.cli`: memory meters, atomic writes and
the cache folder. Nothing here imports torch at package level, so ``python -m visagnn --help``
stays light."""
