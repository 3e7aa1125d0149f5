"""Index analysis, rule by rule: a schema and a query in, what serves each column out."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.syntax import SourceFile, Symbol, declarations

SCHEMA = """\
export const users = pgTable("users", {
  id: serial("id").primaryKey(),
  email: varchar("email").notNull().unique(),
  orgId: integer("org_id").references(() => orgs.id),
  name: text("name"),
});

export const posts = pgTable("posts", {
  id: serial("id").primaryKey(),
  authorId: integer("author_id").references(() => users.id),
  status: text("status"),
  title: text("title"),
  createdAt: timestamp("created_at"),
}, (t) => ({
  byAuthor: index().on(t.authorId, t.status, t.createdAt),
  byTitle: index("posts_title_hash").using("hash", t.title),
}));

export const comments = pgTable("comments", {
  id: serial("id").primaryKey(),
  postId: integer("post_id").references(() => posts.id),
  authorId: integer("author_id").references(() => users.id),
  createdAt: timestamp("created_at"),
}, (t) => [index("comments_post_created").on(t.postId, t.createdAt.desc())]);

export const tags = mysqlTable("tags", {
  postId: int("post_id").references(() => posts.id),
  tag: varchar("tag"),
}, (t) => [primaryKey({ columns: [t.postId, t.tag] }), unique("tag_once").on(t.tag, t.postId)]);

