"""The committed reference report lives in ``reports/reference/``, apart from what a user's
grid writes (``results/``, ``reports/``: ignored by git), and loads nothing from the network."""

import re
import subprocess
from pathlib import Path

from visagnn.bench.cli import DEFAULT_REPORTS, DEFAULT_RESULTS

REPO = Path(__file__).parents[2]
CDN_SCRIPT = re.compile(r"<script[^>]+src=[\"']?(https?:)?//", re.IGNORECASE)


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                          check=False)


def test_what_a_grid_writes_by_default_is_ignored_by_git():
    written = [DEFAULT_RESULTS / "runs.jsonl", DEFAULT_RESULTS / "epochs" / "k.jsonl",
               DEFAULT_REPORTS / "index.html", DEFAULT_REPORTS / "report.html",
               DEFAULT_REPORTS / "experiments" / "synthetic_P40_B10.ipynb",
               DEFAULT_REPORTS / "figures" / "accuracy.png"]
    ignored = git("check-ignore", *map(str, written)).stdout.split()
    assert ignored == [str(path) for path in written]


def test_the_reference_report_is_tracked_in_its_own_folder():
    tracked = git("ls-files", "reports").stdout.split()
    assert tracked and all(path.startswith("reports/reference/") for path in tracked)
    assert {"reports/reference/index.html", "reports/reference/report.html",
            "reports/reference/results/runs.jsonl"} <= set(tracked)


def test_no_committed_page_loads_scripts_from_the_network():
    tracked = git("ls-files", "reports").stdout.split()
    pages = [REPO / path for path in tracked if path.endswith(".html")]
    notebooks = [path for path in tracked if path.endswith(".ipynb")]
    # every executed notebook has its page, and the index and the report are there too
    assert {str(page.relative_to(REPO)) for page in pages} >= {
        "reports/reference/index.html", "reports/reference/report.html",
        *(path.removesuffix(".ipynb") + ".html" for path in notebooks)}
    offenders = [page.name for page in pages if CDN_SCRIPT.search(page.read_text())]
    assert offenders == []
