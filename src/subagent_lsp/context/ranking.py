"""The order the sites of a declaration are shown in (`backward.py`): registrations first, then
queries and validations, then calls and other uses; each kind by how near and how telling it
is. For a table, its queries as an engineer adding indexes reads them. No I/O."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..backend.drizzle import Table
from ..backend.usage import Site
from ..syntax.source import SourceFile
from .references import Use

RANK = {"route": 0, "plugin": 0, "procedure": 0, "router": 0, "validates": 1, "query": 1}
"""The kinds of site in the order they are shown; any other kind after them."""


@dataclass(frozen=True)
class Found:
    path: Path
    src: SourceFile
    use: Use
    site: Site
    caller_of: str | None = None
    """For a call of the function a use is in (see `Backward._callers_of_callers`): that
    function's name."""


def is_test(path: Path) -> bool:
    """Tests use everything: a use in one says least about how the code is meant to be used."""
    name = path.name
    return ".test." in name or ".spec." in name or "__tests__" in path.parts


def hops(a: Path, b: Path) -> int:
    """Folders between two files: how far a use is from the selection."""
    common = 0
    for x, y in zip(a.parts, b.parts, strict=False):
        if x != y:
            break
        common += 1
    return len(a.parts) + len(b.parts) - 2 * common


_Rank = tuple[int, int, bool, int, bool, int]


def rank_sites(
    found: list[Found], path: Path, table: Table | None, columns: set[str], folders: list[Path]
) -> list[Found]:
    """``found`` in the order to show them: by kind, then those filtering the selected
    ``columns``, then (a table's) those that tell which index it needs, then outside tests, the
    nearest to ``path`` first; the callers of the functions a use is in after the direct sites
    of their kind. ``folders`` are the workspace packages, for a table's queries."""
    keys = _key_columns(table) if table is not None else None

    def rank(item: Found) -> _Rank:
        same = 0 if set(item.site.filters) & columns else 1
        kind = RANK.get(item.site.kind, 2)
        plain = 1 if keys is not None and _keyed(item.site, keys) else 0
        further = item.caller_of is not None
        return (kind, same, further, plain, is_test(item.path), hops(path, item.path))

    ranked = sorted(found, key=rank)
    return _spread(ranked, rank, folders) if table is not None else ranked


def _package_of(path: Path, prefixes: list[str]) -> str | None:
    """The innermost package folder (``prefixes``, longest first, each ending in a separator)."""
    text = str(path)
    return next((prefix for prefix in prefixes if text.startswith(prefix)), None)


def _key_columns(table: Table) -> frozenset[str]:
    """The columns that a primary key serves on its own."""
    return frozenset(
        column
        for index in table.all_indexes()
        if index.kind == "primary key"
        for column in index.columns
    )


def _keyed(site: Site, keys: frozenset[str]) -> bool:
    """A query that tells nothing about the indexes a table needs: the primary key finds its
    rows whatever else it filters on, or it filters and sorts nothing (an insert)."""
    filters = set(site.filters)
    return site.kind == "query" and (
        (bool(keys) and keys <= filters) or not filters | set(site.order)
    )


def _spread(
    ranked: list[Found],
    rank: Callable[[Found], _Rank],
    folders: list[Path],
) -> list[Found]:
    """A table's queries as an engineer adding indexes reads them: one of each shape (the
    columns filtered on and sorted by) before a second of a shape, which needs the same index;
    and, among those, the first of each workspace package (``folders``) before a second of one,
    so the apps that query it each show how. Sites of other kinds keep their place."""
    # Compared as text: `Path.parents` costs more than the rest of the ranking together.
    prefixes = sorted((os.path.join(str(f), "") for f in folders), key=len, reverse=True)
    shapes: set[tuple[frozenset[str], tuple[str, ...]]] = set()
    per_package: dict[str | None, int] = {}
    later: dict[int, tuple[bool, int]] = {}
    for index, item in enumerate(ranked):
        if item.site.kind != "query":
            continue
        shape = (frozenset(item.site.filters), item.site.order)
        again = shape in shapes
        shapes.add(shape)
        package = _package_of(item.path, prefixes)
        nth = per_package.get(package, 0)
        if not again:
            per_package[package] = nth + 1
        later[index] = (again, nth)

    def key(index: int) -> tuple[int, int, bool, int, bool, int, bool, int]:
        kind, same, further, plain, test, near = rank(ranked[index])
        again, nth = later.get(index, (False, 0))
        return (kind, same, further, plain, again, nth, test, near)

    return [ranked[i] for i in sorted(range(len(ranked)), key=key)]
