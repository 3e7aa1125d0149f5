"""Which index serves each filter, join and sort column of a query, by the leftmost-prefix rule.

An ordered (B-tree) index on (a, b, c) serves a column when every column before it in the index is
compared by equality (`eq`, `inArray`, `isNull`, or a join condition): `a = ? and b > ?` is served,
`b = ?` alone is not. A sort is served when the index, after such an equality prefix, lists the
sort columns in order. Hash indexes serve equality on their one column only. Primary keys and
unique constraints are indexes too. A table that cannot be found is unknown, never "no index".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .drizzle import Index, Relation, Table
from .queries import Column, Condition, Query

Status = Literal["served", "unserved", "unknown", "skipped"]
Role = Literal["filter", "join", "order", "load"]
_MARKS = {"served": "✓", "unserved": "✗", "unknown": "?", "skipped": "–"}


@dataclass(frozen=True)
class Use:
    """One column a query uses, and whether an index serves that use."""

    table: str
    column: str
    role: Role
    status: Status
    how: str
    """"index x", "primary key", "no index", "table not found", ..."""

    @property
    def markdown(self) -> str:
        return f"`{self.table}.{self.column}` {_MARKS[self.status]} {self.how}"


@dataclass
class JoinUse:
    kind: str
    table: str
    left: Use
    right: Use

    @property
    def served(self) -> bool:
        return "served" in (self.left.status, self.right.status)

    @property
    def markdown(self) -> str:
        head = f"{self.kind} join `{self.table}`" if self.table else "join in the filter"
        return f"{head} on {self.left.markdown} = {self.right.markdown}"


@dataclass
class QueryCoverage:
    filters: list[Use] = field(default_factory=list)
    joins: list[JoinUse] = field(default_factory=list)
    order: list[Use] = field(default_factory=list)
    loads: list[tuple[str, list[Use]]] = field(default_factory=list)
    """(relation path, the uses of the relation's table: its join columns, filters, sort)."""


Relations = Callable[[str], list[Relation]]
"""The relations defined for a table variable."""
Models = Callable[[str], Table | None]
"""The table a variable names, or None when it cannot be found."""


def _prefix_ok(index: Index, position: int, equal: set[str]) -> bool:
    return all(column in equal for column in index.columns[:position])


def _filter_use(
    table: str, model: Table | None, column: str, kind: str, role: Role, equal: set[str]
) -> Use:
    if model is None:
        return Use(table, column, role, "unknown", f"table `{table}` not found")
    if kind == "other":
        return Use(table, column, role, "skipped", "not served by an ordered index")
    candidates = []
    for index in model.all_indexes():
        if column not in index.columns:
            continue
        position = index.columns.index(column)
        if not index.ordered and (kind != "eq" or len(index.columns) > 1):
            continue
        if _prefix_ok(index, position, equal):
            candidates.append((position, index))
    if candidates:
        position, index = min(candidates, key=lambda found: found[0])
        after = index.columns[:position]
        prefix = f" after {', '.join(f'`{c}`' for c in after)}" if after else ""
        return Use(table, column, role, "served", index.label + prefix)
    leading = [i for i in model.all_indexes() if column in i.columns[1:] and i.ordered]
    if leading:
        first = leading[0]
        return Use(
            table,
            column,
            role,
            "unserved",
            f"no index leads with it ({first.label} starts with `{first.columns[0]}`)",
        )
    return Use(table, column, role, "unserved", "no index")


def _order_uses(table: str, model: Table | None, columns: list[str], equal: set[str]) -> list[Use]:
    if model is None:
        return [Use(table, c, "order", "unknown", f"table `{table}` not found") for c in columns]
    uses = []
    for k, column in enumerate(columns):
        found: Index | None = None
        for index in model.all_indexes():
            if not index.ordered:
                continue
            rest = list(index.columns)
            while rest and rest[0] in equal and rest[0] not in columns:
                rest.pop(0)
            if rest[: k + 1] == columns[: k + 1]:
                found = index
                break
        if found is not None:
            uses.append(Use(table, column, "order", "served", found.label))
        elif any(column in i.columns for i in model.all_indexes()):
            uses.append(Use(table, column, "order", "unserved", "no index in this order"))
        else:
            uses.append(Use(table, column, "order", "unserved", "no index"))
    return uses


def _equal(conditions: list[Condition], joined: set[Column], table: str) -> set[str]:
    equal = {c.column for c in conditions if c.table == table and c.kind == "eq" and not c.alone}
    return equal | {column for owner, column in joined if owner == table}


def analyse(query: Query, model: Models, relations: Relations) -> QueryCoverage:
    """How the indexes of the tables ``model`` finds serve ``query``."""
    out = QueryCoverage()
    joined: set[Column] = set()
    for join in query.joins:
        for left, right in join.pairs:
            joined |= {left, right}
    for condition in dict.fromkeys(query.conditions):
        equal = _equal(query.conditions, joined, condition.table)
        out.filters.append(
            _filter_use(
                condition.table,
                model(condition.table),
                condition.column,
                condition.kind,
                "filter",
                equal,
            )
        )
    for join in query.joins:
        for left, right in join.pairs:
            uses = [
                _filter_use(t, model(t), c, "eq", "join", _equal(query.conditions, joined, t))
                for t, c in (left, right)
            ]
            out.joins.append(JoinUse(join.kind, join.table, uses[0], uses[1]))
    by_table: dict[str, list[str]] = {}
    for table, column in query.order:
        by_table.setdefault(table, [])
        if column not in by_table[table]:
            by_table[table].append(column)
    for table, columns in by_table.items():
        equal = _equal(query.conditions, joined, table)
        out.order += _order_uses(table, model(table), columns, equal)
    _load_uses(query, model, relations, out)
    return out


def _load_uses(query: Query, model: Models, relations: Relations, out: QueryCoverage) -> None:
    """Each `with` relation is a lookup on the related table by its join columns."""
    tables: dict[str, str] = {"": query.tables[0]} if query.tables else {}
    for load in query.loads:
        parent = tables.get(load.parent if "." in load.path else "")
        found = relations(parent) if parent is not None else []
        relation = next((r for r in found if r.name == load.relation), None)
        if parent is None or relation is None:
            out.loads.append((load.path, []))
            continue
        target = relation.target
        tables[load.path] = target
        target_model = model(target)
        if relation.references:
            keys = list(relation.references)
        elif target_model is not None:
            keys = [
                c.name
                for c in target_model.columns
                if c.references is not None and c.references.split(".")[0] == parent
            ]
        else:
            keys = []
        conditions = [
            Condition(target, c.column, c.kind, c.operator, c.alone) for c in load.conditions
        ]
        equal = _equal(conditions, {(target, k) for k in keys}, target)
        uses = [_filter_use(target, target_model, k, "eq", "load", equal) for k in keys]
        uses += [
            _filter_use(target, target_model, c.column, c.kind, "filter", equal) for c in conditions
        ]
        uses += _order_uses(target, target_model, [c for _, c in load.order], equal)
        out.loads.append((load.path, uses))
