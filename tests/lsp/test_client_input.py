"""Odd input from the client gets a proper answer, and edits land exactly in every encoding."""

from __future__ import annotations

import asyncio
import threading

import pytest
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.lsp.editor import Editor
from tests.lsp.helpers import AT_ZERO, ROUTE, open_route

EMOJI_ROUTE = ROUTE.replace(
    "  app.get(",
    '  // 🚀 orders, fast 🎉 — «ünïcödé»\n  app.get("/orders/🆔", async () => "🙂");\n  app.get(',
)


async def test_edits_after_astral_characters_land_exactly_in_the_negotiated_encoding(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = open_route(editor, EMOJI_ROUTE)
    fake_api.enqueue(
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/orders.ts",
                    "old_str": 'async () => "🙂"',
                    "new_str": 'async () => "😀 ok"',
                },
                {
                    "command": "str_replace",
                    "path": "src/routes/orders.ts",
                    "old_str": "return rows[0];",
                    "new_str": "return rows[0] ?? null;",
                },
            ]
        ),
        text_reply("Done."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    result = await editor.run(actions[0])

    assert result["applied"] is True
    expected = EMOJI_ROUTE.replace('async () => "🙂"', 'async () => "😀 ok"').replace(
        "return rows[0];", "return rows[0] ?? null;"
    )
    assert editor.text(uri) == expected
    # Neovim offers utf-8 first and gets it; VS Code speaks utf-16.
    assert editor.encoding == ("utf-8" if editor.preset == "neovim" else "utf-16")


@pytest.mark.parametrize(
    ("start", "end"),
    [((9, 20), (9, 4)), ((500, 0), (900, 3)), ((9, 400), (9, 400))],
    ids=["reversed", "past the end", "past the line end"],
)
async def test_odd_ranges_still_get_an_answer(
    editor: Editor, start: tuple[int, int], end: tuple[int, int]
) -> None:
    uri = open_route(editor)
    rng = types.Range(
        start=types.Position(line=start[0], character=start[1]),
        end=types.Position(line=end[0], character=end[1]),
    )
    actions = await editor.code_actions(uri, rng)
    assert isinstance(actions, list)
    assert await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))


async def test_an_untitled_document_lists_actions_but_cannot_be_edited_by_the_agent(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = "untitled:Untitled-1"
    editor.client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="typescript", version=1, text=ROUTE
            )
        )
    )
    rng = editor.range_of(open_route(editor), "return rows[0]", empty=True)
    actions = await editor.code_actions(uri, rng)
    assert actions
    with pytest.raises(Exception, match="not a file on disk"):
        await editor.run(actions[0])
    assert fake_api.requests == []


async def test_unknown_commands_are_refused_and_the_server_keeps_serving(editor: Editor) -> None:
    with pytest.raises(Exception, match="not defined"):
        await editor.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="subagent-lsp.selfDestruct", arguments=[])
        )
    for bad in ([{"uri": 3}], [{"uri": "file:///x.ts", "range": "all"}], [1, 2]):
        with pytest.raises(Exception):  # noqa: B017 - an error response, whatever its wording
            await editor.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="subagent-lsp.runAction", arguments=bad)
            )
    uri = open_route(editor)
    assert await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))


async def test_a_ten_megabyte_document_is_served(editor: Editor, fake_api: FakeAnthropic) -> None:
    filler = "".join(f"export const value{n} = {n};\n" for n in range(400_000))
    text = ROUTE + filler
    assert len(text.encode()) > 10_000_000
    uri = open_route(editor, text)
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    assert actions
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
    result = await editor.run(actions[0])
    assert result["applied"] is True
    assert editor.text(uri) == text.replace("return rows[0];", "return rows[0] ?? null;")


async def test_a_file_that_is_not_utf8_on_disk_is_left_out_and_never_rewritten(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    schema = editor.path("src/db/schema.ts")
    broken = b"export const orders = '\xff\xfe caf\xe9';\n"
    schema.write_bytes(broken)
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply(
            [
                {"command": "view", "path": "src/db/schema.ts"},
                {
                    "command": "str_replace",
                    "path": "src/db/schema.ts",
                    "old_str": "orders",
                    "new_str": "allOrders",
                },
                AT_ZERO,
            ]
        ),
        text_reply("Done."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    result = await editor.run(actions[0])

    assert result["applied"] is True
    assert schema.read_bytes() == broken
    results = fake_api.requests[1].body["messages"][-1]["content"]
    assert [r["is_error"] for r in results] == [True, True, False]
    assert "not a UTF-8 text file" in str(results[0]["content"])
    assert editor.text(uri) == ROUTE.replace("return rows[0];", "return rows.at(0);")


async def test_rapid_typing_while_an_action_runs_ends_in_one_consistent_document(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    hold = threading.Event()
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply([AT_ZERO], hold=hold),
        text_reply("Done."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    running = asyncio.ensure_future(editor.run(actions[0]))
    comment = "// typed while the agent worked\n"
    try:
        await fake_api.wait_for_requests_async(1)
        for n in range(1, len(comment) + 1):
            editor.change(uri, comment[:n] + ROUTE)
            # Code actions and hovers keep answering on every version in between.
            if n % 8 == 0:
                rng = editor.range_of(uri, "return rows[0]", empty=True)
                assert await editor.code_actions(uri, rng)
    finally:
        hold.set()
    result = await asyncio.wait_for(running, 20)

    assert result["applied"] is True
    assert editor.text(uri) == comment + ROUTE.replace("return rows[0];", "return rows.at(0);")
