"""Workspace packages of a monorepo: `@acme/db` in `apps/api` is `packages/db/src/...`.

npm, yarn and bun list them under `workspaces` in the root package.json, pnpm in
`pnpm-workspace.yaml`; each package's `exports`, `types` or `main` names its entry, which often
points at build output: that is mapped back to the source the agent should read.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

_BUILD_FOLDERS = ("dist", "build", "lib", "out")
_MAX_MANIFEST = 1_000_000


@dataclass(frozen=True)
class Package:
    name: str
    folder: Path
    manifest: dict[str, Any]


_parsed: dict[Path, tuple[tuple[int, int], dict[str, Any] | None]] = {}
_parsed_lock = threading.Lock()


def _read_object(path: Path, parse: Callable[[str], Any]) -> dict[str, Any] | None:
    """An object from a manifest file, parsed again only when the file changed: a context is
    built for every action and reads the same manifests each time (YAML parses slowly)."""
    try:
        info = path.stat()
    except OSError:
        return None
    stamp = (info.st_mtime_ns, info.st_size)
    with _parsed_lock:
        known = _parsed.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    data: Any = None
    if info.st_size <= _MAX_MANIFEST:
        try:
            data = parse(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
            data = None
    found = data if isinstance(data, dict) else None
    with _parsed_lock:
        _parsed[path] = (stamp, found)
    return found


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from a file (a byte order mark allowed), or None."""
    return _read_object(path, json.loads)


def read_pnpm_workspace(folder: Path) -> dict[str, Any] | None:
    return _read_object(folder / "pnpm-workspace.yaml", yaml.safe_load)


def _patterns(folder: Path) -> list[str] | None:
    """The workspace globs a folder declares, or None when it is no monorepo root."""
    pnpm = read_pnpm_workspace(folder)
    if pnpm is not None and isinstance(pnpm.get("packages"), list):
        return [p for p in pnpm["packages"] if isinstance(p, str)]
    manifest = read_json(folder / "package.json")
    workspaces = manifest.get("workspaces") if manifest else None
    if isinstance(workspaces, dict):
        workspaces = workspaces.get("packages")
    if isinstance(workspaces, list):
        return [p for p in workspaces if isinstance(p, str)]
    return None


