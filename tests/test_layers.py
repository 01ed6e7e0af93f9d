"""The package's import graph: no cycle, no import hidden in a function, each package in its layer.

Read from the source with ``ast``, so it checks every module, imported by a test or not.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import langmem_agno

SRC = Path(langmem_agno.__file__).parent
# Lower layers never import higher ones. Deprecated one-line re-exports at old paths
# (SHIMS) are exempt: nothing in the package imports them.
LAYERS: dict[str, int] = {
    "errors": 0,
    "checks": 0,
    "twins": 0,
    "record": 1,
    "secrets_filter": 1,
    "scope": 1,
    "models": 1,
    "stores": 2,
    "recall": 3,
    "extraction": 4,
    "agents": 5,
    "testing": 6,
    "cli": 7,
    "server": 7,
    "__main__": 8,
    "__init__": 8,
}
SHIMS = {
    "background",
    "demo",
    "lexical",
    "middleware",
    "node",
    "plans",
    "prompting",
    "prompts",
    "scripted",
    "scripted_brains",
    "tools",
    "vectors",
    "stores.recall_index",
    "stores.recall_sqlite",
    "stores.recall_mongo",
}


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, ast.Module]:
    return {_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _top_level_imports(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and _is_type_checking(node):
            continue  # annotations only: never run
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("langmem_agno"):
            found.append(node.module.removeprefix("langmem_agno").lstrip("."))
        elif isinstance(node, ast.Import):
            ours = [a.name for a in node.names if a.name.startswith("langmem_agno")]
            found += [name.removeprefix("langmem_agno").lstrip(".") for name in ours]
    return found


def test_no_langmem_import_inside_a_function() -> None:
    hidden = []
    for name, tree in _modules().items():
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("langmem_agno"):
                    hidden.append(f"{name}: {node.module}")
                ours = isinstance(node, ast.Import) and any(
                    a.name.startswith("langmem_agno") for a in node.names
                )
                if ours:
                    hidden.append(f"{name}: import")
    assert hidden == []


def test_the_module_graph_has_no_cycle() -> None:
    graph = {name: {dep for dep in _top_level_imports(tree) if dep} for name, tree in _modules().items()}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError, naming the cycle


def test_no_module_imports_a_higher_layer_or_a_deprecated_path() -> None:
    wrong = []
    for name, tree in _modules().items():
        if name in SHIMS:
            continue
        layer = LAYERS[name.split(".")[0]]
        for dep in _top_level_imports(tree):
            if dep in SHIMS:
                wrong.append(f"{name} imports the deprecated path {dep}")
            elif dep and LAYERS[dep.split(".")[0]] > layer and name != "__init__":
                wrong.append(f"{name} (layer {layer}) imports {dep}")
    assert wrong == []


def test_every_layer_is_named() -> None:
    tops = {name.split(".")[0] for name in _modules()} - SHIMS
    assert tops <= set(LAYERS), tops - set(LAYERS)


# One job per module keeps each under this many lines; a module that passes it is split by job.
MAX_MODULE_LINES = 500


def test_every_module_is_under_the_line_limit() -> None:
    long = {
        _name(path): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
