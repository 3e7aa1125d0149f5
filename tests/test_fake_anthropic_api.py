"""The fake Messages API itself, checked through the real SDK: the tests' model must be faithful."""

from __future__ import annotations

import asyncio
import threading
import time

import anthropic
import pytest

from tests.fakes.anthropic_api import (
    FakeAnthropic,
    error_reply,
    stream_error_reply,
    text_reply,
    tool_reply,
)


def _client(api: FakeAnthropic) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        api_key="test-key-not-real", base_url=api.base_url, max_retries=0
    )


async def _stream(api: FakeAnthropic, **extra: object) -> anthropic.types.Message:
    async with _client(api).messages.stream(
        model="claude-sonnet-5-5",
        max_tokens=64,
        system="Be brief.",
        messages=[{"role": "user", "content": "hi"}],
        **extra,  # type: ignore[arg-type]
    ) as stream:
        return await stream.get_final_message()


async def test_a_streamed_text_reply_is_received_and_the_request_recorded(
    fake_api: FakeAnthropic,
) -> None:
    fake_api.enqueue(text_reply("Hello there, developer.", usage={"cache_read_input_tokens": 90}))
    message = await _stream(fake_api)
    assert (
        message.content[0].type == "text" and message.content[0].text == "Hello there, developer."
    )
    assert message.usage.cache_read_input_tokens == 90
    (request,) = fake_api.requests
    assert request.path == "/v1/messages"
    # Newer SDKs send the key as a bearer token, older ones as x-api-key.
    sent = request.headers.get("x-api-key") or request.headers["authorization"]
    assert sent.endswith("test-key-not-real")
    assert request.body["stream"] is True and request.body["system"] == "Be brief."


async def test_tool_calls_stream_their_input_in_pieces_and_parse_exactly(
    fake_api: FakeAnthropic,
) -> None:
    call = {"command": "str_replace", "path": "src/a.ts", "old_str": 'x = "1"', "new_str": "y"}
    fake_api.enqueue(tool_reply([call], text="Editing."))
    message = await _stream(fake_api)
    assert message.stop_reason == "tool_use"
    (block,) = [b for b in message.content if b.type == "tool_use"]
    assert block.input == call and block.name == "str_replace_based_edit_tool"


async def test_events_arrive_as_they_are_sent(fake_api: FakeAnthropic) -> None:
    fake_api.enqueue(text_reply("one two three four", chunks=4, delay=0.3))
    started = time.monotonic()
    first_delta = None
    async with _client(fake_api).messages.stream(
        model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        async for event in stream:
            if event.type == "text" and first_delta is None:
                first_delta = time.monotonic() - started
    total = time.monotonic() - started
    assert first_delta is not None and first_delta < total - 0.5


@pytest.mark.parametrize(
    ("status", "kind", "exception"),
    [
        (401, "authentication_error", anthropic.AuthenticationError),
        (429, "rate_limit_error", anthropic.RateLimitError),
        (529, "overloaded_error", anthropic.APIStatusError),
    ],
)
async def test_error_statuses_raise_the_sdk_errors(
    fake_api: FakeAnthropic, status: int, kind: str, exception: type[Exception]
) -> None:
    fake_api.enqueue(error_reply(status, kind, "no", headers={"retry-after": "3"}))
    with pytest.raises(exception) as caught:
        await _stream(fake_api)
    assert getattr(caught.value, "status_code", None) == status


async def test_an_error_event_mid_stream_raises(fake_api: FakeAnthropic) -> None:
    fake_api.enqueue(stream_error_reply(after_events=4))
    with pytest.raises(anthropic.APIError, match="Overloaded"):
        await _stream(fake_api)


async def test_a_truncated_stream_does_not_yield_a_complete_message(
    fake_api: FakeAnthropic,
) -> None:
    fake_api.enqueue(text_reply("cut short", truncate=True))
    with pytest.raises(Exception):  # noqa: B017 - the SDK's exact error for a cut stream varies
        message = await _stream(fake_api)
        assert message.stop_reason is not None


async def test_cancelling_a_held_stream_closes_the_connection(fake_api: FakeAnthropic) -> None:
    hold = threading.Event()
    fake_api.enqueue(text_reply("waiting " * 20, hold=hold))
    task = asyncio.ensure_future(_stream(fake_api))
    await fake_api.wait_for_requests_async(1)
    await asyncio.sleep(0.2)
    task.cancel()
    assert await fake_api.wait_for_disconnect_async(timeout=5)
    hold.set()


async def test_an_unscripted_request_fails_loudly(fake_api: FakeAnthropic) -> None:
    with pytest.raises(anthropic.InternalServerError, match="no reply scripted"):
        await _stream(fake_api)
    assert len(fake_api.requests) == 1


async def test_a_non_streaming_request_gets_a_whole_message(fake_api: FakeAnthropic) -> None:
    fake_api.enqueue(text_reply("whole"))
    message = await _client(fake_api).messages.create(
        model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].type == "text" and message.content[0].text == "whole"
