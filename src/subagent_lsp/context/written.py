"""The columns a selected schema writes: for an object schema whose keys an insert or an update
among its sites writes, the definitions of those columns in the table. Their types, lengths,
enums and nullability are what the schema should match. Reads files through the lookup:
worker threads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..backend.drizzle import column_spans
from ..backend.queries import read_query
from ..backend.zod import object_keys
from ..redaction import redact
from ..syntax.declarations import Declaration
from ..syntax.source import SourceFile
from ..syntax.tree import calls_in
from .items import ContextItem, excerpt
from .ranking import Found
from .symbols import Lookup

_WRITES = frozenset({"insert", "update"})


def written_columns(
    decl: Declaration,
    src: SourceFile,
    shown: list[Found],
    lookup: Lookup,
    display: Callable[[Path], str],
) -> list[ContextItem]:
    """Items for the table columns that the sites in ``shown`` write from the keys of the
    schema ``decl`` (`.set({ color: input.color })` for a key `color`), one per table."""
    value = decl.value(src)
    keys = object_keys(value, src) if value is not None else frozenset()
    if not keys:
        return []
    out: list[ContextItem] = []
    tables: set[tuple[str, int]] = set()
    for item in shown:
        for start, end in item.site.spans:
            for call in calls_in(item.src, item.src.tree.root_node, start, end):
                parent = call.parent
                if parent is not None and parent.type == "member_expression":
                    continue  # not the outermost call of its chain
                query = read_query(call, item.src)
                if query is None or query.operation not in _WRITES or not query.tables:
                    continue
                found = lookup.find(item.path, item.src, query.tables[0])
                spans = column_spans(found.declaration, found.source) if found else {}
                written = sorted(k for k in keys & set(query.written) if k in spans)
                if (
                    found is None
                    or not written
                    or (str(found.path), found.declaration.start) in tables
                ):
                    continue
                tables.add((str(found.path), found.declaration.start))
                span = (min(spans[k][0] for k in written), max(spans[k][1] for k in written))
                table, listed = found.declaration.name, ", ".join(f"`{k}`" for k in written)
                reason = (
                    f"the columns of `{table}` that `{decl.name}` writes through an "
                    f"{query.operation} ({display(item.path)}): {listed}"
                )
                where = display(found.path)
                text = redact(excerpt(found.source, (span,)))
                language = "tsx" if found.source.language == "tsx" else "ts"
                out.append(
                    ContextItem(3, "definition", where, table, reason, text, None, language, 2)
                )
    return out
