"""What a hover can say from the code alone: routes, tables, queries and Zod schemas.

Everything here answers in milliseconds from parse trees; nothing calls the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tree_sitter import Node

from ..context.declarations import Declaration
from ..context.gather import Symbol
from ..syntax import SourceFile
from .schema_facts import Table, call_chain, read_relations, read_table, read_zod

FactKind = Literal["route", "table", "query", "schema"]
Finder = Callable[[str], Symbol | None]

_HTTP = {"get", "post", "put", "patch", "delete", "head", "options", "all"}
_SCHEMA_PARTS = ("body", "querystring", "params", "headers", "response")
_HOOKS = (
    "onRequest",
    "preParsing",
    "preValidation",
    "preHandler",
    "preSerialization",
    "onSend",
    "onResponse",
    "onError",
    "onTimeout",
)
_DB_ROOT = re.compile(r"^(db|tx|trx|database|\w+Db)$")
_FILTER_METHODS = {"where", "having"}
_TABLE_METHODS = {
    "from",
    "innerJoin",
    "leftJoin",
    "rightJoin",
    "fullJoin",
    "insert",
    "update",
    "delete",
}
_TABLE_BUILDERS = {"pgTable", "mysqlTable", "sqliteTable"}


@dataclass(frozen=True)
class HoverFacts:
    kind: FactKind
    markdown: str
    start: int
    end: int
    """The range the hover is about (what the editor highlights)."""
    code_start: int
    code_end: int
    """The code an explanation would be about."""


def _line(src: SourceFile, offset: int) -> int:
    return src.line_of(offset) + 1


def _ancestors(node: Node) -> list[Node]:
    out = [node]
    while out[-1].parent is not None:
        out.append(out[-1].parent)
    return out


def _route_call(node: Node, src: SourceFile) -> tuple[Node, str, str] | None:
    callee = node.child_by_field_name("function")
    if callee is None or callee.type != "member_expression":
        return None
    prop = callee.child_by_field_name("property")
    method = src.node_text(prop) if prop is not None else ""
    args = node.child_by_field_name("arguments")
    arguments = list(args.named_children) if args is not None else []
    if method in _HTTP and arguments and arguments[0].type in ("string", "template_string"):
        return node, method.upper(), src.node_text(arguments[0]).strip("\"'`")
    if method == "route" and arguments and arguments[0].type == "object":
        keys = _object(arguments[0], src)
        http = src.node_text(keys["method"]).strip("\"'`") if "method" in keys else "ROUTE"
        url = src.node_text(keys["url"]).strip("\"'`") if "url" in keys else "?"
        return node, http.upper(), url
    return None


def _object(node: Node, src: SourceFile) -> dict[str, Node]:
    found: dict[str, Node] = {}
    for pair in node.named_children:
        if pair.type == "pair":
            key = pair.child_by_field_name("key")
            value = pair.child_by_field_name("value")
            if key is not None and value is not None:
                found[src.node_text(key).strip("\"'")] = value
        elif pair.type == "shorthand_property_identifier":
            found[src.node_text(pair)] = pair
    return found


def route_facts(call: Node, method: str, url: str, src: SourceFile) -> str:
    args = call.child_by_field_name("arguments")
    arguments = list(args.named_children) if args is not None else []
    options: dict[str, Node] = {}
    for arg in arguments:
        if arg.type == "object":
            options.update(_object(arg, src))
    schema = options.get("schema")
    parts = _object(schema, src) if schema is not None and schema.type == "object" else {}
    expected = ["params"] if ":" in url else []
    expected += ["body"] if method in ("POST", "PUT", "PATCH") else ["querystring"]
    expected.append("response")
    present = [part for part in _SCHEMA_PARTS if part in parts]
    missing = [part for part in expected if part not in parts]
    lines = [f"**{method} {url}** · Fastify route"]
    if schema is not None and schema.type != "object":
        lines.append(f"- validation: `schema: {src.node_text(schema)}` (defined elsewhere)")
    else:
        lines.append(
            "- validation: "
            + (", ".join(f"{p} ✓" for p in present) if present else "no schema")
            + (("; missing: " + ", ".join(missing)) if missing else "")
        )
    hooks = [hook for hook in _HOOKS if hook in options]
    lines.append("- hooks: " + (", ".join(hooks) if hooks else "none"))
    handler = options.get("handler") or (arguments[-1] if arguments else None)
    if handler is not None and handler.type in ("arrow_function", "function_expression"):
        start, end = src.node_span(handler)
        is_async = src.node_text(handler).startswith("async")
        lines.append(
            f"- handler: inline {'async ' if is_async else ''}function, lines "
            f"{_line(src, start)}–{_line(src, end)}"
        )
    elif handler is not None:
        lines.append(f"- handler: `{src.node_text(handler)}`")
    return "\n".join(lines)


def table_facts(table: Table, symbol: Symbol, relations: list[str], where: str) -> str:
    lines = [
        f'**{table.variable}** · Drizzle `{table.builder}` table `"{table.sql_name}"` · '
        f"defined in `{where}:{_line(symbol.source, symbol.declaration.start)}`",
        "",
        "| column | type | constraints |",
        "| --- | --- | --- |",
    ]
    for column in table.columns:
        constraints = list(column.constraints)
        if column.references:
            constraints.append(f"→ {column.references}")
        lines.append(f"| {column.name} | {column.type} | {', '.join(constraints)} |")
    lines.append("")
    if table.indexes:
        described = [
            f"{i.name}{' (unique)' if i.unique else ''} on {', '.join(i.columns)}"
            for i in table.indexes
        ]
        lines.append("- indexes: " + "; ".join(described))
    else:
        lines.append("- indexes: none besides keys")
    lines.append("- relations: " + (", ".join(relations) if relations else "none defined"))
    return "\n".join(lines)


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


@dataclass
class _Query:
    operation: str
    tables: list[str]
    filters: list[tuple[str, str]]
    order: list[tuple[str, str]]


def _read_query(top: Node, src: SourceFile) -> _Query | None:
    links = call_chain(top, src)
    if not links or not _DB_ROOT.match(links[0][0].split(".", 1)[0]):
        return None
    root = links[0][0]
    query = _Query("query", [], [], [])
    if root.count(".") >= 2 and ".query." in f"{root}.":
        # db.query.posts.findMany({ where, orderBy, with })
        query.tables.append(root.split(".")[2])
        query.operation = links[1][0] if len(links) > 1 else "query"
        for _, args in links[1:]:
            for arg in args.named_children if args is not None else []:
                if arg.type == "object":
                    options = _object(arg, src)
                    query.filters += _member_columns(options.get("where"), src)
                    query.order += _member_columns(options.get("orderBy"), src)
        return query
    for name, args in links[1:]:
        arguments = list(args.named_children) if args is not None else []
        if name in ("select", "selectDistinct", "insert", "update", "delete", "execute"):
            query.operation = name
        if name in _TABLE_METHODS and arguments and arguments[0].type == "identifier":
            table = src.node_text(arguments[0])
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
    body = next((a for a in _ancestors(query) if a.type == "statement_block"), None)
    if body is None or not names:
        return []
    found: list[tuple[str, str]] = []
    stack = [body]
    while stack:
        current = stack.pop()
        if current.type == "call_expression":
            callee = current.child_by_field_name("function")
            obj = callee.child_by_field_name("object") if callee is not None else None
            prop = callee.child_by_field_name("property") if callee is not None else None
            if (
                obj is not None
                and prop is not None
                and src.node_text(obj) in names
                and src.node_text(prop) in ("push", "unshift")
            ):
                found += _member_columns(current.child_by_field_name("arguments"), src)
                continue
        stack.extend(current.named_children)
    return found


def query_facts(query: _Query, tables: dict[str, Table | None]) -> str:
    lines = [f"**Drizzle query** · {query.operation}"]
    lines.append("- tables: " + (", ".join(f"`{t}`" for t in query.tables) or "unknown"))

    def covered(table: str, column: str) -> str:
        model = tables.get(table)
        if model is None:
            return f"`{table}.{column}`"
        how = model.indexed_columns().get(column)
        return f"`{table}.{column}` " + (f"✓ {how}" if how else "✗ no index")

    relevant = [(t, c) for t, c in query.filters if t in tables]
    lines.append(
        "- filters: " + (", ".join(dict.fromkeys(covered(t, c) for t, c in relevant)) or "none")
    )
    ordered = [(t, c) for t, c in query.order if t in tables]
    if ordered:
        lines.append("- order by: " + ", ".join(dict.fromkeys(covered(t, c) for t, c in ordered)))
    return "\n".join(lines)


def _declaration_value(symbol: Symbol) -> Node | None:
    """The initialiser of a `const x = ...` declaration."""
    src, decl = symbol.source, symbol.declaration
    node = src.node_at(decl.start, decl.end)
    for candidate in _ancestors(node)[::-1]:
        if candidate.type == "variable_declarator":
            name = candidate.child_by_field_name("name")
            if name is not None and src.node_text(name) == decl.name:
                return candidate.child_by_field_name("value")
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "variable_declarator":
            name = current.child_by_field_name("name")
            if name is not None and src.node_text(name) == decl.name:
                return current.child_by_field_name("value")
        stack.extend(current.named_children)
    return None


def _table_model(symbol: Symbol | None) -> Table | None:
    if symbol is None or symbol.declaration.calls not in _TABLE_BUILDERS:
        return None
    value = _declaration_value(symbol)
    return read_table(symbol.declaration.name, value, symbol.source) if value is not None else None


def describe_symbol(
    symbol: Symbol, display: Callable[[Path], str], find_in: Callable[[Symbol, str], list[str]]
) -> tuple[FactKind, str] | None:
    decl: Declaration = symbol.declaration
    value = _declaration_value(symbol)
    if value is None:
        return None
    if decl.calls in _TABLE_BUILDERS:
        table = _table_model(symbol)
        if table is None:
            return None
        return "table", table_facts(table, symbol, find_in(symbol, decl.name), display(symbol.path))
    shape = read_zod(value, symbol.source)
    if shape is not None:
        body = "\n".join(f"- {line}" for line in shape)
        where = f"`{display(symbol.path)}:{_line(symbol.source, decl.start)}`"
        return "schema", f"**{decl.name}** · Zod schema · defined in {where}\n{body}"
    return None


def relations_of(symbol: Symbol, table: str) -> list[str]:
    from ..context.declarations import declarations

    for other in declarations(symbol.source).values():
        if other.calls == "relations" and other.first_argument == table:
            value = _declaration_value(Symbol(symbol.path, symbol.source, other))
            if value is not None:
                return read_relations(value, symbol.source)
    return []


def static_facts(
    src: SourceFile,
    offset: int,
    find: Finder,
    display: Callable[[Path], str],
) -> HoverFacts | None:
    """The facts for the code at ``offset``, or None where there is nothing backend to say."""
    if not 0 <= offset < len(src.text) or src.text[offset].isspace():
        return None
    node = src.node_at(offset, offset + 1)
    if node.type == "comment" or (node.type in ("string_fragment",) and node.parent is None):
        return None
    chain = _ancestors(node)
    hovered = node if node.type in ("identifier", "property_identifier") else None

    for index, current in enumerate(chain):
        if current.type in ("statement_block", "program", "class_body"):
            break
        if current.type != "call_expression":
            continue
        route = _route_call(current, src)
        if route is not None:
            # Only the registration itself (callee, path, options), not code inside the handler.
            inside_handler = any(
                c.type in ("arrow_function", "function_expression") for c in chain[:index]
            )
            if inside_handler:
                break
            start, end = src.node_span(current)
            callee = current.child_by_field_name("function")
            h_start, h_end = src.node_span(callee) if callee is not None else (start, end)
            return HoverFacts(
                "route", route_facts(current, route[1], route[2], src), h_start, h_end, start, end
            )

    # A table or a schema by name: more specific than the query the name may sit in.
    symbol: Symbol | None = None
    described: tuple[FactKind, str] | None = None
    if hovered is not None:
        name = src.node_text(hovered)
        symbol = find(name) if hovered.type == "identifier" else None
        described = describe_symbol(symbol, display, relations_of) if symbol is not None else None
    if hovered is not None and symbol is not None and described is not None:
        start, end = src.node_span(hovered)
        code_start, code_end = symbol.declaration.start, symbol.declaration.end
        if symbol.source is not src:
            # The explanation is about the definition; keep the hover's own range for display.
            code_start, code_end = start, end
        return HoverFacts(described[0], described[1], start, end, code_start, code_end)
    # A Drizzle query: the outermost call of the chain around the cursor that starts at `db`.
    inner: Node | None = None
    for current in chain[1:] if chain[0].type != "call_expression" else chain:
        if current.type == "call_expression":
            inner = current
        elif current.type not in ("member_expression", "await_expression", "arguments"):
            break
    query = _read_query(inner, src) if inner is not None else None
    if inner is not None and query is not None and query.tables:
        models = {
            table: _table_model(find(table))
            for table in dict.fromkeys(query.tables + [t for t, _ in query.filters + query.order])
        }
        models = {k: v for k, v in models.items() if v is not None or k in query.tables}
        start, end = src.node_span(inner)
        return HoverFacts("query", query_facts(query, models), start, end, start, end)

    return None
