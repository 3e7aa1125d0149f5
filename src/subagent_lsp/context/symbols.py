"""Where a name comes from: the file's own declarations, or what it imports from the workspace,
through barrels, re-exports, `.js` specifiers and tsconfig paths."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..exclusions import Exclusions
from ..overlay import DocumentSnapshot
from ..syntax.declarations import Declaration, Symbol, declarations, default_export, reexports
from ..syntax.imports import imports
from ..syntax.source import SourceFile
from .index import ProjectIndex

_MAX_REEXPORT_DEPTH = 6


class Lookup:
    """Name lookups over the workspace. With ``peek``, only what is in memory is used and
    `NeedsDisk` is raised where a file would have to be read (see `peek.py`)."""

    def __init__(
        self,
        index: ProjectIndex,
        documents: Mapping[Path, DocumentSnapshot],
        exclusions: Exclusions,
        *,
        peek: bool = False,
    ) -> None:
        self.index = index
        self.documents = documents
        self.exclusions = exclusions
        self.peek = peek

    def source(self, path: Path) -> SourceFile | None:
        if self.exclusions.is_excluded(path, peek=self.peek):
            return None
        return self.index.source(path, self.documents, peek=self.peek)

    def resolve(self, from_file: Path, specifier: str) -> Path | None:
        return self.index.resolver.resolve(from_file, specifier, peek=self.peek)

    def find_export(
        self, path: Path, name: str, depth: int = 0, seen: set[tuple[Path, str]] | None = None
    ) -> Symbol | None:
        """The declaration a module exports under ``name``, following barrels and re-exports.

        Each (module, name) is asked once per lookup: barrels that re-export one another with
        `export *` would otherwise be walked once per path through them, exponentially many.
        """
        seen = set() if seen is None else seen
        if (path, name) in seen or depth > _MAX_REEXPORT_DEPTH:
            return None
        seen.add((path, name))
        src = self.source(path)
        if src is None:
            return None
        found = default_export(src) if name == "default" else declarations(src).get(name)
        if found is not None:
            return Symbol(path, src, found)
        for item in reexports(src):
            if item.names is not None and name not in item.names:
                continue
            original = item.names[name] if item.names is not None else name
            target = self.resolve(path, item.source)
            if target is None:
                continue
            inner = self.find_export(target, original, depth + 1, seen)
            if inner is not None:
                return Symbol(inner.path, inner.source, inner.declaration, (path, *inner.via))
        return None

    def namespace(
        self, path: Path, name: str, depth: int = 0, seen: set[tuple[Path, str]] | None = None
    ) -> tuple[Path, Symbol] | None:
        """The module that module ``path`` exports as the namespace ``name`` (`export * as name
        from`, through barrels), and that statement as a symbol of its own."""
        seen = set() if seen is None else seen
        if (path, name) in seen or depth > _MAX_REEXPORT_DEPTH:
            return None
        seen.add((path, name))
        src = self.source(path)
        if src is None or name in declarations(src):
            return None
        for item in reexports(src):
            if item.names is not None and item.namespace is None and name not in item.names:
                continue
            if item.namespace is not None and item.namespace != name:
                continue
            target = self.resolve(path, item.source)
            if target is None:
                continue
            if item.namespace is not None:
                statement = Declaration(
                    name, "namespace", item.start, item.end, None, True, None, None
                )
                return target, Symbol(path, src, statement)
            original = item.names[name] if item.names is not None else name
            inner = self.namespace(target, original, depth + 1, seen)
            if inner is not None:
                return inner
        return None

    def imported(self, path: Path, src: SourceFile, name: str) -> Symbol | None:
        """Where a name used in ``src`` comes from, if it is imported from the workspace; a
        member of a namespace import (`handlers.listItems`) is that module's export."""
        namespace, _, member = name.partition(".")
        for decl in imports(src):
            for local, imported in decl.bindings:
                if member and local == namespace and imported == "*" and "." not in member:
                    target = self.resolve(path, decl.source)
                    return self.find_export(target, member) if target is not None else None
                if local != name or imported == "*":
                    continue
                target = self.resolve(path, decl.source)
                return self.find_export(target, imported) if target is not None else None
        return None

    def find(self, path: Path | None, src: SourceFile, name: str) -> Symbol | None:
        """Where a name used in a file is declared: the file itself, or what it imports (only
        for a file on disk: a document that is not one imports nothing that can be found)."""
        local = declarations(src).get(name)
        if local is not None:
            return Symbol(path or Path(), src, local)
        return self.imported(path, src, name) if path is not None else None
