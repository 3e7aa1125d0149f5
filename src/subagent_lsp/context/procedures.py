"""Where a tRPC procedure is called from, as a senior engineer would look: its router path (the
keys that mount its router, up to the router nothing mounts), then calls through that path in
the files that use the root router and in the files that use theirs: a client's
`api.post.byId.useQuery(…)`, a server-side caller's `caller.post.byId(…)`. In those files, where
the procedure's input schema also validates (a client form) is shown with the call.

The candidates come from the reference index; their text is searched for the path before any is
parsed. Reads files: worker threads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from tree_sitter import Node

from ..backend.trpc import entry_path, procedure_around, procedure_unit, router_object
from ..backend.usage import use_site
from ..overlay import DocumentSnapshot
from ..redaction import redact
from ..syntax.declarations import Declaration, Symbol, declarations
from ..syntax.imports import imports
from ..syntax.source import SourceFile
from ..syntax.tree import arguments, call_chain, calls_in, object_entries, short_text
from .backward import Gatherer
from .indirect import Follower
from .items import ContextItem, excerpt
from .ranking import hops, is_test
from .references import ReferenceIndex
from .symbols import Lookup
from .uses import every_use, occurrences, use_source

_MAX_MOUNTS = 4
_MAX_FILES = 200
"""Files that use the root router, or use what those export, searched for the path."""
_MAX_FILE_BYTES = 500_000
_MAX_CALLERS = 3
_MAX_MODULES = 12
"""The file and the modules it imports, looked into for the routers they import."""


def procedure_callers(
    gatherer: Gatherer,
    lookup: Lookup,
    references: ReferenceIndex | None,
    documents: Mapping[Path, DocumentSnapshot],
    path: Path,
    src: SourceFile,
    selection: tuple[int, int],
) -> None:
    """Adds the calls of the procedure the selection is in, through its router path."""
    if references is None or not references.ready:
        return
    # Where the selection starts, past the indentation of a whole-line selection.
    selected = src.text[selection[0] : selection[1]]
    start = selection[0] + len(selected) - len(selected.lstrip())
    call = procedure_around(src, src.node_at(start, start))
    unit = procedure_unit(src, call) if call is not None else None
    found = entry_path(src, unit[0]) if unit is not None and unit[0].type == "pair" else None
    if call is None or found is None:
        return
    root, root_src, keys = _mounted(lookup, references, documents, path, src, *found)
    if len(keys) < 2:
        return  # a router mounted nowhere: `.create(` alone would match any object's
    schema = _input_name(src, call)
    *outer, last = [re.escape(key) for key in keys]
    pattern = re.compile(
        r"\.\s*" + "".join(k + r"\s*\.\s*" for k in outer) + f"({last})" + r"(?![\w$])\s*[.(]"
    )
    shown = 0
    for other in _client_files(lookup, references, documents, root, root_src):
        text = _text(lookup, documents, other)
        match = pattern.search(text) if text is not None and other != path else None
        other_src = lookup.source(other) if match is not None else None
        if match is None or other_src is None:
            continue
        at, end = match.span(1)
        spans = list(use_site(other_src, other_src.node_at(at, end), keys[-1]).spans)
        if schema is not None:
            spans += _schema_spans(other_src, schema)
        where = gatherer.display(other)
        line = other_src.line_of(at) + 1
        reason = f"calls the procedure as `{'.'.join(keys)}` ({where}:{line})"
        if len(spans) > 1 and schema is not None:
            reason += f", and validates with `{schema}` there too"
        language = "tsx" if other_src.language == "tsx" else "ts"
        text = redact(excerpt(other_src, tuple(spans)))
        label = ".".join(keys)
        gatherer.items.append(
            ContextItem(3, "usage", where, label, reason, text, None, language, 1)
        )
        shown += 1
        if shown >= _MAX_CALLERS:
            return


def _mounted(
    lookup: Lookup,
    references: ReferenceIndex,
    documents: Mapping[Path, DocumentSnapshot],
    path: Path,
    src: SourceFile,
    router: str,
    keys: list[str],
) -> tuple[Path, SourceFile, list[str]]:
    """The root router's file, and the full path: the keys that mount ``router``, up the chain."""
    for _ in range(_MAX_MOUNTS):
        mount = _mount(lookup, references, documents, path, src, router)
        if mount is None:
            break
        path, src, router, outer = mount
        keys = [*outer, *keys]
    return path, src, keys


def _mount(
    lookup: Lookup,
    references: ReferenceIndex,
    documents: Mapping[Path, DocumentSnapshot],
    path: Path,
    src: SourceFile,
    router: str,
) -> tuple[Path, SourceFile, str, list[str]] | None:
    """Where a router is mounted as an entry of another: (file, source, that router, keys)."""
    decl = declarations(src).get(router)
    skip = (decl.start, decl.end) if decl is not None else None
    for use in every_use(references, path, router, documents, settle=False):
        use_src = use_source(use, path, src, lookup)
        for node in occurrences(use_src, use.local, skip) if use_src is not None else []:
            pair = node.parent
            if use_src is None or pair is None or pair.type != "pair":
                continue
            if pair.child_by_field_name("value") != node:
                continue
            found = entry_path(use_src, pair)
            if found is not None:
                return use.path, use_src, found[0], found[1]
    return None


