"""Hints from the code's own facts, without any model call: input a handler reads that nothing
validates, a column no index serves, a query in a loop, a foreign key without an index.

Computed in a worker thread a moment after a document opens or changes (a burst of typing makes
one computation), published beside any review's findings, each with "Fix with AGENT".
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from ..backend.findings import Finding, findings
from ..context.symbols import Lookup
from .review import ReviewDiagnostics
from .session import OpenFile, Session

log = logging.getLogger(__name__)

_DEBOUNCE = 0.3
SOURCE = "subagent-lsp"


class FactDiagnostics:
    def __init__(self, session: Session, board: ReviewDiagnostics) -> None:
        self._session = session
        self._board = board
        self._pending: dict[str, asyncio.Task[Any]] = {}

    def schedule(self, uri: str) -> None:
        """Compute the document's hints shortly; a newer change replaces a pending one."""
        previous = self._pending.get(uri)
        if previous is not None and not previous.done():
            previous.cancel()
        task = asyncio.ensure_future(self._run(uri))
        self._pending[uri] = task
        task.add_done_callback(
            lambda done: self._pending.pop(uri, None) if self._pending.get(uri) is done else None
        )

    def cancel_all(self) -> None:
        for task in self._pending.values():
            task.cancel()

    async def _run(self, uri: str) -> None:
        await asyncio.sleep(_DEBOUNCE)
        file = self._session.open_file(uri)
        if file is None or file.path is None:
            return
        if not self._session.settings_for(file.path).diagnostics:
            self._board.set_facts(uri, [])
            return
        view = self._session.view_for(file.path)
        try:
            found = await asyncio.to_thread(self._facts, file, view)
        except Exception:
            log.exception("computing hints for %s failed", uri)
            return
        current = self._session.document(uri)
        if current is None or current.version != file.version:
            return  # the document moved on; its own change scheduled a newer run
        lines = file.source.lines
        encoding = self._session.encoding
        diagnostics = [
            types.Diagnostic(
                range=types.Range(
                    start=lines.position(f.start, encoding), end=lines.position(f.end, encoding)
                ),
                message=f.message,
                severity=types.DiagnosticSeverity.Information
                if f.kind == "unvalidated-input"
                else types.DiagnosticSeverity.Hint,
                source=SOURCE,
                code=f.kind,
            )
            for f in found
        ]
        self._board.set_facts(uri, diagnostics)

    @staticmethod
    def _facts(file: OpenFile, view: Any) -> list[Finding]:
        assert file.path is not None
        lookup = Lookup(view.index, view.documents, view.exclusions)
        path = file.path
        return findings(file.source, lambda name: lookup.find(path, file.source, name))
