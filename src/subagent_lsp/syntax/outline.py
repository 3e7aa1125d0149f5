"""Shorter forms of a declaration, for when the whole does not fit: a class as the signatures of
its members, an object literal's members one by one."""

from __future__ import annotations

from tree_sitter import Node

from .declarations import Declaration
from .source import SourceFile

_CLASS_NODES = ("class_declaration", "abstract_class_declaration", "class")
_FUNCTION_VALUES = ("arrow_function", "function_expression")
_WRAPPERS = ("as_expression", "satisfies_expression", "parenthesized_expression")
_MAX_MEMBER_CHARS = 160
"""A field longer than this is shown up to its initialiser: its name and type are the shape."""


def declaration_node(src: SourceFile, decl: Declaration) -> Node | None:
    """The syntax node a top-level declaration was read from (inside its `export`)."""
    for statement in src.tree.root_node.named_children:
        # A declaration ends where its statement does; it may start at a doc comment.
        if statement.type == "comment" or src.node_span(statement)[1] != decl.end:
            continue
        inner = statement.child_by_field_name("declaration")
        return inner if inner is not None else statement
    return None


def class_outline(src: SourceFile, decl: Declaration, max_chars: int) -> str | None:
    """A class with each member's signature and no bodies, cut after ``max_chars`` with a count
    of the members left out. None for anything that is not a class."""
    node = declaration_node(src, decl)
    if node is None or node.type not in _CLASS_NODES or decl.body_start is None:
        return None
    body = node.child_by_field_name("body")
    if body is None:
        return None
    lines = [src.text[decl.start : decl.body_start].rstrip() + " {"]
    members = [m for m in body.named_children if m.type not in ("comment", "decorator")]
    used = len(lines[0])
    for shown, member in enumerate(members):
        line = "  " + " ".join(_member_signature(src, member).split())
        if used + len(line) > max_chars:
            lines.append(f"  // … {len(members) - shown} more members")
            break
        lines.append(line)
        used += len(line) + 1
    lines.append("}")
    return "\n".join(lines)


def _member_signature(src: SourceFile, member: Node) -> str:
    start = src.node_span(member)[0]
    # Decorators stay out: the signature is the member's shape.
    for child in member.children:
        if child.type != "decorator":
            start = src.node_span(child)[0]
            break
    body = member.child_by_field_name("body")
    value = member.child_by_field_name("value")
    if body is not None:
        return src.text[start : src.node_span(body)[0]].rstrip() + " { … }"
    if value is not None and value.type in _FUNCTION_VALUES:
        inner = value.child_by_field_name("body")
        if inner is not None and inner.type == "statement_block":
            return src.text[start : src.node_span(inner)[0]].rstrip() + " { … }"
    text = src.text[start : src.node_span(member)[1]].rstrip().rstrip(";")
    if value is not None and len(text) > _MAX_MEMBER_CHARS:
        return src.text[start : src.node_span(value)[0]].rstrip() + " …"
    return text


def object_member(src: SourceFile, decl: Declaration, name: str) -> Declaration | None:
    """The member ``name`` of a declaration whose value is an object literal (`const x = {...}`,
    `export default {...}`), as a declaration of its own named `decl.member`."""
    value = _object_value(src, decl)
    if value is None:
        return None
    for entry in value.named_children:
        if entry.type in ("pair", "method_definition"):
            key = entry.child_by_field_name("key") or entry.child_by_field_name("name")
        elif entry.type == "shorthand_property_identifier":
            key = entry
        else:
            continue
        if key is None or src.node_text(key).strip("\"'") != name:
            continue
        start, end = src.node_span(entry)
        return Declaration(
            f"{decl.name}.{name}", "member", start, end, None, decl.exported, None, None
        )
    return None


def _object_value(src: SourceFile, decl: Declaration) -> Node | None:
    value = decl.value(src)
    if value is None:
        node = declaration_node(src, decl)
        # `export default { ... }`: the statement's value.
        value = node.child_by_field_name("value") if node is not None else None
    while value is not None and value.type in _WRAPPERS:
        value = value.named_children[0] if value.named_children else None
    return value if value is not None and value.type == "object" else None