def _client_files(
    lookup: Lookup,
    references: ReferenceIndex,
    documents: Mapping[Path, DocumentSnapshot],
    root: Path,
    root_src: SourceFile,
) -> list[Path]:
    """The files that use what the root router's file exports (`AppRouter`, `appRouter`), then
    those that use what they export (a client's `api`, a middleware that makes a caller)."""
    first: dict[Path, None] = {}
    for name, decl in declarations(root_src).items():
        if decl.exported:
            for use in references.uses(root, name, documents, settle=False) or []:
                first.setdefault(use.path)
    found = dict(first)
    for user in first:
        user_src = lookup.source(user)
        for name, decl in declarations(user_src).items() if user_src is not None else []:
            if decl.exported and len(found) < _MAX_FILES:
                for use in references.uses(user, name, documents, settle=False) or []:
                    found.setdefault(use.path)
    return sorted(found, key=lambda p: (is_test(p), hops(root, p)))[:_MAX_FILES]


def _text(lookup: Lookup, documents: Mapping[Path, DocumentSnapshot], path: Path) -> str | None:
    snapshot = documents.get(path)
    if snapshot is not None:
        return snapshot.text
    if lookup.exclusions.is_excluded(path):
        return None
    try:
        if path.stat().st_size > _MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _input_name(src: SourceFile, call: Node) -> str | None:
    """The schema a procedure's `.input(…)` is given by name."""
    for name, args in call_chain(call, src)[1:]:
        first = arguments(args)[0] if name == "input" and arguments(args) else None
        if first is not None and first.type == "identifier":
            return src.node_text(first)
    return None


def _schema_spans(src: SourceFile, schema: str) -> list[tuple[int, int]]:
    """Where a file that calls the procedure uses its input schema too (a form's validator)."""
    for node in occurrences(src, schema)[:1]:
        return list(use_site(src, node, schema).spans)
    return []


def called_procedures(
    gatherer: Follower, lookup: Lookup, path: Path, src: SourceFile, span: tuple[int, int]
) -> None:
    """The procedures the selection calls through a router path (`c.var.api.highlights.create(…)`
    on a server-side caller, `api.post.byId.useQuery(…)` on a client): matched against the
    routers the file, or a module it imports, imports (a middleware that makes the caller)."""
    chains = _chains(src, span)
    routers = _reachable_routers(lookup, path, src) if chains else []
    added = 0
    for names, call in chains:
        found = next(filter(None, (_walk(lookup, r, names) for r in routers)), None)
        if found is None:
            continue
        where, where_src, pair, keys = found
        decl = Declaration(
            ".".join(keys), "procedure", *where_src.node_span(pair), None, False, None, None
        )
        line = src.line_of(src.node_span(call)[0]) + 1
        reason = (
            f"the tRPC procedure `{'.'.join(keys)}` that `{short_text(call, src, 60)}` runs "
            f"({gatherer.display(path)}:{line})"
        )
        if gatherer.add(2, "definition", Symbol(where, where_src, decl), reason, 1):
            added += 1
        if added >= _MAX_CALLERS:
            return


def _chains(src: SourceFile, span: tuple[int, int]) -> list[tuple[list[str], Node]]:
    """Calls through two names or more after their receiver (`x.a.b(…)`, `x.a.b.useQuery(…)`)."""
    found: list[tuple[list[str], Node]] = []
    for call in calls_in(src, src.tree.root_node, *span):
        names: list[str] = []
        current = call.child_by_field_name("function")
        while current is not None and current.type == "member_expression":
            prop = current.child_by_field_name("property")
            names.insert(0, src.node_text(prop) if prop is not None else "")
            current = current.child_by_field_name("object")
        if len(names) >= 2 and current is not None and current.type in ("identifier", "this"):
            found.append((names, call))
    return found


def _reachable_routers(lookup: Lookup, path: Path, src: SourceFile) -> list[Symbol]:
    """The tRPC routers the file declares or imports, and those the modules it imports import."""
    files = [(path, src)]
    for statement in imports(src):
        target = lookup.resolve(path, statement.source)
        target_src = lookup.source(target) if target is not None else None
        if target is not None and target_src is not None:
            files.append((target, target_src))
    routers: dict[tuple[Path, int], Symbol] = {}
    for where, where_src in files[:_MAX_MODULES]:
        symbols = [Symbol(where, where_src, d) for d in declarations(where_src).values()]
        for statement in imports(where_src):
            target = lookup.resolve(where, statement.source)
            for _, imported in statement.bindings if target is not None else ():
                found = lookup.find_export(target, imported) if target and imported != "*" else None
                symbols += [found] if found is not None else []
        for symbol in symbols:
            if router_object(symbol.source, symbol.declaration.value(symbol.source)) is not None:
                routers.setdefault((symbol.path, symbol.declaration.start), symbol)
    return list(routers.values())


def _walk(
    lookup: Lookup, router: Symbol, names: list[str]
) -> tuple[Path, SourceFile, Node, list[str]] | None:
    """The procedure entry a router path ends at, trying the path from each of its names."""
    for first in range(len(names) - 1):
        where, where_src = router.path, router.source
        entries = router_object(where_src, router.declaration.value(where_src))
        for depth, key in enumerate(names[first:]):
            value = object_entries(entries, where_src).get(key)
            if value is None:
                break
            if procedure_unit(where_src, value) is not None and value.parent is not None:
                return where, where_src, value.parent, names[first : first + depth + 1]
            entries = router_object(where_src, value)
            if entries is None and value.type == "identifier":
                inner = lookup.find(where, where_src, where_src.node_text(value))
                if inner is None:
                    break
                where, where_src = inner.path, inner.source
                entries = router_object(where_src, inner.declaration.value(where_src))
    return None
