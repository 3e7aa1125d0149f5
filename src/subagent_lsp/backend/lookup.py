"""Following names to what they are defined as, through the finder a caller passes.

The finder decides what may be read: with peek it raises `NeedsDisk` instead of reading a file,
and that exception is left to reach the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tree_sitter import Node

from ..syntax.declarations import Symbol, declarations
from ..syntax.source import SourceFile

Finder = Callable[[str], Symbol | None]
"""Where a name used in the file at hand is declared, or None."""
_NO_PATH = Path()


@dataclass(frozen=True)
class Found:
    """A node and the file it is in (a followed name may lead to another file)."""

    src: SourceFile
    node: Node


def local_finder(src: SourceFile) -> Finder:
    """Names declared in ``src`` itself: what is known without reading any other file."""

    def find(name: str) -> Symbol | None:
        found = declarations(src).get(name)
        return Symbol(_NO_PATH, src, found) if found is not None else None

    return find


def defined_as(symbol: Symbol) -> Node | None:
    """What a declaration defines: a `const`'s value, or the function a declaration declares."""
    src, declaration = symbol.source, symbol.declaration
    value = declaration.value(src)
    if value is not None:
        return value
    for statement in src.tree.root_node.named_children:
        start, end = src.node_span(statement)
        if end <= declaration.start or start >= declaration.end:
            continue
        node = statement.child_by_field_name("declaration") or statement
        if node.type in ("function_declaration", "generator_function_declaration"):
            return node
    return None


def follow(name: str, at: SourceFile, home: SourceFile, find: Finder) -> Found | None:
    """What ``name`` used in ``at`` is defined as. ``find`` answers for the file ``home`` only;
    in any other file (reached by following a name) only that file's declarations count."""
    symbol = (find if at is home else local_finder(at))(name)
    node = defined_as(symbol) if symbol is not None else None
    return Found(symbol.source, node) if symbol is not None and node is not None else None