class WorkspacePackages:
    """The packages of the monorepos inside the workspace folders, found once per root."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self._roots = tuple(roots)
        self._by_top: dict[Path, dict[str, Package]] = {}
        self._lock = threading.Lock()

    def monorepo_of(self, file: Path) -> Path | None:
        """The nearest folder above ``file``, inside the workspace, that declares workspaces."""
        for folder in file.parents:
            if not any(folder == r or r in folder.parents for r in self._roots):
                return None
            with self._lock:
                if folder in self._by_top:
                    return folder
            if _patterns(folder) is not None:
                return folder
        return None

    def declares_workspaces(self, folder: Path) -> bool:
        return _patterns(folder) is not None

    def packages(self, top: Path) -> dict[str, Package]:
        with self._lock:
            known = self._by_top.get(top)
        if known is not None:
            return known
        found: dict[str, Package] = {}
        for pattern in _patterns(top) or []:
            if pattern.startswith("!"):
                continue
            for manifest_path in sorted(top.glob(pattern.rstrip("/") + "/package.json")):
                if "node_modules" in manifest_path.parts:
                    continue
                manifest = read_json(manifest_path)
                name = manifest.get("name") if manifest else None
                if isinstance(name, str) and manifest is not None:
                    found.setdefault(name, Package(name, manifest_path.parent, manifest))
        with self._lock:
            self._by_top[top] = found
        return found

    def of_file(self, file: Path) -> dict[str, Package]:
        top = self.monorepo_of(file)
        return self.packages(top) if top is not None else {}

    def other_packages(self, file: Path, files: Iterable[Path]) -> tuple[Path, ...]:
        """The folders of the workspace packages, other than ``file``'s own, that ``files`` are
        in: the packages the code of ``file`` calls into."""
        # Compared as text, longest first: `Path.parents` is slow enough to show in a context.
        folders = sorted(
            (package.folder for package in self.of_file(file).values()),
            key=lambda folder: -len(str(folder)),
        )
        prefixes = [(os.path.join(str(f), ""), f) for f in folders]

        def package_of(path: Path) -> Path | None:
            text = str(path)
            return next((f for prefix, f in prefixes if text.startswith(prefix)), None)

        own = package_of(file)
        found = (package_of(path) for path in files)
        return tuple(dict.fromkeys(f for f in found if f is not None and f != own))

    def resolve(
        self, from_file: Path, specifier: str, file_or_index: Callable[[Path], Path | None]
    ) -> Path | None:
        """The source file a bare specifier names in a workspace package, or None."""
        parts = specifier.split("/")
        count = 2 if specifier.startswith("@") else 1
        name, sub = "/".join(parts[:count]), "/".join(parts[count:])
        package = self.of_file(from_file).get(name)
        if package is None:
            return None
        for entry in _entries(package.manifest, sub):
            found = _source_of(package.folder, entry, file_or_index)
            if found is not None:
                return found
        if sub:
            return file_or_index(package.folder / sub) or file_or_index(
                package.folder / "src" / sub
            )
        return file_or_index(package.folder / "src" / "index") or file_or_index(
            package.folder / "index"
        )


def _entries(manifest: dict[str, Any], sub: str) -> list[str]:
    """The files a package's manifest names for `.` or `./sub`, most specific first."""
    found: list[str] = []
    exports = manifest.get("exports")
    key = f"./{sub}" if sub else "."
    target: Any = None
    if isinstance(exports, str) and not sub:
        target = exports
    elif isinstance(exports, dict):
        target = exports.get(key)
        if target is None and not sub and not any(k.startswith(".") for k in exports):
            target = exports  # conditions at the top: {"types": ..., "import": ...}
    found += _conditions(target)
    if not sub:
        for field in ("types", "typings", "module", "main"):
            value = manifest.get(field)
            if isinstance(value, str):
                found.append(value)
    return found


def _conditions(target: Any) -> list[str]:
    if isinstance(target, str):
        return [target]
    if isinstance(target, dict):
        out: list[str] = []
        for condition in ("types", "source", "development", "import", "default", "require", "node"):
            out += _conditions(target.get(condition))
        return out
    return []


def _source_of(
    folder: Path, entry: str, file_or_index: Callable[[Path], Path | None]
) -> Path | None:
    """The TypeScript source behind a manifest entry: the file itself, or, for build output
    (`dist/index.js`, `dist/index.d.ts`), the same path under `src/`."""
    path = (folder / entry).resolve()
    relative = Path(entry.lstrip("./"))
    if relative.parts and relative.parts[0] in _BUILD_FOLDERS:
        stem = relative.with_suffix("")
        if stem.suffix == ".d":
            stem = stem.with_suffix("")
        source = file_or_index(folder / "src" / Path(*stem.parts[1:]))
        if source is not None:
            return source
    return file_or_index(path)


def catalog_version(top: Path, name: str, spec: str) -> str | None:
    """The version a pnpm `catalog:` (or `catalog:NAME`) spec stands for, from the monorepo's
    pnpm-workspace.yaml; None when it is not a catalog spec or names nothing."""
    if not spec.startswith("catalog:"):
        return None
    workspace = read_pnpm_workspace(top) or {}
    catalog_name = spec.removeprefix("catalog:").strip() or "default"
    catalog = workspace.get("catalog") if catalog_name == "default" else None
    if catalog is None:
        named = workspace.get("catalogs")
        catalog = named.get(catalog_name) if isinstance(named, dict) else None
    version = catalog.get(name) if isinstance(catalog, dict) else None
    return str(version) if isinstance(version, str | int | float) else None
