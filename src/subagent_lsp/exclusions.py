"""Files the agent may never see or write: secrets, dependencies, build output, ignored files.

`.gitignore` lines are translated by pathspec (the gitignore flavour behind its `GitIgnoreSpec`);
deciding which line wins is done here, the way git's `dir.c` does it, because `GitIgnoreSpec`
answers for files alone and lets a later `!file` re-include a file inside an ignored folder, which
git refuses (`git check-ignore` reports the folder's pattern).
"""

from __future__ import annotations

import fnmatch
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

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
_SECRET = re.compile("|".join(map(fnmatch.translate, SECRET_NAMES)))

# Verdicts per path and kind; a workspace has far fewer folders than this, and a listing that
# walks more files than this only loses the oldest answers.
_MAX_VERDICTS = 8192

# A folder of nothing but stars is `**` for git's wildmatch, however many there are.
_STARS_SEGMENT = re.compile(r"(?:(?<![^/])|(?<=^!))\*{3,}(?![^/])")
_STAR = "[^/]*"  # `*`: any run of characters inside one folder name
_LEADING = "(?:.+/)?"  # `**/` at the start: any folders
_INNER = "(?:/.+)?"  # `/**/` inside: any folders
# pathspec's regex, one token at a time: the three above, a bracket expression (which never
# holds a `]` past its first character), an escaped character, or any other single character.
_TOKEN = re.compile(r"\[\^/\]\*|\(\?:\.\+/\)\?|\(\?:/\.\+\)\?|\[\^?\]?[^\]]*\]|\\.|.", re.DOTALL)
_STRUCTURE = frozenset("()|?*+{.^$/")


def _guarded(token: str) -> str:
    # In git a bracket expression never matches the `/` between folders; pathspec's `[!x]` would.
    return f"(?!/){token}" if token.startswith("[") and token != "[^/]" else token


def _fixed(tokens: Sequence[str], index: int) -> bool:
    """Whether the token at ``index`` matches exactly one character of a folder name."""
    token = tokens[index]
    if token.startswith("\\"):
        single = len(token) == 2
    elif token.startswith("["):
        single = token != _STAR
    else:
        single = len(token) == 1 and token not in _STRUCTURE
    following = tokens[index + 1] if index + 1 < len(tokens) else ""
    return single and following not in ("*", "+", "?", "{")


def _harden(regex: str) -> str:
    """pathspec's regex for one line, with the same matches and no catastrophic backtracking.

    A name pattern such as `*a*a*a*a*a*a*a*a*a*c` becomes `[^/]*a[^/]*a…[^/]*c`, which Python's
    backtracking engine takes seconds to reject on a 200-character name: the work grows as the
    name's length to the power of the number of stars. `a/**/a/**/a/**/c` does the same with the
    path's depth. In both, what lies between two wildcards has a fixed extent (a fixed number of
    characters between two `*`, of folders between two `**`), so its leftmost occurrence is
    always the one to take: the next wildcard can absorb whatever a later occurrence would have
    skipped. Each such wildcard and the text after it become one atomic lazy group, e.g.
    `(?>[^/]*?a)`, which finds that leftmost occurrence and is never retried. Only the last
    wildcard of a name, or of the path, still backtracks, over one name or one path.
    """
    return "".join(_folders_hardened(_names_hardened(_TOKEN.findall(regex))))


