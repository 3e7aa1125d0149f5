"""Small readings of TypeScript syntax nodes that every kind of knowledge needs."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from .source import SourceFile

FUNCTIONS = frozenset(
    {
        "function_declaration",
        "generator_function_declaration",
        "function_expression",
        "arrow_function",
        "method_definition",
    }
)


def ancestors(node: Node) -> Iterator[Node]:
    """The node's parents, nearest first; the node itself is not among them."""
    current = node.parent
    while current is not None:
        yield current
        current = current.parent


_CALLS = "(call_expression) @call"


def calls_in(src: SourceFile, node: Node, start: int, end: int) -> list[Node]:
    """The call expressions under ``node`` within [start, end), in document order."""
    return src.captures(_CALLS, node, start, end).get("call", [])


def enclosing_function(node: Node) -> Node | None:
    """The function the node is in, the innermost; None at the top level."""
    return next((a for a in ancestors(node) if a.type in FUNCTIONS), None)


def short_text(node: Node, src: SourceFile, limit: int) -> str:
    """The node's text on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join(src.node_text(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def declarators(src: SourceFile, scope: Node, name: str) -> list[Node]:
    """The declarators of ``name`` (`const name = …`, exported or not) directly in ``scope``."""
    found = []
    for statement in scope.named_children:
        node = statement.child_by_field_name("declaration") or statement
        if node.type not in ("lexical_declaration", "variable_declaration"):
            continue
        for declarator in node.named_children:
            declared = declarator.child_by_field_name("name")
            if declared is not None and src.node_text(declared) == name:
                found.append(declarator)
    return found


def arguments(call: Node | None) -> list[Node]:
    """The arguments of a call expression (or the children of an `arguments` node)."""
    if call is None:
        return []
    args = call.child_by_field_name("arguments") if call.type == "call_expression" else call
    return list(args.named_children) if args is not None else []


def string_value(node: Node | None, src: SourceFile) -> str | None:
    """The text of a string or template literal, without its quotes; None for anything else."""
    if node is not None and node.type in ("string", "template_string"):
        return src.node_text(node).strip("\"'`")
    return None


def object_entries(node: Node | None, src: SourceFile) -> dict[str, Node]:
    """An object literal's keys and value nodes; a shorthand `{ schema }` maps to itself."""
    found: dict[str, Node] = {}
    if node is None or node.type != "object":
        return found
    for pair in node.named_children:
        if pair.type == "pair":
            key = pair.child_by_field_name("key")
            value = pair.child_by_field_name("value")
            if key is not None and value is not None:
                found[src.node_text(key).strip("\"'")] = value
        elif pair.type == "shorthand_property_identifier":
            found[src.node_text(pair)] = pair
    return found


def call_chain(node: Node | None, src: SourceFile) -> list[tuple[str, Node | None]]:
    """`a("x").b().c(1)` -> [("a", args), ("b", args), ("c", args)], innermost call first.

    A chain that starts at a name or member (`db.select()`) starts with that name and no
    arguments: [("db", None), ("select", args)].
    """
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


def member_parts(call: Node, src: SourceFile) -> tuple[str, str] | None:
    """(receiver text, method) of a `receiver.method(...)` call; None for a plain call."""
    callee = call.child_by_field_name("function")
    if callee is None or callee.type != "member_expression":
        return None
    obj = callee.child_by_field_name("object")
    prop = callee.child_by_field_name("property")
    if obj is None or prop is None:
        return None
    return src.node_text(obj), src.node_text(prop)


_MEMBERS = """
(member_expression object: (identifier) @object property: (property_identifier) @member)
(nested_type_identifier module: (identifier) @object name: (type_identifier) @member)
"""


def member_uses(src: SourceFile, start: int, end: int, name: str) -> tuple[frozenset[str], bool]:
    """The members of ``name`` used between two offsets (`ns.member` as a value or a type), and
    whether ``name`` is also used on its own (passed whole, spread, called)."""
    found = src.captures(_MEMBERS, src.tree.root_node, start, end)
    members: set[str] = set()
    as_object = 0
    for obj in found.get("object", []):
        o_start, o_end = src.node_span(obj)
        parent = obj.parent
        member = None
        if parent is not None:
            member = parent.child_by_field_name("property") or parent.child_by_field_name("name")
        if member is not None and start <= o_start and o_end <= end and src.node_text(obj) == name:
            members.add(src.node_text(member))
            as_object += 1
    found = src.captures("(identifier) @name", src.tree.root_node, start, end)
    uses = 0
    for node in found.get("name", []):
        n_start, n_end = src.node_span(node)
        uses += start <= n_start and n_end <= end and src.node_text(node) == name
    return frozenset(members), uses > as_object


_TYPE_QUERIES = """
(type_query (identifier) @name)
(type_query (member_expression object: (identifier) @name))
"""


def type_query_names(src: SourceFile, start: int, end: int) -> list[str]:
    """The values a type between two offsets is derived from: `schema` in
    `z.infer<typeof schema>`, `users` in `typeof users.$inferSelect`; in order, once each."""
    found = src.captures(_TYPE_QUERIES, src.tree.root_node, start, end)
    names: dict[str, None] = {}
    for node in found.get("name", []):
        n_start, n_end = src.node_span(node)
        if start <= n_start and n_end <= end:
            names[src.node_text(node)] = None
    return list(names)
