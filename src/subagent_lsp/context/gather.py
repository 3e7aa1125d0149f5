"""Gather the context for a selection, in priority order, within a token budget.

1. the selection, marked inside its enclosing declaration;
2. the file's imports and the definitions of imported names the enclosing code uses (through
   barrels, `.js` specifiers and tsconfig paths; default exports; the members used of a
   namespace or of a large object), plus one more level of what those refer to, and the value
   a type there is derived from with `typeof`;
3. declarations of the same file that the enclosing code uses;
4. project facts: framework versions, the Drizzle dialect, TypeScript module settings;
what it reaches without importing it by name (`indirect.py`): the context a tRPC procedure
reads as `ctx`, the modules a dependency-injection container hands it, the procedures it calls
through a router path (`procedures.py`); a selected procedure's callers; and backward (`backward.py`): where the selection's declaration is registered, called, queried
or validated, the module augmentations it relies on, one sibling of the same shape.
When the budget runs short, oversized items are shortened first (a class to its members'
signatures), then the lowest priorities are shortened and dropped (the farthest first within a
priority), and what fits again is put back (`items.fit`); the prompt says what was left out.
Everything that is sent passes through secret redaction.
Reads files (call it off the event loop); never writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal

from ..backend.drizzle import declares_schema, dialect, relations_of, table_of
from ..backend.migrations import database_project
from ..backend.targets import target_at
from ..exclusions import Exclusions
from ..overlay import DocumentSnapshot
from ..positions import LineIndex
from ..project import ProjectFacts, display_path, home_first, read_project_facts
from ..redaction import redact
from ..syntax.declarations import Symbol, declarations, namesakes
from ..syntax.imports import imports
from ..syntax.outline import class_outline, object_member
from ..syntax.source import SourceFile, identifiers_in
from ..syntax.targets import Target
from ..syntax.tree import member_uses, type_query_names
from .backward import Backward
from .index import ProjectIndex
from .indirect import injected_calls, procedure_context
from .items import Context, ContextItem, estimate_tokens, fit
from .modules import ModuleResolver
from .packages import catalog_version, read_json
from .procedures import called_procedures, procedure_callers
from .references import ReferenceIndex
from .related import related_items, same_queries
from .symbols import Lookup

_SELECTION_CONTEXT_LINES = 25
_WHOLE_OBJECT_TOKENS = 300
"""An object literal used only as `name.member` is sent whole up to this size, else its members."""


def numbered(
    lines: LineIndex, first_line: int, last_line: int, mark: tuple[int, int] | None
) -> str:
    """Lines ``first_line..last_line`` (0-based) with 1-based numbers; marked lines get a ``>``."""
    width = len(str(last_line + 1))
    out = []
    for index in range(first_line, min(last_line, lines.line_count - 1) + 1):
        start, end = lines.line_bounds(index)
        flag = ">" if mark is not None and mark[0] <= index <= mark[1] else " "
        out.append(f"{flag}{index + 1:>{width}}| {lines.text[start:end]}")
    return "\n".join(out)


class _Gatherer:
    def __init__(self, lookup: Lookup, roots: tuple[Path, ...], budget: int) -> None:
        self.lookup = lookup
        self.roots = roots
        self.outline_chars = budget // 2
        """A class's outline is cut here: about an eighth of the budget."""
        self.items: list[ContextItem] = []
        self.seen: set[tuple[Path, int]] = set()
        self.tables: set[str] = set()
        """SQL names of the tables in play, for the database project's facts."""
        self.selected_tables: set[str] = set()
        """Those of them that the selection declares."""
        self.named: dict[str, Symbol] = {}
        """The declarations the selection names, found already, by name."""

    def display(self, path: Path) -> str:
        return display_path(path, self.roots)

    def add(
        self,
        priority: int,
        kind: Literal["definition", "local"],
        found: Symbol,
        reason: str,
        distance: int = 0,
    ) -> bool:
        key = (found.path, found.declaration.start)
        if key in self.seen:
            return False
        self.seen.add(key)
        decl = found.declaration
        if distance <= 1:
            self.named.setdefault(decl.name, found)
        if declares_schema(decl) and distance <= 1:
            # A table the selection names; not one a table it names refers to: the indexes of
            # those are a lookup away, and would crowd out the ones in play.
            table = table_of(decl, found.source)
            if table is not None:
                self.tables.add(table.sql_name)
        signature = class_outline(found.source, decl, self.outline_chars) or decl.signature(
            found.source
        )
        self.items.append(
            ContextItem(
                priority,
                kind,
                self.display(found.path),
                decl.name,
                reason,
                redact(decl.text(found.source)),
                redact(signature) if signature is not None else None,
                "tsx" if found.source.language == "tsx" else "ts",
                distance,
            )
        )
        namesake = _namesake(found)
        if namesake is not None:
            space = "type" if namesake.declaration.kind in ("type", "interface") else "value"
            self.add(
                priority, kind, namesake, f"the {space} of the same name as `{decl.name}`", distance
            )
        return True

    def use_import(
        self,
        path: Path,
        src: SourceFile,
        binding: _Binding,
        span: tuple[int, int],
        priority: int,
        why: str | None = None,
        distance: int = 2,
    ) -> list[Symbol]:
        """Add what an imported name used in ``span`` of ``src`` stands for: the declaration it
        names; for a namespace (`import * as ns`, or a name a barrel binds with `export * as`),
        the members used of it; for a large object literal used only as `name.member`, those
        members. ``why`` is the reason given, else where the name is imported from. Returns the
        symbols added, to be followed one more level."""
        specifier, local, imported = binding
        resolved = self.lookup.resolve(path, specifier)
        if resolved is None:
            return []
        symbol = self.lookup.find_export(resolved, imported) if imported != "*" else None
        large_value = (
            symbol is not None
            and symbol.declaration.kind == "variable"
            and estimate_tokens(symbol.declaration.text(symbol.source)) > _WHOLE_OBJECT_TOKENS
        )
        # How the name is used is read only where it matters: a walk of the span per name.
        members, whole = (
            member_uses(src, span[0], span[1], local)
            if symbol is None or large_value
            else (frozenset(), True)
        )
        # A name a barrel binds with `export * as` is looked for only when no declaration has
        # it and it is used as `name.member`: the walk reads every barrel it passes.
        namespace = (
            (resolved, None)
            if imported == "*"
            else self.lookup.namespace(resolved, imported)
            if symbol is None and members
            else None
        )
        reason = f"`{local}` is imported from '{specifier}'"
        if namespace is not None:
            module, statement = namespace
            if statement is not None:
                self.add(priority, "definition", statement, f"{reason}: a namespace", distance)
            found = [self.lookup.find_export(module, member) for member in sorted(members)]
            return [
                symbol
                for symbol in found
                if symbol is not None
                and self.add(
                    priority,
                    "definition",
                    symbol,
                    why or f"`{local}.{symbol.declaration.name}` is used; {reason} as a namespace",
                    distance,
                )
            ]
        if symbol is None:
            return []
        barrels = ", ".join(f"`{self.display(v)}`" for v in symbol.via)
        reason += f" through {barrels}" if barrels else ""
        reason = why or reason
        parts = []
        if members and not whole:
            # Only the members used of a large object (a module's route schemas, say).
            for member in sorted(members):
                part = object_member(symbol.source, symbol.declaration, member)
                if part is not None:
                    named = replace(part, name=f"{local}.{member}")
                    parts.append(Symbol(symbol.path, symbol.source, named, symbol.via))
        return [
            one
            for one in parts or [symbol]
            if self.add(priority, "definition", one, reason, distance)
        ]

    def follow(self, found: Symbol, priority: int, derived: bool = True) -> None:
        """One more level: what a definition refers to, and a table's relations. With
        ``derived``, a type reached here that is derived from a value (`z.infer<typeof
        schema>`) brings that value and what it builds on in its own file (`base.extend(...)`):
        the schema is what validates. Without, only the file's own declarations are followed."""
        decl = found.declaration
        local = declarations(found.source)
        reason = f"`{decl.name}` refers to it"
        bindings = _bindings(found.source)
        added: list[Symbol] = []
        for name in sorted(decl.identifiers(found.source) - {decl.name}):
            inner = local.get(name)
            if inner is not None and inner.start != decl.start:
                symbol = Symbol(found.path, found.source, inner)
                if self.add(priority, "definition", symbol, reason, 2):
                    added.append(symbol)
                continue
            binding = bindings.get(name)
            if binding is not None and derived:
                span = (decl.start, decl.end)
                added += self.use_import(found.path, found.source, binding, span, priority, reason)
        if declares_schema(decl):
            for other in relations_of(local, decl.name):
                relations = Symbol(found.path, found.source, other)
                self.add(priority, "definition", relations, f"the relations of `{decl.name}`", 2)
        for symbol in added if derived else []:
            if symbol.declaration.kind == "type":
                self.derived_from(symbol, priority)

    def derived_from(self, found: Symbol, priority: int) -> None:
        """The values the type ``found`` is derived from with `typeof`, and one level of theirs."""
        decl, src = found.declaration, found.source
        local = declarations(src)
        bindings = _bindings(src)
        reason = f"`{decl.name}` is derived from it"
        for name in type_query_names(src, decl.start, decl.end):
            inner = local.get(name)
            symbols: list[Symbol] = []
            if inner is not None:
                symbol = Symbol(found.path, src, inner)
                symbols = [symbol] if self.add(priority, "definition", symbol, reason, 2) else []
            elif name in bindings:
                symbols = self.use_import(
                    found.path, src, bindings[name], (decl.start, decl.end), priority
                )
            for symbol in symbols:
                self.follow(symbol, priority, derived=False)


