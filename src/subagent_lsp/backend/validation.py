"""What a route validates, wherever that happens, and what its handler reads.

A request part (body, params, querystring) counts as validated when the route schema names it,
when the handler parses it (`schema.parse(request.body)`, `safeParse`, `parseAsync`), or when a
`preValidation`/`preHandler` hook does, the route's own or one its plugin adds with `addHook`.
A Hono route's are read by Hono's rules (`hono.py`): validator middleware, `c.req`. Options are followed to where they are defined (an object
elsewhere in the file or imported, spreads included). A part is missing only when the handler
reads it and nothing validates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import FUNCTIONS, arguments, member_parts, short_text
from .hono import read_context
from .hono import read_route as read_hono_route
from .lookup import Finder, Found, follow
from .routes import HOOKS, PluginHook, RouteCall, plugin_hooks
from .zod import PARSE_METHODS

INPUTS = ("body", "params", "querystring")
_REQUEST_KEYS = {"body": "body", "params": "params", "query": "querystring"}
_VALIDATING_HOOKS = ("preValidation", "preHandler")
_GUARDS = ("onRequest", "preParsing", "preValidation", "preHandler")
"""Hooks that run before the handler, and so can refuse a request."""
_ZOD_PROVIDER = (
    "ZodTypeProvider",
    "fastify-type-provider-zod",
    "FastifyPluginAsyncZod",
    "FastifyPluginCallbackZod",
)
_DEPTH = 4


@dataclass
class RouteFacts:
    """A route's options as they are defined, and what validates the parts its handler reads."""

    route: RouteCall
    options: dict[str, Found] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    """Option key -> the name of the object it came from, for options defined elsewhere."""
    schema_parts: tuple[str, ...] = ()
    schema_elsewhere: str | None = None
    """The name of a schema object defined elsewhere (`schema: userSchemas`)."""
    validated: dict[str, list[str]] = field(default_factory=dict)
    """Part -> what validates it ("route schema", "handler parses `createUserBody`", ...)."""
    reads: tuple[str, ...] | None = None
    """The parts the handler reads; None when its code cannot be found."""
    handler: Found | None = None
    handler_name: str | None = None
    function: Found | None = None
    """The handler's function, followed to where it is defined."""
    type_provider: str | None = None
    plugin_hooks: list[PluginHook] = field(default_factory=list)
    """Hooks `addHook` adds for every route of the plugin the route is registered in."""
    guards: list[str] = field(default_factory=list)
    """What runs before the handler, as shown: plugin-wide hooks, Hono middleware."""
    path: str = ""
    """The path as served: Hono's `basePath` before the route's own."""

    @property
    def hooks(self) -> tuple[str, ...]:
        return tuple(hook for hook in HOOKS if hook in self.options)

    @property
    def missing(self) -> tuple[str, ...]:
        """Parts the handler reads that nothing validates."""
        return tuple(p for p in self.reads or () if p not in self.validated)

    @property
    def has_response_schema(self) -> bool:
        return "response" in self.schema_parts


def _merge(
    found: Found, home: SourceFile, find: Finder, facts: RouteFacts, origin: str | None, depth: int
) -> None:
    """Options from an object literal, a name defined as one, or spreads of either."""
    node, src = found.node, found.src
    if depth > _DEPTH:
        return
    if node.type == "identifier":
        target = follow(src.node_text(node), src, home, find)
        if target is not None:
            _merge(target, home, find, facts, origin or src.node_text(node), depth + 1)
        return
    if node.type != "object":
        return
    for entry in node.named_children:
        if entry.type == "spread_element" and entry.named_children:
            _merge(Found(src, entry.named_children[0]), home, find, facts, origin, depth + 1)
        elif entry.type == "pair":
            key, value = entry.child_by_field_name("key"), entry.child_by_field_name("value")
            if key is not None and value is not None:
                name = src.node_text(key).strip("\"'")
                facts.options[name] = Found(src, value)
                if origin is not None:
                    facts.origins[name] = origin
        elif entry.type in ("shorthand_property_identifier", "method_definition"):
            # `{ handler }`, and `{ async handler(request) { ... } }`: the method is the option.
            key = entry.child_by_field_name("name") if entry.type == "method_definition" else entry
            name = src.node_text(key) if key is not None else ""
            facts.options[name] = Found(src, entry)
            if origin is not None:
                facts.origins[name] = origin


def _function(found: Found | None, home: SourceFile, find: Finder) -> Found | None:
    """The function a handler or hook is, following a name to its definition."""
    if found is None:
        return None
    if found.node.type in FUNCTIONS or found.node.type == "function_declaration":
        return found
    if found.node.type in ("identifier", "shorthand_property_identifier", "member_expression"):
        # A member is a function of a namespace import: `handler.listArticles`.
        target = follow(found.src.node_text(found.node), found.src, home, find)
        return _function(target, home, find) if target is not None else None
    return None


