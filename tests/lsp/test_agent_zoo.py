"""A repository that keeps nine agents of every kind, as real ones do: the menu stays short and
led by the backend editor, read-only agents review instead of editing, and each request carries
the tools its agent has."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply, web_search_reply
from tests.helpers import FIXTURES
from tests.lsp.editor import Editor, server_config
from tests.lsp.helpers import AT_ZERO, ROUTE, open_route

ZOO = FIXTURES / "agent-zoo"


@pytest_asyncio.fixture
async def zoo(project: Path, server_env: dict[str, str]) -> AsyncIterator[Editor]:
    for agent in (ZOO / "agents").iterdir():
        shutil.copy(agent, project / ".claude" / "agents")
    shutil.copytree(ZOO / "skills", project / ".claude" / "skills")
    client = await server_config(server_env).start()
    editor = Editor(client, project, "vscode")
    await editor.initialize()
    try:
        yield editor
    finally:
        await editor.shutdown()
        await client.stop()


async def _menu(editor: Editor, uri: str, needle: str) -> list[types.CodeAction]:
    return await editor.code_actions(uri, editor.range_of(uri, needle, empty=True))


async def test_nine_agents_make_a_short_menu_led_by_the_backend_editor(zoo: Editor) -> None:
    uri = open_route(zoo)
    titles = [a.title for a in await _menu(zoo, uri, "const rows")]

    agent_entries = [t for t in titles if not t.startswith("Explain with")]
    assert len(agent_entries) <= 8
    assert agent_entries[0].startswith("backend-engineer: ")
    assert "Review with codebase-analyzer" in agent_entries
    for other in ("admin-ui-developer", "browser-tester", "web-researcher"):
        assert not any(other in t for t in titles)
    # Read-only agents never offer an edit.
    assert not any(t.startswith(("codebase-analyzer: ", "drizzle-expert: ")) for t in titles)


async def test_a_setting_shows_the_agents_the_user_names(zoo: Editor) -> None:
    zoo.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"subagentLsp": {"menuAgents": ["admin-ui-developer"]}}
        )
    )
    uri = open_route(zoo)
    menu = await _menu(zoo, uri, "const rows")
    assert (
        menu and menu[0].command and menu[0].command.arguments[0]["agent"] == "admin-ui-developer"
    )
    # The only agent shown: its name is not repeated on every row.
    assert menu[0].title.startswith("Agent: ")


async def test_an_instruction_comment_still_reaches_any_agent(zoo: Editor) -> None:
    text = ROUTE.replace(
        "    const rows", "    // @web-researcher: find the best library\n    const rows"
    )
    uri = open_route(zoo, text)
    titles = [a.title for a in await _menu(zoo, uri, "const rows")]
    assert titles[0] == "Ask web-researcher: find the best library"


async def test_a_zod_schema_gets_a_fitting_intent(zoo: Editor) -> None:
    uri = zoo.open("src/schemas/user.ts")
    titles = [a.title for a in await _menu(zoo, uri, "z.object")]
    assert "backend-engineer: Tighten this Zod schema" in titles


async def test_a_read_only_agent_reviews_and_its_edits_are_refused(
    zoo: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(zoo)
    review = next(
        a for a in await _menu(zoo, uri, "const rows") if a.title == "Review with codebase-analyzer"
    )
    fake_api.enqueue(
        tool_reply([{"command": "grep", "pattern": "orders"}], tool_name="grep"),
        tool_reply([AT_ZERO]),
        text_reply("Line 9 reads params without validation; validate `id` with Zod."),
    )
    result = await zoo.run(review)

    assert result["applied"] is False and "validate `id` with Zod" in result["message"]
    assert zoo.text(uri) == ROUTE and zoo.edits == []
    first, second, third = fake_api.requests
    assert [t["name"] for t in first.body["tools"]] == [
        "str_replace_based_edit_tool",
        "grep",
        "glob",
        "references",
        "report_finding",
    ]
    assert "read-only" in first.body["system"][-1]["text"]
    grep_result = second.body["messages"][-1]["content"][0]
    assert grep_result["is_error"] is False and "src/routes/orders.ts:" in grep_result["content"]
    refused = third.body["messages"][-1]["content"][0]
    assert refused["is_error"] is True and "cannot change files" in refused["content"]


async def test_skills_and_max_turns_follow_the_agent_file(
    zoo: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(zoo)
    fake_api.enqueue(
        tool_reply([{"command": "view", "path": "src/routes/orders.ts"}]),
        tool_reply([{"command": "view", "path": "src/routes/orders.ts"}]),
        text_reply("unreached"),
    )
    rng = zoo.range_of(uri, "const rows", empty=True)
    result = await zoo.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="subagent-lsp.ask",
            arguments=[
                {"uri": uri, "range": rng, "instruction": "check", "agent": "drizzle-expert"}
            ],
        )
    )
    assert "stopped after 2 rounds" in result["message"]
    system = "\n".join(block["text"] for block in fake_api.requests[0].body["system"])
    assert "# Skill: drizzle-conventions" in system and "index every foreign key" in system
    # `disallowedTools: Edit` took its only editing tool away.
    assert "read-only" in system


async def test_an_unmappable_model_is_a_diagnostic_on_the_agent_file(zoo: Editor) -> None:
    path = zoo.path(".claude/agents/odd-model.md")
    path.write_text(
        "---\nname: odd-model\ndescription: d\nmodel: gpt-5\n---\nBody.\n", encoding="utf-8"
    )
    await zoo.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="subagent-lsp.reloadAgents", arguments=[])
    )
    uri = zoo.uri(".claude/agents/odd-model.md")
    for _ in range(100):
        if zoo.client.diagnostics.get(uri):
            break
        await asyncio.sleep(0.05)
    (diagnostic,) = zoo.client.diagnostics[uri]
    assert "cannot map it" in diagnostic.message


async def test_a_review_becomes_diagnostics_with_a_quick_fix_that_edits(
    zoo: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(zoo)
    review = next(
        a for a in await _menu(zoo, uri, "const rows") if a.title == "Review with codebase-analyzer"
    )
    finding = {
        "path": "src/routes/orders.ts",
        "start_line": 9,
        "end_line": 10,
        "severity": "warning",
        "message": "A missing order returns undefined instead of a 404.",
        "fix": "Return 404 when no row is found.",
    }
    fake_api.enqueue(
        tool_reply(
            [finding, finding, {**finding, "start_line": 400}, {"path": "src/routes/orders.ts"}],
            tool_name="report_finding",
        ),
        text_reply("One finding."),
    )
    result = await zoo.run(review)
    assert "1 findings shown" in result["message"], result
    answers = fake_api.requests[1].body["messages"][-1]["content"]
    # Duplicates are answered as such; malformed findings are errors the model can correct.
    assert [a["is_error"] for a in answers] == [False, False, True, True]

    def reviewed() -> list[types.Diagnostic]:
        found = zoo.client.diagnostics.get(uri, [])
        return [d for d in found if d.source == "codebase-analyzer"]

    for _ in range(100):
        if reviewed():
            break
        await asyncio.sleep(0.05)
    (diagnostic,) = reviewed()
    assert diagnostic.source == "codebase-analyzer"
    assert (diagnostic.range.start.line, diagnostic.range.end.line) == (8, 9)
    assert diagnostic.severity == types.DiagnosticSeverity.Warning

    fixes = await zoo.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic], only=["quickfix"]),
        )
    )
    (fix,) = [f for f in fixes or [] if isinstance(f, types.CodeAction)]
    assert fix.title == "Fix with backend-engineer" and fix.kind == "quickfix"

    fake_api.enqueue(tool_reply([AT_ZERO]), text_reply("Fixed."))
    applied = await zoo.run(fix)
    assert applied["applied"] is True
    instruction = "\n".join(b["text"] for b in fake_api.requests[2].body["messages"][0]["content"])
    assert "A missing order returns undefined" in instruction
    # The code the finding was about changed: the finding goes.
    for _ in range(100):
        if not reviewed():
            break
        await asyncio.sleep(0.05)
    assert not reviewed()


async def test_web_tools_are_left_out_unless_the_user_allows_the_servers_own(
    zoo: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(zoo)
    rng = zoo.range_of(uri, "const rows", empty=True)

    async def ask() -> Any:
        return await zoo.client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="subagent-lsp.ask",
                arguments=[
                    {
                        "uri": uri,
                        "range": rng,
                        "instruction": "which Zod version?",
                        "agent": "web-researcher",
                    }
                ],
            )
        )

    fake_api.enqueue(text_reply("I cannot search here."))
    await ask()
    off = fake_api.requests[-1]
    assert not any(t["name"].startswith("web_") for t in off.body["tools"])
    assert "not available in the editor: WebSearch, WebFetch" in off.body["system"][-1]["text"]

    zoo.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"subagentLsp": {"webTools": True}})
    )
    before = len(fake_api.requests)
    fake_api.enqueue(
        web_search_reply("zod latest version", [("https://zod.dev", "Zod")], paused=True),
        text_reply("Zod 4 is current; see zod.dev."),
    )
    result = await ask()

    assert "Zod 4 is current" in result["message"]
    first, second = fake_api.requests[before:]
    web = [t for t in first.body["tools"] if t["name"].startswith("web_")]
    assert web == [
        {"type": "web_fetch_20250910", "name": "web_fetch", "max_uses": 5},
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
    ]
    assert first.headers.get("anthropic-beta") == "web-fetch-2025-09-10"
    assert "WebSearch" not in first.body["system"][-1]["text"]
    # The paused server-tool turn goes back as it came, and the API carries on.
    paused = second.body["messages"][-1]
    assert paused["role"] == "assistant"
    assert [b["type"] for b in paused["content"]] == ["server_tool_use", "web_search_tool_result"]
