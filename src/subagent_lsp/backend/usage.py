"""Where a name is used, in backend terms: the registration, procedure, router entry, query,
validation or call a use of a declaration is part of, with the guards and options that apply.

A use is shown as its enclosing statement (a short router whole, else the entry that mounts
it), never a whole function: for a use inside a route's handler, the registration's head (its
path, options and hooks) is shown above it, since that is where the guard sits, and a call's
result bound to a name comes with the statement that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from tree_sitter import Node

from ..syntax.source import SourceFile, identifiers_in
from ..syntax.tree import FUNCTIONS, ancestors, arguments, member_parts
from .plugins import neighbours, options_statement
from .queries import Query, filter_step, read_query
from .routes import RouteCall, plugin_hooks, route_call
from .trpc import procedure_unit
from .zod import PARSE_METHODS

SiteKind = Literal["route", "plugin", "procedure", "router", "validates", "query", "call", "use"]
REGISTRATIONS = frozenset({"route", "plugin", "procedure", "router"})
"""Sites that register the declaration: where its guards, prefix and schemas are."""
_STATEMENTS = frozenset(
    {
        "expression_statement",
        "lexical_declaration",
        "variable_declaration",
        "return_statement",
        "export_statement",
        "if_statement",
        "throw_statement",
    }
)
_MAX_SITE_LINES = 14
_MAX_FUNCTION_LINES = 24
_MAX_QUERY_LINES = 30
"""A query is shown whole up to here, with the statements that build its conditions."""
_RECEIVERS = frozenset({"app", "fastify", "server", "instance", "router", "t", "api"})
"""Names a registration is made on: the instance, not a guard."""


@dataclass(frozen=True)
class Site:
    kind: SiteKind
    spans: tuple[tuple[int, int], ...]
    """What to show, in order: a registration's head and its plugin's hooks, then the use."""
    label: str
    """What the site is, for the reason: `GET /items`, "tRPC procedure `list`"."""
    guards: tuple[str, ...]
    """Names in the options, hooks and procedure chain that apply there, to follow one level."""
    filters: tuple[str, ...] = ()
    """For a query: the columns it filters on, of the table used."""
    at: int = 0
    """Where the use is."""
    order: tuple[str, ...] = ()
    """For a query: the columns it sorts by, of the table used."""


def _lines(src: SourceFile, start: int, end: int) -> int:
    return src.line_of(max(end - 1, start)) - src.line_of(start) + 1


def _statement(node: Node) -> Node:
    for current in (node, *ancestors(node)):
        if current.type in _STATEMENTS:
            parent = current.parent
            if parent is not None and parent.type == "export_statement":
                return parent
            return current
    return node


def _compact(src: SourceFile, node: Node, use: Node) -> tuple[int, int]:
    """The statement around ``use`` or, when it is long, the smallest expression that holds it
    and fits, else the lines around it."""
    start, end = src.node_span(node)
    if _lines(src, start, end) <= _MAX_SITE_LINES:
        return start, end
    for current in (use, *ancestors(use)):
        if current.type in ("call_expression", "pair", "expression_statement", "return_statement"):
            c_start, c_end = src.node_span(current)
            if _lines(src, c_start, c_end) > _MAX_SITE_LINES:
                break
            start, end = c_start, c_end
            node = current
    if _lines(src, start, end) <= _MAX_SITE_LINES and node is not use:
        return start, end
    line = src.line_of(src.node_span(use)[0])
    first, _ = src.line_span(max(line - 2, 0))
    _, last = src.line_span(min(line + 2, src.line_count - 1))
    return first, last


def _holder(function: Node) -> Node | None:
    """What names a function: itself (a method, a declared function), the statement binding it
    to a name, or its object entry; None for a callback passed to a call."""
    if function.type not in ("arrow_function", "function_expression"):
        return function
    parent = function.parent
    if parent is not None and parent.type == "variable_declarator":
        return _statement(parent)
    if parent is not None and parent.type == "pair":
        holder = parent.parent.parent if parent.parent is not None else None
        # `paginate(config, { queryBuilder: (qb) => … })`: an option of a call, a callback.
        return None if holder is not None and holder.type == "arguments" else parent
    return None


def _whole(src: SourceFile, function: Node | None) -> tuple[int, int] | None:
    """A short named function (a method, a declared function or one bound to a name) the use is
    in, whole: its parameters and what it does with the result belong to the use."""
    holder = _holder(function) if function is not None else None
    if holder is None:
        return None
    start, end = src.node_span(holder)
    return (start, end) if _lines(src, start, end) <= _MAX_FUNCTION_LINES else None


def _named_whole(src: SourceFile, use: Node) -> tuple[int, int] | None:
    """The nearest named function around ``use``, whole when short, past the callbacks it passes
    (`paginate(…, { queryBuilder: (qb) => qb.where(…) })` is part of the function around it)."""
    for current in ancestors(use):
        if current.type in FUNCTIONS and _holder(current) is not None:
            return _whole(src, current)
    return None


def _query_span(src: SourceFile, use: Node, query: Query) -> tuple[int, int]:
    """A query in its short function; else its statement, from the statements before it that
    build its conditions (`const conditions = [...]; if (…) conditions.push(…)`); else the
    smallest part that fits."""
    whole = _named_whole(src, use)
    if whole is not None:
        return whole
    statement = _statement(use)
    start, end = src.node_span(statement)
    names = set(query.bound)
    before = statement.prev_named_sibling
    while names and before is not None and _builds(src, before, names):
        start = src.node_span(before)[0]
        before = before.prev_named_sibling
    if _lines(src, start, end) <= _MAX_QUERY_LINES:
        return start, end
    return _compact(src, statement, use)


def _builds(src: SourceFile, statement: Node, names: set[str]) -> bool:
    """Whether a statement declares or pushes onto one of ``names`` (the names the conditions
    were kept in); the names it reads join them (`const where = and(...conditions)`)."""
    text = src.node_text(statement)
    declared = statement.type == "lexical_declaration" and any(
        (target := d.child_by_field_name("name")) is not None and src.node_text(target) in names
        for d in statement.named_children
    )
    pushed = any(f"{name}.push(" in text or f"{name}.unshift(" in text for name in names)
    if declared or pushed:
        names |= identifiers_in(src, *src.node_span(statement))
    return declared or pushed


def _in_signature(src: SourceFile, use: Node, function: Node | None) -> bool:
    """Whether ``use`` types a function's parameters or result (`input: z.infer<typeof s>`)."""
    body = function.child_by_field_name("body") if function is not None else None
    return function is not None and body is not None and use.start_byte < body.start_byte


