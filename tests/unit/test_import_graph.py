"""The import graph of the installed package, read from the source with ``ast``.

Every ``import`` and ``from ... import`` of a dnschaos module counts as an edge, at module
level or inside a function (a lazy import only moves a cycle to run time), except those under
``if TYPE_CHECKING:``. Importing a submodule also runs its parents' ``__init__``; that is not
an edge from the parent. A string that names a dnschaos module (``"dnschaos.x.y"`` or a
``"dnschaos.x.y:function"`` reference, as ``importlib.import_module`` and actor and invariant
references load them) counts too: it is an import that happens later. Docstrings do not, and
neither do the imports inside the root package's ``__getattr__``: that is how it re-exports
the public API lazily.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "dnschaos"
# The layers above adapters and faults (DESIGN.md: dependencies point down).
LOWER_LAYERS = ("dnschaos.adapters", "dnschaos.faults")
UPPER_LAYERS = ("dnschaos.runner", "dnschaos.cli", "dnschaos.explore", "dnschaos.workloads")
# Workloads plug into the core from the side: nothing outside them imports one, except the
# root package's lazy re-exports of the public API.
WORKLOADS = "dnschaos.workloads"
STRING = "<string>"  # a module named by a string: it counts only when it names one exactly
_MODULE_STRING = re.compile(r"^(dnschaos(?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?::[A-Za-z_][\w.]*)?$")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    where: str  # file:line, for the message


def package_dirs(root: Path = ROOT) -> dict[str, Path]:
    """The package-dir mapping of pyproject.toml: installed package name -> source folder."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {name: root / folder for name, folder in mapping.items()}


def module_files(dirs: Mapping[str, Path]) -> dict[str, Path]:
    """Every .py file under the mapped folders, by its installed module name: harness/sim/x.py
    is dnschaos.sim.x, adapters/aws.py is dnschaos.adapters.aws.target, an __init__.py its package."""
    modules: dict[str, Path] = {}
    for package, folder in dirs.items():
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if "__pycache__" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


