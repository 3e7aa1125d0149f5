"""A fake Anthropic Messages API: real HTTP on 127.0.0.1, real SSE streaming, scripted per test.

It runs its own event loop in a background thread, so it serves the SDK whether the code under test
runs in the test process or in a language server subprocess pointed at it by ANTHROPIC_BASE_URL.
Every request is recorded; a reply can stream slowly, hold until released, break off, or fail.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}_fake{next(_ids):06d}"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Reply:
    """One scripted answer. Either ``status`` with an error body, or a streamed message."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    usage: dict[str, int] = field(default_factory=dict)
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hold: threading.Event | None = None
    truncate: bool = False
    stream_error_after: int | None = None
    chunks: int = 3


def _split(text: str, pieces: int) -> list[str]:
    if not text:
        return [""]
    pieces = max(1, min(pieces, len(text)))
    size = -(-len(text) // pieces)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _usage(extra: dict[str, int] | None = None) -> dict[str, int]:
    usage = {
        "input_tokens": 120,
        "output_tokens": 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    usage.update(extra or {})
    return usage


def text_reply(
    text: str,
    *,
    chunks: int = 3,
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
    delay: float = 0.0,
    hold: threading.Event | None = None,
    truncate: bool = False,
) -> Reply:
    return Reply(
        blocks=[{"type": "text", "text": text}],
        stop_reason=stop_reason,
        usage=_usage(usage),
        delay=delay,
        hold=hold,
        truncate=truncate,
        chunks=chunks,
    )


def tool_reply(
    calls: list[dict[str, Any]],
    *,
    text: str | None = None,
    tool_name: str = "str_replace_based_edit_tool",
    stop_reason: str = "tool_use",
    usage: dict[str, int] | None = None,
    delay: float = 0.0,
    hold: threading.Event | None = None,
    raw_inputs: list[str] | None = None,
) -> Reply:
    """A message with optional leading text and one tool_use block per call.

    ``raw_inputs`` replaces the JSON streamed for each call, to send malformed input on purpose.
    """
    blocks: list[dict[str, Any]] = []
    if text is not None:
        blocks.append({"type": "text", "text": text})
    for index, call in enumerate(calls):
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": _new_id("toolu"),
            "name": tool_name,
            "input": call,
        }
        if raw_inputs is not None:
            block["raw"] = raw_inputs[index]
        blocks.append(block)
    return Reply(
        blocks=blocks, stop_reason=stop_reason, usage=_usage(usage), delay=delay, hold=hold
    )


def error_reply(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    return Reply(
        status=status,
        error={"type": "error", "error": {"type": error_type, "message": message}},
        headers=dict(headers or {}),
    )


def stream_error_reply(
    after_events: int = 3,
    error_type: str = "overloaded_error",
    message: str = "Overloaded",
) -> Reply:
    reply = text_reply("This reply will break off part way through.", chunks=6)
    reply.stream_error_after = after_events
    reply.error = {"type": "error", "error": {"type": error_type, "message": message}}
    return reply


def _events(reply: Reply, model: str) -> Iterator[tuple[str, dict[str, Any]]]:
    message_id = _new_id("msg")
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**reply.usage, "output_tokens": 1},
            },
        },
    )
    yield "ping", {"type": "ping"}
    output_chars = 0
    for index, block in enumerate(reply.blocks):
        if block["type"] == "text":
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                },
            )
            for piece in _split(block["text"], reply.chunks):
                output_chars += len(piece)
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "text_delta", "text": piece},
                    },
                )
        else:
            yield (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {
                        "type": "tool_use",
                        "id": block["id"],
                        "name": block["name"],
                        "input": {},
                    },
                },
            )
            raw = block.get("raw", json.dumps(block["input"]))
            for piece in _split(raw, 3):
                output_chars += len(piece)
                yield (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "input_json_delta", "partial_json": piece},
                    },
                )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "ping", {"type": "ping"}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
            "usage": {
                "output_tokens": reply.usage.get("output_tokens", 1) or max(1, output_chars // 4)
            },
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _message(reply: Reply, model: str) -> dict[str, Any]:
    content = []
    for block in reply.blocks:
        if block["type"] == "text":
            content.append({"type": "text", "text": block["text"]})
        else:
            content.append(
                {
                    "type": "tool_use",
                    "id": block["id"],
                    "name": block["name"],
                    "input": block["input"],
                }
            )
    return {
        "id": _new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": reply.usage,
    }


class FakeAnthropic:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._writers: set[asyncio.StreamWriter] = set()

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0)
            )
            self._port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-anthropic", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Anthropic API did not start")

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def shutdown() -> None:
            server.close()
            for writer in list(self._writers):
                writer.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = self._server = None

    def __enter__(self) -> FakeAnthropic:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- script and records ----------------------------------------------------------------
    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def disconnects(self) -> int:
        with self._lock:
            return self._disconnects

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} requests, got {len(self._requests)}")
                self._changed.wait(left)
            return list(self._requests)

    async def wait_for_requests_async(self, n: int, timeout: float = 10.0) -> list[RecordedRequest]:
        return await asyncio.to_thread(self.wait_for_requests, n, timeout)

    def wait_for_disconnect(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._disconnects == 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    async def wait_for_disconnect_async(self, timeout: float = 10.0) -> bool:
        return await asyncio.to_thread(self.wait_for_disconnect, timeout)

    # --- HTTP ------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        method, path, _ = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        raw = await reader.readexactly(length) if length else b""
        try:
            body = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        path_only = path.split("?", 1)[0]

        if path_only.endswith("/count_tokens"):
            await self._send_json(writer, 200, {"input_tokens": max(1, len(raw) // 4)})
            return True
        with self._changed:
            self._requests.append(RecordedRequest(method, path_only, headers, body))
            reply = self._queue.popleft() if self._queue else None
            self._changed.notify_all()
        if reply is None:
            await self._send_json(
                writer,
                500,
                {
                    "type": "error",
                    "error": {
                        "type": "api_error",
                        "message": "fake Anthropic API: no reply scripted",
                    },
                },
            )
            return True
        if reply.status != 200:
            await self._send_json(writer, reply.status, reply.error or {}, reply.headers)
            return True
        model = str(body.get("model", "claude-fake"))
        if not body.get("stream"):
            await self._send_json(writer, 200, _message(reply, model))
            return True
        await self._stream(reader, writer, reply, model)
        return False

    async def _send_json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: dict[str, Any],
        extra: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        head = [
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}",
            "content-type: application/json",
            f"content-length: {len(data)}",
            f"request-id: {_new_id('req')}",
        ]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()

    async def _stream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, reply: Reply, model: str
    ) -> None:
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            f"request-id: {_new_id('req')}\r\nconnection: close\r\n\r\n"
        )
        writer.write(head.encode())
        await writer.drain()
        events = list(_events(reply, model))
        # Hold after a few deltas, so a client has seen the stream start before it stalls.
        hold_at = min(4, len(events) - 1)
        completed = False
        try:
            for index, (name, data) in enumerate(events):
                if reply.stream_error_after is not None and index == reply.stream_error_after:
                    await self._send_event(writer, "error", reply.error or {})
                    completed = True
                    return
                if reply.truncate and name == "message_delta":
                    completed = True
                    return
                if reply.hold is not None and index == hold_at:
                    await self._wait_held(reader, writer, reply.hold)
                await self._send_event(writer, name, data)
                if reply.delay:
                    await asyncio.sleep(reply.delay)
            completed = True
        except (ConnectionError, OSError):
            pass
        finally:
            if not completed:
                with self._changed:
                    self._disconnects += 1
                    self._changed.notify_all()

    async def _send_event(
        self, writer: asyncio.StreamWriter, name: str, data: dict[str, Any]
    ) -> None:
        if writer.is_closing():
            raise ConnectionResetError("client went away")
        writer.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        await writer.drain()

    async def _wait_held(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, hold: threading.Event
    ) -> None:
        # Poll the release flag and the socket: a client that gives up closes its end, which
        # shows as EOF on our transport.
        transport = writer.transport
        while not hold.is_set():
            if transport.is_closing() or reader.at_eof():
                raise ConnectionResetError("client went away while held")
            await asyncio.sleep(0.02)
            try:
                writer.write(b": keep-alive\n\n")
                await writer.drain()
            except (ConnectionError, OSError) as exc:
                raise ConnectionResetError("client went away while held") from exc
