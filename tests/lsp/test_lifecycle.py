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
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

SERVER_NOT_INITIALIZED = -32002
INVALID_REQUEST = -32600
REQUEST_CANCELLED = -32800


def _unframe(data: bytes) -> tuple[dict[str, Any] | None, bytes]:
    """The first whole message in ``data`` and what follows it; None while it is incomplete."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None, data
    length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
    if len(rest) < length:
        return None, data
    message: dict[str, Any] = json.loads(rest[:length])
    return message, rest[length:]


class RawClient:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log
        """The server's stderr."""
        self.received: list[dict[str, Any]] = []
        self._buffer = b""
        self._selector = selectors.DefaultSelector()
        assert process.stdout is not None
        self._selector.register(process.stdout, selectors.EVENT_READ)

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def start_session(self, root: Path) -> None:
        """`initialize` (id 1) with no capabilities, answered, then `initialized`."""
        self.send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": root.as_uri(), "capabilities": {}},
            }
        )
        self.response(1)
        self.send({"method": "initialized", "params": {}})

    def response(self, msg_id: int, timeout: float = 30.0) -> dict[str, Any]:
        """The response to ``msg_id``, skipping the server's notifications and requests."""
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if message.get("id") == msg_id and "method" not in message:
                return message

    def _answer(self, request: dict[str, Any]) -> None:
        """Answer the server's own requests as an editor with no settings would."""
        result = None
        if request["method"] == "workspace/configuration":
            result = [None for _ in request["params"]["items"]]
        self.send({"id": request["id"], "result": result})

    def _next(self, deadline: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        while True:
            message, self._buffer = _unframe(self._buffer)
            if message is not None:
                self.received.append(message)
                if "method" in message and "id" in message:
                    self._answer(message)
                return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no answer from the server in time")
            if self._selector.select(remaining):
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("the server closed its output")
                self._buffer += chunk


def _server_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env["HOME"] = str(home)
    return env


@pytest.fixture
def raw(home: Path, project: Path, tmp_path: Path) -> Iterator[RawClient]:
    log = tmp_path / "server.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "subagent_lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=_server_env(home),
            cwd=project,
        )
    try:
        yield RawClient(process, log)
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
    raw.start_session(project)
    raw.send({"id": 2, "method": "shutdown"})
    assert raw.response(2)["result"] is None

    raw.send(_hover(3, (project / "src/routes/users.ts").as_uri()))
    late = raw.response(3)
    assert late["error"]["code"] == INVALID_REQUEST
    assert "shutdown" in late["error"]["message"]

    raw.send({"method": "exit"})
    assert raw.process.wait(20) == 0


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _editor_capabilities(name: str) -> dict[str, Any]:
    recorded = resources.files("pytest_lsp") / "clients" / f"{name}.json"
    capabilities: dict[str, Any] = json.loads(recorded.read_text(encoding="utf-8"))["capabilities"]
    return capabilities


@pytest.mark.parametrize("editor", ["visual_studio_code_v1.65.2", "neovim_v0.11.0"])
def test_initialize_is_answered_once_and_what_follows_at_once_is_handled(
    raw: RawClient, project: Path, editor: str
) -> None:
    # The answer comes while the server is still loading; everything the editor sends right after
    # it waits in the pipe and is handled in order once the server is ready.
    raw.send(
        {
            "id": 1,
            "method": "initialize",
            "params": {
                "processId": None,
                "rootUri": project.as_uri(),
                "capabilities": _editor_capabilities(editor),
            },
        }
    )
    capabilities = raw.response(1)["result"]["capabilities"]
    assert capabilities["codeActionProvider"]["codeActionKinds"] == [
        "refactor.rewrite.agent",
        "quickfix",
    ]
    route = project / "src/routes/users.ts"
    text = route.read_text(encoding="utf-8")
    line = text[: text.index('app.post("/users"')].count("\n")
    raw.send({"method": "initialized", "params": {}})
    raw.send(
        {
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": route.as_uri(),
                    "languageId": "typescript",
                    "version": 1,
                    "text": text,
                }
            },
        }
    )
    at = {"line": line, "character": 2}
    raw.send(
        {
            "id": 2,
            "method": "textDocument/codeAction",
            "params": {
                "textDocument": {"uri": route.as_uri()},
                "range": {"start": at, "end": at},
                "context": {"diagnostics": []},
            },
        }
    )
    titles = [action["title"] for action in raw.response(2)["result"]]
    assert "Agent: Follow REST conventions and status codes" in titles
    raw.send({"id": 3, "method": "shutdown"})
    raw.response(3)
    raw.send({"method": "exit"})
    assert raw.process.wait(20) == 0
    answers = [m for m in raw.received if m.get("id") == 1 and "method" not in m]
    assert len(answers) == 1
    # The server's own answer matched the one sent early (it logs an error when it does not).
    assert b"differs from the server's own" not in raw.log.read_bytes()


