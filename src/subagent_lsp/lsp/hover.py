"""Hover for the editor: instant facts, then the agent's explanation, cached and cancellable.

At most one explanation request runs per document: a newer hover cancels the one in flight, which
closes its connection to the API. Facts are first read from memory alone (`peek.py`); where a name
must be looked up in files not yet read, the hover reads them in a worker thread, and listing the
Explain actions does without and warms the caches for next time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from .. import ids
from ..agents import Agent
from ..backend.hover_facts import HoverFacts, static_facts
from ..backend.routes import RouteCall
from ..context.chain import served_prefix
from ..context.symbols import Lookup
from ..explanations import ExplanationCache, explanation_key
from ..model.client import load_sdk
from ..model.errors import sentence_for
from ..model.explain import explain
from ..model.loop import ModelRequest
from ..peek import NeedsDisk
from ..pipeline import WorkspaceView, context_for
from ..project import display_path
from ..prompt import build_explanation_request
from .documents import uri_to_path
from .session import OpenFile, Session

log = logging.getLogger(__name__)

EXPLANATION_READY = "subagent-lsp/explanationReady"
"""Notification: an explanation for {uri, range} is ready; hovering there shows it."""
_RECENT = 256


@dataclass(frozen=True)
class _Hovered:
    file: OpenFile
    facts: HoverFacts


class HoverRunner:
    def __init__(self, session: Session) -> None:
        self._session = session
        self.cache = ExplanationCache()
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._later: dict[str, asyncio.Task[Any]] = {}
        """The background explanation of each document: at most one."""
        self._recent: dict[tuple[object, ...], tuple[bool, str]] = {}
        """Explanations (or failures) by document, workspace generation, code and agent."""
        self._warming: set[asyncio.Task[Any]] = set()
        self._waited = False
        self._served: dict[tuple[Path | None, int, int], str | None] = {}
        """The prefixes a route is served under, by file, route and workspace generation."""
        self.explained: set[tuple[str, int, int]] = set()
        """(uri, start, end) of code explained in this session, for "Regenerate explanation"."""

    def _lookup(self, file: OpenFile) -> tuple[WorkspaceView, Callable[[Path], str]]:
        """The workspace view for a file, taken on the event loop (it reads the open documents)."""
        roots = self._session.roots(file.path)
        return self._session.view_for(file.path), lambda path: display_path(path, roots)

    def _facts(
        self,
        file: OpenFile,
        offset: int,
        view: WorkspaceView,
        display: Callable[[Path], str],
        peek: bool,
        served_from_memory: bool = False,
    ) -> HoverFacts | None:
        """The facts at ``offset``; with ``peek``, `NeedsDisk` where a lookup would read files.
        ``served_from_memory``: a route's served path only when known already (the Explain
        actions need the facts, not that path)."""
        lookup = Lookup(view.index, view.documents, view.exclusions, peek=peek)
        generation = self._session.generation

        def served(route: RouteCall) -> str | None:
            # Where a route's plugin is mounted is in other files: read off the event loop
            # once per change of the workspace, then answered from memory.
            key = (file.path, route.call.start_byte, generation)
            if key in self._served:
                return self._served[key]
            if view.references is None or file.path is None or served_from_memory:
                return None
            if peek:
                raise NeedsDisk(str(file.path))
            # Just after start-up the index is being built: worth a moment's wait, once.
            if not view.references.ready and (self._waited or not view.references.wait(2.0)):
                self._waited = True
                return None
            found = served_prefix(
                file.path, file.source, route, lookup, view.references, view.documents
            )
            if len(self._served) >= _RECENT:
                self._served.clear()
            self._served[key] = found
            return found

        return static_facts(
            file.source,
            offset,
            lambda name: lookup.find(file.path, file.source, name),
            display,
            served,
        )

    async def facts_at(self, uri: str, position: types.Position) -> _Hovered | None:
        file = self._session.open_file(uri)
        if file is None or file.path is None:
            return None
        offset = file.source.lines.offset(position, self._session.encoding)
        view, display = self._lookup(file)
        try:
            facts = self._facts(file, offset, view, display, True)
        except NeedsDisk:
            facts = await asyncio.to_thread(self._facts, file, offset, view, display, False)
        return _Hovered(file, facts) if facts is not None else None

    def _hover(self, hovered: _Hovered, markdown: str) -> types.Hover:
        lines = hovered.file.source.lines
        encoding = self._session.encoding
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
            range=types.Range(
                start=lines.position(hovered.facts.start, encoding),
                end=lines.position(hovered.facts.end, encoding),
            ),
        )

    async def _request(self, hovered: _Hovered, agent: Agent) -> ModelRequest:
        session = self._session
        file, facts = hovered.file, hovered.facts
        assert file.path is not None, "facts_at hovers files on disk only"
        view = session.view_for(file.path)
        settings = session.settings_for(file.path)
        context = await asyncio.to_thread(
            context_for,
            file.path,
            file.source,
            facts.code_start,
            facts.code_end,
            settings,
            view,
        )
        return build_explanation_request(
            agent=agent,
            model=settings.hover_model_id(),
            facts=facts.markdown,
            context=context,
            settings=settings,
        )

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        session = self._session
        settings = session.settings_for(uri_to_path(params.text_document.uri))
        if settings.hover_mode == "off":
            return None
        hovered = await self.facts_at(params.text_document.uri, params.position)
        if hovered is None:
            return None
        facts = hovered.facts.markdown
        agents = session.agents_for(hovered.file.path)
        if settings.hover_mode == "static" or not agents.agents:
            return self._hover(hovered, facts)
        agent = agents.default()
        if not settings.resolved_api_key():
            hint = (
                f"_Set ANTHROPIC_API_KEY or the subagentLsp.apiKey setting to add "
                f"{agent.name}'s explanation here._"
            )
            return self._hover(hovered, f"{facts}\n\n---\n{hint}")
        # Facts never wait: an explanation already made for this code and this state of the
        # workspace is shown; otherwise one is made in the background and the client told.
        memo = self._memo_key(hovered, agent)
        known = self._recent.get(memo)
        if known is not None:
            failed, text = known
            if failed:
                return self._hover(hovered, f"{facts}\n\n---\n_No explanation: {text}_")
            return self._hover(hovered, _combine(facts, agent, text))
        self._explain_later(hovered, agent, memo)
        coming = f"_{agent.name}'s explanation is on the way; hover again in a moment._"
        return self._hover(hovered, f"{facts}\n\n---\n{coming}")

    def _memo_key(self, hovered: _Hovered, agent: Agent) -> tuple[object, ...]:
        facts = hovered.facts
        model = self._session.settings_for(hovered.file.path).hover_model_id()
        generation = self._session.generation
        return (hovered.file.uri, generation, facts.code_start, facts.code_end, agent.name, model)

    def _remember(self, memo: tuple[object, ...], failed: bool, text: str) -> None:
        self._recent[memo] = (failed, text)
        while len(self._recent) > _RECENT:
            self._recent.pop(next(iter(self._recent)))

    def _explain_later(self, hovered: _Hovered, agent: Agent, memo: tuple[object, ...]) -> None:
        uri = hovered.file.uri
        previous = self._later.get(uri)
        if previous is not None and not previous.done():
            if previous.get_name() == repr(memo):
                return  # the same explanation is already being made
            previous.cancel()
        task = asyncio.ensure_future(self._explain_in_background(hovered, agent, memo))
        task.set_name(repr(memo))
        self._later[uri] = task
        task.add_done_callback(
            lambda done: self._later.pop(uri, None) if self._later.get(uri) is done else None
        )

    async def _explain_in_background(
        self, hovered: _Hovered, agent: Agent, memo: tuple[object, ...]
    ) -> None:
        settings = self._session.settings_for(hovered.file.path)
        model = settings.hover_model_id()
        try:
            request = await self._request(hovered, agent)
            key = explanation_key(request)
            text = self.cache.get(key)
            if text is None:
                text = await self._explain_once(hovered.file.uri, key, request)
            self._remember(memo, False, text)
            self.explained.add(_explained(hovered))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.info("hover explanation failed: %r", exc)
            self._remember(memo, True, sentence_for(exc, settings, model))
        lines = hovered.file.source.lines
        encoding = self._session.encoding
        start = lines.position(hovered.facts.start, encoding)
        end = lines.position(hovered.facts.end, encoding)
        # Editor packages re-show the hover if the cursor is still there; others hover again.
        self._session.server.protocol.notify(
            EXPLANATION_READY,
            {
                "uri": hovered.file.uri,
                "range": {
                    "start": {"line": start.line, "character": start.character},
                    "end": {"line": end.line, "character": end.character},
                },
            },
        )

    def cancel_all(self) -> None:
        for task in (*self._inflight.values(), *self._later.values(), *self._warming):
            task.cancel()

    @property
    def running(self) -> int:
        # Each explanation removes itself when it ends, however it ends; one made in the
        # background counts from the hover that asked for it.
        return len({*self._inflight.values(), *self._later.values()})

    async def _explain_once(self, uri: str, key: str, request: ModelRequest) -> str:
        """Run one explanation for ``uri``, cancelling any other still running for it."""
        previous = self._inflight.get(uri)
        if previous is not None and not previous.done():
            previous.cancel()
        task = asyncio.current_task()
        if task is not None:
            self._inflight[uri] = task
        settings = self._session.settings_for(uri_to_path(uri))
        try:
            await load_sdk(settings)
            text = await explain(self._session.clients.get(settings), request)
        finally:
            if self._inflight.get(uri) is task:
                del self._inflight[uri]
        self.cache.put(key, text)
        return text

    async def explain_command(self, args: tuple[Any, ...]) -> dict[str, Any]:
        if len(args) != 1 or not isinstance(args[0], dict):
            raise JsonRpcInvalidParams("expected one argument: {uri, position, agent?, refresh?}")
        raw = args[0]
        position = raw.get("position")
        if not isinstance(raw.get("uri"), str) or not isinstance(position, dict):
            raise JsonRpcInvalidParams("'uri' and 'position' are required")
        line, character = position.get("line"), position.get("character")
        if not isinstance(line, int) or not isinstance(character, int):
            raise JsonRpcInvalidParams("'position' needs integer line and character")
        session = self._session
        await session.wait_for_agents()
        hovered = await self.facts_at(raw["uri"], types.Position(line=line, character=character))
        if hovered is None:
            raise JsonRpcInvalidParams("There is no route, table, query or schema to explain here.")
        name = raw.get("agent")
        agents = session.agents_for(hovered.file.path)
        agent = agents.get(name) if isinstance(name, str) else agents.default()
        if agent is None:
            raise JsonRpcInvalidParams(f"No agent named '{name}' is loaded.")
        request = await self._request(hovered, agent)
        key = explanation_key(request)
        if raw.get("refresh") is not True:
            cached = self.cache.get(key)
            if cached is not None:
                self._remember(self._memo_key(hovered, agent), False, cached)
                return {"markdown": _combine(hovered.facts.markdown, agent, cached), "cached": True}
        show = session.server.window_show_message
        try:
            text = await self._explain_once(hovered.file.uri, key, request)
        except Exception as exc:
            sentence = sentence_for(exc, session.settings_for(hovered.file.path), request.model)
            show(types.ShowMessageParams(type=types.MessageType.Error, message=sentence))
            return {"markdown": None, "error": sentence}
        self.explained.add(_explained(hovered))
        self._remember(self._memo_key(hovered, agent), False, text)
        message = f"{agent.name}'s explanation is ready: hover over the code to read it."
        show(types.ShowMessageParams(type=types.MessageType.Info, message=message))
        return {"markdown": _combine(hovered.facts.markdown, agent, text), "cached": False}

    def code_actions(self, file: OpenFile, rng: types.Range) -> list[types.CodeAction]:
        """Explain actions where a hover has facts; from memory only (see the module's note)."""
        session = self._session
        if file.path is None:
            return []
        offset = file.source.lines.offset(rng.start, session.encoding)
        view, display = self._lookup(file)
        try:
            facts = self._facts(file, offset, view, display, True, True)
        except NeedsDisk:
            self._warm(lambda: self._facts(file, offset, view, display, False, True))
            return []
        agents = session.agents_for(file.path)
        if facts is None or not agents.agents:
            return []
        position = {"line": rng.start.line, "character": rng.start.character}
        actions = [
            _explain_action(f"Explain with {agent.name}", file.uri, position, agent, False)
            for agent in agents.ordered()
        ]
        if _explained(_Hovered(file, facts)) in self.explained:
            agent = agents.default()
            actions.append(
                _explain_action("Regenerate explanation", file.uri, position, agent, True)
            )
        return actions

    def _warm(self, read: Callable[[], object]) -> None:
        """Run ``read`` in a worker thread, so the next listing finds what it read in memory."""

        def run() -> None:
            try:
                read()
            except Exception:
                log.exception("reading ahead for the Explain actions failed")

        task = asyncio.ensure_future(asyncio.to_thread(run))
        self._warming.add(task)
        task.add_done_callback(self._warming.discard)


def _explained(hovered: _Hovered) -> tuple[str, int, int]:
    return hovered.file.uri, hovered.facts.code_start, hovered.facts.code_end


def _explain_action(
    title: str, uri: str, position: dict[str, int], agent: Agent, refresh: bool
) -> types.CodeAction:
    argument = {"uri": uri, "position": position, "agent": agent.name, "refresh": refresh}
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.Empty,
        command=types.Command(title=title, command=ids.EXPLAIN, arguments=[argument]),
    )


def _combine(facts: str, agent: Agent, explanation: str) -> str:
    return f"{facts}\n\n---\n**{agent.name}:** {explanation}"
