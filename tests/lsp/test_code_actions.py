"""Code actions through the protocol: listing, running, editing, progress and cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path

from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.lsp.editor import Editor, wait_until
from tests.lsp.helpers import AT_ZERO, ROUTE, open_route

GUARDED = ROUTE.replace(
    "    return rows[0];\n",
    '    if (rows.length === 0) {\n      return reply.code(404).send({ error: "Order not found" });\n'
    "    }\n    return rows[0];\n",
)


def _titles(actions: list[types.CodeAction]) -> list[str]:
    return [action.title for action in actions]


async def test_actions_are_listed_without_any_model_request(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    rng = editor.range_of(uri, "const rows", empty=True)

    actions = await editor.code_actions(uri, rng)

    titles = _titles(actions)
    # One agent in the menu: its rows say they are an agent's without repeating its name.
    assert "Agent: Optimise this Drizzle query" in titles
    assert "Agent: Add error handling with guard clauses" in titles
    assert "Agent: Follow REST conventions and status codes" in titles
    assert {action.command.arguments[0]["agent"] for action in actions if action.command} == {
        "backend-engineer"
    }
    assert all(action.kind == "refactor.rewrite.agent" for action in actions)
    assert fake_api.requests == []


async def test_query_action_is_not_offered_where_there_is_no_query(editor: Editor) -> None:
    uri = open_route(editor)
    actions = await editor.code_actions(uri, editor.range_of(uri, "const { id }", empty=True))
    assert "backend-engineer: Optimise this Drizzle query" not in _titles(actions)


async def test_instruction_comment_above_the_code_offers_an_ask_action(editor: Editor) -> None:
    text = ROUTE.replace(
        "    const rows", "    // @agent: return 404 when the order is missing\n    const rows"
    )
    uri = open_route(editor, text)
    actions = await editor.code_actions(uri, editor.range_of(uri, "const rows", empty=True))
    assert _titles(actions)[0] == "Ask backend-engineer: return 404 when the order is missing"


async def test_actions_are_not_offered_when_the_client_only_wants_other_kinds(
    editor: Editor,
) -> None:
    uri = open_route(editor)
    result = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=editor.range_of(uri, "const rows", empty=True),
            context=types.CodeActionContext(diagnostics=[], only=["source.organizeImports"]),
        )
    )
    assert not result


async def test_choosing_an_action_applies_the_exact_edit(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/orders.ts",
                    "old_str": "    return rows[0];\n",
                    "new_str": '    if (rows.length === 0) {\n      return reply.code(404).send({ error: "Order not found" });\n    }\n    return rows[0];\n',
                }
            ],
            text="I'll add a guard clause.",
        ),
        text_reply("Added a 404 guard clause for a missing order."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    action = next(a for a in actions if a.title.endswith("Add error handling with guard clauses"))

    result = await editor.run(action)

    assert result["applied"] is True
    assert editor.text(uri) == GUARDED
    (edit,) = editor.edits
    # Minimal: one insertion, not a replacement of the function or the file.
    text_edits = [e for dc in edit.edit.document_changes or [] for e in dc.edits] or [
        e for edits in (edit.edit.changes or {}).values() for e in edits
    ]
    assert len(text_edits) == 1
    assert "return rows[0]" not in text_edits[0].new_text
    first, second = fake_api.requests
    body = first.body
    assert body["stream"] is True
    assert body["model"] == "claude-sonnet-5-5"
    assert body["system"][0]["text"].startswith("You are a senior backend software engineer")
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
    # No `tools` field: every tool, of which the editor offers editing and searching.
    assert [tool["name"] for tool in body["tools"]] == [
        "str_replace_based_edit_tool",
        "grep",
        "glob",
        "references",
    ]
    assert body["tools"][0] == {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
    }
    assert "not available in the editor: Bash" in body["system"][-1]["text"]
    # Each turn marks the end of the newest message, so the next turn reads it from the cache.
    assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    later = second.body["messages"]
    assert later[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in block for m in later[:-1] for block in m["content"])
    prompt = "\n".join(block["text"] for block in body["messages"][0]["content"])
    assert "src/routes/orders.ts" in prompt
    assert "Add error handling" in prompt
    assert "return rows[0];" in prompt
    tool_result = second.body["messages"][-1]["content"][0]
    assert tool_result["type"] == "tool_result" and tool_result["is_error"] is False
    assert any("Added a 404 guard clause" in m.message for m in editor.client.messages)


async def test_edit_carries_the_version_it_was_computed_from(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    editor.change(uri, ROUTE + "\n")
    fake_api.enqueue(
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/orders.ts",
                    "old_str": "return rows[0];",
                    "new_str": "return rows[0] ?? null;",
                }
            ]
        ),
        text_reply("Done."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    await editor.run(actions[0])

    (edit,) = editor.edits
    if editor.preset == "vscode":
        (change,) = edit.edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)
        assert change.text_document.version == 1 + editor.version_step
    assert editor.text(uri) == ROUTE.replace("return rows[0];", "return rows[0] ?? null;") + "\n"


async def test_multi_file_edit_creates_a_schema_module(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    schema = 'import { z } from "zod";\n\nexport const orderParams = z.object({ id: z.coerce.number().int().positive() });\n'
    fake_api.enqueue(
        tool_reply(
            [
                {"command": "create", "path": "src/schemas/order.ts", "file_text": schema},
                {
                    "command": "str_replace",
                    "path": "src/routes/orders.ts",
                    "old_str": "    const { id } = request.params as { id: string };\n",
                    "new_str": "    const { id } = orderParams.parse(request.params);\n",
                },
                {
                    "command": "insert",
                    "path": "src/routes/orders.ts",
                    "insert_line": 4,
                    "new_str": 'import { orderParams } from "../schemas/order.js";\n',
                },
            ]
        ),
        text_reply("Validated the params with a new Zod schema module."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "const { id }", empty=True))
    action = next(a for a in actions if a.title.endswith("Add input validation with Zod"))

    result = await editor.run(action)

    assert result["applied"] is True
    assert editor.path("src/schemas/order.ts").read_text(encoding="utf-8") == schema
    text = editor.text(uri)
    assert 'import { orderParams } from "../schemas/order.js";\n\nexport async' in text
    assert "orderParams.parse(request.params)" in text
    (edit,) = editor.edits
    changes = edit.edit.document_changes or []
    assert any(isinstance(c, types.CreateFile) for c in changes)
    if editor.preset == "vscode":
        annotations = edit.edit.change_annotations or {}
        assert annotations and all(a.needs_confirmation for a in annotations.values())


async def test_the_server_keeps_answering_while_the_first_action_loads_the_model_sdk(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    # Loading the SDK takes seconds; it happens in a worker thread, so requests that arrive
    # meanwhile are answered and can see it loading.
    uri = open_route(editor)
    fake_api.enqueue(tool_reply([AT_ZERO]), text_reply("Done."))
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    action = next(a for a in actions if a.title.endswith("Add error handling with guard clauses"))

    async def sdk() -> str:
        status = await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="subagent-lsp.status", arguments=[])
        )
        return str(status["modelSdk"])

    assert await sdk() == "not loaded"
    running = asyncio.ensure_future(editor.run(action))
    seen = [await sdk()]
    while seen[-1] == "not loaded":
        seen.append(await sdk())
    assert seen[-1] == "loading"
    assert (await running)["applied"] is True
    assert await sdk() == "loaded"


async def test_progress_is_reported_while_the_reply_streams(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply(
            [AT_ZERO],
            text="Working on it " * 40,
            delay=0.05,
        ),
        text_reply("Done.", delay=0.05),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    await editor.run(actions[0])

    (values,) = editor.client.progress_reports.values()
    begin = values[0]
    assert isinstance(begin, types.WorkDoneProgressBegin)
    assert begin.title == "backend-engineer"
    assert begin.cancellable is True
    middle = [v for v in values[1:-1] if isinstance(v, types.WorkDoneProgressReport)]
    assert any("tokens" in (v.message or "") for v in middle)
    assert isinstance(values[-1], types.WorkDoneProgressEnd)


async def _start_held_action(
    editor: Editor, fake_api: FakeAnthropic, hold: threading.Event
) -> tuple[str, asyncio.Future[object]]:
    uri = open_route(editor)
    fake_api.enqueue(text_reply("Thinking " * 50, hold=hold))
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    command = actions[0].command
    assert command is not None
    future: asyncio.Future[object] = asyncio.ensure_future(
        editor.client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command=command.command, arguments=command.arguments),
            msg_id="held-action",
        )
    )
    await fake_api.wait_for_requests_async(1)
    return uri, future


async def test_cancel_request_closes_the_upstream_connection(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    hold = threading.Event()
    try:
        uri, future = await _start_held_action(editor, fake_api, hold)
        editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="held-action"))
        assert await fake_api.wait_for_disconnect_async(timeout=10)
        # A cancelled request may be answered with an error; either way it must be answered.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(future, 10)
        assert future.done()
        assert editor.edits == []
        assert editor.text(uri) == ROUTE
    finally:
        hold.set()


async def test_cancelling_the_progress_closes_the_upstream_connection(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    hold = threading.Event()
    try:
        uri, future = await _start_held_action(editor, fake_api, hold)
        await wait_until(lambda: bool(editor.client.progress_reports))
        (token,) = editor.client.progress_reports.keys()
        editor.client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=token)
        )
        assert await fake_api.wait_for_disconnect_async(timeout=10)
        result = await asyncio.wait_for(future, 10)
        assert result["applied"] is False
        assert editor.edits == []
        assert editor.text(uri) == ROUTE
    finally:
        hold.set()


async def _run_while_the_user_types(
    editor: Editor, fake_api: FakeAnthropic, typed: str
) -> tuple[str, dict[str, object]]:
    """Run an action whose reply is held until the user has replaced the document's text."""
    hold = threading.Event()
    uri = open_route(editor)
    fake_api.enqueue(tool_reply([AT_ZERO], hold=hold), text_reply("Done."))
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    running = asyncio.ensure_future(editor.run(actions[0]))
    try:
        await fake_api.wait_for_requests_async(1)
        editor.change(uri, typed)
        await asyncio.sleep(0.2)
    finally:
        hold.set()
    return uri, await asyncio.wait_for(running, 20)


