"""Agents as the editor sees them, and failures that must leave every file as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, error_reply, text_reply
from tests.helpers import DUMMY_KEY
from tests.lsp.editor import Editor, server_config, wait_until
from tests.lsp.helpers import ROUTE, open_route

BROKEN = """\
---
name: Query Tuner
description: Tunes queries
---
You tune queries.
"""


async def _list_agents(editor: Editor) -> list[dict[str, str]]:
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="subagent-lsp.listAgents")
    )
    return list(result)


async def test_the_seed_agent_file_loads_with_its_name_model_and_source(editor: Editor) -> None:
    (agent,) = await _list_agents(editor)
    assert agent["name"] == "backend-engineer"
    assert agent["source"] == "workspace"
    # The seed file says nothing about the model, so it inherits the default tier.
    assert agent["model"] == "claude-sonnet-5-5"
    assert agent["description"].startswith("Use this agent when")


async def test_a_broken_agent_file_gets_a_diagnostic_while_the_others_keep_working(
    editor: Editor,
) -> None:
    broken = editor.path(".claude/agents/query-tuner.md")
    broken.write_text(BROKEN, encoding="utf-8")
    uri = editor.open(".claude/agents/query-tuner.md", BROKEN, language_id="markdown")
    editor.save(uri)

    await wait_until(lambda: bool(editor.client.diagnostics.get(uri)))
    (diagnostic,) = editor.client.diagnostics[uri]
    assert "name" in diagnostic.message and diagnostic.severity == types.DiagnosticSeverity.Error
    assert [a["name"] for a in await _list_agents(editor)] == ["backend-engineer"]
    route = open_route(editor)
    actions = await editor.code_actions(route, editor.range_of(route, "const rows", empty=True))
    assert actions

    fixed = BROKEN.replace("Query Tuner", "query-tuner")
    editor.change(uri, fixed)
    editor.save(uri)
    await wait_until(lambda: len(editor.client.diagnostics[uri]) == 0)
    for _ in range(100):
        names = sorted(a["name"] for a in await _list_agents(editor))
        if len(names) == 2:
            break
        await asyncio.sleep(0.05)
    assert names == ["backend-engineer", "query-tuner"]


async def test_an_api_error_is_one_clear_sentence_and_changes_nothing(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    fake_api.enqueue(error_reply(401, "authentication_error", "invalid x-api-key"))
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))

    result = await editor.run(actions[0])

    assert result["applied"] is False
    assert editor.edits == [] and editor.text(uri) == ROUTE
    (message,) = [m for m in editor.client.messages if m.type == types.MessageType.Error]
    assert message.message.startswith("The Anthropic API rejected the API key (401)")
    assert DUMMY_KEY not in message.message


async def test_without_a_key_the_user_is_told_how_to_set_one(
    project: Path, home: Path, fake_api: FakeAnthropic
) -> None:
    env = {"HOME": str(home), "ANTHROPIC_BASE_URL": fake_api.base_url}
    client = await server_config(env).start()
    editor = Editor(client, project, "neovim")
    try:
        await editor.initialize()
        uri = open_route(editor)
        actions = await editor.code_actions(uri, editor.range_of(uri, "const rows", empty=True))
        assert actions, "actions are listed even without a key"

        result = await editor.run(actions[0])

        assert result["applied"] is False
        assert "ANTHROPIC_API_KEY" in result["message"]
        assert fake_api.requests == []
        assert editor.text(uri) == ROUTE
    finally:
        await editor.shutdown()
        await client.stop()


async def test_a_reply_that_makes_no_edit_says_so(editor: Editor, fake_api: FakeAnthropic) -> None:
    uri = open_route(editor)
    fake_api.enqueue(text_reply("This code already handles errors well."))
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))

    result = await editor.run(actions[0])

    assert result["applied"] is False
    assert "already handles errors well" in result["message"]
    assert editor.edits == []


async def test_free_form_ask_command_runs_on_a_range(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    fake_api.enqueue(text_reply("Nothing to change."))
    rng = editor.range_of(uri, "const rows = await db.select().from(orders)")
    await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="subagent-lsp.ask",
            arguments=[
                {"uri": uri, "range": _range(rng), "instruction": "Use a prepared statement"}
            ],
        )
    )
    (request,) = fake_api.requests
    prompt = "\n".join(b["text"] for b in request.body["messages"][0]["content"])
    assert "Use a prepared statement" in prompt


async def test_malformed_command_arguments_get_an_error_not_a_crash(editor: Editor) -> None:
    try:
        await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="subagent-lsp.runAction", arguments=["nonsense"])
        )
    except Exception as exc:
        assert "uri" in str(exc) or "argument" in str(exc)
    else:
        raise AssertionError("a malformed argument must be answered with an error")
    assert await _list_agents(editor)


def _range(rng: types.Range) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


async def test_agent_files_changed_on_disk_are_reloaded(editor: Editor) -> None:
    await _list_agents(editor)
    watchers = [r for r in editor.registrations if r.method == "workspace/didChangeWatchedFiles"]
    # Only clients that can register watchers dynamically get one (VS Code, not Neovim).
    assert bool(watchers) == (editor.preset == "vscode")
    path = editor.path(".claude/agents/reviewer.md")
    path.write_text("---\nname: reviewer\ndescription: Reviews\n---\nReview.\n", encoding="utf-8")
    editor.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=path.resolve().as_uri(), type=types.FileChangeType.Created)
            ]
        )
    )
    for _ in range(100):
        names = [a["name"] for a in await _list_agents(editor)]
        if "reviewer" in names:
            break
        await asyncio.sleep(0.05)
    assert sorted(names) == ["backend-engineer", "reviewer"]


async def test_the_key_never_reaches_the_editor(editor: Editor, fake_api: FakeAnthropic) -> None:
    uri = open_route(editor)
    # The SDK retries a rate limit twice, honouring retry-after.
    fake_api.enqueue(*[error_reply(429, "rate_limit_error", "slow down", {"retry-after": "0"})] * 3)
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    await editor.run(actions[0])
    seen = [m.message for m in editor.client.messages] + [
        m.message for m in editor.client.log_messages
    ]
    assert len(fake_api.requests) == 3
    assert any("rate limiting" in text for text in seen)
    assert all(DUMMY_KEY not in text for text in seen)


async def test_workspace_agents_can_be_refused_for_an_untrusted_folder(
    project: Path, server_env: dict[str, str]
) -> None:
    client = await server_config(server_env).start()
    editor = Editor(client, project, "vscode")
    await editor.initialize({"subagentLsp": {"workspaceAgents": False}})
    try:
        agents = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="subagent-lsp.listAgents", arguments=[])
        )
        assert [(a["name"], a["source"]) for a in agents] == [("backend-engineer", "bundled")]
    finally:
        await editor.shutdown()
        await client.stop()
