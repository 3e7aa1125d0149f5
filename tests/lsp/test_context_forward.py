"""What a code action sends the model when the code reaches far: a class too large for the
budget, names reached through namespace and default imports, long conventions files."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.helpers import FIXTURES
from tests.lsp.editor import Editor, server_config


@pytest_asyncio.fixture
async def editors(server_env: dict[str, str]) -> AsyncIterator[list[Editor]]:
    started: list[Editor] = []
    yield started
    for editor in started:
        await editor.shutdown()
        await editor.client.stop()


def _monorepo(tmp_path: Path, files: dict[str, str]) -> Path:
    repo = tmp_path / "acme"
    shutil.copytree(FIXTURES / "monorepo", repo)
    (repo / ".git").mkdir()
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return repo


async def _sent(
    editors: list[Editor],
    env: dict[str, str],
    fake_api: FakeAnthropic,
    repo: Path,
    file: str,
    needle: str,
    instruction: str = "x",
) -> str:
    """Everything the first model request of an action at ``needle`` carried, as text."""
    client = await server_config(env).start()
    editor = Editor(client, repo, "neovim")
    editors.append(editor)
    await editor.initialize()
    uri = editor.open(file)
    fake_api.enqueue(text_reply("Nothing to change."))
    await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="subagent-lsp.ask",
            arguments=[
                {
                    "uri": uri,
                    "range": editor.range_of(uri, needle, empty=True),
                    "instruction": instruction,
                }
            ],
        )
    )
    body: dict[str, Any] = fake_api.requests[0].body
    texts = [str(block.get("text", "")) for block in body["system"]]
    for message in body["messages"]:
        content = message["content"]
        blocks = content if isinstance(content, list) else [{"text": content}]
        texts += [str(block.get("text", "")) for block in blocks]
    return "\n".join(texts)


_ROUTE = "apps/api/src/routes/items.ts"


async def test_a_huge_class_is_sent_as_its_outline_and_the_rest_still_fits(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    methods = "".join(
        f"  async pipe{n}(id: number) {{\n"
        + "    const row = await this.load(id);\n" * 40
        + "    return row;\n  }\n"
        for n in range(120)
    )
    route = (FIXTURES / "monorepo" / _ROUTE).read_text(encoding="utf-8")
    route = 'import { Analytics } from "@/analytics.js";\n' + route.replace(
        "const limit =", "new Analytics();\n    const limit ="
    )
    repo = _monorepo(
        tmp_path,
        {"apps/api/src/analytics.ts": f"export class Analytics {{\n{methods}}}\n", _ROUTE: route},
    )
    sent = await _sent(editors, server_env, fake_api, repo, _ROUTE, "const limit")
    assert "### `Analytics` from `apps/api/src/analytics.ts` (signature only)" in sent
    assert "  async pipe0(id: number) { … }" in sent
    assert "const row = await this.load(id);" not in sent
    # Ranked below the class, yet in: the local schema and the project facts.
    assert "### `itemParams` from" in sent and "## Project" in sent


async def test_names_reached_through_namespace_and_default_imports_are_sent(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    fields = "".join(f"      f{n}: z.string().max(100),\n" for n in range(40))
    repo = _monorepo(
        tmp_path,
        {
            "packages/db/src/index.ts": 'export * as schema from "./schema.js";\n',
            "apps/api/src/guards.ts": "export async function requireUser() {}\n",
            "apps/api/src/schemas.ts": (
                "const itemSchemas = {\n  create: { body: z.object({ name: z.string() }) },\n"
                f"  list: {{\n    querystring: z.object({{\n{fields}    }}),\n  }},\n}};\n"
                "export default itemSchemas;\n"
            ),
            "apps/api/src/routes/more.ts": (
                'import { schema } from "@acme/db";\n'
                'import * as guards from "@/guards.js";\n'
                'import itemSchemas from "@/schemas.js";\n'
                'import { db } from "@/db.js";\n'
                "export async function moreRoutes(app: FastifyInstance) {\n"
                '  app.post("/items", { schema: itemSchemas.create, preHandler: guards.requireUser },'
                " async () => {\n"
                "    return db.insert(schema.items).values({ ownerId: 1, name: 'a' });\n"
                "  });\n}\n"
            ),
        },
    )
    sent = await _sent(
        editors, server_env, fake_api, repo, "apps/api/src/routes/more.ts", "return db"
    )
    assert "export const items = pgTable(" in sent
    assert 'export * as schema from "./schema.js";' in sent
    assert "export async function requireUser() {}" in sent
    assert "### `itemSchemas.create` from `apps/api/src/schemas.ts`" in sent
    assert "querystring" not in sent, "only the member used of a large object"


async def test_a_type_sends_the_schema_of_the_same_name_that_validates_it(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    repo = _monorepo(
        tmp_path,
        {
            "apps/api/src/inputs.ts": (
                "export const ListInput = z.object({ limit: z.number().int().default(50) });\n"
                "export type ListInput = z.infer<typeof ListInput>;\n"
            ),
            "apps/api/src/list.ts": (
                'import type { ListInput } from "@/inputs.js";\n'
                "export function list(input: ListInput) {\n  return input.limit;\n}\n"
            ),
        },
    )
    sent = await _sent(editors, server_env, fake_api, repo, "apps/api/src/list.ts", "return")
    assert "limit: z.number().int().default(50)" in sent
    assert "export type ListInput = z.infer<typeof ListInput>;" in sent


async def test_a_handler_typed_by_an_inferred_type_sends_the_schema_behind_it(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    repo = _monorepo(
        tmp_path,
        {
            "apps/api/src/query.ts": (
                "export const pageQuery = z.object({ page: z.string().optional() });\n"
                "export const listQuery = pageQuery.extend({ tag: z.string().optional() });\n"
                "export type ListQuery = z.infer<typeof listQuery>;\n"
            ),
            "apps/api/src/handler.ts": (
                'import type { ListQuery } from "@/query.js";\n'
                "type ListApi = { Querystring: ListQuery };\n"
                "export async function list(request: FastifyRequest<ListApi>) {\n"
                "  return request.query.tag;\n}\n"
            ),
        },
    )
    sent = await _sent(editors, server_env, fake_api, repo, "apps/api/src/handler.ts", "return")
    assert "export const listQuery = pageQuery.extend(" in sent
    assert "export const pageQuery = z.object(" in sent


async def test_a_selected_table_sends_its_migrations_from_a_config_named_by_a_script(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    config = (FIXTURES / "monorepo/packages/db/drizzle.config.ts").read_text(encoding="utf-8")
    repo = _monorepo(
        tmp_path,
        {
            "packages/db/infra/drizzle.config.ts": config,
            "packages/db/package.json": json.dumps(
                {
                    "name": "@acme/db",
                    "scripts": {
                        "db:generate": "drizzle-kit generate --config infra/drizzle.config.ts"
                    },
                }
            ),
        },
    )
    (repo / "packages/db/drizzle.config.ts").unlink()
    sent = await _sent(editors, server_env, fake_api, repo, "packages/db/src/schema.ts", "name:")
    assert "- drizzle-kit config: packages/db/infra/drizzle.config.ts" in sent
    assert 'CREATE TABLE IF NOT EXISTS "items" (\n"id" serial PRIMARY KEY NOT NULL,' in sent
    assert 'CREATE INDEX IF NOT EXISTS "items_owner_created" ON "items"' in sent
    assert "audit_log" not in sent


async def test_a_long_claude_md_is_cut_to_fit_with_the_sections_of_the_files_area(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    rules = (
        "# Acme\nThe API and its database.\n\n"
        + "".join(f"## Topic {n}\n" + f"Rule {n} of a long list.\n" * 30 for n in range(40))
        + "## Database commands\nGenerate a migration with `pnpm db:generate`, never by hand.\n"
    )
    repo = _monorepo(tmp_path, {"CLAUDE.md": rules})
    sent = await _sent(editors, server_env, fake_api, repo, "packages/db/src/schema.ts", "name:")
    assert "## From `CLAUDE.md` (cut to fit: " in sent
    assert "The API and its database." in sent
    assert "Generate a migration with `pnpm db:generate`, never by hand." in sent
    assert "Rule 39 of a long list." not in sent


async def test_a_long_claude_md_is_cut_to_the_sections_the_instruction_is_about(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    rules = (
        "# Acme\nThe API and its database.\n\n"
        + "".join(f"## Topic {n}\n" + f"Rule {n} of a long list.\n" * 30 for n in range(40))
        + "## Error handling\nThrow `NotFoundError` from services; routes map it to a 404.\n"
    )
    repo = _monorepo(tmp_path, {"CLAUDE.md": rules})
    sent = await _sent(
        editors, server_env, fake_api, repo, _ROUTE, "const rows", "Handle the errors here"
    )
    assert "Throw `NotFoundError` from services; routes map it to a 404." in sent
    assert "Rule 39 of a long list." not in sent


async def test_the_opening_of_a_called_packages_agents_md_reaches_the_agent(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    rules = (
        "# @acme/db\n\nCallers read through the repositories, never `db` directly.\n\n"
        "## Migrations\nGenerate them with `pnpm db:generate`.\n"
    )
    repo = _monorepo(tmp_path, {"packages/db/AGENTS.md": rules})
    sent = await _sent(editors, server_env, fake_api, repo, _ROUTE, "const rows")
    # The route names `items` from @acme/db: that package's rules for its callers come along.
    assert "## From `packages/db/AGENTS.md` (its opening: a package the code calls)" in sent
    assert "Callers read through the repositories, never `db` directly." in sent
    assert "Generate them with `pnpm db:generate`." not in sent
