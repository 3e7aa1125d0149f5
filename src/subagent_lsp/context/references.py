"""The workspace reference index: for every TypeScript file, what it imports from where, and
the reverse map from a declaration to the files that use it, through barrels and re-exports.

Every file of the workspace is read, so it is built in a worker thread after start-up, and it
is read with regular expressions rather than parsed: a full parse of a large monorepo takes
seconds, this takes a fraction of one. Its answers are candidates: which files use a name, by
which local name. The precise sites are read from those few files' syntax trees on demand
(`context/backward.py`). A file changed in the editor or on disk is read again on the next
question (`changed`); the reverse map is rebuilt only when a file's exports changed.

Thread-safe: built, updated and read in worker threads, never on the event loop.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..exclusions import SKIPPED_DIRS, Exclusions
from ..overlay import DocumentSnapshot
from ..syntax.source import language_for
from .members import name_keys, normal_name
from .modules import ModuleResolver, TsConfig, candidates
from .scan import FileRefs, members, scan, used_whole

log = logging.getLogger(__name__)

MAX_FILES = 20_000
"""The files read, as for the search tools: past it, the index says it is partial."""
MAX_FILE_BYTES = 1_000_000
"""Larger files are generated: read by no one, and left out, as the search tools do."""
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Use:
    """A file that uses a declaration, under the name it uses there."""

    path: Path
    local: str
    """The local name; for a namespace import, `ns.name`."""
    via: tuple[Path, ...] = ()
    """The barrels the name passed through, outermost first."""


@dataclass(frozen=True)
class _Namespace:
    importer: Path
    namespace: str
    """Its local name in the importing file."""
    module: Path
    via: tuple[Path, ...]
    """The barrels between the import and the module (`export * as ns`)."""
    used: frozenset[str] | None
    """The names used as `ns.name`; None until read (see `ReferenceIndex._namespace_uses`)."""
    whole: bool | None
    """Whether it is also used whole, passed on as it is."""


class ReferenceIndex:
    """Who uses what, across the workspace folders. ``ready`` turns true once the first build
    is done; until then every question answers None, and callers say what they left out."""

    def __init__(
        self, roots: tuple[Path, ...], resolver: ModuleResolver, exclusions: Exclusions
    ) -> None:
        self.roots = roots
        self.resolver = resolver
        self.exclusions = exclusions
        self.partial = False
        """True when the workspace had more TypeScript files than `MAX_FILES`."""
        self._files: dict[Path, FileRefs] = {}
        self._users: dict[tuple[Path, str], list[Use]] = {}
        self._namespaces: list[_Namespace] = []
        """Namespaces imported: `import * as ns`, or a name a barrel binds with `export * as`."""
        self._read_again: dict[tuple[Path, str], tuple[object, frozenset[str], bool]] = {}
        """(file, namespace) -> (its stamp, names used through it, used whole), for namespaces
        that only a barrel's `export * as` makes so: the file is read again when asked about."""
        self._origins: dict[tuple[Path, str], tuple[tuple[Path, str], tuple[Path, ...]] | None]
        self._origins = {}
        self._named: dict[str, list[Path]] = {}  # see `files_named`
        self._importing: dict[str, list[Path]] = {}
        """Package specifier -> the files that import it, until a file reads differently."""
        self._pending: set[Path] = set()
        self._stale = True
        self._ready = threading.Event()
        self._started = False
        self._lock = threading.RLock()
        self._pending_lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    # --- building ----------------------------------------------------------------------------
    def start(self, documents: Mapping[Path, DocumentSnapshot]) -> None:
        """Build in a thread of its own, once; returns at once (the event loop may call it)."""
        with self._pending_lock:
            if self._started:
                return
            self._started = True
        # A daemon thread: a server asked to exit never waits for a half-read workspace.
        thread = threading.Thread(
            target=self._build_logged, args=(dict(documents),), name="reference-index", daemon=True
        )
        thread.start()

    def _build_logged(self, documents: Mapping[Path, DocumentSnapshot]) -> None:
        try:
            self.build(documents)
        except Exception:
            log.exception("the reference index could not be built")
            self._ready.set()  # answer from what there is rather than wait forever

    def build(self, documents: Mapping[Path, DocumentSnapshot] | None = None) -> None:
        """Read every TypeScript file of the workspace (blocking: call it in a worker thread)."""
        documents = documents or {}
        files: dict[Path, FileRefs] = {}
        for count, path in enumerate(self._walk()):
            refs = self._read(path, documents)
            if refs is not None:
                files[path] = refs
            if count % 32 == 31:
                # Hand the interpreter to a request that waits for it now, rather than at the
                # end of the 5 ms switch interval: the build must not slow the editor down.
                time.sleep(0)
        with self._lock:
            self._files = files
            self._resolve_all(files.items())
            self._rebuild()
        self._ready.set()
        log.info("reference index: %d files%s", len(files), " (partial)" if self.partial else "")

    def _walk(self) -> Iterable[Path]:
        seen = 0
        for root in self.roots:
            for folder, dirs, names in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
                for name in sorted(names):
                    if language_for(name) is None:
                        continue
                    path = Path(folder, name)
                    if self.exclusions.is_excluded(path):
                        continue
                    seen += 1
                    if seen > MAX_FILES:
                        self.partial = True
                        return
                    yield path

    def _read(self, path: Path, documents: Mapping[Path, DocumentSnapshot]) -> FileRefs | None:
        snapshot = documents.get(path)
        if snapshot is not None:
            return scan(snapshot.text, ("doc", hash(snapshot.text)))
        try:
            info = path.stat()
            if info.st_size > MAX_FILE_BYTES:
                return None
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return scan(text, ("disk", info.st_mtime_ns, info.st_size))

    def _resolve_all(self, items: Iterable[tuple[Path, FileRefs]]) -> None:
        # Thousands of files import the same packages: a relative specifier is matched against
        # the files just walked (no stat), a bare one asked once per tsconfig and monorepo, and
        # not at all when it can only name a package outside the workspace.
        known = {str(path) for path in self._files}
        bare: dict[tuple[object, object, str], Path | None] = {}
        folders: dict[Path, tuple[TsConfig | None, Path | None]] = {}
        tops: dict[Path, Path | None] = {}
        for path, refs in items:
            specifiers = {b.specifier for b in refs.bindings}
            specifiers |= {spec for spec, _ in refs.exports.reexports}
            specifiers |= {spec for _, spec in refs.exports.namespaces}
            resolved: dict[str, Path | None] = {}
            folder = path.parent
            for specifier in specifiers:
                if specifier.startswith("."):
                    resolved[specifier] = self._relative(path, specifier, known)
                    continue
                if folder not in folders:
                    config = self.resolver.tsconfig_for(path)
                    folders[folder] = (config, self._top(folder, tops))
                config, top = folders[folder]
                key = (config.path if config is not None else None, top, specifier)
                if key not in bare:
                    external = self.resolver.names_package(config, top, specifier)
                    bare[key] = None if external else self.resolver.resolve(path, specifier)
                resolved[specifier] = bare[key]
            refs.resolved = resolved

    def _top(self, folder: Path, tops: dict[Path, Path | None]) -> Path | None:
        """The monorepo a folder belongs to (see `WorkspacePackages.monorepo_of`), each folder
        looked at once."""
        if folder in tops:
            return tops[folder]
        inside = any(folder == root or root in folder.parents for root in self.roots)
        if not inside:
            found = None
        elif self.resolver.packages.declares_workspaces(folder):
            found = folder
        else:
            found = self._top(folder.parent, tops) if folder.parent != folder else None
        tops[folder] = found
        return found

    def _relative(self, path: Path, specifier: str, known: set[str]) -> Path | None:
        base = os.path.normpath(os.path.join(path.parent, specifier))
        for candidate in candidates(base):
            if candidate in known:
                return Path(candidate)
        # Not a TypeScript file the index read (excluded, too large, or a symlink): ask the disk.
        return self.resolver.resolve(path, specifier)

    def _rebuild(self) -> None:
        """The reverse map, from every file's imports (the caller holds the lock)."""
        self._origins = {}
        self._users = defaultdict(list)
        self._namespaces = []
        self._named = defaultdict(list)
        self._importing = {}
        for path, refs in self._files.items():
            self._add_uses(path, refs)
            for key in name_keys(path):
                self._named[key].append(path)
        self._stale = False

    def _add_uses(self, path: Path, refs: FileRefs) -> None:
        for binding in refs.bindings:
            target = refs.resolved.get(binding.specifier)
            if target is None:
                continue
            if binding.imported == "*":
                used = refs.members.get(binding.local, frozenset())
                whole = binding.local in refs.whole
                self._namespaces.append(_Namespace(path, binding.local, target, (), used, whole))
                continue
            found = self._origin(target, binding.imported)
            if found is not None:
                (key, via) = found
                self._users[key].append(Use(path, binding.local, via))
                continue
            module = self._namespace_origin(target, binding.imported)
            if module is not None:
                # What the file uses of it is read when asked: few files import one this way.
                self._namespaces.append(_Namespace(path, binding.local, *module, None, None))

    def _namespace_origin(
        self, path: Path, name: str, depth: int = 0
    ) -> tuple[Path, tuple[Path, ...]] | None:
        """The module a barrel's `export * as name` binds (through `export *` and re-exports),
        and the barrels it passes through."""
        refs = self._files.get(path)
        if refs is None or depth > _MAX_DEPTH:
            return None
        for exported, specifier in refs.exports.namespaces:
            target = refs.resolved.get(specifier)
            if exported == name and target is not None:
                return target, (path,)
        for specifier, names in refs.exports.reexports:
            target = refs.resolved.get(specifier)
            if target is None or (names is not None and name not in names):
                continue
            inner = self._namespace_origin(target, names[name] if names else name, depth + 1)
            if inner is not None:
                return inner[0], (path, *inner[1])
        return None

    def _origin(
        self, path: Path, name: str, depth: int = 0
    ) -> tuple[tuple[Path, str], tuple[Path, ...]] | None:
        """The declaration (file, name) that ``name`` exported by ``path`` is, and the barrels
        it passes through; memoised until the next rebuild."""
        key = (path, name)
        if key in self._origins:
            return self._origins[key]
        self._origins[key] = None  # a cycle of re-exports ends here
        found = self._find_origin(path, name, depth)
        self._origins[key] = found
        return found

    def _find_origin(
        self, path: Path, name: str, depth: int
    ) -> tuple[tuple[Path, str], tuple[Path, ...]] | None:
        refs = self._files.get(path)
        if refs is None or depth > _MAX_DEPTH:
            return None
        exports = refs.exports
        if name == "default" and exports.default is not None:
            return (path, exports.default or "default"), ()
        local = dict(exports.aliases).get(name, name)
        if local in exports.declared:
            return (path, local), ()
        for specifier, names in exports.reexports:
            if names is None and name == "default":
                continue
            if names is not None and name not in names:
                continue
            target = refs.resolved.get(specifier)
            original = names[name] if names is not None else name
            inner = self._origin(target, original, depth + 1) if target is not None else None
            if inner is not None:
                return inner[0], (path, *inner[1])
        return None

    # --- keeping up with changes -------------------------------------------------------------
    def changed(self, paths: Iterable[Path]) -> None:
        """Files that changed, were created or were deleted: read again at the next question.
        Cheap, so the event loop may call it."""
        # A lock of its own: the main one is held while a question is answered in a worker
        # thread, and the event loop must never wait for that.
        with self._pending_lock:
            self._pending.update(p for p in paths if language_for(p.name) is not None)

    def _settle(self, documents: Mapping[Path, DocumentSnapshot]) -> None:
        """Read the files that changed, and rebuild what depends on them (caller holds the lock)."""
        with self._pending_lock:
            pending, self._pending = self._pending, set()
        rebuild = self._stale
        created_or_deleted = False
        for path in pending:
            old = self._files.get(path)
            new = None if self.exclusions.is_excluded(path) else self._read(path, documents)
            if new is not None and old is not None and new.stamp == old.stamp:
                continue
            if new is not None and old is not None and new.reads_as(old):
                old.stamp = new.stamp  # what is read again per version sees the new one
                continue
            if new is None:
                created_or_deleted |= self._files.pop(path, None) is not None
                self._importing.clear()
                rebuild = True
                continue
            created_or_deleted |= old is None
            self._importing.clear()
            self._resolve_all([(path, new)])
            self._files[path] = new
            if old is None or old.exports != new.exports or old.resolved != new.resolved:
                rebuild = True
            elif not rebuild:
                self._replace_uses(path, new)
        if created_or_deleted:
            # A new file can give a relative import that led nowhere a target, a removed one
            # takes its importers' targets away: only those files are resolved again.
            again = [
                (path, refs)
                for path, refs in self._files.items()
                if any(
                    (target is None and spec.startswith(".")) or target in pending
                    for spec, target in refs.resolved.items()
                )
            ]
            self._resolve_all(again)
        if rebuild or created_or_deleted:
            self._rebuild()

    def _replace_uses(self, path: Path, refs: FileRefs) -> None:
        """Only this file's imports changed: its uses are replaced, nothing else is redone."""
        for key, uses in self._users.items():
            if any(use.path == path for use in uses):
                self._users[key] = [use for use in uses if use.path != path]
        self._namespaces = [entry for entry in self._namespaces if entry.importer != path]
        self._add_uses(path, refs)

    # --- questions ---------------------------------------------------------------------------
    def uses(
        self,
        path: Path,
        name: str,
        documents: Mapping[Path, DocumentSnapshot],
        *,
        settle: bool = True,
    ) -> list[Use] | None:
        """The files that use the declaration ``name`` of ``path``; None until the index is
        built. Its own file is not among them: its uses are in the caller's hands already.
        Without ``settle``, files changed since the last question are not read again first:
        for questions asked often that can live with an answer a moment old."""
        if not self.ready:
            return None
        with self._lock:
            if settle:
                self._settle(documents)
            keys = [(path, name)]
            refs = self._files.get(path)
            if refs is not None and refs.exports.default == name and name:
                keys.append((path, "default"))
            found = [use for key in keys for use in self._users.get(key, ())]
            for entry in self._namespaces:
                used, whole = entry.used, entry.whole
                if used is None or whole is None:
                    used, whole = self._namespace_uses(entry, documents)
                if name not in used and not whole:
                    continue
                origin = self._origin(entry.module, name)
                if origin is None or origin[0] != (path, name):
                    continue
                via = (*entry.via, *origin[1])
                local = f"{entry.namespace}.{name}" if name in used else entry.namespace
                found.append(Use(entry.importer, local, via))
        return [use for use in found if use.path != path]

    def _namespace_uses(
        self, entry: _Namespace, documents: Mapping[Path, DocumentSnapshot]
    ) -> tuple[frozenset[str], bool]:
        """The names a file uses through a namespace a barrel made, and whether it uses it whole,
        read from the file once per version of it (the caller holds the lock)."""
        refs = self._files.get(entry.importer)
        key = (entry.importer, entry.namespace)
        known = self._read_again.get(key)
        if refs is not None and known is not None and known[0] == refs.stamp:
            return known[1], known[2]
        snapshot = documents.get(entry.importer)
        try:
            text = (
                snapshot.text
                if snapshot is not None
                else entry.importer.read_text(encoding="utf-8")
            )
        except (OSError, UnicodeDecodeError):
            return frozenset(), False
        text = "\n" + text  # as `scan` reads it: each statement after a newline
        found = (members(text, entry.namespace), used_whole(text, entry.namespace))
        if refs is not None:
            self._read_again[key] = (refs.stamp, *found)
        return found

    def declarations_named(
        self, name: str, documents: Mapping[Path, DocumentSnapshot]
    ) -> list[Path] | None:
        """The files that declare ``name`` at their top level; None until the index is built."""
        return self.files_where(lambda refs: name in refs.exports.declared, documents)

    def files_named(self, name: str) -> list[Path] | None:
        """Files named like ``name`` (see `members.name_keys`); None until built, unsettled."""
        if not self.ready:
            return None
        with self._lock:
            return sorted(self._named.get(normal_name(name), ()))

    def augmenting_files(self, documents: Mapping[Path, DocumentSnapshot]) -> list[Path] | None:
        """Files with `declare module '…'` or `declare global` blocks; None until built."""
        return self.files_where(lambda refs: refs.augments, documents)

    def files_where(
        self, test: Callable[[FileRefs], bool], documents: Mapping[Path, DocumentSnapshot]
    ) -> list[Path] | None:
        """The files whose imports and members pass ``test``; None until the index is built."""
        if not self.ready:
            return None
        with self._lock:
            self._settle(documents)
            return sorted(path for path, refs in self._files.items() if test(refs))

    def files_importing(
        self, specifier: str, documents: Mapping[Path, DocumentSnapshot]
    ) -> list[Path] | None:
        """The files that import ``specifier`` (`@fastify/autoload`); None until built."""
        if not self.ready:
            return None
        with self._lock:
            self._settle(documents)
            if specifier not in self._importing:
                self._importing[specifier] = sorted(
                    path
                    for path, refs in self._files.items()
                    if any(b.specifier == specifier for b in refs.bindings)
                )
            return list(self._importing[specifier])

    def file_count(self) -> int:
        with self._lock:
            return len(self._files)
