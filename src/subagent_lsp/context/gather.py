"""Gather the context for a selection, in priority order, within a token budget.

1. the selection, marked inside its enclosing declaration;
2. the file's imports and the definitions of imported names the enclosing code uses (through
   barrels, `.js` specifiers and tsconfig paths), plus one more level of what those refer to;
3. declarations of the same file that the enclosing code uses;
4. project facts: framework versions, the Drizzle dialect, TypeScript module settings.
When the budget runs short, the lowest priorities are shortened to signatures, then dropped, and
the prompt says what was left out. Everything that is sent passes through secret redaction.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ..exclusions import Exclusions
from ..overlay import DocumentSnapshot
from ..project import read_project_facts, root_relative
from ..syntax import SourceFile, Target, identifiers_in, imports, language_for, resolve_target
from .declarations import Declaration, declarations, reexports
from .modules import ModuleResolver
from .secrets import redact

Form = Literal["full", "short", "omitted"]
_MAX_REEXPORT_DEPTH = 6
_SELECTION_CONTEXT_LINES = 25
_DIALECT = re.compile(r"""dialect\s*:\s*["'`](\w+)["'`]""")


def estimate_tokens(text: str) -> int:
    # About four characters a token for code; the budget is a guide, not an exact count.
    return (len(text) + 3) // 4


class ProjectIndex:
    """Parsed files reused across requests: open documents by their text, files on disk by stat."""

    def __init__(self, roots: Sequence[Path], max_files: int = 512) -> None:
        self.roots = tuple(root.resolve() for root in roots)
        self.resolver = ModuleResolver(self.roots)
        self._max = max_files
        self._files: OrderedDict[Path, tuple[object, SourceFile]] = OrderedDict()
        self._lock = threading.Lock()

    def source(self, path: Path, documents: Mapping[Path, DocumentSnapshot]) -> SourceFile | None:
        language = language_for(str(path))
        if language is None:
            return None
        snapshot = documents.get(path)
        if snapshot is not None:
            key: object = ("doc", snapshot.text)
            text: str | None = snapshot.text
        else:
            try:
                stat = path.stat()
            except OSError:
                return None
            key, text = ("disk", stat.st_mtime_ns, stat.st_size), None
        with self._lock:
            cached = self._files.get(path)
            if cached is not None and cached[0] == key:
                self._files.move_to_end(path)
                return cached[1]
        if text is None:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        parsed = SourceFile(text, language)
        with self._lock:
            self._files[path] = (key, parsed)
            while len(self._files) > self._max:
                self._files.popitem(last=False)
        return parsed


@dataclass(frozen=True)
class ContextItem:
    priority: int
    kind: Literal["selection", "imports", "definition", "local", "project"]
    path: str
    symbol: str | None
    reason: str
    text: str
    short: str | None
    language: str = "ts"

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)

    @property
    def short_tokens(self) -> int | None:
        return estimate_tokens(self.short) if self.short is not None else None


@dataclass(frozen=True)
class Context:
    items: tuple[tuple[ContextItem, Form], ...]
    budget: int

    @property
    def used_tokens(self) -> int:
        return sum(cost_of(item, form) for item, form in self.items)

    def included(self) -> list[tuple[ContextItem, str]]:
        out: list[tuple[ContextItem, str]] = []
        for item, form in self.items:
            if form == "full":
                out.append((item, item.text))
            elif form == "short" and item.short is not None:
                out.append((item, item.short))
        return out

    def left_out(self) -> list[tuple[ContextItem, Form]]:
        return [(item, form) for item, form in self.items if form != "full"]

    def render(self) -> str:
        """The context as Markdown for the model."""
        sections: list[str] = []
        project = [text for item, text in self.included() if item.kind == "project"]
        if project:
            sections.append("## Project\n" + "\n".join(project))
        for item, text in self.included():
            if item.kind == "project":
                continue
            if item.kind == "selection":
                heading = f"## File `{item.path}`\n{item.reason}:"
            elif item.kind == "imports":
                heading = f"Imports of `{item.path}`:"
            else:
                shortened = " (signature only)" if text is item.short else ""
                heading = f"### `{item.symbol}` from `{item.path}`{shortened}\n{item.reason}."
            fence = _fence(text)
            sections.append(f"{heading}\n{fence}{item.language}\n{text}\n{fence}")
        left_out = self.left_out()
        if left_out:
            lines = [
                f"- `{item.symbol or item.kind}` from `{item.path}`"
                + (" (shortened to its signature)" if form == "short" else "")
                for item, form in left_out
            ]
            sections.append(
                "## Left out to fit the context budget\nYou can `view` these files if you need "
                "them:\n" + "\n".join(lines)
            )
        return "\n\n".join(sections)

    def to_json(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "used_tokens": self.used_tokens,
            "items": [
                {
                    **{k: v for k, v in asdict(item).items() if k not in ("text", "short")},
                    "tokens": item.tokens,
                    "short_tokens": item.short_tokens,
                    "included": form,
                }
                for item, form in self.items
            ],
        }

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2)


