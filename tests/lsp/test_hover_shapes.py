"""Hover facts through the protocol on the shapes real projects write: tables whose columns are a
callback, Zod schemas that are not objects and drizzle-zod schemas, Fastify handlers written
elsewhere or as methods with hooks added for the whole plugin, and Hono routes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from lsprotocol import types

from tests.helpers import FIXTURES
from tests.lsp.editor import Editor, server_config

PROJECTS = ("callback-tables", "hono-api", "fastify-plugins")


@pytest_asyncio.fixture
async def editor(tmp_path: Path, server_env: dict[str, str]) -> AsyncIterator[Editor]:
    """An editor on a workspace holding the three fixture projects, hovers answering facts only."""
    root = tmp_path / "workspace"
    for name in PROJECTS:
        shutil.copytree(FIXTURES / name, root / name)
    client = await server_config(server_env).start()
    editor = Editor(client, root, "vscode")
    await editor.initialize({"hoverMode": "static"})
    try:
        yield editor
    finally:
        await editor.shutdown()
        await client.stop()


async def _hover(editor: Editor, uri: str, needle: str, delta: int = 0) -> str | None:
    rng = editor.range_of(uri, needle, empty=True)
    position = types.Position(line=rng.start.line, character=rng.start.character + delta)
    result = await editor.client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )
    if result is None:
        return None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def test_a_table_with_callback_columns_hovers_with_its_columns_and_indexes(
    editor: Editor,
) -> None:
    uri = editor.open("callback-tables/src/router/tickets.ts")
    text = await _hover(editor, uri, "from(ticket)", 5)
    assert text is not None
    assert text.startswith(
        '**ticket** · Drizzle `pgTable` table `"ticket"` · defined in '
        "`callback-tables/src/db/schema.ts:11`"
    )
    assert "| id | uuid | primary key, default random |" in text
    assert '| status | text | not null, default "open" |' in text
    assert "| teamId | uuid | not null, → team.id |" in text
    assert "- indexes: ticket_team_status_idx on teamId, status" in text


async def test_a_query_on_a_callback_table_is_judged_by_its_indexes(editor: Editor) -> None:
    uri = editor.open("callback-tables/src/router/tickets.ts")
    text = await _hover(editor, uri, "return db\n", 7)
    assert text == (
        "**Drizzle query** · select\n"
        "- tables: `ticket`\n"
        "- filters: `ticket.teamId` ✓ index ticket_team_status_idx, "
        "`ticket.status` ✓ index ticket_team_status_idx after `teamId`\n"
        "- order by: `ticket.closedAt` ✗ no index"
    )


async def test_schemas_other_than_objects_say_what_they_accept(editor: Editor) -> None:
    uri = editor.open("callback-tables/src/router/tickets.ts")
    text = await _hover(editor, uri, "NewTicket.parse", 2)
    assert text == (
        "**NewTicket** · Zod schema · defined in `callback-tables/src/db/schema.ts:19`\n"
        "- insert schema of table `ticket` (drizzle-zod)\n"
        "- required: teamId, title\n"
        "- optional: id, status, closedAt\n"
        "- refined title: string (min, max)\n"
        "- omit: id, closedAt"
    )
    text = await _hover(editor, uri, "TicketIds.parse", 2)
    assert text is not None
    assert text.endswith("- array of uuid (min, max)")
    schema = editor.open("callback-tables/src/db/schema.ts")
    text = await _hover(editor, schema, "TicketStatus =", 2)
    assert text is not None and text.endswith("- enum: open | pending | closed")
    text = await _hover(editor, schema, "TicketFilter =", 2)
    assert text is not None and text.endswith("- union on `by` of object, object")


async def test_a_hono_route_shows_its_middleware_and_validators(editor: Editor) -> None:
    uri = editor.open("hono-api/src/routes/notes.ts")
    text = await _hover(editor, uri, '.post("/"', 2)
    assert text == (
        "**POST /** · Hono route\n"
        # Mounted at `/notes` on the app made with `basePath("/api")`.
        "- served at: `POST /api/notes` (with the prefixes it is mounted under)\n"
        "- validation: body ✓ (`json` validator `NoteBody`)\n"
        '- runs first: `requireSession` (`.use`, line 26), `requireScope("notes:write")`\n'
        "- handler: inline async function, lines 33–36"
    )
    text = await _hover(editor, uri, '.patch("/:id"', 2)
    assert text == (
        "**PATCH /:id** · Hono route\n"
        "- served at: `PATCH /api/notes/:id` (with the prefixes it is mounted under)\n"
        "- validation: no validator; missing: body, params\n"
        "- runs first: `requireSession` (`.use`, line 26)\n"
        "- handler: inline async function, lines 40–43"
    )
    text = await _hover(editor, uri, '.get("/:id"', 2)
    assert text is not None
    assert (
        "- validation: params ✓ (`param` validator `z.object({ id: z.string().uuid() })`)" in text
    )
    assert "- handler: `showNote` (line 19)" in text
    index = editor.open("hono-api/src/index.ts")
    text = await _hover(editor, index, 'app.get("/health"', 4)
    assert text is not None
    assert text.startswith("**GET /api/health** · Hono route\n")
    assert "- runs first: `logger()` (`.use`, line 8)" in text


async def test_fastify_routes_follow_their_handlers_and_the_plugins_hooks(editor: Editor) -> None:
    uri = editor.open("fastify-plugins/src/routes/invoices.ts")
    text = await _hover(editor, uri, 'app.get("/invoices"', 4)
    assert text == (
        "**GET /invoices** · Fastify route\n"
        "- validation: no schema; missing: querystring\n"
        "- response schema: none\n"
        "- hooks: onRequest (plugin-wide, line 13)\n"
        "- runs first: `app.authenticate` (onRequest hook of the plugin, line 13)\n"
        "- handler: `listInvoices` (fastify-plugins/src/handlers/invoices.ts:3)"
    )
    text = await _hover(editor, uri, 'app.post("/invoices"', 4)
    assert text is not None
    assert "- validation: body ✓ (handler parses `CreateInvoice`)\n" in text
    assert text.endswith("- handler: inline async method, lines 19–23")
    text = await _hover(editor, uri, 'method: "DELETE"', 0)
    assert text is not None
    assert "- validation: no schema; missing: params\n" in text
    assert text.endswith(
        "- handler: `invoiceHandlers.voidInvoice` (fastify-plugins/src/handlers/invoices.ts:12)"
    )
    text = await _hover(editor, uri, 'method: "PATCH"', 0)
    assert text is not None
    assert "- validation: no schema; missing: body, params\n" in text
    assert text.endswith("- handler: inline async function, lines 35–37")
