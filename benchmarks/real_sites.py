"""The first pass of `real_repos.py`: the sites of a repository's TypeScript files.

Sites are found with the project's own backend modules (`subagent_lsp.backend`, `syntax`): route
registrations, Drizzle query chains, table and Zod schema declarations, tRPC procedures, and the
table and schema names those use. Broader, framework-shaped patterns the modules do not recognise
(a query on `ctx.db`, a table made by `createTable`, a route whose path is a constant) are kept
too, as sites that are not recognised: where an engineer would still expect an answer.

A table or schema used by name counts only where the name is declared at the top of the file or
imported: a parameter or a local variable (`schema.parse(data)` in a helper that takes any
schema) has no definition of its own to describe, so a null hover there is right.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from subagent_lsp.backend.drizzle import TABLE_BUILDERS
from subagent_lsp.backend.queries import is_query_call, read_query
from subagent_lsp.backend.routes import HTTP_METHODS, route_call
from subagent_lsp.backend.trpc import KINDS, procedure_unit
from subagent_lsp.backend.zod import PARSE_METHODS, read_schema
from subagent_lsp.context.modules import ModuleResolver
from subagent_lsp.exclusions import SKIPPED_DIRS
from subagent_lsp.syntax import SourceFile, declarations, imports, language_for
from subagent_lsp.syntax.tree import FUNCTIONS, arguments, call_chain, member_parts, object_entries

SKIP_DIRS = frozenset(SKIPPED_DIRS) | {".output", ".vercel", ".wrangler", ".svelte-kit", ".expo"}
_DECLARATION_FILES = (".d.ts", ".d.mts", ".d.cts")
_CALLS = "(call_expression) @call"
ELSEWHERE = "route handler by name"
"""Where actions are asked in a function a route registers by name."""


@dataclass(frozen=True)
class Site:
    """Where a hover is asked and a context built."""

    kind: str
    offset: int
    line: int
    recognised: bool
    expect: bool
    """Whether an engineer would expect the hover to say something here."""
    note: str


@dataclass(frozen=True)
class Point:
    """Where code actions are asked."""

    offset: int
    line: int
    where: str
    expect: bool


@dataclass
class FileScan:
    path: Path
    text: str
    language: str
    sites: list[Site] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    addhook: bool = False
    functions: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Top-level function name -> (offset, line) of the first statement of its body."""
    handler_refs: list[tuple[str | None, str]] = field(default_factory=list)
    """Route handlers given by name: (import specifier, or None for this file; function name)."""
    tables: dict[str, str] = field(default_factory=dict)
    """Table variable -> the text of its declaration."""
    specifiers: list[str] = field(default_factory=list)


@dataclass
class Scanned:
    scans: list[FileScan] = field(default_factory=list)
    lines: int = 0
    skipped: list[str] = field(default_factory=list)
    package_imports: int = 0
    """Imports of the repository's own workspace packages (`@acme/db/schema`)."""
    unresolved: Counter[str] = field(default_factory=Counter)
    """Those the server's module resolution cannot follow to a file, by specifier."""


def _line(src: SourceFile, offset: int) -> int:
    return src.line_of(offset) + 1


def _start(src: SourceFile, node: Node) -> int:
    return src.node_span(node)[0]


