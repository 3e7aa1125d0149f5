"""The import statements of a file and the names they bind."""

from __future__ import annotations

from dataclasses import dataclass

from .source import SourceFile


@dataclass(frozen=True)
class ImportDecl:
    source: str
    names: tuple[str, ...]
    """Local names bound, in order."""
    type_only: bool
    start: int
    end: int
    bindings: tuple[tuple[str, str], ...] = ()
    """(local name, imported name); the imported name is "default" or "*" for those forms."""


def imports(src: SourceFile) -> list[ImportDecl]:
    return src.remember("imports", lambda: _read_imports(src))


def _read_imports(src: SourceFile) -> list[ImportDecl]:
    found: list[ImportDecl] = []
    for node in src.tree.root_node.named_children:
        if node.type != "import_statement":
            continue
        source_node = node.child_by_field_name("source")
        if source_node is None:
            continue
        bindings: list[tuple[str, str]] = []
        type_only = any(child.type == "type" for child in node.children)
        for clause in (c for c in node.named_children if c.type == "import_clause"):
            for part in clause.named_children:
                if part.type == "identifier":
                    bindings.append((src.node_text(part), "default"))
                elif part.type == "namespace_import":
                    bindings += [
                        (src.node_text(c), "*")
                        for c in part.named_children
                        if c.type == "identifier"
                    ]
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        name = spec.child_by_field_name("name")
                        if spec.type != "import_specifier" or name is None:
                            continue
                        alias = spec.child_by_field_name("alias")
                        local = alias if alias is not None else name
                        bindings.append((src.node_text(local), src.node_text(name)))
        start, end = src.node_span(node)
        found.append(
            ImportDecl(
                src.node_text(source_node).strip("\"'"),
                tuple(local for local, _ in bindings),
                type_only,
                start,
                end,
                tuple(bindings),
            )
        )
    return found
