"""Context that reaches back from the selection: where its declaration is registered, called,
queried or validated (each site as its enclosing statement, with the guards and options that
apply there and their definitions one level deep), and then the callers of the named functions
it is called or validated in; the module augmentations that type the members it uses, and one
sibling of the same shape.

The workspace reference index says which files to look at; only those are parsed. Until the
index is built, the context says what it could not include yet. Reads files: worker threads.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal, Protocol

from tree_sitter import Node

from ..backend.drizzle import table_of
from ..backend.routes import RouteCall, route_around, route_call, route_within
from ..backend.usage import REGISTRATIONS, Site, hook_statements, use_site
from ..overlay import DocumentSnapshot
from ..redaction import redact
from ..syntax.ambient import augmentations
from ..syntax.declarations import Declaration, Symbol, declarations, default_export
from ..syntax.imports import imports
from ..syntax.source import SourceFile, identifiers_in
from ..syntax.targets import Target
from .chain import Chain, chain_start, hook_members
from .items import ContextItem, excerpt
from .members import (
    enclosing_callable,
    folder_files,
    method_calls,
    owner_names,
    selected_method,
)
from .ranking import RANK, Found, hops, is_test, rank_sites
from .references import ReferenceIndex, Use
from .symbols import Lookup
from .uses import every_use, occurrences, use_source
from .written import written_columns

_MAX_FILES = 24
"""Files that use the declaration, read to find its sites."""
_MAX_PER_FILE = 4
_MAX_QUERIES_PER_FILE = 8
"""For a table: a repository file holds most of its queries, each of a shape of its own."""
_MAX_OCCURRENCES = 48
"""Uses read in one file to find its distinct sites."""
_MAX_SITES = 6
_MAX_HOPS = 2
"""Functions the declaration is used in whose callers are looked for, and callers of each."""
_MAX_GUARDS = 4
_MAX_SIBLING_FILES = 30
_MAX_AUGMENTATION_LINES = 40
_PROPERTIES = "(member_expression property: (property_identifier) @p)"


class Gatherer(Protocol):
    items: list[ContextItem]

    def display(self, path: Path) -> str: ...

    def add(
        self,
        priority: int,
        kind: Literal["definition", "local"],
        found: Symbol,
        reason: str,
        distance: int = 0,
    ) -> bool: ...


def selected_declaration(src: SourceFile, target: Target) -> Declaration | None:
    """The top-level declaration the selection is inside, the innermost when they nest."""
    inside = [
        d for d in declarations(src).values() if d.start <= target.start and target.end <= d.end
    ]
    return min(inside, key=lambda d: d.end - d.start) if inside else None


def _selected_default(src: SourceFile, target: Target) -> Declaration | None:
    """`export default fp(async (app) => …)`: the expression a default export stands for."""
    found = default_export(src)
    inside = found is not None and found.start <= target.start and target.end <= found.end
    return found if inside and found is not None and found.name == "default" else None


def _route_at(src: SourceFile, target: Target) -> RouteCall | None:
    """The route the selection is in, or the one it spans whole (a selected statement)."""
    route = route_around(src, src.node_at(target.start, target.end))
    if route is None and target.enclosing_kind == "route":
        node = src.node_at(target.enclosing_start, target.enclosing_end)
        route = route_within(src, node)
    return route


def _registration_call(src: SourceFile, at: int) -> Node | None:
    """The plugin registration a use at ``at`` is an argument of."""
    node: Node | None = src.node_at(at, at)
    while node is not None:
        if node.type == "call_expression":
            found = route_call(src, node)
            if found is not None and found.kind == "plugin":
                return node
        node = node.parent
    return None


class Backward:
    def __init__(
        self,
        gatherer: Gatherer,
        lookup: Lookup,
        references: ReferenceIndex | None,
        documents: Mapping[Path, DocumentSnapshot],
    ) -> None:
        self.g = gatherer
        self.lookup = lookup
        self.references = references
        self.documents = documents
        self.notes: list[str] = []

    def gather(
        self, path: Path, src: SourceFile, target: Target, selection: tuple[int, int]
    ) -> list[str]:
        """Adds the backward items to the gatherer's; returns what could not be included yet.
        ``selection`` is the range as the developer gave it, before it was widened to a unit."""
        decl = selected_declaration(src, target) or _selected_default(src, target)
        route = _route_at(src, target)
        hooks = self._route_hooks(path, src, route)
        if self.references is not None and not self.references.ready:
            what = f"where `{decl.name}` is registered, called or used, " if decl else ""
            self.notes.append(
                f"The workspace reference index is still being built: {what}the module "
                "augmentations the selection relies on, and the `references` tool's answers."
            )
            if decl is not None:
                self._sibling(path, src, target, decl)
            return self.notes
        if decl is not None:
            found = self._sites(path, src, target, selection, decl)
            self._chain(path, src, decl, route, found, hooks)
            self._sibling(path, src, target, decl)
        self._augmentations(src, target, hooks)
        return self.notes

    def _route_hooks(
        self, path: Path, src: SourceFile, route: RouteCall | None
    ) -> list[tuple[int, int]]:
        """The hooks of the plugin a selected route is registered in: they run before it."""
        hooks = hook_statements(src, route) if route is not None else []
        if route is not None and hooks:
            reason = f"the hooks of the plugin that run before {route.name}"
            text = redact(excerpt(src, tuple(hooks)))
            language = "tsx" if src.language == "tsx" else "ts"
            where = self.g.display(path)
            self.g.items.append(
                ContextItem(2, "usage", where, "hooks", reason, text, None, language)
            )
        return hooks

    # --- registrations, calls, queries, validations --------------------------------------------
    def _sites(
        self,
        path: Path,
        src: SourceFile,
        target: Target,
        selection: tuple[int, int],
        decl: Declaration,
    ) -> list[Found]:
        """The sites shown, best first."""
        skip = (decl.start, decl.end)
        table = table_of(decl, src)
        per_file = _MAX_QUERIES_PER_FILE if table is not None else _MAX_PER_FILE
        found, uses = self._use_sites(path, src, decl.name, skip, per_file)
        found += self._method_sites(path, src, target, decl, uses)
        found += self._callers_of_callers(path, decl, found)
        # The lines the developer selected (a cursor: its line), not the whole table.
        first, _ = src.line_span(src.line_of(selection[0]))
        _, last = src.line_span(src.line_of(max(selection[1] - 1, selection[0])))
        selected = set(re.findall(r"[\w$]+", src.text[first:last]))  # column keys too
        columns = {c.name for c in table.columns} & selected if table is not None else set()
        packages = self.lookup.index.resolver.packages.of_file(path) if table is not None else {}
        ranked = rank_sites(found, path, table, columns, [p.folder for p in packages.values()])
        seen: set[tuple[Path, tuple[tuple[int, int], ...]]] = set()
        shown: list[Found] = []
        for item in ranked:
            key = (item.path, item.site.spans)
            if key in seen or len(shown) >= _MAX_SITES:
                continue
            seen.add(key)
            shown.append(item)
            self._site_item(item, decl.name, columns)
        self.g.items += written_columns(decl, src, shown, self.lookup, self.g.display)
        return shown

    # --- the chain up to the app -------------------------------------------------------------
    def _chain(
        self,
        path: Path,
        src: SourceFile,
        decl: Declaration,
        route: RouteCall | None,
        found: list[Found],
        hooks: list[tuple[int, int]],
    ) -> None:
        """Where the selection's plugin or router is attached, up to the app (see `chain.py`):
        from its own declaration, or from the plugin a route that names it is registered in."""
        chain = Chain(self.g.display, self.lookup, self.references, self.documents)
        shown = {
            (f.path, line + 1)
            for f in found
            for start, end in f.site.spans
            for line in range(f.src.line_of(start), f.src.line_of(max(end - 1, start)) + 1)
        }
        start: tuple[Path, SourceFile, str] | None = (path, src, decl.name)
        pair = (src, route) if route is not None else None
        if route is None:
            registering = next((f for f in found if f.site.kind == "route"), None)
            if registering is not None:
                r_src, at = registering.src, registering.site.at
                other = route_around(r_src, r_src.node_at(at, at))
                name = chain_start(r_src, at)
                start = (registering.path, r_src, name) if name else None
                pair = (r_src, other) if other is not None else None
        if start is not None:
            self.g.items.extend(chain.items(*start, pair, shown))
        for f in found:
            call = _registration_call(f.src, f.site.at) if f.site.kind == "plugin" else None
            if call is not None:
                self.g.items.extend(chain.followers(f.path, f.src, call, decl, src))
                break
        if hooks:
            members = hook_members(src, hooks)
            line = src.line_of(hooks[0][0]) + 1
            self.g.items.extend(chain.decorated(members, f"{self.g.display(path)}:{line}"))
        self.g.items.extend(chain.readers(path, src, decl.start, decl.end))

    def _use_sites(
        self,
        path: Path,
        src: SourceFile,
        name: str,
        skip: tuple[int, int],
        per_file: int = _MAX_PER_FILE,
    ) -> tuple[list[Found], list[Use]]:
        """The distinct sites of a declaration's uses (``skip``: its own span), and its uses."""
        uses = every_use(self.references, path, name, self.documents)
        found: list[Found] = []
        for use in sorted(uses, key=lambda u: (is_test(u.path), hops(path, u.path)))[:_MAX_FILES]:
            use_src = use_source(use, path, src, self.lookup)
            if use_src is None:
                continue
            local = use.local.rsplit(".", 1)[-1]
            # A query names its table once per column: count sites, not names, per file.
            spans: set[tuple[tuple[int, int], ...]] = set()
            own = skip if use.path == path else None
            for node in occurrences(use_src, use.local, own)[:_MAX_OCCURRENCES]:
                # What a use is part of never changes with the parsed text: read it once.
                memo = ("use site", node.start_byte, local)
                site = use_src.remember(memo, lambda: use_site(use_src, node, local))  # noqa: B023
                if site.spans not in spans:
                    spans.add(site.spans)
                    found.append(Found(use.path, use_src, use, site))
                if len(spans) >= per_file:
                    break
        return found, uses

    def _callers_of_callers(self, path: Path, decl: Declaration, found: list[Found]) -> list[Found]:
        """Calls of the named functions and methods the declaration is called or validated in
        (a service method that hands over to a repository's, a verb that parses its input): their
        callers decide what reaches it. Direct sites come first; these fill what is left."""
        out: list[Found] = []
        done: set[tuple[Path, str, str | None]] = set()
        for item in found:
            inside = item.path == path and decl.start <= item.site.at < decl.end
            if item.site.kind not in ("call", "validates") or inside or is_test(item.path):
                continue
            holder = enclosing_callable(item.src, item.site.at)
            if holder is None or (item.path, *holder) in done or len(done) >= _MAX_HOPS:
                continue
            done.add((item.path, *holder))
            name, owner = holder
            if owner is None:
                declared = declarations(item.src).get(name)
                skip = (declared.start, declared.end) if declared is not None else (0, 0)
                sites = self._use_sites(item.path, item.src, name, skip)[0]
            else:
                importers = every_use(self.references, item.path, owner, self.documents)
                sites = self._method_calls(item.path, owner, name, {u.path for u in importers})
            out += [replace(s, caller_of=name) for s in sites if s.site.kind != "use"][:_MAX_HOPS]
        return out

    def _method_sites(
        self, path: Path, src: SourceFile, target: Target, decl: Declaration, uses: list[Use]
    ) -> list[Found]:
        """Calls of the selected method through an object (see `members.py`); for a function that
        is not exported, calls through an object named after its file (a container's)."""
        method = selected_method(src, target)
        function = decl.kind == "function" or (decl.kind == "variable" and decl.body_start)
        if method is None and function and not decl.exported:
            method = decl.name
        if method is None:
            return []
        return self._method_calls(path, decl.name, method, {u.path for u in uses})

    def _method_calls(
        self, path: Path, owner: str, method: str, importers: set[Path]
    ) -> list[Found]:
        """Calls of ``owner``'s ``method`` in the files that import it (any receiver) and in its
        folder (a receiver named after it)."""
        owners = owner_names(path, owner)
        importers.discard(path)
        files = [*sorted(importers, key=lambda p: hops(path, p)), *folder_files(path)]
        found: list[Found] = []
        for other in dict.fromkeys(files):
            if len(found) >= _MAX_SITES:
                break
            if is_test(other):
                continue
            other_src = self.lookup.source(other)
            if other_src is None:
                continue
            wanted = None if other in importers else owners
            for node in method_calls(other_src, method, wanted, None)[:_MAX_PER_FILE]:
                memo = ("use site", node.start_byte, method)
                site = other_src.remember(memo, lambda: use_site(other_src, node, method))  # noqa: B023
                found.append(Found(other, other_src, Use(other, method), site))
        return found

    def _site_item(self, item: Found, name: str, columns: set[str]) -> None:
        site, where = item.site, self.g.display(item.path)
        line = item.src.line_of(site.at) + 1
        if name == "default":  # an anonymous default export: the name its importer gives it
            name = item.use.local.rsplit(".", 1)[-1]
        reason = _why(site, item.caller_of or name, columns) + f" ({where}:{line})"
        if item.caller_of:
            reason += f", which uses `{name}`"
        elif site.kind == "use" and "." not in item.use.local and item.use.local != name:
            # `import * as schema` passed on whole: a drizzle client loading every table.
            reason = f"uses the module of `{name}` whole, as `{item.use.local}` ({where}:{line})"
        if item.use.via:
            reason += ", imported through " + ", ".join(
                f"`{self.g.display(v)}`" for v in item.use.via
            )
        priority = 2 if site.kind in RANK else 3
        text = redact(excerpt(item.src, site.spans))
        language = "tsx" if item.src.language == "tsx" else "ts"
        self.g.items.append(
            ContextItem(priority, "usage", where, site.label, reason, text, None, language, 1)
        )
        if site.kind not in REGISTRATIONS and not site.guards:
            return
        first = min(start for start, _ in site.spans)
        for guard in site.guards[:_MAX_GUARDS]:
            found = self.lookup.find(item.path, item.src, guard)
            if found is None:
                continue
            decl = found.declaration
            if found.path == item.path and decl.start <= first < decl.end:
                continue  # the function the site is in: not a guard
            why = f"`{guard}` is named where `{name}` is used ({where}:{line})"
            self.g.add(3, "definition", found, why, 2)

    # --- one sibling of the same shape ---------------------------------------------------------
    def _sibling(self, path: Path, src: SourceFile, target: Target, decl: Declaration) -> None:
        route = _route_at(src, target)
        shape = _shape(decl, src)
        if route is None and not shape[1] and not shape[2]:
            return  # nothing to tell a sibling by: any function would do
        try:
            names = sorted(
                (p for p in path.parent.iterdir() if p != path and p.is_file()),
                key=lambda p: p.name,
            )
        except OSError:
            return
        for other in names[:_MAX_SIBLING_FILES]:
            other_src = self.lookup.source(other) if other.suffix in (".ts", ".tsx") else None
            if other_src is None:
                continue
            if route is not None:
                found = route_within(other_src, other_src.tree.root_node)
                if found is not None:
                    start, end = other_src.node_span(found.call)
                    reason = (
                        f"a route in a sibling file ({found.name}): the pattern this code follows"
                    )
                    self._add_sibling(other, other_src, (start, end), found.name, reason)
                    return
                continue
            for candidate in declarations(other_src).values():
                if candidate.exported and _shape(candidate, other_src) == shape:
                    reason = (
                        f"`{candidate.name}` in a sibling file has the same shape as "
                        f"`{decl.name}`: the pattern this code follows"
                    )
                    span = (candidate.start, candidate.end)
                    self._add_sibling(other, other_src, span, candidate.name, reason)
                    return

    def _add_sibling(
        self, path: Path, src: SourceFile, span: tuple[int, int], name: str, reason: str
    ) -> None:
        text = redact(excerpt(src, (span,)))
        language = "tsx" if src.language == "tsx" else "ts"
        where = self.g.display(path)
        self.g.items.append(ContextItem(5, "sibling", where, name, reason, text, None, language, 1))

    # --- module augmentations and globals ------------------------------------------------------
    def _augmentations(self, src: SourceFile, target: Target, hooks: list[tuple[int, int]]) -> None:
        if self.references is None:
            return
        files = self.references.augmenting_files(self.documents) or []
        if not files:
            return
        used: set[str] = set()
        for start, end in [(target.enclosing_start, target.enclosing_end), *hooks]:
            used |= _properties(src, start, end) | identifiers_in(src, start, end)
        # Without types, `ctx.user` and `request.user` look alike: an augmentation of a module
        # counts where the file imports that module or names the interface it augments.
        modules = {i.source for i in imports(src)}
        names = identifiers_in(src, 0, len(src.text))
        for path in files[:_MAX_FILES]:
            aug_src = self.lookup.source(path)
            for found in augmentations(aug_src) if aug_src is not None else []:
                members = sorted(found.members & used)
                if not members or aug_src is None:
                    continue
                if found.module != "global" and not (
                    found.interface in names
                    or any(m == found.module or m.startswith(found.module + "/") for m in modules)
                ):
                    continue
                block = (found.block_start, found.block_end)
                lines = aug_src.line_of(block[1]) - aug_src.line_of(block[0])
                span = block if lines <= _MAX_AUGMENTATION_LINES else (found.start, found.end)
                listed = ", ".join(f"`{m}`" for m in members)
                where = "global" if found.module == "global" else f"module '{found.module}'"
                reason = f"{listed} is declared by the {where} augmentation (`{found.interface}`)"
                text = redact(excerpt(aug_src, (span,)))
                self.g.items.append(
                    ContextItem(
                        2,
                        "augmentation",
                        self.g.display(path),
                        found.interface,
                        reason,
                        text,
                        None,
                        "ts",
                        1,
                    )
                )


