"""The in-memory workspace the model's edit tool acts on. It reads, it never writes to disk.

Texts come from open documents (their unsaved text) or from disk, loaded on first touch. Every path
is checked against the workspace folders after resolving symlinks, and against the exclusions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .model.tools import ToolResult
from .positions import (
    LineIndex,
    common_break,
    line_break,
    offset_from_line_feeds,
    with_breaks,
    with_line_feeds,
)
from .project import display_path
from .redaction import redact

_SKIPPED_LISTING = {"node_modules", ".git", "dist", "build", "coverage"}
_MAX_LISTING = 400
# What one tool call may write, and how much of an edit its result shows back: results are for
# the model to read, and each is repeated in every later request of the conversation.
MAX_WRITE_CHARS = 1_000_000
_SNIPPET_LINES = 12
_SNIPPET_CHARS = 4_000


@dataclass(frozen=True)
class DocumentSnapshot:
    text: str
    version: int | None


class PathOutsideWorkspace(Exception):
    pass


@dataclass(frozen=True)
class EditOp:
    """One successful edit, kept so it can be replayed onto a newer text of the document."""

    kind: Literal["str_replace", "insert", "create"]
    old_str: str | None
    new_str: str
    insert_line: int | None = None
    anchor: str | None = None
    """For insert: the text of the line the insert follows (None at the top of the file)."""


@dataclass(frozen=True)
class FileChange:
    path: Path
    original: str | None
    """The text the change was computed from; None when the file did not exist."""
    new_text: str
    version: int | None
    ops: tuple[EditOp, ...]


@dataclass
class _File:
    original: str | None
    text: str
    """The text with its own line breaks; the model sees and writes `\n` (positions.py)."""
    version: int | None
    ops: list[EditOp]


class _ToolError(Exception):
    pass


def _string(tool_input: Mapping[str, object], key: str, *, optional: bool = False) -> str:
    value = tool_input.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise _ToolError(f"Parameter `{key}` is required and must be a string.")
    return value


class Overlay:
    def __init__(
        self,
        roots: Sequence[Path],
        documents: Mapping[Path, DocumentSnapshot],
        *,
        is_excluded: Callable[[Path], bool] = lambda path: False,
        max_view_chars: int = 256_000,
    ) -> None:
        if not roots:
            raise ValueError("an overlay needs at least one workspace folder")
        self._roots = [Path(os.path.realpath(root)) for root in roots]
        self._documents = {Path(os.path.realpath(p)): d for p, d in documents.items()}
        self._is_excluded = is_excluded
        self._max_view = max_view_chars
        self._files: dict[Path, _File] = {}

    # --- paths -----------------------------------------------------------------------------
    def resolve(self, raw_path: str) -> Path:
        if not raw_path.strip():
            raise PathOutsideWorkspace("The path is empty.")
        if "\0" in raw_path:
            raise PathOutsideWorkspace("The path contains a NUL character; no file has one.")
        candidate = Path(raw_path)
        if not candidate.is_absolute():
            candidate = self._roots[0] / candidate
        # realpath follows every symlink on the existing part, so a link out of the tree is caught.
        real = Path(os.path.realpath(candidate))
        if not any(real == root or root in real.parents for root in self._roots):
            raise PathOutsideWorkspace(
                f"{raw_path} is outside the workspace; only files inside it can be viewed or edited."
            )
        if self._is_excluded(real):
            raise PathOutsideWorkspace(
                f"{raw_path} is excluded from what the agent may read or write."
            )
        return real

    def display_path(self, path: Path) -> str:
        # Relative to the first folder only: relative paths the model sends resolve there.
        return display_path(path, self._roots[:1])

    # --- texts -----------------------------------------------------------------------------
    def _load(self, path: Path) -> _File | None:
        known = self._files.get(path)
        if known is not None:
            return known
        snapshot = self._documents.get(path)
        if snapshot is not None:
            text, version = snapshot.text, snapshot.version
        else:
            if not path.is_file():
                return None
            try:
                text = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _ToolError(f"{self.display_path(path)} is not a UTF-8 text file.") from exc
            except OSError as exc:
                raise _ToolError(f"Cannot read {self.display_path(path)}: {exc.strerror}.") from exc
            version = None
        loaded = _File(text, text, version, [])
        self._files[path] = loaded
        return loaded

    def text_of(self, path: Path) -> str | None:
        """The file's text as the agent sees it now (its own edits included); None if absent."""
        try:
            loaded = self._load(path)
        except _ToolError:
            return None
        return loaded.text if loaded is not None else None

    def _require(self, path: Path) -> _File:
        loaded = self._load(path)
        if loaded is None:
            raise _ToolError(f"The file {self.display_path(path)} does not exist.")
        return loaded

    # --- the tool --------------------------------------------------------------------------
    def execute(self, tool_input: Mapping[str, object]) -> ToolResult:
        try:
            command = _string(tool_input, "command")
            path = self.resolve(_string(tool_input, "path"))
            for key in ("new_str", "insert_text", "file_text"):
                value = tool_input.get(key)
                if isinstance(value, str) and len(value) > MAX_WRITE_CHARS:
                    raise _ToolError(
                        f"`{key}` is too large ({len(value):,} characters; at most "
                        f"{MAX_WRITE_CHARS:,} per call): write smaller pieces."
                    )
            if command == "view":
                return ToolResult(self._view(path, tool_input.get("view_range")), False)
            if command == "str_replace":
                return ToolResult(self._str_replace(path, tool_input), False)
            if command == "create":
                return ToolResult(self._create(path, tool_input), False)
            if command == "insert":
                return ToolResult(self._insert(path, tool_input), False)
            if command == "undo_edit":
                raise _ToolError("undo_edit is not supported; make a new str_replace instead.")
            raise _ToolError(
                f"Unknown command {command!r}; use view, str_replace, create or insert."
            )
        except (_ToolError, PathOutsideWorkspace) as exc:
            return ToolResult(str(exc), True)

    def _view(self, path: Path, view_range: object) -> str:
        if path.is_dir() and path not in self._documents:
            return self._listing(path)
        file = self._require(path)
        lines = with_line_feeds(file.text).split("\n")
        first, last = 1, len(lines)
        if view_range is not None:
            if (
                not isinstance(view_range, list)
                or len(view_range) != 2
                or not all(isinstance(n, int) for n in view_range)
            ):
                raise _ToolError("`view_range` must be two integers: [start_line, end_line].")
            first, last = view_range[0], view_range[1]
            if last == -1:
                last = len(lines)
            if not 1 <= first <= last <= len(lines):
                raise _ToolError(
                    f"`view_range` {view_range} is outside the file's {len(lines)} lines."
                )
        body = redact("\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(first, last + 1)))
        if len(body) > self._max_view:
            raise _ToolError(
                f"{self.display_path(path)} is too large to view whole; pass a `view_range`."
            )
        return body

    def _listing(self, directory: Path) -> str:
        entries: list[str] = []
        for current, dirs, files in os.walk(directory):
            depth = len(Path(current).relative_to(directory).parts)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIPPED_LISTING)
            if depth >= 2:
                dirs[:] = []
            for name in sorted(files):
                path = Path(current) / name
                if not self._is_excluded(path):
                    entries.append(self.display_path(path))
            if len(entries) > _MAX_LISTING:
                raise _ToolError("The directory is too large to list; view a subdirectory.")
        return "\n".join(entries)

    def _str_replace(self, path: Path, tool_input: Mapping[str, object]) -> str:
        old = _string(tool_input, "old_str")
        new = _string(tool_input, "new_str", optional=True)
        if not old:
            raise _ToolError("`old_str` must not be empty.")
        file = self._require(path)
        # Matched against the text as the model reads it, then mapped back to the file's own.
        shown = with_line_feeds(file.text)
        wanted = with_line_feeds(old)
        count = shown.count(wanted)
        if count == 0:
            raise _ToolError(
                f"No match found for replacement text in {self.display_path(path)}: copy `old_str`"
                " exactly from the file, without line numbers."
            )
        if count > 1:
            raise _ToolError(
                f"Found {count} matches for replacement text in {self.display_path(path)}; make "
                "`old_str` unique by adding surrounding lines."
            )
        start = shown.index(wanted)
        at = offset_from_line_feeds(file.text, start)
        end = offset_from_line_feeds(file.text, start + len(wanted))
        native_old = file.text[at:end]
        native_new = with_breaks(new, self._break_near(file.text, at))
        file.text = file.text[:at] + native_new + file.text[end:]
        file.ops.append(EditOp("str_replace", native_old, native_new))
        return f"The file {self.display_path(path)} has been edited.\n" + self._snippet(
            file, at, len(native_new)
        )

    @staticmethod
    def _break_near(text: str, offset: int) -> str:
        """What new lines written at ``offset`` end with: the break of the line they land on,
        so a CRLF file (or the CRLF part of a mixed one) stays CRLF."""
        lines = LineIndex(text)
        return line_break(lines, lines.line_of(offset)) or common_break(text)

    def _create(self, path: Path, tool_input: Mapping[str, object]) -> str:
        text = _string(tool_input, "file_text", optional=True)
        if path.is_dir():
            raise _ToolError(f"{self.display_path(path)} is a directory.")
        blocking = next((p for p in path.parents if p.is_file()), None)
        if blocking is not None:
            raise _ToolError(
                f"{self.display_path(blocking)} is a file, so nothing can be created inside it."
            )
        existing = self._load(path)
        if existing is None:
            self._files[path] = _File(None, text, None, [EditOp("create", None, text)])
            return f"File created successfully at: {self.display_path(path)}"
        existing.text = with_breaks(text, common_break(existing.text))
        existing.ops.append(EditOp("create", None, existing.text))
        return f"File {self.display_path(path)} has been overwritten."

    def _insert(self, path: Path, tool_input: Mapping[str, object]) -> str:
        line = tool_input.get("insert_line")
        if not isinstance(line, int) or isinstance(line, bool):
            raise _ToolError("`insert_line` is required and must be an integer.")
        key = "new_str" if "new_str" in tool_input else "insert_text"
        new = _string(tool_input, key)
        file = self._require(path)
        lines = LineIndex(file.text)
        # The numbers `view` shows: a break at the very end starts no line of its own.
        ends_with_break = lines.line_count > 1 and lines.starts[-1] == len(file.text)
        count = lines.line_count - 1 if ends_with_break else lines.line_count
        if not 0 <= line <= count:
            raise _ToolError(f"`insert_line` {line} is outside the file's 0..{count} lines.")
        after = max(line - 1, 0)
        ending = line_break(lines, after) if after < lines.line_count else ""
        ending = ending or common_break(file.text)
        native = with_breaks(new, ending)
        if not native.endswith(ending):
            native += ending
        if line == 0:
            at = 0
        elif line < lines.line_count:
            at = lines.starts[line]
        else:
            # After a last line that has no line break: give it one first.
            file.text += ending
            at = len(file.text)
        anchor = file.text[slice(*lines.line_bounds(line - 1))] if line > 0 else None
        file.text = file.text[:at] + native + file.text[at:]
        file.ops.append(EditOp("insert", None, native, line, anchor))
        return f"The file {self.display_path(path)} has been edited.\n" + self._snippet(
            file, at, len(native)
        )

    def _snippet(self, file: _File, at: int, length: int, context: int = 3) -> str:
        lines = LineIndex(file.text)
        first, last = lines.line_of(at), lines.line_of(at + length)
        shown = with_line_feeds(file.text).split("\n")
        low, high = max(0, first - context), min(len(shown), last + context + 1)
        numbers = list(range(low, high))
        if len(numbers) > 2 * _SNIPPET_LINES:
            numbers = [*numbers[:_SNIPPET_LINES], -1, *numbers[-_SNIPPET_LINES:]]
        out = "\n".join(
            f"{n + 1:6}\t{shown[n]}"
            if n >= 0
            else f"   ...\t({high - low - 2 * _SNIPPET_LINES} lines)"
            for n in numbers
        )
        if len(out) > _SNIPPET_CHARS:
            out = out[:_SNIPPET_CHARS] + "\n   ...\t(cut; `view` a range to read the rest)"
        return out

    def changes(self) -> list[FileChange]:
        out: list[FileChange] = []
        for path, file in self._files.items():
            if file.original is not None and file.text == file.original:
                continue
            out.append(FileChange(path, file.original, file.text, file.version, tuple(file.ops)))
        return out
