"""What a hover can say from the code alone: routes, tables, queries and Zod schemas.

Everything here answers in milliseconds from parse trees; nothing calls the model. Names are
looked up through the ``find`` the caller passes, which decides what may be read to find them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tree_sitter import Node

from ..syntax.declarations import Symbol, declarations
from ..syntax.source import SourceFile
from ..syntax.tree import ancestors, call_chain
from .coverage import QueryCoverage, analyse
from .drizzle import Relation, Table, relation_lines, relations_for, table_of
from .lookup import Finder, Found, local_finder
from .plugins import join_paths, route_path
from .queries import Query, loop_around, read_query
from .routes import RouteCall, route_call
from .trpc import Procedure, procedure_around, read_procedure
from .validation import RouteFacts, route_facts
from .zod import TableFinder, read_schema

FactKind = Literal["route", "table", "query", "schema", "procedure"]
Display = Callable[[Path], str]
Served = Callable[[RouteCall], str | None]
"""The prefixes the app puts in front of a route, from where it is mounted (None: unknown)."""

_HANDLERS = frozenset({"arrow_function", "function_expression", "method_definition"})
_SCOPES = frozenset({"statement_block", "program", "class_body"})
_FK_NOTE = {
    "postgresql": "PostgreSQL does not index them by itself",
    "sqlite": "SQLite does not index them by itself",
    "mysql": "",
}
_CHAIN_LINKS = frozenset({"member_expression", "await_expression", "arguments"})


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


def _code(text: str) -> str:
    """Inline code that may itself hold backticks (`sql` fragments)."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _line(src: SourceFile, offset: int) -> int:
    return src.line_of(offset) + 1


def route_markdown(facts: RouteFacts, where: str | None = None, served: str | None = None) -> str:
    """The route's facts; ``where`` is where a handler registered by name is defined;
    ``served``, the path with the prefixes of where its plugin or router is mounted."""
    route = facts.route
    hono = route.framework == "hono"
    lines = [f"**{route.method} {facts.path}** · {'Hono' if hono else 'Fastify'} route"]
    if served is not None:
        lines.append(
            f"- served at: `{route.method} {served}` (with the prefixes it is mounted under)"
        )
    validated = [
        f"{part} ✓ ({', '.join(dict.fromkeys(by))})" for part, by in facts.validated.items()
    ]
    if facts.schema_elsewhere is not None and not facts.schema_parts:
        validated.append(f"`schema: {facts.schema_elsewhere}` (defined elsewhere)")
    shown = "; ".join(validated) or ("no validator" if hono else "no schema")
    missing = ("; missing: " + ", ".join(facts.missing)) if facts.missing else ""
    lines.append(f"- validation: {shown}{missing}")
    if facts.reads is None:
        lines.append("- reads: unknown (the handler's code was not found)")
    if not hono:
        lines.append(f"- response schema: {'✓' if facts.has_response_schema else 'none'}")
        hooks = [
            hook + (f" (from `{facts.origins[hook]}`)" if hook in facts.origins else "")
            for hook in facts.hooks
        ]
        hooks += [f"{h.hook} (plugin-wide, line {h.line})" for h in facts.plugin_hooks]
        lines.append("- hooks: " + (", ".join(hooks) if hooks else "none"))
    if facts.guards or hono:
        lines.append("- runs first: " + (", ".join(facts.guards) or "no middleware"))
    lines.append(_handler_line(facts.handler, facts.handler_name, where))
    return "\n".join(lines)


def _handler_line(handler: Found | None, name: str | None, where: str | None = None) -> str:
    if handler is not None and handler.node.type in _HANDLERS:
        start, end = handler.src.node_span(handler.node)
        is_async = handler.src.node_text(handler.node).startswith("async")
        kind = "method" if handler.node.type == "method_definition" else "function"
        return (
            f"- handler: inline {'async ' if is_async else ''}{kind}, lines "
            f"{_line(handler.src, start)}–{_line(handler.src, end)}"
        )
    if name is not None:
        return f"- handler: `{name}`" + (f" ({where})" if where else "")
    return "- handler: none found"


def _handler_where(
    facts: RouteFacts, home: SourceFile, find: Finder, display: Display
) -> str | None:
    """Where a handler registered by name is defined: `handlers.ts:21`, or `line 21` here."""
    function, name = facts.function, facts.handler_name
    if function is None or name is None:
        return None
    line = _line(function.src, function.src.node_span(function.node)[0])
    if function.src is home:
        return f"line {line}"
    symbol = find(name)
    return f"{display(symbol.path)}:{line}" if symbol is not None else f"line {line} of its file"


