"""Facts about the project a file belongs to: framework versions and where its root is."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# The packages whose versions change what correct backend code looks like.
KEY_PACKAGES = (
    "fastify",
    "drizzle-orm",
    "drizzle-kit",
    "zod",
    "typescript",
    "@fastify/type-provider-zod",
    "fastify-type-provider-zod",
    "@trpc/server",
    "pg",
    "postgres",
    "mysql2",
    "better-sqlite3",
    "@libsql/client",
)


@dataclass(frozen=True)
class ProjectFacts:
    package_json: Path | None
    versions: Mapping[str, str]
    module_type: str | None


def root_relative(path: Path, roots: Sequence[Path]) -> str | None:
    """``path`` relative to the first workspace root that holds it ("." for a root), else None."""
    for root in roots:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            continue
    return None


def home_first(roots: Sequence[Path], path: Path) -> tuple[Path, ...]:
    """The workspace folders with the one holding ``path`` first: relative paths in a request
    about ``path`` mean that folder, whichever others hold a file of the same name."""
    home = [root for root in roots if root == path or root in path.parents]
    nearest = max(home, key=lambda root: len(root.parts)) if home else None
    return tuple([nearest] if nearest else []) + tuple(r for r in roots if r != nearest)


def display_path(path: Path, roots: Sequence[Path]) -> str:
    """How a path is shown to the user and the model: relative to its workspace folder, else whole."""
    return root_relative(path, roots) or path.as_posix()


def nearest_package_json(path: Path, roots: Sequence[Path]) -> Path | None:
    """The closest package.json above ``path`` that is still inside one of the roots."""
    for parent in path.parents:
        candidate = parent / "package.json"
        if candidate.is_file():
            return candidate
        if any(parent == root for root in roots):
            break
    return None


def read_project_facts(path: Path, roots: Sequence[Path]) -> ProjectFacts:
    package = nearest_package_json(path, roots)
    if package is None:
        return ProjectFacts(None, {}, None)
    try:
        # Node and npm accept a byte order mark; so do we.
        data = json.loads(package.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.info("cannot read %s: %s", package, exc)
        return ProjectFacts(package, {}, None)
    if not isinstance(data, dict):
        log.info("%s is not a JSON object", package)
        return ProjectFacts(package, {}, None)
    versions: dict[str, str] = {}
    for section in ("dependencies", "devDependencies", "peerDependencies"):
        deps = data.get(section)
        if isinstance(deps, dict):
            for name in KEY_PACKAGES:
                value = deps.get(name)
                if isinstance(value, str) and name not in versions:
                    versions[name] = value
    module_type = data.get("type")
    return ProjectFacts(package, versions, module_type if isinstance(module_type, str) else None)


def repository_root(path: Path) -> Path | None:
    """The nearest folder at or above ``path`` holding `.git` (a folder, or a file in worktrees and
    submodules), without running git."""
    start = path if path.is_dir() else path.parent
    for parent in (start, *start.parents):
        if (parent / ".git").exists():
            return parent
    return None


def find_root(path: Path) -> Path:
    """The nearest folder that looks like a project root, else the file's folder."""
    start = path if path.is_dir() else path.parent
    for parent in (start, *start.parents):
        if (parent / "package.json").is_file() or (parent / ".claude").is_dir():
            return parent
    for parent in (start, *start.parents):
        if (parent / ".git").exists():
            return parent
    return start
