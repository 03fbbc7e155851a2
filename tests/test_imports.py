"""The package's import graph: no cycles, no module importing a layer above its own, and the
library does not load the benchmark harness."""

import ast
import subprocess
import sys
from pathlib import Path

import visagnn

PACKAGE = Path(visagnn.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every visagnn module ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imported_modules(path, set(paths)) - {name} for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == 1:
                return stack[stack.index(child):] + [child]
            if child not in state and (cycle := visit(child)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_in_the_package():
    graph = import_graph()
    assert "visagnn.methods.registry" in graph["visagnn.methods.gas"]
    assert find_cycle(graph) is None


LAYERS: tuple[tuple[str, ...], ...] = (
    ("visagnn", "visagnn.__main__", "visagnn.utils", "visagnn.flags", "visagnn.cli"),
    ("visagnn.datasets",),
    ("visagnn.graph",),
    ("visagnn.sampling",),
    ("visagnn.nn",),
    ("visagnn.history",),
    ("visagnn.config", "visagnn.defaults"),
    ("visagnn.methods",),
    ("visagnn.run",),
    ("visagnn.bench",),
)
"""The package's layers from the ground up (``shared/design/layout.md``): graph data, samplers,
layers, the history scheme, configuration, methods, one run, the benchmark. A module may import
its own layer and the layers below it."""


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the longest prefix that names ``module`` or its package."""
    matches = [(len(prefix), index) for index, prefixes in enumerate(LAYERS)
               for prefix in prefixes
               if module == prefix or (prefix != "visagnn" and module.startswith(prefix + "."))]
    if not matches:
        raise LookupError(f"{module} belongs to no layer of LAYERS")
    return max(matches)[1]


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every ``(importer, imported)`` edge whose imported module sits in a higher layer."""
    return sorted((module, target) for module, targets in graph.items() for target in targets
                  if layer_of(target) > layer_of(module))


def test_the_layer_check_finds_an_upward_import():
    assert layer_of("visagnn.history.store") == 5 and layer_of("visagnn.graph.csr") == 2
    assert layer_of("visagnn.cli") == 0 and layer_of("visagnn.bench.scaling.cli") == 9
    graph = {"visagnn.nn.backbone": {"visagnn.history.clock", "visagnn.graph.batch"},
             "visagnn.history.clock": set(), "visagnn.graph.batch": set()}
    assert upward_imports(graph) == [("visagnn.nn.backbone", "visagnn.history.clock")]


def test_every_module_belongs_to_a_layer_and_imports_none_above_its_own():
    graph = import_graph()
    for module in graph:
        layer_of(module)
    assert upward_imports(graph) == []


def modules_loaded_by(statement: str) -> set[str]:
    code = f"{statement}; import sys; print(' '.join(sorted(sys.modules)))"
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.split())


def test_importing_the_library_loads_neither_the_harness_nor_its_dependencies():
    assert not {"visagnn.bench", "papermill", "matplotlib", "pandas", "torch"} & (
        modules_loaded_by("import visagnn"))
    # training pulls in torch_geometric, which imports pandas; never the harness
    loaded = modules_loaded_by("import visagnn.run.train, visagnn.methods, visagnn.datasets")
    assert "visagnn.run.train" in loaded
    assert not {"visagnn.bench", "papermill", "matplotlib"} & loaded


def test_the_names_users_import_stay_where_they_were():
    from visagnn.datasets import load_dataset
    from visagnn.graph import CSRGraph, PartitionedGraph, SubgraphBatch
    from visagnn.history import HistoricalModel, History, HistoryStorage
    from visagnn.run import run

    assert History.__module__ == "visagnn.history.store"
    assert CSRGraph.__module__ == "visagnn.graph.csr"
    assert {HistoricalModel.__module__, PartitionedGraph.__module__, SubgraphBatch.__module__,
            HistoryStorage.__module__, run.__module__, load_dataset.__module__} == {
        "visagnn.history.model", "visagnn.graph.partitioned", "visagnn.graph.batch",
        "visagnn.history.store", "visagnn.run.train", "visagnn.datasets.registry"}
