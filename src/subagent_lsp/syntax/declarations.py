"""Top-level declarations and re-exports of a TypeScript file, read from its syntax tree."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from tree_sitter import Node

from .imports import imports
from .source import SourceFile, identifiers_in

_DECLARATION_KINDS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "class_declaration": "class",
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "type_alias_declaration": "type",
    "enum_declaration": "enum",
    "lexical_declaration": "variable",
    "variable_declaration": "variable",
}


@dataclass(frozen=True)
class Declaration:
    name: str
    kind: str
    start: int
    """Start of the statement, including a doc comment right above it."""
    end: int
    body_start: int | None
    """Where a function's or class's body begins: the text before it is the signature."""
    exported: bool
    calls: str | None
    """For `const x = f(...)` (or `f(...).g(...)`): the first callee of the chain as written,
    like `pgTable` or `z.object`."""
    first_argument: str | None
    """For such calls: the first argument's text, so `relations(users, ...)` can be found."""

    @property
    def called_name(self) -> str | None:
        """The last name of ``calls``: `pgTable` for both `pgTable(...)` and `core.pgTable(...)`."""
        return self.calls.rsplit(".", 1)[-1] if self.calls is not None else None

    def identifiers(self, src: SourceFile) -> frozenset[str]:
        return identifiers_in(src, self.start, self.end)

    def text(self, src: SourceFile) -> str:
        return src.text[self.start : self.end]

    def value(self, src: SourceFile) -> Node | None:
        """The initialiser of a `const x = ...` declaration; None for other kinds."""
        for statement in src.tree.root_node.named_children:
            start, end = src.node_span(statement)
            if end <= self.start or start >= self.end:
                continue
            node = statement.child_by_field_name("declaration") or statement
            if node.type not in ("lexical_declaration", "variable_declaration"):
                continue
            for declarator in node.named_children:
                name = declarator.child_by_field_name("name")
                if name is not None and src.node_text(name) == self.name:
                    return declarator.child_by_field_name("value")
        return None

    def signature(self, src: SourceFile) -> str | None:
        """The declaration without its body, for when only the shape fits the budget."""
        if self.body_start is None:
            return None
        return src.text[self.start : self.body_start].rstrip() + " { … }"


@dataclass(frozen=True)
class Symbol:
    """A declaration and the file it is in."""

    path: Path
    source: SourceFile
    declaration: Declaration
    via: tuple[Path, ...] = ()
    """The barrels the name passed through to get here, outermost first."""


@dataclass(frozen=True)
class ReExport:
    source: str
    names: dict[str, str] | None
    """exported name -> name in the source module; None for `export * from`."""
    namespace: str | None = None
    """For `export * as name from`: the one name bound to the whole module (``names`` is empty)."""
    start: int = 0
    end: int = 0
    """The statement's span."""


def _doc_start(src: SourceFile, node: Node, start: int) -> int:
    previous = node.prev_sibling
    if previous is not None and previous.type == "comment":
        c_start, c_end = src.node_span(previous)
        if src.line_of(c_end) >= src.line_of(start) - 1 and src.node_text(previous).startswith(
            "/**"
        ):
            return c_start
    return start


def _outer_call(node: Node | None, src: SourceFile) -> tuple[str | None, str | None]:
    """The name of the first call in a chain like `pgTable(...)` or `z.object(...).extend(...)`."""
    while node is not None and node.type in ("call_expression", "await_expression"):
        callee = node.child_by_field_name("function")
        if callee is None:
            break
        if callee.type == "member_expression":
            inner = callee.child_by_field_name("object")
            if inner is not None and inner.type == "call_expression":
                node = inner
                continue
            name = src.node_text(callee)
        else:
            name = src.node_text(callee)
        args = node.child_by_field_name("arguments")
        first = args.named_children[0] if args is not None and args.named_children else None
        return name, src.node_text(first) if first is not None else None
    return None, None


def _body_start(src: SourceFile, node: Node) -> int | None:
    body = node.child_by_field_name("body")
    if body is not None and node.type in (
        "function_declaration",
        "generator_function_declaration",
        "class_declaration",
        "abstract_class_declaration",
    ):
        return src.node_span(body)[0]
    if node.type in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            value = declarator.child_by_field_name("value")
            if value is not None and value.type in ("arrow_function", "function_expression"):
                inner = value.child_by_field_name("body")
                if inner is not None and inner.type == "statement_block":
                    return src.node_span(inner)[0]
    return None


def declarations(src: SourceFile) -> dict[str, Declaration]:
    """Top-level declarations by name; `export { a as b }` lists add their exported names.
    Where a value and a type share a name, the value (see `namesakes`)."""
    return src.remember("declarations", lambda: _read_declarations(src))[0]


def namesakes(src: SourceFile) -> dict[str, Declaration]:
    """Types that share their name with a value declared beside them, by name: the type of
    `export const Input = z.object(...)` and `export type Input = z.infer<typeof Input>`."""
    return src.remember("declarations", lambda: _read_declarations(src))[1]


_TYPE_KINDS = ("type", "interface")


