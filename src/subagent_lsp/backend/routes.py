"""Fastify: route registrations, plugin registrations, and what a route's options say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import ancestors, arguments, object_entries, string_value

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
_CALLS = "(call_expression) @call"


@dataclass(frozen=True)
class RouteCall:
    """`app.get("/x", ...)`, `app.route({ method, url, ... })` or `app.register(plugin, ...)`."""

    call: Node
    kind: Literal["route", "plugin"]
    method: str
    """Upper-case HTTP method ("ROUTE" when `route()` names none); "register" for a plugin."""
    url: str
    """The path; for a plugin, the text of what is registered."""

    @property
    def name(self) -> str:
        return f"{self.method} {self.url}"


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
        return RouteCall(call, "route", method.upper(), url)
    if method == "route" and first is not None and first.type == "object":
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
    for call in src.captures(_CALLS, node, start, end).get("call", []):
        route = route_call(src, call)
        if route is not None and route.kind == "route":
            return route
    return None