def _request_name(function: Found) -> tuple[str | None, dict[str, str]]:
    """The request parameter's name, or the parts destructured in the parameter list."""
    params = function.node.child_by_field_name("parameters")
    # A `this: FastifyInstance` parameter only types `this`; the request comes after it.
    listed = [
        p
        for p in (params.named_children if params is not None else [])
        if function.src.node_text(p.child_by_field_name("pattern") or p) != "this"
    ]
    first = listed[0] if listed else None
    if first is None:
        single = function.node.child_by_field_name("parameter")
        return (function.src.node_text(single), {}) if single is not None else (None, {})
    pattern = first.child_by_field_name("pattern") or first
    if pattern.type == "identifier":
        return function.src.node_text(pattern), {}
    if pattern.type == "object_pattern":
        return None, _destructured(pattern, function.src)
    return None, {}


def _destructured(pattern: Node, src: SourceFile) -> dict[str, str]:
    """`{ body, params: p, query = {} }` -> {"body": "body", "p": "params", "query": ...}."""
    found: dict[str, str] = {}
    for entry in pattern.named_children:
        if entry.type == "object_assignment_pattern":
            entry = entry.child_by_field_name("left") or entry
        if entry.type == "shorthand_property_identifier_pattern":
            key = variable = src.node_text(entry)
        elif entry.type == "pair_pattern":
            k, v = entry.child_by_field_name("key"), entry.child_by_field_name("value")
            if k is None or v is None:
                continue
            key, variable = src.node_text(k), src.node_text(v)
        else:
            continue
        if key in _REQUEST_KEYS:
            found[variable] = _REQUEST_KEYS[key]
    return found


def _walk(node: Node) -> list[Node]:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(current.named_children))
    return out


def read_parts(function: Found) -> tuple[set[str], dict[str, list[str]]]:
    """(parts the function reads from its request, part -> the schemas it parses it with)."""
    src = function.src
    request, aliases = _request_name(function)
    reads = set(aliases.values())
    parsed: dict[str, list[str]] = {}
    body = function.node.child_by_field_name("body")
    nodes = _walk(body) if body is not None else []
    for node in nodes:
        if node.type == "member_expression" and request is not None:
            obj, prop = node.child_by_field_name("object"), node.child_by_field_name("property")
            if obj is not None and prop is not None and src.node_text(obj) == request:
                part = _REQUEST_KEYS.get(src.node_text(prop))
                if part is not None:
                    reads.add(part)
        elif node.type == "variable_declarator" and request is not None:
            name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
            pattern = name is not None and name.type == "object_pattern"
            if (
                name is not None
                and pattern
                and value is not None
                and src.node_text(value) == request
            ):
                destructured = _destructured(name, src)
                aliases.update(destructured)
                reads |= set(destructured.values())
    for node in nodes:
        parts = member_parts(node, src) if node.type == "call_expression" else None
        if parts is None or parts[1] not in PARSE_METHODS:
            continue
        args = arguments(node)
        text = src.node_text(args[0]) if args else ""
        owner, _, key = text.rpartition(".")
        part = _REQUEST_KEYS.get(key) if request and owner == request else aliases.get(text)
        if part is not None:
            parsed.setdefault(part, []).append(parts[0])
    return reads, parsed


def _hook_parts(hook: str, found: Found, home: SourceFile, find: Finder) -> dict[str, str]:
    """Parts a `preValidation`/`preHandler` hook validates (one hook or an array of them)."""
    out: dict[str, str] = {}
    items = found.node.named_children if found.node.type == "array" else [found.node]
    for item in items:
        entry = Found(found.src, item)
        function = _function(entry, home, find)
        label = f"{hook} hook" + (
            f" `{found.src.node_text(item)}`" if item.type == "identifier" else ""
        )
        if function is not None:
            for part in read_parts(function)[1]:
                out[part] = label
        elif item.type == "call_expression":
            out.update(_validator_call(item, found.src, hook))
    return out


def _validator_call(call: Node, src: SourceFile, hook: str) -> dict[str, str]:
    """`validate({ body: schema })` or `validateBody(schema)` given as a hook."""
    callee = call.child_by_field_name("function")
    name = src.node_text(callee) if callee is not None else ""
    if "valid" not in name.lower() and "parse" not in name.lower():
        return {}
    label = f"{hook} `{name}(…)`"
    args = arguments(call)
    keys = [
        src.node_text(c.child_by_field_name("key") or c)
        for a in args
        if a.type == "object"
        for c in a.named_children
    ]
    named = {_REQUEST_KEYS.get(k, k) for k in keys} & set(INPUTS)
    hinted = {
        part
        for word, part in (("body", "body"), ("param", "params"), ("query", "querystring"))
        if word in name.lower()
    }
    return {part: label for part in (named or hinted or set(INPUTS))}