def _why(site: Site, name: str, columns: set[str]) -> str:
    reasons: dict[str, Callable[[], str]] = {
        "route": lambda: f"registers `{name}` in the route {site.label}, with what applies to it",
        "plugin": lambda: f"registers `{name}` as a plugin, with its prefix and options",
        "procedure": lambda: f"`{name}` is part of the {site.label}, with its middleware",
        "router": lambda: f"mounts `{name}` as the {site.label}",
        "validates": lambda: f"validates with `{name}` ({site.label})",
        "call": lambda: f"calls `{name}`" + (f" {site.label}" if "handler" in site.label else ""),
        "use": lambda: f"uses `{name}`",
    }
    if site.kind == "query":
        filters = ", ".join(site.filters)
        same = " (the selection's columns)" if set(site.filters) & columns else ""
        where = f" {site.label}" if "handler" in site.label else ""
        order = f", sorting by {', '.join(site.order)}" if site.order else ""
        text = f" filtering {filters}{same}" if filters else ""
        return f"a query on `{name}`{where}{text}{order}"
    return reasons[site.kind]()


def _shape(decl: Declaration, src: SourceFile) -> tuple[str, str | None, str]:
    """What makes two declarations alike: their kind, what they call, their parameter types."""
    head = src.text[decl.start : decl.body_start] if decl.body_start else ""
    types = tuple(re.findall(r":\s*([A-Z][\w$.]*)", head))
    return decl.kind, decl.called_name, ",".join(types)


def _properties(src: SourceFile, start: int, end: int) -> frozenset[str]:
    """Member names used between two offsets: `request.user` gives `user`."""
    found = src.captures(_PROPERTIES, src.tree.root_node, start, end).get("p", [])
    return frozenset(src.node_text(n) for n in found if start <= src.node_span(n)[0] < end)
