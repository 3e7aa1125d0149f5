"""What the code a selection touches does, in the terms the intents of `actions.py` read."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..syntax.source import IDENTIFIERS, SourceFile
from ..syntax.targets import Target
from ..syntax.tree import FUNCTIONS, ancestors, arguments, member_parts
from .lookup import Finder, local_finder
from .queries import is_query_call
from .routes import RouteCall, route_around, route_within
from .validation import route_facts
from .zod import is_zod_call

_STATUS_METHODS = frozenset({"code", "status"})
_FACTS = f"""
{IDENTIFIERS}
(try_statement) @try
(await_expression) @await
[{" ".join(f"({kind})" for kind in sorted(FUNCTIONS))}] @function
(call_expression) @call
"""


@dataclass(frozen=True)
class RegisteredRoute:
    """The route a function written on its own serves, registered elsewhere by name."""

    method: str
    path: str
    has_schema: bool
    unvalidated: tuple[str, ...]


@dataclass(frozen=True)
class CodeFacts:
    in_route: bool
    route_method: str | None
    route_path: str | None
    route_has_schema: bool
    route_unvalidated: tuple[str, ...]
    """Request parts the route's handler reads that nothing validates (see `validation.py`)."""
    uses_zod: bool
    has_db_query: bool
    has_try_catch: bool
    has_await: bool
    sets_status: bool
    is_function_like: bool
    identifiers: frozenset[str]


def code_facts(
    src: SourceFile,
    target: Target,
    find: Finder | None = None,
    registered: RegisteredRoute | None = None,
) -> CodeFacts:
    """What the selection touches; names are looked up through ``find`` (by default, in the
    file itself only, so listing actions reads no other file). ``registered``: the route the
    function around the selection serves, when it is registered elsewhere by name."""
    # The editor asks again at every cursor move; what the parsed text says is read once.
    route, facts = src.remember(("code facts", target), lambda: _local_facts(src, target))
    if route is not None:
        validation = route_facts(src, route, find or local_finder(src))
        return replace(
            facts,
            route_has_schema=validation is not None and "schema" in validation.options,
            route_unvalidated=validation.missing if validation is not None else (),
        )
    if registered is not None:
        return replace(
            facts,
            in_route=True,
            route_method=registered.method,
            route_path=registered.path,
            route_has_schema=registered.has_schema,
            route_unvalidated=registered.unvalidated,
        )
    return facts


def _local_facts(src: SourceFile, target: Target) -> tuple[RouteCall | None, CodeFacts]:
    """The facts the file alone gives; a route's validation is judged by the caller."""
    node = src.node_at(target.start, target.end)
    # The smallest node may be a piece of the selection; widen to everything the selection covers.
    b_start, b_end = src.to_byte(target.start), src.to_byte(target.end)
    while node.parent is not None and (node.start_byte > b_start or node.end_byte < b_end):
        node = node.parent
    route = route_around(src, node) or route_within(src, node)
    # Only what the selection touches counts, except the node itself, which always contains it.
    captured = {
        name: [n for n in nodes if n == node or (n.end_byte > b_start and n.start_byte < b_end)]
        for name, nodes in src.captures(_FACTS, node, target.start, target.end).items()
    }
    identifiers = frozenset(src.node_text(n) for n in captured.get("name", []))
    uses_zod = has_db = sets_status = False
    for call in captured.get("call", []):
        parts = member_parts(call, src)
        if parts is None:
            continue
        receiver, method = parts
        uses_zod = uses_zod or is_zod_call(receiver, method)
        has_db = has_db or is_query_call(receiver, method)
        if method in _STATUS_METHODS:
            args = arguments(call)
            sets_status = sets_status or bool(args and args[0].type == "number")
    is_function = bool(captured.get("function"))
    if not is_function:
        is_function = any(p.type in FUNCTIONS for p in ancestors(node)) and (
            target.enclosing_kind in ("function", "method")
        )
    has_try = bool(captured.get("try")) or any(p.type == "try_statement" for p in ancestors(node))
    facts = CodeFacts(
        in_route=route is not None,
        route_method=route.method if route is not None else None,
        route_path=route.url if route is not None else None,
        route_has_schema=False,
        route_unvalidated=(),
        uses_zod=uses_zod,
        has_db_query=has_db,
        has_try_catch=has_try,
        has_await=bool(captured.get("await")),
        sets_status=sets_status,
        is_function_like=is_function,
        identifiers=identifiers,
    )
    return route, facts
