"""Workspace search for agents that have `Grep` or `Glob` (and `references`, for those that can
read): the same files `view` may read, no others, and answers short enough to send back.

Runs in a worker thread (the tool loop calls it through `asyncio.to_thread`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath

from .context.references import ReferenceIndex
from .context.symbols import Lookup
from .context.uses import every_use, occurrences, use_source
from .exclusions import SKIPPED_DIRS
from .model.tools import ToolResult
from .project import display_path
from .syntax.declarations import declarations

_MAX_FILE_BYTES = 1_000_000
_MAX_MATCHES = 100
_MAX_FILES = 200
_MAX_LINE = 240
_MAX_FILES_READ = 20_000


class SearchError(ValueError):
    """The search cannot run as asked; ``str()`` tells the model what to change."""


def _files(
    roots: Sequence[Path], under: Path | None, excluded: Callable[[Path], bool]
) -> Iterator[Path]:
    starts = [under] if under is not None else list(roots)
    seen = 0
    for start in starts:
        for folder, dirs, names in os.walk(start):
            dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
            for name in sorted(names):
                path = Path(folder) / name
                if excluded(path):
                    continue
                seen += 1
                if seen > _MAX_FILES_READ:
                    return
                yield path


def _matches_glob(relative: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    posix = PurePosixPath(relative)
    # `*.ts` matches at any depth, as ripgrep's --glob does; `src/**/*.ts` from the root.
    return posix.match(pattern) or ("/" not in pattern and posix.match(f"**/{pattern}"))


def grep(
    roots: Sequence[Path],
    excluded: Callable[[Path], bool],
    pattern: str,
    *,
    glob: str | None = None,
    under: Path | None = None,
    ignore_case: bool = False,
) -> str:
    """Lines matching a regular expression, as `path:line: text`, at most a hundred."""
    try:
        regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise SearchError(f"`pattern` is not a valid regular expression: {exc}.") from exc
    found: list[str] = []
    for path in _files(roots, under, excluded):
        shown = display_path(path, roots[:1])
        if not _matches_glob(shown, glob):
            continue
        try:
            if path.stat().st_size > _MAX_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if regex.search(line):
                found.append(f"{shown}:{number}: {line.strip()[:_MAX_LINE]}")
                if len(found) >= _MAX_MATCHES:
                    return "\n".join(found) + f"\n(stopped at {_MAX_MATCHES} matches; narrow it)"
    return "\n".join(found) or "No matches."


def glob_files(roots: Sequence[Path], excluded: Callable[[Path], bool], pattern: str) -> str:
    """Files matching a glob such as `src/**/*.ts`, relative to the workspace, at most 200."""
    if not pattern.strip():
        raise SearchError("`pattern` must not be empty.")
    found: list[str] = []
    for path in _files(roots, None, excluded):
        shown = display_path(path, roots[:1])
        if _matches_glob(shown, pattern):
            found.append(shown)
            if len(found) >= _MAX_FILES:
                return "\n".join(found) + f"\n(stopped at {_MAX_FILES} files; narrow it)"
    return "\n".join(found) or "No files match."


def run_search_tool(
    name: str,
    tool_input: Mapping[str, object],
    roots: Sequence[Path],
    excluded: Callable[[Path], bool],
    resolve: Callable[[str], Path],
) -> ToolResult:
    """One `grep` or `glob` call as the model made it; a bad call is an error it can correct."""
    try:
        pattern = tool_input.get("pattern")
        if not isinstance(pattern, str):
            raise SearchError("`pattern` is required and must be a string.")
        if name == "glob":
            return ToolResult(glob_files(roots, excluded, pattern), False)
        glob = tool_input.get("glob")
        folder = tool_input.get("path")
        under = resolve(folder) if isinstance(folder, str) and folder.strip() else None
        return ToolResult(
            grep(
                roots,
                excluded,
                pattern,
                glob=glob if isinstance(glob, str) else None,
                under=under,
                ignore_case=tool_input.get("ignore_case") is True,
            ),
            False,
        )
    except (SearchError, ValueError) as exc:
        return ToolResult(str(exc), True)


def references(
    index: ReferenceIndex | None,
    lookup: Lookup,
    roots: Sequence[Path],
    symbol: str,
    at: Path | None,
) -> ToolResult:
    """Where a declaration is used, from the reference index: each declaration named
    ``symbol`` (the one ``at`` declares or imports, when given) and its use lines."""
    if index is None or not index.ready:
        return ToolResult(
            "The workspace index is still being built: use `grep` meanwhile, or try again.", True
        )
    documents = lookup.documents
    targets: list[tuple[Path, str]] = []
    if at is not None:
        src = lookup.source(at)
        found = lookup.find(at, src, symbol) if src is not None else None
        if found is None:
            return ToolResult(f"`{symbol}` is neither declared nor imported in that file.", True)
        targets.append((found.path, found.declaration.name))
    else:
        targets += [(path, symbol) for path in index.declarations_named(symbol, documents) or []]
    if not targets:
        return ToolResult(f"No top-level declaration named `{symbol}` in the workspace.", False)
    lines: list[str] = []
    for path, name in targets:
        src = lookup.source(path)
        decl = declarations(src).get(name) if src is not None else None
        if src is None or decl is None:
            continue
        shown = display_path(path, roots[:1])
        # The line of the declaration itself, below its doc comment.
        start = decl.start
        if src.text.startswith("/**", start):
            start = src.text.find("*/", start) + 2
        start += len(src.text[start : decl.end]) - len(src.text[start : decl.end].lstrip())
        lines.append(f"`{name}` declared in {shown}:{src.line_of(start) + 1}")
        for use in every_use(index, path, name, documents):
            use_src = use_source(use, path, src, lookup)
            if use_src is None:
                continue
            skip = (decl.start, decl.end) if use.path == path else None
            where = display_path(use.path, roots[:1])
            for node in occurrences(use_src, use.local, skip):
                line = use_src.line_of(use_src.node_span(node)[0])
                start, end = use_src.line_span(line)
                text = use_src.text[start:end].strip()[:_MAX_LINE]
                lines.append(f"{where}:{line + 1}: {text}")
                if len(lines) >= _MAX_MATCHES:
                    return ToolResult(
                        "\n".join(lines) + f"\n(stopped at {_MAX_MATCHES} lines; give `path`)",
                        False,
                    )
    return ToolResult("\n".join(lines) or f"`{symbol}` is not used anywhere.", False)
