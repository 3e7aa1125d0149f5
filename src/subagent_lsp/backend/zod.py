"""Zod: whether code uses it, and what a schema accepts, read without running anything.

Objects list their keys; other schemas (enums, unions, arrays, scalars with their checks) say
what they accept in a line; a schema derived from another (`base.extend({...})`, `.pick`,
`.partial`) or made from a Drizzle table by drizzle-zod (`createInsertSchema(users)`) names its
source and the steps applied to it.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.tree import arguments, call_chain, object_entries, short_text, string_value
from .drizzle import Table

NAMESPACE = "z"
PARSE_METHODS = frozenset({"parse", "safeParse", "parseAsync", "safeParseAsync"})
TableFinder = Callable[[str], Table | None]
"""The Drizzle table a name in the schema's file stands for, or None."""
_MODIFIERS = frozenset({"optional", "nullable", "nullish", "default", "array"})
_OBJECTS = {
    "object": "",
    "looseObject": "unknown keys kept",
    "strictObject": "unknown keys rejected",
}
_STEPS = {
    "partial": "every key optional",
    "deepPartial": "every key optional, deeply",
    "required": "every key required",
    "strict": "unknown keys rejected",
    "passthrough": "unknown keys kept",
    "strip": "unknown keys dropped",
    "refine": "refined by code",
    "superRefine": "refined by code",
    "check": "refined by code",
    "transform": "transformed after parsing",
    "optional": "optional",
    "nullable": "nullable",
    "nullish": "nullish",
    "array": "as an array",
    "readonly": "read-only",
    "brand": "branded",
}
# Steps that only document a schema; they change nothing it accepts.
_QUIET = frozenset({"describe", "openapi", "meta"})
_DERIVATIONS = frozenset({"extend", "safeExtend", "merge", "pick", "omit", *_STEPS, *_QUIET})
DRIZZLE_ZOD = {
    "createInsertSchema": "insert",
    "createSelectSchema": "select",
    "createUpdateSchema": "update",
}
"""drizzle-zod's builders: a schema of a table's row, as inserted, selected or updated."""
_SHOWN = 40


def is_zod_call(receiver: str, method: str) -> bool:
    """`z.object(...)`, `z.string().min(1)` or `schema.parse(...)`: Zod at work."""
    root = receiver.split(".", 1)[0].split("(", 1)[0]
    return root == NAMESPACE or method in PARSE_METHODS


def _member(node: Node, src: SourceFile) -> str:
    """A schema named (`` `cookieSchema` ``) or written inline (`string (email)`)."""
    if node.type in ("identifier", "member_expression"):
        return f"`{src.node_text(node)}`"
    return _type(node, src)


def _kind(kind: str, inner: list[Node], src: SourceFile) -> str:
    """What `z.<kind>(...)` accepts, in a few words."""
    first = inner[0] if inner else None
    if kind in _OBJECTS:
        return "object"
    if kind == "enum" and first is not None and first.type == "array":
        return "enum: " + " | ".join(_literal(v, src) for v in first.named_children)
    if kind in ("enum", "nativeEnum") and first is not None:
        return f"enum of `{short_text(first, src, _SHOWN)}`"
    if kind == "literal" and first is not None:
        return f"literal {short_text(first, src, _SHOWN)}"
    if kind == "array" and first is not None:
        return f"array of {_member(first, src)}"
    if kind in ("union", "intersection", "tuple") and first is not None:
        members = first.named_children if first.type == "array" else inner
        return f"{kind} of " + ", ".join(_member(m, src) for m in members)
    if kind == "discriminatedUnion" and len(inner) > 1 and inner[1].type == "array":
        shown = ", ".join(_member(m, src) for m in inner[1].named_children)
        return f"union on `{string_value(inner[0], src)}` of {shown}"
    if kind in ("record", "partialRecord") and first is not None:
        return f"record of {_member(inner[-1], src)}"
    if kind == "preprocess" and len(inner) > 1:
        return f"preprocessed, then {_member(inner[1], src)}"
    return kind


def _literal(node: Node, src: SourceFile) -> str:
    value = string_value(node, src)
    return value if value is not None else short_text(node, src, _SHOWN)


def _type(value: Node, src: SourceFile) -> str:
    """A key's schema in a few words: `string (email, max) optional`, `coerced number`."""
    links = call_chain(value, src)
    if not links:
        return src.node_text(value)
    head = links[0][0]
    if head == NAMESPACE and len(links) > 1:
        kind, args = links[1]
        inner = arguments(args)
        if kind in ("array", "enum", "literal") and inner:
            base = f"{kind}({' '.join(src.node_text(inner[0]).split())[:40]})"
        else:
            base = "object" if kind in _OBJECTS else kind
        return _decorated(base, links[2:])
    if head == f"{NAMESPACE}.coerce" and len(links) > 1:
        return _decorated(f"coerced {links[1][0]}", links[2:])
    return _decorated(head, links[1:])


def _decorated(base: str, rest: list[tuple[str, Node | None]]) -> str:
    """``base`` with its checks in brackets, then its modifiers: `string (email) optional`."""
    names = [name for name, _ in rest if name not in _QUIET and name != "coerce"]
    checks = [name for name in names if name not in _MODIFIERS]
    shown = base + (" (" + ", ".join(checks) + ")" if checks else "")
    return " ".join([shown, *(name for name in names if name in _MODIFIERS)])


