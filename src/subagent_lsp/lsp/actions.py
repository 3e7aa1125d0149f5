"""Code actions for the editor: list them from the syntax tree, run one as a cancellable task."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol.json_rpc import MsgId

from ..actions import ASK, CODE_ACTION_KIND, OfferedAction, intent, offered_actions
from ..agents import Agent
from ..pipeline import ActionFailed, ActionJob, display_path, run_action
from ..syntax import SourceFile, code_facts, find_instruction, language_for, resolve_target
from . import commands
from .apply import CannotApply, plan_files, workspace_edit
from .documents import uri_to_path
from .progress import ActionProgress, cancel_task_soon

if TYPE_CHECKING:
    from ..server import SubagentServer

log = logging.getLogger(__name__)

_PARSE_CACHE_SIZE = 16


def encoding_of(ls: SubagentServer) -> str:
    encoding = ls.workspace.position_encoding
    value = getattr(encoding, "value", encoding)
    return str(value) if value else "utf-16"


class ParsedDocuments:
    """Parse trees of recently used document versions, so listing actions never re-parses."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[str, int | None, str], SourceFile] = OrderedDict()

    def get(self, uri: str, version: int | None, text: str, language: str) -> SourceFile:
        key = (uri, version, language)
        cached = self._cache.get(key)
        if cached is not None and cached.text == text:
            self._cache.move_to_end(key)
            return cached
        # The newest parsed version of the same document, to re-parse only what changed.
        previous = next(
            (
                parsed
                for (cached_uri, _, cached_language), parsed in reversed(self._cache.items())
                if cached_uri == uri and cached_language == language
            ),
            None,
        )
        source = SourceFile(text, language, previous)  # type: ignore[arg-type]
        self._cache[key] = source
        while len(self._cache) > _PARSE_CACHE_SIZE:
            self._cache.popitem(last=False)
        return source


