"""Parsed files kept across requests: open documents by their text, files on disk by stat."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..overlay import DocumentSnapshot
from ..peek import NeedsDisk
from ..syntax.source import SourceFile, language_for
from .modules import ModuleResolver


class ProjectIndex:
    """The parse trees and tsconfig files of one set of workspace folders. Thread-safe: built
    and read in worker threads as well as on the event loop."""

    def __init__(self, roots: Sequence[Path], max_files: int = 512) -> None:
        """``roots`` as the paths of files will be given: resolved (symlinks followed), as
        `lsp/documents.uri_to_path` and the command line give them."""
        self.roots = tuple(roots)
        self.resolver = ModuleResolver(self.roots)
        self._max = max_files
        self._files: OrderedDict[Path, tuple[object, SourceFile]] = OrderedDict()
        self._lock = threading.Lock()

    def parsed(self, path: Path, text: str) -> SourceFile | None:
        """The parse of exactly ``text`` kept for ``path``, whether read from disk or an editor."""
        with self._lock:
            cached = self._files.get(path)
        return cached[1] if cached is not None and cached[1].text == text else None

    def keep(self, path: Path, parsed: SourceFile) -> None:
        """An open document's parse, made by the editor's side: lookups need not parse it again."""
        with self._lock:
            self._files[path] = (("doc", parsed.text), parsed)
            self._trim()

    def closed(self, path: Path) -> None:
        """A document closed: its editor-side parse goes (the file is parsed from disk if asked)."""
        with self._lock:
            cached = self._files.get(path)
            if cached is not None and isinstance(cached[0], tuple) and cached[0][0] == "doc":
                del self._files[path]

    def source(
        self, path: Path, documents: Mapping[Path, DocumentSnapshot], *, peek: bool = False
    ) -> SourceFile | None:
        """The parsed file; with ``peek``, an open document or the last parse of a file on disk
        (unchecked against the disk), else `NeedsDisk`."""
        language = language_for(str(path))
        if language is None:
            return None
        snapshot = documents.get(path)
        if snapshot is not None:
            key: object = ("doc", snapshot.text)
            text: str | None = snapshot.text
        elif peek:
            with self._lock:
                cached = self._files.get(path)
            if cached is None:
                raise NeedsDisk(path)
            return cached[1]
        else:
            try:
                stat = path.stat()
            except OSError:
                return None
            key, text = ("disk", stat.st_mtime_ns, stat.st_size), None
        with self._lock:
            cached = self._files.get(path)
            if cached is not None and cached[0] == key:
                self._files.move_to_end(path)
                return cached[1]
        if text is None:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        parsed = SourceFile(text, language)
        with self._lock:
            self._files[path] = (key, parsed)
            self._trim()
        return parsed

    def _trim(self) -> None:
        while len(self._files) > self._max:
            self._files.popitem(last=False)
