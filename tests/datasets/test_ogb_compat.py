"""Tests of visagnn/datasets/ogb_compat.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from visagnn.datasets.ogb_compat import OGB_NAMES, ogb_accuracy

REPOSITORY = Path(__file__).parents[2]


def test_import_starts_no_version_check_and_unblocks_outdated() -> None:
    # A fresh interpreter: in this one ogb may already have been imported.
    script = (
        "import sys, threading\n"
        "from visagnn.datasets.ogb_compat import import_ogb\n"
        "before = threading.active_count()\n"
        "import_ogb('ogb.nodeproppred')\n"
        "import ogb.version\n"
        "assert ogb.version.check_outdated is None, 'version check armed'\n"
        "assert threading.active_count() == before, 'a thread was started'\n"
        "assert 'outdated' not in sys.modules, 'outdated left blocked'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPOSITORY, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_ogb_accuracy_matches_plain_accuracy() -> None:
    y = torch.tensor([0, 1, 2, 3, 4])
    prediction = torch.tensor([0, 1, 2, 0, 0])
    for name in OGB_NAMES:
        assert ogb_accuracy(name, prediction, y) == 0.6