export const postsRelations = relations(posts, ({ one, many }) => ({
  author: one(users, { fields: [posts.authorId], references: [users.id] }),
  comments: many(comments),
}));
"""


def _facts(query: str) -> list[str]:
    code = SCHEMA + "\nexport async function run() {\n  " + query + "\n}\n"
    src = SourceFile(code, "typescript")
    found = declarations(src)

    def find(name: str) -> Symbol | None:
        return Symbol(Path("/w/db.ts"), src, found[name]) if name in found else None

    facts = static_facts(src, code.index("db.", len(SCHEMA)), find, lambda p: p.name)
    assert facts is not None and facts.kind == "query"
    return facts.markdown.splitlines()[1:]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The leftmost-prefix rule: the first column alone, then equality on it plus the next.
        (
            "db.select().from(posts).where(eq(posts.authorId, 1))",
            ["- filters: `posts.authorId` ✓ index byAuthor"],
        ),
        (
            "db.select().from(posts).where(and(eq(posts.authorId, a), eq(posts.status, s)))",
            [
                "- filters: `posts.authorId` ✓ index byAuthor, "
                "`posts.status` ✓ index byAuthor after `authorId`"
            ],
        ),
        (
            "db.select().from(posts).where(and(inArray(posts.authorId, a), eq(posts.status, s), "
            "gte(posts.createdAt, d)))",
            [
                "- filters: `posts.authorId` ✓ index byAuthor, "
                "`posts.status` ✓ index byAuthor after `authorId`, "
                "`posts.createdAt` ✓ index byAuthor after `authorId`, `status`"
            ],
        ),
        # The second column alone, or after a range, is not served.
        (
            "db.select().from(posts).where(eq(posts.status, s))",
            [
                "- filters: `posts.status` ✗ no index leads with it (index byAuthor starts with "
                "`authorId`)"
            ],
        ),
        (
            "db.select().from(posts).where(and(gt(posts.authorId, 1), eq(posts.status, s)))",
            [
                "- filters: `posts.authorId` ✓ index byAuthor, `posts.status` ✗ no index leads "
                "with it (index byAuthor starts with `authorId`)"
            ],
        ),
        # Under or(), a condition does not narrow the others.
        (
            "db.select().from(posts).where(or(eq(posts.authorId, 1), eq(posts.status, s)))",
            [
                "- filters: `posts.authorId` ✓ index byAuthor, `posts.status` ✗ no index leads "
                "with it (index byAuthor starts with `authorId`)"
            ],
        ),
        # A hash index serves equality only; a leading wildcard no ordered index.
        (
            "db.select().from(posts).where(and(eq(posts.title, t), like(posts.status, '%x')))",
            [
                "- filters: `posts.title` ✓ index posts_title_hash using hash, "
                "`posts.status` – not served by an ordered index"
            ],
        ),
        (
            "db.select().from(posts).where(gt(posts.title, t))",
            ["- filters: `posts.title` ✗ no index"],
        ),
        (
            "db.select().from(users).where(ilike(users.name, q))",
            ["- filters: `users.name` – not served by an ordered index"],
        ),
        # Primary keys and unique constraints are indexes; composite keys by the same rule.
        (
            "db.select().from(users).where(or(eq(users.id, 1), eq(users.email, e)))",
            ["- filters: `users.id` ✓ primary key, `users.email` ✓ unique"],
        ),
        (
            "db.select().from(tags).where(eq(tags.tag, t))",
            ["- filters: `tags.tag` ✓ unique constraint tag_once"],
        ),
        (
            "db.delete(tags).where(and(eq(tags.postId, p), eq(tags.tag, t)))",
            ["- filters: `tags.postId` ✓ primary key, `tags.tag` ✓ unique constraint tag_once"],
        ),
        # Order by: an index in that order after the equality prefix.
        (
            "db.select().from(posts).where(and(eq(posts.authorId, a), eq(posts.status, s)))"
            ".orderBy(desc(posts.createdAt))",
            [
                "- filters: `posts.authorId` ✓ index byAuthor, "
                "`posts.status` ✓ index byAuthor after `authorId`",
                "- order by: `posts.createdAt` ✓ index byAuthor",
            ],
        ),
        (
            "db.select().from(posts).orderBy(posts.authorId, posts.status)",
            [
                "- filters: none",
                "- order by: `posts.authorId` ✓ index byAuthor, `posts.status` ✓ index byAuthor",
            ],
        ),
        (
            "db.select().from(posts).orderBy(desc(posts.createdAt))",
            ["- filters: none", "- order by: `posts.createdAt` ✗ no index in this order"],
        ),
    ],
)
def test_composite_indexes_serve_by_their_leftmost_prefix(query: str, expected: list[str]) -> None:
    assert _facts(query)[1:] == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # The join condition counts as equality on the joined table: (postId, createdAt) serves
        # the join and the range after it.
        (
            "db.select().from(posts).innerJoin(comments, eq(comments.postId, posts.id))"
            ".where(gt(comments.createdAt, since))",
            [
                "- tables: `posts`, `comments`",
                "- joins: inner join `comments` on `comments.postId` ✓ index "
                "comments_post_created = `posts.id` ✓ primary key",
                "- filters: `comments.createdAt` ✓ index comments_post_created after `postId`",
            ],
        ),
        (
            "db.select().from(comments).leftJoin(users, eq(users.name, comments.authorId))",
            [
                "- tables: `comments`, `users`",
                "- joins: left join `users` on `users.name` ✗ no index = "
                "`comments.authorId` ✗ no index",
                "- filters: none",
            ],
        ),
        (
            "db.select().from(comments).where(gt(comments.createdAt, since))",
            [
                "- tables: `comments`",
                "- filters: `comments.createdAt` ✗ no index leads with it "
                "(index comments_post_created starts with `postId`)",
            ],
        ),
        # Relational queries: object and callback filters, sorts, and the relations loaded.
        (
            "db.query.posts.findMany({ where: { authorId: 1, createdAt: { gt: d } } })",
            [
                "- tables: `posts`",
                "- filters: `posts.authorId` ✓ index byAuthor, `posts.createdAt` ✗ no index "
                "leads with it (index byAuthor starts with `authorId`)",
            ],
        ),
        (
            "db.query.posts.findFirst({ where: (p, { eq }) => eq(p.id, id), "
            "with: { author: true, comments: { orderBy: (c, { desc }) => [desc(c.createdAt)] } } })",
            [
                "- tables: `posts`",
                "- filters: `posts.id` ✓ primary key",
                "- with `author`: `users.id` ✓ primary key",
                "- with `comments`: `comments.postId` ✓ index comments_post_created, "
                "`comments.createdAt` ✓ index comments_post_created",
            ],
        ),
        (
            "db.query.posts.findMany({ orderBy: [desc(posts.createdAt)], with: { likes: true } })",
            [
                "- tables: `posts`",
                "- filters: none",
                "- order by: `posts.createdAt` ✗ no index in this order",
                "- with `likes`: relation not found",
            ],
        ),
        # Raw SQL is not analysed; a table that cannot be found is unknown, never ✗.
        (
            "db.select().from(posts).where(and(eq(posts.authorId, a), sql`lower(title) = ${t}`))",
            [
                "- tables: `posts`",
                "- filters: `posts.authorId` ✓ index byAuthor",
                "- not analysed: `` sql`lower(title) = ${t}` ``",
            ],
        ),
        (
            "db.select().from(invoices).where(eq(invoices.customerId, c))",
            [
                "- tables: `invoices`",
                "- filters: `invoices.customerId` ? table `invoices` not found",
            ],
        ),
        # A query over a subquery reads it by its alias: still a query to explain.
        (
            'db.select({ n: count() }).from(grouped.as("g"))',
            ["- subqueries: `g`", "- filters: none"],
        ),
        (
            'db.select().from(posts).innerJoin(recent.as("r"), eq(posts.id, recent.id))',
            ["- tables: `posts`", "- subqueries: `r`", "- filters: `posts.id` ✓ primary key"],
        ),
    ],
)
def test_joins_relations_raw_sql_and_unknown_tables(query: str, expected: list[str]) -> None:
    assert _facts(query) == expected


@pytest.mark.parametrize(
    ("body", "loop"),
    [
        (
            "for (const p of ps) { await db.select().from(posts).where(eq(posts.id, p)); }",
            "`for…of` loop",
        ),
        (
            "while (next) { next = await db.query.posts.findFirst({ where: eq(posts.id, n) }); }",
            "`while` loop",
        ),
        (
            "await Promise.all(ids.map(async (i) => db.select().from(posts).where(eq(posts.id, i))));",
            "`.map(async …)` callback",
        ),
        (
            "ids.forEach(async (i) => { await db.delete(posts).where(eq(posts.id, i)); });",
            "`.forEach(async …)` callback",
        ),
        ("for (const p of await db.select().from(posts)) { log(p); }", None),
        ("const rows = await db.select().from(posts).where(inArray(posts.id, ids));", None),
        ("ids.map((i) => i + 1); await db.select().from(posts);", None),
    ],
)
def test_a_query_in_a_loop_is_n_plus_one(body: str, loop: str | None) -> None:
    lines = _facts(body)
    said = [line for line in lines if line.startswith("- N+1")]
    assert said == ([f"- N+1: runs once per iteration of a {loop}"] if loop else [])


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "users",
            "- foreign keys without an index: `orgId` → orgs.id "
            "(PostgreSQL does not index them by itself)",
        ),
        (
            "comments",
            "- foreign keys without an index: `authorId` → users.id "
            "(PostgreSQL does not index them by itself)",
        ),
        ("posts", None),
        ("tags", None),  # MySQL indexes foreign keys by itself; here the primary key leads anyway
    ],
)
def test_a_foreign_key_without_an_index_is_a_table_fact(table: str, expected: str | None) -> None:
    src = SourceFile(SCHEMA, "typescript")
    found = declarations(src)

    def find(name: str) -> Symbol | None:
        return Symbol(Path("/w/db.ts"), src, found[name]) if name in found else None

    facts = static_facts(src, SCHEMA.index(f"{table} = "), find, lambda p: p.name)
    assert facts is not None and facts.kind == "table"
    said = [line for line in facts.markdown.splitlines() if "foreign keys" in line]
    assert said == ([expected] if expected else [])


@pytest.mark.parametrize(
    "query",
    [
        "return tryCatch(db.query.posts.findFirst({ where: eq(posts.authorId, a) }));",
        "expect(await db.query.posts.findFirst({ where: eq(posts.authorId, a) })).toBeTruthy();",
        "sq = cte.as(db.select().from(posts).where(eq(posts.authorId, a)));",
    ],
)
def test_a_query_passed_to_a_call_hovers_as_the_query(query: str) -> None:
    assert _facts(query)[:2] == [
        "- tables: `posts`",
        "- filters: `posts.authorId` ✓ index byAuthor",
    ]


def test_a_table_cast_to_a_type_is_still_the_table() -> None:
    lines = _facts("return db.select().from(posts as PgTable).where(eq(posts.authorId, a));")
    assert lines[:2] == ["- tables: `posts`", "- filters: `posts.authorId` ✓ index byAuthor"]
