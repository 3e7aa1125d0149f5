"""Load: 500 hovers and 100 actions, most of them cancelled, against a slow model.

Afterwards nothing is left running in the server, no reply stream is left open, memory is back
near where it started, and every request got an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply
from tests.lsp.editor import Editor, wait_until

pytestmark = pytest.mark.heavy

HOVERS = 500
ACTIONS = 100
# Memory the server may keep after the load, over the level it had after a warm-up round: caches
# that are full by then, and allocator slack. A leak of the load's own objects is far larger.
RSS_SLACK_MB = 15.0
FILES = ["src/routes/users.ts", "src/routes/posts.ts", "src/db/schema.ts", "src/schemas/user.ts"]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def _status(editor: Editor) -> dict[str, Any]:
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="subagent-lsp.status", arguments=[])
    )
    assert isinstance(result, dict)
    return result


def _send(editor: Editor, method: str, params: Any, msg_id: str) -> asyncio.Future[Any]:
    return asyncio.ensure_future(
        editor.client.protocol.send_request_async(method, params, msg_id=msg_id)
    )


async def _quiet(editor: Editor) -> dict[str, Any]:
    """The status once the server says nothing runs: explanations made in the background after
    a hover answered finish a moment after the model's last reply."""
    for _ in range(300):
        status = await _status(editor)
        if status["runningActions"] == 0 and status["runningExplanations"] == 0:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"still running: {status}")


async def _round(editor: Editor, uris: list[str], tag: str, hovers: int, actions: int) -> int:
    """Fire hovers and actions; cancel all but every fifth hover and every tenth action."""
    futures: list[asyncio.Future[Any]] = []
    cancelled: list[str] = []
    for n in range(hovers):
        uri = uris[n % len(uris)]
        lines = editor.text(uri).count("\n")
        position = types.Position(line=(n * 7) % lines, character=(n * 3) % 12)
        msg_id = f"{tag}-hover-{n}"
        futures.append(
            _send(
                editor,
                types.TEXT_DOCUMENT_HOVER,
                types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=position
                ),
                msg_id,
            )
        )
        if n % 5:
            cancelled.append(msg_id)
        if n % 25 == 0:
            await asyncio.sleep(0)
    uri = uris[0]
    listed = await editor.code_actions(uri, editor.range_of(uri, "return reply.send(created)"))
    command = listed[0].command
    assert command is not None
    for n in range(actions):
        msg_id = f"{tag}-action-{n}"
        futures.append(
            _send(
                editor,
                types.WORKSPACE_EXECUTE_COMMAND,
                types.ExecuteCommandParams(command=command.command, arguments=command.arguments),
                msg_id,
            )
        )
        if n % 10:
            cancelled.append(msg_id)
    await asyncio.sleep(0.2)
    for msg_id in cancelled:
        editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    done, pending = await asyncio.wait(futures, timeout=240)
    assert not pending, f"{len(pending)} of {len(futures)} requests were never answered"
    answered_ok = 0
    for future in done:
        with contextlib.suppress(Exception):
            future.result()
            answered_ok += 1
    return answered_ok


async def test_cancelled_load_leaves_nothing_running_and_memory_where_it_was(
    editor: Editor, fake_api: FakeAnthropic
) -> None:
    uris = [editor.open(name) for name in FILES]
    # A slow model: every explanation and action reply takes a while to stream.
    fake_api.enqueue(*(text_reply("Looks fine.", delay=0.4) for _ in range(2 * (HOVERS + ACTIONS))))
    pid = editor.client._server.pid  # type: ignore[union-attr]

    await _round(editor, uris, "warm-up", 50, 10)
    await wait_until(lambda: fake_api.answering == 0, timeout=60)
    before = await _quiet(editor)
    rss_before = _rss_mb(pid)

    answered = await _round(editor, uris, "load", HOVERS, ACTIONS)

    await wait_until(lambda: fake_api.answering == 0, timeout=60)
    after = await _quiet(editor)
    rss_after = _rss_mb(pid)
    assert after["runningActions"] == 0 and after["runningExplanations"] == 0
    assert after["tasks"] <= before["tasks"], (before, after)
    assert rss_after - rss_before < RSS_SLACK_MB, (rss_before, rss_after)
    # The survivors (every fifth hover, every tenth action) got real answers.
    assert answered >= HOVERS // 5 + ACTIONS // 10
    # Still serving.
    assert await editor.code_actions(uris[0], editor.range_of(uris[0], "return reply.send"))
