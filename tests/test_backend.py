"""Backend knowledge, rule by rule: a snippet in, the facts out."""

from __future__ import annotations

from pathlib import Path

import pytest
from tree_sitter import Node

from subagent_lsp.backend.code_facts import code_facts
from subagent_lsp.backend.drizzle import read_table, relation_lines, table_of
from subagent_lsp.backend.hover_facts import static_facts
from subagent_lsp.backend.queries import read_query
from subagent_lsp.backend.routes import route_call
from subagent_lsp.backend.targets import target_at
from subagent_lsp.backend.trpc import procedure_unit
from subagent_lsp.backend.validation import route_facts
from subagent_lsp.backend.zod import read_schema
from subagent_lsp.syntax import SourceFile, Symbol, declarations


def _src(code: str) -> SourceFile:
    return SourceFile(code, "typescript")


def _calls(src: SourceFile) -> list[Node]:
    """Every call expression, outermost first."""
    found: list[Node] = []
    stack = [src.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            found.append(node)
        stack.extend(reversed(node.named_children))
    return found


def _first_call(code: str) -> tuple[SourceFile, Node]:
    src = _src(code)
    return src, _calls(src)[0]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('app.get("/users/:id", handler)', ("route", "GET", "/users/:id")),
        ("app.post(`/users`, opts, handler)", ("route", "POST", "/users")),
        ("fastify.delete('/x', h)", ("route", "DELETE", "/x")),
        ('app.route({ method: "PUT", url: "/u", handler })', ("route", "PUT", "/u")),
        ('app.route({ method: ["GET"], url: "/u", handler })', ("route", "GET", "/u")),
        ("app.route({ handler })", ("route", "ROUTE", "?")),
        ('app.register(userRoutes, { prefix: "/users" })', ("plugin", "register", "userRoutes")),
        ("app.get(path, handler)", None),  # not a literal path: a map lookup, say
        ("list.find(x)", None),
        ('headers.get("x-trace-id")', None),
        ('searchParams.get("q")', None),
        ('formData.delete("file")', None),
        ('app.all("*", handler)', ("route", "ALL", "*")),
        ('get("/x", handler)', None),
    ],
)
def test_route_registrations(code: str, expected: tuple[str, str, str] | None) -> None:
    route = route_call(*_first_call(code))
    assert (None if route is None else (route.kind, route.method, route.url)) == expected


@pytest.mark.parametrize(
    ("code", "parts", "missing", "hooks", "handler"),
    [
        ('app.get("/u", async () => {})', (), (), (), "arrow_function"),
        (
            'app.post("/u/:id", { schema: { body: B, params: P } }, h)',
            ("body", "params"),
            (),
            (),
            "identifier",
        ),
        (
            'app.get("/u", { onRequest: [auth], preHandler: x, schema: { response } }, h)',
            ("response",),
            (),
            ("onRequest", "preHandler"),
            "identifier",
        ),
        (
            'app.route({ method: "PATCH", url: "/u", schema: { body }, '
            "handler: async (req) => req.query.x })",
            ("body",),
            ("querystring",),
            (),
            "arrow_function",
        ),
    ],
)
def test_route_shapes(
    code: str,
    parts: tuple[str, ...],
    missing: tuple[str, ...],
    hooks: tuple[str, ...],
    handler: str,
) -> None:
    src, call = _first_call(code)
    route = route_call(src, call)
    assert route is not None
    facts = route_facts(src, route, lambda name: None)
    assert (facts.schema_parts, facts.missing, facts.hooks) == (parts, missing, hooks)
    assert facts.handler is not None and facts.handler.node.type == handler


