"""Listing code actions reads no file on the event loop: it answers from the open documents and
what earlier requests left in memory, and leaves the rest to a worker thread."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.workspace import Workspace

from subagent_lsp.agents import discover
from subagent_lsp.server import SubagentServer, code_action, did_open

_recording: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    on_loop = threading.current_thread() is threading.main_thread()
    if _recording and on_loop and event in ("open", "os.listdir", "os.scandir"):
        _recording[-1].append(f"{event} {args[0]}")


sys.addaudithook(_audit)


@contextmanager
def file_access_on_this_thread(monkeypatch: pytest.MonkeyPatch, under: Path) -> Iterator[list[str]]:
    """Every file opened, listed or stat'ed below ``under`` by this thread meanwhile."""
    seen: list[str] = []
    stat, lstat = os.stat, os.lstat

    def watch(real: Callable[..., Any], name: str) -> Callable[..., Any]:
        def watched(path: Any, *args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                seen.append(f"{name} {path}")
            return real(path, *args, **kwargs)

        return watched

    monkeypatch.setattr(os, "stat", watch(stat, "stat"))
    monkeypatch.setattr(os, "lstat", watch(lstat, "lstat"))
    _recording.append(seen)
    try:
        yield seen
    finally:
        _recording.pop()
        monkeypatch.setattr(os, "stat", stat)
        monkeypatch.setattr(os, "lstat", lstat)
        seen[:] = [entry for entry in seen if str(under) in entry]


def _server(project: Path, home: Path, *files: str) -> tuple[SubagentServer, dict[str, str]]:
    ls = SubagentServer()
    uri = project.as_uri()
    folder = types.WorkspaceFolder(uri=uri, name=project.name)
    ls.protocol._workspace = Workspace(uri, workspace_folders=[folder])
    # What `initialized` does: find the folders and load the agents.
    ls.session.agents = discover(ls.session.roots(), home)
    ls.session.agents_loaded.set()
    texts = {}
    for name in files:
        path = project / name
        texts[path.as_uri()] = text = path.read_text(encoding="utf-8")
        item = types.TextDocumentItem(
            uri=path.as_uri(), language_id="typescript", version=1, text=text
        )
        # pygls stores the document, then hands the notification to the server's handler.
        ls.workspace.put_text_document(item)
        did_open(ls, types.DidOpenTextDocumentParams(text_document=item))
    return ls, texts


def _at(text: str, needle: str) -> types.Range:
    offset = text.index(needle)
    line = text.count("\n", 0, offset)
    character = offset - (text.rfind("\n", 0, offset) + 1)
    position = types.Position(line=line, character=character)
    return types.Range(start=position, end=position)


async def _titles(ls: SubagentServer, uri: str, rng: types.Range) -> list[str]:
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=rng,
        context=types.CodeActionContext(diagnostics=[]),
    )
    return [action.title for action in await code_action(ls, params) or []]


async def test_listing_actions_reads_no_file(
    project: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ls, texts = _server(project, home, "src/routes/users.ts", "src/routes/posts.ts")
    users = (project / "src/routes/users.ts").as_uri()
    posts = (project / "src/routes/posts.ts").as_uri()
    # An imported table inside a query, a route, a Zod schema's use, plain code: each asks a
    # different question of the workspace.
    places = [
        (users, "users.createdAt"),
        (users, 'app.get("/users/:id"'),
        (users, "updateUserBody.parse"),
        (posts, "db\n"),
        (posts, "return"),
    ]
    with file_access_on_this_thread(monkeypatch, project) as accessed:
        listed = [await _titles(ls, uri, _at(texts[uri], needle)) for uri, needle in places]
    assert accessed == []
    assert all(listed), listed
    assert "Explain with backend-engineer" in listed[1]  # the route: nothing to look up
    assert "Explain with backend-engineer" not in listed[0]  # `users` is defined in another file

    # What listing could not say from memory was read in a worker thread meanwhile: the table
    # behind `users` is now known, and the next listing offers to explain it, still without I/O.
    await asyncio.gather(*ls.hover._warming)
    with file_access_on_this_thread(monkeypatch, project) as accessed:
        again = await _titles(ls, users, _at(texts[users], "users.createdAt"))
    assert accessed == []
    assert "Explain with backend-engineer" in again


def test_the_file_access_probe_sees_reads(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with file_access_on_this_thread(monkeypatch, project) as accessed:
        (project / "src/db/schema.ts").read_text(encoding="utf-8")
        (project / "package.json").is_file()
    assert any(entry.startswith("open ") for entry in accessed)
    assert any(entry.startswith("stat ") for entry in accessed)
