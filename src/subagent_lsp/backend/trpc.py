"""tRPC: procedures (`name: publicProcedure.input(...).query(...)`) inside routers."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import FUNCTIONS, ancestors, arguments, call_chain, object_entries
from .lookup import Finder, Found, follow

KINDS = frozenset({"query", "mutation", "subscription"})
"""The calls that end a procedure chain."""


def procedure_unit(src: SourceFile, call: Node) -> tuple[Node, str, str | None] | None:
    """(holder, "procedure", name) for the call that ends a procedure chain; the holder is the
    router entry (`getUser: ...`) when there is one."""
    callee = call.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None else None
    if callee is None or prop is None or src.node_text(prop) not in KINDS:
        return None
    # The base procedure is conventionally named `…Procedure` (publicProcedure, t.procedure).
    if "rocedure" not in src.node_text(callee):
        return None
    holder = call.parent
    if holder is not None and holder.type == "pair":
        key = holder.child_by_field_name("key")
        return holder, "procedure", src.node_text(key) if key is not None else None
    return call, "procedure", None


_STEPS = frozenset({"input", "output", "use", "meta", *KINDS})
_DEPTH = 4


@dataclass
class Procedure:
    """What a procedure chain says: `publicProcedure.use(mw).input(s).mutation(handler)`."""

    name: str | None
    kind: str
    base: str
    middleware: list[str] = field(default_factory=list)
    """`.use(...)` steps, those of the base procedure's definition first."""
    inputs: list[Found] = field(default_factory=list)
    output: Found | None = None
    handler: Found | None = None


def _chain(found: Found, home: SourceFile, find: Finder, procedure: Procedure, depth: int) -> str:
    """Reads the steps of a chain into ``procedure``; returns its base (the name it starts at)."""
    links = call_chain(found.node, found.src)
    if not links:
        return found.src.node_text(found.node)
    base = links[0][0]
    if links[0][1] is None and depth < _DEPTH and "." not in base:
        definition = follow(base, found.src, home, find)
        if definition is not None and definition.node.type == "call_expression":
            _chain(definition, home, find, procedure, depth + 1)
    for name, args in links[1:]:
        first = arguments(args)[0] if arguments(args) else None
        if first is None:
            continue
        if name == "use":
            procedure.middleware.append(" ".join(found.src.node_text(first).split())[:60])
        elif name == "input":
            procedure.inputs.append(Found(found.src, first))
        elif name == "output":
            procedure.output = Found(found.src, first)
        elif name in KINDS:
            procedure.handler = Found(found.src, first)
    return base


def read_procedure(src: SourceFile, call: Node, find: Finder) -> Procedure | None:
    """The procedure ``call`` (the `.query/.mutation/.subscription(...)` call) defines."""
    unit = procedure_unit(src, call)
    if unit is None:
        return None
    callee = call.child_by_field_name("function")
    prop = callee.child_by_field_name("property") if callee is not None else None
    kind = src.node_text(prop) if prop is not None else "query"
    procedure = Procedure(unit[2], kind, "")
    procedure.base = _chain(Found(src, call), src, find, procedure, 0)
    return procedure


def procedure_around(src: SourceFile, node: Node) -> Node | None:
    """The call ending the procedure chain ``node`` is part of, not counting its handler's body."""
    for current in (node, *ancestors(node)):
        if current.type in FUNCTIONS:
            return None
        if current.type == "pair":
            value = current.child_by_field_name("value")
            if value is not None and value.type == "call_expression" and procedure_unit(src, value):
                return value
            return None
        if current.type == "call_expression" and procedure_unit(src, current) is not None:
            return current
    return None


_CONTEXT = "(call_expression type_arguments: (type_arguments) @t)"


def context_type(src: SourceFile) -> tuple[str, int] | None:
    """The name `initTRPC.context<…>()` is given in a file (`typeof createContext` gives
    `createContext`, `Context` itself), and where: what every procedure's `ctx` holds."""
    if "initTRPC" not in src.text:
        return None
    for args in src.captures(_CONTEXT, src.tree.root_node, 0, len(src.text)).get("t", []):
        callee = args.parent.child_by_field_name("function") if args.parent else None
        obj = callee.child_by_field_name("object") if callee is not None else None
        prop = callee.child_by_field_name("property") if callee is not None else None
        if obj is None or prop is None or src.node_text(obj) != "initTRPC":
            continue
        if src.node_text(prop) != "context":
            continue
        given = args.named_children[0] if args.named_children else None
        if given is not None and given.type == "type_query":
            given = given.named_children[0] if given.named_children else None
        if given is not None and given.type in ("identifier", "type_identifier"):
            return src.node_text(given), src.node_span(given)[0]
    return None


_WRAPPERS = frozenset({"satisfies_expression", "as_expression", "parenthesized_expression"})


def router_object(src: SourceFile, value: Node | None) -> Node | None:
    """The object of a router's entries: `router({…})`, `t.router({…})`, `createTRPCRouter({…})`
    or a plain record of procedures (`{…} satisfies TRPCRouterRecord`)."""
    while value is not None and value.type in _WRAPPERS:
        value = value.named_children[0] if value.named_children else None
    if value is not None and value.type == "call_expression":
        callee = value.child_by_field_name("function")
        if callee is None or not src.node_text(callee).lower().endswith("router"):
            return None
        value = next((a for a in arguments(value) if a.type == "object"), None)
        return value
    if value is None or value.type != "object":
        return None
    entries = object_entries(value, src).values()
    procedures = any(v.type == "call_expression" and procedure_unit(src, v) for v in entries)
    return value if procedures else None


def entry_path(src: SourceFile, pair: Node) -> tuple[str, list[str]] | None:
    """The router declaration a procedure or router entry is in, and the keys from it down to
    the entry: `health: router({ ping: … })` in `appRouter` gives (`appRouter`, [health, ping])."""
    keys: list[str] = []
    current: Node | None = pair
    while current is not None:
        if current.type == "pair":
            key = current.child_by_field_name("key")
            if key is None:
                return None
            keys.insert(0, src.node_text(key).strip("\"'"))
        elif current.type == "variable_declarator":
            name = current.child_by_field_name("name")
            value = current.child_by_field_name("value")
            if name is None or router_object(src, value) is None:
                return None
            return src.node_text(name), keys
        elif current.type in FUNCTIONS:
            return None
        current = current.parent
    return None
