"""Hints from the code's own facts: published on open and after changes, without any model call,
each with a quick fix that ends in an edit, and a setting to turn them off."""

from __future__ import annotations

from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.lsp.editor import Editor, wait_until


async def _hints(editor: Editor, uri: str) -> list[types.Diagnostic]:
    await wait_until(lambda: bool(editor.client.diagnostics.get(uri)), timeout=20)
    return list(editor.client.diagnostics[uri])


async def test_the_examples_imperfections_are_hinted_and_nothing_else(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    users = editor.open("src/routes/users.ts")
    posts = editor.open("src/routes/posts.ts")
    found = {(d.range.start.line + 1, d.code, d.severity) for d in await _hints(editor, users)}
    assert found == {
        (11, "unindexed-column", types.DiagnosticSeverity.Hint),
        (28, "unvalidated-input", types.DiagnosticSeverity.Information),
        (44, "unvalidated-input", types.DiagnosticSeverity.Information),
    }
    messages = [d.message for d in await _hints(editor, posts)]
    assert "Query runs once per iteration of a `for…of` loop (N+1)" in messages
    assert all(d.source == "subagent-lsp" for d in editor.client.diagnostics[posts])
    assert fake_api.requests == []


async def test_a_hint_is_fixed_by_the_agent_and_goes(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uri = editor.open("src/routes/users.ts")
    hint = next(d for d in await _hints(editor, uri) if "POST /users" in d.message)
    fixes = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=hint.range,
            context=types.CodeActionContext(diagnostics=[hint], only=["quickfix"]),
        )
    )
    (fix,) = [f for f in fixes or [] if isinstance(f, types.CodeAction)]
    assert fix.title == "Fix with backend-engineer"
    fake_api.enqueue(
        tool_reply(
            [
                {
                    "command": "str_replace",
                    "path": "src/routes/users.ts",
                    "old_str": "    const body = request.body as { email: string; displayName: string; role?: string };",
                    "new_str": "    const body = createUserBody.parse(request.body);",
                }
            ]
        ),
        text_reply("Validated."),
    )
    result = await editor.run(fix)
    assert result["applied"] is True
    prompt = "\n".join(b["text"] for b in fake_api.requests[0].body["messages"][0]["content"])
    assert "POST /users reads body that nothing validates" in prompt
    await wait_until(
        lambda: not any("POST /users" in d.message for d in editor.client.diagnostics.get(uri, [])),
        timeout=20,
    )


async def test_hints_can_be_turned_off(editor: Editor) -> None:
    uri = editor.open("src/routes/users.ts")
    assert await _hints(editor, uri)
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"subagentLsp": {"diagnostics": False}})
    )
    editor.change(uri, editor.text(uri) + "\n")
    await wait_until(lambda: not editor.client.diagnostics.get(uri), timeout=20)
