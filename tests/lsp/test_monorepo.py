"""Monorepos as users have them: agents kept at the repository root while the editor opens a
package, project facts from the nearest package, several workspace folders with their own agents
and settings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.helpers import FIXTURES
from tests.lsp.editor import Editor, client_uri, server_config


def _monorepo(tmp_path: Path, *, git: bool) -> Path:
    repo = tmp_path / "acme"
    shutil.copytree(FIXTURES / "monorepo", repo)
    if git:
        (repo / ".git").mkdir()
    return repo


@pytest_asyncio.fixture
async def editors(server_env: dict[str, str]) -> AsyncIterator[list[Editor]]:
    started: list[Editor] = []
    yield started
    for editor in started:
        await editor.shutdown()
        await editor.client.stop()


async def _start(editors: list[Editor], env: dict[str, str], root: Path, *more: Path) -> Editor:
    client = await server_config(env).start()
    editor = Editor(client, root, "neovim")
    editors.append(editor)
    await editor.initialize(more_folders=more)
    return editor


async def _status(editor: Editor) -> dict[str, object]:
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="subagent-lsp.status", arguments=[])
    )
    assert isinstance(result, dict)
    return result


async def _titles(editor: Editor, uri: str, needle: str) -> list[str]:
    actions = await editor.code_actions(uri, editor.range_of(uri, needle, empty=True))
    return [action.title for action in actions]


async def _agents(editor: Editor, uri: str, needle: str) -> set[str]:
    """The agents the menu at ``needle`` would run."""
    actions = await editor.code_actions(uri, editor.range_of(uri, needle, empty=True))
    return {action.command.arguments[0]["agent"] for action in actions if action.command}


async def test_a_package_opened_alone_gets_the_agents_of_its_repository(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor]
) -> None:
    repo = _monorepo(tmp_path, git=True)
    editor = await _start(editors, server_env, repo / "apps" / "api")
    uri = editor.open("src/routes/items.ts")

    titles = await _titles(editor, uri, "const limit")
    status = await _status(editor)

    assert titles and all("backend-engineer" not in title for title in titles)
    assert "Review with api-reviewer" in titles  # its tools are read-only: it reviews
    assert status["agentFiles"] == [str(repo.resolve() / ".claude/agents/api-reviewer.md")]
    assert str(repo.resolve() / ".claude/agents") in status["agentFolders"]  # type: ignore[operator]


async def test_outside_a_repository_only_the_folder_itself_is_searched(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor]
) -> None:
    repo = _monorepo(tmp_path, git=False)
    editor = await _start(editors, server_env, repo / "apps" / "api")
    uri = editor.open("src/routes/items.ts")

    assert await _agents(editor, uri, "const limit") == {"backend-engineer"}


async def test_each_workspace_folder_keeps_its_own_agents(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor]
) -> None:
    repo = _monorepo(tmp_path, git=False)
    api, db = repo / "apps" / "api", repo / "packages" / "db"
    for folder, name in ((api, "alpha"), (db, "beta")):
        agents = folder / ".claude" / "agents"
        agents.mkdir(parents=True)
        (agents / f"{name}.md").write_text(
            f"---\nname: {name}\ndescription: The {name} agent.\n---\nYou are {name}.\n",
            encoding="utf-8",
        )
    editor = await _start(editors, server_env, api, db)
    in_api = editor.open("src/routes/items.ts")
    schema = db / "src" / "schema.ts"
    in_db = editor.open(
        str(schema.relative_to(api, walk_up=True))
        if sys.version_info >= (3, 12)
        else "../../packages/db/src/schema.ts"
    )

    assert await _agents(editor, in_api, "const limit") == {"alpha"}
    assert await _agents(editor, in_db, "ownerId: integer") == {"beta"}
    listed = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="subagent-lsp.listAgents", arguments=[])
    )
    assert sorted(agent["name"] for agent in listed) == ["alpha", "beta"]


async def test_a_route_hover_answers_in_a_nested_package(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor]
) -> None:
    repo = _monorepo(tmp_path, git=True)
    editor = await _start(editors, server_env, repo)
    uri = editor.open("apps/api/src/routes/items.ts")
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=editor.range_of(uri, 'app.get("/items', empty=True).start,
        )
    )
    assert hover is not None and "**GET /items/:id** · Fastify route" in str(hover.contents)


def _context(repo: Path, file: Path, line: int) -> dict[str, Any]:
    """What `subagent-lsp context FILE:LINE --json` prints, with the repository as the root."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "subagent_lsp",
            "context",
            f"{file}:{line}",
            "--json",
            "--root",
            str(repo),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_context_reads_the_facts_of_the_package_the_file_belongs_to(tmp_path: Path) -> None:
    repo = _monorepo(tmp_path, git=True)
    route = repo / "apps" / "api" / "src" / "routes" / "items.ts"
    context = _context(repo, route, 10)
    text = context["text"]
    assert "- fastify ^5.1.0" in text and "- zod ^3.23.8" in text
    assert 'package.json "type": "module"' in text
    # tsconfig's own settings and those it extends, comments and trailing commas included.
    assert "module: NodeNext" in text and "strict: True" in text
    assert "paths: @/* -> src/*" in text
    reasons = [item["reason"] for item in context["items"]]
    assert "`parseLimit` is imported from '@/routes/limits.js'" in reasons


