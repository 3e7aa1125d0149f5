"""How an agent's change reaches the editor: reviewed first, as Claude Code asks before an edit
lands, or applied at once for agents in `acceptEdits` mode and users who chose direct edits.

A client whose editor package can show a diff (it announces
``experimental.subagentLsp.reviewEdits``) gets a proposal it answers with accept or discard; any
other client gets the edit with a change annotation that needs confirmation, so the editor asks.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from .. import ids
from ..agents import Agent
from ..overlay import FileChange
from .apply import CannotApply, plan_files, workspace_edit
from .session import Session

log = logging.getLogger(__name__)

MAX_PENDING = 8
"""Proposals nobody answered are dropped, oldest first, beyond this many."""

DIRECT_MODES = frozenset({"acceptEdits", "bypassPermissions"})
"""Claude Code's permission modes in which an agent's edits land without asking."""


@dataclass(frozen=True)
class AgentChange:
    agent: str
    label: str
    summary: str
    files: Sequence[FileChange]
    display: dict[Path, str]
    """Each file's path as the user reads it (relative to its project)."""


@dataclass(frozen=True)
class Delivered:
    progress: str
    """How the action's progress ends."""
    answer: dict[str, Any]
    """The command's result."""


def client_reviews(capabilities: types.ClientCapabilities | None) -> bool:
    experimental = capabilities.experimental if capabilities else None
    if not isinstance(experimental, dict):
        return False
    ours = experimental.get("subagentLsp")
    return isinstance(ours, dict) and ours.get("reviewEdits") is True


def _pending_id(args: tuple[Any, ...]) -> str | None:
    if len(args) == 1 and isinstance(args[0], str | int) and not isinstance(args[0], bool):
        return str(args[0])
    if len(args) == 1 and isinstance(args[0], dict) and isinstance(args[0].get("id"), str):
        return str(args[0]["id"])
    return None


class EditDelivery:
    def __init__(self, session: Session, show: Callable[[types.MessageType, str], None]) -> None:
        self._session = session
        self._show = show
        self._pending: OrderedDict[str, AgentChange] = OrderedDict()
        self._ids = itertools.count(1)

    def applies_directly(self, agent: Agent, path: Path) -> bool:
        """As Claude Code: an agent in `acceptEdits` mode does not ask; nor does anyone whose
        folder's settings say `editReview: direct`."""
        return (
            agent.permission_mode in DIRECT_MODES
            or self._session.settings_for(path).edit_review == "direct"
        )

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def deliver(self, change: AgentChange, *, direct: bool) -> Delivered:
        if direct:
            return await self._apply(change, confirm=False)
        if client_reviews(self._session.server.client_capabilities):
            return await self._propose(change)
        return await self._apply(change, confirm=True)

    async def accept(self, args: tuple[Any, ...]) -> dict[str, Any]:
        change = self._take(args)
        if change is None:
            return {"applied": False, "message": "That change is no longer pending.", "files": []}
        return (await self._apply(change, confirm=False)).answer

    def discard(self, args: tuple[Any, ...]) -> dict[str, Any]:
        change = self._take(args)
        if change is None:
            return {"discarded": False, "message": "That change is no longer pending."}
        log.info("%s: discarded", change.label)
        return {"discarded": True, "message": f"Discarded {change.agent}'s change."}

    def _take(self, args: tuple[Any, ...]) -> AgentChange | None:
        key = _pending_id(args)
        return self._pending.pop(key, None) if key is not None else None

    async def _propose(self, change: AgentChange) -> Delivered:
        server = self._session.server
        try:
            plan = await plan_files(change.files, server.workspace, change.display)
        except CannotApply as exc:
            return self._failed(change, exc)
        key = str(next(self._ids))
        self._pending[key] = change
        while len(self._pending) > MAX_PENDING:
            dropped, old = self._pending.popitem(last=False)
            log.info("%s: dropped unanswered change %s", old.label, dropped)
        # plan_files keeps the order of the changes, one planned file each.
        files = [
            {
                "uri": planned.uri,
                "path": change.display.get(file.path, file.path.name),
                "original": planned.old_text,
                "proposed": planned.new_text,
            }
            for file, planned in zip(change.files, plan.files, strict=True)
        ]
        server.protocol.notify(
            ids.REVIEW_EDIT,
            {
                "id": key,
                "label": change.label,
                "agent": change.agent,
                "summary": change.summary,
                "files": files,
            },
        )
        names = ", ".join(change.display.values())
        log.info("%s: change %s to %s waits for review", change.label, key, names)
        return Delivered(
            "Review the change",
            {
                "applied": False,
                "pending": key,
                "message": f"{change.agent} proposes a change to {names}: review it.",
                "files": [planned.uri for planned in plan.files],
            },
        )

    async def _apply(self, change: AgentChange, *, confirm: bool) -> Delivered:
        session = self._session
        server = session.server
        try:
            plan = await plan_files(change.files, server.workspace, change.display)
            edit = workspace_edit(
                plan, server.client_capabilities, session.encoding, change.label, confirm=confirm
            )
        except CannotApply as exc:
            return self._failed(change, exc)
        files = [planned.uri for planned in plan.files]
        response = await server.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=change.label)
        )
        if not response.applied:
            reason = response.failure_reason or "the document changed before the edit arrived"
            message = f"The editor did not apply {change.agent}'s edit: {reason}."
            self._show(types.MessageType.Warning, message)
            return Delivered("Not applied", {"applied": False, "message": message, "files": files})
        message = f"{change.agent} changed {', '.join(change.display.values())}"
        if plan.rebased:
            message += " (re-applied onto your newer text)"
        if change.summary:
            message += f": {' '.join(change.summary.split())}"
        self._show(types.MessageType.Info, message)
        return Delivered("Done", {"applied": True, "message": message, "files": files})

    def _failed(self, change: AgentChange, exc: CannotApply) -> Delivered:
        message = f"{change.agent}'s edit was not applied: {exc}."
        self._show(types.MessageType.Error, message)
        return Delivered("Failed", {"applied": False, "message": message, "files": []})
