"""What a use of a name is part of: registrations, procedures, router entries, queries,
validations and calls, with the guards that apply there."""

from __future__ import annotations

import pytest

from subagent_lsp.backend.queries import read_query
from subagent_lsp.backend.usage import use_site
from subagent_lsp.context.uses import occurrences
from subagent_lsp.syntax.source import SourceFile

CASES = [
    (
        'app.get("/items", { preHandler: [requireUser] }, listItems);',
        "listItems",
        "route",
        "GET /items",
        ("requireUser",),
    ),
    (
        'app.post("/items", { schema: { body: createItemBody } }, createItem);',
        "createItemBody",
        "validates",
        "the schema of POST /items",
        ("createItem",),
    ),
    (
        'await app.register(adminRoutes, { prefix: "/v1/admin" });',
        "adminRoutes",
        "plugin",
        "plugin",
        (),
    ),
    (
        "export async function routes(app: FastifyInstance) {\n"
        '  app.addHook("onRequest", verifySession);\n'
        '  app.get("/me", async (request) => {\n'
        "    return loadProfile(request.user.id);\n"
        "  });\n"
        "}\n",
        "loadProfile",
        "call",
        "in the handler of GET /me",
        ("verifySession",),
    ),
    (
        "export const r = router({\n  list: protectedProcedure.input(listInput).query(({ input }) => list(input)),\n});",
        "listInput",
        "validates",
        "tRPC procedure `list`",
        ("protectedProcedure",),
    ),
    (
        "export const r = router({\n  list: protectedProcedure.input(listInput).query(({ input }) => list(input)),\n});",
        "list",
        "call",
        "in the handler of tRPC procedure `list`",
        ("listInput", "protectedProcedure"),
    ),
    (
        "export const appRouter = router({ items: itemsRouter });",
        "itemsRouter",
        "router",
        "tRPC router entry `items`",
        (),
    ),
    (
        "const rows = await db.select().from(items).where(eq(items.ownerId, id));",
        "items",
        "query",
        "a query",
        (),
    ),
    (
        "const body = createItemBody.parse(request.body);",
        "createItemBody",
        "validates",
        "`createItemBody.parse(…)`",
        (),
    ),
    ("const total = computeTotal(order);", "computeTotal", "call", "a call", ()),
    ("const handlers = [listItems];", "listItems", "use", "a use", ()),
]


@pytest.mark.parametrize(("code", "name", "kind", "label", "guards"), CASES)
def test_a_use_is_read_as_what_it_is_part_of(
    code: str, name: str, kind: str, label: str, guards: tuple[str, ...]
) -> None:
    src = SourceFile(code, "typescript")
    (use, *_) = occurrences(src, name)
    site = use_site(src, use, name)
    assert (site.kind, site.label) == (kind, label)
    assert site.guards == guards


def test_a_query_says_which_columns_it_filters() -> None:
    src = SourceFile(
        "const rows = await db.select().from(items)"
        ".where(and(eq(items.ownerId, id), gt(items.createdAt, since)));",
        "typescript",
    )
    (use, *_) = occurrences(src, "items")
    assert use_site(src, use, "items").filters == ("ownerId", "createdAt")


def test_uses_in_imports_strings_and_comments_do_not_count() -> None:
    src = SourceFile(
        'import { items } from "./db";\n// items here\nconst s = "items";\nuse(items);\n',
        "typescript",
    )
    assert [src.line_of(src.node_span(n)[0]) for n in occurrences(src, "items")] == [3]


SHOWN = [
    (
        "async function check(input: Input) {\n"
        "  const existing = await findOverlap(input.from, input.to);\n"
        "  if (existing.length > 0) throw new Conflict();\n"
        "  return save(input);\n"
        "}\n",
        "findOverlap",
        (0, 4),
    ),
    (
        "const a = 1;\n"
        "app.ready(() => {\n"
        "  const existing = findOverlap(a);\n"
        "  if (existing) log(existing);\n"
        "  done();\n"
        "});\n",
        "findOverlap",
        (2, 3),
    ),
    (
        "run(() => {\n  const total = computeTotal(order);\n  log(order);\n});\n",
        "computeTotal",
        (1, 1),
    ),
]


@pytest.mark.parametrize(("code", "name", "lines"), SHOWN)
def test_a_call_is_shown_with_its_short_function_or_the_use_of_its_result(
    code: str, name: str, lines: tuple[int, int]
) -> None:
    src = SourceFile(code, "typescript")
    (use, *_) = occurrences(src, name)
    ((start, end),) = use_site(src, use, name).spans
    assert (src.line_of(start), src.line_of(end - 1)) == lines


HANDLER_CALLS = [
    (
        'app.post("/check", async (request) => {\n'
        "  const existing = await findOverlap(request.body);\n"
        "  if (existing) return { conflict: true };\n"
        "  return save(request.body);\n"
        "});\n",
        (1, 2),
    ),
    (
        "export const r = router({\n"
        "  check: publicProcedure.mutation(async ({ input }) => {\n"
        "    const existing = await findOverlap(input);\n"
        "    if (existing) throw new Error('overlap');\n"
        "    return save(input);\n"
        "  }),\n"
        "});\n",
        (2, 3),
    ),
]