def _read_declarations(src: SourceFile) -> tuple[dict[str, Declaration], dict[str, Declaration]]:
    found: dict[str, Declaration] = {}
    types: dict[str, Declaration] = {}

    def put(declaration: Declaration) -> None:
        # A value and a type of one name live in two spaces: the value is what runs (and what
        # validates, for a schema), the type goes aside.
        known = found.get(declaration.name)
        if known is not None and (known.kind in _TYPE_KINDS) != (declaration.kind in _TYPE_KINDS):
            value, type_ = (
                (declaration, known) if known.kind in _TYPE_KINDS else (known, declaration)
            )
            found[declaration.name], types[declaration.name] = value, type_
        else:
            found[declaration.name] = declaration

    local_exports: list[tuple[str, str]] = []
    for statement in src.tree.root_node.named_children:
        node, exported = statement, False
        if statement.type == "export_statement":
            exported = True
            inner = statement.child_by_field_name("declaration")
            if inner is None:
                clause = next(
                    (c for c in statement.named_children if c.type == "export_clause"), None
                )
                if clause is not None and statement.child_by_field_name("source") is None:
                    for spec in clause.named_children:
                        spec_name = spec.child_by_field_name("name")
                        alias = spec.child_by_field_name("alias")
                        if spec_name is not None:
                            exported_node = alias if alias is not None else spec_name
                            local_exports.append(
                                (src.node_text(exported_node), src.node_text(spec_name))
                            )
                continue
            node = inner
        kind = _DECLARATION_KINDS.get(node.type)
        if kind is None:
            continue
        start, end = src.node_span(statement)
        start = _doc_start(src, statement, start)
        body_start = _body_start(src, node)
        if kind == "variable":
            for declarator in (c for c in node.named_children if c.type == "variable_declarator"):
                calls, first = _outer_call(declarator.child_by_field_name("value"), src)
                for name in _bound_names(declarator.child_by_field_name("name"), src):
                    put(Declaration(name, kind, start, end, body_start, exported, calls, first))
        else:
            name_node = node.child_by_field_name("name")
            if name_node is None:
                continue
            name = src.node_text(name_node)
            put(Declaration(name, kind, start, end, body_start, exported, None, None))
    for exported_as, local in local_exports:
        if local in found and exported_as not in found:
            found[exported_as] = replace(found[local], exported=True)
    return found, types


def _bound_names(node: Node | None, src: SourceFile) -> list[str]:
    """The names a declarator binds: `x`, or those of a destructuring at the top level
    (`const { useTRPC, TRPCProvider } = createTRPCContext()`)."""
    if node is None:
        return []
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        return [src.node_text(node)]
    if node.type == "pair_pattern":
        return _bound_names(node.child_by_field_name("value"), src)
    if node.type == "object_assignment_pattern":
        return _bound_names(node.child_by_field_name("left"), src)
    if node.type in ("object_pattern", "array_pattern"):
        return [name for child in node.named_children for name in _bound_names(child, src)]
    return []


def reexports(src: SourceFile) -> list[ReExport]:
    return src.remember("reexports", lambda: _read_reexports(src))


def _read_reexports(src: SourceFile) -> list[ReExport]:
    found: list[ReExport] = []
    for statement in src.tree.root_node.named_children:
        if statement.type != "export_statement":
            continue
        source = statement.child_by_field_name("source")
        clause = next((c for c in statement.named_children if c.type == "export_clause"), None)
        if source is None:
            found += _imported_exports(src, clause)
            continue
        specifier = src.node_text(source).strip("\"'")
        if clause is None:
            namespace = next(
                (c for c in statement.named_children if c.type == "namespace_export"), None
            )
            start, end = src.node_span(statement)
            if namespace is not None:
                # `export * as ns from` binds one name to the whole module; not a definition.
                bound = next((c for c in namespace.named_children), None)
                if bound is not None:
                    found.append(ReExport(specifier, {}, src.node_text(bound), start, end))
                continue
            found.append(ReExport(specifier, None, None, start, end))
            continue
        names: dict[str, str] = {}
        for spec in clause.named_children:
            name = spec.child_by_field_name("name")
            alias = spec.child_by_field_name("alias")
            if name is not None:
                names[src.node_text(alias if alias is not None else name)] = src.node_text(name)
        found.append(ReExport(specifier, names, None, *src.node_span(statement)))
    return found


def _imported_exports(src: SourceFile, clause: Node | None) -> list[ReExport]:
    """`import { a } from "./x"; export { a }`: the same as `export { a } from "./x"`."""
    if clause is None:
        return []
    bound = {local: (i.source, name) for i in imports(src) for local, name in i.bindings}
    found: list[ReExport] = []
    for spec in clause.named_children:
        name = spec.child_by_field_name("name")
        alias = spec.child_by_field_name("alias")
        origin = bound.get(src.node_text(name)) if name is not None else None
        if name is None or origin is None or origin[1] in ("*", "default"):
            continue
        exported = src.node_text(alias if alias is not None else name)
        found.append(ReExport(origin[0], {exported: origin[1]}))
    return found


def default_export(src: SourceFile) -> Declaration | None:
    """What `export default` exports: the declaration it names (`export default schemas;`,
    `export default function f`), or the statement itself, named `default`, for an expression
    (`export default { ... }`, `export default defineConfig({ ... })`)."""
    return src.remember("default export", lambda: _read_default_export(src))


def _read_default_export(src: SourceFile) -> Declaration | None:
    named = declarations(src)
    if "default" in named:  # `export { schemas as default }`
        return named["default"]
    for statement in src.tree.root_node.named_children:
        if statement.type != "export_statement" or not any(
            child.type == "default" for child in statement.children
        ):
            continue
        inner = statement.child_by_field_name("declaration")
        name = inner.child_by_field_name("name") if inner is not None else None
        if name is not None:
            return named.get(src.node_text(name))
        value = statement.child_by_field_name("value")
        if value is None:
            return None
        if value.type == "identifier":
            return named.get(src.node_text(value))
        start, end = src.node_span(statement)
        calls, first = _outer_call(value, src)
        return Declaration("default", "variable", start, end, None, True, calls, first)
    return None
