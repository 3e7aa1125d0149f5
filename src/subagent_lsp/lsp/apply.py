"""Turn an action's file changes into one version-checked WorkspaceEdit for the editor's current text."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types
from pygls.workspace import Workspace

from ..edits import (
    EditCapabilities,
    EditNotSupported,
    PlannedFile,
    RebaseFailed,
    build_workspace_edit,
    rebase,
)
from ..overlay import FileChange
from .documents import client_uri, document


class CannotApply(Exception):
    """The change cannot be applied as it stands (files moved on, client limits); ``str()`` says why."""


def _read_disk(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class Plan:
    files: list[PlannedFile]
    rebased: list[str]
    """Files whose document changed while the agent worked and that were brought up to date."""


async def plan_files(
    changes: Sequence[FileChange], workspace: Workspace, display: dict[Path, str]
) -> Plan:
    """Each change against the text the editor has now, re-applied where that text moved on."""
    planned: list[PlannedFile] = []
    rebased: list[str] = []
    for change in changes:
        uri = client_uri(workspace, change.path)
        name = display.get(change.path, change.path.name)
        doc = document(workspace, uri)
        if doc is not None:
            current: str | None = doc.source
            version: int | None = doc.version
        else:
            try:
                current = await asyncio.to_thread(_read_disk, change.path)
            except UnicodeDecodeError as exc:
                raise CannotApply(f"{name} is no longer UTF-8 text on disk") from exc
            except OSError as exc:
                raise CannotApply(f"{name} cannot be read any more ({exc.strerror})") from exc
            version = None
        if change.original is None:
            if current is not None:
                raise CannotApply(f"{name} was created by someone else while the agent worked")
            planned.append(PlannedFile(uri, None, change.new_text, None))
            continue
        if current is None:
            raise CannotApply(f"{name} was deleted while the agent worked")
        new_text = change.new_text
        if current != change.original:
            try:
                new_text = rebase(change, current)
            except RebaseFailed as exc:
                raise CannotApply(f"{name} changed while the agent worked and {exc}") from exc
            rebased.append(name)
        planned.append(PlannedFile(uri, current, new_text, version))
    return Plan(planned, rebased)


def workspace_edit(
    plan: Plan,
    client: types.ClientCapabilities | None,
    encoding: str,
    label: str,
    *,
    confirm: bool,
) -> types.WorkspaceEdit:
    caps = EditCapabilities.from_client(client, encoding)
    try:
        return build_workspace_edit(plan.files, caps, label=label, confirm=confirm)
    except EditNotSupported as exc:
        raise CannotApply(str(exc)) from exc
