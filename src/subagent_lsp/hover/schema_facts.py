"""Facts read from Drizzle table definitions and Zod schemas, without running anything."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from ..syntax import SourceFile


def call_chain(node: Node | None, src: SourceFile) -> list[tuple[str, Node | None]]:
    """`a("x").b().c(1)` -> [("a", args), ("b", args), ("c", args)], innermost call first."""
    links: list[tuple[str, Node | None]] = []
    while node is not None and node.type == "call_expression":
        callee = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if callee is None:
            break
        if callee.type == "member_expression":
            prop = callee.child_by_field_name("property")
            links.append((src.node_text(prop) if prop is not None else "?", args))
            node = callee.child_by_field_name("object")
        else:
            links.append((src.node_text(callee), args))
            node = None
    if node is not None and node.type in ("identifier", "member_expression"):
        links.append((src.node_text(node), None))
    links.reverse()
    return links


def _arguments(args: Node | None) -> list[Node]:
    return list(args.named_children) if args is not None else []


def _string(node: Node | None, src: SourceFile) -> str | None:
    if node is not None and node.type in ("string", "template_string"):
        return src.node_text(node).strip("\"'`")
    return None


@dataclass
class Column:
    name: str
    sql_name: str | None
    type: str
    constraints: list[str] = field(default_factory=list)
    references: str | None = None


@dataclass
class Index:
    name: str
    columns: list[str]
    unique: bool


@dataclass
class Table:
    variable: str
    sql_name: str
    builder: str
    columns: list[Column]
    indexes: list[Index]

    def indexed_columns(self) -> dict[str, str]:
        """Column -> what makes lookups on it fast: primary key, unique, or the index leading with it."""
        covered: dict[str, str] = {}
        for column in self.columns:
            if "primary key" in column.constraints:
                covered[column.name] = "primary key"
            elif "unique" in column.constraints:
                covered[column.name] = "unique"
        for index in self.indexes:
            if index.columns and index.columns[0] not in covered:
                covered[index.columns[0]] = f"index {index.name}"
        return covered


_TYPE_OPTIONS = ("length", "precision", "scale")


def _column(name: str, value: Node, src: SourceFile) -> Column | None:
    links = call_chain(value, src)
    if not links or links[0][1] is None:
        return None
    base, args = links[0]
    arguments = _arguments(args)
    sql_name = _string(arguments[0], src) if arguments else None
    type_text = base
    for arg in arguments:
        if arg.type == "object":
            for pair in arg.named_children:
                key = pair.child_by_field_name("key")
                val = pair.child_by_field_name("value")
                if key is not None and val is not None and src.node_text(key) in _TYPE_OPTIONS:
                    type_text += f"({src.node_text(val)})"
    column = Column(name, sql_name, type_text)
    for method, method_args in links[1:]:
        if method == "notNull":
            column.constraints.append("not null")
        elif method == "primaryKey":
            column.constraints.append("primary key")
        elif method == "unique":
            column.constraints.append("unique")
        elif method in ("default", "$default", "$defaultFn"):
            inner = _arguments(method_args)
            shown = src.node_text(inner[0]) if inner else ""
            column.constraints.append(f"default {shown}" if len(shown) <= 24 else "default")
        elif method == "defaultNow":
            column.constraints.append("default now()")
        elif method == "autoincrement":
            column.constraints.append("auto increment")
        elif method == "references":
            inner = _arguments(method_args)
            if inner and inner[0].type == "arrow_function":
                body = inner[0].child_by_field_name("body")
                column.references = src.node_text(body) if body is not None else None
    return column


def _indexes(config: Node, src: SourceFile) -> list[Index]:
    found: list[Index] = []
    stack = [config]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            links = call_chain(node, src)
            names = [name for name, _ in links]
            if names and names[0] in ("index", "uniqueIndex") and "on" in names:
                first_args = _arguments(links[0][1])
                on_args = _arguments(dict(links)["on"])
                columns = [src.node_text(a).rsplit(".", 1)[-1] for a in on_args]
                name = _string(first_args[0], src) if first_args else None
                found.append(Index(name or "?", columns, names[0] == "uniqueIndex"))
                continue
        stack.extend(reversed(node.named_children))
    return found


def read_table(variable: str, call: Node, src: SourceFile) -> Table | None:
    links = call_chain(call, src)
    if not links:
        return None
    builder, args = links[0]
    arguments = _arguments(args)
    if len(arguments) < 2 or arguments[1].type != "object":
        return None
    columns = []
    for pair in arguments[1].named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is None or value is None:
            continue
        column = _column(src.node_text(key), value, src)
        if column is not None:
            columns.append(column)
    indexes = _indexes(arguments[2], src) if len(arguments) > 2 else []
    return Table(variable, _string(arguments[0], src) or variable, builder, columns, indexes)


def read_relations(call: Node, src: SourceFile) -> list[str]:
    """`relations(users, ({ many }) => ({ posts: many(posts) }))` -> ["posts: many(posts)"]."""
    args = _arguments(call.child_by_field_name("arguments"))
    if len(args) < 2 or args[1].type != "arrow_function":
        return []
    body = args[1].child_by_field_name("body")
    while body is not None and body.type == "parenthesized_expression" and body.named_children:
        body = body.named_children[0]
    if body is None or body.type != "object":
        return []
    out = []
    for pair in body.named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is None or value is None:
            continue
        links = call_chain(value, src)
        if links:
            kind, kind_args = links[0]
            target = _arguments(kind_args)
            out.append(
                f"{src.node_text(key)}: {kind}({src.node_text(target[0]) if target else ''})"
            )
    return out


_ZOD_MODIFIERS = {"optional", "nullable", "nullish", "default", "array"}


def _zod_type(value: Node, src: SourceFile) -> str:
    links = call_chain(value, src)
    if not links:
        return src.node_text(value)
    head = links[0][0]
    parts: list[str] = []
    if head == "z" and len(links) > 1:
        kind, args = links[1]
        inner = _arguments(args)
        if kind == "object":
            parts.append("object")
        elif kind in ("array", "enum", "literal") and inner:
            parts.append(f"{kind}({' '.join(src.node_text(inner[0]).split())[:40]})")
        else:
            parts.append(kind)
        rest = links[2:]
    elif head == "z.coerce" and len(links) > 1:
        parts.append(f"coerced {links[1][0]}")
        rest = links[2:]
    else:
        parts.append(head)
        rest = links[1:]
    checks = [name for name, _ in rest if name not in _ZOD_MODIFIERS and name != "coerce"]
    if checks:
        parts.append("(" + ", ".join(checks) + ")")
    modifiers = [name for name, _ in rest if name in _ZOD_MODIFIERS]
    parts += modifiers
    return " ".join(parts)


def _shape_lines(obj: Node, src: SourceFile, prefix: str = "") -> list[str]:
    lines = []
    for pair in obj.named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is not None and value is not None:
            lines.append(f"{prefix}{src.node_text(key)}: {_zod_type(value, src)}")
        elif pair.type == "shorthand_property_identifier":
            lines.append(f"{prefix}{src.node_text(pair)}: schema `{src.node_text(pair)}`")
    return lines


def read_zod(call: Node, src: SourceFile) -> list[str] | None:
    """The shape of a Zod schema, one line per key or step, or None if it is not a Zod schema."""
    links = call_chain(call, src)
    if len(links) < 2:
        return None
    head = links[0][0]
    lines: list[str] = []
    if head == "z":
        if links[1][0] != "object":
            return None
        args = _arguments(links[1][1])
        if args and args[0].type == "object":
            lines += _shape_lines(args[0], src)
        rest = links[2:]
    elif links[1][0] in (
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
    ):
        lines.append(f"built from `{head}`")
        rest = links[1:]
    else:
        return None
    for method, method_args in rest:
        args = _arguments(method_args)
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
