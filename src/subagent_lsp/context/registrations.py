"""Where a function written on its own is registered as a route handler, elsewhere in its file or
in another (`app.get("/items", { preHandler }, listItems)`, `handler: handlers.list`): what the
menu needs to offer route actions inside it, with the path the app serves it at (the prefixes of
where its plugin or router is mounted, see `mounts.py`).

The workspace reference index says which files use the function; only those are parsed. Reads
files: worker threads (the code-action menu asks from memory, see `lsp/actions.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tree_sitter import Node

from ..backend.code_facts import RegisteredRoute
from ..backend.plugins import join_paths, route_path
from ..backend.routes import RouteCall, may_register_routes, route_call
from ..backend.validation import route_facts
from ..overlay import DocumentSnapshot
from ..syntax.source import SourceFile
from ..syntax.tree import FUNCTIONS, ancestors
from .chain import served_prefix
from .references import ReferenceIndex
from .symbols import Lookup
from .uses import every_use, occurrences, use_source

_MAX_FILES = 12


def registered_route(
    path: Path,
    src: SourceFile,
    name: str,
    lookup: Lookup,
    references: ReferenceIndex | None,
    documents: Mapping[Path, DocumentSnapshot],
) -> RegisteredRoute | None:
    """The first route registration that names the top-level function ``name`` of ``path`` as
    its handler: in its own file first, then in the files that import it."""
    # Asked while the user moves through a file: the index as it stands will do (a question
    # that settles it first reads every file opened or changed since).
    uses = every_use(references, path, name, documents, settle=False)
    for use in uses[:_MAX_FILES]:
        if use.path != path and not may_register_routes(_text(use.path, documents)):
            continue  # most users are services and tests: not worth a parse
        use_src = use_source(use, path, src, lookup)
        if use_src is None or not may_register_routes(use_src.text):
            continue
        for node in occurrences(use_src, use.local):
            route = _registration(use_src, node)
            if route is None:
                continue
            facts = route_facts(use_src, route, lambda n: lookup.find(use.path, use_src, n))  # noqa: B023
            own = facts.path if route.framework == "hono" else route_path(use_src, route)
            prefix = served_prefix(use.path, use_src, route, lookup, references, documents)
            served = join_paths(prefix, own) if prefix else own or route.url
            return RegisteredRoute(route.method, served, "schema" in facts.options, facts.missing)
    return None


def _text(path: Path, documents: Mapping[Path, DocumentSnapshot]) -> str:
    snapshot = documents.get(path)
    if snapshot is not None:
        return snapshot.text
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _registration(src: SourceFile, use: Node) -> RouteCall | None:
    """The route call whose arguments name the function (not a call inside some handler)."""
    for current in ancestors(use):
        if current.type in FUNCTIONS:
            return None
        if current.type == "call_expression":
            route = route_call(src, current)
            if route is not None:
                return route if route.kind == "route" else None
    return None