def _namesake(found: Symbol) -> Symbol | None:
    """The other declaration of the same name: a schema's type, or a type's schema."""
    name = found.declaration.name
    type_ = namesakes(found.source).get(name)
    if type_ is None:
        return None
    other = type_ if type_.start != found.declaration.start else declarations(found.source)[name]
    return Symbol(found.path, found.source, other, found.via)


_Binding = tuple[str, str, str]
"""(module specifier, local name, imported name) of an imported name."""


def _bindings(src: SourceFile) -> dict[str, _Binding]:
    return {
        local: (statement.source, local, imported)
        for statement in imports(src)
        for local, imported in statement.bindings
    }


def _selection_item(display: str, src: SourceFile, target: Target, budget: int) -> ContextItem:
    first, _ = src.line_col(target.enclosing_start)
    last, _ = src.line_col(max(target.enclosing_end - 1, target.enclosing_start))
    mark_first, _ = src.line_col(target.start)
    mark_last, _ = src.line_col(max(target.end - 1, target.start))
    # A huge enclosing declaration is cut to the lines around the selection.
    if estimate_tokens(src.text[target.enclosing_start : target.enclosing_end]) > budget // 2:
        first = max(first, mark_first - _SELECTION_CONTEXT_LINES)
        last = min(last, mark_last + _SELECTION_CONTEXT_LINES)
    where = target.enclosing_kind + (f" `{target.enclosing_name}`" if target.enclosing_name else "")
    reason = (
        f"The selection (lines {mark_first + 1}-{mark_last + 1}, marked with `>`) inside its "
        f"enclosing {where}"
    )
    body = redact(numbered(src.lines, first, last, (mark_first, mark_last)))
    language = "tsx" if src.language == "tsx" else "ts"
    return ContextItem(1, "selection", display, target.enclosing_name, reason, body, None, language)


