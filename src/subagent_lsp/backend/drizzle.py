"""Drizzle ORM: table definitions, their columns and indexes, relations, and the dialect."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tree_sitter import Node

from ..syntax.declarations import Declaration
from ..syntax.source import SourceFile
from ..syntax.tree import arguments, call_chain, object_entries, string_value

TABLE_BUILDERS = frozenset({"pgTable", "mysqlTable", "sqliteTable"})
"""Builders of tables with columns."""
SCHEMA_BUILDERS = TABLE_BUILDERS | {"pgView", "mysqlView", "sqliteView", "pgEnum", "mysqlEnum"}
"""Everything a schema file declares that queries and relations refer to."""
DB_RECEIVER = re.compile(
    r"^#?(db|tx|txn|trx|conn|database|transaction|\w+Db|\w+_(?:db|DB)|db[A-Z]\w*)$"
)
"""Names a database handle goes by, so `db.select()` reads as a query and `list.select()` not."""
_DIALECT = re.compile(r"""dialect\s*:\s*["'`](\w+)["'`]""")
_TYPE_OPTIONS = ("length", "precision", "scale")
_DIALECTS = {"pgTable": "postgresql", "mysqlTable": "mysql", "sqliteTable": "sqlite"}
IndexKind = Literal["primary key", "unique", "index"]


def is_db_receiver(text: str) -> bool:
    """Whether an expression such as `db`, `ctx.db` or `tx` is a database handle."""
    parts = text.split("(", 1)[0].split(".")
    if "query" in parts[1:]:
        # `this.db.query.posts`: the handle is what comes before the relational `query`.
        parts = parts[: parts.index("query", 1)]
    # `db.query.posts` names the handle first; `ctx.db`, `this.ctx.db`, `c.var.ctx.db` and
    # `this.#db` last: whatever holds it, the handle is the last name of the path.
    return bool(DB_RECEIVER.match(parts[0]) or (len(parts) > 1 and DB_RECEIVER.match(parts[-1])))


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
    """Anything the database keeps an index for: a primary key, a unique constraint, an index."""

    name: str
    columns: list[str]
    unique: bool
    kind: IndexKind = "index"
    method: str | None = None
    """The access method `.using("hash", ...)` names; None for the default (a B-tree)."""
    partial: bool = False
    """`.where(...)` on the index: it serves only queries that imply its predicate."""

    @property
    def label(self) -> str:
        if self.kind == "primary key":
            return "primary key"
        if self.kind == "unique":
            return f"unique constraint {self.name}" if self.name else "unique"
        kind = "unique index" if self.unique else "index"
        method = f" using {self.method}" if self.method else ""
        return f"{kind} {self.name}{method}{' (partial)' if self.partial else ''}"

    @property
    def shown(self) -> str:
        """How a table's hover lists it: `users_email_idx (unique)`, `primary key`."""
        if self.kind != "index":
            return self.label
        unique = " (unique)" if self.unique else ""
        method = f" using {self.method}" if self.method else ""
        return f"{self.name}{unique}{method}{' (partial)' if self.partial else ''}"

    @property
    def ordered(self) -> bool:
        """Whether it keeps its columns in order, so ranges, sorts and composite prefixes use it."""
        return self.method in (None, "btree")


@dataclass
class ForeignKey:
    columns: list[str]
    target: str


@dataclass
class Table:
    variable: str
    sql_name: str
    builder: str
    columns: list[Column]
    indexes: list[Index]
    """Indexes and constraints of the extra config (`index`, `uniqueIndex`, `unique`, `primaryKey`)."""
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    """`foreignKey({ columns, foreignColumns })` of the extra config; column `.references()` too."""

    @property
    def dialect(self) -> str:
        return _DIALECTS.get(self.builder, "postgresql")

    def all_indexes(self) -> list[Index]:
        """Every index the database has for this table: keys and unique columns first."""
        found = [
            Index(c.name, [c.name], True, "primary key")
            for c in self.columns
            if "primary key" in c.constraints
        ]
        found += [i for i in self.indexes if i.kind == "primary key"]
        found += [
            Index("", [c.name], True, "unique") for c in self.columns if "unique" in c.constraints
        ]
        return found + [i for i in self.indexes if i.kind != "primary key"]

    def all_foreign_keys(self) -> list[ForeignKey]:
        own = [ForeignKey([c.name], c.references) for c in self.columns if c.references]
        return own + self.foreign_keys

    def unindexed_foreign_keys(self) -> list[ForeignKey]:
        """Foreign keys no index leads with. MySQL (InnoDB) creates one for each by itself;
        PostgreSQL and SQLite do not, so deletes on the parent and joins scan this table."""
        if self.dialect == "mysql":
            return []
        indexes = [i for i in self.all_indexes() if i.ordered and not i.partial]
        return [
            fk
            for fk in self.all_foreign_keys()
            if not any(i.columns[: len(fk.columns)] == fk.columns for i in indexes)
        ]


def _column(name: str, value: Node, src: SourceFile, builders: str | None = None) -> Column | None:
    """One column; ``builders`` is the parameter of a columns callback (`(t) => ({ id: t.uuid() })`),
    whose column builders are its members rather than imported functions."""
    links = call_chain(value, src)
    if builders is not None and links and links[0] == (builders, None):
        links = links[1:]
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
        elif method == "defaultRandom":
            column.constraints.append("default random")
        elif method == "autoincrement":
            column.constraints.append("auto increment")
        elif method == "references":
            inner = arguments(method_args)
            if inner and inner[0].type == "arrow_function":
                body = inner[0].child_by_field_name("body")
                column.references = src.node_text(body) if body is not None else None
    return column


def column_name(node: Node, src: SourceFile) -> str | None:
    """`t.orgId`, `t.orgId.asc()` or `t.orgId.desc().nullsLast()` -> "orgId"; None for `sql`."""
    while node.type == "call_expression":
        callee = node.child_by_field_name("function")
        inner = callee.child_by_field_name("object") if callee is not None else None
        if callee is None or callee.type != "member_expression" or inner is None:
            return None
        node = inner
    obj = node.child_by_field_name("object") if node.type == "member_expression" else None
    prop = node.child_by_field_name("property") if obj is not None else None
    return src.node_text(prop) if obj is not None and obj.type == "identifier" and prop else None


def _columns(nodes: list[Node], src: SourceFile) -> list[str]:
    names = [column_name(n, src) for n in nodes]
    return [n if n is not None else "(expression)" for n in names]


def _constraint(node: Node, fallback: str | None, src: SourceFile) -> Index | ForeignKey | None:
    """One entry of the extra config: `index("x").on(t.a)`, `unique().on(...)`, `primaryKey(...)`."""
    links = call_chain(node, src)
    names = [name for name, _ in links]
    if not links or links[0][1] is None:
        return None
    head, head_args = links[0]
    first = arguments(head_args)
    named = string_value(first[0], src) if first else None
    steps = dict(links[1:])
    if head == "primaryKey":
        options = object_entries(first[0], src) if first else {}
        listed = options.get("columns")
        cols = _columns(listed.named_children if listed is not None else first, src)
        name = string_value(options.get("name"), src) or fallback or "primary key"
        return Index(name, cols, True, "primary key")
    if head == "foreignKey" and first:
        options = object_entries(first[0], src)
        own, target = options.get("columns"), options.get("foreignColumns")
        if own is None or target is None:
            return None
        return ForeignKey(_columns(own.named_children, src), src.node_text(target).strip("[]"))
    if head not in ("index", "uniqueIndex", "unique") or not ({"on", "using"} & set(names)):
        return None
    method = None
    if "using" in steps:
        using = arguments(steps["using"])
        method = string_value(using[0], src) if using else None
        cols = _columns(using[1:], src)
    else:
        cols = _columns(arguments(steps["on"]), src)
    unique = head != "index"
    kind: IndexKind = "unique" if head == "unique" else "index"
    name = named or fallback or ("" if kind == "unique" else "?")
    return Index(name, cols, unique, kind, method, "where" in steps)


def _extra_config(config: Node, src: SourceFile) -> tuple[list[Index], list[ForeignKey]]:
    """Both forms: `(t) => [index(...).on(...)]` and `(t) => ({ byOwner: index(...).on(...) })`."""
    indexes: list[Index] = []
    keys: list[ForeignKey] = []
    stack: list[tuple[Node, str | None]] = [(config, None)]
    while stack:
        node, key = stack.pop()
        if node.type == "call_expression":
            found = _constraint(node, key, src)
            if isinstance(found, Index):
                indexes.append(found)
                continue
            if isinstance(found, ForeignKey):
                keys.append(found)
                continue
        if node.type == "pair":
            pair_key = node.child_by_field_name("key")
            key = src.node_text(pair_key).strip("\"'") if pair_key is not None else key
        stack.extend((child, key) for child in reversed(node.named_children))
    return indexes, keys


def _columns_object(node: Node, src: SourceFile) -> tuple[Node, str | None] | None:
    """The object of columns and, when they come from a callback, its parameter's name: both
    `{ id: uuid() }` and `(t) => ({ id: t.uuid() })` (Drizzle 0.36's form)."""
    if node.type == "object":
        return node, None
    if node.type != "arrow_function":
        return None
    body = node.child_by_field_name("body")
    while body is not None and body.type == "parenthesized_expression" and body.named_children:
        body = body.named_children[0]
    if body is None or body.type != "object":
        return None
    param = node.child_by_field_name("parameter")
    params = node.child_by_field_name("parameters")
    if param is None and params is not None and params.named_children:
        first = params.named_children[0]
        param = first.child_by_field_name("pattern") or first
    return body, src.node_text(param) if param is not None else None


def read_table(variable: str, call: Node, src: SourceFile) -> Table | None:
    links = call_chain(call, src)
    if not links:
        return None
    builder, args = links[0]
    args_list = arguments(args)
    shape = _columns_object(args_list[1], src) if len(args_list) >= 2 else None
    if shape is None:
        return None
    columns_object, builders = shape
    columns = []
    for pair in columns_object.named_children:
        key = pair.child_by_field_name("key") if pair.type == "pair" else None
        value = pair.child_by_field_name("value") if pair.type == "pair" else None
        if key is None or value is None:
            continue
        column = _column(src.node_text(key).strip("\"'"), value, src, builders)
        if column is not None:
            columns.append(column)
    indexes, keys = _extra_config(args_list[2], src) if len(args_list) > 2 else ([], [])
    sql_name = string_value(args_list[0], src) or variable
    return Table(variable, sql_name, builder, columns, indexes, keys)


def column_spans(declaration: Declaration, src: SourceFile) -> dict[str, tuple[int, int]]:
    """Where each column of the table a declaration defines is written, by its key."""
    value = declaration.value(src) if declaration.called_name in TABLE_BUILDERS else None
    args = arguments(value) if value is not None else []
    shape = _columns_object(args[1], src) if len(args) >= 2 else None
    if shape is None:
        return {}
    return {
        src.node_text(key).strip("\"'"): src.node_span(pair)
        for pair in shape[0].named_children
        if pair.type == "pair" and (key := pair.child_by_field_name("key")) is not None
    }


def table_of(declaration: Declaration, src: SourceFile) -> Table | None:
    """The table a declaration defines, or None when it defines none."""
    if declaration.called_name not in TABLE_BUILDERS:
        return None
    value = declaration.value(src)
    return read_table(declaration.name, value, src) if value is not None else None


@dataclass(frozen=True)
class Relation:
    """`posts: many(posts)` or `author: one(users, { fields: [...], references: [...] })`."""

    name: str
    kind: str
    target: str
    fields: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        return f"{self.name}: {self.kind}({self.target})"


def read_relations(call: Node, src: SourceFile) -> list[Relation]:
    """`relations(users, ({ many }) => ({ posts: many(posts) }))`, one `Relation` per key."""
    args = arguments(call)
    if len(args) < 2 or args[1].type != "arrow_function":
        return []
    body = args[1].child_by_field_name("body")
    while body is not None and body.type == "parenthesized_expression" and body.named_children:
        body = body.named_children[0]
    out = []
    for key, value in object_entries(body, src).items():
        links = call_chain(value, src)
        if not links:
            continue
        kind, kind_args = links[0]
        found = arguments(kind_args)
        config = object_entries(found[1], src) if len(found) > 1 else {}
        fields, refs = config.get("fields"), config.get("references")
        out.append(
            Relation(
                key,
                kind,
                src.node_text(found[0]) if found else "",
                tuple(_columns(fields.named_children, src)) if fields is not None else (),
                tuple(_columns(refs.named_children, src)) if refs is not None else (),
            )
        )
    return out


def relations_for(
    declarations: Mapping[str, Declaration], table: str, src: SourceFile
) -> list[Relation]:
    """The relations a file defines for ``table``."""
    for declaration in relations_of(declarations, table):
        value = declaration.value(src)
        if value is not None:
            return read_relations(value, src)
    return []


def relation_lines(
    declarations: Mapping[str, Declaration], table: str, src: SourceFile
) -> list[str]:
    """The relations a file defines for ``table``, one line each."""
    return [relation.line for relation in relations_for(declarations, table, src)]
