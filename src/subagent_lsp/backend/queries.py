"""Drizzle queries: which tables a query chain reads or writes, what it filters and sorts by."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import ancestors, arguments, call_chain, member_parts, object_entries
from .drizzle import is_db_receiver

OPERATIONS = frozenset({"select", "selectDistinct", "insert", "update", "delete", "execute"})
"""Methods of a database handle that start a query."""
DB_METHODS = OPERATIONS | {"transaction"}
RELATIONAL_METHODS = frozenset({"findMany", "findFirst"})
"""Methods of `db.query.<table>`."""
BUILDER_METHODS = frozenset({"from", "where", "innerJoin", "leftJoin", "orderBy"})
"""Steps that only a query builder has, so `db.x.from(...)` reads as a query too."""
_FILTER_METHODS = frozenset({"where", "having"})
_TABLE_METHODS = frozenset(
    {"from", "innerJoin", "leftJoin", "rightJoin", "fullJoin", "insert", "update", "delete"}
)


def is_query_call(receiver: str, method: str) -> bool:
    """Whether `receiver.method(...)` is a step of a Drizzle query."""
    known = method in DB_METHODS or method in RELATIONAL_METHODS or method in BUILDER_METHODS
    return known and is_db_receiver(receiver)


@dataclass
class Query:
    operation: str
    tables: list[str] = field(default_factory=list)
    filters: list[tuple[str, str]] = field(default_factory=list)
    """(table variable, column) pairs the query filters on."""
    order: list[tuple[str, str]] = field(default_factory=list)


def _member_columns(node: Node | None, src: SourceFile) -> list[tuple[str, str]]:
    """`users.id`-style references inside a node, as (table variable, column)."""
    if node is None:
        return []
    found: list[tuple[str, str]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "member_expression":
            obj = current.child_by_field_name("object")
            prop = current.child_by_field_name("property")
            if obj is not None and prop is not None and obj.type == "identifier":
                found.append((src.node_text(obj), src.node_text(prop)))
                continue
        stack.extend(reversed(current.named_children))
    return found


def read_query(top: Node, src: SourceFile) -> Query | None:
    """The query the outermost call ``top`` of a chain makes, or None when it is not one."""
    links = call_chain(top, src)
    if not links or not is_db_receiver(links[0][0]):
        return None
    root = links[0][0]
    query = Query("query")
    if root.count(".") >= 2 and ".query." in f"{root}.":
        # db.query.posts.findMany({ where, orderBy, with })
        query.tables.append(root.split(".")[2])
        query.operation = links[1][0] if len(links) > 1 else "query"
        for _, args in links[1:]:
            for arg in arguments(args):
                options = object_entries(arg, src)
                query.filters += _member_columns(options.get("where"), src)
                query.order += _member_columns(options.get("orderBy"), src)
        return query
    for name, args in links[1:]:
        args_list = arguments(args)
        if name in OPERATIONS:
            query.operation = name
        if name in _TABLE_METHODS and args_list and args_list[0].type == "identifier":
            table = src.node_text(args_list[0])
            if table not in query.tables:
                query.tables.append(table)
        if name in _FILTER_METHODS:
            query.filters += _member_columns(args, src)
            query.filters += _built_conditions(args, top, src)
        if name == "orderBy":
            query.order += _member_columns(args, src)
    return query


def _built_conditions(args: Node | None, query: Node, src: SourceFile) -> list[tuple[str, str]]:
    """Columns of conditions collected in a variable first (`filters.push(eq(...))`)."""
    if args is None:
        return []
    names = set()
    stack = [args]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            names.add(src.node_text(current))
        stack.extend(current.named_children)
    body = next((a for a in ancestors(query) if a.type == "statement_block"), None)
    if body is None or not names:
        return []
    found: list[tuple[str, str]] = []
    stack = [body]
    while stack:
        current = stack.pop()
        parts = member_parts(current, src) if current.type == "call_expression" else None
        if parts is not None and parts[0] in names and parts[1] in ("push", "unshift"):
            found += _member_columns(current.child_by_field_name("arguments"), src)
            continue
        stack.extend(current.named_children)
    return found
