"""The protocol's lifecycle: nothing before `initialize`, errors instead of silence after `shutdown`.

These speak raw JSON-RPC over the server's stdio, because a well-behaved client library never sends
such messages.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SERVER_NOT_INITIALIZED = -32002
INVALID_REQUEST = -32600


class RawClient:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        assert process.stdout is not None
        self._selector.register(process.stdout, selectors.EVENT_READ)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def response(self, msg_id: int, timeout: float = 30.0) -> dict[str, Any]:
        """The response to ``msg_id``, skipping the server's notifications and requests."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if message.get("id") == msg_id and "method" not in message:
                return message

    def _next(self, deadline: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            head, sep, rest = self._buffer.partition(b"\r\n\r\n")
            if sep:
                length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    self._buffer = rest[length:]
                    message: dict[str, Any] = json.loads(rest[:length])
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no answer from the server in time")
            if self._selector.select(remaining):
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("the server closed its output")
                self._buffer += chunk


@pytest.fixture
def raw(home: Path, project: Path) -> Iterator[RawClient]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["HOME"] = str(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "subagent_lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=project,
    )
    try:
        yield RawClient(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def _hover(msg_id: int, uri: str) -> dict[str, Any]:
    return {
        "id": msg_id,
        "method": "textDocument/hover",
        "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}},
    }


def test_requests_before_initialize_are_refused_and_notifications_dropped(
    raw: RawClient, project: Path
) -> None:
    route = project / "src/routes/users.ts"
    uri = route.as_uri()
    raw.send(_hover(1, uri))
    assert raw.response(1)["error"]["code"] == SERVER_NOT_INITIALIZED
    raw.send(
        {
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": uri,
                    "languageId": "typescript",
                    "version": 1,
                    "text": "// never seen\n" + route.read_text(encoding="utf-8"),
                }
            },
        }
    )
    raw.send(
        {
            "id": 2,
            "method": "workspace/executeCommand",
            "params": {"command": "subagent-lsp.listAgents", "arguments": []},
        }
    )
    assert raw.response(2)["error"]["code"] == SERVER_NOT_INITIALIZED

    raw.send(
        {
            "id": 3,
            "method": "initialize",
            "params": {"processId": None, "rootUri": project.as_uri(), "capabilities": {}},
        }
    )
    assert raw.response(3)["result"]["serverInfo"]["name"] == "subagent-lsp"
    raw.send({"method": "initialized", "params": {}})
    # The early didOpen was dropped: the server knows only the file on disk.
    raw.send(
        {
            "id": 4,
            "method": "workspace/executeCommand",
            "params": {"command": "subagent-lsp.listAgents", "arguments": []},
        }
    )
    assert [a["name"] for a in raw.response(4)["result"]] == ["backend-engineer"]


def test_requests_after_shutdown_get_an_error_and_exit_ends_the_process(
    raw: RawClient, project: Path
) -> None:
    raw.send(
        {
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": project.as_uri(), "capabilities": {}},
        }
    )
    raw.response(1)
    raw.send({"method": "initialized", "params": {}})
    raw.send({"id": 2, "method": "shutdown"})
    assert raw.response(2)["result"] is None

    raw.send(_hover(3, (project / "src/routes/users.ts").as_uri()))
    late = raw.response(3)
    assert late["error"]["code"] == INVALID_REQUEST
    assert "shutdown" in late["error"]["message"]

    raw.send({"method": "exit"})
    assert raw.process.wait(20) == 0
