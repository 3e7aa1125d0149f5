"""A fake Anthropic Messages API: real HTTP on 127.0.0.1, real SSE streaming, scripted per test.

The server runs its own event loop in a background thread, so it answers the SDK whether the code
under test runs in the test process or in a language server subprocess pointed at it through
ANTHROPIC_BASE_URL. Each ``POST /v1/messages`` takes the next scripted ``Reply``; every request is
recorded. A reply can stream slowly, hold until released, break off, or fail.

Streams use chunked transfer encoding, as the real API does over HTTP/1.1: the end of a body is
explicit, so a stream that is cut short is an error the client sees, not a silently short message.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
import string
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

NO_REPLY_MESSAGE = "fake Anthropic API: no reply scripted"

# How often a paused stream looks at its socket and at its release flag; short enough that tests
# observe a disconnect or a release at once, long enough to cost nothing.
_POLL_SECONDS = 0.01

_STATUS_FOR_ERROR_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}

_BASE62 = string.digits + string.ascii_letters


def _new_id(prefix: str) -> str:
    """An id shaped like the API's, e.g. ``toolu_01`` and 22 base-62 characters."""
    number = uuid.uuid4().int
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return f"{prefix}_01{''.join(chars)}"


def _estimate_tokens(chars: int) -> int:
    return max(1, chars // 4)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case; repeated headers joined with ", "."""
    body: dict[str, Any]
    """The parsed JSON body; one that is not a JSON object is kept as text under "_unparsed"."""


@dataclass
class Reply:
    """One scripted answer; build it with ``text_reply``, ``tool_reply`` or an error builder."""

    blocks: list[dict[str, Any]] = field(default_factory=list)
    stop_reason: str = "end_turn"
    usage: dict[str, int] = field(default_factory=dict)
    """Overrides for the usage counts, which are otherwise estimated from the request and reply."""
    status: int = 200
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunks: int = 3
    delay: float = 0.0
    """Seconds between consecutive content deltas, as a model's tokens arrive over time."""
    hold: threading.Event | None = None
    """Once the first content delta is out, the stream waits until this event is set."""
    truncate: bool = False
    """Close the connection after the content, before message_delta and message_stop."""
    error_after_events: int | None = None
    """Replace the rest of the stream with an ``error`` event once this many events are out."""


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
    """A message with one text block, streamed as up to ``chunks`` text deltas."""
    return Reply(
        blocks=[{"type": "text", "text": text}],
        stop_reason=stop_reason,
        usage=dict(usage or {}),
        chunks=chunks,
        delay=delay,
        hold=hold,
        truncate=truncate,
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
    truncate: bool = False,
    raw_inputs: list[str] | None = None,
) -> Reply:
    """A message with optional leading text, then one tool_use block per input dict in ``calls``.

    ``raw_inputs`` replaces the JSON streamed for each call, to send malformed input on purpose.
    """
    if raw_inputs is not None and len(raw_inputs) != len(calls):
        raise ValueError("raw_inputs needs one entry per call")
    blocks: list[dict[str, Any]] = []
    if text is not None:
        blocks.append({"type": "text", "text": text})
    for index, call in enumerate(calls):
        blocks.append(
            {
                "type": "tool_use",
                "id": _new_id("toolu"),
                "name": tool_name,
                "input": call,
                "json": json.dumps(call) if raw_inputs is None else raw_inputs[index],
            }
        )
    return Reply(
        blocks=blocks,
        stop_reason=stop_reason,
        usage=dict(usage or {}),
        delay=delay,
        hold=hold,
        truncate=truncate,
    )


def web_search_reply(query: str, results: list[tuple[str, str]], *, paused: bool) -> Reply:
    """The model searching the web on the server: its `server_tool_use` and the result, as the
    API streams them; ``paused`` ends the turn with `pause_turn`, which the client continues."""
    call_id = _new_id("srvtoolu")
    return Reply(
        blocks=[
            {
                "type": "server_tool_use",
                "id": call_id,
                "name": "web_search",
                "input": {"query": query},
                "json": json.dumps({"query": query}),
            },
            {
                "type": "web_search_tool_result",
                "tool_use_id": call_id,
                "content": [
                    {
                        "type": "web_search_result",
                        "url": url,
                        "title": title,
                        "encrypted_content": "opaque",
                        "page_age": None,
                    }
                    for url, title in results
                ],
            },
        ],
        stop_reason="pause_turn" if paused else "end_turn",
    )


def error_reply(
    status: int, error_type: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    """A non-200 answer with the API's JSON error body, e.g. 429 ``rate_limit_error``."""
    return Reply(
        status=status,
        error={"type": "error", "error": {"type": error_type, "message": message}},
        headers=dict(headers or {}),
    )


def stream_error_reply(
    after_events: int = 3,
    error_type: str = "overloaded_error",
    message: str = "Overloaded",
    *,
    text: str = "This reply will break off part way through.",
) -> Reply:
    """A stream that starts normally, then sends ``event: error`` after ``after_events`` events.

    The events before it are message_start, ping, content_block_start, then text deltas. A
    non-streaming request gets the same error as an HTTP status instead.
    """
    reply = text_reply(text, chunks=6)
    reply.error_after_events = after_events
    reply.error = {"type": "error", "error": {"type": error_type, "message": message}}
    return reply


def _split(text: str, pieces: int) -> list[str]:
    if not text:
        return [""]
    pieces = max(1, min(pieces, len(text)))
    size = -(-len(text) // pieces)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _usage(reply: Reply, request_body: dict[str, Any]) -> dict[str, int]:
    output_chars = sum(len(b.get("text", "")) + len(b.get("json", "")) for b in reply.blocks)
    usage = {
        "input_tokens": _estimate_tokens(len(json.dumps(request_body))),
        "output_tokens": _estimate_tokens(output_chars),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    usage.update(reply.usage)
    return usage


Event = tuple[str, dict[str, Any]]


def _stream_events(reply: Reply, model: str, usage: dict[str, int]) -> list[Event]:
    """The SSE events of a whole reply, in the order and shape the real API sends them."""
    events: list[Event] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": _new_id("msg"),
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    # The real API reports a token or so of output up front; the total comes last.
                    "usage": {**usage, "output_tokens": 1},
                },
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(reply.blocks):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            deltas = [
                {"type": "text_delta", "text": t} for t in _split(block["text"], reply.chunks)
            ]
        elif block["type"] not in ("tool_use", "server_tool_use"):
            # A server tool's result (web search) arrives whole in its start event.
            start, deltas = dict(block), []
        else:
            start = {"type": block["type"], "id": block["id"], "name": block["name"], "input": {}}
            # The real API opens a tool's input with an empty piece, then cuts the JSON anywhere,
            # even inside a string: clients must buffer until content_block_stop.
            pieces = ["", *_split(block["json"], 3)]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        )
        events += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": reply.stop_reason, "stop_sequence": None},
                # Cumulative totals, as the API now sends them.
                "usage": usage,
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def _message(reply: Reply, model: str, usage: dict[str, int]) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in reply.blocks:
        if block["type"] == "text":
            content.append({"type": "text", "text": block["text"]})
        elif block["type"] not in ("tool_use", "server_tool_use"):
            content.append(dict(block))
        else:
            content.append({k: block[k] for k in ("type", "id", "name", "input")})
    return {
        "id": _new_id("msg"),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _error_body(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


class _ClientGone(Exception):
    """The client closed its end of the connection."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def gone(self) -> bool:
        # HTTP clients never half-close, so end of input means the client has hung up; that shows
        # at once, while a write to a closed socket may still succeed for a while.
        return self.reader.at_eof() or self.writer.transport.is_closing()

    async def write(self, data: bytes) -> None:
        if self.gone():
            raise _ClientGone
        self.writer.write(data)
        try:
            await self.writer.drain()
        except ConnectionError as exc:
            raise _ClientGone from exc

    async def write_chunk(self, data: bytes) -> None:
        await self.write(b"%x\r\n%b\r\n" % (len(data), data))

    async def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        await self._watch(lambda: time.monotonic() >= deadline)

    async def wait_for(self, release: threading.Event) -> None:
        await self._watch(release.is_set)

    async def _watch(self, done: Callable[[], bool]) -> None:
        while not done():
            if self.gone():
                raise _ClientGone
            await asyncio.sleep(_POLL_SECONDS)


def _status_line(status: int) -> str:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Overloaded" if status == 529 else "Error"
    return f"HTTP/1.1 {status} {reason}\r\n"


class FakeAnthropic:
    """The fake server. Thread-safe: script and inspect it from sync or async test code."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._script: deque[Reply] = deque()
        self._answering = 0
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._handlers: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._loop is not None:
            raise RuntimeError("the fake Anthropic API is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fake-anthropic-api", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), loop
        ).result(10)
        self._server = server
        self._port = server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = self._server = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        # Streams held by a test that never released them, and idle keep-alive connections, would
        # otherwise keep the loop busy. Dropping the connection lets each handler end on its own;
        # cancelling a server handler task makes asyncio log a spurious error.
        for writer in self._handlers.values():
            writer.transport.abort()
        handlers = list(self._handlers)
        if handlers:
            _, stuck = await asyncio.wait(handlers, timeout=5)
            for task in stuck:
                task.cancel()

    def __enter__(self) -> FakeAnthropic:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("start the fake Anthropic API before asking for its URL")
        return f"http://127.0.0.1:{self._port}"

    # --- script and records ------------------------------------------------------------------

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def clear(self) -> None:
        """Drop the replies no request has taken yet."""
        with self._lock:
            self._script.clear()

    @property
    def pending(self) -> int:
        """Scripted replies not yet taken by a request."""
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def answering(self) -> int:
        """Replies being sent right now: a stream nobody closed stays counted here."""
        with self._lock:
            return self._answering

    @property
    def disconnects(self) -> int:
        """Replies the client hung up on before they were complete."""
        with self._lock:
            return self._disconnects

    def wait_for_requests(self, n: int, timeout: float = 10.0) -> list[RecordedRequest]:
        """Block until ``n`` requests have arrived; fail the test if they do not in time."""
        if not self._wait(lambda: len(self._requests) >= n, timeout):
            self._fail_request_wait(n, timeout)
        return self.requests

    async def wait_for_requests_async(self, n: int, timeout: float = 10.0) -> list[RecordedRequest]:
        if not await self._wait_async(lambda: len(self._requests) >= n, timeout):
            self._fail_request_wait(n, timeout)
        return self.requests

    def wait_for_disconnect(self, timeout: float = 10.0, *, count: int = 1) -> bool:
        """Block until ``count`` replies in all have been cut short by the client."""
        return self._wait(lambda: self._disconnects >= count, timeout)

    async def wait_for_disconnect_async(self, timeout: float = 10.0, *, count: int = 1) -> bool:
        return await self._wait_async(lambda: self._disconnects >= count, timeout)

    def _wait(self, ready: Callable[[], bool], timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(ready, timeout)

    async def _wait_async(self, ready: Callable[[], bool], timeout: float) -> bool:
        # Polling, rather than a blocking wait in a worker thread, leaves nothing running when the
        # waiting test is cancelled or its event loop closes.
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if ready():
                    return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL_SECONDS)

    def _fail_request_wait(self, n: int, timeout: float) -> None:
        seen = [f"{r.method} {r.path}" for r in self.requests]
        raise AssertionError(f"expected {n} requests within {timeout:g} s, got {seen}")

    def _record(self, request: RecordedRequest, *, take_reply: bool) -> Reply | None:
        with self._changed:
            self._requests.append(request)
            reply = self._script.popleft() if take_reply and self._script else None
            self._changed.notify_all()
        return reply

    def _count_answering(self, step: int) -> None:
        with self._changed:
            self._answering += step
            self._changed.notify_all()

    def _count_disconnect(self) -> None:
        with self._changed:
            self._disconnects += 1
            self._changed.notify_all()

    # --- HTTP --------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers[task] = writer
        connection = _Connection(reader, writer)
        try:
            while await self._answer_next(connection):
                pass
        except (_ClientGone, ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("the fake Anthropic API failed while answering a request")
        finally:
            self._handlers.pop(task, None)
            writer.close()

    async def _answer_next(self, connection: _Connection) -> bool:
        """Answer one request; return whether the connection may carry another."""
        request = await self._read_request(connection.reader)
        if request is None:
            return False
        if request.body.get("_unparsed") is not None:
            self._record(request, take_reply=False)
            body = _error_body("invalid_request_error", "fake Anthropic API: the body is not JSON")
            return await self._send_json(connection, 400, body)
        if request.method == "POST" and request.path == "/v1/messages/count_tokens":
            self._record(request, take_reply=False)
            tokens = _estimate_tokens(len(json.dumps(request.body)))
            return await self._send_json(connection, 200, {"input_tokens": tokens})
        if request.method != "POST" or request.path != "/v1/messages":
            self._record(request, take_reply=False)
            message = f"fake Anthropic API: no route for {request.method} {request.path}"
            return await self._send_json(connection, 404, _error_body("not_found_error", message))

        reply = self._record(request, take_reply=True)
        if reply is None:
            return await self._send_json(
                connection, 500, _error_body("api_error", NO_REPLY_MESSAGE)
            )
        if reply.status != 200:
            return await self._send_json(connection, reply.status, reply.error or {}, reply.headers)
        model = str(request.body.get("model", "claude-fake"))
        usage = _usage(reply, request.body)
        self._count_answering(+1)
        try:
            if request.body.get("stream"):
                return await self._stream(connection, reply, model, usage)
            return await self._send_message(connection, reply, model, usage)
        except _ClientGone:
            self._count_disconnect()
            return False
        finally:
            self._count_answering(-1)

    async def _read_request(self, reader: asyncio.StreamReader) -> RecordedRequest | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            # The client closed an idle kept-alive connection.
            return None
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            if not line:
                continue
            name, _, value = line.partition(":")
            key, value = name.strip().lower(), value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        body: dict[str, Any] = {}
        if raw:
            try:
                parsed = json.loads(raw)
            except json.JSONDecodeError:
                parsed = None
            body = (
                parsed
                if isinstance(parsed, dict)
                else {"_unparsed": raw.decode("utf-8", "replace")}
            )
        return RecordedRequest(method, target.split("?", 1)[0], headers, body)

    async def _send_json(
        self,
        connection: _Connection,
        status: int,
        payload: dict[str, Any],
        extra_headers: dict[str, str] | None = None,
    ) -> bool:
        data = json.dumps(payload).encode()
        head = _status_line(status) + (
            "content-type: application/json\r\n"
            f"content-length: {len(data)}\r\n"
            f"request-id: {_new_id('req')}\r\n"
        )
        head += "".join(f"{name}: {value}\r\n" for name, value in (extra_headers or {}).items())
        await connection.write(head.encode() + b"\r\n" + data)
        return True

    async def _send_message(
        self, connection: _Connection, reply: Reply, model: str, usage: dict[str, int]
    ) -> bool:
        if reply.hold is not None:
            await connection.wait_for(reply.hold)
        if reply.truncate:
            return False
        if reply.error is not None:
            error_type = str(reply.error["error"]["type"])
            status = _STATUS_FOR_ERROR_TYPE.get(error_type, 500)
            return await self._send_json(connection, status, reply.error)
        return await self._send_json(connection, 200, _message(reply, model, usage))

    async def _stream(
        self, connection: _Connection, reply: Reply, model: str, usage: dict[str, int]
    ) -> bool:
        events = _stream_events(reply, model, usage)
        deltas = [i for i, (name, _) in enumerate(events) if name == "content_block_delta"]
        hold_after = deltas[0] if deltas else 0
        error_at = None
        if reply.error_after_events is not None:
            error_at = min(reply.error_after_events, len(events) - 1)

        await connection.write(
            (
                _status_line(200) + "content-type: text/event-stream; charset=utf-8\r\n"
                "cache-control: no-cache\r\n"
                "transfer-encoding: chunked\r\n"
                f"request-id: {_new_id('req')}\r\n\r\n"
            ).encode()
        )
        for position, (name, data) in enumerate(events):
            if position == error_at:
                await self._send_event(connection, "error", reply.error or {})
                break
            if reply.truncate and name == "message_delta":
                # Closing without the final empty chunk is what a dropped connection looks like.
                return False
            if reply.delay and name == "content_block_delta" and position != deltas[0]:
                await connection.sleep(reply.delay)
            await self._send_event(connection, name, data)
            if reply.hold is not None and position == hold_after:
                await connection.wait_for(reply.hold)
        await connection.write(b"0\r\n\r\n")
        return True

    @staticmethod
    async def _send_event(connection: _Connection, name: str, data: dict[str, Any]) -> None:
        await connection.write_chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
