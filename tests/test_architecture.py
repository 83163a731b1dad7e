"""The package's architecture: subpackages in layers, imports only go down, no cycles.

The import graph is built from the source with :mod:`ast` (every ``import`` and ``from ...
import`` anywhere in a module, including those inside functions and ``TYPE_CHECKING`` blocks),
so a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
import graphlib
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kvtheory"

#: The layers, lowest first.  A module may import modules of its own layer or of a lower one.
#: The root modules (``cli``, ``commands``, ``__main__``, ``__init__``) sit on top.
LAYERS = ("model", "hardware", "engines", "optimum", "theory", "studies", "figures", "claims",
          "scorecard", "<root>")
ROOT_MODULES = {"__init__", "__main__", "cli", "commands"}


def module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the package modules it imports (absolute and relative imports resolved)."""
    top = package.name
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                cands = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[:len(here) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                cands = [mod] + [f"{mod}.{a.name}" for a in node.names]
            else:
                continue
            for c in cands:
                if c == top or c.startswith(top + "."):
                    # the longest known module prefix of the imported name
                    parts = c.split(".")
                    while parts and ".".join(parts) not in modules:
                        parts.pop()
                    target = ".".join(parts)
                    # a module's own packages are imported implicitly before it: not an edge
                    if parts and target != name and (target == top or not name.startswith(target + ".")):
                        targets.add(target)
        graph[name] = targets
    return graph


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or (len(parts) == 2 and parts[1] in ROOT_MODULES):
        return LAYERS.index("<root>")
    if parts[1] not in LAYERS:
        raise ValueError(f"{module} is in no layer (a module at the package root outside "
                         f"{sorted(ROOT_MODULES)}, or an unknown subpackage)")
    return LAYERS.index(parts[1])


def violations(package: Path) -> list[str]:
    """Every upward import and every import cycle in ``package``, as one line each."""
    graph = import_graph(package)
    out = [f"{m} (layer {LAYERS[layer(m)]}) imports {t} (layer {LAYERS[layer(t)]})"
           for m, ts in sorted(graph.items()) for t in sorted(ts) if layer(t) > layer(m)]
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        out.append("import cycle: " + " -> ".join(e.args[1]))
    return out


def test_imports_only_go_down_and_never_cycle():
    assert violations(PACKAGE) == []


def test_every_module_is_in_a_layer():
    for m in import_graph(PACKAGE):
        layer(m)                              # raises for a module outside the layers


def test_at_most_five_root_modules_and_none_over_800_lines():
    assert len(list(PACKAGE.glob("*.py"))) <= 5
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 800}
    assert long == {}


def test_the_library_never_imports_claims_figures_or_the_cli():
    graph = import_graph(PACKAGE)
    for m, ts in graph.items():
        if layer(m) < LAYERS.index("figures"):
            bad = {t for t in ts if t.split(".")[1:2] in (["claims"], ["figures"], ["cli"])}
            assert not bad, (m, bad)


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "kvtheory"
    for rel, text in {"__init__.py": "", **files}.items():
        f = pkg / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text))
    return pkg


def test_a_deliberate_upward_import_is_caught(tmp_path):
    pkg = _package(tmp_path, {
        "model/__init__.py": "",
        "model/instance.py": "def f():\n    from kvtheory.studies.a100 import x  # lazy\n",
        "studies/__init__.py": "",
        "studies/a100.py": "x = 1\n",
    })
    assert violations(pkg) == [
        "kvtheory.model.instance (layer model) imports kvtheory.studies.a100 (layer studies)"]


def test_a_deliberate_cycle_is_caught(tmp_path):
    pkg = _package(tmp_path, {
        "engines/__init__.py": "",
        "engines/a.py": "from kvtheory.engines.b import y\nx = 1\n",
        "engines/b.py": "from . import a\ny = 2\n",
    })
    (v,) = violations(pkg)
    assert v.startswith("import cycle: ") and {"kvtheory.engines.a", "kvtheory.engines.b"} <= set(
        v.removeprefix("import cycle: ").split(" -> "))


def test_a_module_outside_the_layers_is_caught(tmp_path):
    pkg = _package(tmp_path, {"helpers.py": "x = 1\n"})
    with pytest.raises(ValueError, match="in no layer"):
        layer(next(iter(m for m in import_graph(pkg) if m.endswith("helpers"))))
