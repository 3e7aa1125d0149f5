"""The shape ARCHITECTURE.md promises: no import cycles, modules of a readable size, one way in
to the SDK, and runners that never import the server."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGE = REPO / "src" / "subagent_lsp"
MAX_LINES = 500


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every project module ``name`` imports, those under `TYPE_CHECKING` and in functions too."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {module for module in found if module in known and module != name}


@cache
def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
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
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back_through_others() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_relative_imports_resolve_to_modules() -> None:
    graph = _graph()
    assert "subagent_lsp.syntax.source" in graph["subagent_lsp.syntax.targets"]
    assert "subagent_lsp.ids" in graph["subagent_lsp.early"]
    assert "subagent_lsp.lsp.session" in graph["subagent_lsp.lsp.actions"]


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_stay_readable(name: str) -> None:
    lines = len(_modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by what it owns"


def test_only_the_server_module_knows_the_server() -> None:
    graph = _graph()
    importers = sorted(name for name, targets in graph.items() if "subagent_lsp.server" in targets)
    assert importers == ["subagent_lsp.cli"]  # the entry point, lazily


def test_only_the_model_package_imports_the_sdk() -> None:
    importers = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            if any(n == "anthropic" or n.startswith("anthropic.") for n in names):
                importers.append(name)
    assert importers and all(name.startswith("subagent_lsp.model.") for name in importers)


def test_early_answer_loads_nothing_but_the_standard_library_and_ids() -> None:
    assert _graph()["subagent_lsp.early"] <= {"subagent_lsp", "subagent_lsp.ids"}
    assert _graph()["subagent_lsp.ids"] == set()


# The layers of ARCHITECTURE.md, top first: a module imports from its own layer and those below.
LAYERS: list[tuple[str, ...]] = [
    ("cli", "__main__"),
    ("server",),
    ("lsp",),
    ("pipeline", "prompt", "explanations"),
    ("model", "context", "overlay", "edits", "actions", "search"),
    ("backend",),
    ("syntax", "positions"),
    (
        "agents",
        "capabilities",
        "skills",
        "settings",
        "project",
        "exclusions",
        "redaction",
        "peek",
        "early",
        "ids",
    ),
]


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    for rank, members in enumerate(LAYERS):
        if top in members:
            return rank
    return len(LAYERS)  # the package itself: its version only


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_import_only_their_layer_and_below(name: str) -> None:
    upward = sorted(t for t in _graph()[name] if _layer(t) < _layer(name))
    assert upward == [], f"{name} reaches up to {upward}"