async def test_stale_document_is_not_edited(editor: Editor, fake_api: FakeAnthropic) -> None:
    edited_meanwhile = ROUTE.replace("return rows[0];", "return rows[0] as Order;")

    uri, result = await _run_while_the_user_types(editor, fake_api, edited_meanwhile)

    assert result["applied"] is False
    assert editor.text(uri) == edited_meanwhile
    assert editor.edits == []
    errors = [m for m in editor.client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1 and "changed while the agent worked" in errors[0].message


async def test_edit_is_reapplied_when_the_document_changed_elsewhere(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri, result = await _run_while_the_user_types(editor, fake_api, "// orders API\n" + ROUTE)

    assert result["applied"] is True
    assert editor.text(uri) == "// orders API\n" + ROUTE.replace(
        "return rows[0];", "return rows.at(0);"
    )


async def test_a_tool_call_outside_the_workspace_is_refused_and_the_rest_applies(
    editor: Editor, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.ts"
    outside.write_text("export const secret = 1;\n", encoding="utf-8")
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply(
            [
                {"command": "view", "path": "../outside.ts"},
                {"command": "create", "path": str(outside), "file_text": "hacked"},
                AT_ZERO,
            ]
        ),
        text_reply("Done."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    result = await editor.run(actions[0])

    assert result["applied"] is True
    assert outside.read_text(encoding="utf-8") == "export const secret = 1;\n"
    results = fake_api.requests[1].body["messages"][-1]["content"]
    assert [r["is_error"] for r in results] == [True, True, False]
    assert "secret = 1" not in str(results)
    assert editor.text(uri) == ROUTE.replace("return rows[0];", "return rows.at(0);")


async def test_the_request_carries_definitions_from_other_files_and_unsaved_text(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    schema = editor.open("src/db/schema.ts")
    editor.change(schema, editor.text(schema).replace("length: 200 })", "length: 240 })"))
    uri = editor.open("src/routes/posts.ts")
    fake_api.enqueue(text_reply("Nothing to change."))
    actions = await editor.code_actions(uri, editor.range_of(uri, "const rows = await", empty=True))
    action = next(a for a in actions if a.title.endswith("Optimise this Drizzle query"))

    await editor.run(action)

    (request,) = fake_api.requests
    prompt = "\n".join(block["text"] for block in request.body["messages"][0]["content"])
    assert "### `posts` from `src/db/schema.ts`" in prompt
    assert 'title: varchar("title", { length: 240 })' in prompt, "the editor's unsaved text"
    assert "### `postsRelations` from `src/db/schema.ts`" in prompt
    assert "- Drizzle dialect: postgresql" in prompt
    assert "change-me" not in prompt
