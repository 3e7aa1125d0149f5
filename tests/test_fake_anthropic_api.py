"""The fake Messages API, checked through the real SDK: the other tests rely on it being faithful."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from tests.fakes.anthropic_api import (
    NO_REPLY_MESSAGE,
    FakeAnthropic,
    error_reply,
    stream_error_reply,
    text_reply,
    tool_reply,
)

API_KEY = "test-key-not-real"
MODEL = "claude-sonnet-5-5"
EDIT_TOOL: dict[str, Any] = {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}


@pytest.fixture
def fake_api() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as api:
        yield api


def _client(api: FakeAnthropic) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key=API_KEY, base_url=api.base_url, max_retries=0)


def _stream(api: FakeAnthropic, **extra: Any) -> Any:
    return _client(api).messages.stream(
        model=MODEL,
        max_tokens=64,
        system="Be brief.",
        messages=[{"role": "user", "content": "hi"}],
        **extra,
    )


async def _final_message(api: FakeAnthropic, **extra: Any) -> anthropic.types.Message:
    async with _stream(api, **extra) as stream:
        message: anthropic.types.Message = await stream.get_final_message()
    return message


async def test_a_streamed_text_reply_arrives_and_the_request_is_recorded(
    fake_api: FakeAnthropic,
) -> None:
    fake_api.enqueue(text_reply("Hello there, developer.", usage={"cache_read_input_tokens": 90}))
    deltas: list[str] = []
    async with _stream(fake_api, tools=[EDIT_TOOL]) as stream:
        async for event in stream:
            if event.type == "text":
                deltas.append(event.text)
        message = await stream.get_final_message()

    assert len(deltas) == 3 and "".join(deltas) == "Hello there, developer."
    assert [(b.type, getattr(b, "text", None)) for b in message.content] == [
        ("text", "Hello there, developer.")
    ]
    assert message.id.startswith("msg_01") and message.model == MODEL
    assert message.stop_reason == "end_turn"
    assert message.usage.cache_read_input_tokens == 90
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0

    (request,) = fake_api.requests
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.body["model"] == MODEL and request.body["stream"] is True
    assert request.body["system"] == "Be brief."
    assert request.body["messages"] == [{"role": "user", "content": "hi"}]
    assert request.body["tools"] == [EDIT_TOOL]
    # This SDK sends the key as a bearer token; older ones used x-api-key.
    credential = request.headers.get("x-api-key") or request.headers["authorization"]
    assert credential.removeprefix("Bearer ") == API_KEY
    assert "anthropic-version" in request.headers


async def test_tool_calls_stream_their_input_in_pieces_and_parse_exactly(
    fake_api: FakeAnthropic,
) -> None:
    edit = {"command": "str_replace", "path": "src/a.ts", "old_str": 'x = "1"', "new_str": "y"}
    view = {"command": "view", "path": "src/b.ts"}
    fake_api.enqueue(tool_reply([edit, view], text="Editing."))
    pieces: list[str] = []
    async with _stream(fake_api) as stream:
        async for event in stream:
            if event.type == "input_json" and event.partial_json:
                pieces.append(event.partial_json)
        message = await stream.get_final_message()

    assert message.stop_reason == "tool_use"
    text, *uses = message.content
    assert text.type == "text" and text.text == "Editing."
    assert [(u.type, getattr(u, "name", None), getattr(u, "input", None)) for u in uses] == [
        ("tool_use", "str_replace_based_edit_tool", edit),
        ("tool_use", "str_replace_based_edit_tool", view),
    ]
    ids = [getattr(u, "id", "") for u in uses]
    assert all(i.startswith("toolu_01") for i in ids) and len(set(ids)) == 2
    assert len(pieces) >= 4


async def test_events_arrive_as_they_are_sent_not_when_the_stream_ends(
    fake_api: FakeAnthropic,
) -> None:
    fake_api.enqueue(text_reply("first, then second", chunks=2, delay=0.5))
    started = time.monotonic()
    first_delta = None
    async with _stream(fake_api) as stream:
        async for event in stream:
            if event.type == "text" and first_delta is None:
                first_delta = time.monotonic() - started
    total = time.monotonic() - started
    assert first_delta is not None and first_delta < total - 0.4


@pytest.mark.parametrize(
    ("status", "error_type", "exception"),
    [
        (401, "authentication_error", anthropic.AuthenticationError),
        (429, "rate_limit_error", anthropic.RateLimitError),
        (500, "api_error", anthropic.InternalServerError),
        (529, "overloaded_error", anthropic.OverloadedError),
    ],
)
async def test_error_statuses_raise_the_sdk_errors(
    fake_api: FakeAnthropic, status: int, error_type: str, exception: type[Exception]
) -> None:
    fake_api.enqueue(error_reply(status, error_type, "nope", headers={"retry-after": "3"}))
    with pytest.raises(exception) as caught:
        await _final_message(fake_api)
    error = caught.value
    assert isinstance(error, anthropic.APIStatusError)
    assert (error.status_code, error.type, error.api_message) == (status, error_type, "nope")
    assert error.response.headers["retry-after"] == "3"
    assert error.request_id is not None and error.request_id.startswith("req_01")


async def test_an_error_event_mid_stream_raises_after_the_first_text(
    fake_api: FakeAnthropic,
) -> None:
    fake_api.enqueue(stream_error_reply(after_events=4))
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with _stream(fake_api) as stream:
            async for event in stream:
                if event.type == "text":
                    seen.append(event.text)
    # The HTTP status was already 200 when the error arrived, and the SDK reports that status.
    assert (caught.value.status_code, caught.value.type) == (200, "overloaded_error")
    assert len(seen) == 1


async def test_a_truncated_stream_fails_instead_of_ending_quietly(
    fake_api: FakeAnthropic,
) -> None:
    fake_api.enqueue(text_reply("cut short", truncate=True))
    # The SDK lets the HTTP library's error through; its class depends on that library.
    with pytest.raises(Exception, match="incomplete chunked read"):
        await _final_message(fake_api)


async def test_a_held_stream_continues_when_released(fake_api: FakeAnthropic) -> None:
    hold = threading.Event()
    fake_api.enqueue(text_reply("held then released", hold=hold))
    async with _stream(fake_api) as stream:
        async for event in stream:
            if event.type == "text":
                break
        assert not hold.is_set()
        hold.set()
        message = await stream.get_final_message()
    assert message.content[0].type == "text"
    assert message.content[0].text == "held then released"
    assert fake_api.disconnects == 0


async def test_cancelling_a_held_stream_closes_the_connection(fake_api: FakeAnthropic) -> None:
    hold = threading.Event()
    fake_api.enqueue(text_reply("waiting " * 20, hold=hold))
    streaming = asyncio.Event()

    async def consume() -> None:
        async with _stream(fake_api) as stream:
            async for event in stream:
                if event.type == "text":
                    streaming.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(streaming.wait(), 5)
    task.cancel()
    assert await fake_api.wait_for_disconnect_async(timeout=5)
    assert fake_api.disconnects == 1
    hold.set()


async def test_an_unscripted_request_fails_loudly_and_is_still_recorded(
    fake_api: FakeAnthropic,
) -> None:
    with pytest.raises(anthropic.InternalServerError, match=NO_REPLY_MESSAGE):
        await _final_message(fake_api)
    assert len(fake_api.requests) == 1


async def test_a_non_streaming_request_gets_a_whole_message(fake_api: FakeAnthropic) -> None:
    call = {"command": "create", "path": "src/c.ts", "file_text": "export {};\n"}
    fake_api.enqueue(tool_reply([call], text="Creating."))
    message = await _client(fake_api).messages.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.stop_reason == "tool_use" and message.model == MODEL
    text, use = message.content
    assert text.type == "text" and text.text == "Creating."
    assert use.type == "tool_use" and use.input == call
    assert message.usage.output_tokens > 0
    assert not fake_api.requests[0].body.get("stream")


async def test_replies_are_taken_in_order_and_token_counts_take_none(
    fake_api: FakeAnthropic,
) -> None:
    fake_api.enqueue(text_reply("First."), text_reply("Second."))
    client = _client(fake_api)
    counted = await client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "how many?"}]
    )
    first = await _final_message(fake_api)
    second = await _final_message(fake_api)
    assert counted.input_tokens > 0
    assert [first.content[0].type, second.content[0].type] == ["text", "text"]
    assert [getattr(m.content[0], "text", "") for m in (first, second)] == ["First.", "Second."]
    assert [r.path for r in fake_api.requests] == [
        "/v1/messages/count_tokens",
        "/v1/messages",
        "/v1/messages",
    ]
    assert fake_api.pending == 0


def test_sync_code_can_drive_and_wait_on_it(fake_api: FakeAnthropic) -> None:
    fake_api.enqueue(text_reply("From a thread."))
    client = anthropic.Anthropic(api_key=API_KEY, base_url=fake_api.base_url, max_retries=0)
    results: list[str] = []

    def call() -> None:
        with client.messages.stream(
            model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            results.append(stream.get_final_text())

    worker = threading.Thread(target=call)
    worker.start()
    (request,) = fake_api.wait_for_requests(1)
    worker.join(5)
    assert request.body["max_tokens"] == 8 and results == ["From a thread."]
    with pytest.raises(AssertionError, match="expected 2 requests"):
        fake_api.wait_for_requests(2, timeout=0.05)
    assert not fake_api.wait_for_disconnect(timeout=0.05)