def _fence(code: str) -> str:
    fence = "```"
    while fence in code:
        fence += "`"
    return fence


def numbered(text: str, first_line: int, last_line: int, mark: tuple[int, int] | None) -> str:
    """Lines ``first_line..last_line`` (0-based) with 1-based numbers; marked lines get a ``>``."""
    lines = text.splitlines()
    width = len(str(last_line + 1))
    out = []
    for index in range(first_line, min(last_line, len(lines) - 1) + 1):
        flag = ">" if mark is not None and mark[0] <= index <= mark[1] else " "
        out.append(f"{flag}{index + 1:>{width}}| {lines[index]}")
    return "\n".join(out)


@dataclass(frozen=True)
class _Found:
    path: Path
    source: SourceFile
    declaration: Declaration
    via: tuple[str, ...]


class _Gatherer:
    def __init__(
        self,
        index: ProjectIndex,
        documents: Mapping[Path, DocumentSnapshot],
        exclusions: Exclusions,
        display: Any,
    ) -> None:
        self.index = index
        self.documents = documents
        self.exclusions = exclusions
        self.display = display
        self.items: list[ContextItem] = []
        self.seen: set[tuple[Path, int]] = set()

    def source(self, path: Path) -> SourceFile | None:
        if self.exclusions.is_excluded(path):
            return None
        return self.index.source(path, self.documents)

    def find_export(self, path: Path, name: str, depth: int = 0) -> _Found | None:
        """The declaration a module exports under ``name``, following barrels and re-exports."""
        src = self.source(path)
        if src is None or depth > _MAX_REEXPORT_DEPTH:
            return None
        found = declarations(src).get(name)
        if found is not None:
            return _Found(path, src, found, ())
        for item in reexports(src):
            if item.names is not None and name not in item.names:
                continue
            original = item.names[name] if item.names is not None else name
            target = self.index.resolver.resolve(path, item.source)
            if target is None:
                continue
            inner = self.find_export(target, original, depth + 1)
            if inner is not None:
                return _Found(
                    inner.path, inner.source, inner.declaration, (self.display(path), *inner.via)
                )
        return None

    def add(
        self, priority: int, kind: Literal["definition", "local"], found: _Found, reason: str
    ) -> bool:
        key = (found.path, found.declaration.start)
        if key in self.seen:
            return False
        self.seen.add(key)
        decl = found.declaration
        text = redact(decl.text(found.source))
        signature = decl.signature(found.source)
        self.items.append(
            ContextItem(
                priority,
                kind,
                self.display(found.path),
                decl.name,
                reason,
                text,
                redact(signature) if signature is not None else None,
                "tsx" if found.source.language == "tsx" else "ts",
            )
        )
        return True

    def imported(self, path: Path, src: SourceFile, name: str) -> _Found | None:
        """Where a name used in ``src`` comes from, if it is imported from the workspace."""
        for decl in imports(src):
            for local, imported in decl.bindings:
                if local != name or imported == "*":
                    continue
                target = self.index.resolver.resolve(path, decl.source)
                if target is None:
                    return None
                return self.find_export(target, imported)
        return None

    def follow(self, found: _Found, priority: int) -> None:
        """One more level: what a definition refers to, and a table's relations."""
        decl = found.declaration
        local = declarations(found.source)
        for name in sorted(decl.identifiers(found.source) - {decl.name}):
            inner = local.get(name)
            if inner is not None and inner.start != decl.start:
                self.add(
                    priority,
                    "definition",
                    _Found(found.path, found.source, inner, ()),
                    f"`{decl.name}` refers to it",
                )
                continue
            source = self.imported(found.path, found.source, name)
            if source is not None:
                self.add(priority, "definition", source, f"`{decl.name}` refers to it")
        if decl.is_table:
            for other in local.values():
                if other.calls == "relations" and other.first_argument == decl.name:
                    self.add(
                        priority,
                        "definition",
                        _Found(found.path, found.source, other, ()),
                        f"the relations of `{decl.name}`",
                    )


def _selection_item(display: str, src: SourceFile, target: Target, budget: int) -> ContextItem:
    first, _ = src.line_col(target.enclosing_start)
    last, _ = src.line_col(max(target.enclosing_end - 1, target.enclosing_start))
    mark_first, _ = src.line_col(target.start)
    mark_last, _ = src.line_col(max(target.end - 1, target.start))
    # A huge enclosing declaration is cut to the lines around the selection.
    if estimate_tokens(src.text[target.enclosing_start : target.enclosing_end]) > budget // 2:
        first = max(first, mark_first - _SELECTION_CONTEXT_LINES)
        last = min(last, mark_last + _SELECTION_CONTEXT_LINES)
    where = target.enclosing_kind + (f" `{target.enclosing_name}`" if target.enclosing_name else "")
    reason = (
        f"The selection (lines {mark_first + 1}-{mark_last + 1}, marked with `>`) inside its "
        f"enclosing {where}"
    )
    body = redact(numbered(src.text, first, last, (mark_first, mark_last)))
    return ContextItem(
        1,
        "selection",
        display,
        target.enclosing_name,
        reason,
        body,
        None,
        "tsx" if src.language == "tsx" else "ts",
    )


