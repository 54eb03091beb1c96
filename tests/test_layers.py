"""The package's layers: every import of xlfuncs runs down the layers or stays in its own, and no
module imports itself back through others. Every import statement counts, wherever it stands
(inside a function, under TYPE_CHECKING), and so do modules reached at run time by name."""
import ast
from pathlib import Path

import pytest

from helpers import ROOT

# From the bottom: what a layer may import is itself and what is listed before it. The
# package's own top-level modules (cli, supplement, __main__) are the command line, above all.
LAYERS = ("core", "engines", "products", "excel", "workbooks", "batch", "book", "cli")


def modules(package: Path) -> dict[str, Path]:
    """Every module of a package by dotted name (a package by its own name, not __init__)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def by_name(node) -> str | None:
    """The module a node reaches by its dotted name: importlib.import_module("x.y"),
    __import__("x.y"), sys.modules["x.y"]."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        return node.args[0].value if called in ("import_module", "__import__") else None
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        is_modules = isinstance(node.value, ast.Attribute) and node.value.attr == "modules"
        return node.slice.value if is_modules else None
    return None


def imports(name: str, path: Path, known: dict) -> set[str]:
    """The package's modules that module `name` imports, resolved from absolute and relative
    imports (`from package import module` imports the module), and reached at run time by its
    dotted name (by_name) or an attribute chain from the package (xlfuncs.batch.quotes). Names
    built at run time (f-strings, getattr) are not followed."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    root = next(iter(known)).split(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source not in known:
                continue
            found.add(source)
            found |= {f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in known}
        elif by_name(node) in known:
            found.add(by_name(node))
        elif isinstance(node, ast.Attribute):
            chain, inner = [node.attr], node.value
            while isinstance(inner, ast.Attribute):
                chain, inner = [inner.attr, *chain], inner.value
            if isinstance(inner, ast.Name) and inner.id == root:
                dotted = [root, *chain]
                found |= {".".join(dotted[:n]) for n in range(2, len(dotted) + 1) if ".".join(dotted[:n]) in known}
    return found - {name}


def layer(name: str) -> str:
    """A module's layer: its folder's; the package's own modules are the command line, but the
    package itself (its __init__, which must import nothing) is below everything."""
    parts = name.split(".")
    if len(parts) == 1:
        return LAYERS[0]
    return parts[1] if len(parts) > 2 or parts[1] in LAYERS else "cli"


def upward(graph: dict) -> list[str]:
    """Imports from a lower layer of one above it."""
    return [f"{name} ({layer(name)}) imports {target} ({layer(target)})" for name, targets in sorted(graph.items())
            for target in sorted(targets) if LAYERS.index(layer(target)) > LAYERS.index(layer(name))]


def cycles(graph: dict) -> list[list[str]]:
    """Import cycles, each as the modules around it (depth-first search)."""
    found, state = [], {}

    def visit(name, trail):
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                found.append(trail[trail.index(target):] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


def import_graph(package: Path) -> dict:
    known = modules(package)
    return {name: imports(name, path, known) for name, path in known.items()}


GRAPH = import_graph(ROOT / "xlfuncs")


def test_every_layer_is_a_folder_and_every_module_in_one():
    assert {layer(name) for name in GRAPH} == set(LAYERS)
    assert all((ROOT / "xlfuncs" / name).is_dir() for name in LAYERS if name != "cli")


def test_imports_run_down_the_layers():
    assert upward(GRAPH) == []


def test_no_import_cycle():
    assert cycles(GRAPH) == []


def test_the_package_itself_imports_nothing():
    """xlfuncs/__init__.py runs before any module of the package, whatever its layer."""
    assert GRAPH["xlfuncs"] == set()


@pytest.fixture
def package(tmp_path):
    """A package of the same shape to show the checks fail: a core module importing an engine
    (under TYPE_CHECKING), two engines importing each other (one inside a function), a core
    module reaching an engine through sys.modules, imported by it through importlib."""
    root = tmp_path / "xlfuncs"
    for folder in ("core", "engines"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "core" / "fields.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                             "    from ..engines import one\n")
    (root / "engines" / "one.py").write_text("from .two import value\n")
    (root / "engines" / "two.py").write_text("def value():\n    from xlfuncs.engines import one\n")
    (root / "engines" / "three.py").write_text("import importlib\nimport xlfuncs\n\n"
                                               "def later():\n    importlib.import_module('xlfuncs.core.late')\n"
                                               "    return xlfuncs.core.fields\n")
    (root / "core" / "late.py").write_text("import sys\n\nENGINE = sys.modules['xlfuncs.engines.three']\n")
    return root


def test_the_checks_find_an_upward_import_and_a_cycle(package):
    graph = import_graph(package)
    assert upward(graph) == ["xlfuncs.core.fields (core) imports xlfuncs.engines (engines)",
                             "xlfuncs.core.fields (core) imports xlfuncs.engines.one (engines)",
                             "xlfuncs.core.late (core) imports xlfuncs.engines.three (engines)"]
    assert sorted(cycles(graph)) == [["xlfuncs.core.late", "xlfuncs.engines.three", "xlfuncs.core.late"],
                                     ["xlfuncs.engines.one", "xlfuncs.engines.two", "xlfuncs.engines.one"]]
