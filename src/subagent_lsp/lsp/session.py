"""What the feature runners share, handed to them by the server: settings, agents, parsed
documents, the client's position encoding, the workspace folders and the workspace view.

The runners send to the client through ``session.server``, typed as pygls's `LanguageServer`;
they never import `server.py`, and never reach one another through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from ..agents import AgentSet
from ..context.index import ProjectIndex
from ..context.references import ReferenceIndex
from ..exclusions import Exclusions
from ..model.client import ClientPool
from ..overlay import DocumentSnapshot
from ..pipeline import WorkspaceView
from ..positions import encoding_name
from ..settings import Settings
from ..syntax.source import SourceFile, SyntaxLanguage, language_for
from .documents import client_uri, document, open_documents, uri_to_path, workspace_roots

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Seconds a request waits for the first agent load before answering without agents.
_AGENT_LOAD_WAIT = 10.0
_PARSE_CACHE_SIZE = 16


class ParsedDocuments:
    """Parse trees of recently used document versions, so listing actions never re-parses."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[str, int | None, str], SourceFile] = OrderedDict()

    def get(
        self,
        uri: str,
        version: int | None,
        text: str,
        language: SyntaxLanguage,
        known: SourceFile | None = None,
    ) -> SourceFile:
        """The parse of a document version; ``known``: a parse of the same text made already."""
        key = (uri, version, language)
        cached = self._cache.get(key)
        if cached is not None and cached.text == text:
            self._cache.move_to_end(key)
            return cached
        if known is not None and known.text == text and known.language == language:
            self._keep(key, known)
            return known
        # The newest parsed version of the same document, to re-parse only what changed.
        previous = next(
            (
                parsed
                for (cached_uri, _, cached_language), parsed in reversed(self._cache.items())
                if cached_uri == uri and cached_language == language
            ),
            None,
        )
        source = SourceFile(text, language, previous)
        self._keep(key, source)
        return source

    def _keep(self, key: tuple[str, int | None, str], source: SourceFile) -> None:
        self._cache[key] = source
        while len(self._cache) > _PARSE_CACHE_SIZE:
            self._cache.popitem(last=False)


class OpenFile:
    """An open TypeScript document, parsed: what every feature starts from. ``path`` is None for
    a document that is not a file (``untitled:``): it lists actions, but nothing reads around it."""

    def __init__(self, uri: str, path: Path | None, doc: TextDocument, source: SourceFile) -> None:
        self.uri = uri
        self.path = path
        self.version: int | None = doc.version
        self.source = source


