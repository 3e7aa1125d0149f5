"""A document with Windows line endings, through the protocol: the same menu and hover as with
`\n`, and the agent's edit lands in place with CRLF line endings."""

from __future__ import annotations

from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.lsp.editor import Editor
from tests.lsp.helpers import ROUTE, open_route

CRLF_ROUTE = ROUTE.replace("\n", "\r\n")


async def _menu(editor: Editor, uri: str, needle: str) -> list[str]:
    actions = await editor.code_actions(uri, editor.range_of(uri, needle, empty=True))
    return [action.title for action in actions]


async def _hover_range(editor: Editor, uri: str, needle: str) -> types.Range | None:
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=editor.range_of(uri, needle, empty=True).start,
        )
    )
    return hover.range if hover is not None else None


async def test_crlf_reads_like_lf_and_keeps_its_line_endings(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    # Static hovers: an explanation made in the background would take the scripted replies.
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"subagentLsp": {"hoverMode": "static"}})
    )
    lf = open_route(editor)
    lf_menu = await _menu(editor, lf, "const rows")
    lf_hover = await _hover_range(editor, lf, 'app.get("/orders')
    editor.change(lf, CRLF_ROUTE)
    crlf = lf

    assert await _menu(editor, crlf, "const rows") == lf_menu
    assert await _hover_range(editor, crlf, 'app.get("/orders') == lf_hover

    fake_api.enqueue(
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/orders.ts",
                    "old_str": "    const rows = await db.select().from(orders)"
                    ".where(eq(orders.id, Number(id)));\n    return rows[0];",
                    "new_str": "    const rows = await db.select().from(orders)"
                    ".where(eq(orders.id, Number(id)));\n    if (rows.length === 0) {\n"
                    "      return reply.code(404).send();\n    }\n    return rows[0];",
                }
            ]
        ),
        text_reply("Added a guard."),
    )
    actions = await editor.code_actions(crlf, editor.range_of(crlf, "return rows[0]", empty=True))
    action = next(a for a in actions if a.title.endswith("Add error handling with guard clauses"))
    result = await editor.run(action)

    assert result["applied"] is True, result
    assert editor.text(crlf) == CRLF_ROUTE.replace(
        "    return rows[0];\r\n",
        "    if (rows.length === 0) {\r\n      return reply.code(404).send();\r\n    }\r\n"
        "    return rows[0];\r\n",
    )
