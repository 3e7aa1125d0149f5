"""Findings in a file, as structured facts a diagnostic can be published from.

The same facts the hovers show: input a route's handler reads that nothing validates, a filter,
join or sort column no index serves, a query that runs once per loop iteration, a foreign key no
index leads with. Only what is certain counts: unknown tables, `sql` fragments and comparisons no
ordered index serves are never findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from ..syntax.declarations import declarations
from ..syntax.source import SourceFile
from ..syntax.tree import calls_in
from .coverage import Use, analyse
from .drizzle import Relation, Table, relations_for, table_of
from .lookup import Finder
from .queries import loop_around, read_query
from .routes import route_call
from .validation import route_facts

FindingKind = Literal["unvalidated-input", "unindexed-column", "query-in-loop", "unindexed-fk"]


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    start: int
    end: int
    """Character offsets of the code the finding is about."""
    message: str


def _outermost_query_calls(src: SourceFile) -> list[Node]:
    root = src.tree.root_node
    start, end = src.node_span(root)
    calls = calls_in(src, root, start, end)
    outer = []
    for call in calls:
        parent = call.parent
        # A link of a longer chain (`db.select().from(x)` inside `.where(...)`) is not a query.
        if parent is not None and parent.type == "member_expression":
            continue
        outer.append(call)
    return outer


def findings(src: SourceFile, find: Finder) -> list[Finding]:
    """Everything worth a diagnostic in ``src``; names are looked up through ``find``."""
    out: list[Finding] = []
    tables: dict[str, Table | None] = {}
    related: dict[str, list[Relation]] = {}

    def model(name: str) -> Table | None:
        if name not in tables:
            symbol = find(name)
            tables[name] = table_of(symbol.declaration, symbol.source) if symbol else None
        return tables[name]

    def relations(name: str) -> list[Relation]:
        if name not in related:
            symbol = find(name)
            related[name] = (
                relations_for(declarations(symbol.source), symbol.declaration.name, symbol.source)
                if symbol is not None
                else []
            )
        return related[name]

    for call in _outermost_query_calls(src):
        route = route_call(src, call)
        if route is not None and route.kind == "route":
            facts = route_facts(src, route, find)
            if facts.missing:
                start, end = src.node_span(call.child_by_field_name("function") or call)
                parts = ", ".join(facts.missing)
                message = f"{route.name} reads {parts} that nothing validates"
                out.append(Finding("unvalidated-input", start, end, message))
            continue
        query = read_query(call, src)
        if query is None or not query.tables:
            continue
        start, end = src.node_span(call)
        coverage = analyse(query, model, relations)
        unserved: list[Use] = [
            u for u in (*coverage.filters, *coverage.order) if u.status == "unserved"
        ]
        unserved += [
            join.left
            for join in coverage.joins
            if not join.served and join.left.status != "unknown"
        ]
        for use in dict.fromkeys(unserved):
            role = {"filter": "Filter", "order": "Sort", "join": "Join"}.get(use.role, "Lookup")
            message = f"{role} on `{use.table}.{use.column}`: {use.how}"
            out.append(Finding("unindexed-column", start, end, message))
        loop = loop_around(call, src)
        if loop is not None:
            message = f"Query runs once per iteration of a {loop} (N+1)"
            out.append(Finding("query-in-loop", start, end, message))
    for declaration in declarations(src).values():
        table = table_of(declaration, src)
        if table is None:
            continue
        for key in table.unindexed_foreign_keys():
            message = (
                f"Foreign key `{table.variable}.{', '.join(key.columns)}` → {key.target} has no "
                "index; deletes on the parent and joins scan this table"
            )
            out.append(Finding("unindexed-fk", declaration.start, declaration.end, message))
    return out