def test_workspace_packages_resolve_to_their_source(tmp_path: Path) -> None:
    from subagent_lsp.context.modules import ModuleResolver

    repo = _monorepo(tmp_path, git=True).resolve()
    resolver = ModuleResolver([repo])
    route = repo / "apps/api/src/routes/items.ts"
    schema = repo / "packages/db/src/schema.ts"
    # `types`/`exports` name build output; the agent reads the source behind it.
    assert resolver.resolve(route, "@acme/db") == repo / "packages/db/src/index.ts"
    assert resolver.resolve(route, "@acme/db/schema") == schema  # an `exports` subpath
    assert resolver.resolve(route, "@acme/db/src/schema") == schema  # a deep import
    assert resolver.resolve(route, "@acme/unknown") is None
    assert resolver.resolve(route, "fastify") is None


def test_context_follows_workspace_packages_and_pnpm_catalogs(tmp_path: Path) -> None:
    repo = _monorepo(tmp_path, git=True)
    route = repo / "apps" / "api" / "src" / "routes" / "items.ts"
    context = _context(repo, route, 14)
    reasons = {item["symbol"]: item["reason"] for item in context["items"]}
    assert (
        reasons["items"] == "`items` is imported from '@acme/db' through `packages/db/src/index.ts`"
    )
    assert "export const items = pgTable(" in context["text"]
    assert "- drizzle-orm ^0.36.4 (pnpm catalog)" in context["text"]
    assert "workspace package @acme/db (packages/db)" in context["text"]
    assert "Drizzle dialect postgresql (drizzle.config.ts)" in context["text"]
    # The database project: what migrations already index on the tables in play, and no other.
    text = context["text"]
    assert "- drizzle-kit config: packages/db/drizzle.config.ts" in text
    assert 'CREATE INDEX IF NOT EXISTS "items_owner_created" ON "items"' in text
    assert "audit_log" not in text
    assert "- script `db:migrate`: drizzle-kit migrate" in text and "`build`" not in text


async def test_a_table_from_a_workspace_package_has_its_hover(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor]
) -> None:
    repo = _monorepo(tmp_path, git=True)
    editor = await _start(editors, {**server_env}, repo)
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"subagentLsp": {"hoverMode": "static"}})
    )
    uri = editor.open("apps/api/src/routes/items.ts")
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=editor.range_of(uri, "items.ownerId", empty=True).start,
        )
    )
    assert hover is not None
    assert "**items** · Drizzle `pgTable` table" in str(hover.contents)
    assert "packages/db/src/schema.ts" in str(hover.contents)


async def test_the_teams_conventions_reach_the_agent(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor], fake_api: FakeAnthropic
) -> None:
    repo = _monorepo(tmp_path, git=True)
    (repo / "CLAUDE.md").write_text("Every route validates its input with Zod.\n", encoding="utf-8")
    (repo / "apps/api/AGENTS.md").write_text("Return 404 with { error }.\n", encoding="utf-8")
    editor = await _start(editors, server_env, repo)
    uri = editor.open("apps/api/src/routes/items.ts")
    fake_api.enqueue(
        tool_reply([{"command": "view", "path": "apps/api/src/routes/items.ts"}]),
        text_reply("Nothing to change."),
    )
    rng = editor.range_of(uri, "const limit", empty=True)
    await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="subagent-lsp.ask",
            arguments=[{"uri": uri, "range": rng, "instruction": "check"}],
        )
    )
    system = [block["text"] for block in fake_api.requests[0].body["system"]]
    rules = next(text for text in system if text.startswith("# The project's conventions"))
    assert rules.index("apps/api/AGENTS.md") < rules.index("`CLAUDE.md`")
    assert "Every route validates its input with Zod." in rules
    # In the cached prefix: the cache mark closes the block after them.
    assert fake_api.requests[0].body["system"][-1]["cache_control"] == {"type": "ephemeral"}


async def test_each_workspace_folder_keeps_its_own_settings(
    tmp_path: Path, server_env: dict[str, str], editors: list[Editor]
) -> None:
    repo = _monorepo(tmp_path, git=False)
    api, db = repo / "apps" / "api", repo / "packages" / "db"
    (db / ".claude" / "agents").mkdir(parents=True)
    (db / ".claude" / "agents" / "beta.md").write_text(
        "---\nname: beta\ndescription: The beta agent.\n---\nYou are beta.\n", encoding="utf-8"
    )
    client = await server_config(server_env).start()
    editor = Editor(client, api, "neovim")
    editors.append(editor)
    # The editor answers each folder's own values, as VS Code does for folder settings.
    client.set_configuration({"hoverMode": "static"}, section="subagentLsp")
    client.set_configuration(
        {"hoverMode": "off", "workspaceAgents": False},
        section="subagentLsp",
        scope_uri=client_uri(db.resolve(), "neovim"),
    )
    await editor.initialize(more_folders=[db])
    in_api = editor.open("src/routes/items.ts")
    in_db = editor.open("../../packages/db/src/schema.ts")

    async def hover(uri: str, needle: str) -> types.Hover | None:
        return await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=editor.range_of(uri, needle, empty=True).start,
            )
        )

    assert await hover(in_api, 'app.get("/items') is not None
    assert await hover(in_db, "ownerId: integer") is None, "hovers are off in that folder"
    db_titles = await _titles(editor, in_db, "ownerId: integer")
    assert db_titles and not any("beta" in title for title in db_titles), (
        "the folder's own agent files stay unread where its settings say so"
    )