def _project_item(
    path: Path, roots: Sequence[Path], resolver: ModuleResolver
) -> ContextItem | None:
    facts = read_project_facts(path, roots)
    lines = [f"- {name} {version}" for name, version in facts.versions.items()]
    if facts.module_type:
        lines.append(f'- package.json "type": "{facts.module_type}"')
    if facts.package_json is not None:
        for config in sorted(facts.package_json.parent.glob("drizzle.config.*")):
            try:
                dialect = _DIALECT.search(config.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
            if dialect:
                lines.append(f"- Drizzle dialect: {dialect[1]} ({config.name})")
                break
    tsconfig = resolver.tsconfig_for(path)
    if tsconfig is not None:
        options = tsconfig.compiler_options
        settings = [
            f"{key}: {options[key]}"
            for key in ("module", "moduleResolution", "target", "strict")
            if key in options
        ]
        if tsconfig.paths:
            settings.append(
                "paths: " + ", ".join(f"{k} -> {v[0]}" for k, v in tsconfig.paths.items() if v)
            )
        if settings:
            lines.append("- tsconfig: " + "; ".join(settings))
    if not lines:
        return None
    text = "\n".join(lines)
    display = facts.package_json.name if facts.package_json else "project"
    return ContextItem(4, "project", display, None, "project facts", text, None)


def cost_of(item: ContextItem, form: Form) -> int:
    if form == "full":
        return item.tokens
    if form == "short":
        return item.short_tokens or 0
    return 0


def _fit(items: list[ContextItem], budget: int) -> tuple[tuple[ContextItem, Form], ...]:
    forms: list[Form] = ["full"] * len(items)

    def used() -> int:
        return sum(cost_of(item, form) for item, form in zip(items, forms, strict=True))

    # Lowest priority first; within a priority, the item gathered last goes first.
    order = sorted(range(len(items)), key=lambda i: (-items[i].priority, -i))
    for index in order:
        if used() <= budget:
            break
        if items[index].kind == "selection":
            continue
        if items[index].short is not None:
            forms[index] = "short"
            if used() <= budget:
                break
        forms[index] = "omitted"
    return tuple(zip(items, forms, strict=True))


def gather_context(
    path: Path,
    src: SourceFile,
    start: int,
    end: int,
    *,
    index: ProjectIndex,
    documents: Mapping[Path, DocumentSnapshot],
    exclusions: Exclusions,
    budget: int,
) -> tuple[Target, Context]:
    roots = index.roots

    def display(p: Path) -> str:
        return root_relative(p, roots) or p.name

    target = resolve_target(src, start, end)
    gatherer = _Gatherer(index, documents, exclusions, display)
    items = gatherer.items
    items.append(_selection_item(display(path), src, target, budget))
    file_imports = imports(src)
    if file_imports:
        text = "\n".join(src.text[i.start : i.end] for i in file_imports)
        items.append(
            ContextItem(2, "imports", display(path), None, "the file's imports", text, None)
        )

    used = identifiers_in(src, target.enclosing_start, target.enclosing_end)
    first_level: list[_Found] = []
    for statement in file_imports:
        for local, imported in statement.bindings:
            if local not in used or imported == "*":
                continue
            resolved = index.resolver.resolve(path, statement.source)
            if resolved is None:
                continue
            found = gatherer.find_export(resolved, imported)
            if found is None:
                continue
            via = f" through {', '.join(f'`{v}`' for v in found.via)}" if found.via else ""
            reason = f"`{local}` is imported from '{statement.source}'{via}"
            if gatherer.add(2, "definition", found, reason):
                first_level.append(found)
    for found in first_level:
        gatherer.follow(found, 2)

    own = declarations(src)
    for name in sorted(used):
        decl = own.get(name)
        if decl is None:
            continue
        inside = decl.start <= target.enclosing_start and target.enclosing_end <= decl.end
        if inside:
            continue
        found = _Found(path, src, decl, ())
        if gatherer.add(3, "local", found, "declared in this file and used by the selection"):
            gatherer.follow(found, 3)

    project = _project_item(path, roots, index.resolver)
    if project is not None:
        items.append(project)
    items.sort(key=lambda item: item.priority)
    return target, Context(_fit(items, budget), budget)


@dataclass(frozen=True)
class Symbol:
    path: Path
    source: SourceFile
    declaration: Declaration


def find_symbol(
    path: Path,
    src: SourceFile,
    name: str,
    *,
    index: ProjectIndex,
    documents: Mapping[Path, DocumentSnapshot],
    exclusions: Exclusions,
) -> Symbol | None:
    """Where a name used in a file is declared: the file itself, or what it imports."""
    local = declarations(src).get(name)
    if local is not None:
        return Symbol(path, src, local)
    gatherer = _Gatherer(index, documents, exclusions, lambda p: p.name)
    found = gatherer.imported(path, src, name)
    return Symbol(found.path, found.source, found.declaration) if found is not None else None
