"""HTML output: executed notebooks as self-contained pages, and the index page of ``reports/``."""

from __future__ import annotations

import base64
import html
import os
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pandas as pd
from nbconvert import HTMLExporter

from visagnn.bench.report import runs_provenance
from visagnn.utils.atomic_write import atomic_write

REGENERATE = (
    ("nox -s demo", "the small grid of this page's demo: the synthetic graph, plus Cora and "
                    "CiteSeer when VISAGNN_DATA (or -- --root DIR) holds them"),
    ("nox -s reference -- --root DIR",
     "the committed reference results (reports/reference/) on the datasets under DIR, "
     "resuming where the store stopped"),
    ("nox -s benchmark -- --datasets ogbn-arxiv reddit --device cuda --seeds 5",
     "the paper's grid (Tables 1-6) on a GPU machine with the datasets downloaded"),
    ("nox -s scale", "the scaling benchmark: GAS and VISAGNN-Sum on products-shaped synthetic "
                     "graphs of 10^4 to 2.4 × 10^6 nodes against plain PyG at equal work, "
                     "into reports/scale/scale.html"),
    ("nox -s report -- --results DIR",
     "render the pages of the results store in DIR (default results/) into reports/, "
     "without training"),
    ("python -m visagnn grid --help", "every option of the grid (datasets, methods, seeds, "
                                      "epochs, device, --force, --dry-run)"),
)
"""The commands the index page shows, with what each does."""