def _with_result(src: SourceFile, use: Node, span: tuple[int, int]) -> tuple[int, int]:
    """A call whose result is bound to a name, with the statement after it when that reads the
    name: how the caller relies on the result (`if (existing) …`)."""
    statement = _statement(use)
    if statement.type != "lexical_declaration" or src.node_span(statement) != span:
        return span
    after = statement.next_named_sibling
    bound: set[str] = set()
    for declarator in statement.named_children:
        target = declarator.child_by_field_name("name")
        if target is not None:
            bound |= identifiers_in(src, *src.node_span(target))
    if after is None or not bound & identifiers_in(src, *src.node_span(after)):
        return span
    end = src.node_span(after)[1]
    return (span[0], end) if _lines(src, span[0], end) <= _MAX_SITE_LINES else span


def _handler_start(src: SourceFile, call: Node) -> tuple[int, int]:
    """Where the inline handler of a registration begins, and where its body does (the call's
    end twice when the handler is not inline)."""
    for arg in arguments(call):
        if arg.type in FUNCTIONS:
            body = arg.child_by_field_name("body")
            if body is not None:
                return src.node_span(arg)[0], src.node_span(body)[0] + 1
    end = src.node_span(call)[1]
    return end, end


def _names(src: SourceFile, spans: list[tuple[int, int]], skip: set[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for start, end in spans:
        for name in sorted(identifiers_in(src, start, end)):
            if name not in skip and name not in _RECEIVERS:
                found.setdefault(name, None)
    return tuple(found)


def hook_statements(src: SourceFile, route: RouteCall) -> list[tuple[int, int]]:
    """The `addHook(...)` statements of the plugin a registration is made in (the hooks
    `routes.plugin_hooks` finds): they apply to it."""
    return [src.node_span(_statement(hook.value)) for hook in plugin_hooks(src, route)]


def _query_at(src: SourceFile, use: Node, name: str) -> Query | None:
    """The query on ``name`` that ``use`` is part of: the outermost call around it that reads as
    one (a chain passed to `Promise.all([...])` is still the chain), else a filter given to a
    query builder passed in (`(qb) => qb.where(eq(name.userId, id))`)."""
    calls: list[Node] = []
    for current in ancestors(use):
        if current.type in FUNCTIONS or current.type in _STATEMENTS:
            break
        if current.type == "call_expression":
            calls.append(current)
    for call in reversed(calls):
        query = read_query(call, src)
        if query is not None and name in query.tables:
            return query
    for call in calls:
        query = filter_step(call, src, name)
        if query is not None:
            return query
    return None


def _shape(query: Query, name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the columns of ``name`` a query filters on, those it sorts by)."""
    filters = tuple(column for table, column in query.filters if table == name)
    return filters, tuple(column for table, column in query.order if table == name)


def use_site(src: SourceFile, use: Node, name: str) -> Site:
    """What the use of ``name`` at ``use`` is part of."""
    return replace(_site(src, use, name), at=src.node_span(use)[0])


def _site(src: SourceFile, use: Node, name: str) -> Site:
    crossed: Node | None = None
    for current in ancestors(use):
        if current.type in FUNCTIONS and crossed is None:
            crossed = current
            continue
        if current.type == "call_expression":
            route = route_call(src, current)
            if route is not None:
                return _registration(src, route, use, name, crossed)
            unit = procedure_unit(src, current)
            if unit is not None:
                return _procedure(src, current, unit[0], unit[2], use, name, crossed)
        if current.type == "pair" and crossed is None and _in_router(src, current):
            entry = current.child_by_field_name("key")
            label = f"tRPC router entry `{src.node_text(entry) if entry else '?'}`"
            # The whole router when it is short: its other entries are the paths beside it.
            return Site("router", (_compact(src, _statement(current), use),), label, ())
    query = _query_at(src, use, name)
    if query is not None:
        filters, order = _shape(query, name)
        span = _query_span(src, use, query)
        return Site("query", (span,), "a query", (), filters, order=order)
    span = _compact(src, _statement(use), use)
    parent = use.parent
    called = parent is not None and parent.type == "call_expression"
    if parent is not None and parent.type == "member_expression":
        # `this.service.name(…)`: a method of the declaration called through its object.
        holder = parent.parent
        called = parent.child_by_field_name("property") == use and (
            holder is not None and holder.type == "call_expression"
        )
    if parent is not None and parent.type == "member_expression":
        call = parent.parent
        parts = (
            member_parts(call, src) if call is not None and call.type == "call_expression" else None
        )
        if parts is not None and parts[1] in PARSE_METHODS:
            return Site("validates", (span,), f"`{name}.{parts[1]}(…)`", ())
    if called:
        return Site("call", (_whole(src, crossed) or _with_result(src, use, span),), "a call", ())
    if _in_signature(src, use, crossed):
        # What the function takes is what it does with it: its body is the use.
        return Site("use", (_whole(src, crossed) or span,), "a use", ())
    return Site("use", (span,), "a use", ())


def _in_input(src: SourceFile, use: Node) -> bool:
    for current in ancestors(use):
        if current.type == "arguments":
            call = current.parent
            parts = member_parts(call, src) if call is not None else None
            return parts is not None and parts[1] == "input"
    return False


def _in_router(src: SourceFile, pair: Node) -> bool:
    obj = pair.parent
    call = obj.parent.parent if obj is not None and obj.parent is not None else None
    if call is None or call.type != "call_expression":
        return False
    callee = call.child_by_field_name("function")
    return callee is not None and src.node_text(callee).lower().endswith("router")


def _registration(
    src: SourceFile, route: RouteCall, use: Node, name: str, crossed: Node | None
) -> Site:
    """A use in a registration's arguments, or inside its inline handler."""
    call, kind = route.call, route.kind
    start = src.node_span(_statement(call))[0]
    handler, body = _handler_start(src, call)
    head = (start, body)
    hooks = hook_statements(src, route)
    # The handler's own parameters are no guards; nor are the plugins registered beside one.
    named = [src.node_span(a) for a in arguments(call)[1:]] if kind == "plugin" else []
    guards = _names(src, (named if kind == "plugin" else [(start, handler)]) + hooks, {name})
    shown = "plugin" if kind == "plugin" else route.name
    if crossed is None:
        end = src.node_span(_statement(call))[1]
        if kind == "plugin":
            # The order of registrations decides which hooks apply to which plugin.
            start, end = neighbours(src, call)
            options = options_statement(src, call)
            start = src.node_span(options)[0] if options is not None else start
        span = (start, end) if _lines(src, start, end) <= _MAX_SITE_LINES else head
        if _under_key(src, use, call, "schema"):
            return Site("validates", (*hooks, span), f"the schema of {shown}", guards)
        return Site(kind, (*hooks, span), shown, guards)
    # Inside the handler: the statement that uses it, under the registration's head.
    return _in_handler(src, use, name, (*hooks, head), shown, guards)


def _procedure(
    src: SourceFile,
    call: Node,
    holder: Node,
    key: str | None,
    use: Node,
    name: str,
    crossed: Node | None,
) -> Site:
    """A use in a tRPC procedure's chain (its input, middleware, handler), or inside its
    inline handler."""
    start, end = src.node_span(holder)
    handler, body = _handler_start(src, call)
    head = (start, body)
    guards = _names(src, [(start, handler)], {name})
    label = f"tRPC procedure `{key or '?'}`"
    if crossed is None:
        kind: SiteKind = "validates" if _in_input(src, use) else "procedure"
        span = (start, end) if _lines(src, start, end) <= _MAX_SITE_LINES else head
        return Site(kind, (span,), label, guards)
    return _in_handler(src, use, name, (head,), label, guards)


def _in_handler(
    src: SourceFile,
    use: Node,
    name: str,
    heads: tuple[tuple[int, int], ...],
    shown: str,
    guards: tuple[str, ...],
) -> Site:
    """A use inside a route's or a procedure's handler: the statement that uses it (with how
    its result is used), under ``heads``; a query when it is one."""
    inner = _with_result(src, use, _compact(src, _statement(use), use))
    label = f"in the handler of {shown}"
    query = _query_at(src, use, name)
    if query is None:
        return Site("call", (*heads, inner), label, guards)
    filters, order = _shape(query, name)
    return Site("query", (*heads, inner), label, guards, filters, order=order)


def _under_key(src: SourceFile, use: Node, stop: Node, key: str) -> bool:
    """Whether ``use`` sits under an object entry ``key`` (`schema: { body: x }`) below ``stop``."""
    for current in ancestors(use):
        if current == stop:
            return False
        name = current.child_by_field_name("key") if current.type == "pair" else None
        if name is not None and src.node_text(name).strip("\"'") == key:
            return True
    return False
