"""Zod: whether code uses it, and the shape of a schema, read without running anything."""

from __future__ import annotations

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import arguments, call_chain

NAMESPACE = "z"
PARSE_METHODS = frozenset({"parse", "safeParse", "parseAsync", "safeParseAsync"})
_MODIFIERS = frozenset({"optional", "nullable", "nullish", "default", "array"})
_DERIVATIONS = frozenset(
    {
        "extend",
        "merge",
        "pick",
        "omit",
        "partial",
        "required",
        "strict",
        "passthrough",
        "refine",
        "superRefine",
        "transform",
    }
)


def is_zod_call(receiver: str, method: str) -> bool:
    """`z.object(...)`, `z.string().min(1)` or `schema.parse(...)`: Zod at work."""
    root = receiver.split(".", 1)[0].split("(", 1)[0]
    return root == NAMESPACE or method in PARSE_METHODS


def _type(value: Node, src: SourceFile) -> str:
    links = call_chain(value, src)
    if not links:
        return src.node_text(value)
    head = links[0][0]
    parts: list[str] = []
    if head == NAMESPACE and len(links) > 1:
        kind, args = links[1]
        inner = arguments(args)
        if kind == "object":
            parts.append("object")
        elif kind in ("array", "enum", "literal") and inner:
            parts.append(f"{kind}({' '.join(src.node_text(inner[0]).split())[:40]})")
        else:
            parts.append(kind)
        rest = links[2:]
    elif head == f"{NAMESPACE}.coerce" and len(links) > 1:
        parts.append(f"coerced {links[1][0]}")
        rest = links[2:]
    else:
        parts.append(head)
        rest = links[1:]
    checks = [name for name, _ in rest if name not in _MODIFIERS and name != "coerce"]
    if checks:
        parts.append("(" + ", ".join(checks) + ")")
    parts += [name for name, _ in rest if name in _MODIFIERS]
    return " ".join(parts)


def _shape_lines(obj: Node, src: SourceFile, prefix: str = "") -> list[str]:
    lines = []
    for pair in obj.named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is not None and value is not None:
            lines.append(f"{prefix}{src.node_text(key)}: {_type(value, src)}")
        elif pair.type == "shorthand_property_identifier":
            lines.append(f"{prefix}{src.node_text(pair)}: schema `{src.node_text(pair)}`")
    return lines


def read_schema(call: Node, src: SourceFile) -> list[str] | None:
    """The shape of a Zod schema, one line per key or step, or None if it is not a Zod schema."""
    links = call_chain(call, src)
    if len(links) < 2:
        return None
    head = links[0][0]
    lines: list[str] = []
    if head == NAMESPACE:
        if links[1][0] != "object":
            return None
        args = arguments(links[1][1])
        if args and args[0].type == "object":
            lines += _shape_lines(args[0], src)
        rest = links[2:]
    elif links[1][0] in _DERIVATIONS:
        lines.append(f"built from `{head}`")
        rest = links[1:]
    else:
        return None
    for method, method_args in rest:
        args = arguments(method_args)
        if method == "extend" and args and args[0].type == "object":
            lines += _shape_lines(args[0], src, "+ ")
        elif method in ("pick", "omit") and args and args[0].type == "object":
            keys = [
                src.node_text(p.child_by_field_name("key") or p) for p in args[0].named_children
            ]
            lines.append(f"{method}: {', '.join(keys)}")
        elif method == "merge" and args:
            lines.append(f"merged with `{src.node_text(args[0])}`")
        else:
            lines.append(f".{method}()")
    return lines
