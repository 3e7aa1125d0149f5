"""tRPC: procedures (`name: publicProcedure.input(...).query(...)`) inside routers."""

from __future__ import annotations

from tree_sitter import Node

from ..syntax.source import SourceFile

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