class Session:
    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.settings = Settings()
        """What applies where no workspace folder says otherwise."""
        self.folder_settings: dict[Path, Settings] = {}
        """With several workspace folders, each folder's own (the editor's folder-scoped values)."""
        self.agents = AgentSet({}, ())
        """Every workspace folder's agents together: what `listAgents` and `status` show."""
        self.folder_agents: dict[Path, AgentSet] = {}
        """With several workspace folders, each folder's own agents."""
        self.agents_loaded = asyncio.Event()
        """Set after the first agent load; requests that need agents wait for it."""
        self.parsed = ParsedDocuments()
        self.generation = 0
        """Grows with every change to a document or a file: what was derived before may be stale."""
        self.clients = ClientPool()
        self._index: ProjectIndex | None = None
        self._references: ReferenceIndex | None = None
        self._documents: tuple[int, dict[Path, DocumentSnapshot]] | None = None
        self._exclusions: dict[tuple[tuple[Path, ...], tuple[str, ...]], Exclusions] = {}

    @property
    def encoding(self) -> str:
        return encoding_name(self.server.workspace.position_encoding)

    async def wait_for_agents(self) -> None:
        try:
            await asyncio.wait_for(self.agents_loaded.wait(), _AGENT_LOAD_WAIT)
        except TimeoutError:
            log.warning("agents are still loading; answering without them")

    def agents_for(self, path: Path | None) -> AgentSet:
        """The agents that apply to a file: those of the workspace folder holding it."""
        return _innermost(self.folder_agents, path, self.agents)

    def settings_for(self, path: Path | None) -> Settings:
        """The settings that apply to a file: those of the workspace folder holding it."""
        return _innermost(self.folder_settings, path, self.settings)

    def document(self, uri: str) -> TextDocument | None:
        return document(self.server.workspace, uri)

    def client_uri(self, path: Path) -> str:
        return client_uri(self.server.workspace, path)

    def open_file(self, uri: str) -> OpenFile | None:
        """The open TypeScript document ``uri`` names, parsed; None for anything else."""
        doc = self.document(uri)
        if doc is None:
            return None
        language = language_for(uri, doc.language_id)
        if language is None:
            return None
        path = uri_to_path(uri)
        # A file opened as it is on disk was often parsed already, to answer about another; and
        # the lookups that read this one later use the editor's parse.
        index = self._index if path is not None else None
        known = index.parsed(path, doc.source) if index is not None and path is not None else None
        source = self.parsed.get(uri, doc.version, doc.source, language, known)
        if index is not None and path is not None and source is not known:
            index.keep(path, source)
        return OpenFile(uri, path, doc, source)

    def roots(self, fallback_file: Path | None = None) -> tuple[Path, ...]:
        return workspace_roots(self.server.workspace, fallback_file)

    def view(
        self, roots: tuple[Path, ...], exclude: tuple[str, ...] | None = None
    ) -> WorkspaceView:
        """The workspace for a request, over folders from roots() (already resolved). Parse trees,
        tsconfig and .gitignore files are kept while the folders and the exclude setting stay;
        the reference index is built again in the background when either changes."""
        if self._index is None or self._index.roots != roots:
            self._index = ProjectIndex(roots)
        patterns = self.settings.exclude if exclude is None else exclude
        exclusions = self._exclusions_for(roots, patterns)
        # Taken anew only when a document opened, changed or closed: with two thousand files
        # open, taking it for every request cost more than the request itself.
        if self._documents is None or self._documents[0] != self.generation:
            self._documents = (self.generation, open_documents(self.server.workspace))
        workspace_wide = self._exclusions_for(roots, self.settings.exclude)
        references = self._references
        if (
            references is None
            or references.resolver is not self._index.resolver
            or references.exclusions is not workspace_wide
        ):
            # One index for the workspace, with the workspace-wide exclusions: a folder's own
            # exclude setting is applied to what a request reads, not to who uses what.
            references = ReferenceIndex(self._index.roots, self._index.resolver, workspace_wide)
            references.start(self._documents[1])
            self._references = references
        return WorkspaceView(
            self._index.roots, self._documents[1], exclusions, self._index, references
        )

    def files_changed(self, paths: list[Path]) -> None:
        """Files edited, saved, created or deleted: the reference index reads them again when
        next asked. Cheap: no file is read here."""
        if self._references is not None:
            self._references.changed(paths)

    def closed(self, uri: str) -> None:
        """A document closed: parse trees kept for it go, as an editor keeps only open ones."""
        path = uri_to_path(uri)
        if self._index is not None and path is not None:
            self._index.closed(path)

    @property
    def references(self) -> ReferenceIndex | None:
        return self._references

    def view_for(self, path: Path | None) -> WorkspaceView:
        """The workspace as a request about ``path`` sees it, with its folder's exclusions."""
        return self.view(self.roots(path), self.settings_for(path).exclude)

    def _exclusions_for(self, roots: tuple[Path, ...], patterns: tuple[str, ...]) -> Exclusions:
        exclusions = self._exclusions.get((roots, patterns))
        if exclusions is None:
            if len(self._exclusions) >= _EXCLUSION_SETS:
                self._exclusions.clear()
            exclusions = self._exclusions[(roots, patterns)] = Exclusions(roots, patterns)
        return exclusions


_EXCLUSION_SETS = 8
"""One per workspace folder with exclusions of its own is plenty."""


def _innermost(by_folder: Mapping[Path, _T], path: Path | None, default: _T) -> _T:
    holders = [
        root for root in by_folder if path is not None and (root == path or root in path.parents)
    ]
    if not holders:
        return default
    return by_folder[max(holders, key=lambda root: len(root.parts))]