class _Imports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[str, str | None, int]] = []  # (module, imported name, line)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if self.module == PACKAGE and node.name in ("__getattr__", "__dir__"):
            return  # the root package's lazy re-exports
        self._body(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((alias.name, None, node.lineno))

    def _body(self, node: ast.AST) -> None:
        body = getattr(node, "body", [])
        first = body[0] if body else None
        for child in ast.iter_child_nodes(node):
            if (
                child is first
                and isinstance(child, ast.Expr)
                and isinstance(child.value, ast.Constant)
                and isinstance(child.value.value, str)
            ):
                continue  # a docstring
            self.visit(child)

    def visit_Module(self, node: ast.Module) -> None:
        self._body(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._body(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and (m := _MODULE_STRING.match(node.value)):
            self.found.append((m[1], STRING, node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            if node.level > 1:
                base = base[: -(node.level - 1)]
            origin = ".".join([*base, node.module] if node.module else base)
        else:
            origin = node.module or ""
        for alias in node.names:
            self.found.append((origin, alias.name, node.lineno))


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest known module that ``name`` is or lies in; None outside the project."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str, path: Path, known: set[str], root: Path = ROOT) -> list[Edge]:
    collector = _Imports(module, is_package=path.name == "__init__.py")
    collector.visit(ast.parse(path.read_text(), filename=str(path)))
    edges: list[Edge] = []
    try:
        shown = path.relative_to(root)
    except ValueError:
        shown = path
    for origin, name, line in collector.found:
        if origin != PACKAGE and not origin.startswith(PACKAGE + "."):
            continue
        if name == STRING:
            target = origin if origin in known else None
        else:
            wanted = f"{origin}.{name}" if name and f"{origin}.{name}" in known else origin
            target = _resolve(wanted, known)
        if target is None or target == module:
            continue
        edge = Edge(module, target, f"{shown}:{line}")
        if edge not in edges:
            edges.append(edge)
    return edges


def import_graph(root: Path = ROOT) -> tuple[dict[str, set[str]], list[Edge]]:
    files = module_files(package_dirs(root))
    known = set(files)
    edges = [e for m, p in files.items() for e in imports_of(m, p, known, root)]
    graph: dict[str, set[str]] = {m: set() for m in files}
    for edge in edges:
        graph[edge.source].add(edge.target)
    return graph, edges


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative. Components of one node without a self-loop are left out:
    what is returned is exactly the cycles' members."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    successors = {n: sorted(set(targets)) for n, targets in graph.items()}
    for targets in list(successors.values()):
        for t in targets:
            successors.setdefault(t, [])
    for start in sorted(successors):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(successors[node])):
                nxt = successors[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors[node]:
                    found.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found)


def shortest_cycle(graph: Mapping[str, Iterable[str]], start: str, within: set[str]) -> list[str]:
    """The shortest path start -> ... -> start inside one component (breadth first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.get(node, ())):
            if nxt not in within:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{start} is on no cycle inside {sorted(within)}")


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """For every cycle component, the shortest cycle through each member, without repeats
    (a cycle is a repeat of another when it is a rotation of it)."""
    out: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for component in strongly_connected(graph):
        members = set(component)
        for start in component:
            chain = shortest_cycle(graph, start, members)
            ring = chain[:-1]
            pivot = ring.index(min(ring))
            key = tuple(ring[pivot:] + ring[:pivot])
            if key not in seen:
                seen.add(key)
                out.append([*key, key[0]])
    return out


def describe(chain: list[str], edges: Iterable[Edge]) -> str:
    where: dict[tuple[str, str], list[str]] = {}
    for e in edges:
        where.setdefault((e.source, e.target), []).append(e.where)
    steps = [f"    {a} -> {b}  ({', '.join(where.get((a, b), ['?']))})" for a, b in pairwise(chain)]
    return " -> ".join(chain) + "\n" + "\n".join(steps)


# --------------------------------------------------------------------------- the checker's own tests


def test_the_cycle_finder_finds_the_cycles_of_a_hand_made_graph() -> None:
    graph = {
        "a": {"b"},
        "b": {"c", "d"},
        "c": {"a"},
        "d": set(),
        "e": {"e"},
        "f": {"a", "g"},
        "g": {"f"},
    }
    assert strongly_connected(graph) == [["a", "b", "c"], ["e"], ["f", "g"]]
    assert cycles(graph) == [["a", "b", "c", "a"], ["e", "e"], ["f", "g", "f"]]
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) == []
    # Two cycles sharing a node are both listed.
    assert cycles({"a": {"b", "c"}, "b": {"a"}, "c": {"a"}}) == [
        ["a", "b", "a"],
        ["a", "c", "a"],
    ]


def test_the_cycle_finder_survives_a_long_chain() -> None:
    n = 5000  # deeper than the recursion limit: the search must be iterative
    graph = {f"m{i}": {f"m{i + 1}"} for i in range(n)}
    graph[f"m{n}"] = {"m0"}
    (component,) = strongly_connected(graph)
    assert len(component) == n + 1


def test_the_collector_reads_lazy_relative_and_type_only_imports(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.setuptools.package-dir]\n"dnschaos" = "core"\n"dnschaos.plug" = "plug"\n'
    )
    core = tmp_path / "core"
    (core / "sub").mkdir(parents=True)
    (tmp_path / "plug").mkdir()
    (core / "__init__.py").write_text(
        "import importlib\n"
        "def __getattr__(name):\n"
        "    from dnschaos import a\n"
        "    return importlib.import_module('dnschaos.b')\n"
    )
    (core / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "import typing\n"
        "from dnschaos.sub import c\n"
        "if TYPE_CHECKING:\n"
        "    from dnschaos import b\n"
        "else:\n"
        "    import os\n"
        "if typing.TYPE_CHECKING:\n"
        "    import dnschaos.plug.p\n"
        "def later():\n"
        "    import dnschaos.plug.p\n"
    )
    (core / "b.py").write_text("from . import a\nfrom .sub.c import thing\n")
    (core / "sub" / "__init__.py").write_text("from ..b import x\n")
    (core / "sub" / "c.py").write_text("from .. import __version__\nfrom dnschaos.plug import q\n")
    (tmp_path / "plug" / "__init__.py").write_text("")
    (tmp_path / "plug" / "p.py").write_text("import dnschaos.sub.c\nimport json\n")

    graph, edges = import_graph(tmp_path)
    assert graph == {
        "dnschaos": set(),
        "dnschaos.a": {"dnschaos.sub.c", "dnschaos.plug.p"},
        "dnschaos.b": {"dnschaos.a", "dnschaos.sub.c"},
        "dnschaos.sub": {"dnschaos.b"},
        "dnschaos.sub.c": {"dnschaos", "dnschaos.plug"},
        "dnschaos.plug": set(),
        "dnschaos.plug.p": {"dnschaos.sub.c"},
    }
    lazy = next(e for e in edges if e.target == "dnschaos.plug.p")
    assert lazy.where == "core/a.py:11"
    assert cycles(graph) == []
    (tmp_path / "plug" / "p.py").write_text("import dnschaos.b\n")
    assert cycles(import_graph(tmp_path)[0]) == [
        ["dnschaos.a", "dnschaos.plug.p", "dnschaos.b", "dnschaos.a"]
    ]


# --------------------------------------------------------------------------- the project


def test_the_project_has_no_import_cycles() -> None:
    graph, edges = import_graph()
    assert "dnschaos.adapters.aws.target" in graph and "dnschaos.sim.scheduler" in graph
    found = cycles(graph)
    assert not found, f"{len(found)} import cycle(s):\n" + "\n".join(
        describe(chain, edges) for chain in found
    )


def _within(module: str, packages: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def test_adapters_and_faults_do_not_import_the_layers_above() -> None:
    _, edges = import_graph()
    bad = [e for e in edges if _within(e.source, LOWER_LAYERS) and _within(e.target, UPPER_LAYERS)]
    assert not bad, "adapters and faults import the layers above them (DESIGN.md):\n" + "\n".join(
        f"  {e.source} -> {e.target}  ({e.where})" for e in bad
    )


def test_the_core_imports_no_workload() -> None:
    """The core names no workload, by import or by string: each plugs in through the entry
    point group (dnschaos.workload). The root package's table of lazy re-exports is the one
    place that names one, for the public API."""
    _, edges = import_graph()
    bad = [
        e
        for e in edges
        if _within(e.target, (WORKLOADS,))
        and e.target != WORKLOADS  # the namespace (and the entry-point group's name)
        and not _within(e.source, (WORKLOADS,))
        and not (e.source == PACKAGE and e.where.startswith("harness/__init__.py"))
    ]
    assert not bad, "the core imports a workload:\n" + "\n".join(
        f"  {e.source} -> {e.target}  ({e.where})" for e in bad
    )


def test_string_references_count_as_imports(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.setuptools.package-dir]\n"dnschaos" = "core"\n')
    core = tmp_path / "core"
    (core / "workloads").mkdir(parents=True)
    (core / "__init__.py").write_text("")
    (core / "workloads" / "__init__.py").write_text("")
    (core / "workloads" / "w.py").write_text("")
    (core / "a.py").write_text(
        '"""Docstrings may say dnschaos.workloads.w freely."""\n'
        "import importlib\n"
        "def f():\n"
        '    """dnschaos.workloads.w"""\n'
        "    return importlib.import_module('dnschaos.workloads.w')\n"
        "REF = 'dnschaos.workloads.w:actor'\n"
        "TEXT = 'not dnschaos.workloads.w'\n"
    )
    _, edges = import_graph(tmp_path)
    assert sorted(e.where for e in edges if e.target == "dnschaos.workloads.w") == [
        "core/a.py:5",
        "core/a.py:6",
    ]
