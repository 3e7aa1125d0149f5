"""A lean LSP client for the benchmarks: JSON-RPC framing over a subprocess's stdio and nothing
else, so that a round trip measures the server rather than the client's own object mapping.

It answers the requests servers send back (configuration, registrations, progress, applyEdit)
the way an accepting editor would.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# Requests a server sends to its editor, answered as an editor that accepts everything would.
_CLIENT_ANSWERS: dict[str, Any] = {
    "workspace/configuration": [None],
    "client/registerCapability": None,
    "client/unregisterCapability": None,
    "window/workDoneProgress/create": None,
    "workspace/applyEdit": {"applied": True},
    "window/showMessageRequest": None,
}


# How the benchmarks start subagent-lsp: quiet, so logging costs nothing in the figures.
SERVER_COMMAND = [sys.executable, "-m", "subagent_lsp", "--log-level", "WARNING"]


def server_env(home: Path, model_url: str) -> dict[str, str]:
    """The environment without the user's own Anthropic settings: a dummy key, the fake model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    env.update(
        {"HOME": str(home), "ANTHROPIC_API_KEY": "bench-dummy-key", "ANTHROPIC_BASE_URL": model_url}
    )
    return env


class RpcError(Exception):
    pass


class WireClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.notifications: list[tuple[float, dict[str, Any]]] = []
        """Every notification the server sent, with when it arrived."""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, command: list[str], env: dict[str, str]) -> WireClient:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=2**24,
        )
        return cls(process)

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def request(self, method: str, params: Any) -> Any:
        msg_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        self._write({"id": msg_id, "method": method, "params": params})
        return await future

    async def timed(self, method: str, params: Any) -> float:
        """One round trip, in milliseconds."""
        started = time.perf_counter()
        await self.request(method, params)
        return (time.perf_counter() - started) * 1000

    async def notified(self, method: str, uri: str, since: float, timeout: float = 30.0) -> float:
        """Seconds from ``since`` to the first ``method`` notification about ``uri`` after it."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for at, message in self.notifications:
                about = message.get("params", {}).get("uri")
                if at >= since and message["method"] == method and about == uri:
                    return at - since
            await asyncio.sleep(0.005)
        raise TimeoutError(f"no {method} for {uri} within {timeout:g} s")

    def notify(self, method: str, params: Any) -> None:
        self._write({"method": method, "params": params})

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = 0
            while True:
                header = await stdout.readline()
                if not header:
                    self._fail_pending()
                    return
                if header.lower().startswith(b"content-length:"):
                    length = int(header.split(b":")[1])
                elif header in (b"\r\n", b"\n"):
                    break
            message = json.loads(await stdout.readexactly(length))
            if "method" in message:
                if "id" not in message:
                    self.notifications.append((time.perf_counter(), message))
                if "id" in message:
                    answer = _CLIENT_ANSWERS.get(message["method"])
                    self._write({"id": message["id"], "result": answer})
                continue
            future = self._pending.pop(message["id"], None)
            if future is None or future.done():
                continue
            if "error" in message:
                future.set_exception(RpcError(message["error"].get("message")))
            else:
                future.set_result(message.get("result"))

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RpcError("the server closed its output"))
        self._pending.clear()

    async def initialize(self, root: Path, options: Any = None) -> Any:
        result = await self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                "capabilities": CLIENT_CAPABILITIES,
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: Path, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "typescript",
                    "version": version,
                    "text": path.read_text(encoding="utf-8"),
                }
            },
        )
        return uri

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.request("shutdown", None), 10)
            self.notify("exit", None)
            await asyncio.wait_for(self.process.wait(), 10)
        except (TimeoutError, RpcError, ConnectionError):
            if self.process.returncode is None:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()


def at(text: str, needle: str, delta: int = 0) -> dict[str, int]:
    """The LSP position (UTF-16 columns) of `needle` in `text`, plus `delta` characters."""
    offset = text.index(needle) + delta
    line_start = text.rfind("\n", 0, offset) + 1
    column = len(text[line_start:offset].encode("utf-16-le")) // 2
    return {"line": text.count("\n", 0, offset), "character": column}


def code_action_params(uri: str, position: dict[str, int]) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "range": {"start": position, "end": position},
        "context": {"diagnostics": []},
    }


def _load_capabilities() -> Any:
    # VS Code's own capabilities, as pytest-lsp records them, so both servers see a real editor.
    from lsprotocol import converters
    from pytest_lsp import client_capabilities

    return converters.get_converter().unstructure(client_capabilities("visual-studio-code"))


CLIENT_CAPABILITIES = _load_capabilities()
