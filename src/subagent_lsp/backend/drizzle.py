"""Drizzle ORM: table definitions, their columns and indexes, relations, and the dialect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Node

from ..syntax.declarations import Declaration
from ..syntax.source import SourceFile
from ..syntax.tree import arguments, call_chain, string_value

TABLE_BUILDERS = frozenset({"pgTable", "mysqlTable", "sqliteTable"})
"""Builders of tables with columns."""
SCHEMA_BUILDERS = TABLE_BUILDERS | {"pgView", "mysqlView", "sqliteView", "pgEnum", "mysqlEnum"}
"""Everything a schema file declares that queries and relations refer to."""
DB_RECEIVER = re.compile(r"^(db|tx|trx|database|\w+Db)$")
"""Names a database handle goes by, so `db.select()` reads as a query and `list.select()` not."""
_DIALECT = re.compile(r"""dialect\s*:\s*["'`](\w+)["'`]""")
_TYPE_OPTIONS = ("length", "precision", "scale")


def is_db_receiver(text: str) -> bool:
    """Whether an expression such as `db`, `ctx.db` or `tx` is a database handle."""
    return bool(DB_RECEIVER.match(text.split(".", 1)[0].split("(", 1)[0]))


def declares_schema(declaration: Declaration) -> bool:
    """A table, view or enum, whose relations and users are worth reading with it."""
    return declaration.called_name in SCHEMA_BUILDERS


def relations_of(declarations: Mapping[str, Declaration], table: str) -> list[Declaration]:
    """The `relations(table, ...)` declarations among a file's declarations."""
    return [
        other
        for other in declarations.values()
        if other.called_name == "relations" and other.first_argument == table
    ]


def dialect(folder: Path) -> tuple[str, str] | None:
    """(dialect, config file name) from a `drizzle.config.*` in ``folder``; reads files."""
    for config in sorted(folder.glob("drizzle.config.*")):
        try:
            found = _DIALECT.search(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if found:
            return found[1], config.name
    return None


@dataclass
class Column:
    name: str
    sql_name: str | None
    type: str
    constraints: list[str] = field(default_factory=list)
    references: str | None = None


@dataclass
class Index:
    name: str
    columns: list[str]
    unique: bool


@dataclass
class Table:
    variable: str
    sql_name: str
    builder: str
    columns: list[Column]
    indexes: list[Index]

    def indexed_columns(self) -> dict[str, str]:
        """Column -> what makes lookups on it fast: primary key, unique, or the index leading with it."""
        covered: dict[str, str] = {}
        for column in self.columns:
            if "primary key" in column.constraints:
                covered[column.name] = "primary key"
            elif "unique" in column.constraints:
                covered[column.name] = "unique"
        for index in self.indexes:
            if index.columns and index.columns[0] not in covered:
                covered[index.columns[0]] = f"index {index.name}"
        return covered


def _column(name: str, value: Node, src: SourceFile) -> Column | None:
    links = call_chain(value, src)
    if not links or links[0][1] is None:
        return None
    base, args = links[0]
    args_list = arguments(args)
    sql_name = string_value(args_list[0], src) if args_list else None
    type_text = base
    for arg in args_list:
        if arg.type == "object":
            for pair in arg.named_children:
                key = pair.child_by_field_name("key")
                val = pair.child_by_field_name("value")
                if key is not None and val is not None and src.node_text(key) in _TYPE_OPTIONS:
                    type_text += f"({src.node_text(val)})"
    column = Column(name, sql_name, type_text)
    for method, method_args in links[1:]:
        if method == "notNull":
            column.constraints.append("not null")
        elif method == "primaryKey":
            column.constraints.append("primary key")
        elif method == "unique":
            column.constraints.append("unique")
        elif method in ("default", "$default", "$defaultFn"):
            inner = arguments(method_args)
            shown = src.node_text(inner[0]) if inner else ""
            column.constraints.append(f"default {shown}" if len(shown) <= 24 else "default")
        elif method == "defaultNow":
            column.constraints.append("default now()")
        elif method == "autoincrement":
            column.constraints.append("auto increment")
        elif method == "references":
            inner = arguments(method_args)
            if inner and inner[0].type == "arrow_function":
                body = inner[0].child_by_field_name("body")
                column.references = src.node_text(body) if body is not None else None
    return column


def _indexes(config: Node, src: SourceFile) -> list[Index]:
    found: list[Index] = []
    stack = [config]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            links = call_chain(node, src)
            names = [name for name, _ in links]
            if names and names[0] in ("index", "uniqueIndex") and "on" in names:
                first_args = arguments(links[0][1])
                on_args = arguments(dict(links)["on"])
                columns = [src.node_text(a).rsplit(".", 1)[-1] for a in on_args]
                name = string_value(first_args[0], src) if first_args else None
                found.append(Index(name or "?", columns, names[0] == "uniqueIndex"))
                continue
        stack.extend(reversed(node.named_children))
    return found


def read_table(variable: str, call: Node, src: SourceFile) -> Table | None:
    links = call_chain(call, src)
    if not links:
        return None
    builder, args = links[0]
    args_list = arguments(args)
    if len(args_list) < 2 or args_list[1].type != "object":
        return None
    columns = []
    for pair in args_list[1].named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is None or value is None:
            continue
        column = _column(src.node_text(key), value, src)
        if column is not None:
            columns.append(column)
    indexes = _indexes(args_list[2], src) if len(args_list) > 2 else []
    return Table(variable, string_value(args_list[0], src) or variable, builder, columns, indexes)


def table_of(declaration: Declaration, src: SourceFile) -> Table | None:
    """The table a declaration defines, or None when it defines none."""
    if declaration.called_name not in TABLE_BUILDERS:
        return None
    value = declaration.value(src)
    return read_table(declaration.name, value, src) if value is not None else None


def read_relations(call: Node, src: SourceFile) -> list[str]:
    """`relations(users, ({ many }) => ({ posts: many(posts) }))` -> ["posts: many(posts)"]."""
    args = arguments(call)
    if len(args) < 2 or args[1].type != "arrow_function":
        return []
    body = args[1].child_by_field_name("body")
    while body is not None and body.type == "parenthesized_expression" and body.named_children:
        body = body.named_children[0]
    if body is None or body.type != "object":
        return []
    out = []
    for pair in body.named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is None or value is None:
            continue
        links = call_chain(value, src)
        if links:
            kind, kind_args = links[0]
            target = arguments(kind_args)
            out.append(
                f"{src.node_text(key)}: {kind}({src.node_text(target[0]) if target else ''})"
            )
    return out


def relation_lines(
    declarations: Mapping[str, Declaration], table: str, src: SourceFile
) -> list[str]:
    """The relations a file defines for ``table``, one line each."""
    for declaration in relations_of(declarations, table):
        value = declaration.value(src)
        if value is not None:
            return read_relations(value, src)
    return []
