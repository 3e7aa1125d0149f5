"""Work-done progress for a running action: begin, throttled reports, end, and client cancellation."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from ..model.loop import StreamProgress

# Editors redraw on every report; a few per second is plenty for a token counter.
_MIN_INTERVAL = 0.2


class ActionProgress:
    def __init__(self, server: LanguageServer, title: str, action: str) -> None:
        self._server = server
        self._title = title
        self._action = action
        self._token: str | None = None
        self._last = 0.0

    async def begin(self, on_cancel: Callable[[], None]) -> None:
        caps = self._server.client_capabilities
        if not (caps.window and caps.window.work_done_progress):
            return
        token = f"subagent-lsp/{uuid.uuid4()}"
        try:
            await self._server.work_done_progress.create_async(token)
        except Exception:
            # A client that refuses the token still gets the edit, just without progress.
            return
        self._token = token
        future = self._server.work_done_progress.tokens.get(token)
        if future is not None:
            future.add_done_callback(lambda f: on_cancel() if f.cancelled() else None)
        self._server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=self._title, message=f"{self._action}: starting", cancellable=True
            ),
        )

    def update(self, progress: StreamProgress) -> None:
        if self._token is None:
            return
        now = time.monotonic()
        if now - self._last < _MIN_INTERVAL:
            return
        self._last = now
        message = f"{self._action}: {progress.output_tokens} tokens"
        if progress.tool_calls:
            message += f", {progress.tool_calls} edits"
        self._server.work_done_progress.report(
            self._token, types.WorkDoneProgressReport(message=message, cancellable=True)
        )

    def end(self, message: str) -> None:
        if self._token is None:
            return
        self._server.work_done_progress.end(self._token, types.WorkDoneProgressEnd(message=message))
        self._server.work_done_progress.tokens.pop(self._token, None)
        self._token = None


def cancel_task_soon(task: asyncio.Task[object]) -> Callable[[], None]:
    loop = task.get_loop()

    def cancel() -> None:
        loop.call_soon_threadsafe(task.cancel)

    return cancel
