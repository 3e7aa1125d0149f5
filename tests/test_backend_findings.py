"""Findings: the facts a diagnostic is published from, with their kind, range and message."""

from __future__ import annotations

from pathlib import Path

from subagent_lsp.backend.findings import findings
from subagent_lsp.syntax import SourceFile, Symbol, declarations

CODE = """\
export const posts = pgTable("posts", {
  id: serial("id").primaryKey(),
  authorId: integer("author_id").references(() => users.id),
  status: text("status"),
}, (t) => [index("by_author").on(t.authorId, t.status)]);

export const comments = sqliteTable("comments", {
  id: integer("id").primaryKey(),
  postId: integer("post_id").references(() => posts.id),
});

export async function routes(app) {
  app.post("/posts", async (request) => save(request.body));
  app.get("/posts", { schema: { querystring: Q } }, async (request) => {
    const rows = await db.select().from(posts).where(eq(posts.status, request.query.s));
    for (const row of rows) {
      await db.select().from(comments).where(eq(comments.postId, row.id));
    }
    await db.select().from(posts).where(and(eq(posts.authorId, a), sql`x`, eq(other.x, 1)));
    return db.select().from(invoices).where(eq(invoices.id, 1));
  });
}
"""


def test_findings_name_what_is_certain_and_where() -> None:
    src = SourceFile(CODE, "typescript")

    def find(name: str) -> Symbol | None:
        found = declarations(src)
        return Symbol(Path("/w/a.ts"), src, found[name]) if name in found else None

    found = [
        (f.kind, CODE[f.start : f.end].split("\n")[0][:40], f.message) for f in findings(src, find)
    ]
    assert found == [
        ("unvalidated-input", "app.post", "POST /posts reads body that nothing validates"),
        (
            "unindexed-column",
            "db.select().from(posts).where(eq(posts.s",
            "Filter on `posts.status`: no index leads with it (index by_author starts with "
            "`authorId`)",
        ),
        (
            "unindexed-column",
            "db.select().from(comments).where(eq(comm",
            "Filter on `comments.postId`: no index",
        ),
        (
            "query-in-loop",
            "db.select().from(comments).where(eq(comm",
            "Query runs once per iteration of a `for…of` loop (N+1)",
        ),
        (
            "unindexed-fk",
            'export const comments = sqliteTable("com',
            "Foreign key `comments.postId` → posts.id has no index; deletes on the parent and "
            "joins scan this table",
        ),
    ]