def _shape_lines(obj: Node, src: SourceFile, prefix: str = "") -> list[str]:
    lines = []
    for pair in obj.named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is not None and value is not None:
            lines.append(f"{prefix}{src.node_text(key)}: {_type(value, src)}")
        elif pair.type == "shorthand_property_identifier":
            lines.append(f"{prefix}{src.node_text(pair)}: schema `{src.node_text(pair)}`")
        elif pair.type == "spread_element" and pair.named_children:
            lines.append(f"{prefix}keys of `{src.node_text(pair.named_children[0])}`")
    return lines


def _table_lines(
    kind: str, args: list[Node], src: SourceFile, tables: TableFinder | None
) -> list[str]:
    """drizzle-zod: the table's columns as the schema takes them, then the refinements."""
    name = src.node_text(args[0]) if args else "?"
    lines = [f"{kind} schema of table `{name}` (drizzle-zod)"]
    table = tables(name) if tables is not None and args and args[0].type == "identifier" else None
    if table is not None and kind == "insert":
        # An insert may leave out what the database fills in: defaults, nullable columns, keys
        # it generates.
        required = [
            c.name
            for c in table.columns
            if "not null" in c.constraints or "primary key" in c.constraints
            if not any(x.startswith("default") or x == "auto increment" for x in c.constraints)
            and c.type not in ("serial", "bigserial", "smallserial")
        ]
        optional = [c.name for c in table.columns if c.name not in required]
        lines.append("required: " + (", ".join(required) or "none"))
        if optional:
            lines.append("optional: " + ", ".join(optional))
    elif table is not None:
        every = "every column optional" if kind == "update" else "columns"
        lines.append(f"{every}: " + ", ".join(c.name for c in table.columns))
    if len(args) > 1 and args[1].type == "object":
        lines += _shape_lines(args[1], src, "refined ")
    return lines


def read_schema(call: Node, src: SourceFile, tables: TableFinder | None = None) -> list[str] | None:
    """What a Zod schema accepts, one line per key or step, or None if it is not a Zod schema.
    ``tables`` finds the table a drizzle-zod schema is made from, to list its columns."""
    # `z.record(...) satisfies z.ZodType<Limits>`: the type check changes nothing accepted.
    while call.type in ("satisfies_expression", "as_expression") and call.named_children:
        call = call.named_children[0]
    links = call_chain(call, src)
    if not links:
        return None
    head = links[0][0]
    lines: list[str] = []
    if head == NAMESPACE and len(links) > 1:
        kind, args = links[1]
        inner = arguments(args)
        if kind not in _OBJECTS:
            # Anything but an object is one line: what it accepts, its checks and modifiers.
            return [_decorated(_kind(kind, inner, src), links[2:])]
        if inner and inner[0].type == "object":
            lines += _shape_lines(inner[0], src)
        if _OBJECTS[kind]:
            lines.append(_OBJECTS[kind])
        rest = links[2:]
    elif head == f"{NAMESPACE}.coerce" and len(links) > 1:
        return [_type(call, src)]
    elif head in DRIZZLE_ZOD and links[0][1] is not None:
        lines += _table_lines(DRIZZLE_ZOD[head], arguments(links[0][1]), src, tables)
        rest = links[1:]
    elif len(links) > 1 and links[1][0] in _DERIVATIONS:
        lines.append(f"built from `{head}`")
        rest = links[1:]
    else:
        return None
    lines += _steps(rest, src)
    return lines


def _steps(rest: list[tuple[str, Node | None]], src: SourceFile) -> list[str]:
    """What each step after the base does to the keys or to what is accepted."""
    lines: list[str] = []
    for method, method_args in rest:
        args = arguments(method_args)
        first = args[0] if args else None
        if method in ("extend", "safeExtend") and first is not None and first.type == "object":
            lines += _shape_lines(first, src, "+ ")
        elif method in ("extend", "safeExtend", "merge") and first is not None:
            # `.extend(other.shape)` and `.merge(other)` both add the keys of another schema.
            other = src.node_text(first).removesuffix(".shape")
            lines.append(f"+ keys of `{other}`")
        elif method in ("pick", "omit", "partial", "required") and first is not None:
            keys = ", ".join(object_entries(first, src)) or short_text(first, src, _SHOWN)
            label = {"partial": "optional", "required": "required"}.get(method, method)
            lines.append(f"{label}: {keys}")
        elif method in _STEPS:
            lines.append(_STEPS[method])
        elif method not in _QUIET:
            lines.append(f".{method}()")
    return list(dict.fromkeys(lines))


def object_keys(call: Node | None, src: SourceFile) -> frozenset[str]:
    """The keys of an object schema (`z.object({...})`, with those `.extend({...})` adds); none
    for any other schema."""
    links = call_chain(call, src)
    names = [name for name, _ in links]
    if not any(name in _OBJECTS for name in names[:2]):
        return frozenset()
    keys: set[str] = set()
    for name, args in links:
        if name in _OBJECTS or name in ("extend", "safeExtend"):
            first = arguments(args)
            keys |= set(object_entries(first[0], src)) if first else set()
    return frozenset(keys)
