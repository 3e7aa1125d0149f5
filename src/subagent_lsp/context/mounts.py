"""Where a plugin, router or sub-app reaches the app, hop by hop: each `register`, Hono `route`
or autoload that attaches it, with the prefix it adds, the `fastify-plugin` hooks registered
before it on the same instance (they run for it) and Hono's `use` before the mount.

From a declaration (the plugin function, or the function a route sits in), the reference index
says which files use it; only those are parsed. A function called with an app
(`registerRoutes(app)`) hands on to that app. Reads files: worker threads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from tree_sitter import Node

from ..backend.autoload import AUTOLOAD, autoloads
from ..backend.plugins import (
    Mount,
    decorations,
    hooks_in,
    is_wrapped_plugin,
    join_paths,
    local_declaration,
    looped_registration,
    mount_of,
    neighbours,
    options_statement,
    registered_before,
    statement_of,
    uses_before,
    wrapped_function,
)
from ..overlay import DocumentSnapshot
from ..syntax.declarations import Declaration, declarations, default_export
from ..syntax.source import SourceFile
from ..syntax.tree import FUNCTIONS, ancestors, enclosing_function
from .references import ReferenceIndex
from .symbols import Lookup
from .uses import every_use, occurrences, use_source

_MAX_HOPS = 4
_MAX_USES = 12
_MAX_HOOK_PLUGINS = 4
_MAX_SPAN_LINES = 20
_MAX_WHOLE_LINES = 24
_MAX_HEAD_LINES = 6


@dataclass(frozen=True)
class Plugin:
    """A plugin whose hooks apply at a hop: what it adds, shown whole when short."""

    path: Path
    src: SourceFile
    name: str
    spans: tuple[tuple[int, int], ...]
    hooks: tuple[str, ...]


@dataclass(frozen=True)
class Hop:
    path: Path
    src: SourceFile
    mount: Mount | None
    """None for a call that hands the app on (`registerRoutes(app)`)."""
    spans: tuple[tuple[int, int], ...]
    at: int
    plugins: tuple[Plugin, ...] = ()
    """`fastify-plugin` plugins registered before, on the same instance, with hooks."""
    middleware: int = 0
    """Hono's `use` calls before the mount that apply under its path."""


def _lines(src: SourceFile, start: int, end: int) -> int:
    return src.line_of(max(end - 1, start)) - src.line_of(start) + 1


def declaration_at(src: SourceFile, offset: int) -> Declaration | None:
    """The top-level declaration (or the default export) around an offset."""
    inside = [d for d in declarations(src).values() if d.start <= offset < d.end]
    default = default_export(src)
    if default is not None and default.start <= offset < default.end:
        inside.append(default)
    return min(inside, key=lambda d: d.end - d.start) if inside else None


