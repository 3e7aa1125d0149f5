"""What the cursor points at: the code to act on and the declaration that encloses it.

Framework-free: which calls are units of their own (a route registration, a tRPC procedure) is
said by the ``units`` recogniser the caller passes (see ``backend/targets.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Node

from .source import SourceFile
from .tree import FUNCTIONS

_STATEMENTS = frozenset(
    {
        "expression_statement",
        "lexical_declaration",
        "variable_declaration",
        "return_statement",
        "if_statement",
        "for_statement",
        "for_in_statement",
        "while_statement",
        "do_statement",
        "try_statement",
        "switch_statement",
        "throw_statement",
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "abstract_class_declaration",
        "interface_declaration",
        "type_alias_declaration",
        "enum_declaration",
        "export_statement",
        "import_statement",
        "method_definition",
        "public_field_definition",
    }
)
_CLASSES = frozenset({"class_declaration", "abstract_class_declaration", "class"})

Unit = tuple[Node, str, str | None]
"""(the node that holds the unit, its kind, its name)."""
Units = Callable[[SourceFile, Node], Unit | None]
"""Says whether a call expression is a unit of its own, such as a route registration."""


@dataclass(frozen=True)
class Target:
    start: int
    end: int
    kind: str
    enclosing_start: int
    enclosing_end: int
    enclosing_kind: str
    enclosing_name: str | None


def _statement_at(src: SourceFile, offset: int) -> Node | None:
    node: Node | None = src.node_at(offset, offset)
    while node is not None and node.type not in _STATEMENTS:
        node = node.parent
    # An export wraps its declaration; the developer means the whole exported thing.
    if node is not None and node.parent is not None and node.parent.type == "export_statement":
        node = node.parent
    return node


def _cursor_offset(src: SourceFile, offset: int) -> int:
    """Move a cursor that sits in blank space onto the code the developer most likely means."""
    text = src.text
    line = src.line_of(offset)
    line_start, line_end = src.line_span(line)
    content = text[line_start:line_end]
    if content.strip():
        # On a line with code: from indentation or trailing space, step onto the code.
        first = line_start + len(content) - len(content.lstrip())
        last = line_start + len(content.rstrip())
        if offset <= first:
            return first
        if offset >= last and offset > line_start:
            return max(line_start, last - 1)
        return offset
    # A blank line: the next line with code.
    for next_line in range(line + 1, src.line_count):
        start, end = src.line_span(next_line)
        segment = text[start:end]
        if segment.strip():
            return start + len(segment) - len(segment.lstrip())
    return offset


def declaration_name(src: SourceFile, node: Node) -> str | None:
    name = node.child_by_field_name("name")
    if name is not None:
        return src.node_text(name)
    parent = node.parent
    if parent is not None and parent.type == "variable_declarator":
        inner = parent.child_by_field_name("name")
        return src.node_text(inner) if inner is not None else None
    return None


def _statement_call(node: Node) -> Node | None:
    """The call an expression statement consists of (`app.get(...)`, `await app.register(...)`)."""
    if node.type != "expression_statement" or not node.named_children:
        return None
    call = node.named_children[0]
    if call.type == "await_expression" and call.named_children:
        call = call.named_children[0]
    return call if call.type == "call_expression" else None


def _as_statement(unit: Unit) -> Unit:
    holder, kind, name = unit
    parent = holder.parent
    if holder.type == "call_expression" and parent is not None:
        if parent.type == "await_expression" and parent.parent is not None:
            parent = parent.parent
        if parent.type == "expression_statement":
            return parent, kind, name
    return unit


def _enclosing(src: SourceFile, node: Node, units: Units) -> Unit:
    if node.type == "export_statement":
        declaration = node.child_by_field_name("declaration")
        if declaration is not None:
            holder, kind, name = _enclosing(src, declaration, units)
            return (node if holder == declaration else holder), kind, name
    if node.type in ("lexical_declaration", "variable_declaration") and node.named_children:
        value = node.named_children[0].child_by_field_name("value")
        if value is not None and value.type in FUNCTIONS:
            return _enclosing(src, value, units)
    if node.type == "pair":  # a router entry: `list: procedure.query(...)`
        value = node.child_by_field_name("value")
        entry = units(src, value) if value is not None and value.type == "call_expression" else None
        if entry is not None and entry[0] == node:
            return entry
    call = _statement_call(node)
    unit = units(src, call) if call is not None else None
    if unit is not None:
        # A whole route registration is its own enclosure, not a piece of its plugin.
        return node, unit[1], unit[2]
    current: Node | None = node
    while current is not None:
        if current.type == "call_expression":
            unit = units(src, current)
            if unit is not None:
                return _as_statement(unit)
        if current.type in FUNCTIONS:
            name = declaration_name(src, current)
            kind = "method" if current.type == "method_definition" else "function"
            holder = current
            # `const handler = async () => {}` reads best with its declaration.
            parent = current.parent
            if parent is not None and parent.type == "variable_declarator":
                grand = parent.parent
                holder = grand if grand is not None else parent
                if holder.parent is not None and holder.parent.type == "export_statement":
                    holder = holder.parent
            elif parent is not None and parent.type == "export_statement":
                holder = parent
            if current.type == "arrow_function" and name is None:
                current = current.parent
                continue
            return holder, kind, name
        if current.type in _CLASSES:
            holder = current
            if current.parent is not None and current.parent.type == "export_statement":
                holder = current.parent
            return holder, "class", declaration_name(src, current)
        current = current.parent
    return node, "statement", None


def resolve_target(src: SourceFile, start: int, end: int, units: Units) -> Target:
    """The code to act on. Empty or one-character selections mean the statement at the cursor."""
    start, end = sorted((max(0, min(start, len(src.text))), max(0, min(end, len(src.text)))))
    # Listing actions asks several times for the same span: facts, instruction, hover facts.
    return src.remember(
        ("target", start, end, units), lambda: _resolve_target(src, start, end, units)
    )


def _resolve_target(src: SourceFile, start: int, end: int, units: Units) -> Target:
    if end - start <= 1:
        cursor = _cursor_offset(src, start)
        node = _statement_at(src, cursor)
        if node is None:
            line_start, line_end = src.line_span(src.line_of(cursor))
            return Target(line_start, line_end, "line", line_start, line_end, "statement", None)
        # On the first line of a route registration, the developer means the whole route; on
        # the first line of a router entry, that entry, not the router of a thousand lines.
        line = src.line_of(cursor)
        unit = _unit_statement_on_line(src, node, line, units) or _unit_on_line(
            src, cursor, node, line, units
        )
        if unit is not None:
            node = unit
        t_start, t_end = src.node_span(node)
        kind = node.type
    else:
        text = src.text[start:end]
        t_start = start + (len(text) - len(text.lstrip()))
        t_end = end - (len(text) - len(text.rstrip()))
        if t_end <= t_start:
            t_start, t_end = start, end
        node = src.node_at(t_start, t_end)
        kind = "selection"
    holder, enclosing_kind, name = _enclosing(src, node, units)
    e_start, e_end = src.node_span(holder)
    e_start, e_end = min(e_start, t_start), max(e_end, t_end)
    return Target(t_start, t_end, kind, e_start, e_end, enclosing_kind, name)


def _unit_on_line(
    src: SourceFile, cursor: int, statement: Node, line: int, units: Units
) -> Node | None:
    """The unit inside ``statement`` that starts on the cursor's line (`list: procedure…`)."""
    current: Node | None = src.node_at(cursor, cursor)
    while current is not None and current != statement:
        if src.line_of(src.node_span(current)[0]) != line:
            return None
        call = current.child_by_field_name("value") if current.type == "pair" else current
        if call is not None and call.type == "call_expression":
            unit = units(src, call)
            if unit is not None and src.line_of(src.node_span(unit[0])[0]) == line:
                return unit[0]
        current = current.parent
    return None


def _unit_statement_on_line(src: SourceFile, node: Node, line: int, units: Units) -> Node | None:
    current: Node | None = node
    while current is not None:
        if (
            current.type == "expression_statement"
            and src.line_of(src.node_span(current)[0]) == line
        ):
            call = _statement_call(current)
            if call is not None and units(src, call) is not None:
                return current
        current = current.parent
    return None
