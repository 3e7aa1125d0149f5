"""The workspace reference index and the context that reaches back from a selection: who uses a
declaration (through barrels, defaults, namespaces), registrations with their guards, queries on
a table, validations, augmentations, siblings, namesakes, and the `references` tool."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.context.items import Context
from subagent_lsp.context.registrations import registered_route
from subagent_lsp.context.scan import Binding, scan
from subagent_lsp.context.symbols import Lookup
from subagent_lsp.exclusions import Exclusions
from subagent_lsp.overlay import DocumentSnapshot
from subagent_lsp.search import references
from tests.helpers import context_at, copy_fixture, workspace_index


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path, "refs-project", "api")


@pytest.mark.parametrize(
    ("text", "bindings", "declared", "default", "reexports"),
    [
        (
            'import Fastify, { type FastifyInstance as App, x } from "fastify";\n',
            [("Fastify", "default"), ("App", "FastifyInstance"), ("x", "x")],
            set(),
            None,
            [],
        ),
        (
            'import * as schema from "./db/index.js";\nexport const a = 1;\n',
            [("schema", "*")],
            {"a"},
            None,
            [],
        ),
        (
            'export * from "./schema.js";\nexport { db as database } from "./client.js";\n',
            [],
            set(),
            None,
            [("./schema.js", None), ("./client.js", {"database": "db"})],
        ),
        (
            "export default async function itemRoutes(app) {}\nexport type Id = string;\n",
            [],
            {"itemRoutes", "Id"},
            "itemRoutes",
            [],
        ),
        (
            "const plugin = async () => {};\nexport { plugin as routes };\nexport default plugin;\n",
            [],
            {"plugin"},
            "plugin",
            [],
        ),
        (
            "export const { useApi, Provider: ApiProvider, retries = 3 } = makeClient();\n",
            [],
            {"useApi", "ApiProvider", "retries"},
            None,
            [],
        ),
        (
            "export default fp(async (app) => {});\n",
            [],
            set(),
            "",
            [],
        ),
        (
            # Inside a function: no top-level import or export.
            'function f() {\n  const x = 1; export const y = 2;\n}\n  import z from "z";\n',
            [],
            set(),
            None,
            [],
        ),
    ],
)
def test_scan_reads_top_level_imports_and_exports(
    text: str,
    bindings: list[tuple[str, str]],
    declared: set[str],
    default: str | None,
    reexports: list[tuple[str, dict[str, str] | None]],
) -> None:
    refs = scan(text, None)
    assert [(b.local, b.imported) for b in refs.bindings] == bindings
    assert set(refs.exports.declared) == declared
    assert refs.exports.default == default
    assert list(refs.exports.reexports) == reexports


def test_scan_tells_augmentations() -> None:
    assert scan('import "fastify";\ndeclare module "fastify" {}\n', None).augments
    assert scan("export {};\ndeclare global {\n}\n", None).augments
    assert not scan('const s = "declare module";\n', None).augments
    assert scan('import { a } from "./a";\n', None).bindings == (Binding("a", "a", "./a"),)


@pytest.mark.parametrize(
    ("declared_in", "name", "users"),
    [
        # Through the `../db` barrel's `export *`; a namespace import counts as `ns.name`.
        (
            "src/db/schema.ts",
            "items",
            {
                ("src/routes/items.ts", "items"),
                ("src/routes/admin.ts", "items"),
                ("src/services/items.ts", "items"),
                ("src/services/reports.ts", "schema.items"),
            },
        ),
        # Through the barrel's `export { db } from`.
        (
            "src/db/client.ts",
            "db",
            {
                ("src/routes/items.ts", "db"),
                ("src/routes/admin.ts", "db"),
                ("src/services/items.ts", "db"),
                ("src/services/reports.ts", "db"),
            },
        ),
        # `src/generated/` is ignored by git: its import of `listItems` does not count.
        ("src/routes/items.ts", "listItems", {("src/server.ts", "listItems")}),
        # Two declarations named `Order`: each has its own users.
        ("src/types/api.ts", "Order", {("src/routes/orders.ts", "Order")}),
        ("src/db/schema.ts", "Order", set()),
        ("src/trpc/items.ts", "itemsRouter", {("src/trpc/app.ts", "itemsRouter")}),
    ],
)
def test_the_index_knows_who_uses_a_declaration(
    project: Path, declared_in: str, name: str, users: set[tuple[str, str]]
) -> None:
    _, refs = workspace_index(project)
    found = refs.uses(project / declared_in, name, {})
    assert found is not None
    assert {(use.path.relative_to(project).as_posix(), use.local) for use in found} == users


def test_the_index_answers_nothing_before_it_is_built(project: Path) -> None:
    _, refs = workspace_index(project, build=False)
    assert refs.uses(project / "src/routes/items.ts", "listItems", {}) is None
    assert refs.augmenting_files({}) is None


def test_the_index_follows_edits_creations_and_deletions(project: Path) -> None:
    _, refs = workspace_index(project)
    items = project / "src/routes/items.ts"
    users = project / "src/routes/users.ts"
    # An unsaved edit in the editor: the open document's text counts.
    edited = 'import { listItems } from "./items.js";\nexport const again = listItems;\n'
    documents = {users: DocumentSnapshot(edited, 3)}
    refs.changed([users])
    found = refs.uses(items, "listItems", documents) or []
    assert {use.path for use in found} == {project / "src/server.ts", users}
    # A file created on disk, then deleted.
    created = project / "src/jobs.ts"
    created.write_text('import { listItems } from "./routes/items.js";\nlistItems;\n')
    refs.changed([created])
    assert created in {use.path for use in refs.uses(items, "listItems", documents) or []}
    created.unlink()
    refs.changed([created])
    assert created not in {use.path for use in refs.uses(items, "listItems", documents) or []}
    # An import of a module that does not exist yet leads somewhere once it is created.
    early = project / "src/early.ts"
    early.write_text('import { later } from "./later.js";\nlater();\n')
    refs.changed([early])
    later = project / "src/later.ts"
    assert refs.uses(later, "later", documents) == []
    later.write_text("export function later() {}\n")
    refs.changed([later])
    assert [use.path for use in refs.uses(later, "later", documents) or []] == [early]


def _items(context: Context) -> dict[str, tuple[str, str, str]]:
    """symbol -> (kind, path, reason) of the items included in full."""
    return {
        str(item.symbol): (item.kind, item.path, item.reason)
        for item, form in context.items
        if form == "full"
    }


def test_a_handler_gets_its_registration_with_the_guard_and_the_guards_definition(
    project: Path,
) -> None:
    context = context_at(project, "src/routes/items.ts", "const ownerId")
    items = _items(context)
    kind, path, reason = items["GET /items"]
    assert (kind, path) == ("usage", "src/server.ts")
    assert reason.startswith("registers `listItems` in the route GET /items")
    text = context.render()
    assert 'app.get("/items", { preHandler: [requireUser] }, listItems);' in text
    assert items["requireUser"][:2] == ("definition", "src/auth/guards.ts")
    # Never the whole file: the other registrations of server.ts stay out.
    assert 'app.register(adminRoutes, { prefix: "/v1/admin" })' not in text
    # `request.user` is typed by the project's augmentation of fastify.
    assert items["FastifyRequest"][0] == "augmentation"
    assert "user: { id: number; role:" in text
    # One sibling of the same shape.
    assert items["listUsers"][:2] == ("sibling", "src/routes/users.ts")


@pytest.mark.parametrize(
    ("relative", "needle", "symbol", "reason", "shown"),
    [
        (
            "src/routes/admin.ts",
            "const { id }",
            "plugin",
            "registers `adminRoutes` as a plugin",
            'app.register(adminRoutes, { prefix: "/v1/admin" });',
        ),
        (
            "src/routes/admin.ts",
            "const { id }",
            "hooks",
            "the hooks of the plugin that run before DELETE /items/:id",
            'app.addHook("onRequest", app.authenticate);',
        ),
        (
            "src/routes/admin.ts",
            "const { id }",
            "FastifyInstance",
            "`authenticate` is declared by the module 'fastify' augmentation",
            "authenticate: (request: FastifyRequest) => Promise<void>;",
        ),
        (
            "src/services/items.ts",
            "return db",
            "in the handler of tRPC procedure `list`",
            "calls `listItemsFor` in the handler of tRPC procedure `list` (src/trpc/items.ts:8)",
            "list: protectedProcedure",
        ),
        (
            "src/services/items.ts",
            "return db",
            "protectedProcedure",
            "`protectedProcedure` is named where `listItemsFor` is used",
            "export const protectedProcedure = t.procedure.use(isAuthed);",
        ),
        (
            "src/trpc/items.ts",
            "list: protectedProcedure",
            "tRPC router entry `items`",
            "mounts `itemsRouter` as the tRPC router entry `items`",
            "items: itemsRouter,",
        ),
        (
            "src/schemas/item.ts",
            "export const createItemBody",
            "the schema of POST /items",
            "validates with `createItemBody`",
            "schema: { body: createItemBody }",
        ),
    ],
)
def test_backward_items_say_why_they_are_there(
    project: Path, relative: str, needle: str, symbol: str, reason: str, shown: str
) -> None:
    context = context_at(project, relative, needle)
    items = _items(context)
    assert symbol in items, sorted(items)
    assert reason in items[symbol][2]
    assert shown in context.render()


def test_a_tables_queries_on_the_selected_columns_come_first(project: Path) -> None:
    context = context_at(project, "src/db/schema.ts", 'ownerId: integer("owner_id")')
    queries = [item for item, _ in context.items if item.kind == "usage"]
    reasons = [item.reason for item in queries]
    assert len(queries) == 5
    assert all("the selection's columns" in r for r in reasons[:2])
    assert "filtering ownerId" in reasons[0] and "filtering ownerId" in reasons[1]
    assert "filtering title" in reasons[2] and "src/services/reports.ts" in reasons[2]
    # By the primary key, or filtering nothing (an insert): no index to learn from them.
    assert "filtering id" in reasons[3] and "filtering" not in reasons[4]


def test_the_namesake_the_selection_imports_is_the_one_included(project: Path) -> None:
    context = context_at(project, "src/routes/orders.ts", "return `")
    definitions = [(i.symbol, i.path) for i, f in context.items if i.kind == "definition"]
    assert definitions == [("Order", "src/types/api.ts")]
    assert 'pgTable("orders"' not in context.render()
    # And the table's uses are not the API type's.
    table = context_at(project, "src/db/schema.ts", 'export const Order = pgTable("orders"')
    assert not [i for i, _ in table.items if i.kind == "usage"]


def test_until_the_index_is_built_the_context_says_what_it_left_out(project: Path) -> None:
    index, refs = workspace_index(project, build=False)
    context = context_at(project, "src/routes/items.ts", "const ownerId", refs=refs, index=index)
    assert not [item for item, _ in context.items if item.kind in ("usage", "augmentation")]
    (note,) = context.notes
    assert "still being built" in note and "`listItems`" in note
    assert "## Not included yet" in context.render()
    assert context.to_json()["notes"] == [note]


def test_the_budget_holds_and_keeps_the_registration_over_the_sibling(project: Path) -> None:
    full = context_at(project, "src/routes/items.ts", "const ownerId")
    budget = full.used_tokens - 40
    context = context_at(project, "src/routes/items.ts", "const ownerId", budget=budget)
    assert context.used_tokens <= budget
    forms = {str(item.symbol): form for item, form in context.items}
    assert forms["GET /items"] == "full"
    assert forms["listUsers"] == "omitted"


def test_the_references_tool_lists_use_lines_under_each_namesake(project: Path) -> None:
    index, refs = workspace_index(project)
    lookup = Lookup(index, {}, Exclusions((project,)))
    answer = references(refs, lookup, (project,), "Order", None)
    assert not answer.is_error
    lines = answer.content.splitlines()
    assert "`Order` declared in src/db/schema.ts:14" in lines
    assert "`Order` declared in src/types/api.ts:2" in lines
    assert "src/routes/orders.ts:3: export function summarize(order: Order): string {" in lines
    one = references(refs, lookup, (project,), "listItems", project / "src/server.ts")
    assert one.content.splitlines() == [
        "`listItems` declared in src/routes/items.ts:5",
        'src/server.ts:9: app.get("/items", { preHandler: [requireUser] }, listItems);',
    ]
    waiting = references(
        workspace_index(project, build=False)[1], lookup, (project,), "Order", None
    )
    assert waiting.is_error and "still being built" in waiting.content


@pytest.mark.parametrize(
    ("relative", "name", "extra", "expected"),
    [
        # Registered in another file, behind a guard, with a body schema.
        ("src/routes/items.ts", "createItem", None, ("POST", "/items", True, ())),
        ("src/routes/items.ts", "listItems", None, ("GET", "/items", False, ())),
        # Registered in its own file, by name, with nothing validating the body it reads.
        (
            "src/routes/local.ts",
            "rename",
            'import type { FastifyInstance, FastifyRequest } from "fastify";\n'
            "export async function rename(request: FastifyRequest) {\n"
            "  const { name } = request.body as { name: string };\n  return { name };\n}\n"
            "export async function localRoutes(app: FastifyInstance) {\n"
            '  app.route({ method: "PATCH", url: "/names", handler: rename });\n}\n',
            ("PATCH", "/names", False, ("body",)),
        ),
        # Used, but not as a handler: a call inside another handler is no registration.
        ("src/services/items.ts", "listItemsFor", None, None),
        # A plugin registered by name is no route.
        ("src/routes/admin.ts", "adminRoutes", None, None),
    ],
)
def test_where_a_function_is_registered_as_a_route(
    project: Path,
    relative: str,
    name: str,
    extra: str | None,
    expected: tuple[str, str, bool, tuple[str, ...]] | None,
) -> None:
    if extra is not None:
        (project / relative).write_text(extra, encoding="utf-8")
    index, refs = workspace_index(project)
    path = project / relative
    src = index.source(path, {})
    assert src is not None
    lookup = Lookup(index, {}, Exclusions((project,)))
    found = registered_route(path, src, name, lookup, refs, {})
    got = None if found is None else (found.method, found.path, found.has_schema, found.unvalidated)
    assert got == expected