@pytest.mark.parametrize(("shutdown", "code"), [(True, 0), (False, 1)])
def test_stdin_from_a_file_is_served_to_its_end(
    home: Path, project: Path, tmp_path: Path, shutdown: bool, code: int
) -> None:
    # Not a pipe: the server reads it from a thread instead of the event loop. The exit code is
    # 0 only when `shutdown` came before `exit`.
    messages = [
        {
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": project.as_uri(), "capabilities": {}},
        },
        {"method": "initialized", "params": {}},
    ]
    if shutdown:
        messages.append({"id": 2, "method": "shutdown"})
    messages.append({"method": "exit"})
    script = tmp_path / "session.bin"
    script.write_bytes(b"".join(_frame(m) for m in messages))
    with script.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "subagent_lsp"],
            stdin=stdin,
            capture_output=True,
            env=_server_env(home),
            cwd=project,
            timeout=60,
        )
    assert done.returncode == code
    answers = {}
    message, rest = _unframe(done.stdout)
    while message is not None:
        if "id" in message and "method" not in message:
            assert message["id"] not in answers
            answers[message["id"]] = message
        message, rest = _unframe(rest)
    assert rest == b""
    assert answers[1]["result"]["serverInfo"]["name"] == "subagent-lsp"
    assert (2 in answers) is shutdown


def test_shutdown_while_an_action_runs_cancels_it_and_exits_cleanly(
    home: Path, project: Path, tmp_path: Path
) -> None:
    from tests.fakes.anthropic_api import FakeAnthropic, text_reply
    from tests.helpers import DUMMY_KEY

    never = threading.Event()
    log = tmp_path / "server.log"
    with FakeAnthropic() as api, log.open("wb") as stderr:
        api.enqueue(text_reply("never finishes", hold=never))
        env = {
            **_server_env(home),
            "ANTHROPIC_API_KEY": DUMMY_KEY,
            "ANTHROPIC_BASE_URL": api.base_url,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "subagent_lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            cwd=project,
        )
        try:
            raw = RawClient(process, log)
            raw.start_session(project)
            route = (project / "src/routes/users.ts").as_uri()
            position = {"line": 9, "character": 4}
            raw.send(
                {
                    "id": 2,
                    "method": "workspace/executeCommand",
                    "params": {
                        "command": "subagent-lsp.ask",
                        "arguments": [
                            {
                                "uri": route,
                                "range": {"start": position, "end": position},
                                "instruction": "add a guard",
                            }
                        ],
                    },
                }
            )
            api.wait_for_requests(1, timeout=30)

            raw.send({"id": 3, "method": "shutdown"})
            answer = raw.response(3)
            assert answer.get("result", answer) is None
            # The running action was cancelled and answered, before or after the shutdown.
            action = next((m for m in raw.received if m.get("id") == 2), None) or raw.response(2)
            assert action.get("error", {}).get("code") == REQUEST_CANCELLED or (
                action["result"]["applied"] is False
            )
            raw.send({"method": "exit"})
            assert process.wait(20) == 0
        finally:
            never.set()
            if process.poll() is None:
                process.kill()
            process.wait(10)
    assert log.stat().st_size < 100_000, log.read_text(encoding="utf-8", errors="replace")[-2000:]


def test_an_expected_refusal_is_one_log_line_for_the_editor_and_nothing_on_stderr(
    raw: RawClient, project: Path
) -> None:
    # Editors record every stderr line as an error: a harmless refusal must not land there.
    raw.start_session(project)
    uri = (project / "src/routes/users.ts").as_uri()
    text = (project / "src/routes/users.ts").read_text(encoding="utf-8")
    raw.send(
        {
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": uri, "languageId": "typescript", "version": 1, "text": text}
            },
        }
    )
    raw.send(
        {
            "id": 2,
            "method": "workspace/executeCommand",
            "params": {
                "command": "subagent-lsp.explain",
                "arguments": [{"uri": uri, "position": {"line": 0, "character": 0}}],
            },
        }
    )
    refused = raw.response(2)
    assert (
        "nothing" in refused["error"]["message"].lower()
        or "no route" in (refused["error"]["message"])
    )
    raw.send({"id": 3, "method": "shutdown"})
    raw.response(3)
    logged = [m["params"] for m in raw.received if m.get("method") == "window/logMessage"]
    refusal = [p for p in logged if "refused" in p["message"]]
    assert refusal and refusal[0]["type"] == 3, "one Info line in the editor's log"
    assert "Traceback" not in refusal[0]["message"]
    raw.send({"method": "exit"})
    assert raw.process.wait(20) == 0
    assert raw.log.read_text(encoding="utf-8") == "", "stderr stays for real failures"
