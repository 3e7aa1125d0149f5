"""Module augmentations and globals: `declare module 'x' { interface X { member } }` and
`declare global { ... }`, with the members each interface adds."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .source import SourceFile

_MEMBERS = frozenset({"property_signature", "method_signature"})


@dataclass(frozen=True)
class Augmented:
    """One interface inside an augmentation, and what it adds."""

    module: str
    """The module augmented, or "global"."""
    interface: str
    members: frozenset[str]
    start: int
    end: int
    block_start: int
    block_end: int
    """The whole `declare module` (or `declare global`) statement."""


def augmentations(src: SourceFile) -> list[Augmented]:
    return src.remember("augmentations", lambda: _read(src))


def _read(src: SourceFile) -> list[Augmented]:
    found: list[Augmented] = []
    for statement in src.tree.root_node.named_children:
        node = statement
        if node.type == "export_statement":
            node = node.child_by_field_name("declaration") or node
        if node.type != "ambient_declaration":
            continue
        block_start, block_end = src.node_span(statement)
        inner = next((c for c in node.named_children if c.type == "module"), None)
        if inner is not None:
            name = inner.child_by_field_name("name")
            module = src.node_text(name).strip("\"'") if name is not None else "?"
        elif src.node_text(node).split(None, 2)[1:2] == ["global"]:
            module = "global"
        else:
            continue
        for interface in _interfaces(node):
            name_node = interface.child_by_field_name("name")
            body = interface.child_by_field_name("body")
            if name_node is None or body is None:
                continue
            members = frozenset(
                src.node_text(key)
                for member in body.named_children
                if member.type in _MEMBERS and (key := member.child_by_field_name("name"))
            )
            start, end = src.node_span(interface)
            found.append(
                Augmented(
                    module, src.node_text(name_node), members, start, end, block_start, block_end
                )
            )
    return found


def _interfaces(node: Node) -> list[Node]:
    out: list[Node] = []
    for child in node.named_children:
        if child.type == "interface_declaration":
            out.append(child)
        else:
            out += _interfaces(child)
    return out