def _type_provider(src: SourceFile, route: RouteCall) -> str | None:
    callee = route.call.child_by_field_name("function")
    receiver = src.node_text(callee) if callee is not None else ""
    # Once per file, not once per route: a scan of the whole text each time is quadratic.
    in_file = src.remember("zod type provider", lambda: any(n in src.text for n in _ZOD_PROVIDER))
    if in_file or any(name in receiver for name in _ZOD_PROVIDER):
        return "Zod type provider"
    return None


def _hono_facts(src: SourceFile, route: RouteCall, find: Finder) -> RouteFacts:
    """A Hono route: its validator middleware, what runs first, what its handler reads."""
    hono = read_hono_route(src, route.call)
    facts = RouteFacts(route, guards=hono.middleware, path=hono.base_path + route.url)
    for validator in hono.validators:
        label = f"`{validator.target}` validator `{validator.schema}`"
        facts.validated.setdefault(validator.part, []).append(label)
    if hono.handler is None:
        return facts
    facts.handler = Found(src, hono.handler)
    if hono.handler.type in ("identifier", "member_expression"):
        facts.handler_name = src.node_text(hono.handler)
    function = facts.function = _function(facts.handler, src, find)
    if function is not None:
        reads, _, parsed = read_context(function)
        facts.reads = tuple(p for p in INPUTS if p in reads)
        for part, schemas in parsed.items():
            shown = ", ".join(f"`{s}`" for s in dict.fromkeys(schemas))
            facts.validated.setdefault(part, []).append(f"handler parses {shown}")
    return facts


def route_facts(src: SourceFile, route: RouteCall, find: Finder) -> RouteFacts:
    """Everything the route's registration says, its options followed to their definitions."""
    if route.framework == "hono":
        return _hono_facts(src, route, find)
    facts = RouteFacts(route, path=route.url)
    facts.plugin_hooks = plugin_hooks(src, route)
    for added in facts.plugin_hooks:
        if added.hook in _GUARDS:
            shown = f"`{short_text(added.value, src, 48)}`"
            facts.guards.append(f"{shown} ({added.hook} hook of the plugin, line {added.line})")
    args = arguments(route.call)
    callee = route.call.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None else None
    options = args if prop is not None and src.node_text(prop) == "route" else args[1:]
    handler_node = None
    if options is not args and options and options[-1].type != "object":
        handler_node = options[-1]
        options = options[:-1]
    for arg in options:
        _merge(Found(src, arg), src, find, facts, None, 0)
    handler_option = facts.options.get("handler")
    handler = handler_option or (Found(src, handler_node) if handler_node is not None else None)
    facts.handler = handler
    named = ("identifier", "shorthand_property_identifier", "member_expression")
    if handler is not None and handler.node.type in named:
        facts.handler_name = handler.src.node_text(handler.node)
    schema = facts.options.get("schema")
    if schema is not None and schema.node.type in ("identifier", "shorthand_property_identifier"):
        facts.schema_elsewhere = schema.src.node_text(schema.node)
        schema = follow(facts.schema_elsewhere, schema.src, src, find) or schema
    if schema is not None and schema.node.type == "object":
        entries = RouteFacts(route)
        _merge(schema, src, find, entries, None, 0)
        facts.schema_parts = tuple(
            p for p in (*INPUTS, "headers", "response") if p in entries.options
        )
    facts.type_provider = _type_provider(src, route)
    by_schema = "route schema" + (f", {facts.type_provider}" if facts.type_provider else "")
    for part in facts.schema_parts:
        if part in INPUTS:
            facts.validated.setdefault(part, []).append(by_schema)
    for hook in _VALIDATING_HOOKS:
        if hook in facts.options:
            for part, label in _hook_parts(hook, facts.options[hook], src, find).items():
                facts.validated.setdefault(part, []).append(label)
        for added in facts.plugin_hooks:
            if added.hook == hook:
                for part, label in _hook_parts(hook, Found(src, added.value), src, find).items():
                    facts.validated.setdefault(part, []).append(f"{label} of the plugin")
    function = facts.function = _function(handler, src, find)
    if function is not None:
        reads, parsed = read_parts(function)
        facts.reads = tuple(p for p in INPUTS if p in reads)
        for part, schemas in parsed.items():
            shown = ", ".join(f"`{s}`" for s in dict.fromkeys(schemas))
            facts.validated.setdefault(part, []).append(f"handler parses {shown}")
    return facts