def _project_item(
    path: Path, facts: ProjectFacts, roots: tuple[Path, ...], resolver: ModuleResolver
) -> ContextItem | None:
    top = resolver.packages.monorepo_of(path)
    versions = _pinned(facts.versions, top)
    lines = [f"- {name} {version}" for name, version in versions.items()]
    if facts.module_type:
        lines.append(f'- package.json "type": "{facts.module_type}"')
    if facts.package_json is not None:
        found = dialect(facts.package_json.parent)
        if found is not None:
            lines.append(f"- Drizzle dialect: {found[0]} ({found[1]})")
    if top is not None and facts.package_json is not None:
        lines += _workspace_dependencies(facts.package_json, top, versions, roots, resolver)
    tsconfig = resolver.tsconfig_for(path)
    if tsconfig is not None:
        options = tsconfig.compiler_options
        settings = [
            f"{key}: {options[key]}"
            for key in ("module", "moduleResolution", "target", "strict")
            if key in options
        ]
        if tsconfig.paths:
            settings.append(
                "paths: " + ", ".join(f"{k} -> {v[0]}" for k, v in tsconfig.paths.items() if v)
            )
        if settings:
            lines.append("- tsconfig: " + "; ".join(settings))
    if not lines:
        return None
    # The package.json's own path: in a monorepo the workspace's top one is another file.
    display = display_path(facts.package_json, roots) if facts.package_json else "project"
    return ContextItem(4, "project", display, None, "project facts", "\n".join(lines), None)


