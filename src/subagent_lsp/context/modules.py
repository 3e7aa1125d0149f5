"""Module resolution as TypeScript does it: relative and `.js` specifiers, barrels, tsconfig paths."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..peek import NeedsDisk
from .packages import WorkspacePackages

log = logging.getLogger(__name__)

_TS_EXTENSIONS = (".ts", ".tsx", ".d.ts", ".mts", ".cts")
_JS_TO_TS = {
    ".js": (".ts", ".tsx", ".d.ts"),
    ".jsx": (".tsx",),
    ".mjs": (".mts",),
    ".cjs": (".cts",),
}
_STRING = r'"(?:\\.|[^"\\\n])*"'
_COMMENTS = re.compile(_STRING + r"|//[^\n]*|/\*.*?\*/", re.DOTALL)
_TRAILING_COMMAS = re.compile(_STRING + r"|,(?=\s*[}\]])")
_MISS_SECONDS = 2.0
# TypeScript follows `extends` without a limit; a chain this long is a mistake or an attack.
_MAX_EXTENDS = 32


def parse_jsonc(text: str) -> Any:
    """tsconfig files allow a byte order mark, comments and trailing commas; JSON does not.
    Strings are kept whole, so `"//"` or `",]"` inside a value survive."""
    text = text.removeprefix("\ufeff")
    kept = _COMMENTS.sub(lambda m: m[0] if m[0].startswith('"') else " ", text)
    return json.loads(_TRAILING_COMMAS.sub(lambda m: m[0] if m[0].startswith('"') else "", kept))


class BadTsConfig(ValueError):
    """A tsconfig that cannot be used as it is; ``str()`` says why."""


@dataclass(frozen=True)
class TsConfig:
    path: Path
    base_url: Path | None
    paths: dict[str, list[str]]
    paths_base: Path
    """Where `paths` targets are relative to: baseUrl if set, else the file that declares paths."""
    compiler_options: dict[str, Any] = field(default_factory=dict)


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def _extended(config: Path, name: str, roots: Sequence[Path]) -> Path | None:
    """The file an `extends` entry names: a relative path, or a package's config found in a
    `node_modules` folder between the config and its workspace folder (as Node resolves it)."""
    if name.startswith((".", "/")):
        found = (config.parent / name).resolve()
        if found.suffix != ".json":
            found = found.with_name(found.name + ".json")
        candidates = [found]
    else:
        package, _, inner = name.partition("/")
        if package.startswith("@") and inner:
            scope_name, _, inner = inner.partition("/")
            package = f"{package}/{scope_name}"
        inner = inner or "tsconfig.json"
        if not inner.endswith(".json"):
            inner += ".json"
        candidates = [
            folder / "node_modules" / package / inner
            for folder in config.parents
            if _inside(folder, roots)
        ]
    for candidate in candidates:
        if _inside(candidate.resolve(), roots) and candidate.is_file():
            return candidate.resolve()
    return None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = parse_jsonc(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadTsConfig(f"{path} cannot be read: {exc}") from exc
    if not isinstance(data, dict):
        raise BadTsConfig(f"{path} is not a JSON object")
    return data


def load_tsconfig(path: Path, roots: Sequence[Path]) -> TsConfig:
    """A tsconfig with its `extends` chain merged; every file read lies inside the roots.

    What is malformed in a file that extends or is extended (a `paths` that is not an object, an
    `extends` that is not a string) is left out and logged; the rest still counts.
    """
    chain = _chain(path, roots)
    options: dict[str, Any] = {}
    base_url: Path | None = None
    paths: dict[str, list[str]] = {}
    paths_base = path.parent
    # Merged base first, so each file overrides what it extends.
    for config, data in reversed(chain):
        own = data.get("compilerOptions")
        if own is None:
            continue
        if not isinstance(own, dict):
            log.info("%s: compilerOptions is not an object; ignored", config)
            continue
        options.update(own)
        if isinstance(own.get("baseUrl"), str):
            base_url = (config.parent / own["baseUrl"]).resolve()
        declared = own.get("paths")
        if isinstance(declared, dict):
            paths = {
                key: [t for t in targets if isinstance(t, str)]
                for key, targets in declared.items()
                if isinstance(targets, list)
            }
            paths_base = config.parent
        elif declared is not None:
            log.info("%s: paths is not an object; ignored", config)
    if base_url is not None:
        paths_base = base_url
    return TsConfig(path, base_url, paths, paths_base, options)


def _chain(path: Path, roots: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """The config and everything it extends, depth first, each file once."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: set[Path] = set()

    def visit(config: Path, depth: int) -> None:
        if config in seen:
            return
        if depth > _MAX_EXTENDS:
            log.info(
                "%s: extends more than %d levels deep; the rest is ignored", path, _MAX_EXTENDS
            )
            return
        seen.add(config)
        try:
            data = _read(config)
        except BadTsConfig as exc:
            if depth == 0:
                raise
            log.info("%s", exc)
            return
        extends = data.get("extends")
        names = extends if isinstance(extends, list) else [extends] if extends is not None else []
        # Later entries of an `extends` list override earlier ones, and the file overrides all:
        # each visit puts its file first, so `reversed(chain)` applies them in that order.
        for name in names:
            target = _extended(config, name, roots) if isinstance(name, str) else None
            if target is None:
                log.info("%s: extends %r cannot be followed inside the workspace", config, name)
                continue
            visit(target, depth + 1)
        chain.insert(0, (config, data))

    visit(path, 0)
    return chain


class ModuleResolver:
    """Resolves import specifiers to workspace files; caches tsconfig files per folder."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self._roots = list(roots)
        self.packages = WorkspacePackages(self._roots)
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
                except BadTsConfig as exc:
                    log.info("tsconfig ignored: %s", exc)
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
        found = self._by_tsconfig(config, specifier) if config is not None else None
        # Then as Node finds a workspace package: linked from node_modules to its folder.
        return found or self.packages.resolve(from_file, specifier, self._file_or_index)

    def names_package(self, config: TsConfig | None, top: Path | None, specifier: str) -> bool:
        """Whether a bare specifier can only name a package outside the workspace (`fastify`),
        known without touching the disk: no tsconfig `paths` or `baseUrl` can map it, and no
        package of the monorepo ``top`` has its name."""
        if config is not None and (
            config.base_url is not None
            or any(_match(pattern, specifier) is not None for pattern in config.paths)
        ):
            return False
        parts = specifier.split("/")
        name = "/".join(parts[:2] if specifier.startswith("@") else parts[:1])
        return top is None or name not in self.packages.packages(top)

    def _by_tsconfig(self, config: TsConfig, specifier: str) -> Path | None:
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
        for name in candidates(str(base)):
            candidate = Path(name)
            if candidate.is_file():
                resolved = candidate.resolve()
                if any(resolved == r or r in resolved.parents for r in self._roots):
                    return resolved
                return None
        return None


def candidates(base: str) -> list[str]:
    """The files a specifier without its extension may name, in TypeScript's order. Strings:
    the reference index asks this for every import of the workspace."""
    found: list[str] = []
    stem, suffix = os.path.splitext(base)
    if suffix in _JS_TO_TS:
        found += [stem + ext for ext in _JS_TO_TS[suffix]]
    if suffix in _TS_EXTENSIONS:
        found.append(base)
    found += [base + ext for ext in _TS_EXTENSIONS]
    found += [os.path.join(base, f"index{ext}") for ext in (".ts", ".tsx", ".d.ts")]
    return found


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
