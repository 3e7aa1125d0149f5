"""Every way the model API can fail, and every way a reply can reach too far: one clear sentence,
no file changed outside what is allowed, and the server keeps serving."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from lsprotocol import types

from tests.fakes.anthropic_api import (
    FakeAnthropic,
    Reply,
    error_reply,
    stream_error_reply,
    text_reply,
    tool_reply,
)
from tests.helpers import DUMMY_KEY
from tests.lsp.editor import Editor
from tests.lsp.helpers import ROUTE, open_route

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
    uri = open_route(editor)
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


async def test_the_model_cannot_reach_through_symlinks_secrets_or_other_tools(
    editor: Editor, fake_api: FakeAnthropic, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.ts"
    outside.write_text("export const elsewhere = 1;\n", encoding="utf-8")
    (editor.root / "src" / "linked.ts").symlink_to(outside)
    (editor.root / "src" / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    env_file = editor.root / ".env"
    env_file.write_text("DATABASE_URL=postgres://admin:hunter2@db/prod\n", encoding="utf-8")
    proof = tmp_path / "executed"
    uri = open_route(editor)
    fake_api.enqueue(
        tool_reply(
            [
                {"command": "view", "path": "src/linked.ts"},
                {"command": "str_replace", "path": "src/linked.ts", "old_str": "1", "new_str": "2"},
                {"command": "create", "path": "src/linked-dir/new.ts", "file_text": "x"},
                {"command": "view", "path": ".env"},
                {"command": "create", "path": ".env.local", "file_text": "STOLEN=1"},
                {"command": "str_replace", "path": ".env", "old_str": "hunter2", "new_str": "x"},
            ]
        ),
        tool_reply([{"command": f"touch {proof}"}], tool_name="bash"),
        tool_reply([_edit("return rows[0];")]),
        text_reply("Done."),
    )
    actions = await editor.code_actions(uri, editor.range_of(uri, "return rows[0]", empty=True))
    result = await editor.run(actions[0])

    assert result["applied"] is True
    assert editor.text(uri) == ROUTE.replace("return rows[0];", "changed")
    refused = fake_api.requests[1].body["messages"][-1]["content"]
    assert [r["is_error"] for r in refused] == [True] * 6
    other_tool = fake_api.requests[2].body["messages"][-1]["content"]
    assert [r["is_error"] for r in other_tool] == [True]
    assert not proof.exists()
    assert outside.read_text(encoding="utf-8") == "export const elsewhere = 1;\n"
    assert not (tmp_path / "new.ts").exists()
    assert not (editor.root / ".env.local").exists()
    assert "hunter2" in env_file.read_text(encoding="utf-8")
    # Nothing of the secret file went to the model (its own tool calls aside, which name "hunter2").
    assert all("postgres://admin" not in json.dumps(r.body) for r in fake_api.requests)
