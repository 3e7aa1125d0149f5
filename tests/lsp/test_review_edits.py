"""An agent's change is reviewed before it lands, as Claude Code asks before an edit: editor packages
get a proposal to accept or discard, other clients an edit that needs confirmation; agents in
`acceptEdits` mode and the `editReview: direct` setting apply at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.lsp.editor import Editor, server_config, wait_until
from tests.lsp.helpers import AT_ZERO, ROUTE, open_route

CHANGED = ROUTE.replace("return rows[0];", "return rows.at(0);")

ACCEPTING_AGENT = """\
---
name: quick-fixer
description: Applies small backend fixes in TypeScript without asking.
permissionMode: acceptEdits
---
You fix small things in Fastify handlers.
"""


@pytest_asyncio.fixture(params=["neovim", "vscode"])
async def reviewing(
    request: pytest.FixtureRequest, project: Path, server_env: dict[str, str]
) -> AsyncIterator[Editor]:
    """An editor whose package shows proposals as a diff (it announces reviewEdits)."""
    (project / ".claude" / "agents" / "quick-fixer.md").write_text(ACCEPTING_AGENT)
    client = await server_config(server_env).start()
    editor = Editor(client, project, request.param)
    await editor.initialize(review_edits=True)
    try:
        yield editor
    finally:
        await editor.shutdown()
        await client.stop()


def _script_one_edit(fake_api: FakeAnthropic) -> None:
    fake_api.enqueue(tool_reply([AT_ZERO]), text_reply("Used at(0)."))


async def _run_ask(editor: Editor, uri: str, agent: str = "backend-engineer") -> dict[str, Any]:
    rng = editor.range_of(uri, "return rows[0]")
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="subagent-lsp.ask",
            arguments=[
                {
                    "uri": uri,
                    "range": {
                        "start": {"line": rng.start.line, "character": rng.start.character},
                        "end": {"line": rng.end.line, "character": rng.end.character},
                    },
                    "instruction": "use at(0)",
                    "agent": agent,
                }
            ],
        )
    )
    assert isinstance(result, dict)
    return result


async def _command(editor: Editor, command: str, *arguments: Any) -> dict[str, Any]:
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )
    assert isinstance(result, dict)
    return result


async def test_a_proposal_shows_the_change_and_touches_nothing_until_accepted(
    reviewing: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(reviewing)
    _script_one_edit(fake_api)

    result = await _run_ask(reviewing, uri)

    assert result["applied"] is False and result["pending"]
    assert reviewing.edits == [], "nothing reaches the buffer before the user accepts"
    assert reviewing.text(uri) == ROUTE
    await wait_until(lambda: reviewing.proposals)
    (proposal,) = reviewing.proposals
    assert proposal.id == result["pending"]
    assert proposal.agent == "backend-engineer"
    assert proposal.summary == "Used at(0)."
    (file,) = proposal.files
    assert file.uri == uri and file.path == "src/routes/orders.ts"
    assert file.original == ROUTE and file.proposed == CHANGED

    accepted = await _command(reviewing, "subagent-lsp.acceptEdit", proposal.id)

    assert accepted["applied"] is True and accepted["files"] == [uri]
    assert reviewing.text(uri) == CHANGED
    (edit,) = reviewing.edits
    assert edit.edit.change_annotations is None, "accepted once: the editor does not ask again"
    again = await _command(reviewing, "subagent-lsp.acceptEdit", proposal.id)
    assert again == {"applied": False, "message": "That change is no longer pending.", "files": []}


async def test_discarding_leaves_no_trace_in_the_buffer_or_on_disk(
    reviewing: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(reviewing)
    _script_one_edit(fake_api)
    result = await _run_ask(reviewing, uri)

    discarded = await _command(reviewing, "subagent-lsp.discardEdit", result["pending"])

    assert discarded == {"discarded": True, "message": "Discarded backend-engineer's change."}
    assert reviewing.edits == []
    assert reviewing.text(uri) == ROUTE
    assert reviewing.path("src/routes/orders.ts").read_text() == ROUTE
    accepted = await _command(reviewing, "subagent-lsp.acceptEdit", result["pending"])
    assert accepted["applied"] is False
    status = await _command(reviewing, "subagent-lsp.status")
    assert status["pendingChanges"] == 0


async def test_accepting_later_applies_onto_what_the_user_typed_meanwhile(
    reviewing: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(reviewing)
    _script_one_edit(fake_api)
    result = await _run_ask(reviewing, uri)
    typed = "// reviewed by hand\n" + ROUTE
    reviewing.change(uri, typed)

    accepted = await _command(reviewing, "subagent-lsp.acceptEdit", result["pending"])

    assert accepted["applied"] is True
    assert "re-applied onto your newer text" in accepted["message"]
    assert reviewing.text(uri) == "// reviewed by hand\n" + CHANGED


async def test_an_agent_in_accept_edits_mode_applies_at_once(
    reviewing: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(reviewing)
    _script_one_edit(fake_api)

    result = await _run_ask(reviewing, uri, agent="quick-fixer")

    assert result["applied"] is True and "pending" not in result
    assert reviewing.proposals == []
    assert reviewing.text(uri) == CHANGED


async def test_clients_without_a_review_ui_are_asked_to_confirm_the_edit(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    _script_one_edit(fake_api)

    result = await _run_ask(editor, uri)

    assert result["applied"] is True
    (sent,) = editor.edits
    annotations = sent.edit.change_annotations
    if editor.preset == "vscode":
        # VS Code declares change annotations: it shows the edit for confirmation first.
        assert annotations is not None
        (annotation,) = annotations.values()
        assert annotation.needs_confirmation is True
        assert annotation.label == "backend-engineer: use at(0)"
        edits = [e for dc in sent.edit.document_changes or [] for e in dc.edits]
        assert edits and all(isinstance(e, types.AnnotatedTextEdit) for e in edits)
    else:
        # Neovim cannot confirm: the edit comes plain, as one undoable change.
        assert annotations is None
    assert editor.text(uri) == CHANGED


async def test_the_direct_setting_applies_every_change_at_once(
    project: Path, server_env: dict[str, str], fake_api: FakeAnthropic
) -> None:
    client = await server_config(server_env).start()
    editor = Editor(client, project, "vscode")
    await editor.initialize({"subagentLsp": {"editReview": "direct"}}, review_edits=True)
    try:
        uri = open_route(editor)
        _script_one_edit(fake_api)
        result = await _run_ask(editor, uri)
        assert result["applied"] is True
        assert editor.proposals == []
        (sent,) = editor.edits
        assert sent.edit.change_annotations is None
        assert editor.text(uri) == CHANGED
    finally:
        await editor.shutdown()
        await client.stop()


async def test_a_file_the_agent_creates_is_proposed_against_nothing(
    reviewing: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(reviewing)
    fake_api.enqueue(
        tool_reply(
            [
                AT_ZERO,
                {
                    "command": "create",
                    "path": "src/routes/orders.schema.ts",
                    "file_text": "export const orderId = 1;\n",
                },
            ]
        ),
        text_reply("Split the schema out."),
    )
    result = await _run_ask(reviewing, uri)
    await wait_until(lambda: reviewing.proposals)
    (proposal,) = reviewing.proposals
    created = next(f for f in proposal.files if f.path == "src/routes/orders.schema.ts")
    assert created.original is None and created.proposed == "export const orderId = 1;\n"
    assert not reviewing.path("src/routes/orders.schema.ts").exists()

    accepted = await _command(reviewing, "subagent-lsp.acceptEdit", result["pending"])

    assert accepted["applied"] is True
    assert reviewing.path("src/routes/orders.schema.ts").read_text() == (
        "export const orderId = 1;\n"
    )