def _range_json(rng: types.Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def _code_action(uri: str, rng: types.Range, offered: OfferedAction) -> types.CodeAction:
    argument: dict[str, Any] = {
        "uri": uri,
        "range": _range_json(rng),
        "agent": offered.agent.name,
        "action": offered.action_id,
    }
    if offered.action_id == ASK:
        argument["instruction"] = offered.instruction
    return types.CodeAction(
        title=offered.title,
        kind=CODE_ACTION_KIND,
        command=types.Command(
            title=offered.title, command=commands.RUN_ACTION, arguments=[argument]
        ),
    )


def _wants_our_kind(only: Sequence[str] | None) -> bool:
    if not only:
        return True
    return any(kind == CODE_ACTION_KIND or CODE_ACTION_KIND.startswith(kind + ".") for kind in only)


def list_code_actions(
    ls: SubagentServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    uri = params.text_document.uri
    doc = ls.workspace.text_documents.get(uri)
    if doc is None or not _wants_our_kind(params.context.only):
        return None
    language = language_for(uri, doc.language_id)
    if language is None or not ls.agents.agents:
        return None
    source = ls.runner.parsed.get(uri, doc.version, doc.source, language)
    encoding = encoding_of(ls)
    start = source.line_index.offset(params.range.start, encoding)
    end = source.line_index.offset(params.range.end, encoding)
    start, end = min(start, end), max(start, end)
    target = resolve_target(source, start, end)
    facts = code_facts(source, target)
    instruction = find_instruction(source, start, end)
    offered = offered_actions(ls.agents.ordered(), ls.agents.default(), facts, instruction)
    actions: list[types.CodeAction | types.Command] = [
        _code_action(uri, params.range, item) for item in offered
    ]
    if not params.context.only:
        actions += ls.hover.code_actions(uri, params.range)
    return actions or None


class ActionRunner:
    """Runs actions as tasks that `$/cancelRequest` and progress cancellation can stop."""

    def __init__(self, ls: SubagentServer) -> None:
        self._ls = ls
        self.parsed = ParsedDocuments()
        self._by_request: dict[MsgId, asyncio.Task[Any]] = {}

    def cancel_request(self, msg_id: MsgId) -> None:
        task = self._by_request.pop(msg_id, None)
        if task is not None:
            task.cancel()

    @property
    def running(self) -> int:
        return len(self._by_request)

    def _show(self, kind: types.MessageType, message: str) -> None:
        self._ls.window_show_message(types.ShowMessageParams(type=kind, message=message))

    async def _load(self, uri: str) -> tuple[Path, SourceFile, int | None]:
        path = uri_to_path(uri)
        if path is None:
            raise JsonRpcInvalidParams(f"Cannot run an agent on {uri}: it is not a file on disk.")
        doc = self._ls.workspace.text_documents.get(uri)
        language = language_for(uri, doc.language_id if doc else None)
        if language is None:
            raise JsonRpcInvalidParams(f"{path.name} is not a TypeScript file.")
        if doc is not None:
            return path, self.parsed.get(uri, doc.version, doc.source, language), doc.version
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise JsonRpcInvalidParams(f"Cannot read {path.name}: {exc}") from exc
        return path, SourceFile(text, language), None

    def _agent(self, name: str | None) -> Agent:
        agents = self._ls.agents
        if name is None:
            return agents.default()
        agent = agents.get(name)
        if agent is None:
            known = ", ".join(a.name for a in agents.ordered()) or "none"
            raise JsonRpcInvalidParams(f"No agent named '{name}' is loaded (loaded: {known}).")
        return agent

    async def run_command(self, args: tuple[Any, ...], *, free_form: bool) -> dict[str, Any]:
        try:
            parsed = commands.parse_action_args(args, free_form=free_form)
        except commands.BadArguments as exc:
            raise JsonRpcInvalidParams(str(exc)) from exc
        await self._ls.wait_for_agents()
        agent = self._agent(parsed.agent)
        if parsed.action == ASK:
            instruction = parsed.instruction or ""
            title = f"Ask {agent.name}"
        else:
            known = intent(parsed.action)
            if known is None:
                raise JsonRpcInvalidParams(f"Unknown action '{parsed.action}'.")
            instruction, title = known.instruction, known.title
            if parsed.instruction:
                instruction += f"\n\nAlso: {parsed.instruction}"
        if not instruction.strip():
            raise JsonRpcInvalidParams("The instruction is empty.")
        path, source, version = await self._load(parsed.uri)
        encoding = encoding_of(self._ls)
        start = source.line_index.offset(parsed.range.start, encoding)
        end = source.line_index.offset(parsed.range.end, encoding)
        job = ActionJob(path, source, version, start, end, agent, parsed.action, instruction)

        task = asyncio.current_task()
        msg_id = self._ls.protocol._ctx_msg_id.get(None)
        if task is not None and msg_id is not None:
            self._by_request[msg_id] = task
        progress = ActionProgress(self._ls, agent.name, title)
        try:
            if task is not None:
                await progress.begin(cancel_task_soon(task))
            return await self._run(job, title, progress)
        except asyncio.CancelledError:
            # Answer normally: the request may have been cancelled through its progress token,
            # and a handler that dies of CancelledError leaves the client without a reply.
            progress.end("Cancelled")
            log.info("%s: %s cancelled", agent.name, title)
            return {"applied": False, "message": "Cancelled.", "files": []}
        finally:
            if msg_id is not None:
                self._by_request.pop(msg_id, None)

    async def _run(self, job: ActionJob, title: str, progress: ActionProgress) -> dict[str, Any]:
        ls = self._ls
        roots = ls.roots(job.path)
        view = ls.view(roots)
        label = f"{job.agent.name}: {title}"
        try:
            result = await run_action(
                job, ls.settings, view, progress.update, client_for=ls.clients.get
            )
            display = {c.path: display_path(c.path, roots) for c in result.changes}
            plan = await plan_files(result.changes, ls.workspace, display)
            edit = workspace_edit(plan, ls.client_capabilities, encoding_of(ls), label)
        except (ActionFailed, CannotApply) as exc:
            message = str(exc)
            if isinstance(exc, CannotApply):
                message = f"{job.agent.name}'s edit was not applied: {message}."
            progress.end("Failed")
            self._show(types.MessageType.Error, message)
            return {"applied": False, "message": message, "files": []}

        files = [planned.uri for planned in plan.files]
        response = await ls.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=edit, label=label)
        )
        if not response.applied:
            reason = response.failure_reason or "the document changed before the edit arrived"
            message = f"The editor did not apply {job.agent.name}'s edit: {reason}."
            progress.end("Not applied")
            self._show(types.MessageType.Warning, message)
            return {"applied": False, "message": message, "files": files}

        names = ", ".join(display.values())
        message = f"{job.agent.name} changed {names}"
        if plan.rebased:
            message += " (re-applied onto your newer text)"
        if result.summary:
            message += f": {' '.join(result.summary.split())}"
        progress.end("Done")
        self._show(types.MessageType.Info, message)
        return {"applied": True, "message": message, "files": files}
