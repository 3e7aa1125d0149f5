"""The tool loop against the fake API over real HTTP: what it sends, answers and refuses."""

from __future__ import annotations

from collections.abc import Mapping

import anthropic
import pytest

from subagent_lsp.model.errors import ModelError, sentence_for
from subagent_lsp.model.loop import ModelRequest, run_tool_loop
from subagent_lsp.model.tools import ToolResult, edit_tool
from subagent_lsp.settings import Settings
from tests.fakes.anthropic_api import FakeAnthropic, error_reply, text_reply, tool_reply

REQUEST = ModelRequest(
    model="claude-sonnet-5-5",
    system=[{"type": "text", "text": "You are terse."}],
    user=[{"type": "text", "text": "Do it."}],
    tools=[edit_tool(compatible=False, cache=False)],
    max_tokens=512,
)


def _client(api: FakeAnthropic) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="test-key", base_url=api.base_url, max_retries=0)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[Mapping[str, object]] = []

    async def __call__(self, name: str, tool_input: Mapping[str, object]) -> ToolResult:
        assert name == "str_replace_based_edit_tool"
        self.calls.append(tool_input)
        return ToolResult("ok", False)


async def test_tool_calls_are_executed_and_answered_until_the_turn_ends(
    fake_api: FakeAnthropic,
) -> None:
    call = {"command": "view", "path": "src/app.ts"}
    fake_api.enqueue(tool_reply([call, call]), text_reply("All done."))
    recorder = Recorder()

    outcome = await run_tool_loop(_client(fake_api), REQUEST, recorder, max_turns=4)

    assert outcome.text == "All done."
    assert recorder.calls == [call, call]
    assert outcome.tool_calls == 2 and outcome.turns == 2
    answer = fake_api.requests[1].body["messages"]
    assert [m["role"] for m in answer] == ["user", "assistant", "user"]
    assert [r["content"] for r in answer[2]["content"]] == ["ok", "ok"]
    tool_use_ids = [b["id"] for b in answer[1]["content"] if b["type"] == "tool_use"]
    assert [r["tool_use_id"] for r in answer[2]["content"]] == tool_use_ids


async def test_an_endless_tool_loop_is_stopped(fake_api: FakeAnthropic) -> None:
    fake_api.enqueue(*[tool_reply([{"command": "view", "path": "a.ts"}]) for _ in range(3)])
    with pytest.raises(ModelError, match="after 3 rounds"):
        await run_tool_loop(_client(fake_api), REQUEST, Recorder(), max_turns=3)


@pytest.mark.parametrize(
    ("stop_reason", "words"), [("max_tokens", "output limit"), ("refusal", "declined")]
)
async def test_an_unfinished_or_refused_reply_is_an_error(
    fake_api: FakeAnthropic, stop_reason: str, words: str
) -> None:
    fake_api.enqueue(text_reply("partial", stop_reason=stop_reason))
    with pytest.raises(ModelError, match=words):
        await run_tool_loop(_client(fake_api), REQUEST, Recorder(), max_turns=3)


async def test_a_call_to_an_unknown_tool_gets_an_error_result(fake_api: FakeAnthropic) -> None:
    fake_api.enqueue(
        tool_reply([{"command": "run", "cmd": "rm -rf /"}], tool_name="bash"), text_reply("ok")
    )
    recorder = Recorder()
    outcome = await run_tool_loop(_client(fake_api), REQUEST, recorder, max_turns=3)
    assert recorder.calls == []
    assert outcome.tool_errors and "Unknown tool" in outcome.tool_errors[0]


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (401, "authentication_error", "rejected the API key (401)"),
        (403, "permission_error", "(403)"),
        (404, "not_found_error", "Model 'claude-sonnet-5-5' was not found (404)"),
        (413, "request_too_large", "too large"),
        (429, "rate_limit_error", "Try again in 7 s"),
        (500, "api_error", "server error (500)"),
        (529, "overloaded_error", "overloaded"),
    ],
)
async def test_api_errors_become_one_sentence(
    fake_api: FakeAnthropic, status: int, kind: str, expected: str
) -> None:
    fake_api.enqueue(error_reply(status, kind, "nope", headers={"retry-after": "7"}))
    with pytest.raises(anthropic.APIError) as caught:
        await run_tool_loop(_client(fake_api), REQUEST, Recorder(), max_turns=3)
    sentence = sentence_for(caught.value, Settings(), REQUEST.model)
    assert expected in sentence
    assert "test-key" not in sentence


async def test_the_compatible_mode_sends_the_tool_with_a_schema(fake_api: FakeAnthropic) -> None:
    tool = edit_tool(compatible=True, cache=False)
    fake_api.enqueue(text_reply("ok"))
    request = ModelRequest(REQUEST.model, REQUEST.system, REQUEST.user, [tool], 256)
    await run_tool_loop(_client(fake_api), request, Recorder(), max_turns=1)
    (sent,) = fake_api.requests[0].body["tools"]
    assert sent["name"] == "str_replace_based_edit_tool"
    assert sent["input_schema"]["properties"]["command"]["enum"] == [
        "view",
        "str_replace",
        "create",
        "insert",
    ]
