"""Every folder name a user has: actions, hovers and edits in folders whose names need encoding,
with each editor's own spelling of the uris."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.helpers import make_project
from tests.lsp.editor import Editor, path_of, server_config
from tests.lsp.helpers import ROUTE, open_route

FOLDER_NAMES = ["My Project", "proj+1", "projéct", "項目", "a#b", "a@b", "a[b]"]


@pytest_asyncio.fixture(params=["neovim", "vscode"])
async def odd_editor(
    request: pytest.FixtureRequest, tmp_path: Path, server_env: dict[str, str], folder: str
) -> AsyncIterator[Editor]:
    root = make_project(tmp_path / folder)
    client = await server_config(server_env).start()
    editor = Editor(client, root, request.param)
    # Static hovers: an explanation made in the background would take the scripted replies.
    await editor.initialize({"hoverMode": "static"})
    try:
        yield editor
    finally:
        await editor.shutdown()
        await client.stop()


@pytest.fixture(params=FOLDER_NAMES)
def folder(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_a_folder_name_that_needs_encoding_changes_nothing(
    odd_editor: Editor, fake_api: FakeAnthropic
) -> None:
    editor = odd_editor
    uri = open_route(editor)
    assert "%" in uri or "+" in uri or "@" in uri

    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    assert any(a.title.endswith("Add error handling with guard clauses") for a in actions)

    hover = await editor.client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=editor.range_of(uri, 'app.get("/orders', empty=True).start,
        )
    )
    assert hover is not None and "GET /orders/:id" in str(hover.contents)

    fake_api.enqueue(
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/orders.ts",
                    "old_str": "return rows[0];",
                    "new_str": "return first(rows);",
                },
                {
                    "command": "create",
                    "path": "src/lib/first item.ts",
                    "file_text": "export const first = <T>(rows: T[]) => rows[0];\n",
                },
            ]
        ),
        text_reply("Done."),
    )
    action = next(a for a in actions if a.title.endswith("Add error handling with guard clauses"))
    result = await editor.run(action)

    assert result["applied"] is True, result
    assert editor.text(uri) == ROUTE.replace("return rows[0];", "return first(rows);")
    (applied,) = editor.edits
    named = [
        change.text_document.uri
        for change in applied.edit.document_changes or []
        if isinstance(change, types.TextDocumentEdit)
    ]
    created = [
        change.uri
        for change in applied.edit.document_changes or []
        if isinstance(change, types.CreateFile)
    ]
    # The open document is named exactly as the editor named it; the new file below the folder
    # keeps the editor's spelling of the folder.
    assert uri in named
    assert [path_of(u) for u in created] == [editor.path("src/lib/first item.ts").resolve()]
    assert all(u.startswith(editor.uri("src").rsplit("/", 1)[0]) for u in created)
    assert editor.path("src/lib/first item.ts").read_text(encoding="utf-8").startswith("export")
