"""Files the agent may never see or write: secrets, dependencies and build output."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SECRET_NAMES = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_*",
    ".npmrc",
    ".netrc",
)
SKIPPED_DIRS = ("node_modules", ".git", "dist", "build", "out", ".next", ".turbo", "coverage")


@dataclass(frozen=True)
class Exclusions:
    roots: tuple[Path, ...]
    patterns: tuple[str, ...] = ()
    """Extra glob patterns from settings, matched against root-relative posix paths and names."""

    def __call__(self, path: Path) -> bool:
        return self.is_excluded(path)

    def is_excluded(self, path: Path) -> bool:
        name = path.name
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_NAMES):
            # `.env.example` style templates are still secrets-adjacent; keep them out too.
            return True
        relative = self._relative(path)
        parts = relative.parts if relative is not None else path.parts
        if any(part in SKIPPED_DIRS for part in parts[:-1]):
            return True
        if relative is not None and self.patterns:
            posix = relative.as_posix()
            return any(
                fnmatch.fnmatchcase(posix, p) or fnmatch.fnmatchcase(name, p) for p in self.patterns
            )
        return False

    def _relative(self, path: Path) -> Path | None:
        for root in self.roots:
            try:
                return path.relative_to(root)
            except ValueError:
                continue
        return None


def exclusions_for(roots: Sequence[Path], patterns: Sequence[str] = ()) -> Exclusions:
    return Exclusions(tuple(roots), tuple(patterns))
