"""What an action sends when its code is used elsewhere: the registration site with its guard,
within the budget, from the reference index the server builds after start-up and keeps up to
date as documents change; and the `references` tool answering from that index."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.helpers import FIXTURES
from tests.lsp.editor import Editor, server_config


@pytest_asyncio.fixture
async def api_project(tmp_path: Path, server_env: dict[str, str]) -> AsyncIterator[Editor]:
    root = tmp_path / "api"
    shutil.copytree(FIXTURES / "refs-project", root)
    agents = root / ".claude" / "agents"
    agents.mkdir(parents=True)
    shutil.copy(FIXTURES / "agents" / "backend-engineer.md", agents / "backend-engineer.md")
    client = await server_config(server_env).start()
    editor = Editor(client, root, "neovim")
    await editor.initialize()
    try:
        yield editor
    finally:
        await editor.shutdown()
        await client.stop()


async def _index_ready(editor: Editor) -> None:
    for _ in range(200):
        status = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="subagent-lsp.status", arguments=[])
        )
        if status["referenceIndex"] == "ready":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the reference index was never built")


async def _ask(editor: Editor, uri: str, needle: str) -> None:
    rng = editor.range_of(uri, needle, empty=True)
    await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="subagent-lsp.ask",
            arguments=[{"uri": uri, "range": rng, "instruction": "check the owner"}],
        )
    )


def _context(request: Any) -> str:
    return str(request.body["messages"][0]["content"][0]["text"])


async def test_an_action_on_a_handler_sends_its_registration_with_the_guard(
    api_project: Editor, fake_api: FakeAnthropic
) -> None:
    await _index_ready(api_project)
    uri = api_project.open("src/routes/items.ts")
    fake_api.enqueue(text_reply("Nothing to change."))
    await _ask(api_project, uri, "const ownerId")

    context = _context(fake_api.requests[0])
    assert 'app.get("/items", { preHandler: [requireUser] }, listItems);' in context
    assert "registers `listItems` in the route GET /items" in context
    assert "export async function requireUser(request: FastifyRequest" in context
    assert "user: { id: number; role:" in context  # the augmentation that types request.user
    assert "## Not included yet" not in context


async def test_the_budget_holds_with_backward_items(
    api_project: Editor, fake_api: FakeAnthropic
) -> None:
    await _index_ready(api_project)
    api_project.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"subagentLsp": {"contextTokens": 300}})
    )
    uri = api_project.open("src/routes/items.ts")
    fake_api.enqueue(text_reply("Nothing to change."))
    await _ask(api_project, uri, "const ownerId")

    context = _context(fake_api.requests[0])
    # The registration outranks the rest; the sibling is the first to go.
    assert 'app.get("/items", { preHandler: [requireUser] }, listItems);' in context
    assert "## Left out to fit the context budget" in context
    assert "- `listUsers` from `src/routes/users.ts`" in context
    code = "".join(part.split("```")[0] for part in context.split("```ts\n")[1:])
    assert len(code) // 4 <= 300


async def test_an_unsaved_registration_and_the_references_tool_follow_the_editor(
    api_project: Editor, fake_api: FakeAnthropic
) -> None:
    await _index_ready(api_project)
    # A new registration typed but not saved: the index reads the open document.
    server = api_project.path("src/server.ts").read_text(encoding="utf-8")
    added = server + 'app.get("/mine", { onRequest: [requireUser] }, listItems);\n'
    api_project.open("src/server.ts", added)
    uri = api_project.open("src/routes/items.ts")
    fake_api.enqueue(
        tool_reply([{"symbol": "listItems"}], tool_name="references"),
        text_reply("Nothing to change."),
    )
    await _ask(api_project, uri, "const ownerId")

    first, second = fake_api.requests
    assert 'app.get("/mine", { onRequest: [requireUser] }, listItems);' in _context(first)
    answer = second.body["messages"][-1]["content"][0]
    assert answer["is_error"] is False
    assert answer["content"].splitlines()[0] == "`listItems` declared in src/routes/items.ts:5"
    assert (
        'src/server.ts:12: app.get("/mine", { onRequest: [requireUser] }, listItems);'
        in (answer["content"])
    )


async def test_a_handler_registered_by_name_elsewhere_gets_the_route_actions(
    api_project: Editor,
) -> None:
    """`app.get("/items", { preHandler }, listItems)` in server.ts makes `listItems` in its own
    file a route: the menu offers the route's actions there, read in the background."""
    uri = api_project.open("src/routes/items.ts")
    await _index_ready(api_project)
    rng = api_project.range_of(uri, "const ownerId", empty=True)
    rest = "Follow REST conventions and status codes"

    async def titles() -> list[str]:
        return [a.title for a in await api_project.code_actions(uri, rng)]

    for _ in range(200):
        if any(title.endswith(rest) for title in await titles()):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"no route action in a registered handler: {await titles()}")
    # Not any function: one nothing registers stays without route actions.
    api_project.change(
        uri,
        api_project.text(uri)
        + "\nexport function unused(request: FastifyRequest) {\n  return 1;\n}\n",
    )
    other = api_project.range_of(uri, "return 1;", empty=True)
    await asyncio.sleep(0.5)
    assert not any(a.title.endswith(rest) for a in await api_project.code_actions(uri, other))