class Mounts:
    def __init__(
        self,
        lookup: Lookup,
        references: ReferenceIndex | None,
        documents: Mapping[Path, DocumentSnapshot],
    ) -> None:
        self.lookup = lookup
        self.references = references
        self.documents = documents

    def chain(self, path: Path, src: SourceFile, name: str) -> list[Hop]:
        """The hops from the declaration ``name`` of ``path`` up to the app, nearest first."""
        hops: list[Hop] = []
        seen = {(path, name)}
        while len(hops) < _MAX_HOPS:
            hop, next_name = self._up(path, src, name)
            if hop is None:
                break
            hops.append(hop)
            if next_name is None or (hop.path, next_name) in seen:
                break
            seen.add((hop.path, next_name))
            path, src, name = hop.path, hop.src, next_name
        # A call that hands a value on is a hop only on the way to a mount.
        while hops and hops[-1].mount is None:
            hops.pop()
        return hops

    def prefix(self, hops: list[Hop]) -> str:
        """The prefixes the hops add, outermost first, joined."""
        return join_paths(*(h.mount.prefix for h in reversed(hops) if h.mount is not None))

    def _up(self, path: Path, src: SourceFile, name: str) -> tuple[Hop | None, str | None]:
        calls: list[tuple[Hop, str | None]] = []
        uses = every_use(self.references, path, name, self.documents)
        for use in uses[:_MAX_USES]:
            use_src = use_source(use, path, src, self.lookup)
            if use_src is None:
                continue
            for node in occurrences(use_src, use.local):
                parent = node.parent
                call: Node | None = None
                if parent is not None and parent.type == "call_expression":
                    call = parent  # `registerRoutes(app)`: called with the app
                elif parent is not None and parent.type == "arguments":
                    call = parent.parent
                elif (looped := looped_registration(use_src, node)) is not None:
                    call, node = looped  # registered in a loop over a list of plugins
                else:
                    continue
                if call is None or call.type != "call_expression":
                    continue
                mount = mount_of(use_src, call, node)
                if mount is not None and node.type == "identifier":
                    mount = replace(mount, plugin=use.local)
                if mount is not None:
                    return self._hop(use.path, use_src, call, mount), self._holder(use_src, call)
                handed = self._handed(use_src, call, node)
                if handed is not None:
                    span = use_src.node_span(statement_of(call))
                    hop = Hop(use.path, use_src, None, (span,), span[0])
                    calls.append((hop, handed))
        if calls:
            return calls[0]
        # Autoload registers what a file exports by default (`export default fp(plugin)` too).
        default = default_export(src)
        if default is None or name not in (default.name, "default", default.first_argument):
            return None, None
        return self._autoloaded(path), None

    def _holder(self, src: SourceFile, call: Node) -> str | None:
        """What to follow next: the declaration the mount is made in, or the app it is made on
        when that is a top-level name (a Hono sub-app mounted into another)."""
        if enclosing_function(call) is None:
            receiver = call.child_by_field_name("function")
            obj = receiver.child_by_field_name("object") if receiver is not None else None
            while obj is not None and obj.type == "call_expression":
                inner = obj.child_by_field_name("function")
                obj = inner.child_by_field_name("object") if inner is not None else None
            name = src.node_text(obj) if obj is not None else ""
            return name if name in declarations(src) else None
        decl = declaration_at(src, call.start_byte)
        return decl.name if decl is not None else None

    def _handed(self, src: SourceFile, call: Node, used: Node) -> str | None:
        """`registerRoutes(app)`: the top-level app a plain call hands on, when it hands one
        (`fp(plugin)` hands on nothing but the plugin itself)."""
        callee = call.child_by_field_name("function")
        statement = call.parent
        if callee is None or callee.type != "identifier" or statement is None:
            return None
        if statement.type != "expression_statement":
            return None  # its result is used: a computation, not a registration
        args = call.child_by_field_name("arguments")
        for arg in args.named_children if args is not None else []:
            if arg == used:
                continue
            if arg.type == "identifier" and src.node_text(arg) in declarations(src):
                return src.node_text(arg)
        return None

    def _hop(self, path: Path, src: SourceFile, call: Node, mount: Mount) -> Hop:
        at = src.node_span(call)[0]
        if mount.kind == "route":
            uses = uses_before(src, call, mount.prefix)
            end = src.node_span(statement_of(call))[1]
            first = src.node_span(statement_of(uses[0]))[0] if uses else at
            if _lines(src, first, end) <= _MAX_SPAN_LINES:
                return Hop(path, src, mount, ((first, end),), at, (), len(uses))
            spans = [_head(src, statement_of(u)) for u in uses]
            return Hop(path, src, mount, (*spans, (at, end)), at, (), len(uses))
        spans = [neighbours(src, call)]
        options = options_statement(src, call)
        if options is not None:
            spans.insert(0, src.node_span(options))
        plugins = []
        for _, plugin in registered_before(src, call)[: _MAX_HOOK_PLUGINS * 2]:
            found = self.plugin(path, src, src.node_text(plugin))
            if found is not None and found.hooks:
                plugins.append(found)
        return Hop(path, src, mount, tuple(spans), at, tuple(plugins[:_MAX_HOOK_PLUGINS]))

    def plugin(self, path: Path, src: SourceFile, name: str) -> Plugin | None:
        """The `fastify-plugin` plugin ``name`` names in ``path``, with its hooks."""
        found = self.lookup.find(path, src, name)
        if found is None:
            return None
        decl, p_src = found.declaration, found.source
        value = decl.value(p_src) if decl.name != "default" else _default_value(p_src)
        wrapped = is_wrapped_plugin(p_src, value) or wrapped_function(p_src, decl.name)
        if not wrapped:
            return None
        hooks = hooks_in(p_src, decl.start, decl.end)
        spans: tuple[tuple[int, int], ...] = ((decl.start, decl.end),)
        if _lines(p_src, decl.start, decl.end) > _MAX_WHOLE_LINES:
            spans = tuple(p_src.node_span(statement) for _, statement in hooks)
        return Plugin(found.path, p_src, name, spans, tuple(h for h, _ in hooks))

    def _autoloaded(self, path: Path) -> Hop | None:
        """The autoload registration whose folder holds ``path``."""
        if self.references is None:
            return None
        files = self.references.files_importing(AUTOLOAD, self.documents)
        for loader in files or []:
            src = self.lookup.source(loader)
            if src is None:
                continue
            for found in autoloads(src, loader):
                if not found.covers(path):
                    continue
                call = found.call
                mount = Mount(call, "autoload", "", found.prefix_of(path))
                span = _whole_function(src, call) or src.node_span(statement_of(call))
                return Hop(loader, src, mount, (span,), src.node_span(call)[0])
        return None

    def decorated(self, member: str) -> tuple[Path, SourceFile, tuple[int, int]] | None:
        """Where an instance member is added with `decorate`, as the declaration of the value
        it is given (`defaultVerifyJwt`), else the `decorate` call."""
        if self.references is None:
            return None
        for path in (
            self.references.files_where(lambda r: member in r.decorates, self.documents) or []
        ):
            src = self.lookup.source(path)
            value = decorations(src).get(member) if src is not None else None
            if src is None or value is None:
                continue
            names = [value] if value.type == "identifier" else _identifiers(value)
            for node in names:
                statement = local_declaration(src, node, src.node_text(node))
                if statement is not None:
                    return path, src, src.node_span(statement)
            return path, src, src.node_span(statement_of(value))
        return None


def _head(src: SourceFile, node: Node) -> tuple[int, int]:
    """A statement, or its first line when it is long (middleware written inline)."""
    start, end = src.node_span(node)
    if _lines(src, start, end) <= _MAX_HEAD_LINES:
        return start, end
    return src.line_span(src.line_of(start))


def _identifiers(node: Node) -> list[Node]:
    out = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "identifier":
            out.append(current)
        stack.extend(reversed(current.named_children))
    return out


def _default_value(src: SourceFile) -> Node | None:
    for statement in src.tree.root_node.named_children:
        if statement.type == "export_statement":
            value = statement.child_by_field_name("value")
            if value is not None:
                return value
    return None


def _whole_function(src: SourceFile, call: Node) -> tuple[int, int] | None:
    """The short method or function a call is made in, whole: what it is given comes first."""
    for node in ancestors(call):
        if node.type in FUNCTIONS or node.type == "method_definition":
            holder = node
            if node.type in ("arrow_function", "function_expression") and node.parent is not None:
                holder = statement_of(node.parent)
            start, end = src.node_span(holder)
            return (start, end) if _lines(src, start, end) <= _MAX_WHOLE_LINES else None
    return None