def _excerpt(src: SourceFile, node: Node, limit: int = 60) -> str:
    text = " ".join(src.node_text(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_chain_end(call: Node) -> bool:
    """Whether ``call`` is the outermost call of its chain (`db.select().from(t)` as a whole)."""
    parent = call.parent
    if parent is None or parent.type != "member_expression":
        return True
    grand = parent.parent
    return not (grand is not None and grand.type == "call_expression")


def _looks_like_drizzle(links: list[tuple[str, Node | None]]) -> bool:
    """Drizzle's query shapes, whatever the handle is called (`ctx.db`, `this.db`, `getDb()`)."""
    names = [name for name, _ in links]
    root = names[0] if names else ""

    def after(first: str, then: str) -> bool:
        return first in names and then in names[names.index(first) + 1 :]

    return (
        after("select", "from")
        or after("selectDistinct", "from")
        or after("insert", "values")
        or after("update", "set")
        or after("delete", "where")
        or (".query." in f".{root}." and bool({"findMany", "findFirst"} & set(names)))
    )


def _statements(body: Node | None, count: int) -> list[Node]:
    if body is None or body.type != "statement_block":
        return []
    return [n for n in body.named_children if n.type != "comment"][:count]


def _function_body(node: Node | None) -> Node | None:
    return node.child_by_field_name("body") if node is not None and node.type in FUNCTIONS else None


def _handler(shape_handler: Node | None, args: list[Node], src: SourceFile) -> Node | None:
    """The route's handler, including `{ async handler(req) {…} }` (a method in the options)."""
    for arg in args:
        for child in arg.named_children if arg.type == "object" else ():
            name = child.child_by_field_name("name")
            if child.type == "method_definition" and name and src.node_text(name) == "handler":
                return child
    return shape_handler


def _functions(src: SourceFile) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for statement in src.tree.root_node.named_children:
        node = statement.child_by_field_name("declaration") or statement
        pairs: list[tuple[Node | None, Node | None]] = []
        if node.type in FUNCTIONS:
            pairs.append((node.child_by_field_name("name"), node))
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for declarator in node.named_children:
                pairs.append(
                    (
                        declarator.child_by_field_name("name"),
                        declarator.child_by_field_name("value"),
                    )
                )
        for name, function in pairs:
            first = _statements(_function_body(function), 1)
            if name is not None and first:
                offset = _start(src, first[0])
                found[src.node_text(name)] = (offset, _line(src, offset))
    return found


class Scanner:
    """Finds the sites and action points of one file."""

    def __init__(self, src: SourceFile, points: int) -> None:
        self.src = src
        self.max_points = points
        self.sites: dict[tuple[str, int], Site] = {}
        self.points: dict[int, Point] = {}
        self.handler_refs: list[tuple[str | None, str]] = []
        self.tables: dict[str, str] = {}

    def site(self, kind: str, node: Node, recognised: bool, expect: bool, note: str = "") -> None:
        offset = _start(self.src, node)
        self.sites.setdefault(
            (kind, offset), Site(kind, offset, _line(self.src, offset), recognised, expect, note)
        )

    def point(self, node: Node, where: str, expect: bool) -> None:
        offset = _start(self.src, node)
        known = self.points.get(offset)
        if known is None or (expect and not known.expect):
            self.points[offset] = Point(offset, _line(self.src, offset), where, expect)

    def scan(self) -> FileScan:
        src = self.src
        root = src.tree.root_node
        for statement in [n for n in root.named_children if n.type != "comment"][: self.max_points]:
            self.point(statement, "statement", False)
        self._declarations()
        for call in src.captures(_CALLS, root, 0, len(src.text)).get("call", []):
            self._route(call)
            self._procedure(call)
            if _is_chain_end(call):
                self._query(call)
            parts = member_parts(call, src)
            if parts is not None and parts[1] in PARSE_METHODS:
                receiver = call.child_by_field_name("function")
                obj = receiver.child_by_field_name("object") if receiver is not None else None
                if obj is not None and obj.type == "identifier":
                    self.ref("schema-ref", obj, f"{parts[0]}.{parts[1]}()")
        scan = FileScan(Path(), src.text, src.language)
        scan.sites = sorted(self.sites.values(), key=lambda s: (s.offset, s.kind))
        scan.points = sorted(self.points.values(), key=lambda p: p.offset)
        scan.addhook = ".addHook(" in src.text
        scan.functions = _functions(src)
        scan.handler_refs = self.handler_refs
        scan.tables = self.tables
        scan.specifiers = [i.source for i in imports(src)]
        return scan

    def _declarations(self) -> None:
        src = self.src
        for decl in declarations(src).values():
            value = decl.value(src)
            declarator = value.parent if value is not None else None
            name = declarator.child_by_field_name("name") if declarator is not None else None
            if value is None or name is None:
                continue
            called = decl.called_name or ""
            if called in TABLE_BUILDERS:
                self.site("table", name, True, True, called)
                self.tables[decl.name] = decl.text(src)
            elif re.search(r"[a-z]Table$", called) and len(arguments(value)) >= 2:
                self.site("table", name, False, True, f"made by {decl.calls}(…)")
            elif read_schema(value, src) is not None:
                self.site("schema", name, True, True)
            elif src.node_text(value).startswith("z."):
                self.site("schema", name, False, True, _excerpt(src, value, 40))

    def _route(self, call: Node) -> None:
        src = self.src
        callee = call.child_by_field_name("function")
        if callee is None or callee.type != "member_expression":
            return
        prop = callee.child_by_field_name("property")
        if prop is None:
            return
        args = arguments(call)
        route = route_call(src, call)
        if route is None or route.kind != "route":
            method = src.node_text(prop)
            if method in HTTP_METHODS and len(args) >= 2 and args[-1].type in FUNCTIONS:
                self.site("route", prop, False, True, f"path given as `{_excerpt(src, args[0])}`")
                self.point(call, "route", True)
            return
        notes = []
        is_route_form = src.node_text(prop) == "route"
        if not is_route_form and (len(args) < 2 or not re.match(r"^(/|\*|\$\{|$)", route.url)):
            notes.append(f"suspect: `{_excerpt(src, call)}`")
        by_reference = [
            a
            for a in args[1:-1]
            if a.type in ("identifier", "member_expression", "call_expression")
        ]
        if by_reference:
            notes.append(f"options by reference: `{_excerpt(src, by_reference[0], 30)}`")
        self.site("route", prop, True, True, "; ".join(notes))
        suspect = bool(notes) and notes[0].startswith("suspect")
        self.point(call, "route", not suspect)
        # The registration's own options, as written (the server follows them further).
        options: dict[str, Node] = {}
        for arg in args:
            options.update(object_entries(arg, src))
        handler = _handler(options.get("handler") or (args[-1] if args else None), args, src)
        for statement in _statements(_function_body(handler), 2):
            self.point(statement, "route handler", not suspect)
        if handler is not None and not suspect:
            self._handler_ref(handler)
        schema = options.get("schema")
        for value in object_entries(schema, src).values() if schema is not None else ():
            if value.type == "identifier":
                self.ref("schema-ref", value, "route schema part")

    def ref(self, kind: str, node: Node, note: str) -> None:
        """A table or schema used by name; the note says where its import comes from.

        Only names the file declares at the top level or imports count: a parameter or a local
        (`function load(schema: ZodType) { schema.parse(x) }`) stands for whatever a caller
        passes, so there is no one definition to describe.
        """
        name = self.src.node_text(node)
        source = next((i.source for i in imports(self.src) if name in i.names), None)
        if source is None and name not in declarations(self.src):
            return
        self.site(kind, node, True, True, note + (f", imported from `{source}`" if source else ""))

    def _handler_ref(self, handler: Node) -> None:
        """A handler given by name (`listUsers`, `handlers.listUsers`): where it is defined."""
        src = self.src
        bound = {local: (i.source, name) for i in imports(src) for local, name in i.bindings}
        if handler.type == "identifier":
            name = src.node_text(handler)
            source, imported = bound.get(name, (None, name))
            self.handler_refs.append((source, imported))
        elif handler.type == "member_expression":
            obj = handler.child_by_field_name("object")
            prop = handler.child_by_field_name("property")
            namespace = bound.get(src.node_text(obj)) if obj is not None else None
            if namespace is not None and namespace[1] == "*" and prop is not None:
                self.handler_refs.append((namespace[0], src.node_text(prop)))

    def _procedure(self, call: Node) -> None:
        src = self.src
        callee = call.child_by_field_name("function")
        prop = callee.child_by_field_name("property") if callee is not None else None
        if prop is None or src.node_text(prop) not in KINDS:
            return
        args = arguments(call)
        resolver = next((a for a in args if a.type in FUNCTIONS), None)
        unit = procedure_unit(src, call)
        holder = call.parent
        if unit is None:
            if resolver is not None and holder is not None and holder.type == "pair":
                key = holder.child_by_field_name("key")
                base = _excerpt(src, callee, 40) if callee is not None else ""
                self.site("procedure", key or call, False, True, f"chain `{base}`")
            return
        node = unit[0].child_by_field_name("key") if unit[0].type == "pair" else call
        self.site("procedure", node or call, True, True, unit[2] or "")
        self.point(call, "procedure", False)
        for statement in _statements(_function_body(resolver), 1):
            self.point(statement, "procedure resolver", False)
        for name, link_args in call_chain(call, src):
            inner = arguments(link_args)
            if name == "input" and inner and inner[0].type == "identifier":
                self.ref("schema-ref", inner[0], ".input()")

    def _query(self, call: Node) -> None:
        src = self.src
        links = call_chain(call, src)
        if len(links) < 2:
            return
        drizzle_shaped = _looks_like_drizzle(links)
        query = read_query(call, src)
        first = links[1][0]
        recognised = query is not None and is_query_call(links[0][0], first)
        if recognised and first == "transaction":
            return
        if not recognised and not drizzle_shaped:
            return
        expect = drizzle_shaped or (query is not None and query.operation != "execute")
        self.site("query", call, recognised, expect, f"`{_excerpt(src, call, 50)}`")
        self.point(call, "query", drizzle_shaped)
        for name, link_args in links[1:]:
            inner = arguments(link_args)
            tables = ("from", "insert", "update", "delete", "innerJoin", "leftJoin")
            if name in tables and inner and inner[0].type == "identifier":
                self.ref("table-ref", inner[0], f".{name}()")


def collect_files(backends: tuple[Path, ...]) -> list[Path]:
    """The TypeScript files under ``backends``: not dependencies, build output or .d.ts."""
    found: set[Path] = set()
    for backend in backends:
        for folder, dirs, files in os.walk(backend):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in files:
                if language_for(name) is not None and not name.endswith(_DECLARATION_FILES):
                    found.add(Path(folder) / name)
    return sorted(found)


def scan_files(root: Path, files: list[Path], points: int) -> Scanned:
    """Every file's sites and action points; ``points`` top-level statements per file."""
    scanned = Scanned()
    scans = scanned.scans
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            scanned.skipped.append(f"{path}: {exc}")
            continue
        language = language_for(str(path))
        assert language is not None
        scan = Scanner(SourceFile(text, language), points).scan()
        scan.path = path
        scans.append(scan)
        scanned.lines += text.count("\n") + 1
    resolver = ModuleResolver((root,))
    _handlers_by_name(scans, resolver)
    _package_imports(root, scanned, resolver)
    # A name used where a table or schema is expected is a site if a table or schema is declared
    # by that name (recognised if that declaration is); `JSON.parse` and the like are not.
    declared: dict[tuple[str, str], bool] = {}
    for scan in scans:
        for site in scan.sites:
            if site.kind in ("table", "schema"):
                key = (f"{site.kind}-ref", name_at(scan, site))
                declared[key] = declared.get(key, False) or site.recognised
    for scan in scans:
        kept: list[Site] = []
        for site in scan.sites:
            key = (site.kind, name_at(scan, site))
            if site.kind not in ("table-ref", "schema-ref"):
                kept.append(site)
            elif key in declared:
                kept.append(Site(site.kind, site.offset, site.line, declared[key], True, site.note))
        scan.sites = kept
    return scanned


def _handlers_by_name(scans: list[FileScan], resolver: ModuleResolver) -> None:
    """Action points in route handlers registered by name, where the function is defined."""
    wanted: dict[Path, set[str]] = defaultdict(set)
    for scan in scans:
        for specifier, name in scan.handler_refs:
            target = scan.path if specifier is None else resolver.resolve(scan.path, specifier)
            if target is not None:
                wanted[target.resolve()].add(name)
    for scan in scans:
        for name in wanted.get(scan.path.resolve(), ()):
            if name in scan.functions:
                offset, line = scan.functions[name]
                scan.points.append(Point(offset, line, ELSEWHERE, True))
        scan.points.sort(key=lambda p: p.offset)


def _package_imports(root: Path, scanned: Scanned, resolver: ModuleResolver) -> None:
    """How many imports of the repository's own packages (`@acme/db/schema`) resolve to a file."""
    packages: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        if "package.json" in files and Path(folder) != root:
            try:
                name = json.loads((Path(folder) / "package.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(name, dict) and isinstance(name.get("name"), str):
                packages.add(name["name"])
    for scan in scanned.scans:
        for specifier in scan.specifiers:
            parts = specifier.split("/")
            package = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
            if package not in packages:
                continue
            scanned.package_imports += 1
            if resolver.resolve(scan.path, specifier) is None:
                scanned.unresolved[specifier] += 1


def name_at(scan: FileScan, site: Site) -> str:
    match = re.match(r"[\w$]+", scan.text[site.offset :])
    return match[0] if match else ""
