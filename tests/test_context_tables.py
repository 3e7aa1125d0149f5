"""A table's context in a monorepo: the queries an engineer adding indexes reads (one of each
shape, the apps that query it each shown, key lookups last), found through barrels that bind a
namespace (`export * as schema`), and the client that loads the schema module whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from subagent_lsp.backend.targets import target_at
from subagent_lsp.context.related import selection_queries
from subagent_lsp.context.scan import scan
from subagent_lsp.overlay import DocumentSnapshot
from subagent_lsp.syntax.source import SourceFile
from tests.helpers import context_at, copy_fixture, workspace_index

TABLE = "packages/db/src/schema/tickets.ts"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_fixture(tmp_path, "tables-monorepo", "helpdesk")


@pytest.mark.parametrize(
    ("text", "namespaces", "whole"),
    [
        ('export * as schema from "./schema";\n', (("schema", "./schema"),), frozenset()),
        # Used as `schema.x` only: not whole.
        ('import * as schema from "./schema";\nuse(schema.tickets);\n', (), frozenset()),
        # Passed on as it is.
        (
            'import * as schema from "./schema";\nexport const db = drizzle(c, { schema });\n',
            (),
            frozenset({"schema"}),
        ),
        # A module specifier or a string that ends in the name does not use it.
        (
            'import * as schema from "./schema";\nimport { x } from "@acme/db/src/schema";\n'
            'const s = "schema";\n',
            (),
            frozenset(),
        ),
    ],
)
def test_scan_reads_namespace_exports_and_namespaces_used_whole(
    text: str, namespaces: tuple[tuple[str, str], ...], whole: frozenset[str]
) -> None:
    refs = scan(text, None)
    assert refs.exports.namespaces == namespaces
    assert refs.whole == whole


def test_a_table_is_used_through_a_barrels_namespace_and_by_the_client_loading_it(
    project: Path,
) -> None:
    _, refs = workspace_index(project)
    found = refs.uses(project / TABLE, "tickets", {})
    assert found is not None
    uses = {(use.path.relative_to(project).as_posix(), use.local) for use in found}
    # `import { schema } from "@acme/db"`, where the barrel says `export * as schema`.
    assert ("apps/worker/src/open.ts", "schema.tickets") in uses
    # `import * as schema` handed whole to `drizzle(…, { schema })`.
    assert ("packages/db/src/client.ts", "schema") in uses
    # An edit that stops using the namespace is read again.
    worker = project / "apps/worker/src/open.ts"
    documents = {worker: DocumentSnapshot('import { db, schema } from "@acme/db";\n', 2)}
    refs.changed([worker])
    again = refs.uses(project / TABLE, "tickets", documents) or []
    assert "apps/worker/src/open.ts" not in {u.path.relative_to(project).as_posix() for u in again}


def test_a_tables_queries_come_one_per_shape_and_app_before_key_lookups(project: Path) -> None:
    context = context_at(project, TABLE, "export const tickets")
    usages = [item for item, form in context.items if item.kind == "usage" and form == "full"]
    assert [item.path for item in usages] == [
        "packages/services/src/tickets/list.ts",  # built conditions, sorted
        "apps/worker/src/open.ts",  # another app, through `schema.tickets`
        "apps/api/src/routes/tickets.ts",  # a third
        "packages/services/src/tickets/mine.ts",  # a second of its package
        "packages/services/src/tickets/get.ts",  # by the primary key
        "packages/db/src/client.ts",  # the module loaded whole
    ]
    listed = usages[0]
    assert "filtering workspaceId, assigneeId, openedAt, sorting by openedAt" in listed.reason
    # Shown from where its conditions are built, through the `Promise.all` it runs in.
    assert "const conditions: SQL[]" in listed.text and ".orderBy(desc(" in listed.text
    assert "uses the module of `tickets` whole, as `schema`" in usages[-1].reason
    assert 'casing: "snake_case"' in usages[-1].text


def test_a_query_written_inline_is_sent_with_the_function_that_already_makes_it(
    project: Path,
) -> None:
    context = context_at(project, "apps/api/src/routes/tickets.ts", "return db")
    related = [item for item, _ in context.items if "also queries" in item.reason]
    # Named like the selection and exported; `getTicket` reads by the primary key, and
    # `ticketsOf` is named less like it.
    assert [(item.path, item.symbol) for item in related] == [
        ("packages/services/src/tickets/list.ts", "listTickets")
    ]
    assert "filtering assigneeId, openedAt, workspaceId" in related[0].reason
    assert "export async function listTickets" in related[0].text
    assert "return rows;" in related[0].text


def test_a_query_no_other_function_makes_has_nothing_related(project: Path) -> None:
    # Filtering workspace, assignee and date: no other function filters on all three.
    context = context_at(project, "packages/services/src/tickets/list.ts", "await Promise.all")
    assert any("also queries" in item.reason for item, _ in context.items) is False
    # It was looked for: the selection's query is read, with the conditions built before it.
    src = SourceFile((project / "packages/services/src/tickets/list.ts").read_text(), "typescript")
    at = src.text.index("await Promise.all")
    queried = selection_queries(src, target_at(src, at, at))
    assert queried == {"tickets": {"workspaceId", "assigneeId", "openedAt"}}


def test_a_schema_is_sent_with_the_table_columns_its_keys_write(project: Path) -> None:
    folder = project / "packages/services/src/tickets"
    (folder / "schemas.ts").write_text(
        'import { z } from "zod";\n\n'
        "export const updateTicketSchema = z.object({\n"
        "  id: z.number(),\n"
        "  title: z.string(),\n"
        "  assigneeId: z.number().nullable(),\n"
        "});\n",
        encoding="utf-8",
    )
    (folder / "update.ts").write_text(
        'import type { z } from "zod";\n'
        'import { db, eq } from "@acme/db";\n'
        'import { tickets } from "@acme/db/src/schema";\n'
        'import type { updateTicketSchema } from "./schemas";\n\n'
        "export async function updateTicket(input: z.infer<typeof updateTicketSchema>) {\n"
        "  await db\n"
        "    .update(tickets)\n"
        "    .set({ title: input.title, assigneeId: input.assigneeId })\n"
        "    .where(eq(tickets.id, input.id))\n"
        "    .run();\n"
        "}\n",
        encoding="utf-8",
    )
    context = context_at(project, "packages/services/src/tickets/schemas.ts", "title: z")
    (columns,) = [item for item, _ in context.items if "writes through an update" in item.reason]
    assert columns.path == TABLE and columns.symbol == "tickets"
    assert "`assigneeId`, `title`" in columns.reason
    # From the first column written to the last, as the table declares them.
    assert columns.text.splitlines()[0].endswith('title: text("title").notNull(),')
    assert columns.text.splitlines()[-1].endswith('assigneeId: integer("assignee_id"),')
    assert "closedAt" not in columns.text


def test_the_context_names_the_other_packages_the_selection_calls(project: Path) -> None:
    context = context_at(project, "apps/api/src/routes/tickets.ts", "return db")
    assert context.packages == (project / "packages/db",)
    # Within its own package, nothing is called from elsewhere.
    assert context_at(project, "packages/db/src/client.ts", "casing").packages == ()
