"""Code actions for the editor: list them from the syntax tree, run one as a cancellable task."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol.json_rpc import MsgId

from .. import ids
from ..actions import ASK, OfferedAction, headline, intent, offered_actions, ranked
from ..agents import Agent
from ..backend.code_facts import RegisteredRoute, code_facts
from ..backend.targets import target_at
from ..context.backward import selected_declaration
from ..context.registrations import registered_route
from ..context.symbols import Lookup
from ..peek import NeedsDisk
from ..pipeline import ActionFailed, ActionJob, run_action
from ..project import display_path
from ..syntax.comments import find_instruction
from ..syntax.declarations import Symbol
from ..syntax.source import SourceFile, language_for
from ..syntax.targets import Target
from . import commands
from .documents import uri_to_path
from .progress import ActionProgress, cancel_task_soon
from .proposals import AgentChange, EditDelivery
from .review import ReviewDiagnostics
from .session import OpenFile, Session

log = logging.getLogger(__name__)

_REGISTRATIONS = 512
_REST_BEFORE_LOOKUP = 0.3
"""Seconds the cursor rests in a function before its registration is looked for."""


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
        kind=ids.CODE_ACTION_KIND,
        command=types.Command(title=offered.title, command=ids.RUN_ACTION, arguments=[argument]),
    )


def _label(instruction: str) -> str:
    """A free-form instruction's first line, as the label of its change."""
    lines = instruction.strip().splitlines()
    return headline(lines[0]) if lines else "Ask"


def wants_kind(only: Sequence[str] | None, kind: str) -> bool:
    """Whether a client that asks only for ``only`` kinds wants actions of ``kind``."""
    if not only:
        return True
    return any(wanted == kind or kind.startswith(wanted + ".") for wanted in only)


