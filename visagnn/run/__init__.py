"""Layer 9, one run: the training loop every method shares, its summary and records, and the
``python -m visagnn run`` command."""

from visagnn.run.train import RunResult, run

__all__ = ["RunResult", "run"]
