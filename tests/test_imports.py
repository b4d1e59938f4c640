"""The import graph of `caching`: no circle anywhere, and no import that runs from a lower layer to a higher one.

Read statically with `ast`, so every import counts: at the top of a module, inside a function, under
TYPE_CHECKING. (`caching` and `caching.lab` also load names lazily from the list in their `__init__.pyi`; those
are not seen, and they all point down.) `from package import name` is an arrow to the submodule when `name` is one, else to the package.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import caching

ROOT = Path(caching.__file__).parent

# Lowest first. A module belongs to the longest name here that is it or a package holding it; "caching" alone is the
# package's own __init__. A module may import from its own layer or any layer below, never above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("caching.errors", "caching.limits"),
    ("caching.files",),
    ("caching.rules",),
    (
        "caching.call",
        "caching.pricing",
        "caching.settings",
        "caching.live",
        "caching.words",
        "caching.tables",
    ),
    ("caching.emulator", "caching.check", "caching.strands", "caching.planner", "caching.audit"),
    ("caching.lab", "caching.backend", "caching.commands", "caching.__main__", "caching.emulator.__main__", "caching"),
)

# Arrows that run upward today, each to be removed by a part of issue 18 still in flight (or by a decision still to
# take). Delete a line when the arrow is gone: `test_known_exceptions_are_still_needed` says when.
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset({})

# The emulator's state and rules (moto's models.py) know nothing of the wire: no HTTP, no JSON, no boto3.
EMULATOR_STATE = ("caching.emulator.state", "caching.emulator.records", "caching.emulator.replies")
EMULATOR_WIRE = tuple(
    f"caching.emulator.{name}"
    for name in ("emulator", "responses", "streams", "eventstream", "service", "session", "server", "invocation_log")
)
WIRE_LIBRARIES = {"json", "base64", "http", "socket", "socketserver", "urllib", "urllib3", "boto3", "botocore"}


@cache
def module_names() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    names = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ("caching", *path.relative_to(ROOT).with_suffix("").parts)
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `caching` that this module imports, anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            for alias in node.names:
                if f"{source}.{alias.name}" in known:
                    found.add(f"{source}.{alias.name}")
                elif source in known:
                    found.add(source)
    found.discard(name)
    return found


@cache  # read once per test session: the tests below only look
def import_graph() -> dict[str, set[str]]:
    names = module_names()
    return {name: imports_of(name, path, set(names)) for name, path in names.items()}


def layer_of(name: str) -> int | None:
    """The index in LAYERS of the longest entry that names this module or a package holding it."""
    matches = [
        (len(entry), index)
        for index, entries in enumerate(LAYERS)
        for entry in entries
        if name == entry or (entry != "caching" and name.startswith(entry + "."))
    ]
    return max(matches)[1] if matches else None


def libraries_of(path: Path) -> set[str]:
    """The top-level names of the absolute imports in a module, anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    found |= {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def upward(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every arrow from a module to one in a higher layer."""
    return {
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if (layer_of(target) or 0) > (layer_of(source) or 0)
    }


def test_every_module_has_a_layer() -> None:
    assert [name for name in module_names() if layer_of(name) is None] == []


def test_no_import_circle() -> None:
    assert cycles(import_graph()) == []


def test_no_import_runs_upward() -> None:
    assert sorted(upward(import_graph()) - KNOWN_UPWARD) == []


def test_known_exceptions_are_still_needed() -> None:
    """A listed exception that no longer happens must go, so the list shows only what is still wrong."""
    assert sorted(KNOWN_UPWARD - upward(import_graph())) == []


def test_the_emulator_state_knows_no_wire() -> None:
    names, graph = module_names(), import_graph()
    for name in EMULATOR_STATE:
        assert (name, sorted(graph[name] & set(EMULATOR_WIRE))) == (name, [])
        assert (name, sorted(libraries_of(names[name]) & WIRE_LIBRARIES)) == (name, [])


def test_the_walker_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Top-level, relative, inside a function and under TYPE_CHECKING: each is an arrow."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import caching.rules.usage\n"
        "from ..rules import Kind\n"
        "from ..emulator import records\n"
        "if TYPE_CHECKING:\n    from ..check.doctor import Doctor\n"
        "def later():\n    from .. import errors\n",
        encoding="utf-8",
    )
    known = {
        "caching.rules.usage",
        "caching.rules",
        "caching.emulator",
        "caching.emulator.records",
        "caching.check.doctor",
        "caching.errors",
    }
    assert imports_of("caching.strands.probe", source, known) == {
        "caching.rules.usage",
        "caching.rules",
        "caching.emulator.records",
        "caching.check.doctor",
        "caching.errors",
    }


def test_the_checks_find_a_circle_and_an_upward_arrow() -> None:
    graph = {"caching.rules.a": {"caching.rules.b"}, "caching.rules.b": {"caching.rules.a", "caching.check.c"}}
    graph["caching.check.c"] = set()
    assert cycles(graph) == [["caching.rules.a", "caching.rules.b"]]
    assert upward(graph) == {("caching.rules.b", "caching.check.c")}
