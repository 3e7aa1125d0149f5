"""What the selection reaches without importing it by name: the context a tRPC procedure reads as
`ctx`, and the methods of objects a dependency-injection container hands it.

A procedure's `ctx` is typed by what `initTRPC.context<…>()` is given, in the file that makes the
base procedures: that factory (or type) is what `ctx.db` and `ctx.session` are, and the handles it
imports are the ones behind them. A container (awilix's `loadModules`, a `Cradle` destructured
in a function's parameters, `app.diContainer.cradle`) registers each module under its file's
name, so `bookingsRepository.findManyByServiceIdAndTimeRange(…)` is the function of that name in
`bookings.repository.ts`, and `this.articleService.listAndCount(…)` the method of the class in
`article/service.ts`, found through the reference index's file names.
Reads files: worker threads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from ..backend.trpc import context_type
from ..syntax.declarations import Declaration, Symbol, declarations
from ..syntax.imports import imports
from ..syntax.outline import declaration_node
from ..syntax.source import SourceFile
from ..syntax.tree import calls_in
from .backward import Gatherer
from .ranking import hops
from .references import ReferenceIndex
from .symbols import Lookup

_MAX_INJECTED = 6
"""Methods of injected objects added for one selection."""
_MAX_CANDIDATES = 4
"""Files named like a receiver that are looked into."""


class Follower(Gatherer, Protocol):
    """A gatherer that also follows what a symbol it adds refers to."""

    def follow(self, found: Symbol, priority: int, derived: bool = True) -> None: ...


def procedure_context(
    gatherer: Follower,
    lookup: Lookup,
    path: Path,
    src: SourceFile,
    used: frozenset[str],
    reached: Iterable[Symbol],
) -> None:
    """When the selection reads `ctx`: the context given to `initTRPC.context<…>()` in its own
    file or one its imported names come from (the base procedures'), and what that imports."""
    if "ctx" not in used:
        return
    files = {path: src, **{found.path: found.source for found in reached}}
    for where, where_src in files.items():
        given = context_type(where_src)
        if given is None:
            continue
        name, at = given
        found = lookup.find(where, where_src, name)
        if found is None:
            return
        line = where_src.line_of(at) + 1
        reason = (
            f"what `ctx` holds in a tRPC procedure: the context `initTRPC.context<…>()` is "
            f"given ({gatherer.display(where)}:{line})"
        )
        gatherer.add(2, "definition", found, reason, 1)
        gatherer.follow(found, 2)
        for name in sorted(found.declaration.identifiers(found.source)):
            used_type = lookup.find(found.path, found.source, name)
            if used_type is not None and used_type.declaration.kind == "type":
                _parts_of(gatherer, used_type)
        return


def _parts_of(gatherer: Follower, found: Symbol) -> None:
    """The short types its own file reads out of a type by indexed access (`Session =
    Auth["$Infer"]["Session"]`): the names a context's parts go by."""
    name = found.declaration.name
    for other in declarations(found.source).values():
        text = other.text(found.source)
        if other.kind != "type" or other.start == found.declaration.start or "\n" in text.strip():
            continue
        if re.search(rf"(?<![\w$]){re.escape(name)}\s*\[", text):
            symbol = Symbol(found.path, found.source, other, found.via)
            gatherer.add(2, "definition", symbol, f"a part of `{name}`, by the name it goes by", 2)


def injected_calls(
    gatherer: Follower,
    lookup: Lookup,
    references: ReferenceIndex | None,
    path: Path,
    src: SourceFile,
    span: tuple[int, int],
) -> None:
    """The functions behind `receiver.method(…)` calls in ``span`` whose receiver is neither
    imported nor declared in the file (a container's), found in the file named after it."""
    if references is None:
        return
    known = set(declarations(src)) | {
        local for statement in imports(src) for local, _ in statement.bindings
    }
    added = 0
    seen: set[tuple[str, str]] = set()
    for call in calls_in(src, src.tree.root_node, *span):
        callee = call.child_by_field_name("function")
        if callee is None or callee.type != "member_expression":
            continue
        receiver = callee.child_by_field_name("object")
        method = callee.child_by_field_name("property")
        if receiver is not None and receiver.type == "member_expression":
            receiver = receiver.child_by_field_name("property")  # `this.articleService`
        if receiver is None or method is None:
            continue
        owner, name = src.node_text(receiver), src.node_text(method)
        if (owner, name) in seen or owner in known or not _compound(owner):
            continue
        seen.add((owner, name))
        found = _injected(lookup, references, path, owner, name)
        if found is None:
            continue
        line = src.line_of(src.node_span(call)[0]) + 1
        reason = (
            f"`{owner}.{name}(…)` is called ({gatherer.display(path)}:{line}); `{owner}` is "
            f"injected, and `{gatherer.display(found.path)}` is the module of that name"
        )
        if gatherer.add(2, "definition", found, reason, 1):
            added += 1
        if added >= _MAX_INJECTED:
            return


def _compound(name: str) -> bool:
    """A name of two words or more (`bookingsRepository`): what a container registers a module
    as; a single word (`db`, `logger`) names a value, not a module of its own."""
    return any(c.isupper() for c in name[1:]) or "_" in name.strip("_")


def _injected(
    lookup: Lookup,
    references: ReferenceIndex,
    path: Path,
    owner: str,
    method: str,
) -> Symbol | None:
    candidates = references.files_named(owner) or []
    nearest = sorted((p for p in candidates if p != path), key=lambda p: hops(path, p))
    for candidate in nearest[:_MAX_CANDIDATES]:
        candidate_src = lookup.source(candidate)
        if candidate_src is None:
            continue
        decl = declarations(candidate_src).get(method) or _class_method(candidate_src, method)
        if decl is not None:
            return Symbol(candidate, candidate_src, decl)
    return None


def _class_method(src: SourceFile, method: str) -> Declaration | None:
    """A method of a class the file declares (`ArticleService.listAndCount`), as its own item."""
    for decl in declarations(src).values():
        node = declaration_node(src, decl) if decl.kind == "class" else None
        body = node.child_by_field_name("body") if node is not None else None
        for member in body.named_children if body is not None else []:
            name = member.child_by_field_name("name")
            if member.type == "method_definition" and name and src.node_text(name) == method:
                start, end = src.node_span(member)
                named = f"{decl.name}.{method}"
                return Declaration(named, "method", start, end, None, False, None, None)
    return None