ROUTE = """\
app.get("/orders/:id", { schema: { params } }, async (request, reply) => {
  const { id } = params.parse(request.params);
  const rows = await db.select().from(orders).where(eq(orders.id, id));
  const recent = await db.with(latest).select().from(latest);
  if (!rows.length) return reply.code(404).send();
  try { audit(id); } catch { }
  return rows[0];
});
"""


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        (
            "app.get",
            dict(
                in_route=True, route_method="GET", route_path="/orders/:id", route_has_schema=True
            ),
        ),
        ("const rows", dict(in_route=True, has_db_query=True, uses_zod=False, has_await=True)),
        ("const { id }", dict(uses_zod=True, has_db_query=False)),
        # A query that starts with a common table expression is a query all the same.
        ("const recent", dict(has_db_query=True)),
        ("if (!rows", dict(sets_status=True, has_db_query=False)),
        ("audit(id)", dict(has_try_catch=True)),
    ],
)
def test_code_facts(needle: str, expected: dict[str, object]) -> None:
    src = _src(ROUTE)
    at = ROUTE.index(needle)
    facts = code_facts(src, target_at(src, at, at))
    assert {key: getattr(facts, key) for key in expected} == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("const r = t.router({ list: publicProcedure.query(() => 1) })", "list"),
        ("const r = router({ add: protectedProcedure.input(s).mutation(f) })", "add"),
        ("const r = { on: t.procedure.subscription(f) }", "on"),
        ("const x = db.query.users.findMany()", None),
        ("const x = api.list.query()", None),
    ],
)
def test_trpc_procedures(code: str, expected: str | None) -> None:
    src = _src(code)
    units = [procedure_unit(src, call) for call in _calls(src)]
    found = [unit for unit in units if unit is not None]
    assert (found[0][2] if found else None) == expected
    if found:
        assert found[0][1] == "procedure"


TABLES = """\
export const users = pgTable("users", {
  id: serial("id").primaryKey(),
  email: varchar("email", { length: 255 }).notNull().unique(),
  orgId: integer("org_id").references(() => orgs.id),
  createdAt: timestamp("created_at").defaultNow(),
}, (t) => [index("users_org_created").on(t.orgId, t.createdAt)]);

export const usersRelations = relations(users, ({ many, one }) => ({
  posts: many(posts),
  org: one(orgs),
}));

export const notATable = makeThing("x", {});
"""


def test_a_table_reads_columns_constraints_and_indexes() -> None:
    src = _src(TABLES)
    table = table_of(declarations(src)["users"], src)
    assert table is not None
    assert (table.variable, table.sql_name, table.builder) == ("users", "users", "pgTable")
    assert [(c.name, c.type, c.constraints, c.references) for c in table.columns] == [
        ("id", "serial", ["primary key"], None),
        ("email", "varchar(255)", ["not null", "unique"], None),
        ("orgId", "integer", [], "orgs.id"),
        ("createdAt", "timestamp", ["default now()"], None),
    ]
    assert [(i.name, i.columns, i.unique) for i in table.indexes] == [
        ("users_org_created", ["orgId", "createdAt"], False)
    ]
    assert [(i.label, i.columns) for i in table.all_indexes()] == [
        ("primary key", ["id"]),
        ("unique", ["email"]),
        ("index users_org_created", ["orgId", "createdAt"]),
    ]
    assert relation_lines(declarations(src), "users", src) == [
        "posts: many(posts)",
        "org: one(orgs)",
    ]
    assert table_of(declarations(src)["notATable"], src) is None


def test_a_table_needs_its_columns_object() -> None:
    src = _src('const t = pgTable("t");')
    call = _calls(src)[0]
    assert read_table("t", call, src) is None


@pytest.mark.parametrize(
    ("code", "operation", "tables", "filters", "order"),
    [
        (
            "db.select().from(posts).where(eq(posts.authorId, id)).orderBy(desc(posts.createdAt))",
            "select",
            ["posts"],
            [("posts", "authorId")],
            [("posts", "createdAt")],
        ),
        (
            "db.select().from(comments).innerJoin(posts, eq(comments.postId, posts.id))",
            "select",
            ["comments", "posts"],
            [],
            [],
        ),
        (
            "tx.update(users).set({ name }).where(and(eq(users.id, id), gt(users.age, 3)))",
            "update",
            ["users"],
            [("users", "id"), ("users", "age")],
            [],
        ),
        (
            "db.query.posts.findMany({ where: eq(posts.published, true), orderBy: posts.id })",
            "findMany",
            ["posts"],
            [("posts", "published")],
            [("posts", "id")],
        ),
        ("ordersDb.delete(orders)", "delete", ["orders"], [], []),
        (
            "this.db.query.notes.findFirst({ where: eq(notes.userId, id) })",
            "findFirst",
            ["notes"],
            [("notes", "userId")],
            [],
        ),
        # The handle at the end of a longer path, and the names transactions go by.
        (
            "this.ctx.db.delete(tags).where(eq(tags.id, id))",
            "delete",
            ["tags"],
            [("tags", "id")],
            [],
        ),
        (
            "c.var.ctx.db.query.assets.findFirst({ where: eq(assets.id, id) })",
            "findFirst",
            ["assets"],
            [("assets", "id")],
            [],
        ),
        ("txn.insert(assets).values(row)", "insert", ["assets"], [], []),
        ("dbInstance.query.links.findMany()", "findMany", ["links"], [], []),
        ("this.#db.select().from(users)", "select", ["users"], [], []),
        ("DONT_USE_db.query.rules.findFirst()", "findFirst", ["rules"], [], []),
        ("conn.delete(auditLog)", "delete", ["auditLog"], [], []),
    ],
)
def test_queries(
    code: str,
    operation: str,
    tables: list[str],
    filters: list[tuple[str, str]],
    order: list[tuple[str, str]],
) -> None:
    src, call = _first_call(code)
    query = read_query(call, src)
    assert query is not None
    assert (query.operation, query.tables, query.filters, query.order) == (
        operation,
        tables,
        filters,
        order,
    )