def _pinned(versions: Mapping[str, str], top: Path | None) -> dict[str, str]:
    """Versions with pnpm `catalog:` specs replaced by what the catalog pins."""
    out = dict(versions)
    for name, spec in versions.items():
        pinned = catalog_version(top, name, spec) if top is not None else None
        if pinned is not None:
            out[name] = f"{pinned} (pnpm catalog)"
    return out


def _workspace_dependencies(
    package_json: Path,
    top: Path,
    known: Mapping[str, str],
    roots: tuple[Path, ...],
    resolver: ModuleResolver,
) -> list[str]:
    """The workspace packages this one depends on: their framework versions and Drizzle
    dialect, since the database often lives in a package of its own (`packages/db`)."""
    manifest = read_json(package_json) or {}
    packages = resolver.packages.packages(top)
    lines = []
    for section in ("dependencies", "devDependencies"):
        deps = manifest.get(section)
        for name, spec in deps.items() if isinstance(deps, dict) else []:
            package = packages.get(name)
            if package is None or not isinstance(spec, str) or not spec.startswith("workspace:"):
                continue
            facts = read_project_facts(package.folder / "package.json", roots)
            own = _pinned(facts.versions, top)
            said = [f"{n} {v}" for n, v in own.items() if n not in known]
            found = dialect(package.folder)
            if found is not None:
                said.append(f"Drizzle dialect {found[0]} ({found[1]})")
            where = display_path(package.folder, roots)
            lines.append(
                f"- workspace package {name} ({where}): "
                + (", ".join(said) or "no framework packages")
            )
    return lines


def _database_item(
    path: Path,
    package: Path | None,
    roots: tuple[Path, ...],
    resolver: ModuleResolver,
    tables: set[str],
    selected: set[str],
) -> ContextItem | None:
    """The drizzle-kit project of the tables in play (``package`` is the file's package.json):
    its config, the indexes and keys its migrations already create on them (and the statement
    that created a ``selected`` one), the `db:` scripts."""
    if not tables:
        return None
    folders = [package.parent] if package is not None else []
    top = resolver.packages.monorepo_of(path)
    if top is not None:
        folders += [p.folder for p in resolver.packages.packages(top).values()] + [top]
    project = database_project(folders, tables, selected)
    if project is None:
        return None
    lines = [f"- drizzle-kit config: {display_path(project.config, roots)}"]
    if project.migrations is not None:
        lines.append(f"- migrations: {display_path(project.migrations, roots)}")
    lines += [f"- {display_path(sql, roots)}: {statement}" for sql, statement in project.statements]
    manifest = read_json(project.folder / "package.json") or {}
    scripts = manifest.get("scripts")
    for name, command in scripts.items() if isinstance(scripts, dict) else []:
        if isinstance(command, str) and (name.startswith("db:") or "drizzle-kit" in command):
            lines.append(f"- script `{name}`: {command}")
    text = "\n".join(lines)
    reason = "the database project of " + ", ".join(f"`{t}`" for t in sorted(tables))
    return ContextItem(4, "project", display_path(project.config, roots), None, reason, text, None)


