"""Every way the model API can fail: one clear sentence, no file changed, and the server keeps serving."""

from __future__ import annotations

import threading

import pytest
from lsprotocol import types

from tests.conftest import DUMMY_KEY
from tests.fakes.anthropic_api import (
    FakeAnthropic,
    Reply,
    error_reply,
    stream_error_reply,
    text_reply,
    tool_reply,
)
from tests.lsp.editor import Editor
from tests.lsp.test_code_actions import ROUTE, _open_route

NEVER = threading.Event()


def _edit(old: str) -> dict[str, str]:
    return {
        "command": "str_replace",
        "path": "src/routes/orders.ts",
        "old_str": old,
        "new_str": "changed",
    }


FAULTS: dict[str, tuple[list[Reply], str]] = {
    "401": (
        [error_reply(401, "authentication_error", "invalid x-api-key")],
        "rejected the API key (401)",
    ),
    "403": ([error_reply(403, "permission_error", "no access")], "(403)"),
    "404 model": (
        [error_reply(404, "not_found_error", "model: nope")],
        "Model 'claude-sonnet-5-5' was not found (404)",
    ),
    "413": ([error_reply(413, "request_too_large", "too big")], "too large for the API (413)"),
    "429": (
        [error_reply(429, "rate_limit_error", "slow down", {"retry-after": "17"})],
        "rate limiting this key (429). Try again in 17 s.",
    ),
    "529": ([error_reply(529, "overloaded_error", "Overloaded")], "overloaded right now (529)"),
    "500": ([error_reply(500, "api_error", "boom")], "server error (500)"),
    "timeout": ([text_reply("never finishes", hold=NEVER)], "did not answer within 1 s"),
    "reset mid-stream": (
        [text_reply("cut", truncate=True)],
        "broke off in the middle of the reply",
    ),
    "error event": ([stream_error_reply(after_events=4)], "overloaded right now"),
    "malformed tool input": (
        [tool_reply([{}], raw_inputs=['{"command": "str_replace", "path": ']), text_reply("ok")],
        "changed nothing",
    ),
    "max_tokens": ([text_reply("half", stop_reason="max_tokens")], "reached the output limit"),
    "refusal": ([text_reply("no", stop_reason="refusal")], "declined this request"),
    "old_str matches nothing": (
        [tool_reply([_edit("not in the file")]), text_reply("Tried.")],
        "its last edit failed: No match found",
    ),
    "old_str matches twice": (
        [tool_reply([_edit("rows")]), text_reply("Tried.")],
        "Found 2 matches",
    ),
    "endless tool loop": (
        [tool_reply([{"command": "view", "path": "src/routes/orders.ts"}]) for _ in range(3)],
        "stopped after 3 rounds of tool calls",
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_failed_model_call_changes_nothing_and_says_what_to_do(
    editor: Editor, fake_api: FakeAnthropic, fault: str
) -> None:
    editor.client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"subagentLsp": {"maxRetries": 0, "requestTimeout": 1, "maxToolTurns": 3}}
        )
    )
    replies, sentence = FAULTS[fault]
    fake_api.enqueue(*replies)
    uri = _open_route(editor)
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))

    result = await editor.run(actions[0])

    assert result["applied"] is False
    assert editor.edits == [] and editor.text(uri) == ROUTE
    assert editor.path("src/routes/orders.ts").read_text(encoding="utf-8") == ROUTE
    (error,) = [m for m in editor.client.messages if m.type == types.MessageType.Error]
    assert sentence in error.message
    assert "\n" not in error.message and DUMMY_KEY not in error.message
    # The server keeps serving.
    assert await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
