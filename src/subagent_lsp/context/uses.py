"""A declaration's uses, as the reference index names them and as they occur in each file's
syntax tree: where names are used, not in imports, strings or comments. Reads files: worker
threads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from tree_sitter import Node

from ..overlay import DocumentSnapshot
from ..syntax.source import SourceFile
from ..syntax.tree import ancestors
from .references import ReferenceIndex, Use
from .symbols import Lookup

_USE_NODES = frozenset(
    {"identifier", "type_identifier", "shorthand_property_identifier", "property_identifier"}
)


def every_use(
    index: ReferenceIndex | None,
    path: Path,
    name: str,
    documents: Mapping[Path, DocumentSnapshot],
    *,
    settle: bool = True,
) -> list[Use]:
    """The declaration's own file first (its uses there are found by reading it), then the files
    the index says use it (none while it is not built)."""
    found = index.uses(path, name, documents, settle=settle) if index is not None else None
    return [Use(path, name), *(found or [])]


def use_source(use: Use, path: Path, src: SourceFile, lookup: Lookup) -> SourceFile | None:
    """The parsed file of a use of a declaration of ``path``: ``src`` itself, or read."""
    return src if use.path == path else lookup.source(use.path)


def occurrences(src: SourceFile, local: str, skip: tuple[int, int] | None = None) -> list[Node]:
    """Where a name (or `ns.name`) is used in a file: not in imports, strings or comments."""
    return src.remember(("occurrences", local, skip), lambda: _occurrences(src, local, skip))


def _occurrences(src: SourceFile, local: str, skip: tuple[int, int] | None) -> list[Node]:
    if "." in local:
        namespace, name = local.split(".", 1)
        pattern = rf"(?<![\w$]){re.escape(namespace)}\s*\.\s*({re.escape(name)})(?![\w$])"
    else:
        pattern = rf"(?<![\w$])({re.escape(local)})(?![\w$])"
    found: list[Node] = []
    for match in re.finditer(pattern, src.text):
        start, end = match.span(1)
        if skip is not None and skip[0] <= start < skip[1]:
            continue
        node = src.node_at(start, end)
        if node.type not in _USE_NODES or src.node_span(node) != (start, end):
            continue
        if node.type == "property_identifier" and "." not in local:
            continue
        if any(a.type in ("import_statement", "export_clause") for a in ancestors(node)):
            continue
        found.append(node.parent if "." in local and node.parent is not None else node)
    return found
