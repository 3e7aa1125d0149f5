"""Hono: its routes' middleware, validators and base path, and what a handler reads from `c`.

Hono's rules differ from Fastify's: a route is `app.get(path, ...middleware, handler)`, where
each middleware runs before the handler in order; `app.use(...)` adds middleware for the routes
registered after it (on the same app, or earlier in the same chain); validation is a middleware
(`zValidator("json", schema)`), whose result the handler reads with `c.req.valid("json")`; the
request is read through the context: `c.req.json()`, `c.req.query()`, `c.req.param()`.
Which framework a file uses is decided by its imports (`hono`, `hono/*`, `@hono/*`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ..syntax.imports import imports
from ..syntax.source import SourceFile
from ..syntax.tree import (
    arguments,
    call_chain,
    calls_in,
    declarators,
    enclosing_function,
    short_text,
    string_value,
)
from .lookup import Found

VALIDATED = {"json": "body", "form": "body", "query": "querystring", "param": "params"}
"""A validator's target -> the request part it validates (headers and cookies are not inputs)."""
_READERS = {
    "json": "body",
    "parseBody": "body",
    "formData": "body",
    "text": "body",
    "arrayBuffer": "body",
    "blob": "body",
    "query": "querystring",
    "queries": "querystring",
    "param": "params",
}
_ROUTING = frozenset({"get", "post", "put", "patch", "delete", "options", "all", "on", "route"})


def is_hono_file(src: SourceFile) -> bool:
    """Whether the file's routes are Hono's: it imports Hono or one of its packages."""
    return src.remember(
        "hono file",
        lambda: any(
            i.source == "hono" or i.source.startswith(("hono/", "@hono/")) for i in imports(src)
        ),
    )


@dataclass(frozen=True)
class Validator:
    """`zValidator("json", createBody)`: the part it validates and the schema, as written."""

    part: str
    target: str
    schema: str
    call: Node


@dataclass
class HonoRoute:
    """What runs for a Hono route, in order, and the handler at the end."""

    validators: list[Validator] = field(default_factory=list)
    middleware: list[str] = field(default_factory=list)
    """What runs first, as shown: `authMiddleware` (app-wide, line 3), `rateLimit(…)`."""
    handler: Node | None = None
    base_path: str = ""


def _validator(node: Node, src: SourceFile) -> Validator | None:
    links = call_chain(node, src) if node.type == "call_expression" else []
    if len(links) != 1 or links[0][1] is None:
        return None
    name = links[0][0].rsplit(".", 1)[-1]
    if name != "validator" and not name.endswith("Validator"):
        return None
    args = arguments(links[0][1])
    target = string_value(args[0], src) if args else None
    if target is None:
        return None
    schema = short_text(args[1], src, 40) if len(args) > 1 else "a function"
    return Validator(VALIDATED.get(target, target), target, schema, node)


def _use_args(call: Node, src: SourceFile) -> list[str]:
    """`.use(mw)` -> [`mw`]; `.use("/admin/*", mw)` -> [`mw` on `/admin/*`]."""
    args = arguments(call)
    path = string_value(args[0], src) if args else None
    shown = [f"`{short_text(a, src, 48)}`" for a in (args[1:] if path is not None else args)]
    where = f" on `{path}`" if path not in (None, "*", "/*") else ""
    # The line of `.use` itself: in a chain, the call starts where the chain does.
    callee = call.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None else None
    line = src.line_of(src.node_span(prop if prop is not None else call)[0]) + 1
    return [f"{mw} (`.use`{where}, line {line})" for mw in shown]


def _chain_before(call: Node, src: SourceFile) -> tuple[Node | None, list[str], str]:
    """Walks the receiver chain of a route call: (the name it starts at, the middleware `.use`
    adds in it, its `basePath`)."""
    middleware: list[str] = []
    base = ""
    node: Node | None = call.child_by_field_name("function")
    node = node.child_by_field_name("object") if node is not None else None
    while node is not None and node.type == "call_expression":
        callee = node.child_by_field_name("function")
        prop = callee.child_by_field_name("property") if callee is not None else None
        name = src.node_text(prop) if prop is not None else ""
        if name == "use":
            middleware = _use_args(node, src) + middleware
        elif name == "basePath":
            args = arguments(node)
            base = (string_value(args[0], src) or "") + base if args else base
        node = callee.child_by_field_name("object") if callee is not None else None
    if node is not None and node.type == "new_expression":
        return None, middleware, base
    return node, middleware, base


