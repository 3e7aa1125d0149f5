"""Drizzle tables in every form a schema file writes them: columns as an object or as a callback
of column builders, with or without an extra config of indexes and keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.drizzle import column_spans, table_of
from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.syntax import SourceFile, Symbol, declarations


def _table(code: str) -> tuple[str, list[tuple[str, str, list[str], str | None]], list[str]]:
    src = SourceFile(code, "typescript")
    table = table_of(next(iter(declarations(src).values())), src)
    assert table is not None
    columns = [(c.name, c.type, c.constraints, c.references) for c in table.columns]
    indexes = [f"{i.label} ({', '.join(i.columns)})" for i in table.all_indexes()]
    return table.sql_name, columns, indexes


@pytest.mark.parametrize(
    ("code", "columns", "indexes"),
    [
        # Columns as a callback: `t.uuid()` is the column builder `uuid`.
        (
            'export const post = pgTable("post", (t) => ({\n'
            "  id: t.uuid().notNull().primaryKey().defaultRandom(),\n"
            "  title: t.varchar({ length: 256 }).notNull(),\n"
            "}));",
            [
                ("id", "uuid", ["not null", "primary key", "default random"], None),
                ("title", "varchar(256)", ["not null"], None),
            ],
            ["primary key (id)"],
        ),
        # Any parameter name, SQL names as arguments, references, and an index config.
        (
            'export const member = sqliteTable("member", (col) => ({\n'
            '  id: col.integer("id").primaryKey({ autoIncrement: true }),\n'
            '  teamId: col.integer("team_id").notNull().references(() => team.id),\n'
            '  role: col.text().default("viewer"),\n'
            '}), (m) => [index("member_team_idx").on(m.teamId, m.role)]);',
            [
                ("id", "integer", ["primary key"], None),
                ("teamId", "integer", ["not null"], "team.id"),
                ("role", "text", ['default "viewer"'], None),
            ],
            ["primary key (id)", "index member_team_idx (teamId, role)"],
        ),
        # The extra config as an object, with a composite primary key, in MySQL.
        (
            'export const tagged = mysqlTable("tagged", (t) => ({\n'
            "  postId: t.int().notNull(),\n"
            "  tag: t.varchar({ length: 64 }).notNull(),\n"
            "}), (t) => ({ pk: primaryKey({ columns: [t.postId, t.tag] }) }));",
            [
                ("postId", "int", ["not null"], None),
                ("tag", "varchar(64)", ["not null"], None),
            ],
            ["primary key (postId, tag)"],
        ),
        # The object form is read as before, callbacks in column options untouched.
        (
            'export const users = pgTable("users", {\n'
            '  id: text("id").primaryKey().$defaultFn(() => createId()),\n'
            "});",
            [("id", "text", ["primary key", "default () => createId()"], None)],
            ["primary key (id)"],
        ),
    ],
)
def test_tables_with_columns_as_an_object_or_a_callback(
    code: str, columns: list[tuple[str, str, list[str], str | None]], indexes: list[str]
) -> None:
    _, found_columns, found_indexes = _table(code)
    assert found_columns == columns
    assert found_indexes == indexes


@pytest.mark.parametrize(
    "code",
    [
        'const t = pgTable("t", (t) => [t.uuid()]);',
        'const t = pgTable("t", columns);',
        'const t = pgTable("t", function (t) { return { id: t.uuid() }; });',
    ],
)
def test_a_table_without_a_readable_columns_object_is_none(code: str) -> None:
    src = SourceFile(code, "typescript")
    assert table_of(declarations(src)["t"], src) is None


CALLBACK_SCHEMA = """\
export const post = pgTable("post", (t) => ({
  id: t.uuid().primaryKey(),
  authorId: t.text().notNull(),
  slug: t.text().notNull(),
}), (t) => [index("post_author_idx").on(t.authorId)]);

export async function run() {
  return db.select().from(post).where(and(eq(post.authorId, a), eq(post.slug, s)));
}
"""


@pytest.mark.parametrize(
    ("needle", "kind", "line"),
    [
        ("post = pgTable", "table", "- indexes: post_author_idx on authorId"),
        ("post = pgTable", "table", "| id | uuid | primary key |"),
        (
            "db.select",
            "query",
            "- filters: `post.authorId` ✓ index post_author_idx, `post.slug` ✗ no index",
        ),
    ],
)
def test_a_callback_table_hovers_and_serves_queries_like_any_table(
    needle: str, kind: str, line: str
) -> None:
    src = SourceFile(CALLBACK_SCHEMA, "typescript")
    found = declarations(src)

    def find(name: str) -> Symbol | None:
        return Symbol(Path("/w/schema.ts"), src, found[name]) if name in found else None

    facts = static_facts(src, CALLBACK_SCHEMA.index(needle), find, lambda p: p.name)
    assert facts is not None and facts.kind == kind
    assert line in facts.markdown.splitlines()


@pytest.mark.parametrize(
    "columns",
    [
        '{\n  id: serial("id").primaryKey(),\n  note: text("note"),\n}',
        '(t) => ({\n  id: t.serial("id").primaryKey(),\n  note: t.text("note"),\n})',
    ],
)
def test_where_each_column_of_a_table_is_written(columns: str) -> None:
    src = SourceFile(f'export const notes = pgTable("notes", {columns});\n', "typescript")
    spans = column_spans(declarations(src)["notes"], src)
    assert {key: src.text[a:b].split(":")[0] for key, (a, b) in spans.items()} == {
        "id": "id",
        "note": "note",
    }