def _schema_lines(found: Found, home: SourceFile, find: Finder, display: Display) -> list[str]:
    """A procedure's input or output: its name and where it is defined, then its shape."""
    node, src = found.node, found.src
    if node.type == "identifier":
        name = src.node_text(node)
        symbol = find(name) if src is home else None
        if symbol is None:
            return [f"`{name}` (not found)"]
        value = symbol.declaration.value(symbol.source)
        tables = _tables_near(symbol, home, find)
        shape = read_schema(value, symbol.source, tables) if value is not None else None
        where = f"`{display(symbol.path)}:{_line(symbol.source, symbol.declaration.start)}`"
        return [f"`{name}` (defined in {where})", *(f"  - {line}" for line in shape or [])]
    shape = read_schema(node, src)
    if shape is None:
        return [_code(" ".join(src.node_text(node).split())[:60])]
    links = call_chain(node, src)
    if (
        len(links) > 1
        and links[0][0] == "z"
        and links[1][0] not in ("object", "strictObject", "looseObject")
    ):
        return [f"inline Zod {shape[0]}", *(f"  - {line}" for line in shape[1:])]
    return ["inline Zod object", *(f"  - {line}" for line in shape)]


def procedure_markdown(
    procedure: Procedure, home: SourceFile, find: Finder, display: Display
) -> str:
    title = f"**{procedure.name}** · " if procedure.name else ""
    lines = [f"{title}tRPC {procedure.kind}"]
    middleware = ", ".join(f"`{m}`" for m in procedure.middleware) or "none"
    lines.append(f"- procedure: `{procedure.base}`; middleware: {middleware}")
    for label, schemas in (("input", procedure.inputs), ("output", procedure.output)):
        listed = schemas if isinstance(schemas, list) else [schemas] if schemas else []
        if not listed:
            lines.append(f"- {label}: none declared")
        for schema in listed:
            first, *rest = _schema_lines(schema, home, find, display)
            lines += [f"- {label}: {first}", *rest]
    handler = procedure.handler
    name = handler.src.node_text(handler.node) if handler is not None else None
    lines.append(_handler_line(handler, name))
    return "\n".join(lines)


def table_markdown(table: Table, symbol: Symbol, relations: list[str], where: str) -> str:
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
        described = [f"{i.shown} on {', '.join(i.columns)}" for i in table.indexes]
        lines.append("- indexes: " + "; ".join(described))
    else:
        lines.append("- indexes: none besides keys")
    unindexed = table.unindexed_foreign_keys()
    if unindexed:
        shown = ", ".join(f"`{', '.join(fk.columns)}` → {fk.target}" for fk in unindexed)
        lines.append(f"- foreign keys without an index: {shown} ({_FK_NOTE[table.dialect]})")
    lines.append("- relations: " + (", ".join(relations) if relations else "none defined"))
    return "\n".join(lines)


def query_markdown(query: Query, coverage: QueryCoverage, loop: str | None) -> str:
    lines = [f"**Drizzle query** · {query.operation}"]
    if query.tables or not query.subqueries:
        lines.append("- tables: " + (", ".join(f"`{t}`" for t in query.tables) or "unknown"))
    if query.subqueries:
        lines.append("- subqueries: " + ", ".join(f"`{s}`" for s in query.subqueries))
    if coverage.joins:
        lines.append("- joins: " + "; ".join(join.markdown for join in coverage.joins))
    filters = dict.fromkeys(use.markdown for use in coverage.filters)
    lines.append("- filters: " + (", ".join(filters) or "none"))
    if coverage.order:
        lines.append("- order by: " + ", ".join(dict.fromkeys(u.markdown for u in coverage.order)))
    for path, uses in coverage.loads:
        shown = ", ".join(dict.fromkeys(u.markdown for u in uses)) or "relation not found"
        lines.append(f"- with `{path}`: {shown}")
    if query.raw:
        lines.append("- not analysed: " + ", ".join(_code(raw) for raw in query.raw))
    if loop is not None:
        lines.append(f"- N+1: runs once per iteration of a {loop}")
    return "\n".join(lines)


def _tables_near(symbol: Symbol, home: SourceFile, find: Finder) -> TableFinder:
    """The tables names in ``symbol``'s file stand for (its imports too, when it is ``home``)."""

    def table(name: str) -> Table | None:
        found = (find if symbol.source is home else local_finder(symbol.source))(name)
        return table_of(found.declaration, found.source) if found is not None else None

    return table


def describe_symbol(
    symbol: Symbol, display: Display, home: SourceFile, find: Finder
) -> tuple[FactKind, str] | None:
    """Facts about a declaration: a Drizzle table or a Zod schema."""
    decl, src = symbol.declaration, symbol.source
    table = table_of(decl, src)
    if table is not None:
        relations = relation_lines(declarations(src), decl.name, src)
        return "table", table_markdown(table, symbol, relations, display(symbol.path))
    value = decl.value(src)
    shape = read_schema(value, src, _tables_near(symbol, home, find)) if value is not None else None
    if shape is None:
        return None
    body = "\n".join(f"- {line}" for line in shape)
    where = f"`{display(symbol.path)}:{_line(src, decl.start)}`"
    return "schema", f"**{decl.name}** · Zod schema · defined in {where}\n{body}"