class ActionRunner:
    """Lists the agents' actions, and runs them as tasks that `$/cancelRequest` and progress
    cancellation can stop."""

    def __init__(self, session: Session, reviews: ReviewDiagnostics) -> None:
        self._session = session
        self._reviews = reviews
        self._by_request: dict[MsgId, asyncio.Task[Any]] = {}
        self.edits = EditDelivery(session, self._show)
        self._registrations: dict[tuple[Path, str], tuple[int, RegisteredRoute | None]] = {}
        """Functions registered by name elsewhere: (generation read at, the route they serve)."""
        self._looking: set[tuple[Path, str]] = set()
        self._waiting: asyncio.TimerHandle | None = None
        self._waiting_for: tuple[tuple[Path, str], int] | None = None

    def code_actions(self, file: OpenFile, rng: types.Range) -> list[types.CodeAction]:
        """Instant, from the open document alone: no model call, no file read."""
        session = self._session
        agents = session.agents_for(file.path)
        if not agents.agents:
            return []
        source = file.source
        start = source.lines.offset(rng.start, session.encoding)
        end = source.lines.offset(rng.end, session.encoding)
        start, end = min(start, end), max(start, end)
        target = target_at(source, start, end)
        facts = code_facts(
            source, target, self._memory_finder(file), self._registered(file, target)
        )
        instruction = find_instruction(source, start, end, target)
        offered = offered_actions(
            agents.ordered(),
            agents.default(),
            facts,
            instruction,
            session.settings_for(file.path).menu_agents,
        )
        return [_code_action(file.uri, rng, item) for item in offered]

    def _registered(self, file: OpenFile, target: Target) -> RegisteredRoute | None:
        """The route the function around the selection serves when it is registered by name
        elsewhere, as last read; a newer reading is made in a worker thread (listing reads no
        file), so the menu offers route actions there a moment after the code changed."""
        if file.path is None:
            return None
        decl = selected_declaration(file.source, target)
        # A function, or a variable that holds one: `const list = schema.parse` or `router(...)`
        # is built by a call and serves no route by itself.
        if decl is None or not (
            decl.kind == "function" or (decl.kind == "variable" and decl.called_name is None)
        ):
            return None
        key = (file.path, decl.name)
        generation = self._session.generation
        known = self._registrations.get(key)
        if (known is None or known[0] != generation) and key not in self._looking:
            self._look_for_registration(file, key, generation)
        return known[1] if known is not None else None

    def _look_for_registration(
        self, file: OpenFile, key: tuple[Path, str], generation: int
    ) -> None:
        """Once the cursor rests: a lookup started for every function the cursor passes would
        keep a worker thread parsing while the next requests wait for the interpreter."""
        if self._waiting is not None:
            if self._waiting_for == (key, generation):
                return  # already waiting for this one: asking again does not restart the wait
            self._waiting.cancel()
        loop = asyncio.get_running_loop()
        self._waiting_for = (key, generation)
        self._waiting = loop.call_later(
            _REST_BEFORE_LOOKUP, self._start_lookup, file, key, generation
        )

    def _start_lookup(self, file: OpenFile, key: tuple[Path, str], generation: int) -> None:
        self._waiting = None
        if generation != self._session.generation or key in self._looking:
            return  # the code moved on: the next listing asks again
        path, name = key
        view = self._session.view_for(path)
        # Until the index is built only the file itself is searched: not worth keeping.
        complete = view.references is not None and view.references.ready

        def look() -> RegisteredRoute | None:
            lookup = Lookup(view.index, view.documents, view.exclusions)
            return registered_route(
                path, file.source, name, lookup, view.references, view.documents
            )

        def done(task: asyncio.Future[RegisteredRoute | None]) -> None:
            self._looking.discard(key)
            if task.cancelled() or task.exception() is not None:
                return
            if complete:
                if len(self._registrations) >= _REGISTRATIONS:
                    self._registrations.clear()
                self._registrations[key] = (generation, task.result())

        self._looking.add(key)
        asyncio.ensure_future(asyncio.to_thread(look)).add_done_callback(done)

    def _memory_finder(self, file: OpenFile) -> Callable[[str], Symbol | None]:
        """Names looked up in what is already in memory; what would need the disk is unknown."""
        view = self._session.view_for(file.path)
        lookup = Lookup(view.index, view.documents, view.exclusions, peek=True)

        def find(name: str) -> Symbol | None:
            try:
                return lookup.find(file.path, file.source, name)
            except NeedsDisk:
                return None

        return find

    def fixes(self, file: OpenFile, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
        """ "Fix with AGENT" on review findings, by the best agent that can edit."""
        editors = [
            a
            for a in ranked(self._session.agents_for(file.path).ordered())
            if not a.capabilities.read_only
        ]
        return self._reviews.fixes(file.uri, diagnostics, editors[0].name if editors else None)

    def cancel_request(self, msg_id: MsgId) -> None:
        task = self._by_request.pop(msg_id, None)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        for task in self._by_request.values():
            task.cancel()
        if self._waiting is not None:
            self._waiting.cancel()

    @property
    def running(self) -> int:
        return len(self._by_request)

    def _show(self, kind: types.MessageType, message: str) -> None:
        self._session.server.window_show_message(
            types.ShowMessageParams(type=kind, message=message)
        )

    async def _load(self, uri: str, path: Path) -> tuple[SourceFile, int | None]:
        file = self._session.open_file(uri)
        if file is not None:
            return file.source, file.version
        doc = self._session.document(uri)
        language = language_for(uri, doc.language_id if doc else None)
        if language is None:
            raise JsonRpcInvalidParams(f"{path.name} is not a TypeScript file.")
        try:
            text = await asyncio.to_thread(path.read_text, encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise JsonRpcInvalidParams(f"Cannot read {path.name}: {exc}") from exc
        return SourceFile(text, language), None

    def _check_reachable(self, path: Path) -> None:
        """The file an action is about is sent to the model: the same rules as for `view`."""
        roots = self._session.roots(path)
        if not any(root == path or root in path.parents for root in roots):
            raise JsonRpcInvalidParams(
                f"{path} is outside the workspace folders, so no agent may read it."
            )
        if self._session.view_for(path).exclusions.is_excluded(path):
            raise JsonRpcInvalidParams(
                f"{display_path(path, roots)} is excluded from what agents may read "
                "(secrets, dependencies, build output, .gitignore and the exclude setting)."
            )

    def _agent(self, name: str | None, path: Path) -> Agent:
        agents = self._session.agents_for(path)
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
        session = self._session
        await session.wait_for_agents()
        path = uri_to_path(parsed.uri)
        if path is None:
            raise JsonRpcInvalidParams(
                f"Cannot run an agent on {parsed.uri}: it is not a file on disk."
            )
        self._check_reachable(path)
        agent = self._agent(parsed.agent, path)
        if parsed.action == ASK:
            instruction = parsed.instruction or ""
            title = "Ask"
        else:
            known = intent(parsed.action)
            if known is None:
                raise JsonRpcInvalidParams(f"Unknown action '{parsed.action}'.")
            instruction, title = known.instruction, known.title
            if parsed.instruction:
                instruction += f"\n\nAlso: {parsed.instruction}"
        if not instruction.strip():
            raise JsonRpcInvalidParams("The instruction is empty.")
        source, version = await self._load(parsed.uri, path)
        start = source.lines.offset(parsed.range.start, session.encoding)
        end = source.lines.offset(parsed.range.end, session.encoding)
        job = ActionJob(path, source, version, start, end, agent, parsed.action, instruction)

        task = asyncio.current_task()
        msg_id = session.server.protocol.msg_id
        if task is not None and msg_id is not None:
            self._by_request[msg_id] = task
        progress = ActionProgress(session.server, agent.name, title)
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
        session = self._session
        roots = session.roots(job.path)
        try:
            result = await run_action(
                job,
                session.settings_for(job.path),
                session.view_for(job.path),
                progress.update,
                session.clients.get,
            )
        except ActionFailed as exc:
            progress.end("Failed")
            self._show(types.MessageType.Error, str(exc))
            return {"applied": False, "message": str(exc), "files": []}
        if not result.changes:
            # A read-only agent's answer: shown, its findings as diagnostics, nothing applied.
            shown = self._reviews.publish(
                job.agent.name,
                [(session.client_uri(r.path), r.finding, r.text) for r in result.findings],
            )
            answer = " ".join(result.summary.split()) or "no findings"
            message = f"{job.agent.name}: {answer}"
            if shown:
                message += f" ({shown} findings shown on the code)"
            progress.end("Done")
            self._show(types.MessageType.Info, message)
            return {"applied": False, "message": message, "files": [], "review": result.summary}
        change = AgentChange(
            job.agent.name,
            f"{job.agent.name}: {_label(job.instruction) if job.action_id == ASK else title}",
            result.summary,
            result.changes,
            {c.path: display_path(c.path, roots) for c in result.changes},
        )
        delivered = await self.edits.deliver(
            change, direct=self.edits.applies_directly(job.agent, job.path)
        )
        progress.end(delivered.progress)
        return delivered.answer
