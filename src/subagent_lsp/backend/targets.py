"""The code a developer means, in backend terms: a route or a tRPC procedure is a unit of its own."""

from __future__ import annotations

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.targets import Target, Unit, resolve_target
from .routes import route_call
from .trpc import procedure_unit


def unit_call(src: SourceFile, call: Node) -> Unit | None:
    """A route or plugin registration, or a tRPC procedure: each its own enclosure."""
    procedure = procedure_unit(src, call)
    if procedure is not None:
        return procedure
    route = route_call(src, call)
    return (route.call, route.kind, route.name) if route is not None else None


def target_at(src: SourceFile, start: int, end: int) -> Target:
    """The code to act on for a selection (see `syntax.targets.resolve_target`)."""
    return resolve_target(src, start, end, unit_call)