@pytest.mark.parametrize(
    "code",
    [
        "items.select().from(x)",
        "api.query.posts.findMany()",
        "this.feedback.select().from(x)",
        "debug.insert(x)",
    ],
)
def test_not_a_query(code: str) -> None:
    src, call = _first_call(code)
    assert read_query(call, src) is None


def test_conditions_collected_first_count_as_filters() -> None:
    code = """\
async function list(q: Q) {
  const filters = [];
  if (q.author) filters.push(eq(posts.authorId, q.author));
  return db.select().from(posts).where(and(...filters));
}
"""
    src = _src(code)
    call = next(
        c for c in _calls(src) if src.node_text(c).startswith("db.select().from(posts).where")
    )
    query = read_query(call, src)
    assert query is not None and ("posts", "authorId") in query.filters


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "z.object({ name: z.string().min(1), age: z.coerce.number().optional(), tags })",
            ["name: string (min)", "age: coerced number optional", "tags: schema `tags`"],
        ),
        (
            'z.object({ kind: z.enum(["a", "b"]) }).strict()',
            ['kind: enum(["a", "b"])', "unknown keys rejected"],
        ),
        ("base.extend({ id: z.string().uuid() })", ["built from `base`", "+ id: string (uuid)"]),
        ("base.pick({ id: true, name: true })", ["built from `base`", "pick: id, name"]),
        ("z.string()", ["string"]),
        ("makeSchema({ a: 1 })", None),
    ],
)
def test_zod_shapes(code: str, expected: list[str] | None) -> None:
    src, call = _first_call(code)
    assert read_schema(call, src) == expected


HOVERED = (
    TABLES
    + """
export async function list() {
  return db.select().from(users).where(eq(users.orgId, 1)).orderBy(users.email, users.createdAt);
}
"""
)


def _find(src: SourceFile, path: Path):  # type: ignore[no-untyped-def]
    return lambda name: (
        Symbol(path, src, declarations(src)[name]) if name in declarations(src) else None
    )


@pytest.mark.parametrize(
    ("needle", "kind", "lines"),
    [
        (
            "db.select",
            "query",
            [
                "**Drizzle query** · select",
                "- tables: `users`",
                "- filters: `users.orgId` ✓ index users_org_created",
                "- order by: `users.email` ✓ unique, `users.createdAt` ✗ no index in this order",
            ],
        ),
        ("users = pgTable", "table", None),
        ("notATable", None, None),
    ],
)
def test_hover_facts(needle: str, kind: str | None, lines: list[str] | None) -> None:
    path = Path("/w/src/db.ts")
    src = _src(HOVERED)
    facts = static_facts(src, HOVERED.index(needle), _find(src, path), lambda p: p.name)
    assert (facts.kind if facts else None) == kind
    if lines is not None:
        assert facts is not None and facts.markdown.splitlines() == lines


def test_a_schema_named_in_a_routes_options_hovers_as_the_schema() -> None:
    code = (
        "const createUserBody = z.object({ email: z.string().email() });\n"
        'app.post("/users", { schema: { body: createUserBody } }, async () => {});\n'
    )
    src = _src(code)
    at = code.index("createUserBody }")
    facts = static_facts(src, at, _find(src, Path("/w/a.ts")), lambda p: p.name)
    assert facts is not None and facts.kind == "schema"
    on_route = static_facts(
        src, code.index('"/users"'), _find(src, Path("/w/a.ts")), lambda p: p.name
    )
    assert on_route is not None and on_route.kind == "route"