def _names_hardened(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token != _STAR:
            out.append(_guarded(token))
            index += 1
            continue
        # A run of stars inside a name is one star for git (`a**b` is `a*b`).
        while index + 1 < len(tokens) and tokens[index + 1] == _STAR:
            index += 1
        end = index + 1
        while end < len(tokens) and _fixed(tokens, end):
            end += 1
        if end > index + 1 and end < len(tokens) and tokens[end] == _STAR:
            chunk = "".join(_guarded(t) for t in tokens[index + 1 : end])
            out.append(f"(?>[^/]*?{chunk})")
            index = end
        else:
            out.append(token)
            index += 1
    return out


def _folders_hardened(units: Sequence[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(units):
        unit = units[index]
        if unit in (_LEADING, _INNER):
            end = index + 1
            while end < len(units) and units[end] not in (_LEADING, _INNER):
                end += 1
            if index + 1 < end < len(units):
                # `(?=/)`: the folders end where the next `**` begins, not inside a name.
                lazy = "(?:.+?/)??" if unit == _LEADING else "(?:/.+?)??"
                out.append(f"(?>{lazy}{''.join(units[index + 1 : end])}(?=/))")
                index = end
                continue
        out.append(unit)
        index += 1
    return out


def _trim_trailing_spaces(line: str) -> str:
    """Git's rule (`dir.c`, `trim_trailing_spaces`): trailing spaces go unless escaped."""
    last_space: int | None = None
    index = 0
    while index < len(line):
        char = line[index]
        if char == " ":
            if last_space is None:
                last_space = index
        else:
            if char == "\\":
                index += 1
                if index == len(line):
                    return line
            last_space = None
        index += 1
    return line if last_space is None else line[:last_space]


@dataclass(frozen=True, slots=True)
class _Rule:
    """One `.gitignore` line, matched against a path relative to the file's folder."""

    regex: re.Pattern[str]
    ignores: bool  # False for a `!` line
    folders_only: bool  # a line ending in `/`

    def matches(self, relative: str, is_folder: bool) -> bool:
        if self.folders_only and not is_folder:
            return False
        found = self.regex.search(relative)
        if found is None:
            return False
        # pathspec also matches the paths *inside* a matching folder and marks those matches
        # with a named group; git matches the path itself (its folders were judged first), so
        # such a match counts only if the whole path matches as well.
        if all(group is None for group in found.groupdict().values()):
            return True
        return self.regex.fullmatch(relative) is not None


def _rule(raw: str) -> _Rule | None:
    line = _trim_trailing_spaces(raw)
    # Git strips one trailing slash and remembers the line matches folders only. pathspec would
    # keep the slash and fold `foo/**/` into `foo/`, which also ignores the files right in foo.
    folders_only = line.endswith("/")
    if folders_only:
        line = line[:-1]
    line = _STARS_SEGMENT.sub("**", line)
    try:
        regex, include = GitIgnoreSpecPattern.pattern_to_regex(line)
    except ValueError:
        return None  # a dangling escape or an empty path: git never matches these either
    if regex is None or include is None:
        return None  # blank, a comment, or a bad range, which git discards
    return _Rule(re.compile(_harden(regex)), include, folders_only)


def _parse_rules(text: str) -> tuple[_Rule, ...]:
    """The rules of one ignore file, in file order (the last match wins)."""
    text = text.removeprefix("\ufeff")
    rules = (_rule(line.removesuffix("\r")) for line in text.split("\n"))
    return tuple(rule for rule in rules if rule is not None)


def _verdict(rules: Sequence[_Rule], relative: str, is_folder: bool) -> bool | None:
    for rule in reversed(rules):
        if rule.matches(relative, is_folder):
            return rule.ignores
    return None


def _read(path: str | Path, *, follow_symlinks: bool) -> str:
    # Git reads `.gitignore` files in the tree without following symlinks (and warns).
    flags = os.O_RDONLY | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return ""
    try:
        with open(descriptor, "rb") as file:
            data = file.read()
    except OSError:
        return ""
    # Paths decode with surrogateescape too, so an undecodable name still matches its line.
    return data.decode("utf-8", errors="surrogateescape")


def _info_exclude(root: Path) -> Path | None:
    """`$GIT_DIR/info/exclude` for a repository whose top is ``root``."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return dot_git / "info" / "exclude"
    # In a linked worktree or a submodule `.git` is a file naming the git folder; a worktree's
    # `info/` lives in the main repository's folder, named by `commondir`.
    text = _read(dot_git, follow_symlinks=True)
    if not text.startswith("gitdir:"):
        return None
    git_dir = root / text.removeprefix("gitdir:").strip()
    common = _read(git_dir / "commondir", follow_symlinks=True).strip()
    if common:
        git_dir = git_dir / common
    return git_dir / "info" / "exclude"


class Exclusions:
    """Decides, for a real path inside the workspace, whether the agent may touch it.

    The path is judged as a file; a folder is judged through the files in it.
    """

    def __init__(self, roots: Sequence[Path], patterns: Sequence[str] = ()) -> None:
        self.roots = tuple(roots)
        self.patterns = tuple(patterns)
        # Keyed by path strings: hashing `Path`s was most of the time of a cached answer.
        self._rules: dict[str, tuple[_Rule, ...]] = {}
        self._verdicts: OrderedDict[tuple[str, bool], bool] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> bool:
        return self.is_excluded(path)

    def is_excluded(self, path: Path, *, peek: bool = False) -> bool:
        """With ``peek``, raise `NeedsDisk` instead of reading an ignore file not yet read."""
        name = path.name
        if _SECRET.match(name):
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
        return self._ignored_by_git(os.fspath(root), relative.parts, peek)

    def _ignored_by_git(self, root: str, parts: tuple[str, ...], peek: bool) -> bool:
        known = self._known((os.path.join(root, *parts), False)) if parts else None
        if known is not None:
            return known
        # Git judges each folder on the way down before the folders below it: an ignored folder
        # is never entered, so nothing under it (not even its `.gitignore`) can re-include a file.
        chain: list[tuple[int, tuple[_Rule, ...]]] = []
        folder = root
        for depth, part in enumerate(parts):
            rules = self._rules_of(folder, depth == 0, peek)
            if rules:
                chain.append((depth, rules))
            folder = os.path.join(folder, part)
            if self._judge(folder, depth < len(parts) - 1, chain, parts[: depth + 1]):
                return True
        return False

    def _judge(
        self,
        path: str,
        is_folder: bool,
        chain: Sequence[tuple[int, tuple[_Rule, ...]]],
        parts: tuple[str, ...],
    ) -> bool:
        key = (path, is_folder)
        known = self._known(key)
        if known is not None:
            return known
        ignored = False
        # The deepest ignore file with a matching line decides, as in git.
        for depth, rules in reversed(chain):
            verdict = _verdict(rules, "/".join(parts[depth:]), is_folder)
            if verdict is not None:
                ignored = verdict
                break
        with self._lock:
            self._verdicts[key] = ignored
            if len(self._verdicts) > _MAX_VERDICTS:
                self._verdicts.popitem(last=False)
        return ignored

    def _known(self, key: tuple[str, bool]) -> bool | None:
        with self._lock:
            known = self._verdicts.get(key)
            if known is not None:
                self._verdicts.move_to_end(key)
            return known

    def _rules_of(self, folder: str, is_root: bool, peek: bool) -> tuple[_Rule, ...]:
        with self._lock:
            if folder in self._rules:
                return self._rules[folder]
        gitignore = os.path.join(folder, ".gitignore")
        if peek:
            raise NeedsDisk(Path(gitignore))
        rules = _parse_rules(_read(gitignore, follow_symlinks=False))
        if is_root:
            # `info/exclude` ranks below the root's `.gitignore`: its lines come first, so a
            # `.gitignore` line that matches the same path wins.
            exclude = _info_exclude(Path(folder))
            if exclude is not None:
                rules = _parse_rules(_read(exclude, follow_symlinks=True)) + rules
        with self._lock:
            return self._rules.setdefault(folder, rules)

    def _relative(self, path: Path) -> tuple[Path | None, Path | None]:
        for root in self.roots:
            try:
                return root, path.relative_to(root)
            except ValueError:
                continue
        return None, None
