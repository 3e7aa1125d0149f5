"""Module resolution as TypeScript does it: relative and `.js` specifiers, barrels, tsconfig paths."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..peek import NeedsDisk

log = logging.getLogger(__name__)

_TS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".mts", ".cts")
_JS_TO_TS = {
    ".js": (".ts", ".tsx", ".d.ts"),
    ".jsx": (".tsx",),
    ".mjs": (".mts",),
    ".cjs": (".cts",),
}
_COMMENT_OR_STRING = re.compile(r'"(?:\\.|[^"\\])*"|//[^\n]*|/\*.*?\*/', re.DOTALL)
_MISS_SECONDS = 2.0
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def parse_jsonc(text: str) -> Any:
    """tsconfig files allow comments and trailing commas; plain JSON does not."""
    without_comments = _COMMENT_OR_STRING.sub(lambda m: m[0] if m[0].startswith('"') else "", text)
    return json.loads(_TRAILING_COMMA.sub(r"\1", without_comments))


@dataclass(frozen=True)
class TsConfig:
    path: Path
    base_url: Path | None
    paths: dict[str, list[str]]
    paths_base: Path
    """Where `paths` targets are relative to: baseUrl if set, else the file that declares paths."""
    compiler_options: dict[str, Any] = field(default_factory=dict)


def load_tsconfig(
    path: Path, roots: Sequence[Path], seen: frozenset[Path] = frozenset()
) -> TsConfig:
    """A tsconfig with its `extends` chain merged (relative `extends` inside the roots only)."""
    data = parse_jsonc(path.read_text(encoding="utf-8"))
    options: dict[str, Any] = {}
    base_url: Path | None = None
    paths: dict[str, list[str]] = {}
    paths_base = path.parent
    extends = data.get("extends")
    parents = extends if isinstance(extends, list) else [extends] if extends else []
    for parent in parents:
        if not isinstance(parent, str) or not parent.startswith("."):
            continue
        parent_path = (path.parent / parent).resolve()
        if parent_path.suffix != ".json":
            parent_path = parent_path.with_name(parent_path.name + ".json")
        inside = any(parent_path == r or r in parent_path.parents for r in roots)
        if parent_path in seen or not inside or not parent_path.is_file():
            continue
        inherited = load_tsconfig(parent_path, roots, seen | {path})
        options.update(inherited.compiler_options)
        base_url, paths, paths_base = inherited.base_url, inherited.paths, inherited.paths_base
    own = data.get("compilerOptions") or {}
    options.update(own)
    if isinstance(own.get("baseUrl"), str):
        base_url = (path.parent / own["baseUrl"]).resolve()
    if isinstance(own.get("paths"), dict):
        paths = {k: [t for t in v if isinstance(t, str)] for k, v in own["paths"].items()}
        paths_base = path.parent
    if base_url is not None:
        paths_base = base_url
    return TsConfig(path, base_url, paths, paths_base, options)


class ModuleResolver:
    """Resolves import specifiers to workspace files; caches tsconfig files per folder."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self._roots = list(roots)
        self._configs: dict[Path, TsConfig | None] = {}
        self._resolved: dict[tuple[Path, str], tuple[Path | None, float]] = {}
        self._lock = threading.Lock()

    def tsconfig_for(self, file: Path, *, peek: bool = False) -> TsConfig | None:
        for directory in file.parents:
            with self._lock:
                if directory in self._configs:
                    return self._configs[directory]
            if peek:
                raise NeedsDisk(directory / "tsconfig.json")
            candidate = directory / "tsconfig.json"
            config: TsConfig | None = None
            if candidate.is_file():
                try:
                    config = load_tsconfig(candidate, self._roots)
                except (OSError, ValueError) as exc:
                    log.info("cannot read %s: %s", candidate, exc)
                    config = None
                with self._lock:
                    self._configs[directory] = config
                return config
            if directory in self._roots:
                break
        return None

    def resolve(self, from_file: Path, specifier: str, *, peek: bool = False) -> Path | None:
        """The workspace file a specifier names, or None for packages and unknown modules.

        With ``peek``, the last answer is taken as it is, and `NeedsDisk` raised if there is none.
        """
        key = (from_file.parent, specifier)
        now = time.monotonic()
        with self._lock:
            cached = self._resolved.get(key)
        if peek:
            if cached is None:
                raise NeedsDisk(from_file.parent / specifier)
            return cached[0]
        if cached is not None:
            found, when = cached
            # A hit is trusted while the file exists; a miss only briefly, since the file may
            # be created at any moment (by the agent's own edit, for one).
            if (found is not None and found.is_file()) or (
                found is None and now - when < _MISS_SECONDS
            ):
                return found
        found = self._resolve(from_file, specifier)
        with self._lock:
            self._resolved[key] = (found, now)
        return found

    def _resolve(self, from_file: Path, specifier: str) -> Path | None:
        if specifier.startswith("."):
            return self._file_or_index(from_file.parent / specifier)
        config = self.tsconfig_for(from_file)
        if config is None:
            return None
        for pattern, targets in config.paths.items():
            captured = _match(pattern, specifier)
            if captured is None:
                continue
            for target in targets:
                found = self._file_or_index(config.paths_base / target.replace("*", captured))
                if found is not None:
                    return found
        if config.base_url is not None:
            return self._file_or_index(config.base_url / specifier)
        return None

    def _file_or_index(self, base: Path) -> Path | None:
        candidates: list[Path] = []
        suffix = base.suffix
        if suffix in _JS_TO_TS:
            stem = base.with_suffix("")
            candidates += [stem.with_name(stem.name + ext) for ext in _JS_TO_TS[suffix]]
        if suffix in _TS_EXTENSIONS:
            candidates.append(base)
        candidates += [base.with_name(base.name + ext) for ext in _TS_EXTENSIONS]
        candidates += [base / f"index{ext}" for ext in (".ts", ".tsx", ".d.ts")]
        for candidate in candidates:
            if candidate.is_file():
                resolved = candidate.resolve()
                if any(resolved == r or r in resolved.parents for r in self._roots):
                    return resolved
                return None
        return None


def _match(pattern: str, specifier: str) -> str | None:
    if "*" not in pattern:
        return "" if pattern == specifier else None
    prefix, _, suffix = pattern.partition("*")
    if (
        specifier.startswith(prefix)
        and specifier.endswith(suffix)
        and len(specifier) >= len(prefix) + len(suffix)
    ):
        return specifier[len(prefix) : len(specifier) - len(suffix)]
    return None