def gather_context(
    path: Path,
    src: SourceFile,
    start: int,
    end: int,
    *,
    index: ProjectIndex,
    documents: Mapping[Path, DocumentSnapshot],
    exclusions: Exclusions,
    budget: int,
    references: ReferenceIndex | None = None,
) -> tuple[Target, Context]:
    roots = index.roots
    lookup = Lookup(index, documents, exclusions)
    # Paths are shown relative to the selection's own folder, so two folders never collide.
    gatherer = _Gatherer(lookup, home_first(roots, path)[:1], budget)
    target = target_at(src, start, end)
    items = gatherer.items
    items.append(_selection_item(gatherer.display(path), src, target, budget))
    file_imports = imports(src)
    if file_imports:
        text = "\n".join(src.text[i.start : i.end] for i in file_imports)
        display = gatherer.display(path)
        items.append(ContextItem(2, "imports", display, None, "the file's imports", text, None))

    used = identifiers_in(src, target.enclosing_start, target.enclosing_end)
    first_level: list[Symbol] = []
    span = (target.enclosing_start, target.enclosing_end)
    for statement in file_imports:
        for local, imported in statement.bindings:
            if local in used:
                binding = (statement.source, local, imported)
                first_level += gatherer.use_import(path, src, binding, span, 2, distance=1)
    for found in first_level:
        gatherer.follow(found, 2)
    procedure_context(gatherer, lookup, path, src, used, first_level)
    injected_calls(gatherer, lookup, references, path, src, (target.start, target.end))
    called_procedures(gatherer, lookup, path, src, (target.start, target.end))

    own = declarations(src)
    for declared in own.values():
        # A selected table: its own indexes, and its relations, are what an agent adding an
        # index must see, and the migration that created it.
        if declared.start <= target.start < declared.end and declares_schema(declared):
            table = table_of(declared, src)
            if table is not None:
                gatherer.tables.add(table.sql_name)
                gatherer.selected_tables.add(table.sql_name)
            for other in relations_of(own, declared.name):
                relations = Symbol(path, src, other)
                gatherer.add(3, "local", relations, f"the relations of `{declared.name}`")
    for name in sorted(used):
        decl = own.get(name)
        if decl is None:
            continue
        if decl.start <= target.enclosing_start and target.enclosing_end <= decl.end:
            continue
        found = Symbol(path, src, decl)
        if gatherer.add(3, "local", found, "declared in this file and used by the selection"):
            gatherer.follow(found, 3)

    # Backward: where the selection's declaration is used, what types the members it uses.
    backward = Backward(gatherer, lookup, references, documents)
    notes = backward.gather(path, src, target, (start, end))
    procedure_callers(gatherer, lookup, references, documents, path, src, (start, end))
    known = {**gatherer.named, **{n: Symbol(path, src, d) for n, d in own.items()}}
    same = same_queries(path, target, src, known, lookup, references, documents)
    items += related_items(same, gatherer.display)

    # Read once: the project facts and the database project both start from the package.json.
    facts = read_project_facts(path, roots)
    project = _project_item(path, facts, roots, index.resolver)
    if project is not None:
        items.append(project)
    database = _database_item(
        path, facts.package_json, roots, index.resolver, gatherer.tables, gatherer.selected_tables
    )
    if database is not None:
        items.append(database)
    items.sort(key=lambda item: item.priority)
    called = index.resolver.packages.other_packages(path, [s.path for s in gatherer.named.values()])
    return target, replace(fit(items, budget, tuple(notes)), packages=called)