def _uses_before(root: Node, call: Node, src: SourceFile) -> tuple[list[str], str]:
    """`app.use(...)` statements on the app a route is registered on, before it in the same
    scope, and the base path the app was made with (`const app = new Hono().basePath("/v1")`)."""
    name = src.node_text(root)
    scope = enclosing_function(call)
    middleware: list[str] = []
    calls = src.remember("hono calls", lambda: _routing_calls(src))
    for other in calls:
        if other.start_byte >= call.start_byte or enclosing_function(other) != scope:
            continue
        callee = other.child_by_field_name("function")
        obj = callee.child_by_field_name("object") if callee is not None else None
        prop = callee.child_by_field_name("property") if callee is not None else None
        is_use = prop is not None and src.node_text(prop) == "use"
        if is_use and obj is not None and src.node_text(obj) == name:
            middleware += _use_args(other, src)
    base = ""
    for declarator in declarators(src, src.tree.root_node, name):
        value = declarator.child_by_field_name("value")
        if value is not None and value.type == "call_expression":
            _, before, base = _chain_before_value(value, src)
            middleware = before + middleware
    return middleware, base


def _chain_before_value(value: Node, src: SourceFile) -> tuple[Node | None, list[str], str]:
    """The same walk for an app's definition, its own last call included."""
    callee = value.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None else None
    root, middleware, base = _chain_before(value, src)
    name = src.node_text(prop) if prop is not None else ""
    if name == "use":
        middleware.extend(_use_args(value, src))
    elif name == "basePath":
        args = arguments(value)
        base += string_value(args[0], src) or "" if args else ""
    return root, middleware, base


def base_path_of(src: SourceFile, name: str) -> str:
    """The base path the top-level app ``name`` was made with (`new Hono().basePath("/api")`)."""
    base = ""
    for declarator in declarators(src, src.tree.root_node, name):
        value = declarator.child_by_field_name("value")
        if value is not None and value.type == "call_expression":
            base = _chain_before_value(value, src)[2]
    return base


def _routing_calls(src: SourceFile) -> list[Node]:
    root = src.tree.root_node
    calls = calls_in(src, root, 0, len(src.text))
    out = []
    for call in calls:
        callee = call.child_by_field_name("function")
        prop = callee.child_by_field_name("property") if callee is not None else None
        if prop is not None and src.node_text(prop) in (*_ROUTING, "use"):
            out.append(call)
    return out


def read_route(src: SourceFile, call: Node) -> HonoRoute:
    """The middleware, validators and handler of the route registered by ``call``."""
    route = HonoRoute()
    args = arguments(call)
    root, chained, route.base_path = _chain_before(call, src)
    before: list[str] = []
    if root is not None and root.type == "identifier":
        before, base = _uses_before(root, call, src)
        route.base_path = base + route.base_path
    route.middleware = before + chained
    if len(args) < 2:
        return route
    route.handler = args[-1]
    for arg in args[1:-1]:
        validator = _validator(arg, src)
        if validator is not None:
            route.validators.append(validator)
        else:
            route.middleware.append(f"`{short_text(arg, src, 48)}`")
    return route


def read_context(function: Found) -> tuple[set[str], set[str], dict[str, list[str]]]:
    """(parts the handler reads, parts it reads as validated by `c.req.valid(...)`,
    part -> the schemas it parses the part with itself)."""
    src, node = function.src, function.node
    params = node.child_by_field_name("parameters")
    first = params.named_children[0] if params is not None and params.named_children else None
    single = node.child_by_field_name("parameter")
    context = first.child_by_field_name("pattern") if first is not None else single
    reads: set[str] = set()
    valid: set[str] = set()
    parsed: dict[str, list[str]] = {}
    body = node.child_by_field_name("body")
    if context is None or context.type != "identifier" or body is None:
        return reads, valid, parsed
    request = f"{src.node_text(context)}.req"
    aliases: dict[str, str] = {}
    for call in calls_in(src, body, *src.node_span(body)):
        links = call_chain(call, src)
        if len(links) != 2 or links[0][0] != request:
            continue
        method, link_args = links[1]
        if method == "valid":
            target = arguments(link_args)
            part = VALIDATED.get(string_value(target[0], src) or "") if target else None
            if part is not None:
                reads.add(part)
                valid.add(part)
        elif method in _READERS:
            reads.add(_READERS[method])
            alias = _assigned_to(call, src)
            if alias is not None:
                aliases[alias] = _READERS[method]
    for call in calls_in(src, body, *src.node_span(body)):
        links = call_chain(call, src)
        if len(links) < 2 or links[-1][0] not in ("parse", "safeParse", "parseAsync"):
            continue
        args = arguments(links[-1][1])
        text = src.node_text(args[0]).removeprefix("await ") if args else ""
        part = aliases.get(text)
        if part is None and text.startswith(f"{request}."):
            part = _READERS.get(text[len(request) + 1 :].split("(", 1)[0])
        if part is not None:
            parsed.setdefault(part, []).append(links[0][0])
    return reads, valid, parsed


def _assigned_to(call: Node, src: SourceFile) -> str | None:
    """`const body = await c.req.json()` -> "body"."""
    parent = call.parent
    if parent is not None and parent.type == "await_expression":
        parent = parent.parent
    if parent is None or parent.type != "variable_declarator":
        return None
    name = parent.child_by_field_name("name")
    return src.node_text(name) if name is not None and name.type == "identifier" else None
