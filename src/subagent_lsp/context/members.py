"""Calls of a method through an object: `this.service.list(…)`, `repo.findMany(…)`.

A method is never imported by name, so the reference index cannot say who calls it. Its callers
are looked for in the files that import its class (or its module) and in the files of its own
folder, where dependency injection hands the object over without an import
(`this.articleService`, `bookingsRepository` from a container). In a file that does not import
the owner, a call counts only when its receiver is named after the owner, so that a common
method name (`create`, `get`) does not pick up every object's. The named function or method a
use is in says whose callers to look for next.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from tree_sitter import Node

from ..syntax.source import SourceFile
from ..syntax.targets import Target
from ..syntax.tree import FUNCTIONS, ancestors, enclosing_function

_MAX_FOLDER_FILES = 30


def selected_method(src: SourceFile, target: Target) -> str | None:
    """The name of the class method (or object method) the selection is inside, if any."""
    node = src.node_at(target.start, target.end)
    for current in (node, *ancestors(node)):
        if current.type == "method_definition":
            name = current.child_by_field_name("name")
            return src.node_text(name) if name is not None else None
        if current.type in ("pair", "public_field_definition"):
            value = current.child_by_field_name("value")
            key = current.child_by_field_name("key") or current.child_by_field_name("name")
            if value is not None and value.type in FUNCTIONS and key is not None:
                return src.node_text(key).strip("\"'")
    return None


def enclosing_callable(src: SourceFile, at: int) -> tuple[str, str | None] | None:
    """The named function a use at ``at`` is directly in, and its class for a method: a class's
    method, a top-level function or one bound to a top-level name. None for an anonymous
    function (a handler, a callback): the framework or the code around it calls that."""
    function = enclosing_function(src.node_at(at, at))
    if function is None:
        return None
    name = function.child_by_field_name("name")
    if function.type == "method_definition":
        body = function.parent
        owner = body.parent.child_by_field_name("name") if body and body.parent else None
        if name is None or owner is None or owner.type != "type_identifier":
            return None
        return src.node_text(name), src.node_text(owner)
    holder = function.parent
    if function.type in ("arrow_function", "function_expression"):
        name = holder.child_by_field_name("name") if holder is not None else None
        holder = holder.parent if holder is not None else None  # the declaration
        if holder is None or holder.type not in ("lexical_declaration", "variable_declaration"):
            return None
        holder = holder.parent
    elif function.type != "function_declaration":
        return None
    if holder is not None and holder.type == "export_statement":
        holder = holder.parent
    if name is None or holder is None or holder.type != "program":
        return None
    return src.node_text(name), None


def owner_names(path: Path, owner: str | None) -> frozenset[str]:
    """What a receiver of the owner's methods is called, normalised: the class or factory name
    (`createBookingsRepository` gives `bookingsrepository`) and the file's
    (`bookings.repository.ts`)."""
    names = {normal_name(path.name.split(".ts")[0])}
    if owner:
        names |= {normal_name(owner), normal_name(owner).removeprefix("create")}
    return frozenset(n for n in names if n)


def folder_files(path: Path) -> list[Path]:
    """The other TypeScript files of the selection's folder, by name."""
    try:
        found = [
            p
            for p in path.parent.iterdir()
            if p != path and p.suffix in (".ts", ".tsx") and p.is_file()
        ]
    except OSError:
        return []
    return sorted(found, key=lambda p: p.name)[:_MAX_FOLDER_FILES]


def method_calls(
    src: SourceFile, method: str, owners: Iterable[str] | None, skip: tuple[int, int] | None
) -> list[Node]:
    """The property names of `x.method(…)` calls in a file; with ``owners``, only those whose
    receiver (its last name: `this.articleService` gives `articleService`) is named after one."""
    wanted = frozenset(owners) if owners is not None else None
    found: list[Node] = []
    for match in re.finditer(rf"\.\s*({re.escape(method)})\s*[(<]", src.text):
        start, end = match.span(1)
        if skip is not None and skip[0] <= start < skip[1]:
            continue
        node = src.node_at(start, end)
        member = node.parent
        if node.type != "property_identifier" or member is None:
            continue
        call = member.parent
        if member.type != "member_expression" or call is None or call.type != "call_expression":
            continue
        receiver = member.child_by_field_name("object")
        if wanted is not None:
            last = receiver
            while last is not None and last.type == "member_expression":
                last = last.child_by_field_name("property")
            if last is None or normal_name(src.node_text(last)) not in wanted:
                continue
        found.append(node)
    return found


def normal_name(name: str) -> str:
    """A name as a container compares it with a file's: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def name_keys(path: Path) -> set[str]:
    """What a container may register a file as, normalised: its name without suffixes
    (`bookings.repository.ts` for `bookingsRepository`) and after its folder's
    (`bookings/repository.ts`). Names seldom change: asked without settling the index."""
    stem = path.name.split(".d.ts")[0].rsplit(".", 1)[0]
    return {normal_name(stem), normal_name(path.parent.name + stem)}
