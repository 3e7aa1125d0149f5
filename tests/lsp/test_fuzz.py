"""Random editor sessions: open, type, delete, list and run actions, hover and cancel, in any order.

Whatever the sequence, every request is answered, the server keeps serving, and a run either applies
exactly the model's edit to the text the editor has or changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from tests.fakes.anthropic_api import FakeAnthropic, text_reply, tool_reply
from tests.helpers import EXAMPLES
from tests.lsp.editor import Editor, server_config
from tests.lsp.helpers import ROUTE

pytestmark = pytest.mark.heavy

ANSWER = 30.0
SOURCES = [
    ROUTE,
    (EXAMPLES / "src/routes/users.ts").read_text(encoding="utf-8"),
    (EXAMPLES / "src/routes/posts.ts").read_text(encoding="utf-8"),
    (EXAMPLES / "src/db/schema.ts").read_text(encoding="utf-8"),
]
TYPED = st.text(alphabet="ab {}();\n\t\"'`/*=>.:,?🚀é€", max_size=12)
POSITION = st.tuples(st.integers(0, 80), st.integers(0, 140))

OPERATIONS = st.one_of(
    st.tuples(st.just("type"), st.integers(0, 4000), TYPED),
    st.tuples(st.just("delete"), st.integers(0, 4000), st.integers(1, 60)),
    st.tuples(st.just("actions"), POSITION, POSITION),
    st.tuples(st.just("hover"), POSITION),
    st.tuples(st.just("run"), st.booleans(), st.integers(0, 10_000)),
    st.tuples(st.just("cancel"), st.integers(0, 10_000)),
)


def _range(a: tuple[int, int], b: tuple[int, int]) -> types.Range:
    return types.Range(
        start=types.Position(line=a[0], character=a[1]),
        end=types.Position(line=b[0], character=b[1]),
    )


def _unique_line(text: str, seed: int) -> tuple[int, str] | None:
    """A non-blank line that occurs once in ``text``: something an edit can name unambiguously."""
    lines = text.split("\n")
    candidates = [
        (n, line) for n, line in enumerate(lines) if line.strip() and text.count(line) == 1
    ]
    return candidates[seed % len(candidates)] if candidates else None


async def _actions_at_line(editor: Editor, uri: str, line: int) -> list[types.CodeAction]:
    rng = _range((line, 0), (line, 0))
    return await asyncio.wait_for(editor.code_actions(uri, rng), ANSWER)


async def _run(editor: Editor, fake_api: FakeAnthropic, uri: str, valid: bool, seed: int) -> None:
    before = editor.text(uri)
    picked = _unique_line(before, seed)
    if picked is None:
        return
    line, old = picked
    actions = await _actions_at_line(editor, uri, line)
    if not actions:
        return
    new = old + " // checked"
    call = {
        "command": "str_replace",
        "path": "src/routes/fuzz.ts",
        "old_str": old if valid else old + " ✗ not in the file",
        "new_str": new,
    }
    fake_api.enqueue(tool_reply([call]), text_reply("Done."))
    try:
        result: Any = await asyncio.wait_for(editor.run(actions[seed % len(actions)]), ANSWER)
    except TimeoutError:
        raise
    except Exception:
        result = None  # an error response is an answer; the text must still be untouched
    fake_api.clear()
    if valid and isinstance(result, dict) and result.get("applied") is True:
        event("a run applied its edit")
        assert editor.text(uri) == before.replace(old, new, 1)
    else:
        assert editor.text(uri) == before


async def _cancel(editor: Editor, fake_api: FakeAnthropic, uri: str, seed: int) -> None:
    text = editor.text(uri)
    picked = _unique_line(text, seed)
    if picked is None:
        return
    actions = await _actions_at_line(editor, uri, picked[0])
    if not actions:
        return
    hold = threading.Event()
    fake_api.enqueue(text_reply("Thinking " * 20, hold=hold))
    command = actions[seed % len(actions)].command
    assert command is not None
    msg_id = f"fuzz-{seed}-{len(fake_api.requests)}"
    future = asyncio.ensure_future(
        editor.client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command=command.command, arguments=command.arguments),
            msg_id=msg_id,
        )
    )
    try:
        await fake_api.wait_for_requests_async(len(fake_api.requests) + 1, timeout=ANSWER)
        editor.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(future, ANSWER)
        assert future.done()
    finally:
        hold.set()
        fake_api.clear()
    assert editor.text(uri) == text


async def _session(
    project: Path,
    env: dict[str, str],
    fake_api: FakeAnthropic,
    preset: str,
    source: str,
    operations: list[Any],
) -> None:
    client = await server_config(env).start()
    editor = Editor(client, project, preset)
    # Static hovers: an explanation made in the background would take the scripted replies.
    await editor.initialize({"hoverMode": "static"})
    try:
        path = editor.path("src/routes/fuzz.ts")
        path.write_text(source, encoding="utf-8")
        uri = editor.open("src/routes/fuzz.ts", source)
        for op in operations:
            kind = op[0]
            text = editor.text(uri)
            if kind == "type":
                at = op[1] % (len(text) + 1)
                editor.change(uri, text[:at] + op[2] + text[at:])
            elif kind == "delete":
                at = op[1] % (len(text) + 1)
                editor.change(uri, text[:at] + text[at + op[2] :])
            elif kind == "actions":
                actions = await asyncio.wait_for(
                    editor.code_actions(uri, _range(op[1], op[2])), ANSWER
                )
                assert isinstance(actions, list)
            elif kind == "hover":
                position = types.Position(line=op[1][0], character=op[1][1])
                await asyncio.wait_for(
                    client.text_document_hover_async(
                        types.HoverParams(
                            text_document=types.TextDocumentIdentifier(uri=uri), position=position
                        )
                    ),
                    ANSWER,
                )
            elif kind == "run":
                await _run(editor, fake_api, uri, op[1], op[2])
            else:
                await _cancel(editor, fake_api, uri, op[1])
        # Still serving at the end, on whatever the document became.
        await _actions_at_line(editor, uri, 0)
    finally:
        await editor.shutdown()
        await client.stop()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    preset=st.sampled_from(["neovim", "vscode"]),
    source=st.sampled_from(SOURCES),
    operations=st.lists(OPERATIONS, min_size=1, max_size=14),
)
def test_random_sessions_are_always_answered_and_keep_documents_consistent(
    project: Path,
    server_env: dict[str, str],
    fake_api: FakeAnthropic,
    preset: str,
    source: str,
    operations: list[Any],
) -> None:
    fake_api.clear()
    asyncio.run(_session(project, server_env, fake_api, preset, source, operations))
