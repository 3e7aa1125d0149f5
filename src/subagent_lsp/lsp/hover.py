"""Hover for the editor: instant facts, then the agent's explanation, cached and cancellable.

At most one explanation request runs per document: a newer hover cancels the one in flight, which
closes its connection to the API.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from ..agents import Agent
from ..context.gather import find_symbol
from ..hover.explain import ExplanationCache, explain, explanation_request
from ..hover.facts import HoverFacts, static_facts
from ..model.client import load_sdk
from ..model.errors import sentence_for
from ..pipeline import WorkspaceView, context_for
from ..project import root_relative
from ..syntax import SourceFile, language_for
from .actions import encoding_of
from .documents import uri_to_path

if TYPE_CHECKING:
    from ..server import SubagentServer

log = logging.getLogger(__name__)

EXPLAIN = "subagent-lsp.explain"
"""Explain the code at a position and cache it: {uri, position, agent?, refresh?}."""


@dataclass(frozen=True)
class _Hovered:
    uri: str
    path: Path
    source: SourceFile
    facts: HoverFacts


class HoverRunner:
    def __init__(self, ls: SubagentServer) -> None:
        self._ls = ls
        self.cache = ExplanationCache()
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self.explained: set[tuple[str, int, int]] = set()
        """(uri, start, end) of code explained in this session, for "Regenerate explanation"."""

    def facts_at(self, uri: str, position: types.Position) -> _Hovered | None:
        ls = self._ls
        doc = ls.workspace.text_documents.get(uri)
        path = uri_to_path(uri)
        if doc is None or path is None:
            return None
        language = language_for(uri, doc.language_id)
        if language is None:
            return None
        source = ls.runner.parsed.get(uri, doc.version, doc.source, language)
        offset = source.line_index.offset(position, encoding_of(ls))
        roots = ls.roots(path)

        # Most hovers never look a name up; only those pay for gathering the open documents.
        @cache
        def workspace() -> WorkspaceView:
            return ls.view(roots)

        def find(name: str) -> Any:
            view = workspace()
            return find_symbol(
                path,
                source,
                name,
                index=view.index,
                documents=view.documents,
                exclusions=view.exclusions,
            )

        def display(p: Path) -> str:
            return root_relative(p, roots) or p.name

        facts = static_facts(source, offset, find, display)
        return _Hovered(uri, path, source, facts) if facts is not None else None

    def _hover(self, hovered: _Hovered, markdown: str) -> types.Hover:
        index = hovered.source.line_index
        encoding = encoding_of(self._ls)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=markdown),
            range=types.Range(
                start=index.position(hovered.facts.start, encoding),
                end=index.position(hovered.facts.end, encoding),
            ),
        )

    async def _request(self, hovered: _Hovered, agent: Agent) -> tuple[str, dict[str, Any]]:
        ls = self._ls
        view = ls.view(ls.roots(hovered.path))
        facts = hovered.facts
        context = await asyncio.to_thread(
            context_for,
            hovered.path,
            hovered.source,
            facts.code_start,
            facts.code_end,
            ls.settings,
            view,
        )
        model = ls.settings.hover_model_id()
        key = ExplanationCache.key(agent, model, facts.markdown, context)
        return key, explanation_request(agent, model, facts.markdown, context, ls.settings)

    async def hover(self, params: types.HoverParams) -> types.Hover | None:
        settings = self._ls.settings
        if settings.hover_mode == "off":
            return None
        hovered = self.facts_at(params.text_document.uri, params.position)
        if hovered is None:
            return None
        facts = hovered.facts.markdown
        if settings.hover_mode == "static" or not self._ls.agents.agents:
            return self._hover(hovered, facts)
        agent = self._ls.agents.default()
        if not settings.resolved_api_key():
            hint = (
                f"_Set ANTHROPIC_API_KEY or the subagentLsp.apiKey setting to add "
                f"{agent.name}'s explanation here._"
            )
            return self._hover(hovered, f"{facts}\n\n---\n{hint}")
        key, request = await self._request(hovered, agent)
        cached = self.cache.get(key)
        if cached is None:
            try:
                cached = await self._explain_once(hovered.uri, key, request)
            except Exception as exc:
                log.info("hover explanation failed: %r", exc)
                sentence = sentence_for(exc, settings, request["model"])
                return self._hover(hovered, f"{facts}\n\n---\n_No explanation: {sentence}_")
            self.explained.add((hovered.uri, hovered.facts.code_start, hovered.facts.code_end))
        return self._hover(hovered, _combine(facts, agent, cached))

    @property
    def running(self) -> int:
        # Each explanation removes itself when it ends, however it ends.
        return len(self._inflight)

    async def _explain_once(self, uri: str, key: str, request: dict[str, Any]) -> str:
        """Run one explanation for ``uri``, cancelling any other still running for it."""
        previous = self._inflight.get(uri)
        if previous is not None and not previous.done():
            previous.cancel()
        task = asyncio.current_task()
        if task is not None:
            self._inflight[uri] = task
        try:
            await load_sdk(self._ls.settings)
            text = await explain(request, self._ls.clients.get(self._ls.settings))
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
        await self._ls.wait_for_agents()
        hovered = self.facts_at(raw["uri"], types.Position(line=line, character=character))
        if hovered is None:
            raise JsonRpcInvalidParams("There is no route, table, query or schema to explain here.")
        name = raw.get("agent")
        agent = self._ls.agents.get(name) if isinstance(name, str) else self._ls.agents.default()
        if agent is None:
            raise JsonRpcInvalidParams(f"No agent named '{name}' is loaded.")
        key, request = await self._request(hovered, agent)
        if raw.get("refresh") is not True:
            cached = self.cache.get(key)
            if cached is not None:
                return {"markdown": _combine(hovered.facts.markdown, agent, cached), "cached": True}
        try:
            text = await self._explain_once(hovered.uri, key, request)
        except Exception as exc:
            sentence = sentence_for(exc, self._ls.settings, request["model"])
            self._ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=sentence)
            )
            return {"markdown": None, "error": sentence}
        self.explained.add((hovered.uri, hovered.facts.code_start, hovered.facts.code_end))
        self._ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info,
                message=f"{agent.name}'s explanation is ready: hover over the code to read it.",
            )
        )
        return {"markdown": _combine(hovered.facts.markdown, agent, text), "cached": False}

    def code_actions(self, uri: str, rng: types.Range) -> list[types.CodeAction]:
        hovered = self.facts_at(uri, rng.start)
        if hovered is None:
            return []
        position = {"line": rng.start.line, "character": rng.start.character}
        actions = []
        for agent in self._ls.agents.ordered():
            actions.append(
                _explain_action(f"Explain with {agent.name}", uri, position, agent, False)
            )
        if (uri, hovered.facts.code_start, hovered.facts.code_end) in self.explained:
            agent = self._ls.agents.default()
            actions.append(_explain_action("Regenerate explanation", uri, position, agent, True))
        return actions


def _explain_action(
    title: str, uri: str, position: dict[str, int], agent: Agent, refresh: bool
) -> types.CodeAction:
    argument = {"uri": uri, "position": position, "agent": agent.name, "refresh": refresh}
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.Empty,
        command=types.Command(title=title, command=EXPLAIN, arguments=[argument]),
    )


def _combine(facts: str, agent: Agent, explanation: str) -> str:
    return f"{facts}\n\n---\n**{agent.name}:** {explanation}"
