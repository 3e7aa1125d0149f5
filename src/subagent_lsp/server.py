"""pygls wiring: capabilities and handlers that delegate to the domain modules.

The entry point loads this module and takes `server` and `setup_logging` from it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Generator
from pathlib import Path
from typing import Any

from lsprotocol import types
from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcInvalidRequest, JsonRpcServerNotInitialized
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import MsgId
from pygls.protocol.language_server import lsp_method

from . import __version__, ids
from .agents import AgentFileError, AgentSet, discover, is_agent_file, parse_agent
from .early import Answered
from .lsp.actions import ActionRunner, wants_kind
from .lsp.agent_diagnostics import agent_diagnostics
from .lsp.documents import path_to_uri, uri_to_path
from .lsp.fact_diagnostics import FactDiagnostics
from .lsp.hover import HoverRunner
from .lsp.logs import setup_logging as setup_logging
from .lsp.review import ReviewDiagnostics
from .lsp.session import Session
from .model.client import sdk_state
from .settings import SECTION

log = logging.getLogger(__name__)


class AgentProtocol(LanguageServerProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._initialize_seen = False
        self._answered_early: Answered | None = None

    def answered_early(self, answered: Answered) -> None:
        """`initialize` was answered while loading (see early.py): send no second answer."""
        self._answered_early = answered

    def _send_response(
        self, msg_id: MsgId, result: Any | None = None, error: ResponseError | None = None
    ) -> None:
        early = self._answered_early
        if early is None or msg_id != early.msg_id:
            super()._send_response(msg_id, result, error)
            return
        self._answered_early = None
        own = None if error is not None else self._converter.unstructure(result)
        if own != early.result:
            log.error(
                "the initialize answer sent while loading differs from the server's own: "
                "sent %s, the server's %s",
                early.result,
                own if error is None else error,
            )

    def handle_message(self, message: Any) -> None:
        # The lifecycle rules of the specification, which pygls leaves to servers: before
        # `initialize`, requests get ServerNotInitialized and notifications are dropped; after
        # `shutdown`, requests get an error instead of silence, so no client waits forever.
        method = getattr(message, "method", None)
        is_request = method is not None and getattr(message, "id", None) is not None
        if not self._initialize_seen and method is not None:
            if method == types.INITIALIZE:
                self._initialize_seen = True
            elif method != types.EXIT:
                if is_request:
                    refused = JsonRpcServerNotInitialized(f"'{method}' before 'initialize'")
                    self._send_response(message.id, None, refused.to_response_error())
                return
        if self._shutdown and is_request:
            late = JsonRpcInvalidRequest(f"'{method}' after 'shutdown': the server is stopping")
            self._send_response(message.id, None, late.to_response_error())
            return
        super().handle_message(message)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """Cancel everything still running, so `exit` finds nothing left to write."""
        server = self._server
        if isinstance(server, SubagentServer):
            server.runner.cancel_all()
            server.hover.cancel_all()
            server.facts.cancel_all()
        current = self.msg_id
        # pygls iterates the live dict while a cancellation can remove entries from it: a copy.
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current and not future.done():
                future.cancel()
        self._shutdown = True
        yield from ()

    def _handle_cancel_notification(self, msg_id: MsgId) -> None:
        # pygls cancels only the request's outer future; the running action is a task of its own.
        super()._handle_cancel_notification(msg_id)
        server = self._server
        if isinstance(server, SubagentServer):
            server.runner.cancel_request(msg_id)


class SubagentServer(LanguageServer):
    """The only module that knows the server: it owns the session and the feature runners, and
    its handlers hand each request to them."""

    def __init__(self) -> None:
        super().__init__("subagent-lsp", __version__, protocol_cls=AgentProtocol)
        self.session = Session(self)
        self.reviews = ReviewDiagnostics(self.session)
        self.facts = FactDiagnostics(self.session, self.reviews)
        self.runner = ActionRunner(self.session, self.reviews)
        self.hover = HoverRunner(self.session)
        self._agent_diagnostics: set[str] = set()
        self._reload_lock = asyncio.Lock()

    async def reload_agents(self) -> None:
        session = self.session
        async with self._reload_lock:
            roots = session.roots()
            settings = session.settings
            # A folder's own settings may keep its agent files out (an untrusted folder).
            each_settings = {root: session.settings_for(root) for root in roots}
            trusted = [root for root in roots if each_settings[root].workspace_agents]

            def load() -> tuple[AgentSet, dict[Path, AgentSet]]:
                found = discover(
                    trusted if len(roots) > 1 else roots,
                    settings.user_dir(),
                    include_workspace=bool(trusted),
                )
                if len(roots) < 2:
                    return found, {}
                # Each folder keeps its own agents; the merged set answers `listAgents`.
                each = {
                    root: discover(
                        [root],
                        folder.user_dir(),
                        include_workspace=folder.workspace_agents,
                    )
                    for root, folder in each_settings.items()
                }
                return found, each

            session.agents, session.folder_agents = await asyncio.to_thread(load)
            log.info(
                "agents: %s",
                ", ".join(f"{a.name} ({a.source}: {a.path})" for a in session.agents.ordered()),
            )
            log.info("looked for agent files in: %s", ", ".join(map(str, session.agents.folders)))
            self._publish_agent_errors()
            session.agents_loaded.set()

    def _publish_agent_errors(self) -> None:
        published = agent_diagnostics(self.session.agents.errors, self.session.client_uri)
        for uri, diagnostics in published.items():
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics)
            )
        for uri in self._agent_diagnostics - published.keys():
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )
        self._agent_diagnostics = set(published)

    def is_agent_document(self, uri: str) -> bool:
        path = uri_to_path(uri)
        user_dir = self.session.settings.user_dir()
        return path is not None and is_agent_file(path, self.session.roots(), user_dir)

    async def pull_configuration(self) -> None:
        caps = self.client_capabilities.workspace
        if not (caps and caps.configuration):
            return
        # With several folders, each folder's own values too (an editor scopes them by uri).
        folders = [
            (path, folder.uri)
            for folder in self.workspace.folders.values()
            if (path := uri_to_path(folder.uri)) is not None
        ]
        if len(folders) < 2:
            folders = []
        items = [types.ConfigurationItem(section=SECTION)] + [
            types.ConfigurationItem(scope_uri=uri, section=SECTION) for _, uri in folders
        ]
        try:
            result = await self.workspace_configuration_async(
                types.ConfigurationParams(items=items)
            )
        except Exception as exc:
            log.info("workspace/configuration failed: %s", exc)
            return
        session = self.session
        if result and isinstance(result[0], dict):
            session.settings = session.settings.merged(result[0])
        session.folder_settings = {
            path: session.settings.merged(answer)
            for (path, _), answer in zip(folders, (result or [])[1:], strict=False)
            if isinstance(answer, dict)
        }


server = SubagentServer()


@server.feature(types.INITIALIZE)
def initialize(ls: SubagentServer, params: types.InitializeParams) -> None:
    options = params.initialization_options
    if isinstance(options, dict):
        ls.session.settings = ls.session.settings.merged(options)


@server.feature(types.INITIALIZED)
async def initialized(ls: SubagentServer, params: types.InitializedParams) -> None:
    await ls.pull_configuration()
    await ls.reload_agents()
    # Starts building the reference index in the background, so the first action has it.
    ls.session.view(ls.session.roots())
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps else None
    if watched and watched.dynamic_registration:
        watchers = [
            types.FileSystemWatcher(glob_pattern="**/.claude/agents/*.md"),
            # TypeScript files changed outside the editor (a checkout, a generator) reach the
            # reference index through these.
            types.FileSystemWatcher(glob_pattern="**/*.{ts,tsx,mts,cts}"),
        ]
        # The user's folder, and those of a repository above the workspace folders.
        roots = ls.session.roots()
        outside = [ls.session.settings.user_dir()] + [
            folder
            for folder in ls.session.agents.folders
            if not any(root in folder.parents for root in roots)
        ]
        watchers += [
            types.FileSystemWatcher(
                glob_pattern=types.RelativePattern(base_uri=path_to_uri(folder), pattern="*.md")
            )
            for folder in dict.fromkeys(outside)
        ]
        try:
            await ls.client_register_capability_async(
                types.RegistrationParams(
                    registrations=[
                        types.Registration(
                            id="subagent-lsp-agent-files",
                            method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                            register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                watchers=watchers
                            ),
                        )
                    ]
                )
            )
        except Exception as exc:
            log.info("could not watch agent files: %s", exc)


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(
    ls: SubagentServer, params: types.DidChangeConfigurationParams
) -> None:
    if isinstance(params.settings, dict) and params.settings:
        ls.session.settings = ls.session.settings.merged(params.settings)
    await ls.pull_configuration()
    await ls.reload_agents()
    # The hints follow the settings (turned off, or other exclusions): show them anew.
    for doc in list(ls.workspace.text_documents.values()):
        ls.facts.schedule(doc.uri)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(
    ls: SubagentServer, params: types.DidChangeWatchedFilesParams
) -> None:
    ls.session.generation += 1
    ls.session.files_changed([p for c in params.changes if (p := uri_to_path(c.uri)) is not None])
    if any(ls.is_agent_document(change.uri) for change in params.changes):
        await ls.reload_agents()


@server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
async def did_change_folders(
    ls: SubagentServer, params: types.DidChangeWorkspaceFoldersParams
) -> None:
    await ls.reload_agents()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: SubagentServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.session.generation += 1
    _files_changed(ls, params.text_document.uri)
    _check_agent_text(ls, params.text_document.uri)
    ls.facts.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SubagentServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.session.generation += 1
    ls.session.closed(params.text_document.uri)
    _files_changed(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: SubagentServer, params: types.DidChangeTextDocumentParams) -> None:
    uri = params.text_document.uri
    ls.session.generation += 1
    _files_changed(ls, uri)
    _check_agent_text(ls, uri)
    doc = ls.session.document(uri)
    if doc is not None:
        ls.reviews.changed(uri, doc.source)
    ls.facts.schedule(uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: SubagentServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.session.generation += 1
    _files_changed(ls, params.text_document.uri)
    if ls.is_agent_document(params.text_document.uri):
        await ls.reload_agents()


def _files_changed(ls: SubagentServer, uri: str) -> None:
    path = uri_to_path(uri)
    if path is not None:
        ls.session.files_changed([path])


def _check_agent_text(ls: SubagentServer, uri: str) -> None:
    """Live diagnostics for an agent file being edited, before it is saved."""
    if not ls.is_agent_document(uri):
        return
    path = uri_to_path(uri)
    doc = ls.session.document(uri)
    if path is None or doc is None:
        return
    try:
        parse_agent(doc.source, path, "workspace")
        errors: tuple[Any, ...] = ()
    except AgentFileError as exc:
        errors = (exc.error,)
    diagnostics = agent_diagnostics(errors, lambda _: uri).get(uri, [])
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=doc.version)
    )


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=list(ids.CODE_ACTION_KINDS), resolve_provider=False),
)
async def code_action(
    ls: SubagentServer, params: types.CodeActionParams
) -> list[types.CodeAction | types.Command] | None:
    await ls.session.wait_for_agents()
    file = ls.session.open_file(params.text_document.uri)
    only = params.context.only
    if file is None:
        return None
    actions: list[types.CodeAction | types.Command] = []
    if wants_kind(only, ids.QUICK_FIX_KIND):
        actions += ls.runner.fixes(file, list(params.context.diagnostics))
    if not wants_kind(only, ids.CODE_ACTION_KIND):
        return actions or None
    actions += ls.runner.code_actions(file, params.range)
    if not only:
        actions += ls.hover.code_actions(file, params.range)
    return actions or None


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: SubagentServer, params: types.HoverParams) -> types.Hover | None:
    await ls.session.wait_for_agents()
    return await ls.hover.hover(params)


@server.command(ids.EXPLAIN)
async def explain(ls: SubagentServer, *args: Any) -> dict[str, Any]:
    return await ls.hover.explain_command(args)


@server.command(ids.RUN_ACTION)
async def run_action(ls: SubagentServer, *args: Any) -> dict[str, Any]:
    return await ls.runner.run_command(args, free_form=False)


@server.command(ids.ASK)
async def ask(ls: SubagentServer, *args: Any) -> dict[str, Any]:
    return await ls.runner.run_command(args, free_form=True)


@server.command(ids.ACCEPT_EDIT)
async def accept_edit(ls: SubagentServer, *args: Any) -> dict[str, Any]:
    return await ls.runner.edits.accept(args)


@server.command(ids.DISCARD_EDIT)
def discard_edit(ls: SubagentServer, *args: Any) -> dict[str, Any]:
    return ls.runner.edits.discard(args)


@server.command(ids.LIST_AGENTS)
async def list_agents(ls: SubagentServer, *args: Any) -> list[dict[str, Any]]:
    session = ls.session
    await session.wait_for_agents()
    ordered = session.agents.ordered()
    default = session.agents.default() if ordered else None
    return [
        {
            "name": agent.name,
            "description": agent.summary,
            "model": session.settings.model_for(agent.model),
            "source": agent.source,
            "path": str(agent.path),
            "default": agent is default,
        }
        for agent in ordered
    ]


@server.command(ids.RELOAD_AGENTS)
async def reload_agents(ls: SubagentServer, *args: Any) -> int:
    await ls.reload_agents()
    return len(ls.session.agents.agents)


@server.command(ids.STATUS)
async def status(ls: SubagentServer, *args: Any) -> dict[str, Any]:
    # For "is anything stuck?": work in flight, and the event loop's tasks besides this one.
    return {
        "version": __version__,
        "agents": len(ls.session.agents.agents),
        "agentFiles": [str(agent.path) for agent in ls.session.agents.ordered()],
        "agentFolders": [str(folder) for folder in ls.session.agents.folders],
        "openDocuments": len(ls.workspace.text_documents),
        "runningActions": ls.runner.running,
        "runningExplanations": ls.hover.running,
        "pendingChanges": ls.runner.edits.pending,
        "modelSdk": sdk_state(),
        "referenceIndex": _index_state(ls),
        "tasks": len(asyncio.all_tasks()) - 1,
    }


def _index_state(ls: SubagentServer) -> str:
    references = ls.session.references
    if references is None:
        return "not started"
    return "ready" if references.ready else "building"
