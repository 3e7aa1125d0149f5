"""Code elsewhere that already does what the selection does: for each query the selection makes,
the function of another file that queries the same table by the same columns (and perhaps
more), an exported one named like the selection first. A route that queries a table inline is
read beside the service function that already lists those rows. Reads files: worker threads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from tree_sitter import Node

from ..backend.drizzle import table_of
from ..backend.queries import read_query
from ..backend.usage import use_site
from ..overlay import DocumentSnapshot
from ..redaction import redact
from ..syntax.declarations import Symbol
from ..syntax.source import SourceFile
from ..syntax.targets import Target
from ..syntax.tree import FUNCTIONS, ancestors, calls_in
from .items import ContextItem, excerpt
from .ranking import hops, is_test
from .references import ReferenceIndex
from .symbols import Lookup
from .uses import every_use, occurrences

_MAX_FILES = 16
"""Files that use a table, read for queries like the selection's."""
_MAX_FUNCTION_LINES = 60
_MAX_SHOWN = 1
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")

Shown = tuple[Path, SourceFile, tuple[int, int], str, str]
"""(file, its source, the function's span, its name, why it is shown)."""


def selection_queries(src: SourceFile, target: Target) -> dict[str, set[str]]:
    """The tables the selection queries (by the name it uses) and the columns each filters on."""
    start, end = target.start, target.end
    found: dict[str, set[str]] = {}
    for call in calls_in(src, src.tree.root_node, start, end):
        parent = call.parent
        if parent is not None and parent.type == "member_expression":
            continue  # not the outermost call of its chain
        query = read_query(call, src)
        for table, column in query.filters if query is not None else []:
            found.setdefault(table, set()).add(column)
    return found


def same_queries(
    path: Path,
    target: Target,
    src: SourceFile,
    known: Mapping[str, Symbol],
    lookup: Lookup,
    references: ReferenceIndex | None,
    documents: Mapping[Path, DocumentSnapshot],
) -> list[Shown]:
    """The functions of other files that query a table the selection queries, filtering on at
    least its columns, not by the primary key alone: the best first. ``known`` are the
    declarations the context found for the names the selection uses (a table among them)."""
    wanted = _words(target.enclosing_name or "")
    candidates: list[tuple[tuple[int, int, int, int], Shown]] = []
    for name, columns in selection_queries(src, target).items():
        found = known.get(name)
        table = table_of(found.declaration, found.source) if found is not None else None
        if found is None or table is None or references is None:
            continue
        keys = {c.name for c in table.columns if "primary key" in c.constraints}
        uses = every_use(references, found.path, found.declaration.name, documents)
        others = [u for u in uses if u.path != path and not is_test(u.path)]
        for use in sorted(others, key=lambda u: hops(path, u.path))[:_MAX_FILES]:
            use_src = lookup.source(use.path)
            if use_src is None:
                continue
            short = use.local.rsplit(".", 1)[-1]
            seen: set[int] = set()
            for node in occurrences(use_src, use.local):
                memo = ("use site", node.start_byte, short)
                site = use_src.remember(memo, lambda: use_site(use_src, node, short))  # noqa: B023
                filters = set(site.filters)
                if site.kind != "query" or not columns <= filters or (keys and keys <= filters):
                    continue
                function = _named_function(use_src, node)
                if function is None or function[0][0] in seen:
                    continue
                seen.add(function[0][0])
                span, fname, exported = function
                reason = (
                    f"`{fname}` also queries `{name}` filtering "
                    f"{', '.join(sorted(filters))}: code that may already do what the selection does"
                )
                rank = (
                    0 if exported else 1,
                    -len(wanted & _words(fname)),
                    len(filters - columns),
                    hops(path, use.path),
                )
                candidates.append((rank, (use.path, use_src, span, fname, reason)))
    candidates.sort(key=lambda c: c[0])
    return [shown for _, shown in candidates[:_MAX_SHOWN]]


def related_items(shown: list[Shown], display: Callable[[Path], str]) -> list[ContextItem]:
    """The functions as context items, below the code the selection reaches itself."""
    items = []
    for file, src, span, name, reason in shown:
        language = "tsx" if src.language == "tsx" else "ts"
        text = redact(excerpt(src, (span,)))
        items.append(ContextItem(4, "usage", display(file), name, reason, text, None, language, 2))
    return items


def _words(name: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(name) if len(w) > 2}


def _named_function(src: SourceFile, node: Node) -> tuple[tuple[int, int], str, bool] | None:
    """(span, name, exported) of the named function around ``node``, when short enough."""
    for current in ancestors(node):
        if current.type not in FUNCTIONS:
            continue
        holder, name_node = current, current.child_by_field_name("name")
        if current.type in ("arrow_function", "function_expression"):
            declarator = current.parent
            if declarator is None or declarator.type != "variable_declarator":
                continue  # a callback: the function around it is the one
            name_node = declarator.child_by_field_name("name")
            holder = declarator.parent or declarator
        if name_node is None:
            return None
        parent = holder.parent
        exported = parent is not None and parent.type == "export_statement"
        if exported and parent is not None:
            holder = parent
        start, end = src.node_span(holder)
        if src.line_of(end - 1) - src.line_of(start) + 1 > _MAX_FUNCTION_LINES:
            return None
        return (start, end), src.node_text(name_node), exported
    return None
