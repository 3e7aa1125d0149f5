"""Files the agent may never see or write: secrets, dependencies, build output, ignored files."""

from __future__ import annotations

import fnmatch
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from .peek import NeedsDisk

SECRET_NAMES = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.crt",
    "*.cer",
    "id_*",
    ".npmrc",
    ".netrc",
    ".pgpass",
)
SKIPPED_DIRS = ("node_modules", ".git", "dist", "build", "out", ".next", ".turbo", "coverage")


def _gitignore_regex(pattern: str) -> re.Pattern[str]:
    """One .gitignore line as a regex over a posix path relative to the .gitignore's folder."""
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    parts: list[str] = []
    index = 0
    while index < len(body):
        if body.startswith("**/", index):
            parts.append("(?:.*/)?")
            index += 3
        elif body.startswith("/**", index) and index + 3 == len(body):
            parts.append("(?:/.*)?")
            index += 3
        elif body.startswith("**", index):
            parts.append(".*")
            index += 2
        elif body[index] == "*":
            parts.append("[^/]*")
            index += 1
        elif body[index] == "?":
            parts.append("[^/]")
            index += 1
        else:
            parts.append(re.escape(body[index]))
            index += 1
    prefix = "" if anchored else "(?:.*/)?"
    # A matching directory excludes everything inside it.
    return re.compile(f"^{prefix}{''.join(parts)}(?:/.*)?$")


class GitIgnore:
    def __init__(self, text: str) -> None:
        self._rules: list[tuple[re.Pattern[str], bool]] = []
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            if negate:
                line = line[1:]
            line = line.removeprefix("\\")
            if line:
                self._rules.append((_gitignore_regex(line), negate))

    def ignores(self, relative: str) -> bool:
        ignored = False
        for regex, negate in self._rules:
            if regex.match(relative):
                ignored = not negate
        return ignored


class Exclusions:
    """Decides, for a real path inside the workspace, whether the agent may touch it."""

    def __init__(self, roots: Sequence[Path], patterns: Sequence[str] = ()) -> None:
        self.roots = tuple(roots)
        self.patterns = tuple(patterns)
        self._gitignores: dict[Path, GitIgnore | None] = {}
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> bool:
        return self.is_excluded(path)

    def is_excluded(self, path: Path, *, peek: bool = False) -> bool:
        """With ``peek``, raise `NeedsDisk` instead of reading a `.gitignore` not yet read."""
        name = path.name
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_NAMES):
            return True
        root, relative = self._relative(path)
        parts = relative.parts if relative is not None else path.parts
        if any(part in SKIPPED_DIRS for part in parts[:-1]):
            return True
        if root is None or relative is None:
            return False
        posix = relative.as_posix()
        if any(
            fnmatch.fnmatchcase(posix, p) or fnmatch.fnmatchcase(name, p) for p in self.patterns
        ):
            return True
        return self._ignored_by_git(root, relative, peek)

    def _ignored_by_git(self, root: Path, relative: Path, peek: bool) -> bool:
        # Every .gitignore from the root down to the file's folder has its say, deeper ones last.
        folder = root
        for depth in range(len(relative.parts)):
            ignore = self._gitignore(folder, peek)
            if ignore is not None and ignore.ignores(Path(*relative.parts[depth:]).as_posix()):
                return True
            folder = folder / relative.parts[depth]
        return False

    def _gitignore(self, folder: Path, peek: bool) -> GitIgnore | None:
        with self._lock:
            if folder in self._gitignores:
                return self._gitignores[folder]
        if peek:
            raise NeedsDisk(folder / ".gitignore")
        try:
            text = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace")
            loaded: GitIgnore | None = GitIgnore(text)
        except OSError:
            loaded = None
        with self._lock:
            self._gitignores[folder] = loaded
        return loaded

    def _relative(self, path: Path) -> tuple[Path | None, Path | None]:
        for root in self.roots:
            try:
                return root, path.relative_to(root)
            except ValueError:
                continue
        return None, None