INDEX_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 72em; padding: 0 1.5em; color: #1f2328; line-height: 1.45; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }
.meta { color: #555; } .meta b { color: #1f2328; }
.button { display: inline-block; background: #0b4f9c; color: white; padding: 0.5em 1.1em;
          border-radius: 6px; text-decoration: none; font-weight: 600; margin: 0.6em 0; }
table.origin th { width: 9em; } table.commands code { white-space: nowrap; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; }
table { border-collapse: collapse; } th, td { padding: 4px 12px; border-bottom: 1px solid #eee; }
th { background: #f3f4f6; text-align: left; } td.n { text-align: right; }
.failed { color: #b42318; font-weight: 600; } .oom { color: #b54708; font-weight: 600; }
.diverged { color: #b54708; font-weight: 600; }
.figures img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
"""

TEMPLATES = Path(__file__).parent / "templates"
"""nbconvert templates of the reports: ``offline`` (JupyterLab's, without CDN scripts)."""

STATUSES = ("ok", "oom", "diverged", "failed")
"""How a run can end, in the order the pages count them."""

GLANCE_FIGURES = ("accuracy", "convergence")
"""Saved report figures (``figures/<name>*.png``) shown on the index page."""


def _drop_blank_streams(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Without the stream outputs that are only whitespace (what a finished progress bar that
    clears itself leaves), which would show as empty boxes."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [output for output in cell.outputs
                            if output.output_type != "stream" or output.text.strip()]
    return notebook


def notebook_to_html(notebook: Path, target: Path, hide_input: bool = False) -> Path:
    """Convert an executed notebook to one HTML file with its figures embedded, that loads
    nothing from the network (JupyterLab's template without its CDN scripts)."""
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(TEMPLATES)],
                            exclude_input=hide_input,
                            exclude_input_prompt=hide_input, exclude_output_prompt=hide_input)
    node = _drop_blank_streams(nbformat.read(notebook, as_version=4))
    body, _ = exporter.from_notebook_node(node)
    _write_page(target, body)
    return target


def _write_page(target: Path, text: str) -> None:
    """Replace ``target`` whole (:func:`~visagnn.utils.atomic_write.atomic_write`)."""
    with atomic_write(target, binary=True) as handle:
        handle.write(text.encode("utf-8"))


def _counts(runs: pd.DataFrame, dataset: str, parts: int, batch: int) -> dict[str, int]:
    if runs.empty:
        return {}
    cell = runs[(runs["dataset"] == dataset) & (runs["num_parts"] == parts)
                & (runs["batch_parts"] == batch)]
    return cell["status"].value_counts().to_dict()


def _status_cells(counts: dict[str, int]) -> str:
    cells = []
    for status in STATUSES:
        value = counts.get(status, 0)
        css = f" {status}" if value and status != "ok" else ""
        cells.append(f'<td class="n{css}">{value}</td>')
    return "".join(cells)


def _cell_of(notebook: Path) -> tuple[str, int, int]:
    """(dataset, P, B) of an executed notebook named ``<dataset>_P<P>_B<B>.ipynb``."""
    dataset, parts, batch = notebook.stem.rsplit("_", 2)
    return dataset, int(parts[1:]), int(batch[1:])


def _experiments_table(reports: Path, runs: pd.DataFrame) -> str:
    """The executed notebooks of cells with runs in this store (others are another store's)."""
    notebooks = sorted((notebook for notebook in (reports / "experiments").glob("*_P*_B*.ipynb")
                        if _counts(runs, *_cell_of(notebook))), key=_cell_of)
    if not notebooks:
        return "<p>No experiment notebook has been executed yet.</p>"
    rows = []
    for notebook in notebooks:
        dataset, parts, batch = _cell_of(notebook)
        page = notebook.with_suffix(".html")
        name = html.escape(notebook.stem)
        link = f'<a href="{page.relative_to(reports)}">{name}</a>' if page.exists() else name
        rows.append(f"<tr><td>{link}</td><td>{html.escape(dataset)}</td><td class='n'>{parts}"
                    f"</td><td class='n'>{batch}</td>"
                    f"{_status_cells(_counts(runs, dataset, parts, batch))}"
                    f"<td><a href='{notebook.relative_to(reports)}'>.ipynb</a></td></tr>")
    header = "".join(f"<th>{status}</th>" for status in STATUSES)
    return ("<table><tr><th>executed notebook</th><th>dataset</th><th>P</th><th>B</th>"
            f"{header}<th></th></tr>" + "".join(rows) + "</table>")


def _figures(reports: Path) -> str:
    images = []
    for name in GLANCE_FIGURES:
        for path in sorted((reports / "figures").glob(f"{name}*.png")):
            data = base64.b64encode(path.read_bytes()).decode()
            images.append(f'<a href="report.html"><img alt="{html.escape(path.stem)}" '
                          f'src="data:image/png;base64,{data}"></a>')
    return "".join(images) or "<p>No figures yet.</p>"


def _origin(runs: pd.DataFrame, results: Path, reports: Path) -> str:
    """The header's table: which runs, on what hardware, from which commit, when."""
    store = os.path.relpath(results.resolve(), reports.resolve())
    rows = [("results store", f"<code>{html.escape(store)}</code> (relative to this page)")]
    if runs.empty:
        rows.append(("runs", "none yet"))
    else:
        counts = runs["status"].value_counts()
        statuses = ", ".join(f"{counts[s]} {s}" for s in STATUSES if s in counts)
        datasets = ", ".join(html.escape(d) for d in dict.fromkeys(runs["dataset"]))
        fields = runs_provenance(runs)
        rows += [
            ("runs", f"{len(runs)} ({statuses}) of {runs['variant'].nunique()} method "
                     f"variants on {datasets}; {fields['seeds']} per setting"),
            ("hardware", html.escape(fields["hardware"])),
            ("commit", f"<code>{html.escape(fields['commit'])}</code>"),
            ("dates", html.escape(fields["dates"])),
        ]
    return "<table class='origin'>" + "".join(
        f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in rows) + "</table>"


def build_index(reports: Path, runs: pd.DataFrame, results: Path,
                report_error: str | None = None) -> Path:
    """Write ``reports/index.html``: where the results come from, how to regenerate them, and
    links to the report and to every executed experiment notebook."""
    report_link = '<a class="button" href="report.html">Open the report: tables and figures</a>'
    if report_error:
        report_link += (f'<p class="failed">The report notebook failed: '
                        f'{html.escape(report_error)} (see report.html).</p>')
    commands = "".join(f"<tr><td><code>{html.escape(command)}</code></td>"
                       f"<td>{html.escape(what)}</td></tr>" for command, what in REGENERATE)
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>visagnn benchmark</title>
<style>{INDEX_CSS}</style></head><body>
<h1>visagnn benchmark</h1>
<p class="meta">VISAGNN and its peers on identical METIS partitions, seeds and timers.
Page generated {generated}.</p>
{_origin(runs, results, reports)}
{report_link}
<h2>Regenerate</h2>
<table class="commands">{commands}</table>
<p>A grid skips the runs the store has finished (<code>--force</code> trains them again) and
tries failed ones again.</p>
<h2>At a glance</h2><div class="figures">{_figures(reports)}</div>
<h2>Experiment notebooks</h2>
<p>One executed copy of <code>notebooks/experiment.ipynb</code> per dataset and batch size B
(of P METIS parts), with the number of runs that finished (ok), ran out of memory (oom), whose
loss became NaN or infinite (diverged) or that raised (failed).</p>
{_experiments_table(reports, runs)}
</body></html>
"""
    index = reports / "index.html"
    _write_page(index, page)
    return index