def _table(find: Finder, name: str) -> Table | None:
    symbol = find(name)
    return table_of(symbol.declaration, symbol.source) if symbol is not None else None


def _relations(find: Finder, name: str) -> list[Relation]:
    symbol = find(name)
    if symbol is None:
        return []
    return relations_for(declarations(symbol.source), symbol.declaration.name, symbol.source)


def analyse_query(query: Query, find: Finder) -> QueryCoverage:
    """The index coverage of ``query``, its tables and relations looked up through ``find``."""
    tables: dict[str, Table | None] = {}
    relations: dict[str, list[Relation]] = {}

    def model(name: str) -> Table | None:
        if name not in tables:
            tables[name] = _table(find, name)
        return tables[name]

    def related(name: str) -> list[Relation]:
        if name not in relations:
            relations[name] = _relations(find, name)
        return relations[name]

    return analyse(query, model, related)


def _route_facts(
    src: SourceFile, chain: list[Node], find: Finder, display: Display, served: Served | None
) -> HoverFacts | None:
    """On a route registration itself (callee, path, options), not on code inside its handler."""
    for index, current in enumerate(chain):
        if current.type in _SCOPES:
            return None
        if current.type != "call_expression":
            continue
        route = route_call(src, current)
        if route is None or route.kind != "route":
            continue
        if any(c.type in _HANDLERS for c in chain[:index]):
            return None
        start, end = src.node_span(current)
        callee = current.child_by_field_name("function")
        h_start, h_end = src.node_span(callee) if callee is not None else (start, end)
        facts = route_facts(src, route, find)
        prefix = served(route) if served is not None else None
        own = facts.path if route.framework == "hono" else route_path(src, route)
        full = join_paths(prefix, own) if prefix else None
        markdown = route_markdown(facts, _handler_where(facts, src, find, display), full)
        return HoverFacts("route", markdown, h_start, h_end, start, end)
    return None


def _query_facts(src: SourceFile, chain: list[Node], find: Finder) -> HoverFacts | None:
    """A Drizzle query: the outermost call around the cursor whose chain starts at the handle, not
    a call it is passed to (`tryCatch(db.query.x.findFirst())`, `expect(await db…)`)."""
    found: tuple[Node, Query] | None = None
    for current in chain[1:] if chain[0].type != "call_expression" else chain:
        if current.type == "call_expression":
            query = read_query(current, src)
            if query is not None and (query.tables or query.subqueries):
                found = (current, query)
        elif current.type not in _CHAIN_LINKS:
            break
    if found is None:
        return None
    inner, query = found
    markdown = query_markdown(query, analyse_query(query, find), loop_around(inner, src))
    start, end = src.node_span(inner)
    return HoverFacts("query", markdown, start, end, start, end)


def static_facts(
    src: SourceFile, offset: int, find: Finder, display: Display, served: Served | None = None
) -> HoverFacts | None:
    """The facts for the code at ``offset``, or None where there is nothing backend to say.
    ``served`` gives the prefixes the app puts in front of a route (it may raise `NeedsDisk`)."""
    if not 0 <= offset < len(src.text) or src.text[offset].isspace():
        return None
    node = src.node_at(offset, offset + 1)
    if node.type == "comment":
        return None
    chain = [node, *ancestors(node)]
    # A table or a schema by name: more specific than the route or the query the name sits in
    # (`schema: { body: createUserBody }` is about the schema).
    if node.type == "identifier":
        symbol = find(src.node_text(node))
        described = describe_symbol(symbol, display, src, find) if symbol is not None else None
        if symbol is not None and described is not None:
            start, end = src.node_span(node)
            code_start, code_end = symbol.declaration.start, symbol.declaration.end
            if symbol.source is not src:
                # The explanation is about the definition; keep the hover's own range for display.
                code_start, code_end = start, end
            return HoverFacts(described[0], described[1], start, end, code_start, code_end)
    route = _route_facts(src, chain, find, display, served)
    if route is not None:
        return route
    call = procedure_around(src, node)
    procedure = read_procedure(src, call, find) if call is not None else None
    if call is not None and procedure is not None:
        holder = call.parent if call.parent is not None and call.parent.type == "pair" else call
        start, end = src.node_span(holder)
        markdown = procedure_markdown(procedure, src, find, display)
        return HoverFacts("procedure", markdown, start, end, start, end)
    return _query_facts(src, chain, find)