QUERIES = [
    # A chain inside `Promise.all([...])` is still the chain.
    (
        "async function counts(ownerId: number) {\n"
        "  const [rows] = await Promise.all([\n"
        "    db.select().from(items).where(eq(items.ownerId, ownerId)).orderBy(items.createdAt),\n"
        "  ]);\n"
        "  return rows;\n"
        "}\n",
        ("ownerId",),
        ("createdAt",),
        (0, 5),
    ),
    # A filter given to a paginator's query builder: the function around the callback is shown.
    (
        "const findByOwner = async ({ pagination }: Deps, ownerId: number) => {\n"
        "  return pagination.paginate(CONFIG, {\n"
        "    queryBuilder: (qb) => qb.where(eq(items.ownerId, ownerId)),\n"
        "  });\n"
        "};\n",
        ("ownerId",),
        (),
        (0, 4),
    ),
    # Conditions kept in names first: read through them, and shown from where they start.
    (
        "export async function list(input: Input) {\n"
        "  const a = 1;\n"
        "  const b = 2;\n"
        "  const c = 3;\n"
        "  const d = 4;\n"
        "  const e = 5;\n"
        "  const f = 6;\n"
        "  const g = 7;\n"
        "  const h = 8;\n"
        "  const i = 9;\n"
        "  const j = 10;\n"
        "  const k = 11;\n"
        "  const l = 12;\n"
        "  const conditions: SQL[] = [eq(items.workspaceId, input.workspaceId)];\n"
        "  if (input.ownerId !== undefined) {\n"
        "    conditions.push(eq(items.ownerId, input.ownerId));\n"
        "  }\n"
        "  const where = and(...conditions);\n"
        "  const rows = await db\n"
        "    .select()\n"
        "    .from(items)\n"
        "    .where(where)\n"
        "    .orderBy(desc(items.startedAt));\n"
        "  return rows;\n"
        "}\n",
        ("workspaceId", "ownerId"),
        ("startedAt",),
        (13, 22),
    ),
]


@pytest.mark.parametrize(("code", "lines"), HANDLER_CALLS)
def test_a_call_in_a_handler_is_shown_with_how_its_result_is_used(
    code: str, lines: tuple[int, int]
) -> None:
    src = SourceFile(code, "typescript")
    (use, *_) = occurrences(src, "findOverlap")
    *_, (start, end) = use_site(src, use, "findOverlap").spans
    assert (src.line_of(start), src.line_of(end - 1)) == lines


def test_a_short_router_is_shown_whole_around_the_entry_that_mounts_it() -> None:
    entries = "".join(f"  e{n}: e{n}Router,\n" for n in range(20))
    short = "export const appRouter = router({\n  auth: authRouter,\n  post: postRouter,\n});\n"
    long = f"export const appRouter = router({{\n{entries}  post: postRouter,\n}});\n"
    for code, lines in ((short, (0, 3)), (long, (21, 21))):
        src = SourceFile(code, "typescript")
        (use, *_) = occurrences(src, "postRouter")
        ((start, end),) = use_site(src, use, "postRouter").spans
        assert (src.line_of(start), src.line_of(end - 1)) == lines


@pytest.mark.parametrize(("code", "filters", "order", "lines"), QUERIES)
def test_a_query_is_read_with_its_columns_and_shown_whole(
    code: str, filters: tuple[str, ...], order: tuple[str, ...], lines: tuple[int, int]
) -> None:
    src = SourceFile(code, "typescript")
    # The use in the query chain itself, or in the only filter there is.
    at = code.find("from(items)") + len("from(") if "from(items)" in code else code.find("items.")
    (use,) = [n for n in occurrences(src, "items") if src.node_span(n)[0] == at]
    site = use_site(src, use, "items")
    assert (site.kind, site.filters, site.order) == ("query", filters, order)
    ((start, end),) = site.spans
    assert (src.line_of(start), src.line_of(end - 1)) == lines


def test_a_schema_typing_a_functions_parameter_is_shown_with_the_function() -> None:
    src = SourceFile(
        "class Repo {\n"
        "  async update(id: string, input: z.infer<typeof updateSchema>) {\n"
        "    return db.update(items).set({ note: input.note }).where(eq(items.id, id));\n"
        "  }\n"
        "}\n",
        "typescript",
    )
    (use, *_) = occurrences(src, "updateSchema")
    site = use_site(src, use, "updateSchema")
    ((start, end),) = site.spans
    assert (site.kind, src.line_of(start), src.line_of(end - 1)) == ("use", 1, 3)


@pytest.mark.parametrize(
    ("code", "written"),
    [
        (
            "db.update(items).set({ title: t, ownerId }).where(eq(items.id, id))",
            ["title", "ownerId"],
        ),
        ("db.insert(items).values({ title: t })", ["title"]),
        ("db.select().from(items)", []),
    ],
)
def test_a_write_says_which_columns_it_writes(code: str, written: list[str]) -> None:
    src = SourceFile(f"{code};\n", "typescript")
    call = src.tree.root_node.named_children[0].named_children[0]
    query = read_query(call, src)
    assert query is not None and query.written == written
