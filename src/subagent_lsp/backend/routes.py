"""Route registrations (Fastify's, and Hono's by the same call shape), plugin registrations, and
the hooks a Fastify plugin adds for all its routes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import (
    ancestors,
    arguments,
    calls_in,
    enclosing_function,
    member_parts,
    object_entries,
    string_value,
)
from .hono import is_hono_file

HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "all"})
SCHEMA_PARTS = ("body", "querystring", "params", "headers", "response")
HOOKS = (
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


@dataclass(frozen=True)
class RouteCall:
    """`app.get("/x", ...)`, `app.route({ method, url, ... })` or `app.register(plugin, ...)`."""

    call: Node
    kind: Literal["route", "plugin"]
    method: str
    """Upper-case HTTP method ("ROUTE" when `route()` names none); "register" for a plugin."""
    url: str
    """The path; for a plugin, the text of what is registered."""
    framework: Literal["fastify", "hono"] = "fastify"

    @property
    def name(self) -> str:
        return f"{self.method} {self.url}"


_MAY_REGISTER = re.compile(
    r"\.\s*(?:get|post|put|patch|delete|head|options|all|route)\s*\(", re.IGNORECASE
)


def may_register_routes(text: str) -> bool:
    """Whether a file's text could register a route at all: a cheap test before parsing it."""
    return _MAY_REGISTER.search(text) is not None


def route_call(src: SourceFile, call: Node) -> RouteCall | None:
    """The registration ``call`` makes, or None when it is not one."""
    callee = call.child_by_field_name("function")
    if callee is None or callee.type != "member_expression":
        return None
    prop = callee.child_by_field_name("property")
    method = src.node_text(prop) if prop is not None else ""
    args = arguments(call)
    first = args[0] if args else None
    if method in HTTP_METHODS:
        url = string_value(first, src)
        # A route's path starts with `/` (or is `*`, or empty under a prefix); `headers.get("x-id")`,
        # `searchParams.get("q")` and `cache.delete(key)` are no routes.
        if url is None or not (url.startswith("/") or url in ("*", "")):
            return None
        if is_hono_file(src):
            # A Hono route needs a handler after its path; `c.get("/x")` alone is no route.
            return RouteCall(call, "route", method.upper(), url, "hono") if len(args) > 1 else None
        return RouteCall(call, "route", method.upper(), url)
    if method == "route" and first is not None and first.type == "object" and not is_hono_file(src):
        keys = object_entries(first, src)
        http = src.node_text(keys["method"]).strip("\"'`[]") if "method" in keys else "ROUTE"
        url = src.node_text(keys["url"]).strip("\"'`") if "url" in keys else "?"
        return RouteCall(call, "route", http.upper(), url)
    if method == "register" and first is not None:
        return RouteCall(call, "plugin", "register", src.node_text(first))
    return None


def route_around(src: SourceFile, node: Node) -> RouteCall | None:
    """The route registration ``node`` is part of (the node itself included)."""
    for current in (node, *ancestors(node)):
        if current.type == "call_expression":
            route = route_call(src, current)
            if route is not None and route.kind == "route":
                return route
    return None


def route_within(src: SourceFile, node: Node) -> RouteCall | None:
    """The first route registration inside ``node``, in document order."""
    start, end = src.node_span(node)
    for call in calls_in(src, node, start, end):
        route = route_call(src, call)
        if route is not None and route.kind == "route":
            return route
    return None


@dataclass(frozen=True)
class PluginHook:
    """`app.addHook("preHandler", app.authenticate)` in the plugin a route is registered in."""

    hook: str
    value: Node
    line: int


def plugin_hooks(src: SourceFile, route: RouteCall) -> list[PluginHook]:
    """The hooks added with `addHook` on the route's instance in the same plugin function.

    Fastify gives a route the hooks of its encapsulation context when the plugin has loaded, so
    a hook added after the route in the same plugin runs for it too.
    """
    callee = route.call.child_by_field_name("function")
    receiver = callee.child_by_field_name("object") if callee is not None else None
    if receiver is None:
        return []
    name = src.node_text(receiver)
    scope = enclosing_function(route.call)
    found = []
    for call in src.remember("addHook calls", lambda: _add_hook_calls(src)):
        parts = member_parts(call, src)
        args = arguments(call)
        hook = string_value(args[0], src) if args else None
        if parts is None or parts[0] != name or hook not in HOOKS or len(args) < 2:
            continue
        if enclosing_function(call) == scope:
            found.append(PluginHook(hook, args[1], src.line_of(src.node_span(call)[0]) + 1))
    return found


def _add_hook_calls(src: SourceFile) -> list[Node]:
    if ".addHook(" not in src.text:
        return []
    calls = calls_in(src, src.tree.root_node, 0, len(src.text))
    return [c for c in calls if (member_parts(c, src) or ("", ""))[1] == "addHook"]
